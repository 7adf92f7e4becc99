// End-to-end run: set up code-server + Chromium (scripts/e2e-setup.sh, a no-op once
// done), build and package the VSIX (scripts/package.mjs), then run test/e2e/*.e2e.ts
// with Node's test runner. The exit code is the tests'.
//
//   node scripts/e2e.mjs [--no-setup] [--no-package] [test files...]
//
// See test/e2e/inline.e2e.ts for the environment variables the test reads.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const files = args.filter((a) => !a.startsWith('--'));

function step(title, cmd, cmdArgs) {
  console.log(`\n=== ${title}: ${[cmd, ...cmdArgs].join(' ')}`);
  const started = Date.now();
  const r = spawnSync(cmd, cmdArgs, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  console.log(`=== ${title}: ${r.status === 0 ? 'ok' : `failed (${r.status ?? r.signal})`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return r.status ?? 1;
}

if (!args.includes('--no-setup')) {
  const rc = step('setup', 'bash', [path.join('scripts', 'e2e-setup.sh')]);
  if (rc !== 0) process.exit(rc);
}
if (!args.includes('--no-package')) {
  const rc = step('package', process.execPath, [path.join('scripts', 'package.mjs')]);
  if (rc !== 0) process.exit(rc);
}

const tests = files.length
  ? files
  : fs
      .readdirSync(path.join(root, 'test', 'e2e'))
      .filter((f) => f.endsWith('.e2e.ts'))
      .map((f) => path.join('test', 'e2e', f));
const rc = step('test', process.execPath, ['--import', 'tsx', '--test', ...tests]);
process.exit(rc);
