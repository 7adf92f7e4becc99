/**
 * The ranker learns, end to end on a real engine process (recorded backend, real SQLite, real
 * onnxruntime, the real training worker process): feedback → `train` → a new version, the
 * promotion gate, the registry, hot swap under load, roll back, corrupt files refused, cancel.
 *
 * The simulated developer here has one taste the built-in ranker does not weigh: they always
 * accept the longest candidate shown. A ranker that learns from them must find that.
 */
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { CompleteRequest, FeedbackEvent, TrainStatusReply, TrainSummary } from '../../engine/src/protocol';
import type { EngineClient } from '../../engine/src/client';
import { ENGINE_SCRIPT, POOL, startEngine, tempDir, waitFor, type RunningEngine } from '../helpers';

const prompts: string[] = fs
  .readFileSync(POOL, 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => (JSON.parse(l) as { generation_prompt: string }).generation_prompt);

const complete = (prefix: string, i: number, over: Partial<CompleteRequest> = {}): CompleteRequest => ({
  prefix,
  suffix: '',
  languageId: 'python',
  filePath: `/work/demo/he_${i}.py`,
  n: 8,
  budgetMs: 5000,
  generator: { backend: 'recorded', recordedPool: POOL, seed: i },
  ...over,
});

function cli(dataDir: string, ...args: string[]) {
  return spawnSync(process.execPath, [ENGINE_SCRIPT, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 120_000 });
}

/** Completions, and a developer who sees every candidate and accepts the longest. */
async function teach(client: EngineClient, requests: number, over: Partial<CompleteRequest> = {}, from = 0): Promise<void> {
  for (let i = from; i < from + requests; i++) {
    const prompt = prompts[i % prompts.length] as string;
    const r = await client.request('complete', complete(prompt, i, over), 10_000);
    if (r.candidates.length < 2) continue;
    const longest = [...r.candidates].sort((a, b) => b.text.length - a.text.length)[0]!;
    const base = { requestId: r.requestId, rankerVersion: r.rankerVersion, time: Date.now() };
    const events: FeedbackEvent[] = r.candidates.map((c) => ({ ...base, kind: 'shown', candidateId: c.id, rank: c.rank }));
    events.push({ ...base, kind: 'accepted', candidateId: longest.id, rank: longest.rank });
    const ack = await client.request('event', { events }, 10_000);
    assert.equal(ack.stored, events.length);
  }
}

async function trained(client: EngineClient, jobId: string): Promise<TrainSummary> {
  return waitFor(
    `training ${jobId}`,
    async () => {
      const st: TrainStatusReply = await client.request('trainStatus', {}, 5000);
      return st.last?.jobId === jobId ? st.last : undefined;
    },
    120_000,
  );
}

describe('training on a real engine', { timeout: 300_000 }, () => {
  let dir: string;
  let engine: RunningEngine;
  before(async () => {
    dir = tempDir();
    engine = await startEngine(dir, ['--train-check-ms', '0']);
  });
  after(async () => {
    await engine.stop();
  });

  test('with no feedback, a training is skipped and says why', async () => {
    const r = await engine.client.request('train', { rounds: 0 }, 5000);
    assert.equal(r.started, true);
    const s = await trained(engine.client, r.jobId);
    assert.equal(s.outcome, 'skipped');
    assert.match(s.reason, /no training triplets yet|store is empty/);
    assert.equal(s.version, undefined);
  });

  test('feedback trains a version that beats the built-in ranker on held-out pairs and is promoted, hot', async () => {
    await teach(engine.client, 240);
    const r = await engine.client.request('train', { rounds: 2, settings: { auto: false, minNewTriplets: 200, minPairs: 30, promotionMargin: 1, keepVersions: 10, rounds: 2 } }, 5000);
    assert.equal(r.started, true);
    // One training at a time per data folder: a second request gets the running job.
    const again = await engine.client.request('train', {}, 5000);
    assert.equal(again.started, false);
    assert.equal(again.jobId, r.jobId);
    const s = await trained(engine.client, r.jobId);
    assert.equal(s.outcome, 'promoted', s.reason);
    assert.equal(s.version, 'v1');
    assert.ok(s.heldOut && s.heldOut.pairs >= 30, `held-out pairs ${s.heldOut?.pairs}`);
    assert.equal(s.heldOut?.activeVersion, 'builtin-4');
    assert.ok(s.heldOut!.accuracy >= s.heldOut!.activeAccuracy + 0.01, `new ${s.heldOut!.accuracy} vs active ${s.heldOut!.activeAccuracy}`);
    assert.equal(s.rounds.length, 3, 'round 0 and two hard-negative rounds');
    assert.ok((s.triplets.accepted_vs_shown?.train ?? 0) > 0, JSON.stringify(s.triplets));
    assert.equal(s.featureSet, 'fs-4');

    const status = await engine.client.request('status', {}, 5000);
    assert.equal(status.rankerVersion, 'v1');
    assert.equal(status.training?.lastChange?.version, 'v1');
    assert.match(status.training?.lastChange?.reason ?? '', /^promoted: held-out pairwise accuracy/);
    const c = await engine.client.request('complete', complete(prompts[0]!, 9999), 10_000);
    assert.equal(c.rankerVersion, 'v1');

    const versions = await engine.client.request('rankers', {}, 5000);
    assert.equal(versions.active, 'v1');
    const v1 = versions.versions.find((v) => v.version === 'v1');
    assert.ok(v1 && v1.active && !v1.builtin);
    assert.equal(v1.parent, 'builtin-4');
    assert.equal(v1.featureSet, 'fs-4');
    assert.equal(v1.decision?.promoted, true);
    assert.equal(v1.rounds?.length, 3);
    assert.ok(v1.hyper && v1.hyper.family);
    assert.ok(fs.existsSync(path.join(dir, 'rankers', 'v1.onnx')) && fs.existsSync(path.join(dir, 'rankers', 'v1.json')));
  });

  test('a second training on the same data is kept, not activated, and the reason says why', async () => {
    const r = await engine.client.request('train', { rounds: 0, settings: { auto: false, minNewTriplets: 200, minPairs: 30, promotionMargin: 1, keepVersions: 10, rounds: 0 } }, 5000);
    const s = await trained(engine.client, r.jobId);
    assert.equal(s.outcome, 'kept', s.reason);
    assert.equal(s.version, 'v2');
    assert.match(s.reason, /kept, not activated: .* less than the 1-point margin/);
    const st = await engine.client.request('status', {}, 5000);
    assert.equal(st.rankerVersion, 'v1');
    // Too few held-out pairs: kept whatever the accuracy.
    const r2 = await engine.client.request('train', { rounds: 0, settings: { auto: false, minNewTriplets: 200, minPairs: 1_000_000, promotionMargin: -100, keepVersions: 10, rounds: 0 } }, 5000);
    const s2 = await trained(engine.client, r2.jobId);
    assert.equal(s2.outcome, 'kept');
    assert.match(s2.reason, /the gate needs at least 1000000 \(winnow.training.minPairs\)/);
  });

  test('roll back and forward, hot, while completions keep coming: none fails', async () => {
    let stop = false;
    let served = 0;
    const errors: string[] = [];
    const load = async (from: number) => {
      let i = from;
      while (!stop) {
        try {
          const r = await engine.client.request('complete', complete(prompts[i % 50]!, 5000 + i), 10_000);
          if (r.candidates.length === 0) errors.push('no candidates');
          served++;
        } catch (e) {
          errors.push((e as Error).message);
        }
        i++;
      }
    };
    const loaders = [load(0), load(1000), load(2000)];
    for (let k = 0; k < 20; k++) {
      const target = k % 2 === 0 ? 'builtin-4' : 'v1';
      const a = await engine.client.request('activate', { version: target }, 10_000);
      assert.equal(a.active, target);
      await waitFor('a completion on the new ranker', () => served > k * 3);
    }
    stop = true;
    await Promise.all(loaders);
    assert.deepEqual(errors, []);
    assert.ok(served >= 60, `served ${served}`);
    const st = await engine.client.request('status', {}, 5000);
    assert.equal(st.rankerVersion, 'v1');
    const viaCli = cli(dir, 'rankers', '--json');
    assert.equal(viaCli.status, 0, viaCli.stderr);
    assert.equal((JSON.parse(viaCli.stdout) as { active: string }).active, 'v1');
  });

  test('a corrupt, truncated or incompatible version is refused with a clear error and the active one keeps serving', async () => {
    const rankers = path.join(dir, 'rankers');
    const good = fs.readFileSync(path.join(rankers, 'v1.onnx'));
    fs.writeFileSync(path.join(rankers, 'v90.onnx'), Buffer.from('this is not an onnx model'));
    fs.writeFileSync(path.join(rankers, 'v91.onnx'), good.subarray(0, Math.floor(good.length / 2)));
    // Incompatible: another feature set's metadata on an otherwise valid file.
    fs.writeFileSync(path.join(rankers, 'v92.onnx'), Buffer.from(good.toString('latin1').replace('fs-4', 'fs-9'), 'latin1'));
    for (const v of ['v90', 'v91', 'v92']) {
      await assert.rejects(engine.client.request('activate', { version: v }, 10_000), (e: Error) => {
        assert.match(e.message, new RegExp(`cannot activate ${v}: .*; v1 keeps serving`));
        return true;
      });
    }
    await assert.rejects(engine.client.request('activate', { version: 'nope' }, 10_000), /no ranker version "nope"/);
    const c = await engine.client.request('complete', complete(prompts[1]!, 7777), 10_000);
    assert.equal(c.rankerVersion, 'v1');
    assert.ok(c.candidates.length > 0);
    for (const v of ['v90', 'v91', 'v92']) fs.rmSync(path.join(rankers, `${v}.onnx`));
  });

  test('cancel stops the worker and changes nothing', async () => {
    const before = await engine.client.request('rankers', {}, 5000);
    const r = await engine.client.request('train', { rounds: 10 }, 5000);
    const c = await engine.client.request('trainCancel', {}, 5000);
    assert.equal(c.cancelled, true);
    const s = await trained(engine.client, r.jobId);
    assert.equal(s.outcome, 'cancelled');
    const afterwards = await engine.client.request('rankers', {}, 5000);
    assert.deepEqual(afterwards.versions.map((v) => v.version), before.versions.map((v) => v.version));
    assert.equal(afterwards.active, before.active);
    assert.equal(fs.existsSync(path.join(dir, 'training.lock')), false);
  });
});

test('winnow train, rankers and activate work standalone on a data folder', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir, ['--train-check-ms', '0']);
  try {
    await teach(engine.client, 200);
  } finally {
    await engine.stop();
  }
  const t = cli(dir, 'train', '--rounds', '1', '--min-pairs', '20', '--json');
  assert.equal(t.status, 0, t.stderr);
  const s = JSON.parse(t.stdout) as TrainSummary;
  assert.equal(s.outcome, 'promoted', s.reason);
  assert.equal(s.trigger, 'cli');
  const human = cli(dir, 'rankers');
  assert.equal(human.status, 0, human.stderr);
  assert.match(human.stdout, /^active: v1$/m);
  assert.match(human.stdout, /^\* v1 /m);
  const back = cli(dir, 'activate', 'builtin-4');
  assert.equal(back.status, 0, back.stderr);
  assert.match(back.stdout, /active: builtin-4 \(was v1\)/);
  const bad = cli(dir, 'activate', 'v77');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no ranker version "v77"/);
});

test('background training: with auto on, enough new triplets and an idle editor, the engine trains by itself; with auto off it does not', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir, ['--train-idle-ms', '300', '--train-check-ms', '100']);
  try {
    const off = { auto: false, minNewTriplets: 50, minPairs: 20, promotionMargin: 1, keepVersions: 10, rounds: 1 };
    await teach(engine.client, 200, { training: off });
    // Idle with auto off: no training starts.
    const idleUntil = Date.now() + 1000;
    await waitFor('a second of idleness', () => Date.now() > idleUntil, 5000);
    const quiet = await engine.client.request('trainStatus', {}, 5000);
    assert.equal(quiet.running, undefined);
    assert.equal(quiet.last, undefined);

    // One more completion carries auto on; then the engine is idle and trains.
    await teach(engine.client, 1, { training: { ...off, auto: true } }, 200);
    const last = await waitFor(
      'a background training',
      async () => {
        const st = await engine.client.request('trainStatus', {}, 5000);
        return st.last?.trigger === 'background' ? st.last : undefined;
      },
      120_000,
    );
    assert.equal(last.outcome, 'promoted', last.reason);
    const status = await engine.client.request('status', {}, 5000);
    assert.equal(status.rankerVersion, last.version);
    assert.equal(status.training?.lastChange?.version, last.version);

    // A little new feedback is not enough for another one: the attempt is skipped and says why.
    await teach(engine.client, 3, { training: { ...off, auto: true } }, 300);
    const skipped = await waitFor(
      'a skipped background training',
      async () => {
        const st = await engine.client.request('trainStatus', {}, 5000);
        return st.last?.trigger === 'background' && st.last.outcome === 'skipped' ? st.last : undefined;
      },
      60_000,
    );
    assert.match(skipped.reason, /new triplets since the last training; background training waits for 50/);
    const st = await engine.client.request('status', {}, 5000);
    assert.equal(st.rankerVersion, last.version);
  } finally {
    await engine.stop();
  }
});
