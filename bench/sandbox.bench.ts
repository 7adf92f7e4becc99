/**
 * Per-candidate execution overhead of the sandboxed runner:
 *
 *   node --import tsx bench/sandbox.bench.ts [--json] [--runs 40]
 *
 * Times one run (process start, containment, the harness, one passing assert) of a trivial
 * Python program, one run at a time, with the best containment this machine has and with
 * none (timeouts and output caps only), and a run of the same program against 100 asserts.
 */
import { detectContainment } from '../engine/src/exec/sandbox';
import { runPythonTests } from '../engine/src/exec/languages';

const json = process.argv.includes('--json');
const i = process.argv.indexOf('--runs');
const RUNS = i > 0 ? Number(process.argv[i + 1]) : 40;
const PROGRAM = 'def f(x):\n    return x + 1\n';

async function time(label: string, tests: string[], backend: 'auto' | 'none') {
  await runPythonTests(PROGRAM, tests, { pool: null, backend }); // warm-up
  const ms: number[] = [];
  let containment: string[] = [];
  for (let k = 0; k < RUNS; k++) {
    const t0 = performance.now();
    const r = await runPythonTests(PROGRAM, tests, { pool: null, backend });
    ms.push(performance.now() - t0);
    containment = r.containment;
    if (!r.results.every((x) => x.passed)) throw new Error(`${label}: a test failed: ${JSON.stringify(r.results.find((x) => !x.passed))}`);
  }
  ms.sort((a, b) => a - b);
  return { label, runs: RUNS, p50: ms[Math.floor(ms.length / 2)] ?? NaN, mean: ms.reduce((a, b) => a + b, 0) / ms.length, containment };
}

async function main() {
  const info = await detectContainment();
  const one = ['assert f(1) == 2'];
  const hundred = Array.from({ length: 100 }, (_, k) => `assert f(${k}) == ${k + 1}`);
  const rows = [
    await time('1 assert, best containment', one, 'auto'),
    await time('100 asserts, best containment', hundred, 'auto'),
    await time('1 assert, no containment (timeouts and output caps only)', one, 'none'),
  ];
  if (json) {
    console.log(JSON.stringify({ containment: info, rows }, null, 2));
    return;
  }
  console.log('| run | p50 ms | mean ms | containment |');
  console.log('| --- | ---: | ---: | --- |');
  for (const r of rows) console.log(`| ${r.label} | ${r.p50.toFixed(1)} | ${r.mean.toFixed(1)} | ${r.containment.join(', ')} |`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
