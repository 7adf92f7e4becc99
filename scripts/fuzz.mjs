// `npm run fuzz`: the fuzzers at full size (issue 10): 100,000 protocol messages against a real
// engine, 20,000 cases of random bytes to the file readers, 20,000 junk LSP messages to the
// language server. The suite runs the same fuzzers at a small size. Prints each report.
//   node scripts/fuzz.mjs [--messages N] [--files N] [--lsp N]
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const arg = (name, d) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : d;
};
const run = (cmd, args, env = {}) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, ['--import', 'tsx', '--test', '--test-timeout=3600000', 'test/integration/fuzz.test.ts'], {
  WINNOW_FUZZ_MESSAGES: arg('--messages', '100000'),
  WINNOW_FUZZ_FILES: arg('--files', '20000'),
  WINNOW_FUZZ_LSP: arg('--lsp', '20000'),
  WINNOW_FUZZ_TIMEOUT_MS: '3600000',
});
