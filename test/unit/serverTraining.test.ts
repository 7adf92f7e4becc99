import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RankersReply, TrainStatusReply } from '../../engine/src/protocol';
import { engineFailureText, rankersFrom, trainStatusFrom } from '../../server/src/training';

test('trainStatus crosses to the client with what the editor shows, and nothing else', () => {
  const reply: TrainStatusReply = {
    running: {
      jobId: 'j2',
      trigger: 'background',
      startedAt: 5,
      phase: 'mining',
      round: 1,
      rounds: 2,
      epoch: 0,
      maxEpochs: 30,
      trainPairs: 10,
      heldOutPairs: 4,
      completedRounds: [{ round: 0, trainPairs: 10, hardNegatives: 0, epochs: 5, bestEpoch: 3, trainLoss: 0.5, heldOutAccuracy: 0.75 }],
    },
    last: {
      jobId: 'j1',
      trigger: 'manual',
      outcome: 'kept',
      version: 'v2',
      reason: 'kept, not activated: ...',
      featureSet: 'f1',
      triplets: { pass_rate: { train: 3, validation: 1 } },
      heldOut: { pairs: 4, accuracy: 0.5, activeVersion: 'builtin-2', activeAccuracy: 0.5 },
      rounds: [{ round: 0, trainPairs: 3, hardNegatives: 0, epochs: 5, bestEpoch: 2, trainLoss: 0.4, heldOutAccuracy: 0.5 }],
      startedAt: 1,
      finishedAt: 2,
      trainMs: 1,
    },
    lastChange: { time: 9, version: 'builtin-2', reason: 'activated' },
  };
  const r = trainStatusFrom(reply);
  assert.deepEqual(r.running, { ...reply.running, completedRounds: [{ round: 0, trainPairs: 10, hardNegatives: 0, epochs: 5, bestEpoch: 3, heldOutAccuracy: 0.75 }] });
  assert.equal(r.last?.outcome, 'kept');
  assert.equal('featureSet' in (r.last ?? {}), false);
  assert.deepEqual(r.last?.rounds, [{ round: 0, trainPairs: 3, hardNegatives: 0, epochs: 5, bestEpoch: 2, heldOutAccuracy: 0.5 }]);
  assert.deepEqual(r.lastChange, reply.lastChange);
  assert.deepEqual(trainStatusFrom({}), {});
});

test('rankers cross with their figures and decisions', () => {
  const reply: RankersReply = {
    active: 'v1',
    versions: [
      { version: 'builtin-2', active: false, builtin: true, featureSet: 'f1', family: 'linear', createdAt: 0 },
      {
        version: 'v1',
        active: true,
        builtin: false,
        parent: 'builtin-2',
        featureSet: 'f1',
        family: 'mlp',
        hyper: { lr: 0.01 },
        createdAt: 7,
        heldOut: { pairs: 60, accuracy: 0.8, activeVersion: 'builtin-2', activeAccuracy: 0.7 },
        decision: { promoted: true, reason: 'promoted: ...' },
        rewardModel: 'rm',
      },
    ],
  };
  const r = rankersFrom(reply);
  assert.equal(r.active, 'v1');
  assert.deepEqual(r.versions[0], { version: 'builtin-2', active: false, builtin: true, featureSet: 'f1', family: 'linear', createdAt: 0 });
  assert.deepEqual(r.versions[1], {
    version: 'v1',
    active: true,
    builtin: false,
    parent: 'builtin-2',
    featureSet: 'f1',
    family: 'mlp',
    createdAt: 7,
    heldOut: { pairs: 60, accuracy: 0.8, activeVersion: 'builtin-2', activeAccuracy: 0.7 },
    decision: { promoted: true, reason: 'promoted: ...' },
  });
});

test('a relayed request that fails says why, in words for the user', () => {
  const notReady = { name: 'NotReadyError', message: 'engine is down' };
  assert.equal(
    engineFailureText('start a training', notReady, 'down', 'The Winnow engine could not start: no node.'),
    'Winnow could not start a training: the engine is not running (The Winnow engine could not start: no node). Run "Winnow: Restart Engine", or see "Winnow: Show Logs".',
  );
  assert.equal(
    engineFailureText('start a training', notReady, 'down'),
    'Winnow could not start a training: the engine is not running. Run "Winnow: Restart Engine", or see "Winnow: Show Logs".',
  );
  assert.equal(engineFailureText('list the ranker versions', { name: 'NotReadyError', message: 'engine is restarting' }, 'restarting'), 'Winnow could not list the ranker versions: the engine is restarting; try again in a moment.');
  assert.equal(
    engineFailureText('read the training status', { name: 'TimeoutError', message: 'engine did not answer trainStatus within 5000 ms' }, 'ready'),
    'Winnow could not read the training status: the engine did not answer in time (engine did not answer trainStatus within 5000 ms).',
  );
  assert.equal(
    engineFailureText('start a training', { name: 'ProtocolError', code: 'bad_request', message: 'unknown request type "train"' }, 'ready'),
    'Winnow could not start a training: the running engine is older than this extension (unknown request type "train"). Run "Winnow: Restart Engine".',
  );
  assert.equal(
    engineFailureText('switch to ranker v9', { name: 'ProtocolError', code: 'bad_request', message: 'no ranker version v9.' }, 'ready'),
    'Winnow could not switch to ranker v9: no ranker version v9.',
  );
});
