// `npm run bench`: the benchmarks behind BENCHMARKS.md. Builds first (the round-trip bench
// runs the engine bundle), then runs each bench and prints its table.
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const run = (args) => {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(['scripts/build.mjs']);
for (const bench of ['bench/roundtrip.bench.ts', 'bench/ranker.bench.ts', 'bench/dataset.bench.ts', 'bench/triplets.bench.ts', 'bench/sandbox.bench.ts', 'bench/insights.bench.ts', 'bench/pacing.bench.ts', 'bench/typeahead.bench.ts']) {
  console.log(`\n## ${bench}\n`);
  run(['--import', 'tsx', bench, ...process.argv.slice(2)]);
}
