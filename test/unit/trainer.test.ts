import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { DEFAULT_HYPER, fitNormalization, pairwiseAccuracy, scoreRows, trainPairs, type PairData } from '../../engine/src/training/model';
import { mulberry32 } from '../../engine/src/random';

/** Pairs over 5 features where the true score is 2·x0 − x2 (plus noise in the labels' features). */
function synthetic(n: number, seed: number, nonlinear = false): PairData {
  const dim = 5;
  const r = mulberry32(seed);
  const chosen = new Float32Array(n * dim);
  const rejected = new Float32Array(n * dim);
  const truth = (x: number[]) => (nonlinear ? (x[0]! > 0.5 !== x[1]! > 0.5 ? 1 : 0) : 2 * x[0]! - x[2]!);
  for (let i = 0; i < n; i++) {
    const a = Array.from({ length: dim }, () => r() * (dim === 5 ? 1 : 1));
    const b = Array.from({ length: dim }, () => r());
    const [c, x] = truth(a) >= truth(b) ? [a, b] : [b, a];
    chosen.set(c, i * dim);
    rejected.set(x, i * dim);
  }
  return { dim, n, chosen, rejected, weight: new Float32Array(n).fill(1) };
}

test('the linear Bradley-Terry trainer learns a linear preference', () => {
  const res = trainPairs(synthetic(4000, 1), synthetic(1000, 2), { ...DEFAULT_HYPER, seed: 3 });
  assert.ok(res.heldOutAccuracy > 0.95, `held-out accuracy ${res.heldOutAccuracy}`);
  const w = res.model.layers[0]!.weights.map((row) => row[0]! / res.model.std[res.model.layers[0]!.weights.indexOf(row)]!);
  assert.ok(w[0]! > 0 && w[2]! < 0, `weights ${w}`);
  assert.ok(res.bestEpoch >= 1 && res.bestEpoch <= res.epochs);
  assert.equal(res.history.length, res.epochs);
});

test('the trainer is deterministic for a seed and depends on it (MLP)', () => {
  const hyper = { ...DEFAULT_HYPER, family: 'mlp' as const, hidden: 8, maxEpochs: 5 };
  const a = trainPairs(synthetic(500, 1), synthetic(200, 2), { ...hyper, seed: 7 });
  const b = trainPairs(synthetic(500, 1), synthetic(200, 2), { ...hyper, seed: 7 });
  const c = trainPairs(synthetic(500, 1), synthetic(200, 2), { ...hyper, seed: 8 });
  assert.deepEqual(a.model, b.model);
  assert.deepEqual(a.history, b.history);
  assert.notDeepEqual(a.model.layers, c.model.layers);
});

test('the MLP learns an interaction a linear model cannot', () => {
  const train = synthetic(6000, 11, true);
  const held = synthetic(1500, 12, true);
  const lin = trainPairs(train, held, { ...DEFAULT_HYPER, seed: 1 });
  const mlp = trainPairs(train, held, { ...DEFAULT_HYPER, family: 'mlp', hidden: 16, seed: 1, maxEpochs: 60 });
  assert.ok(mlp.heldOutAccuracy > lin.heldOutAccuracy + 0.1, `mlp ${mlp.heldOutAccuracy} vs linear ${lin.heldOutAccuracy}`);
});

test('early stopping keeps the best epoch and reports every epoch; shouldStop stops', () => {
  const epochs: number[] = [];
  const res = trainPairs(synthetic(300, 1), synthetic(100, 2), { ...DEFAULT_HYPER, maxEpochs: 30, patience: 2 }, { onEpoch: (e) => epochs.push(e.epoch) });
  assert.deepEqual(epochs, res.history.map((h) => h.epoch));
  const best = Math.max(...res.history.map((h) => h.heldOutAccuracy));
  assert.equal(res.heldOutAccuracy, best);
  let calls = 0;
  const stopped = trainPairs(synthetic(300, 1), synthetic(100, 2), { ...DEFAULT_HYPER, maxEpochs: 30 }, { shouldStop: () => ++calls >= 2 });
  assert.equal(stopped.epochs, 2);
});

test('weights scale the loss: a pair with weight 0 teaches nothing', () => {
  const d = synthetic(400, 5);
  const flipped: PairData = { ...d, chosen: d.rejected, rejected: d.chosen, weight: new Float32Array(d.n).fill(0) };
  flipped.weight[0] = 1e-9;
  const both: PairData = { dim: d.dim, n: d.n * 2, chosen: new Float32Array([...d.chosen, ...flipped.chosen]), rejected: new Float32Array([...d.rejected, ...flipped.rejected]), weight: new Float32Array([...d.weight, ...flipped.weight]) };
  const res = trainPairs(both, synthetic(200, 6), { ...DEFAULT_HYPER, seed: 2 });
  assert.ok(res.heldOutAccuracy > 0.9, `held-out ${res.heldOutAccuracy}`);
});

test('normalization: constant columns get std 1; scoreRows and pairwiseAccuracy agree with training', () => {
  const rows = new Float32Array([1, 5, 3, 5, 5, 5]);
  const { mean, std } = fitNormalization(rows, 3, 2);
  assert.deepEqual(mean, [3, 5]);
  assert.equal(std[1], 1);
  const held = synthetic(300, 9);
  const res = trainPairs(synthetic(1000, 8), held, { ...DEFAULT_HYPER, seed: 1 });
  const acc = pairwiseAccuracy(scoreRows(res.model, held.chosen, held.n), scoreRows(res.model, held.rejected, held.n));
  assert.ok(Math.abs(acc - res.heldOutAccuracy) < 0.01, `${acc} vs ${res.heldOutAccuracy}`);
  assert.equal(pairwiseAccuracy([1, 2], [1, 3]), 0.25);
});
