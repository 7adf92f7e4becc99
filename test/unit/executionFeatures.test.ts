/** Unit tests of executionFeatures (engine/src/execution.ts): CodeT agreement as ranker features. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { executionFeatures, type CandidateOutcome } from '../../engine/src/execution';

const outcome = (id: string, synthesizedPassed: boolean[], votes = 1, trusted: [number, number] = [0, 0], error?: CandidateOutcome['error']): CandidateOutcome => ({
  candidateId: id,
  passed: trusted[0],
  total: trusted[1],
  bySource: {},
  synthesizedPassed,
  votes,
  ...(error ? { error } : {}),
});

test('agreement: candidates weighed by their samples; the best set is normalized to 1 and flagged', () => {
  // a and b pass the same 2 tests (2 × √2 = 2.83); c, standing for 4 samples, passes 1 (1 × √4 = 2).
  const f = executionFeatures([outcome('a', [true, true, false]), outcome('b', [true, true, false]), outcome('c', [false, false, true], 4)]);
  assert.equal(f.get('a')?.agreement, 1);
  assert.equal(f.get('a')?.agreementBest, true);
  assert.equal(f.get('b')?.agreementBest, true);
  assert.ok(Math.abs((f.get('c')?.agreement ?? 0) - 2 / (2 * Math.SQRT2)) < 1e-9);
  assert.equal(f.get('c')?.agreementBest, false);
  assert.equal(f.get('a')?.clusterFrac, 2 / 6, 'a share of the samples');
  assert.equal(f.get('c')?.clusterFrac, 4 / 6);
});

test('agreement: a test generated more often weighs more (CodeT test weights)', () => {
  const outs = [outcome('a', [true, false]), outcome('b', [false, true])];
  assert.equal(executionFeatures(outs, [1, 3]).get('b')?.agreementBest, true);
  assert.equal(executionFeatures(outs, [3, 1]).get('a')?.agreementBest, true);
});

test('no model-written tests: no agreement, no cluster; trusted counts and errors pass through', () => {
  const f = executionFeatures([outcome('a', [], 1, [2, 2]), outcome('b', [], 1, [0, 2], 'syntax'), outcome('c', [], 1, [1, 2], 'timeout')]);
  assert.deepEqual(f.get('a'), { trustedTotal: 2, trustedPassed: 2, agreement: 0, clusterFrac: 0, agreementBest: false, syntaxError: false, timedOut: false, exception: false });
  assert.equal(f.get('b')?.syntaxError, true);
  assert.equal(f.get('c')?.timedOut, true);
  // Nobody passing any model-written test is no agreement at all.
  const none = executionFeatures([outcome('a', [false, false]), outcome('b', [false, false])]);
  assert.equal(none.get('a')?.agreement, 0);
  assert.equal(none.get('a')?.agreementBest, false);
});
