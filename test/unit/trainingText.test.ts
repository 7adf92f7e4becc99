import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RankersResult, TrainProgress, TrainSummary } from '../../server/src/protocol';
import {
  activatedText,
  ago,
  lastChangeText,
  pct,
  points,
  progressFraction,
  progressText,
  rankerPickItems,
  summaryLog,
  summaryText,
  tripletsText,
} from '../../client/src/trainingText';

const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);

const progress = (over: Partial<TrainProgress> = {}): TrainProgress => ({
  jobId: 'j1',
  trigger: 'manual',
  startedAt: NOW - 5000,
  phase: 'training',
  round: 0,
  rounds: 2,
  epoch: 4,
  maxEpochs: 20,
  trainPairs: 812,
  heldOutPairs: 203,
  ...over,
});

const summary = (over: Partial<TrainSummary> = {}): TrainSummary => ({
  jobId: 'j1',
  trigger: 'manual',
  outcome: 'promoted',
  version: 'v3',
  reason: 'promoted: held-out pairwise accuracy 74.5% vs 68.0% for builtin-2 on the same 212 pairs (+6.5 points, margin 1)',
  triplets: { accepted_vs_shown: { train: 320, validation: 80 }, pass_rate: { train: 200, validation: 40 }, hard_negative: { train: 0, validation: 0 } },
  heldOut: { pairs: 212, accuracy: 0.745, activeVersion: 'builtin-2', activeAccuracy: 0.68 },
  rounds: [
    { round: 0, trainPairs: 520, hardNegatives: 0, epochs: 20, bestEpoch: 14, heldOutAccuracy: 0.73 },
    { round: 1, trainPairs: 600, hardNegatives: 80, epochs: 20, bestEpoch: 9, heldOutAccuracy: 0.745 },
  ],
  startedAt: NOW - 12_000,
  finishedAt: NOW,
  trainMs: 12_000,
  ...over,
});

test('numbers: percent, signed points, how long ago', () => {
  assert.equal(pct(0.745), '74.5%');
  assert.equal(pct(1), '100.0%');
  assert.equal(points(0.065), '+6.5 points');
  assert.equal(points(-0.02), '−2.0 points');
  assert.equal(points(0.01), '+1.0 point');
  assert.equal(points(0), '±0.0 points');
  assert.equal(ago(NOW - 10_000, NOW), 'just now');
  assert.equal(ago(NOW + 10_000, NOW), 'just now', 'a clock a little ahead is not "in the future"');
  assert.equal(ago(NOW - 5 * MIN, NOW), '5 min ago');
  assert.equal(ago(NOW - 3 * HOUR, NOW), '3 h ago');
  assert.equal(ago(NOW - 48 * HOUR, NOW), '2 days ago');
  assert.equal(ago(NOW - 24 * HOUR, NOW), '24 h ago');
});

test('progress: phase, round k of K (rounds + 1), epoch, pairs, accuracy so far and held-out accuracy of the rounds done', () => {
  assert.equal(progressText(progress()), 'training · round 1 of 3 · epoch 4 of 20 · 812 pairs (203 held out)');
  assert.equal(
    progressText(progress({ epoch: 7, heldOutAccuracy: 0.712 })),
    'training · round 1 of 3 · epoch 7 of 20 · 812 pairs (203 held out) · accuracy 71.2% on early-stopping pairs',
  );
  const round0 = { round: 0, trainPairs: 812, hardNegatives: 0, epochs: 20, bestEpoch: 14, heldOutAccuracy: 0.731 };
  assert.equal(
    progressText(progress({ round: 2, epoch: 7, heldOutAccuracy: 0.75, completedRounds: [round0, { ...round0, round: 1, heldOutAccuracy: 0.742 }] })),
    'training · round 3 of 3 · epoch 7 of 20 · 812 pairs (203 held out) · accuracy 75.0% on early-stopping pairs · held-out accuracy 74.2% after round 2',
  );
  assert.equal(progressText(progress({ phase: 'loading', epoch: 0, trainPairs: 0, heldOutPairs: 0 })), 'loading triplets · round 1 of 3');
  assert.equal(
    progressText(progress({ phase: 'mining', round: 1, epoch: 17, heldOutAccuracy: 0.7, completedRounds: [round0] })),
    'mining hard negatives · round 2 of 3 · 812 pairs (203 held out) · held-out accuracy 73.1% after round 1',
  );
  assert.equal(progressText(progress({ rounds: 0 })), 'training · round 1 of 1 · epoch 4 of 20 · 812 pairs (203 held out)');
});

test('progress: the fraction done grows with rounds and epochs and stays within 0..1', () => {
  assert.equal(progressFraction(progress({ epoch: 0 })), 0);
  assert.equal(progressFraction(progress({ epoch: 10 })), 0.5 / 3);
  assert.equal(progressFraction(progress({ round: 1, epoch: 0 })), 1 / 3);
  assert.equal(progressFraction(progress({ round: 2, epoch: 20 })), 1);
  assert.equal(progressFraction(progress({ round: 2, epoch: 50 })), 1);
  assert.equal(progressFraction(progress({ phase: 'saving', round: 2 })), 1);
  assert.equal(progressFraction(progress({ maxEpochs: 0, epoch: 0 })), 0);
});

test('triplets by source: largest first, train and held out summed, empty sources left out', () => {
  assert.equal(tripletsText(summary().triplets), '640 triplets (accepted vs shown 400, pass rate 240)');
  assert.equal(tripletsText({}), 'no triplets');
  assert.equal(tripletsText({ pass_rate: { train: 1, validation: 0 } }), '1 triplet (pass rate 1)');
});

test('summary: promoted says the new version, accuracy before (active) and after (new), the triplets and why', () => {
  const v = summaryText(summary());
  assert.equal(v.severity, 'info');
  assert.equal(
    v.text,
    'Winnow promoted ranker v3; it ranks your completions now. Held-out pairwise accuracy: builtin-2 (active) 68.0% → v3 74.5% (+6.5 points, 212 pairs). ' +
      'Trained on 640 triplets (accepted vs shown 400, pass rate 240). ' +
      'Why: Held-out pairwise accuracy 74.5% vs 68.0% for builtin-2 on the same 212 pairs (+6.5 points, margin 1).',
  );
});

test('summary: kept says which version stays and why the new one did not pass the gate', () => {
  const v = summaryText(
    summary({
      outcome: 'kept',
      version: 'v4',
      reason: 'kept, not activated: held-out pairwise accuracy 68.4% vs 68.0% for builtin-2 on the same 212 pairs, a gain of 0.4 points, less than the 1-point margin (winnow.training.promotionMargin)',
      heldOut: { pairs: 212, accuracy: 0.684, activeVersion: 'builtin-2', activeAccuracy: 0.68 },
    }),
  );
  assert.equal(v.severity, 'info');
  assert.match(v.text, /^Winnow kept ranker builtin-2: the new version v4 was saved but not activated\. /);
  assert.match(v.text, /builtin-2 \(active\) 68\.0% → v4 68\.4% \(\+0\.4 points, 212 pairs\)/);
  assert.match(v.text, /Why: Held-out .* less than the 1-point margin \(winnow\.training\.promotionMargin\)\.$/);
});

test('summary: skipped, failed and cancelled say that nothing changed', () => {
  const skipped = summaryText(summary({ outcome: 'skipped', reason: 'only 12 triplets, at least 50 needed (winnow.training.minPairs)', heldOut: undefined, version: undefined, triplets: {} }));
  assert.deepEqual(skipped, { severity: 'info', text: 'Winnow did not train: Only 12 triplets, at least 50 needed (winnow.training.minPairs). The ranker did not change.' });
  const failed = summaryText(summary({ outcome: 'failed', reason: 'training failed: worker exited with code 1', heldOut: undefined, version: undefined }));
  assert.deepEqual(failed, { severity: 'warning', text: "Winnow's training failed: Worker exited with code 1. The ranker did not change." });
  const cancelled = summaryText(summary({ outcome: 'cancelled', reason: 'cancelled: nothing changed', heldOut: undefined, version: undefined }));
  assert.deepEqual(cancelled, { severity: 'info', text: 'Winnow: the training was cancelled; the ranker did not change.' });
});

test('summary for the log: one line per round', () => {
  const lines = summaryLog(summary()).split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0]!, /^training j1 \(manual\) promoted v3 in 12\.0 s: promoted: /);
  assert.equal(lines[1], '  triplets by source (train/held out): accepted_vs_shown 320/80, pass_rate 200/40, hard_negative 0/0');
  assert.equal(lines[3], '  round 1: 600 pairs (80 hard negatives), best epoch 9 of 20, held-out accuracy 74.5%');
});

test('Roll Back items: label = version, newest first, built-in last, the active one marked, the decision as detail', () => {
  const r: RankersResult = {
    active: 'v3',
    versions: [
      { version: 'builtin-2', active: false, builtin: true, featureSet: 'f1', family: 'linear', createdAt: 0 },
      {
        version: 'v2',
        active: false,
        builtin: false,
        parent: 'builtin-2',
        featureSet: 'f1',
        family: 'mlp',
        createdAt: NOW - 26 * HOUR,
        heldOut: { pairs: 150, accuracy: 0.7, activeVersion: 'builtin-2', activeAccuracy: 0.68 },
        decision: { promoted: true, reason: 'promoted: held-out pairwise accuracy 70.0% vs 68.0% for builtin-2 on the same 150 pairs (+2.0 points, margin 1)' },
      },
      {
        version: 'v3',
        active: true,
        builtin: false,
        parent: 'v2',
        featureSet: 'f1',
        family: 'mlp',
        createdAt: NOW - 2 * HOUR,
        heldOut: { pairs: 212, accuracy: 0.745, activeVersion: 'v2', activeAccuracy: 0.7 },
        decision: { promoted: true, reason: 'promoted: held-out pairwise accuracy 74.5% vs 70.0% for v2 on the same 212 pairs (+4.5 points, margin 1)' },
      },
      { version: 'v4', active: false, builtin: false, parent: 'v3', featureSet: 'f1', family: 'mlp', createdAt: NOW - 10 * MIN },
    ],
  };
  const items = rankerPickItems(r, NOW);
  assert.deepEqual(
    items.map((i) => i.label),
    ['v4', 'v3', 'v2', 'builtin-2'],
  );
  assert.deepEqual(items[0], {
    label: 'v4',
    description: 'held-out accuracy not measured · created 10 min ago',
    detail: 'Trained from v3.',
    version: 'v4',
    active: false,
  });
  assert.equal(items[1]!.description, '$(check) active · held-out accuracy 74.5% · 212 pairs · created 2 h ago');
  assert.equal(items[1]!.active, true);
  assert.match(items[1]!.detail!, /^promoted: held-out pairwise accuracy 74\.5% vs 70\.0% for v2/);
  assert.equal(items[2]!.description, 'held-out accuracy 70.0% · 150 pairs · created 26 h ago');
  assert.deepEqual(items[3], { label: 'builtin-2', description: 'built-in', detail: 'The ranker Winnow ships with (hand-chosen weights).', version: 'builtin-2', active: false });
  assert.equal(items.filter((i) => i.active).length, 1);
});

test('last change and activation messages', () => {
  assert.equal(
    lastChangeText({ time: NOW - 2 * HOUR, version: 'v3', reason: 'promoted: +4.5 points' }, NOW, () => '10:00'),
    'v3 since 10:00 (2 h ago): promoted: +4.5 points',
  );
  assert.equal(activatedText({ active: 'v2', previous: 'v3' }), 'Winnow now ranks with v2 (was v3).');
  assert.equal(activatedText({ active: 'v2', previous: 'v2' }), 'Winnow already ranks with v2.');
});
