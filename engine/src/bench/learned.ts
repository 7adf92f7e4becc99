/**
 * "Does learning help?": the learned ranker, cross-validated on a labelled candidate pool
 * (`winnow bench` on HumanEval). Pure: no I/O, no clock but the training-time figures; the
 * same tasks, options and seed give the same figures and picks.
 *
 * - Candidates are featurized by the code the engine runs on a completion: the samples of a
 *   task are deduplicated the way postprocess.ts merges them (same `dedupKey` → one candidate
 *   with votes), their execution outcomes go through `executionFeatures()` of execution.ts
 *   (docstring examples as trusted tests, model-written asserts weighted by how often they
 *   were generated as synthesized tests), and `featurize()` of features.ts turns them into
 *   rows with the original prompt as the prefix, no suffix, `python`.
 * - Every sample is scored (it gets its candidate's score), so pass@1 is over the same 100
 *   samples per task as the bench's other methods.
 * - k-fold cross-validation by task: a seeded assignment of the tasks to folds; each fold's
 *   model is trained only on the other folds' tasks, early-stopped on a seeded slice of those
 *   training tasks (never the test fold), and scores only its own fold's candidates.
 * - Pairs (AceCoder, RewardRanker): a passing candidate of a task against failing ones of the
 *   same task, by the hidden tests; per passing candidate every failing one when there are few,
 *   otherwise its Levenshtein-nearest failing ones plus seeded random ones.
 * - Self-training rounds (RewardRanker): round k ≥ 1 rescores the training tasks' candidates
 *   with round k−1's model; failing candidates it scores at or above the task's best-scored
 *   passing candidate (those it would pick instead) become `hard_negative` pairs with it (weight
 *   × DEFAULT_WEIGHTS.hard_negative; `hardMode: 'any'` takes those above any passing candidate,
 *   which lowers pass@1 here), and the model is retrained
 *   from scratch on the base pairs plus those. As in training/job.ts, each round mines afresh
 *   (hard pairs do not accumulate over rounds).
 * - Two feature variants: `all` and `noDocstring` (built as if the docstring had no examples:
 *   no trusted tests, agreement from the model-written tests only, errors and time-outs only
 *   from the tests that still run).
 */
import { executionFeatures, type CandidateOutcome } from '../execution';
import { BUILTIN_SPEC, featurize, NUM_FEATURES, type ExecFeatures, type FeatureInput } from '../features';
import { dedupKey } from '../postprocess';
import { mulberry32 } from '../random';
import { passAt1OfRanking } from '../testsources/codet';
import { DEFAULT_HYPER, fromRankerSpec, pairwiseAccuracy, scoreRows, trainPairs, type ModelFamily, type PairData, type TrainedModel, type TrainHyper } from '../training/model';
import { DEFAULT_PAIRING, DEFAULT_WEIGHTS, levenshtein } from '../triplets';

/** One test's outcome, as the bench's runner reported it. */
export interface TestOutcome {
  passed: boolean;
  /** The test ran out of time (not: it was never run). */
  timedOut: boolean;
  /** It raised something other than a failed assertion (not: it was never run). */
  raised: boolean;
}

/** One sample's run: its hidden-test label and what the tests a ranker may see showed. */
export interface SampleRun {
  /** Passed the hidden tests (the label; never a feature). */
  hidden: boolean;
  syntaxError: boolean;
  /** The program's top level raised (or timed out): no test ran. */
  programError: boolean;
  programTimedOut: boolean;
  /** Per docstring example (in `LearnTask.exampleTexts` order). */
  examples: TestOutcome[];
  /** Per model-written test (in `LearnTask.generatedTexts` order). */
  generated: TestOutcome[];
}

export interface LearnTask {
  taskId: string;
  /** What the editor holds above the cursor: the original prompt, docstring examples included. */
  prefix: string;
  /** Per sample: the candidate text, or undefined when post-processing dropped it (empty): never picked. */
  texts: (string | undefined)[];
  runs: SampleRun[];
  exampleTexts: string[];
  generatedTexts: string[];
  /** How often each model-written test was generated (CodeT's test weights). */
  generatedCounts: number[];
}

export type Variant = 'all' | 'noDocstring';
export const VARIANTS: readonly Variant[] = ['all', 'noDocstring'];
export const FAMILIES: readonly ModelFamily[] = ['linear', 'mlp'];

/** The family the picks and the headline rows use (see BENCHMARKS.md, "Does learning help?"). */
export const DEFAULT_FAMILY: ModelFamily = 'linear';

export interface LearnOptions {
  /** One cross-validation per seed; the seed drives the folds, the pairing, the early-stopping split and training. */
  seeds: number[];
  /** Default 5. */
  folds?: number;
  /** Hard-negative rounds after round 0. Default 2. */
  rounds?: number;
  /** Default both. */
  families?: readonly ModelFamily[];
  /** Per family, over DEFAULT_HYPER (and HYPER_BY_FAMILY). */
  hyper?: Partial<Record<ModelFamily, Partial<TrainHyper>>>;
  /** Share of the training tasks kept for early stopping. Default 0.15. */
  earlyStopFraction?: number;
  /** Hard negatives per passing candidate and round: the highest-scored failing ones at or above it. Default 6. */
  hardPerPositive?: number;
  /** Pair weights: 'pairs' (each pair DEFAULT_WEIGHTS.pass_rate), or 'task' (a task's base pairs share one unit of weight, so each task counts alike, as in pass@1). Default 'pairs'. */
  weighting?: 'pairs' | 'task';
  /** Which failing candidates become hard negatives: 'any' (scored at or above some passing one), or 'top' (scored at or above the task's best-scored passing one: those that would be picked instead, paired with it). Default 'top': 'any' lowers pass@1 by 1.7 (all features) and 7 points (no docstring) on HumanEval, see BENCHMARKS.md. */
  hardMode?: 'any' | 'top';
  /** Extra feature columns after the engine's (experiments only: the engine does not compute them). */
  extra?: ExtraFeatures;
  /** Variants to cross-validate. Default both. */
  variants?: readonly Variant[];
  onProgress?: (line: string) => void;
}

/** Hyper-parameters per family over DEFAULT_HYPER (the MLP's defaults: a smaller hidden layer, more L2). */
export const HYPER_BY_FAMILY: Readonly<Record<ModelFamily, Partial<TrainHyper>>> = {
  linear: {},
  mlp: { hidden: 16, l2: 1e-3, learningRate: 0.01 },
};

export interface Spread {
  mean: number;
  min: number;
  max: number;
  /** Per seed, in `seeds` order. */
  values: number[];
}

export interface RoundFigures {
  /** Mean over tasks of pass@1 of the pick (uniform among ties), 0–100. */
  pass1: Spread;
  /** Held-out pairwise accuracy on the test folds' (base) pairs, pooled over folds, 0–100. */
  pairwiseAccuracy: Spread;
  /** Hard-negative pairs added per fold, mean (0 in round 0). */
  hardPairs: Spread;
  /** Training wall time per fold, ms (mean over folds). */
  trainMsPerFold: Spread;
  /** Epochs run per fold (mean), and the epoch kept by early stopping (mean). */
  epochs: Spread;
  bestEpoch: Spread;
}

export interface LearnedFigures {
  seeds: number[];
  folds: number;
  rounds: number;
  tasks: number;
  samples: number;
  candidates: number;
  /** Base pairs over all tasks (first seed). */
  pairs: number;
  defaultFamily: ModelFamily;
  hyper: Record<string, TrainHyper>;
  /** figures[variant][family][round]. */
  figures: Record<string, Record<string, RoundFigures[]>>;
  /** The built-in ranker (BUILTIN_SPEC) on the same rows: no training, the same for every seed. */
  builtin: { pass1: number; pairwiseAccuracy: number };
  builtinNoDocstring: { pass1: number; pairwiseAccuracy: number };
  /** Checks of the machinery, first seed: folds are disjoint by task and no test-fold task is trained or early-stopped on. */
  checks: { foldSizes: number[]; foldsDisjoint: boolean; testTaskInTraining: number; earlyStopTasksPerFold: number[] };
  /** Candidates whose samples carry different labels (dedupKey merges programs that differ in trailing blanks only). */
  mixedLabelCandidates: number;
  wallMs: number;
}

export interface LearnedPick {
  taskId: string;
  method: string;
  ranking: number[];
}

// ---------------------------------------------------------------------------------------
// Candidates and their rows.

export interface Cand {
  text: string;
  votes: number;
  /** Sample indices that collapsed into it (ascending). */
  samples: number[];
  label: boolean;
}

export interface TaskCands {
  taskId: string;
  cands: Cand[];
  /** Per sample: its candidate, −1 when dropped. */
  sampleCand: Int32Array;
  /** Per sample: its hidden-test label. */
  labels: boolean[];
  rows: Record<Variant, Float32Array>;
  /** Columns per row. */
  dim: number;
  pos: number[];
  neg: number[];
  /** Per passing candidate (index into pos): the failing ones (indices into cands), nearest first. */
  nearest: number[][];
}

function outcomeFor(id: string, votes: number, run: SampleRun, variant: Variant, keepGenerated: readonly boolean[]): CandidateOutcome | undefined {
  const trusted = variant === 'all' ? run.examples : [];
  const synth = run.generated.filter((_, i) => keepGenerated[i] === true);
  if (trusted.length + synth.length === 0) return undefined; // the engine runs nothing without tests
  const passed = trusted.filter((t) => t.passed).length;
  const included = [...trusted, ...synth];
  // As outcomeOf in execution.ts, over the tests that run here only (never the hidden ones).
  const error = run.syntaxError
    ? 'syntax'
    : (run.programError && run.programTimedOut) || included.some((t) => t.timedOut)
      ? 'timeout'
      : run.programError || included.some((t) => t.raised)
        ? 'exception'
        : undefined;
  const all = passed === trusted.length && synth.every((t) => t.passed);
  return {
    candidateId: id,
    passed,
    total: trusted.length,
    bySource: {},
    synthesizedPassed: synth.map((t) => t.passed),
    votes,
    ...(error && !all ? { error } : {}),
  };
}

/** Extra feature columns (experiments): from a request's feature inputs, a row-major [n, names.length] matrix. */
export interface ExtraFeatures {
  names: readonly string[];
  compute: (inputs: readonly FeatureInput[]) => Float32Array;
}

function withExtra(base: Float32Array, n: number, inputs: readonly FeatureInput[], extra?: ExtraFeatures): Float32Array {
  if (!extra || extra.names.length === 0) return base;
  const e = extra.compute(inputs);
  const k = extra.names.length;
  const d = NUM_FEATURES + k;
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) {
    out.set(base.subarray(i * NUM_FEATURES, (i + 1) * NUM_FEATURES), i * d);
    out.set(e.subarray(i * k, (i + 1) * k), i * d + NUM_FEATURES);
  }
  return out;
}

export function buildTaskCands(task: LearnTask, extra?: ExtraFeatures): TaskCands {
  const byKey = new Map<string, number>();
  const cands: Cand[] = [];
  const sampleCand = new Int32Array(task.texts.length).fill(-1);
  task.texts.forEach((text, i) => {
    if (text === undefined) return;
    const key = dedupKey(text);
    let c = byKey.get(key);
    if (c === undefined) {
      byKey.set(key, (c = cands.length));
      cands.push({ text, votes: 0, samples: [], label: task.runs[i]?.hidden === true });
    }
    const cand = cands[c] as Cand;
    cand.votes++;
    cand.samples.push(i);
    sampleCand[i] = c;
  });
  const labels = task.runs.map((r) => r.hidden);
  const examples = new Set(task.exampleTexts);
  const rows = {} as Record<Variant, Float32Array>;
  for (const variant of VARIANTS) {
    // The engine drops model-written tests that repeat a trusted one (execution.ts).
    const keep = task.generatedTexts.map((g) => variant === 'noDocstring' || !examples.has(g));
    const outcomes: CandidateOutcome[] = [];
    cands.forEach((c, j) => {
      const o = outcomeFor(String(j), c.votes, task.runs[c.samples[0] as number] as SampleRun, variant, keep);
      if (o) outcomes.push(o);
    });
    const weights = task.generatedCounts.filter((_, i) => keep[i] === true);
    const exec: Map<string, ExecFeatures> = executionFeatures(outcomes, weights);
    const inputs: FeatureInput[] = cands.map((c, j) => {
      const x = exec.get(String(j));
      return { text: c.text, votes: c.votes, totalSamples: task.texts.length, prefix: task.prefix, suffix: '', languageId: 'python', ...(x ? { exec: x } : {}) };
    });
    rows[variant] = withExtra(featurize(inputs), inputs.length, inputs, extra);
  }
  const pos = cands.flatMap((c, j) => (c.label ? [j] : []));
  const neg = cands.flatMap((c, j) => (c.label ? [] : [j]));
  const nearest = pos.map((p) => {
    if (neg.length <= DEFAULT_PAIRING.allUpTo) return neg.slice();
    const t = (cands[p] as Cand).text;
    return neg
      .map((n) => ({ n, d: levenshtein(t, (cands[n] as Cand).text) }))
      .sort((a, b) => a.d - b.d || a.n - b.n)
      .map((x) => x.n);
  });
  return { taskId: task.taskId, cands, sampleCand, labels, rows, dim: NUM_FEATURES + (extra?.names.length ?? 0), pos, neg, nearest };
}

// ---------------------------------------------------------------------------------------
// Pairs.

interface Pair {
  task: number;
  chosen: number;
  rejected: number;
  weight: number;
}

/** A well-mixed 32-bit hash of a string and a seed (FNV-1a + murmur3 finalizer). */
function hash32(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Per passing candidate: all failing ones when few, else the nearest ones plus seeded random ones of the rest. */
function basePairs(tc: TaskCands, task: number, seed: number, weighting: 'pairs' | 'task' = 'pairs'): Pair[] {
  const out = basePairsOf(tc, task, seed);
  if (weighting === 'task' && out.length > 0) for (const p of out) p.weight /= out.length;
  return out;
}

function basePairsOf(tc: TaskCands, task: number, seed: number): Pair[] {
  const out: Pair[] = [];
  const rand = mulberry32(hash32(tc.taskId, seed ^ 0x2c1b3c6d));
  const w = DEFAULT_WEIGHTS.pass_rate;
  tc.pos.forEach((p, k) => {
    const order = tc.nearest[k] as number[];
    if (order.length <= DEFAULT_PAIRING.allUpTo) {
      for (const n of order) out.push({ task, chosen: p, rejected: n, weight: w });
      return;
    }
    const near = order.slice(0, DEFAULT_PAIRING.nearest);
    const rest = order.slice(DEFAULT_PAIRING.nearest);
    for (let i = 0; i < DEFAULT_PAIRING.random && i < rest.length; i++) {
      const j = i + Math.floor(rand() * (rest.length - i));
      const t = rest[i] as number;
      rest[i] = rest[j] as number;
      rest[j] = t;
    }
    for (const n of [...near, ...rest.slice(0, DEFAULT_PAIRING.random)]) out.push({ task, chosen: p, rejected: n, weight: w });
  });
  return out;
}

/**
 * Base pairs plus hard negatives mined with `scores` (per task, per candidate): for each passing
 * candidate, the highest-scored failing candidates scored at or above it (at most `perPositive`)
 * become hard_negative pairs; a base pair that is also hard gets the factor instead of a twin.
 */
function withHardNegatives(
  base: readonly Pair[],
  tasks: readonly number[],
  all: readonly TaskCands[],
  scores: ReadonlyMap<number, Float32Array>,
  perPositive: number,
  mode: 'any' | 'top',
  weighting: 'pairs' | 'task',
): { pairs: Pair[]; hard: number } {
  const key = (p: Pair) => `${p.task}:${p.chosen}:${p.rejected}`;
  const merged = new Map<string, Pair>(base.map((p) => [key(p), { ...p }]));
  const perTask = new Map<number, number>();
  for (const p of base) perTask.set(p.task, (perTask.get(p.task) ?? 0) + 1);
  let hard = 0;
  for (const t of tasks) {
    const tc = all[t] as TaskCands;
    const s = scores.get(t);
    if (!s || tc.pos.length === 0) continue;
    // The weight of one pair of this task (see basePairs), times the hard_negative factor.
    const unit = (weighting === 'task' ? 1 / Math.max(1, perTask.get(t) ?? 1) : 1) * DEFAULT_WEIGHTS.pass_rate;
    const bestPos = Math.max(...tc.pos.map((p) => s[p] as number));
    for (const p of tc.pos) {
      const sp = s[p] as number;
      const bar = mode === 'top' ? bestPos : sp;
      if (mode === 'top' && sp < bestPos) continue; // pairs with the best passing one(s) only
      const above = tc.neg.filter((n) => (s[n] as number) >= bar).sort((a, b) => (s[b] as number) - (s[a] as number) || a - b);
      for (const n of above.slice(0, perPositive)) {
        hard++;
        const k = `${t}:${p}:${n}`;
        const seen = merged.get(k);
        if (seen) seen.weight = unit * DEFAULT_WEIGHTS.hard_negative;
        else merged.set(k, { task: t, chosen: p, rejected: n, weight: unit * DEFAULT_WEIGHTS.hard_negative });
      }
    }
  }
  return { pairs: [...merged.values()], hard };
}

function pairData(pairs: readonly Pair[], all: readonly TaskCands[], variant: Variant): PairData {
  const dim = all[0]?.dim ?? NUM_FEATURES;
  const chosen = new Float32Array(pairs.length * dim);
  const rejected = new Float32Array(pairs.length * dim);
  const weight = new Float32Array(pairs.length);
  pairs.forEach((p, i) => {
    const rows = (all[p.task] as TaskCands).rows[variant];
    chosen.set(rows.subarray(p.chosen * dim, (p.chosen + 1) * dim), i * dim);
    rejected.set(rows.subarray(p.rejected * dim, (p.rejected + 1) * dim), i * dim);
    weight[i] = p.weight;
  });
  return { dim, n: pairs.length, chosen, rejected, weight };
}

function candidateRows(tasks: readonly number[], all: readonly TaskCands[], variant: Variant): { rows: Float32Array; n: number } {
  const n = tasks.reduce((a, t) => a + (all[t] as TaskCands).cands.length, 0);
  const rows = new Float32Array(n * (all[0]?.dim ?? NUM_FEATURES));
  let o = 0;
  for (const t of tasks) {
    const r = (all[t] as TaskCands).rows[variant];
    rows.set(r, o);
    o += r.length;
  }
  return { rows, n };
}

/** Per-sample scores of a task from its candidates' scores; dropped samples never win. */
function sampleScores(tc: TaskCands, candScores: Float32Array): number[] {
  return Array.from(tc.sampleCand, (c) => (c < 0 ? Number.NEGATIVE_INFINITY : (candScores[c] as number)));
}

function scoreTask(model: Pick<TrainedModel, 'mean' | 'std' | 'layers'>, tc: TaskCands, variant: Variant): Float32Array {
  return scoreRows(model, tc.rows[variant], tc.cands.length);
}

function pass1(tc: TaskCands, candScores: Float32Array): number {
  return passAt1OfRanking(sampleScores(tc, candScores), tc.labels);
}

/** Ranking of the samples, best first, ties by sample order. */
export function rankingOf(scores: readonly number[]): number[] {
  return scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (b.s === a.s ? a.i - b.i : b.s > a.s ? 1 : -1))
    .map((x) => x.i);
}

function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
  return a;
}

/** Seeded assignment of tasks to folds: a seeded permutation dealt round-robin (sizes differ by ≤ 1). */
export function assignFolds(taskIds: readonly string[], folds: number, seed: number): number[] {
  // Permute the task ids sorted, so the assignment does not depend on the input order.
  const order = taskIds.map((id, i) => ({ id, i })).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.i - b.i));
  const perm = shuffled(order.length, mulberry32((seed ^ 0x6f1d5a3b) >>> 0));
  const out = new Array<number>(taskIds.length).fill(0);
  perm.forEach((k, pos) => (out[(order[k] as { i: number }).i] = pos % folds));
  return out;
}

function spread(values: number[]): Spread {
  const ok = values.filter((v) => Number.isFinite(v));
  if (ok.length === 0) return { mean: Number.NaN, min: Number.NaN, max: Number.NaN, values };
  return { mean: ok.reduce((a, b) => a + b, 0) / ok.length, min: Math.min(...ok), max: Math.max(...ok), values };
}

// ---------------------------------------------------------------------------------------
// Cross-validation.

interface RunKey {
  variant: Variant;
  family: ModelFamily;
  round: number;
}

interface SeedRun {
  /** `${variant}/${family}/${round}` → per task candidate scores (every task scored once, by its fold's model). */
  scores: Map<string, Map<number, Float32Array>>;
  /** Same key → figures of this seed. */
  pass1: Map<string, number>;
  pairAcc: Map<string, number>;
  hardPairs: Map<string, number>;
  trainMs: Map<string, number>;
  epochs: Map<string, number>;
  bestEpoch: Map<string, number>;
  folds: number[];
  earlyStop: number[][];
  trainTasks: number[][];
}

const keyOf = (k: RunKey) => `${k.variant}/${k.family}/${k.round}`;

function crossValidate(all: readonly TaskCands[], seed: number, o: Required<Omit<LearnOptions, 'seeds' | 'onProgress' | 'hyper' | 'extra'>> & { hyper: Record<ModelFamily, TrainHyper> }, onProgress?: (l: string) => void): SeedRun {
  const folds = assignFolds(all.map((t) => t.taskId), o.folds, seed);
  const base = all.map((tc, t) => basePairs(tc, t, seed, o.weighting));
  const run: SeedRun = { scores: new Map(), pass1: new Map(), pairAcc: new Map(), hardPairs: new Map(), trainMs: new Map(), epochs: new Map(), bestEpoch: new Map(), folds, earlyStop: [], trainTasks: [] };
  const acc = new Map<string, { right: number; n: number }>();
  const sums = new Map<string, { hard: number; ms: number; epochs: number; best: number }>();
  for (let f = 0; f < o.folds; f++) {
    const test = all.flatMap((_, t) => (folds[t] === f ? [t] : []));
    const training = all.flatMap((_, t) => (folds[t] !== f ? [t] : []));
    // Early stopping on a seeded slice of the training tasks, never the test fold.
    const perm = shuffled(training.length, mulberry32(hash32(`fold${f}`, seed ^ 0x1b873593)));
    const nStop = training.length >= 4 ? Math.max(1, Math.round(o.earlyStopFraction * training.length)) : 0;
    const stop = perm.slice(0, nStop).map((i) => training[i] as number).sort((a, b) => a - b);
    const stopSet = new Set(stop);
    const train = training.filter((t) => !stopSet.has(t));
    run.earlyStop.push(stop);
    run.trainTasks.push(train);
    const trainBase = train.flatMap((t) => base[t] as Pair[]);
    const stopPairs = stop.flatMap((t) => base[t] as Pair[]);
    const testPairs = test.flatMap((t) => base[t] as Pair[]);
    for (const variant of o.variants) {
      const norm = candidateRows(train, all, variant);
      const stopData = pairData(stopPairs, all, variant);
      const testData = pairData(testPairs, all, variant);
      for (const family of o.families) {
        let prev: TrainedModel | undefined;
        for (let round = 0; round <= o.rounds; round++) {
          const key = keyOf({ variant, family, round });
          let pairs: Pair[] = trainBase;
          let hard = 0;
          const t0 = performance.now();
          if (prev) {
            const m = prev;
            const scores = new Map(train.map((t) => [t, scoreTask(m, all[t] as TaskCands, variant)] as const));
            ({ pairs, hard } = withHardNegatives(trainBase, train, all, scores, o.hardPerPositive, o.hardMode, o.weighting));
          }
          const hyper = { ...o.hyper[family], seed: (Math.imul(seed, 1000003) + f * 7919 + round) >>> 0 };
          const res = trainPairs(pairData(pairs, all, variant), stopData.n > 0 ? stopData : undefined, hyper, { normRows: norm });
          const ms = performance.now() - t0;
          prev = res.model;
          let scored = run.scores.get(key);
          if (!scored) run.scores.set(key, (scored = new Map()));
          for (const t of test) scored.set(t, scoreTask(res.model, all[t] as TaskCands, variant));
          if (testData.n > 0) {
            const sc = scoreRows(res.model, testData.chosen, testData.n);
            const sr = scoreRows(res.model, testData.rejected, testData.n);
            const a = pairwiseAccuracy(sc, sr);
            const cur = acc.get(key) ?? { right: 0, n: 0 };
            acc.set(key, { right: cur.right + a * testData.n, n: cur.n + testData.n });
          }
          const s = sums.get(key) ?? { hard: 0, ms: 0, epochs: 0, best: 0 };
          sums.set(key, { hard: s.hard + hard, ms: s.ms + ms, epochs: s.epochs + res.epochs, best: s.best + res.bestEpoch });
          onProgress?.(`seed ${seed} fold ${f + 1}/${o.folds} ${variant} ${family} round ${round}: ${pairs.length} pairs (${hard} hard), ${res.epochs} epochs, ${Math.round(ms)} ms`);
        }
      }
    }
  }
  for (const [key, scored] of run.scores) {
    let sum = 0;
    for (const [t, s] of scored) sum += pass1(all[t] as TaskCands, s);
    run.pass1.set(key, (100 * sum) / Math.max(1, all.length));
    const a = acc.get(key);
    run.pairAcc.set(key, a && a.n > 0 ? (100 * a.right) / a.n : Number.NaN);
    const s = sums.get(key) as { hard: number; ms: number; epochs: number; best: number };
    run.hardPairs.set(key, s.hard / o.folds);
    run.trainMs.set(key, s.ms / o.folds);
    run.epochs.set(key, s.epochs / o.folds);
    run.bestEpoch.set(key, s.best / o.folds);
  }
  return run;
}

export function methodName(variant: Variant, round?: number): string {
  const base = variant === 'all' ? 'ranker' : 'ranker_no_docstring';
  return round === undefined ? base : `${base}@round${round}`;
}

/**
 * Cross-validates the learned ranker on labelled tasks. `picks` holds, for the first seed and
 * the default family: `ranker`, `ranker_no_docstring` (the last round), `…@roundK` for every
 * round, `builtin` and `builtin_no_docstring`, each a ranking of the samples, best first.
 */
export function runLearned(tasks: readonly LearnTask[], opts: LearnOptions): { figures: LearnedFigures; picks: LearnedPick[] } {
  const t0 = performance.now();
  if (opts.seeds.length === 0) throw new Error('runLearned: no seeds');
  const families = opts.families ?? FAMILIES;
  const hyper = Object.fromEntries(FAMILIES.map((f) => [f, { ...DEFAULT_HYPER, ...HYPER_BY_FAMILY[f], ...opts.hyper?.[f], family: f }])) as Record<ModelFamily, TrainHyper>;
  const o = {
    folds: opts.folds ?? 5,
    rounds: opts.rounds ?? 2,
    families,
    earlyStopFraction: opts.earlyStopFraction ?? 0.15,
    hardPerPositive: opts.hardPerPositive ?? 6,
    weighting: opts.weighting ?? 'pairs',
    hardMode: opts.hardMode ?? 'top',
    variants: opts.variants ?? VARIANTS,
    hyper,
  };
  if (!(o.folds >= 2) || tasks.length < o.folds) throw new Error(`runLearned: ${o.folds} folds need at least ${o.folds} tasks, got ${tasks.length}`);
  const all = tasks.map((t) => buildTaskCands(t, opts.extra));
  const runs = opts.seeds.map((seed) => crossValidate(all, seed, o, opts.onProgress));

  const figures: LearnedFigures['figures'] = {};
  for (const variant of o.variants) {
    figures[variant] = {};
    for (const family of families) {
      (figures[variant] as Record<string, RoundFigures[]>)[family] = Array.from({ length: o.rounds + 1 }, (_, round) => {
        const key = keyOf({ variant, family, round });
        const get = (m: (r: SeedRun) => Map<string, number>) => spread(runs.map((r) => m(r).get(key) ?? Number.NaN));
        return { pass1: get((r) => r.pass1), pairwiseAccuracy: get((r) => r.pairAcc), hardPairs: get((r) => r.hardPairs), trainMsPerFold: get((r) => r.trainMs), epochs: get((r) => r.epochs), bestEpoch: get((r) => r.bestEpoch) };
      });
    }
  }

  // The built-in ranker on the same rows.
  // The built-in ranker, with weight 0 on any extra column.
  const spec = fromRankerSpec(BUILTIN_SPEC);
  const extraCols = ((all[0]?.dim ?? NUM_FEATURES) - NUM_FEATURES);
  const builtinModel: TrainedModel = {
    ...spec,
    mean: [...spec.mean, ...new Array<number>(extraCols).fill(0)],
    std: [...spec.std, ...new Array<number>(extraCols).fill(1)],
    layers: [{ ...(spec.layers[0] as TrainedModel['layers'][number]), weights: [...(spec.layers[0]?.weights ?? []), ...Array.from({ length: extraCols }, () => [0])] }],
  };
  const builtinOf = (variant: Variant) => {
    let p = 0;
    let right = 0;
    let n = 0;
    const scores = all.map((tc) => scoreTask(builtinModel, tc, variant));
    all.forEach((tc, t) => {
      const s = scores[t] as Float32Array;
      p += pass1(tc, s);
      for (const pr of basePairs(tc, t, opts.seeds[0] as number)) {
        const d = (s[pr.chosen] as number) - (s[pr.rejected] as number);
        right += d > 0 ? 1 : d === 0 ? 0.5 : 0;
        n++;
      }
    });
    return { figure: { pass1: (100 * p) / Math.max(1, all.length), pairwiseAccuracy: n > 0 ? (100 * right) / n : Number.NaN }, scores };
  };
  const builtin = builtinOf('all');
  const builtinNoDoc = builtinOf('noDocstring');

  // Checks on the first seed's folds.
  const r0 = runs[0] as SeedRun;
  const foldSizes = Array.from({ length: o.folds }, (_, f) => r0.folds.filter((x) => x === f).length);
  let leaks = 0;
  for (let f = 0; f < o.folds; f++) {
    for (const t of [...(r0.trainTasks[f] as number[]), ...(r0.earlyStop[f] as number[])]) if (r0.folds[t] === f) leaks++;
  }
  const foldsDisjoint = foldSizes.reduce((a, b) => a + b, 0) === all.length && r0.folds.every((f) => f >= 0 && f < o.folds);

  const picks: LearnedPick[] = [];
  const pushPicks = (method: string, scoresOf: (t: number) => Float32Array | undefined) => {
    all.forEach((tc, t) => {
      const s = scoresOf(t);
      if (s) picks.push({ taskId: tc.taskId, method, ranking: rankingOf(sampleScores(tc, s)) });
    });
  };
  const fam = families.includes(DEFAULT_FAMILY) ? DEFAULT_FAMILY : (families[0] as ModelFamily);
  for (const variant of o.variants) {
    for (let round = 0; round <= o.rounds; round++) {
      const scored = r0.scores.get(keyOf({ variant, family: fam, round }));
      if (!scored) continue;
      if (round === o.rounds) pushPicks(methodName(variant), (t) => scored.get(t));
      pushPicks(methodName(variant, round), (t) => scored.get(t));
    }
  }
  pushPicks('builtin', (t) => builtin.scores[t]);
  pushPicks('builtin_no_docstring', (t) => builtinNoDoc.scores[t]);

  const firstBase = all.reduce((a, tc, t) => a + basePairs(tc, t, opts.seeds[0] as number).length, 0);
  const mixed = all.reduce((a, tc) => a + tc.cands.filter((c) => c.samples.some((i) => tc.labels[i] !== c.label)).length, 0);
  return {
    figures: {
      seeds: [...opts.seeds],
      folds: o.folds,
      rounds: o.rounds,
      tasks: all.length,
      samples: all.reduce((a, tc) => a + tc.labels.length, 0),
      candidates: all.reduce((a, tc) => a + tc.cands.length, 0),
      pairs: firstBase,
      defaultFamily: fam,
      hyper: Object.fromEntries(families.map((f) => [f, hyper[f]])),
      figures,
      builtin: builtin.figure,
      builtinNoDocstring: builtinNoDoc.figure,
      checks: { foldSizes, foldsDisjoint, testTaskInTraining: leaks, earlyStopTasksPerFold: r0.earlyStop.map((s) => s.length) },
      mixedLabelCandidates: mixed,
      wallMs: Math.round(performance.now() - t0),
    },
    picks,
  };
}
