// `npm test`: builds (type check + bundles, which the process tests run), then runs the unit
// and integration suites with node's test runner. Extra arguments are test files to run.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};

if (!process.env.WINNOW_SKIP_BUILD) {
  run(process.execPath, [path.join(root, 'node_modules/typescript/bin/tsc'), '-b']);
  run(process.execPath, [path.join(root, 'scripts/build.mjs')]);
}

function find(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? find(p) : e.name.endsWith('.test.ts') ? [p] : [];
  });
}

const files = process.argv.slice(2).length > 0 ? process.argv.slice(2) : [...find(path.join(root, 'test/unit')), ...find(path.join(root, 'test/integration'))].sort();
run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', ...files]);
