/**
 * Per-candidate execution overhead of the sandboxed runner:
 *
 *   node --import tsx bench/sandbox.bench.ts [--json] [--runs 40]
 *
 * Times one run (process start, containment, the harness, one passing assert) of a trivial
 * Python program, one run at a time, with the best containment this machine has and with
 * none (timeouts and output caps only), and a run of the same program against 100 asserts.
 * Then what execution at inference costs a completion: 8 distinct candidates run in parallel
 * (the worker pool sized to the machine) through `executeCandidates`, in Python (2 docstring
 * examples, 4 model-written tests) and in TypeScript (2 JSDoc examples; types stripped in the
 * engine), wall time until every outcome is in.
 */
import { detectContainment } from '../engine/src/exec/sandbox';
import { runPythonTests } from '../engine/src/exec/languages';
import { executeCandidates } from '../engine/src/execution';

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

const PY_PREFIX = 'def add(a, b):\n    """Add.\n\n    >>> add(1, 2)\n    3\n    >>> add(-1, 1)\n    0\n    """\n';
const TS_PREFIX = '/**\n * @example add(1, 2) // => 3\n * @example add(-1, 1) // => 0\n */\nexport function add(a: number, b: number): number {\n';

async function timeInference(label: string, languageId: string, prefix: string, body: (k: number) => string, synthesized: string[]) {
  const candidates = Array.from({ length: 8 }, (_, k) => ({ id: String(k), text: body(k) }));
  const once = async () => {
    const t0 = performance.now();
    const r = await executeCandidates({ prefix, suffix: '', languageId, candidates, budgetMs: 60_000, synthesized: Promise.resolve(synthesized.map((text) => ({ text, count: 1, firstSample: 0 }))) });
    await r.all;
    if (r.summary.skipped || r.summary.passedAll < 1) throw new Error(`${label}: ${JSON.stringify(r.summary)}`);
    return { ms: performance.now() - t0, containment: r.summary.containment ?? [] };
  };
  await once(); // warm-up (and amaro's first load for TypeScript)
  const ms: number[] = [];
  let containment: string[] = [];
  const runs = Math.max(5, Math.round(RUNS / 4));
  for (let k = 0; k < runs; k++) {
    const r = await once();
    ms.push(r.ms);
    containment = r.containment;
  }
  ms.sort((a, b) => a - b);
  return { label, runs, p50: ms[Math.floor(ms.length / 2)] ?? NaN, mean: ms.reduce((a, b) => a + b, 0) / ms.length, containment };
}

async function main() {
  const info = await detectContainment();
  const one = ['assert f(1) == 2'];
  const hundred = Array.from({ length: 100 }, (_, k) => `assert f(${k}) == ${k + 1}`);
  const rows = [
    await time('1 assert, best containment', one, 'auto'),
    await time('100 asserts, best containment', hundred, 'auto'),
    await time('1 assert, no containment (timeouts and output caps only)', one, 'none'),
    await timeInference(
      'a completion: 8 Python candidates × (2 docstring examples + 4 model-written tests)',
      'python',
      PY_PREFIX,
      (k) => `    return a + b${k === 0 ? '' : ` + ${k} - ${k}`}\n`,
      ['assert add(2, 3) == 5', 'assert add(0, 0) == 0', 'assert add(5, 5) == 10', 'assert add(1, 1) == 3'],
    ),
    await timeInference('a completion: 8 TypeScript candidates × 2 JSDoc examples', 'typescript', TS_PREFIX, (k) => `  return (a + b${k === 0 ? '' : ` + ${k} - ${k}`}) as number;\n}\n`, []),
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
