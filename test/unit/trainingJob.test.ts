/** The pure parts of a training: the promotion gate's verdict, and pairs from stored rows of one feature set. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { candidateRows, countBySource, featuresById, pairData, usablePairs } from '../../engine/src/training/data';
import { FEATURE_NAMES, NUM_FEATURES } from '../../engine/src/features';
import { promotionVerdict } from '../../engine/src/training/job';
import type { RequestRow, Triplet } from '../../engine/src/triplets';

test('promotion gate: promoted only with enough held-out pairs and a gain of at least the margin', () => {
  const g = { pairs: 200, accuracy: 0.72, activeAccuracy: 0.7, activeVersion: 'builtin-2', minPairs: 50, margin: 1 };
  const ok = promotionVerdict(g);
  assert.equal(ok.promote, true);
  assert.match(ok.reason, /^promoted: held-out pairwise accuracy 72\.0% vs 70\.0% for builtin-2 on the same 200 pairs \(\+2\.0 points, margin 1\)$/);
  const small = promotionVerdict({ ...g, accuracy: 0.705 });
  assert.equal(small.promote, false);
  assert.match(small.reason, /a gain of 0\.5 points, less than the 1-point margin/);
  const worse = promotionVerdict({ ...g, accuracy: 0.6 });
  assert.equal(worse.promote, false);
  assert.match(worse.reason, /10\.0 points worse/);
  const few = promotionVerdict({ ...g, pairs: 49, accuracy: 0.99 });
  assert.equal(few.promote, false);
  assert.match(few.reason, /49 held-out pairs, the gate needs at least 50 \(winnow\.training\.minPairs\)/);
  assert.equal(promotionVerdict({ ...g, accuracy: 0.71 }).promote, true, 'exactly the margin passes');
  // No held-out pair at all: no accuracy is shown.
  assert.equal(promotionVerdict({ ...g, pairs: 0, accuracy: 0, activeAccuracy: 0.5 }).reason, 'kept, not activated: 0 held-out pairs, the gate needs at least 50 (winnow.training.minPairs)');
});

test('training pairs: only rows of the feature set being trained, split as the triplets say, counted by source', () => {
  const f = (v: number, n = 3) => new Float32Array(n).fill(v);
  const requests: RequestRow[] = [
    {
      id: 'r', time: 0, prefix: '', suffix: '', languageId: 'python', filePath: '', rankerVersion: 'builtin-2',
      candidates: [
        { id: 'a', rank: 0, text: 'a', score: 0, votes: 2, features: f(1), featureSet: 'fs-2' },
        { id: 'b', rank: 1, text: 'b', score: 0, votes: 1, features: f(2), featureSet: 'fs-2' },
        { id: 'c', rank: 2, text: 'c', score: 0, votes: 1, features: f(3, 2), featureSet: 'fs-1' },
        { id: 'd', rank: 3, text: 'd', score: 0 },
      ],
    },
  ];
  const feats = featuresById(requests, 'fs-2', 3);
  assert.deepEqual([...feats.keys()], ['a', 'b']);
  assert.equal(feats.get('a')?.votes, 2);
  const t = (chosenId: string, rejectedId: string, split: 'train' | 'validation', source: Triplet['source'] = 'accepted_vs_shown'): Triplet => ({ requestId: 'r', promptHash: 'h', chosenId, rejectedId, source, pairing: 'all', weight: 0.5, split, editDistance: 1 });
  const u = usablePairs([t('a', 'b', 'train'), t('b', 'a', 'validation', 'pass_rate'), t('a', 'c', 'train'), t('a', 'd', 'train')], feats);
  assert.equal(u.train.length, 1);
  assert.equal(u.validation.length, 1);
  assert.equal(u.otherFeatureSet, 2);
  const d = pairData(u.train, feats, 3);
  assert.deepEqual([...d.chosen], [1, 1, 1]);
  assert.deepEqual([...d.rejected], [2, 2, 2]);
  assert.deepEqual([...d.weight], [0.5]);
  assert.equal(candidateRows(u.train, feats, 3).n, 2);
  assert.deepEqual(countBySource(u.train, u.validation), { accepted_vs_shown: { train: 1, validation: 0 }, pass_rate: { train: 0, validation: 1 } });
});

test('training pairs: stored fs-2 and fs-3 rows are upgraded to fs-4 (undefined_name from the stored text); fs-1 rows are not', () => {
  const requests: RequestRow[] = [
    {
      id: 'r', time: 0, prefix: 'def f(n):\n', suffix: '', languageId: 'python', filePath: '', rankerVersion: 'builtin-2',
      candidates: [
        { id: 'a', rank: 0, text: '    return g(n)\n', score: 0, votes: 1, features: new Float32Array(28).fill(1), featureSet: 'fs-2' },
        { id: 'b', rank: 1, text: '    return n\n', score: 0, votes: 1, features: new Float32Array(28).fill(2), featureSet: 'fs-2' },
        { id: 'c', rank: 2, text: '    return n\n', score: 0, votes: 1, features: new Float32Array(NUM_FEATURES).fill(3), featureSet: 'fs-4' },
        { id: 'd', rank: 3, text: '    return n\n', score: 0, votes: 1, features: new Float32Array(19).fill(4), featureSet: 'fs-1' },
        { id: 'e', rank: 4, text: '    return n\n', score: 0, votes: 1, features: new Float32Array(29).fill(5), featureSet: 'fs-3' },
      ],
    },
  ];
  const feats = featuresById(requests, 'fs-4', NUM_FEATURES);
  assert.deepEqual([...feats.keys()].sort(), ['a', 'b', 'c', 'e']);
  const col = FEATURE_NAMES.indexOf('undefined_name');
  assert.equal(feats.get('a')?.features[col], 1, '`g` is defined nowhere');
  assert.equal(feats.get('b')?.features[col], 0);
  assert.equal(feats.get('a')?.features[0], 1, 'stored columns kept');
  assert.equal(feats.get('e')?.features[col], 5, 'fs-3 rows keep undefined_name as stored');
  assert.equal(feats.get('e')?.features[NUM_FEATURES - 1], 0, 'and have no reward score');
});

test('training pairs: a reward score counts only when it is of the reward model trained with', () => {
  const present = FEATURE_NAMES.indexOf('reward_present');
  const z = FEATURE_NAMES.indexOf('reward_z');
  const row = (v: number) => {
    const f = new Float32Array(NUM_FEATURES).fill(v);
    f[present] = 1;
    f[z] = 1.5;
    return f;
  };
  const requests: RequestRow[] = [
    {
      id: 'r', time: 0, prefix: '', suffix: '', languageId: 'python', filePath: '', rankerVersion: 'builtin-4',
      candidates: [
        { id: 'x', rank: 0, text: 'a', score: 0, votes: 1, features: row(1), featureSet: 'fs-4', rewardModel: 'rm@aaaaaaaaaaaa' },
        { id: 'y', rank: 1, text: 'b', score: 0, votes: 1, features: row(2), featureSet: 'fs-4', rewardModel: 'other@bbbbbbbbbbbb' },
      ],
    },
  ];
  const withRm = featuresById(requests, 'fs-4', NUM_FEATURES, 'rm@aaaaaaaaaaaa');
  assert.deepEqual([withRm.get('x')?.features[present], withRm.get('x')?.features[z]], [1, 1.5]);
  assert.deepEqual([withRm.get('y')?.features[present], withRm.get('y')?.features[z]], [0, 0], "another model's score reads as no score");
  assert.equal(withRm.get('y')?.features[0], 2, 'the other columns as stored');
  const none = featuresById(requests, 'fs-4', NUM_FEATURES);
  assert.deepEqual([none.get('x')?.features[present], none.get('y')?.features[present]], [0, 0], 'trained without a reward model: no score counts');
  assert.equal(requests[0]?.candidates[0]?.features?.[present], 1, 'the stored rows are not changed');
});
