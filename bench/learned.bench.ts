/**
 * Ablations of the cross-validated learned ranker of `winnow bench` (engine/src/bench/learned.ts)
 * on the HumanEval pool: hard-negative mining, pair weighting, candidate features the engine
 * does not compute (engine/src/bench/extraFeatures.ts), and the in-sample ceiling (trained and
 * scored on every task: what the features and the pairwise loss can reach at best).
 *
 *   node --import tsx bench/learned.bench.ts [--cache-dir bench-out/cache] [--seeds 1,2,3] [--json]
 *
 * Labels come from the bench's cache (run `winnow bench ... --cache-dir DIR` first: about 9
 * minutes cold on a 2-core machine); linear family (one MLP row), 5 folds, rounds 0–2.
 */
import * as path from 'node:path';
import { extraFeatures, EXTRA_FEATURE_NAMES, type ExtraFeatureName } from '../engine/src/bench/extraFeatures';
import { runBench } from '../engine/src/bench/humaneval';
import { buildTaskCands, runLearned, type LearnOptions, type LearnTask } from '../engine/src/bench/learned';
import { passAt1OfRanking } from '../engine/src/testsources/codet';
import { DEFAULT_HYPER, scoreRows, trainPairs, type ModelFamily } from '../engine/src/training/model';
import { ROOT } from './shared';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const H = path.resolve(ROOT, '../shared/bench/humaneval');
const cacheDir = path.resolve(argOf('--cache-dir') ?? path.join(ROOT, 'bench-out/cache'));
const seeds = (argOf('--seeds') ?? '1,2,3').split(',').map(Number);

async function main(): Promise<void> {
  let tasks: readonly LearnTask[] = [];
  await runBench({
    problems: path.join(H, 'problems.jsonl'),
    samples: path.join(H, 'codegen16b_samples.jsonl'),
    tests: path.join(H, 'codegen16b_generated_tests.jsonl'),
    cacheDir,
    learned: { seeds: [1], rounds: 0, options: { families: ['linear'], variants: ['all'] }, tap: (t) => (tasks = t) },
  });
  const rows: { config: string; ranker: string[]; noDocstring: string[] }[] = [];
  const fmt = (s: { mean: number; min: number; max: number }) => `${s.mean.toFixed(1)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
  const run = (config: string, o: Partial<LearnOptions>, family: ModelFamily = 'linear') => {
    const t0 = Date.now();
    const { figures } = runLearned(tasks, { seeds, families: [family], ...o });
    const of = (v: string) => (figures.figures[v]?.[family] ?? []).map((r) => fmt(r.pass1));
    rows.push({ config, ranker: of('all'), noDocstring: of('noDocstring') });
    process.stderr.write(`${config}: ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  run('default (hard negatives: above the best passing candidate; pairs weigh 1)', {});
  run("hard negatives above any passing candidate (hardMode 'any')", { hardMode: 'any' });
  run("each task's pairs weigh one in all (weighting 'task')", { weighting: 'task' });
  for (const name of EXTRA_FEATURE_NAMES) run(`+ ${name}`, { extra: extraFeatures([name]) });
  run('+ centroid_sim, exec_survivor_share', { extra: extraFeatures(['centroid_sim', 'exec_survivor_share']) });
  run(`+ all ${EXTRA_FEATURE_NAMES.length}`, { extra: extraFeatures([...EXTRA_FEATURE_NAMES] as ExtraFeatureName[]) });
  // The MLP with DEFAULT_HYPER exactly as the engine's trainer has it (32 hidden, L2 1e-4, lr 0.02), not HYPER_BY_FAMILY.mlp.
  run('MLP, DEFAULT_HYPER as is (32 hidden, L2 1e-4, lr 0.02)', { hyper: { mlp: { hidden: DEFAULT_HYPER.hidden, l2: DEFAULT_HYPER.l2, learningRate: DEFAULT_HYPER.learningRate } } }, 'mlp');

  // In-sample ceiling: every task's pairs (each passing candidate against its 20 nearest failing ones), no held-out data.
  const all = tasks.map((t) => buildTaskCands(t));
  const ceiling: string[] = [];
  for (const variant of ['all', 'noDocstring'] as const) {
    for (const family of ['linear', 'mlp'] as ModelFamily[]) {
      const dim = all[0]?.dim ?? 0;
      const ch: number[] = [];
      const rj: number[] = [];
      for (const tc of all) {
        tc.pos.forEach((p, k) => {
          for (const n of (tc.nearest[k] ?? []).slice(0, 20)) {
            ch.push(...tc.rows[variant].subarray(p * dim, (p + 1) * dim));
            rj.push(...tc.rows[variant].subarray(n * dim, (n + 1) * dim));
          }
        });
      }
      const n = ch.length / dim;
      const r = trainPairs({ dim, n, chosen: Float32Array.from(ch), rejected: Float32Array.from(rj), weight: new Float32Array(n).fill(1) }, undefined, { ...DEFAULT_HYPER, family, hidden: 32, maxEpochs: family === 'mlp' ? 60 : 30 });
      let s = 0;
      for (const tc of all) {
        const sc = scoreRows(r.model, tc.rows[variant], tc.cands.length);
        s += passAt1OfRanking(Array.from(tc.sampleCand, (c) => (c < 0 ? Number.NEGATIVE_INFINITY : (sc[c] as number))), tc.labels);
      }
      ceiling.push(`| ${variant === 'all' ? 'ranker' : 'ranker_no_docstring'} | ${family} | ${((100 * s) / all.length).toFixed(1)} | ${n} |`);
    }
  }
  if (args.includes('--json')) process.stdout.write(`${JSON.stringify({ seeds, rows, ceiling }, null, 2)}\n`);
  process.stdout.write(`Seeds ${seeds.join(',')}: pass@1, mean (min–max); linear unless the row says otherwise, 5 folds\n\n| configuration | ranker r0 | r1 | r2 | ranker_no_docstring r0 | r1 | r2 |\n| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n`);
  for (const r of rows) process.stdout.write(`| ${r.config} | ${r.ranker.join(' | ')} | ${r.noDocstring.join(' | ')} |\n`);
  process.stdout.write(`\nIn-sample ceiling (trained and scored on all 164 tasks)\n\n| method | family | pass@1 | pairs |\n| --- | --- | ---: | ---: |\n${ceiling.join('\n')}\n`);
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack}\n`);
  process.exit(1);
});
