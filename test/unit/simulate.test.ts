/** The simulated developer's stream (engine/src/bench/simulate.ts): what is measured late was never trained on. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { streamOf, withRegistryVersions, type TrainingRecord } from '../../engine/src/bench/simulate';
import type { RankerVersionInfo } from '../../engine/src/protocol';

test('the stream: pass 1 and pass 2 go over the same half in other orders, pass 3 over the other half', () => {
  const { order, passSize } = streamOf(164, 1, 20);
  assert.equal(passSize, 80);
  assert.equal(order.length, 3 * passSize);
  const tasksOf = (p: number) => order.filter((a) => a.pass === p).map((a) => a.task);
  const [p1, p2, p3] = [tasksOf(1), tasksOf(2), tasksOf(3)];
  for (const p of [p1, p2, p3]) assert.equal(new Set(p).size, passSize, 'no task twice within a pass');
  assert.deepEqual([...p1].sort((a, b) => a - b), [...p2].sort((a, b) => a - b));
  assert.notDeepEqual(p1, p2, 'pass 2 comes in another order');
  assert.equal(p3.filter((t) => p1.includes(t)).length, 0, 'pass 3 holds only tasks never seen');
  // The passes are in order: the last third of the stream is pass 3.
  assert.deepEqual(
    order.map((a) => a.pass),
    [...Array(passSize).fill(1), ...Array(passSize).fill(2), ...Array(passSize).fill(3)],
  );
});

test('the stream is deterministic for a seed and differs between seeds', () => {
  assert.deepEqual(streamOf(50, 7, 10), streamOf(50, 7, 10));
  assert.notDeepEqual(streamOf(50, 7, 10).order, streamOf(50, 8, 10).order);
});

test('passes are whole windows where there are enough tasks, and the halves where there are not', () => {
  assert.equal(streamOf(50, 1, 10).passSize, 20);
  assert.equal(streamOf(9, 1, 20).passSize, 4);
});

test('trainings no look caught are taken from the registry and placed after the last arrival stored before them', () => {
  const seen: TrainingRecord[] = [{ afterArrival: 4, jobId: 'j1', outcome: 'kept', version: 'v1', reason: 'r1', trainMs: 10, triplets: 5 }];
  const info = (version: string, createdAt: number, promoted: boolean): RankerVersionInfo => ({
    version, active: false, builtin: false, featureSet: 'fs-4', family: 'linear', createdAt,
    triplets: { accepted_vs_shown: { train: 6, validation: 2 } }, decision: { promoted, reason: `why ${version}` },
  });
  const rankers: RankerVersionInfo[] = [
    { version: 'builtin-4', active: true, builtin: true, featureSet: 'fs-4', family: 'linear', createdAt: 0 },
    info('v1', 150, false),
    info('v2', 250, true),
    info('v3', 999, false),
  ];
  const all = withRegistryVersions(seen, rankers, [100, 200, 300, 400]);
  assert.deepEqual(all.map((t) => [t.version, t.afterArrival, t.outcome, t.midWindow === true]), [
    ['v2', 2, 'promoted', true],
    ['v1', 4, 'kept', false],
    ['v3', 4, 'kept', true],
  ]);
  assert.equal(all[0]?.triplets, 8);
  assert.equal(all[0]?.reason, 'why v2');
});
