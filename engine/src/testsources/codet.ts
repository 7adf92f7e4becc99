/**
 * CodeT's dual execution agreement (Chen et al., "CodeT: Code Generation with Generated Tests",
 * ICLR 2023) and the pass@k arithmetic used to judge a ranking. Pure functions over pass
 * matrices: running the candidates against the tests is the runner's job.
 *
 * Candidates are grouped by the exact set of tests they pass (a consensus set). A set with
 * candidates S_x passing tests S_y scores
 * - `'sqrt'` (default; the "tests passed × √group size", and what CodeT's released code
 *   computes, microsoft/CodeT `src/agreement.py`): |S_y| × √|S_x|;
 * - `'product'` (the paper's formula): |S_y| × |S_x|.
 * Every candidate gets its set's score; a candidate that passes no test scores 0 (CodeT leaves it
 * unranked, which picks the same way: when nobody passes anything, the pick is uniform).
 *
 * Sizes are weighted sums. CodeT counts a test as many times as it was generated (its frequency
 * among the first 5 asserts of every generated continuation: `GeneratedAssert.count`) and a
 * candidate as many times as it was sampled; pass `testWeights` and `candidateWeights` for that,
 * or give duplicate candidates their own rows. Without weights every row and every test counts 1.
 *
 * Measured on the HumanEval/CodeGen-16B pool of `shared/bench` (candidates cut with `cutCodeT`,
 * all 100 samples as rows, each test run under CodeT's harness with 0.1 s a test, labels from
 * `codegen16b_labels.jsonl`, pass@1 of the top score with uniform tie-breaking):
 * - tests from `collectGeneratedAsserts` (defaults): 'sqrt' with `testWeights` = counts 37.25
 *   (the README's 37.3), 'sqrt' unweighted 36.0, 'product' 36.4;
 * - tests from CodeT's own extraction: 'sqrt' weighted 36.8 (the paper reports 36.7), 'sqrt'
 *   unweighted 37.0, 'product' 36.0.
 * One row per distinct candidate (group sizes counting distinct texts) raises these by up to
 * 1.3 points; capping the tests at the 100 most frequent changes nothing on this pool.
 */

export type AgreementVariant = 'sqrt' | 'product';

export interface DualAgreementOptions {
  variant?: AgreementVariant;
  /** Weight of each test (column), for example how many times it was generated. Default 1. */
  testWeights?: readonly number[];
  /** Weight of each candidate (row), for example how many samples it stands for. Default 1. */
  candidateWeights?: readonly number[];
}

export interface ConsensusSet {
  /** Row indices, ascending. */
  candidates: number[];
  /** Column indices of the tests they all pass (and no other), ascending. */
  tests: number[];
  score: number;
}

function weightAt(weights: readonly number[] | undefined, i: number): number {
  const w = weights?.[i] ?? 1;
  if (!Number.isFinite(w) || w < 0) throw new RangeError(`weight ${i} must be a finite number ≥ 0, got ${w}`);
  return w;
}

/** The consensus sets of a pass matrix (`passMatrix[candidate][test]`), best score first (ties: first candidate first). */
export function consensusSets(passMatrix: readonly (readonly boolean[])[], opts: DualAgreementOptions = {}): ConsensusSet[] {
  const variant = opts.variant ?? 'sqrt';
  const byKey = new Map<string, ConsensusSet & { size: number }>();
  passMatrix.forEach((row, c) => {
    const tests: number[] = [];
    row.forEach((passed, t) => {
      if (passed === true) tests.push(t);
    });
    const key = tests.join(',');
    const set = byKey.get(key);
    if (set) {
      set.candidates.push(c);
      set.size += weightAt(opts.candidateWeights, c);
    } else byKey.set(key, { candidates: [c], tests, score: 0, size: weightAt(opts.candidateWeights, c) });
  });
  const sets = [...byKey.values()].map(({ size, ...s }) => {
    const passed = s.tests.reduce((a, t) => a + weightAt(opts.testWeights, t), 0);
    const score = passed === 0 ? 0 : variant === 'sqrt' ? passed * Math.sqrt(size) : passed * size;
    return { ...s, score };
  });
  return sets.sort((a, b) => b.score - a.score || (a.candidates[0] ?? 0) - (b.candidates[0] ?? 0));
}

/** Each candidate's dual-agreement score: the score of its consensus set. */
export function dualAgreement(passMatrix: readonly (readonly boolean[])[], opts: DualAgreementOptions = {}): number[] {
  const scores = new Array<number>(passMatrix.length).fill(0);
  for (const set of consensusSets(passMatrix, opts)) for (const c of set.candidates) scores[c] = set.score;
  return scores;
}

/** Two scores this close count as a tie (floating-point noise of √ and sums). */
const tied = (a: number, b: number): boolean =>
  Number.isFinite(a) && Number.isFinite(b) ? Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b)) : a === b;

/** Candidate indices, best score first; equal scores keep their original order. */
export function rankByScore(scores: readonly number[]): number[] {
  return scores
    .map((s, i) => ({ s, i }))
    .sort((a, b) => (tied(a.s, b.s) ? a.i - b.i : b.s - a.s))
    .map((x) => x.i);
}

/**
 * Expected accuracy of picking the best-scored candidate, a tie broken uniformly at random
 * (weighted by `weights` when given, for rows that stand for several samples). 0 when empty.
 */
export function passAt1OfRanking(scores: readonly number[], labels: readonly boolean[], weights?: readonly number[]): number {
  if (scores.length !== labels.length) throw new RangeError(`${scores.length} scores but ${labels.length} labels`);
  if (scores.length === 0) return 0;
  let best = -Infinity;
  for (const s of scores) if (s > best) best = s;
  let total = 0;
  let correct = 0;
  scores.forEach((s, i) => {
    if (!tied(s, best)) return;
    const w = weightAt(weights, i);
    total += w;
    if (labels[i]) correct += w;
  });
  return total === 0 ? 0 : correct / total;
}

/**
 * The unbiased pass@k estimator of Chen et al. (2021): 1 − C(n−c, k) / C(n, k), the chance that
 * at least one of k samples drawn without replacement from n, of which c are correct, is correct.
 */
export function passAtK(n: number, c: number, k: number): number {
  if (![n, c, k].every(Number.isInteger) || n < 0 || c < 0 || c > n || k < 1 || k > n) {
    throw new RangeError(`passAtK needs integers 0 ≤ c ≤ n and 1 ≤ k ≤ n, got n=${n} c=${c} k=${k}`);
  }
  if (c === 0) return 0;
  if (n - c < k) return 1;
  let allWrong = 1;
  for (let i = n - c + 1; i <= n; i++) allWrong *= 1 - k / i;
  return 1 - allWrong;
}
