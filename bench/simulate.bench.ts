/**
 * A simulated developer teaching a real engine (engine/src/bench/simulate.ts), the figures and
 * plot behind BENCHMARKS.md's "Learning from a simulated developer" section.
 *
 *   node --import tsx bench/simulate.bench.ts [--seeds 1,2,3] [--limit N] [--window 20] [--out DIR] [--no-gate-off] [--execute]
 *
 * Runs the stream twice per seed: with the training settings the section names (the promotion
 * gate on: minPairs 20, margin 1), and as a diagnostic with the gate off (minPairs 0, margin
 * −100: every trained version is promoted), each beside its training-off baseline. Writes
 * simulate-user.json, simulate-user.svg and (when rsvg-convert is installed: apt-get install
 * librsvg2-bin) simulate-user.png to DIR (default bench-out/), and prints the tables.
 * --execute: the engines run the candidates against the docstring's examples (as with
 * winnow.execution.enabled: on), and the output files are named simulate-user-execute.*.
 *
 * Last, what the features allow at N = 8 without execution (no engine, a few seconds): draws of
 * 8 samples per task from the pool, featurized as the engine does (CodeT cut instead of the
 * engine's post-processing), top-1 of random, of builtin-2 and builtin-3, and of linear and MLP rankers
 * trained on every passing-vs-failing pair of one half of the tasks, scored on both halves.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BUILTIN_SPEC, FEATURE_NAMES, featurize, NUM_FEATURES } from '../engine/src/features';
import { mulberry32 } from '../engine/src/random';
import { cutCodeT } from '../engine/src/testsources/postcut';
import { DEFAULT_HYPER, fromRankerSpec, scoreRows, trainPairs, type PairData, type TrainedModel } from '../engine/src/training/model';
import { DEFAULT_SIM_TRAINING, describeSimulation, runSimulation, simulationSvg, type SimulateOptions } from '../engine/src/bench/simulate';
import { POOL, ROOT } from './shared';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const dir = path.dirname(POOL);
const out = path.resolve(argOf('--out') ?? path.join(ROOT, 'bench-out'));
const limit = argOf('--limit');
const execute = args.includes('--execute');
const stem = execute ? 'simulate-user-execute' : 'simulate-user';

/** Top-1 at N = 8 without execution: random, builtin-2, and rankers trained on half of the tasks. */
function featureCeiling(drawsPerTask = 10): string {
  const labels = new Map(
    fs
      .readFileSync(path.join(dir, 'codegen16b_labels.jsonl'), 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { task_id: string; passed: boolean[] })
      .map((l) => [l.task_id, l.passed]),
  );
  const pool = fs
    .readFileSync(POOL, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { task_id: string; generation_prompt: string; samples: string[] });
  const r = mulberry32(7);
  const shuffled = <T>(xs: T[]) => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [a[i], a[j]] = [a[j] as T, a[i] as T];
    }
    return a;
  };
  const N = 8;
  const draws: { task: number; f: Float32Array; pass: boolean[] }[] = [];
  pool.forEach((t, task) => {
    const passed = labels.get(t.task_id) ?? [];
    for (let d = 0; d < drawsPerTask; d++) {
      const idx = shuffled([...t.samples.keys()]).slice(0, N);
      const texts = idx.map((i) => cutCodeT(t.samples[i] as string));
      const votes = new Map<string, number>();
      for (const x of texts) votes.set(x, (votes.get(x) ?? 0) + 1);
      const f = featurize(texts.map((text) => ({ text, votes: votes.get(text) ?? 1, totalSamples: N, prefix: t.generation_prompt, suffix: '', languageId: 'python' })));
      draws.push({ task, f, pass: idx.map((i) => passed[i] === true) });
    }
  });
  const half = new Set(shuffled([...pool.keys()]).slice(0, Math.floor(pool.length / 2)));
  const A = draws.filter((d) => half.has(d.task));
  const B = draws.filter((d) => !half.has(d.task));
  const top1 = (ds: typeof draws, m: Pick<TrainedModel, 'mean' | 'std' | 'layers'>) => {
    let hits = 0;
    for (const d of ds) {
      const s = scoreRows(m, d.f, N);
      let best = 0;
      for (let i = 1; i < N; i++) if ((s[i] as number) > (s[best] as number)) best = i;
      if (d.pass[best]) hits++;
    }
    return (100 * hits) / ds.length;
  };
  const random = (ds: typeof draws) => (100 * ds.reduce((a, d) => a + d.pass.filter(Boolean).length / N, 0)) / ds.length;
  const pairsOf = (ds: typeof draws): PairData => {
    const chosen: number[] = [];
    const rejected: number[] = [];
    for (const d of ds)
      for (let a = 0; a < N; a++)
        for (let b = 0; b < N; b++)
          if (d.pass[a] && !d.pass[b])
            for (let k = 0; k < NUM_FEATURES; k++) {
              chosen.push(d.f[a * NUM_FEATURES + k] as number);
              rejected.push(d.f[b * NUM_FEATURES + k] as number);
            }
    const n = chosen.length / NUM_FEATURES;
    return { dim: NUM_FEATURES, n, chosen: Float32Array.from(chosen), rejected: Float32Array.from(rejected), weight: new Float32Array(n).fill(1) };
  };
  const f = (x: number) => x.toFixed(1);
  const undefinedCol = FEATURE_NAMES.indexOf('undefined_name');
  const builtin2 = { ...BUILTIN_SPEC, layers: BUILTIN_SPEC.layers.map((l) => ({ ...l, weights: l.weights.map((w, i) => (i === undefinedCol ? [0] : w)) })) };
  const rows = [
    `| random | ${f(random(A))} | ${f(random(B))} |`,
    `| builtin-2 (builtin-3's weights, undefined_name 0) | ${f(top1(A, fromRankerSpec(builtin2)))} | ${f(top1(B, fromRankerSpec(builtin2)))} |`,
    `| ${BUILTIN_SPEC.version} (what "training off" serves) | ${f(top1(A, fromRankerSpec(BUILTIN_SPEC)))} | ${f(top1(B, fromRankerSpec(BUILTIN_SPEC)))} |`,
  ];
  const pa = pairsOf(A);
  for (const family of ['linear', 'mlp'] as const) {
    const m = trainPairs(pa, undefined, { ...DEFAULT_HYPER, family }).model;
    rows.push(`| ${family} trained on half A (${pa.n.toLocaleString('en-US')} pairs) | ${f(top1(A, m))} (in-sample) | **${f(top1(B, m))}** |`);
  }
  return `| ranker | top-1 on A, % | top-1 on B (tasks not trained on), % |\n| --- | ---: | ---: |\n${rows.join('\n')}\n\n${pool.length} tasks, ${drawsPerTask} draws of ${N} samples each, halves of ${half.size} and ${pool.length - half.size} tasks.`;
}

async function main(): Promise<void> {
  fs.mkdirSync(out, { recursive: true });
  const base: SimulateOptions = {
    problems: path.join(dir, 'problems.jsonl'),
    samples: POOL,
    labels: path.join(dir, 'codegen16b_labels.jsonl'),
    engineScript: path.join(ROOT, 'engine/out/cli.js'),
    seeds: (argOf('--seeds') ?? '1,2,3').split(',').map(Number),
    ...(limit ? { limit: Number(limit) } : {}),
    window: Number(argOf('--window') ?? 20),
    n: 8,
    execute,
    maxCycles: 3,
    training: DEFAULT_SIM_TRAINING,
    trainIdleMs: 300,
    trainCheckMs: 200,
    trainWaitMs: 180_000,
    cacheDir: path.join(out, 'simulate-cache'),
    onProgress: (l) => process.stderr.write(`${l}\n`),
  };
  const gated = await runSimulation(base);
  console.log(`### Gate on (minPairs ${DEFAULT_SIM_TRAINING.minPairs}, margin ${DEFAULT_SIM_TRAINING.promotionMargin})\n`);
  console.log(describeSimulation(gated));
  const extra: { label: string; values: number[]; color: string }[] = [];
  let open;
  if (!args.includes('--no-gate-off')) {
    open = await runSimulation({ ...base, training: { ...DEFAULT_SIM_TRAINING, minPairs: 0, promotionMargin: -100 } });
    console.log('\n### Gate off (minPairs 0, margin −100: every trained version is promoted)\n');
    console.log(describeSimulation(open));
    extra.push({ label: 'learning, gate off (every version promoted)', values: open.windows.map((w) => w.learning), color: '#2ca02c' });
  }
  fs.writeFileSync(path.join(out, `${stem}.json`), `${JSON.stringify({ gated, ...(open ? { open } : {}) }, null, 2)}\n`);
  const svg = path.join(out, `${stem}.svg`);
  fs.writeFileSync(svg, simulationSvg(gated, extra));
  const png = path.join(out, `${stem}.png`);
  const r = spawnSync('rsvg-convert', ['-w', '900', svg, '-o', png], { encoding: 'utf8' });
  console.error(r.status === 0 ? `wrote ${png}` : `wrote ${svg} (no PNG: rsvg-convert ${r.error ? 'is not installed' : `failed: ${r.stderr}`})`);
  console.log('\n### What the features allow at N = 8, without execution\n');
  console.log(featureCeiling());
}

main().catch((e: unknown) => {
  console.error((e as Error).stack ?? String(e));
  process.exit(1);
});
