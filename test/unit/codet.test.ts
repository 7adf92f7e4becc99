import assert from 'node:assert/strict';
import { test } from 'node:test';
import { consensusSets, dualAgreement, passAt1OfRanking, passAtK, rankByScore } from '../../engine/src/testsources/codet';

const T = true;
const F = false;
// Three candidates agree on passing tests 0 and 1; one passes everything; one passes nothing.
const matrix = [
  [T, T, F, F],
  [T, T, F, F],
  [T, T, T, T],
  [F, F, F, F],
  [T, T, F, F],
];
const close = (a: number, b: number) => assert.ok(Math.abs(a - b) < 1e-12, `${a} ≈ ${b}`);

test("'sqrt' (default, CodeT's code): tests passed × √(set size); 'product' (the paper): × size", () => {
  const sqrt = dualAgreement(matrix);
  [0, 1, 4].forEach((c) => close(sqrt[c] as number, 2 * Math.sqrt(3)));
  assert.equal(sqrt[2], 4);
  assert.equal(sqrt[3], 0);
  assert.deepEqual(rankByScore(sqrt), [2, 0, 1, 4, 3]);
  const product = dualAgreement(matrix, { variant: 'product' });
  assert.deepEqual(product, [6, 6, 4, 0, 6]);
  assert.deepEqual(rankByScore(product), [0, 1, 4, 2, 3]);
});

test('consensus sets list their candidates and tests, best first', () => {
  assert.deepEqual(
    consensusSets(matrix, { variant: 'product' }).map((s) => [s.candidates, s.tests, s.score]),
    [
      [[0, 1, 4], [0, 1], 6],
      [[2], [0, 1, 2, 3], 4],
      [[3], [], 0],
    ],
  );
});

test('test weights (how often a test was generated) and candidate weights (duplicate samples)', () => {
  const weighted = dualAgreement(matrix, { variant: 'product', testWeights: [1, 1, 3, 1] });
  assert.deepEqual(weighted, [6, 6, 6, 0, 6]);
  // One row standing for three identical samples scores like three rows.
  const rows = dualAgreement([matrix[0] as boolean[], matrix[2] as boolean[]], { candidateWeights: [3, 1] });
  close(rows[0] as number, 2 * Math.sqrt(3));
  assert.equal(rows[1], 4);
  assert.throws(() => dualAgreement(matrix, { testWeights: [1, -1] }), RangeError);
});

test('empty inputs and ragged rows', () => {
  assert.deepEqual(dualAgreement([]), []);
  assert.deepEqual(dualAgreement([[], []]), [0, 0]);
  assert.deepEqual(dualAgreement([[T], [T, F], []], { variant: 'product' }), [2, 2, 0]);
});

test('pass@1 of a ranking: a tie is a uniform pick among the tied', () => {
  assert.equal(passAt1OfRanking([1, 3, 3, 2], [T, F, T, T]), 0.5);
  assert.equal(passAt1OfRanking([1, 3, 3, 2], [T, F, T, T], [1, 3, 1, 1]), 0.25);
  assert.equal(passAt1OfRanking([0, 0, 0, 0], [T, F, F, F]), 0.25);
  assert.equal(passAt1OfRanking([2 * Math.sqrt(2), Math.sqrt(8)], [T, F]), 0.5, 'equal up to rounding is a tie');
  assert.equal(passAt1OfRanking([], []), 0);
  assert.throws(() => passAt1OfRanking([1], [T, F]), RangeError);
  // The README's CodeT figure is computed this way: dual agreement, then pass@1 of its ranking.
  assert.equal(passAt1OfRanking(dualAgreement(matrix), [F, F, T, F, F]), 1);
  assert.equal(passAt1OfRanking(dualAgreement(matrix, { variant: 'product' }), [F, F, T, F, F]), 0);
});

test('pass@k: the unbiased estimator 1 − C(n−c, k)/C(n, k)', () => {
  close(passAtK(100, 22, 1), 0.22);
  close(passAtK(5, 1, 2), 0.4);
  close(passAtK(20, 5, 10), 1 - 3003 / 184756);
  assert.equal(passAtK(10, 0, 3), 0);
  assert.equal(passAtK(10, 10, 3), 1);
  assert.equal(passAtK(5, 3, 3), 1);
  assert.equal(passAtK(100, 100, 100), 1);
  for (const [n, c, k] of [[5, 6, 1], [5, 1, 6], [5, 1, 0], [5, 1.5, 1], [-1, 0, 1]] as const) assert.throws(() => passAtK(n, c, k), RangeError);
});

test('an excluded candidate (score -Infinity) never ties with the best', () => {
  assert.equal(passAt1OfRanking([Number.NEGATIVE_INFINITY, 0, 0], [true, false, false]), 0);
  assert.equal(passAt1OfRanking([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY], [true, false]), 0.5);
});
