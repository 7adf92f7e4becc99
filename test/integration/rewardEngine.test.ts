/**
 * PLUMBING: the reward model inside a real engine process (real ZeroMQ, onnxruntime-node,
 * SQLite), on transformers with RANDOM WEIGHTS built by test/fixtures/reward-model/build.ts:
 * picked up from the setting, loaded in the background while completions go on, its score a
 * stored feature, late scores stored for training, broken or oversized models refused with
 * completions going on, and ranker versions served only with the reward model they were
 * trained with. The model server is the OpenAI-compatible FIXTURE in test/fixtures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { BUILTIN_SPEC, BUILTIN_VERSION, FEATURE_NAMES, FEATURE_SET_ID } from '../../engine/src/features';
import type { CompleteRequest, FeedbackEvent, RewardModelStatus } from '../../engine/src/protocol';
import { buildRankerModel } from '../../engine/src/ranker/onnx';
import { RankerRegistry } from '../../engine/src/ranker/registry';
import { checkRewardFolder } from '../../engine/src/reward/folder';
import { writeRewardModelFolder } from '../fixtures/reward-model/build';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { RewardModel } from '../../engine/src/reward/model';
import { ENGINE_SCRIPT, POOL, ROOT, startEngine, tempDir, waitFor, type RunningEngine } from '../helpers';

const TINY = path.join(ROOT, 'test/fixtures/reward-model/tiny');
const PRESENT = FEATURE_NAMES.indexOf('reward_present');
const Z = FEATURE_NAMES.indexOf('reward_z');

function storedRows(dataDir: string, requestId: string): { id: string; present: number; z: number; rewardModel: string | null; featureSet: string }[] {
  const db = new Database(path.join(dataDir, 'winnow.db'), { readonly: true });
  try {
    const rows = db.prepare('SELECT id, features, feature_set, reward_model FROM candidates WHERE request_id = ? ORDER BY rank').all(requestId) as { id: string; features: Buffer; feature_set: string; reward_model: string | null }[];
    return rows.map((r) => {
      const f = new Float32Array(new Uint8Array(r.features).buffer);
      return { id: r.id, present: f[PRESENT] as number, z: f[Z] as number, rewardModel: r.reward_model, featureSet: r.feature_set };
    });
  } finally {
    db.close();
  }
}

describe('reward model in the engine (plumbing, random weights)', () => {
  let dir: string;
  let engine: RunningEngine;
  let fixture: Fixture;
  let slow: string;
  const data = () => path.join(dir, 'data');
  const request = (over: Partial<CompleteRequest> = {}): CompleteRequest => ({
    prefix: 'def double(x):\n    """Return x doubled."""\n',
    suffix: '',
    languageId: 'python',
    filePath: '/tmp/double.py',
    n: 8,
    budgetMs: 5000,
    generator: { backend: 'openai', url: fixture.url, model: 'fixture' },
    ...over,
  });
  const status = async () => (await engine.client.request('status', {}, 5000)).rewardModel as RewardModelStatus;
  const until = (what: string, ok: (s: RewardModelStatus) => boolean) => waitFor(what, async () => ((s) => (ok(s) ? s : undefined))(await status()), 30_000);

  before(async () => {
    dir = tempDir('winnow-reward-engine-');
    fixture = await startOpenAIFixture({ complete: (_b, i) => ['    return x * 2\n', '    return x + x\n', '    return 2 * x\n', '    pass\n'][i % 4] as string });
    engine = await startEngine(data());
    // Slow enough on CPU to miss a tight budget: 4 layers, hidden 128, over ~1000 tokens a candidate.
    slow = path.join(dir, 'slow');
    writeRewardModelFolder(slow, { layers: 4, hidden: 128, heads: 4, maxPositions: 1024, seed: 3 });
  });

  after(async () => {
    await engine.stop();
    await fixture.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('without the setting there is no reward model, and the reward columns are 0', async () => {
    const r = await engine.client.request('complete', request(), 10_000);
    assert.ok(r.candidates.length > 1);
    assert.equal((await status()).state, 'none');
    const rows = await waitFor('rows stored', () => ((x) => (x.length > 0 ? x : undefined))(storedRows(data(), r.requestId)));
    assert.ok(rows.every((x) => x.present === 0 && x.z === 0 && x.rewardModel === null && x.featureSet === FEATURE_SET_ID));
  });

  test('a folder set in the request loads in the background; then every candidate is scored, stored with the model id', async () => {
    const first = await engine.client.request('complete', request({ rewardModel: { path: TINY, maxTokens: 256 } }), 10_000);
    assert.ok(first.candidates.length > 1, 'completions go on while it loads');
    const s = await until('reward model ready', (x) => x.state === 'ready');
    const id = checkRewardFolder(TINY, { maxBytes: 1e12 }).id;
    assert.equal(s.id, id);
    assert.equal(s.name, 'tiny');
    assert.equal(s.device, 'cpu');
    assert.match(s.deviceReason ?? '', /^CPU/);
    assert.equal(s.precision, 'fp32');
    assert.equal(s.maxTokens, 256);
    const r = await engine.client.request('complete', request({ rewardModel: { path: TINY, maxTokens: 256 } }), 10_000);
    const after1 = await status();
    assert.ok(after1.inTime >= 1, JSON.stringify(after1));
    assert.ok(after1.p50Ms !== undefined && after1.p50Ms > 0);
    const rows = await waitFor('rows stored', () => ((x) => (x.length > 0 ? x : undefined))(storedRows(data(), r.requestId)));
    assert.ok(rows.every((x) => x.present === 1 && x.rewardModel === id), JSON.stringify(rows));
    assert.ok(rows.some((x) => x.z !== 0), 'the scores differ between candidates');
    assert.ok(Math.abs(rows.reduce((a, x) => a + x.z, 0)) < 1e-3, 'standardized: they sum to 0');
    // The built-in ranker reads the score: the order follows it where the text features tie.
    assert.equal(r.rankerVersion, BUILTIN_VERSION);
  });

  test('a score that misses the latency budget: the completion is ranked without it, and the score is stored when it arrives', async () => {
    const settings = { path: slow, maxTokens: 1024 };
    await engine.client.request('complete', request({ rewardModel: settings }), 10_000);
    await until('slow model ready', (x) => x.state === 'ready' && x.path === slow);
    const long = `${'# a long file: the reward model reads up to 1024 tokens of it\nvalue = compute(value, 1)\n'.repeat(60)}def double(x):\n    """Return x doubled."""\n`;
    // N fixed: on a 60 ms budget latency-aware N could ask the (replayed) generator for fewer; this is about the reward model.
    const r = await engine.client.request('complete', request({ prefix: long, budgetMs: 60, fixedN: true, rewardModel: settings }), 10_000);
    assert.ok(r.candidates.length > 1, 'the completion did not wait for the reward model');
    const s = await status();
    assert.ok(s.late >= 1, JSON.stringify(s));
    // The engine answered while the run went on in the reward model's thread: the serving loop is not blocked.
    assert.equal(s.running, 1, JSON.stringify(s));
    const id = s.id;
    const rows = await waitFor('the late score stored', () => ((x) => (x.length > 0 && x.every((y) => y.present === 1) ? x : undefined))(storedRows(data(), r.requestId)), 30_000);
    assert.ok(rows.every((x) => x.rewardModel === id));
  });

  test('a relative path is refused: the setting must name an absolute folder (given with status, as a window does when the setting changes)', async () => {
    await assert.rejects(engine.client.request('status', { rewardModel: { path: 'models/rm', maxTokens: 3 } }, 10_000), /rewardModel\.maxTokens must be an integer from 16 to 32768/);
    await engine.client.request('status', { rewardModel: { path: 'models/rm', maxTokens: 256 } }, 10_000);
    const s = await until('refused', (x) => x.state === 'failed');
    assert.match(s.problem ?? '', /must be an absolute folder path \(or start with ~\/\), got "models\/rm"/);
  });

  test('a broken model is refused with a clear message, completions go on, and a good folder is taken after it', async () => {
    const broken = path.join(dir, 'broken');
    fs.mkdirSync(broken);
    for (const f of fs.readdirSync(TINY)) fs.copyFileSync(path.join(TINY, f), path.join(broken, f));
    fs.writeFileSync(path.join(broken, 'model.onnx'), Buffer.from('this is not a model'));
    const r = await engine.client.request('complete', request({ rewardModel: { path: broken, maxTokens: 256 } }), 10_000);
    assert.ok(r.candidates.length > 1);
    const s = await until('refused', (x) => x.state === 'failed');
    assert.match(s.problem ?? '', /model\.onnx is not an ONNX model/);
    const again = await engine.client.request('complete', request({ rewardModel: { path: broken, maxTokens: 256 } }), 10_000);
    assert.ok(again.candidates.length > 1);
    await engine.client.request('complete', request({ rewardModel: { path: TINY, maxTokens: 256 } }), 10_000);
    await until('the good one', (x) => x.state === 'ready' && x.name === 'tiny');
  });

  test('a ranker version serves only with the reward model it was trained with; otherwise the built-in one serves, and activation says why', async () => {
    const id = checkRewardFolder(TINY, { maxBytes: 1e12 }).id;
    const reg = new RankerRegistry(data());
    const spec = { ...BUILTIN_SPEC, version: 'v1', metadata: { ...BUILTIN_SPEC.metadata, 'winnow.family': 'linear', 'winnow.rewardModel': id } };
    reg.addVersion({ version: 'v1', builtin: false, featureSet: FEATURE_SET_ID, family: 'linear', createdAt: Date.now(), rewardModel: id, decision: { promoted: false, reason: 'test' } }, buildRankerModel(spec));
    // The engine uses tiny (the last test's end): v1 pairs with it.
    assert.equal((await engine.client.request('activate', { version: 'v1' }, 10_000)).active, 'v1');
    let st = await engine.client.request('status', {}, 5000);
    assert.equal(st.rankerVersion, 'v1');
    assert.equal(st.rankerNote, undefined);
    // No reward model: v1 stays active on disk, the built-in ranker serves, and status says why.
    const r = await engine.client.request('complete', request({ rewardModel: { path: '', maxTokens: 256 } }), 10_000);
    assert.equal(r.rankerVersion, BUILTIN_VERSION);
    st = await engine.client.request('status', {}, 5000);
    assert.equal(st.rankerVersion, BUILTIN_VERSION);
    assert.match(st.rankerNote ?? '', new RegExp(`v1 was trained with reward model ${id.replace('.', '\\.')}, and the engine now has none: retrain`));
    assert.equal(reg.activeVersion(), 'v1');
    // Activation of a version trained with another reward model is refused; the serving one keeps serving.
    await engine.client.request('activate', { version: BUILTIN_VERSION }, 10_000);
    await assert.rejects(engine.client.request('activate', { version: 'v1' }, 10_000), /cannot activate v1: v1 was trained with reward model .*; builtin-4 keeps serving/);
    // Back with tiny: v1 can be activated again.
    await engine.client.request('complete', request({ rewardModel: { path: TINY, maxTokens: 256 } }), 10_000);
    await until('tiny again', (x) => x.state === 'ready');
    assert.equal((await engine.client.request('activate', { version: 'v1' }, 10_000)).active, 'v1');
  });

  test('the setting is remembered: a restarted engine loads the same model before any request names it', async () => {
    await engine.stop();
    engine = await startEngine(data());
    const s = await until('loaded at start', (x) => x.state === 'ready');
    assert.equal(s.path, TINY);
    assert.equal((await engine.client.request('status', {}, 5000)).rankerVersion, 'v1');
  });
});

describe('a reward model bigger than the machine takes (TEST STAND-IN: --reward-max-mb caps the size)', () => {
  test('refused before loading, with the sizes; completions go on', async () => {
    const dir = tempDir('winnow-reward-big-');
    const fixture = await startOpenAIFixture({ complete: (_b, i) => `    return ${i}\n` });
    const engine = await startEngine(path.join(dir, 'data'), ['--reward-max-mb', '0.01']);
    try {
      const req: CompleteRequest = { prefix: 'def f():\n', suffix: '', languageId: 'python', filePath: '/tmp/f.py', n: 4, budgetMs: 5000, generator: { backend: 'openai', url: fixture.url }, rewardModel: { path: TINY, maxTokens: 256 } };
      const r = await engine.client.request('complete', req, 10_000);
      assert.ok(r.candidates.length > 1);
      const s = await waitFor('refused', async () => ((x) => (x?.state === 'failed' ? x : undefined))((await engine.client.request('status', {}, 5000)).rewardModel));
      assert.match(s.problem ?? '', /reward model .*tiny is 0\.0 GB, more than the size limit \(0\.0 GB\): use a smaller model/);
      assert.ok((await engine.client.request('complete', req, 10_000)).candidates.length > 1);
    } finally {
      await engine.stop();
      await fixture.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the learned ranker weighs the reward model (plumbing: random weights, a developer whose taste is its score)', { timeout: 300_000 }, () => {
  test('a version trained with a reward model records it, and learns to follow a developer who accepts what it scores highest', async () => {
    const dir = tempDir('winnow-reward-train-');
    const engine = await startEngine(path.join(dir, 'data'), ['--train-check-ms', '0']);
    const rm = await RewardModel.load(checkRewardFolder(TINY, { maxBytes: 1e12 }), { device: 'cpu', maxTokens: 256, log: () => undefined });
    try {
      const prompts = fs.readFileSync(POOL, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { generation_prompt: string }).generation_prompt);
      const settings = { path: TINY, maxTokens: 256 };
      const req = (i: number): CompleteRequest => ({ prefix: prompts[i % prompts.length] as string, suffix: '', languageId: 'python', filePath: `/work/he_${i}.py`, n: 8, budgetMs: 10_000, generator: { backend: 'recorded', recordedPool: POOL, seed: i }, rewardModel: settings });
      await engine.client.request('complete', req(0), 20_000);
      const id = (await waitFor('ready', async () => ((x) => (x?.state === 'ready' ? x : undefined))((await engine.client.request('status', {}, 5000)).rewardModel), 30_000)).id;
      // 300 completions (about 1,300 pairs): with 90 (400 pairs) the trainer's 40 epochs leave it under-converged (70%).
      for (let i = 1; i <= 300; i++) {
        const r = await engine.client.request('complete', req(i), 20_000);
        if (r.candidates.length < 2) continue;
        // The developer's taste is the reward model's score (the same model, in this process).
        const scores = await rm.score(req(i).prefix, r.candidates.map((c) => c.text));
        const best = r.candidates[scores.indexOf(Math.max(...scores))]!;
        const base = { requestId: r.requestId, rankerVersion: r.rankerVersion, time: Date.now() };
        const events: FeedbackEvent[] = r.candidates.map((c) => ({ ...base, kind: 'shown' as const, candidateId: c.id, rank: c.rank }));
        events.push({ ...base, kind: 'accepted', candidateId: best.id, rank: best.rank });
        await engine.client.request('event', { events }, 10_000);
      }
      const t = await engine.client.request('train', { rounds: 0, settings: { auto: false, minNewTriplets: 1, minPairs: 10, promotionMargin: -100, keepVersions: 10, rounds: 0 } }, 5000);
      const summary = await waitFor('trained', async () => ((st) => (st.last?.jobId === t.jobId ? st.last : undefined))(await engine.client.request('trainStatus', {}, 5000)), 120_000);
      assert.equal(summary.outcome, 'promoted', summary.reason);
      assert.ok((summary.heldOut?.accuracy ?? 0) >= 0.9, `held-out accuracy ${summary.heldOut?.accuracy}: the ranker follows the reward model's score`);
      const rankers = await engine.client.request('rankers', {}, 5000);
      const v1 = rankers.versions.find((v) => v.version === summary.version);
      assert.equal(v1?.rewardModel, id, 'the version records the reward model it was trained with');
      assert.equal(rankers.active, summary.version);
      // Without the engine, `winnow train` trains with the reward model the engine uses (its remembered setting).
      await engine.stop();
      const cli = spawnSync(process.execPath, [ENGINE_SCRIPT, 'train', '--rounds', '0', '--min-pairs', '0', '--margin=-100', '--json', '--data-dir', path.join(dir, 'data')], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(cli.status, 0, cli.stderr);
      const direct = JSON.parse(cli.stdout) as { version?: string };
      const meta = JSON.parse(fs.readFileSync(path.join(dir, 'data', 'rankers', `${direct.version}.json`), 'utf8')) as { rewardModel?: string };
      assert.equal(meta.rewardModel, id);
    } finally {
      await rm.dispose();
      await engine.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
