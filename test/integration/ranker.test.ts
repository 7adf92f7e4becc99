/**
 * Integration tests of the ranker with the real onnxruntime-node: the ONNX writer and
 * metadata reader, scores against a JS reference for linear and MLP models, execution
 * provider choice and CPU fallback, the registry's files, and loadActiveRanker's recovery
 * from missing, corrupt and incompatible models.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { BUILTIN_SPEC, BUILTIN_VERSION, FEATURE_NAMES, FEATURE_SETS, NUM_FEATURES, featurize } from '../../engine/src/features';
import { buildRankerModel, readModelMetadata, validateSpec, type RankerSpec } from '../../engine/src/ranker/onnx';
import {
  Ranker,
  RankerLoadError,
  chooseExecutionProvider,
  createRankerSession,
  detectCudaProvider,
  loadActiveRanker,
  type DevicePreference,
  type EpChoice,
} from '../../engine/src/ranker/ranker';
import { RankerRegistry } from '../../engine/src/ranker/registry';
import { mulberry32 } from '../../engine/src/random';

const dirs: string[] = [];
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-ranker-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function randomSpec(version: string, hidden: number[], seed: number): RankerSpec {
  const r = mulberry32(seed);
  const u = (scale: number) => (r() * 2 - 1) * scale;
  const widths = [NUM_FEATURES, ...hidden, 1];
  const layers = widths.slice(1).map((out, i) => {
    const inp = widths[i] as number;
    return {
      weights: Array.from({ length: inp }, () => Array.from({ length: out }, () => u(1 / Math.sqrt(inp)))),
      bias: Array.from({ length: out }, () => u(0.5)),
      activation: i < widths.length - 2 ? ('relu' as const) : ('none' as const),
    };
  });
  return {
    version,
    featureNames: [...FEATURE_NAMES],
    mean: FEATURE_NAMES.map(() => u(1)),
    std: FEATURE_NAMES.map(() => 0.5 + r()),
    layers,
    metadata: { 'test.seed': String(seed) },
  };
}

/** JS reference of the graph, with parameters rounded to float32 as the model stores them. */
function reference(spec: RankerSpec, x: Float32Array, n: number): number[] {
  const f32 = Math.fround;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let h = Array.from({ length: NUM_FEATURES }, (_, j) => (f32(x[i * NUM_FEATURES + j] as number) - f32(spec.mean[j] as number)) / f32(spec.std[j] as number));
    for (const l of spec.layers) {
      const next = l.bias.map((b) => f32(b));
      l.weights.forEach((row, a) => row.forEach((w, b) => (next[b] = (next[b] as number) + (h[a] as number) * f32(w))));
      h = l.activation === 'relu' ? next.map((v) => Math.max(0, v)) : next;
    }
    out.push(h[0] as number);
  }
  return out;
}

function randomFeatures(n: number, seed: number): Float32Array {
  const r = mulberry32(seed);
  return Float32Array.from({ length: n * NUM_FEATURES }, () => r() * 4 - 1);
}

function saveModel(spec: RankerSpec): string {
  const file = path.join(tmp(), `${spec.version}.onnx`);
  fs.writeFileSync(file, buildRankerModel(spec));
  return file;
}

function assertClose(actual: Float32Array, expected: number[], what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  expected.forEach((e, i) => {
    const a = actual[i] as number;
    assert.ok(Math.abs(a - e) <= 1e-5 * Math.max(1, Math.abs(e)), `${what}[${i}]: onnxruntime ${a}, reference ${e}`);
  });
}

// ---------------------------------------------------------------------------------------

test('ONNX writer: metadata round trip; reader rejects garbage; spec validation', () => {
  const spec = randomSpec('v-meta', [4], 1);
  const meta = readModelMetadata(buildRankerModel(spec));
  assert.equal(meta['winnow.version'], 'v-meta');
  assert.equal(meta['winnow.features'], FEATURE_NAMES.join(','));
  assert.equal(meta['winnow.format'], '1');
  assert.equal(meta['test.seed'], '1');
  // Deterministic bytes.
  assert.deepEqual(buildRankerModel(spec), buildRankerModel(spec));

  assert.throws(() => readModelMetadata(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0x0f, 1, 2])));
  assert.throws(() => readModelMetadata(Uint8Array.from([0x07])), /wire type|field number/);

  const bad = (over: Partial<RankerSpec>, re: RegExp) => assert.throws(() => validateSpec({ ...spec, ...over }), re);
  bad({ std: spec.std.map((s, i) => (i === 3 ? 0 : s)) }, /std\[3\]/);
  bad({ mean: [1] }, /mean\/std/);
  bad({ layers: [{ weights: [[1]], bias: [0] }] }, new RegExp(`layer 0 needs ${NUM_FEATURES} weight rows`));
  bad({ layers: [{ weights: FEATURE_NAMES.map(() => [1, 2]), bias: [0, 0] }] }, /last layer must have 1 output/);
  bad({ version: '../evil' }, /bad version/);
});

for (const [kind, hidden] of [
  ['linear', []],
  ['2-layer MLP', [16]],
  ['3-layer MLP', [8, 4]],
] as const) {
  test(`scores equal the JS reference: ${kind} model, batches of 1, 8 and 100`, async () => {
    const spec = randomSpec(`test-${hidden.length}`, [...hidden], 7 + hidden.length);
    const ranker = await Ranker.load(saveModel(spec), { device: 'cpu' });
    try {
      assert.equal(ranker.version, spec.version);
      assert.deepEqual(ranker.featureNames, [...FEATURE_NAMES]);
      for (const n of [1, 8, 100]) {
        const x = randomFeatures(n, n);
        assertClose(await ranker.score(x, n), reference(spec, x, n), `${kind} n=${n}`);
      }
    } finally {
      await ranker.dispose();
    }
  });
}

test('built-in model scores real featurized candidates as its linear weights say', async () => {
  const ranker = await Ranker.load(saveModel(BUILTIN_SPEC), { device: 'cpu' });
  try {
    const prefix = 'def inc(x: int) -> int:\n    """Add one."""\n';
    const texts = ['    return x + 1\n', '    pass\n', '    return (x + 1\n'];
    const x = featurize(texts.map((text, i) => ({ text, votes: 3 - i, totalSamples: 6, prefix, suffix: '', languageId: 'python' })));
    const scores = await ranker.score(x, texts.length);
    assertClose(scores, reference(BUILTIN_SPEC, x, texts.length), 'builtin');
    assert.ok((scores[0] as number) > (scores[1] as number) && (scores[0] as number) > (scores[2] as number));
    assert.equal((await ranker.score(new Float32Array(0), 0)).length, 0);
    await assert.rejects(ranker.score(new Float32Array(5), 1), new RegExp(`expected 1 × ${NUM_FEATURES} features`));
  } finally {
    await ranker.dispose();
  }
});

test('EP choice table (pure; no GPU here)', () => {
  const table: [DevicePreference, boolean, boolean, EpChoice['device'], RegExp][] = [
    ['cpu', false, false, 'cpu', /^CPU: selected in settings/],
    ['cpu', false, true, 'cpu', /^CPU: selected in settings/],
    ['cpu', true, false, 'cpu', /^CPU: selected in settings/],
    ['cpu', true, true, 'cpu', /^CPU: selected in settings/],
    ['auto', false, false, 'cpu', /^CPU: CUDA provider not installed \(see README 'Using a GPU'\)$/],
    ['auto', false, true, 'cpu', /^CPU: CUDA provider not installed/],
    ['auto', true, false, 'cpu', /^CPU: no NVIDIA GPU found$/],
    ['auto', true, true, 'cuda', /^CUDA: NVIDIA H100 via onnxruntime CUDA provider$/],
    ['cuda', false, false, 'cpu', /^CPU: CUDA requested but CUDA provider not installed/],
    ['cuda', false, true, 'cpu', /^CPU: CUDA requested but CUDA provider not installed/],
    ['cuda', true, false, 'cuda', /^CUDA: requested in settings \(no NVIDIA GPU detected\)/],
    ['cuda', true, true, 'cuda', /^CUDA: NVIDIA H100 via onnxruntime CUDA provider$/],
  ];
  for (const [preference, cudaProviderAvailable, gpuPresent, device, reason] of table) {
    const c = chooseExecutionProvider({ preference, cudaProviderAvailable, gpuPresent, gpuName: 'NVIDIA H100' });
    const what = `${preference} provider=${cudaProviderAvailable} gpu=${gpuPresent}`;
    assert.equal(c.device, device, what);
    assert.match(c.reason, reason, what);
    assert.deepEqual(c.providers, device === 'cuda' ? ['cuda', 'cpu'] : ['cpu'], what);
  }
  assert.match(chooseExecutionProvider({ preference: 'auto', cudaProviderAvailable: true, gpuPresent: true }).reason, /^CUDA: NVIDIA GPU via/);
});

test('a failed CUDA session falls back to CPU and says why', async (t) => {
  if (detectCudaProvider()) {
    t.skip('the CUDA provider is installed here; the fallback path needs a machine without it');
    return;
  }
  const choice = chooseExecutionProvider({ preference: 'cuda', cudaProviderAvailable: true, gpuPresent: true, gpuName: 'pretend GPU' });
  const { session, device, reason } = await createRankerSession(buildRankerModel(BUILTIN_SPEC), choice);
  try {
    assert.equal(device, 'cpu');
    assert.match(reason, /^CPU: CUDA session failed: \S/);
    assert.doesNotMatch(reason, /\u001b|\n/, 'one clean line');
  } finally {
    await session.release();
  }
});

test('auto and forced cuda never fail: CPU with the reason when CUDA is unavailable', async (t) => {
  if (detectCudaProvider()) {
    t.skip('the CUDA provider is installed here');
    return;
  }
  const file = saveModel(BUILTIN_SPEC);
  for (const device of ['auto', 'cuda', 'cpu'] as const) {
    const ranker = await Ranker.load(file, { device });
    try {
      assert.equal(ranker.device, 'cpu');
      assert.match(ranker.deviceReason, device === 'cpu' ? /^CPU: selected in settings/ : /CUDA provider not installed/);
    } finally {
      await ranker.dispose();
    }
  }
});

test('a model trained on other features is rejected with a clear message', async () => {
  const spec = randomSpec('other-features', [], 3);
  spec.featureNames = spec.featureNames.map((n, i) => (i === 4 ? 'is_python' : n));
  const file = saveModel(spec);
  await assert.rejects(Ranker.load(file, { device: 'cpu' }), (e: unknown) => {
    assert.ok(e instanceof RankerLoadError);
    assert.equal(e.problem, 'features');
    assert.ok(e.message.includes(file), e.message);
    assert.match(e.message, /trained on other features.*#4: model "is_python", engine "has_logprob"/);
    return true;
  });
  const fewer: RankerSpec = { ...BUILTIN_SPEC, version: 'fewer', featureNames: ['a', 'b'], mean: [0, 0], std: [1, 1], layers: [{ weights: [[1], [1]], bias: [0] }] };
  await assert.rejects(Ranker.load(saveModel(fewer), { device: 'cpu' }), new RegExp(`the model has 2 features, the engine ${NUM_FEATURES}`));
});

test('registry: builtin, versions, atomic active.json', () => {
  const data = tmp();
  const reg = new RankerRegistry(data);
  assert.equal(reg.activeVersion(), undefined);
  assert.deepEqual(reg.list(), []);
  reg.ensureBuiltin();
  assert.equal(reg.activeVersion(), BUILTIN_VERSION);
  // active.json says which version, since when and why.
  const pointer = JSON.parse(fs.readFileSync(path.join(reg.dir, 'active.json'), 'utf8')) as { version: string; since: number; reason: string };
  assert.deepEqual(Object.keys(pointer).sort(), ['reason', 'since', 'version']);
  assert.equal(pointer.version, BUILTIN_VERSION);
  assert.ok(pointer.since > 0);
  assert.match(pointer.reason, /built-in/);
  assert.deepEqual(fs.readFileSync(reg.pathOf(BUILTIN_VERSION)), Buffer.from(buildRankerModel(BUILTIN_SPEC)));

  // Trained versions are added, listed oldest first, and activated explicitly.
  const v2 = buildRankerModel(randomSpec('trained-2', [4], 2));
  reg.add('trained-2', v2);
  const t = new Date(Date.now() + 5_000);
  fs.utimesSync(reg.pathOf('trained-2'), t, t);
  assert.deepEqual(reg.list(), [BUILTIN_VERSION, 'trained-2']);
  assert.equal(reg.activeVersion(), BUILTIN_VERSION, 'add does not activate');
  assert.throws(() => reg.add('trained-2', v2), /already exists/);
  assert.throws(() => reg.pathOf('../../etc/passwd'), /invalid ranker version/);
  assert.throws(() => reg.setActive('nope'), /no ranker version "nope"/);

  // Atomic pointer: many switches leave one valid file and no temporaries behind.
  for (let i = 0; i < 50; i++) {
    reg.setActive(i % 2 ? BUILTIN_VERSION : 'trained-2');
    assert.equal(reg.activeVersion(), i % 2 ? BUILTIN_VERSION : 'trained-2');
  }
  assert.deepEqual(fs.readdirSync(reg.dir).sort(), ['active.json', `${BUILTIN_VERSION}.onnx`, 'trained-2.onnx']);
  // A temporary left by a crash mid-write is ignored.
  fs.writeFileSync(path.join(reg.dir, 'active.json.tmp-123-abc'), '{"vers');
  fs.writeFileSync(path.join(reg.dir, 'x.onnx.tmp-123-abc'), 'partial');
  assert.equal(reg.activeVersion(), BUILTIN_VERSION);
  assert.deepEqual(reg.list(), [BUILTIN_VERSION, 'trained-2']);

  // ensureBuiltin repairs a damaged built-in file and keeps the active choice.
  reg.setActive('trained-2');
  fs.writeFileSync(reg.pathOf(BUILTIN_VERSION), 'damaged');
  reg.ensureBuiltin();
  assert.deepEqual(fs.readFileSync(reg.pathOf(BUILTIN_VERSION)), Buffer.from(buildRankerModel(BUILTIN_SPEC)));
  assert.equal(reg.activeVersion(), 'trained-2');

  // An unusable active.json reads as "nothing active", with the reason.
  fs.writeFileSync(path.join(reg.dir, 'active.json'), 'not json');
  assert.equal(reg.activeVersion(), undefined);
  assert.match(reg.readActive().problem ?? '', /active\.json is not JSON/);
  reg.ensureBuiltin();
  assert.equal(reg.activeVersion(), BUILTIN_VERSION);
});

type Logged = { level: string; msg: string }[];
const collect = (logged: Logged) => (level: 'info' | 'warn' | 'error', msg: string) => logged.push({ level, msg });

test('loadActiveRanker: fresh folder gets the built-in; a valid trained version loads', async () => {
  const data = tmp();
  const logged: Logged = [];
  const r1 = await loadActiveRanker(data, 'cpu', collect(logged));
  assert.equal(r1.version, BUILTIN_VERSION);
  await r1.dispose();
  assert.deepEqual(logged, []);

  const reg = new RankerRegistry(data);
  const spec = randomSpec('trained-1', [8], 11);
  reg.add('trained-1', buildRankerModel(spec));
  reg.setActive('trained-1');
  const r2 = await loadActiveRanker(data, 'cpu', collect(logged));
  try {
    assert.equal(r2.version, 'trained-1');
    const x = randomFeatures(8, 5);
    assertClose(await r2.score(x, 8), reference(spec, x, 8), 'trained-1');
  } finally {
    await r2.dispose();
  }
  assert.deepEqual(logged, []);
});

test('loadActiveRanker: a corrupt active model is moved aside and the built-in is loaded', async () => {
  const data = tmp();
  const reg = new RankerRegistry(data);
  reg.ensureBuiltin();
  reg.add('broken', Uint8Array.from({ length: 256 }, (_, i) => (i * 37 + 11) & 0xff));
  reg.setActive('broken');
  const logged: Logged = [];
  const ranker = await loadActiveRanker(data, 'cpu', collect(logged));
  try {
    assert.equal(ranker.version, BUILTIN_VERSION);
    assert.equal(reg.activeVersion(), BUILTIN_VERSION);
    assert.equal(fs.existsSync(reg.pathOf('broken')), false);
    const aside = fs.readdirSync(reg.dir).filter((n) => n.startsWith('broken.onnx.corrupt-'));
    assert.equal(aside.length, 1);
    assert.equal(logged.length, 1);
    assert.equal(logged[0]?.level, 'error');
    assert.ok(logged[0]?.msg.includes(reg.pathOf('broken')), logged[0]?.msg);
    assert.ok(logged[0]?.msg.includes(`moved aside to ${path.join(reg.dir, aside[0] as string)}`), logged[0]?.msg);
    assert.match(logged[0]?.msg ?? '', /falling back to the built-in ranker builtin-4/);
    assert.deepEqual(reg.list(), [BUILTIN_VERSION]);
  } finally {
    await ranker.dispose();
  }

  // A file with valid metadata but a broken graph is caught by onnxruntime and set aside too.
  const good = buildRankerModel(BUILTIN_SPEC);
  const truncated = Buffer.concat([Buffer.from(good.subarray(0, 40)), Buffer.from(good.subarray(good.length - 200))]);
  reg.add('truncated', truncated);
  reg.setActive('truncated');
  const logged2: Logged = [];
  const r2 = await loadActiveRanker(data, 'cpu', collect(logged2));
  await r2.dispose();
  assert.equal(r2.version, BUILTIN_VERSION);
  assert.equal(fs.existsSync(reg.pathOf('truncated')), false);
  assert.match(logged2[0]?.msg ?? '', /truncated\.onnx/);
});

test('loadActiveRanker: missing file, incompatible features, unreadable active.json', async () => {
  const data = tmp();
  const reg = new RankerRegistry(data);
  reg.ensureBuiltin();
  // Missing: active.json points at a version whose file is gone.
  reg.add('gone', buildRankerModel(randomSpec('gone', [], 1)));
  reg.setActive('gone');
  fs.rmSync(reg.pathOf('gone'));
  let logged: Logged = [];
  let r = await loadActiveRanker(data, 'cpu', collect(logged));
  await r.dispose();
  assert.equal(r.version, BUILTIN_VERSION);
  assert.match(logged[0]?.msg ?? '', /gone\.onnx: file not found; falling back/);

  // Incompatible: kept on disk (it is a valid model of another feature set), deactivated.
  const spec = randomSpec('old-features', [], 2);
  spec.featureNames = [...spec.featureNames.slice(0, -1), 'removed_feature'];
  reg.add('old-features', buildRankerModel(spec));
  reg.setActive('old-features');
  logged = [];
  r = await loadActiveRanker(data, 'cpu', collect(logged));
  await r.dispose();
  assert.equal(r.version, BUILTIN_VERSION);
  assert.equal(reg.activeVersion(), BUILTIN_VERSION);
  assert.ok(fs.existsSync(reg.pathOf('old-features')));
  assert.match(logged[0]?.msg ?? '', /old-features\.onnx was trained on other features/);

  // Unreadable pointer.
  fs.writeFileSync(path.join(reg.dir, 'active.json'), '{"version": 42}');
  logged = [];
  r = await loadActiveRanker(data, 'cpu', collect(logged));
  await r.dispose();
  assert.equal(r.version, BUILTIN_VERSION);
  assert.match(logged[0]?.msg ?? '', /active\.json has no valid "version"; using the built-in ranker/);
  assert.equal(reg.activeVersion(), BUILTIN_VERSION);
});

test('loadActiveRanker: after a feature set upgrade (fs-2 → fs-4), an active learned version of fs-2 is kept on disk and the built-in serves, with the reason', async () => {
  const data = tmp();
  const reg = new RankerRegistry(data);
  reg.ensureBuiltin();
  const names = [...(FEATURE_SETS['fs-2'] ?? [])];
  const r = mulberry32(5);
  const spec: RankerSpec = {
    version: 'v3',
    featureNames: names,
    mean: names.map(() => 0),
    std: names.map(() => 1),
    layers: [{ weights: names.map(() => [r() - 0.5]), bias: [0], activation: 'none' }],
    metadata: { 'winnow.featureSet': 'fs-2', 'winnow.family': 'linear' },
  };
  reg.add('v3', buildRankerModel(spec));
  reg.setActive('v3', 'promoted');
  const logged: Logged = [];
  const ranker = await loadActiveRanker(data, 'cpu', collect(logged));
  try {
    assert.equal(ranker.version, 'builtin-4');
    assert.equal(reg.activeVersion(), 'builtin-4');
    assert.ok(fs.existsSync(reg.pathOf('v3')), 'the old version stays, for the record and a later roll back');
    assert.match(logged[0]?.msg ?? '', /v3\.onnx was trained on feature set fs-2; this engine computes fs-4; falling back to the built-in ranker builtin-4/);
    assert.match(reg.readActive().reason ?? '', /fell back to the built-in ranker: .*fs-2/);
  } finally {
    await ranker.dispose();
  }
});

test('loadActiveRanker: an older built-in ranker left active by an earlier engine is replaced quietly', async () => {
  const data = tmp();
  const reg = new RankerRegistry(data);
  reg.ensureBuiltin();
  const old: RankerSpec = { ...BUILTIN_SPEC, version: 'builtin-1', featureNames: ['a', 'b'], mean: [0, 0], std: [1, 1], layers: [{ weights: [[1], [1]], bias: [0] }] };
  reg.add('builtin-1', buildRankerModel(old));
  reg.setActive('builtin-1');
  const logged: Logged = [];
  const ranker = await loadActiveRanker(data, 'cpu', collect(logged));
  try {
    assert.equal(ranker.version, BUILTIN_VERSION);
    assert.equal(reg.activeVersion(), BUILTIN_VERSION);
    assert.deepEqual(logged.map((l) => l.level), ['info']);
    assert.match(logged[0]?.msg ?? '', /built-in ranker builtin-1 replaced by builtin-4/);
  } finally {
    await ranker.dispose();
  }
});

test('registry: versions with metadata, v1, v2, ... never reused; prune keeps the active one and its parent', () => {
  const dir = tmp();
  const reg = new RankerRegistry(dir);
  reg.ensureBuiltin();
  const bytes = buildRankerModel(BUILTIN_SPEC);
  const add = (parent: string) => {
    const version = reg.nextVersion();
    reg.addVersion({ version, builtin: false, parent, featureSet: 'fs-4', family: 'linear', createdAt: Date.now(), decision: { promoted: false, reason: 'test' } }, bytes);
    return version;
  };
  assert.equal(add('builtin-4'), 'v1');
  assert.equal(add('v1'), 'v2');
  assert.equal(add('v2'), 'v3');
  assert.equal(add('v3'), 'v4');
  assert.equal(add('v4'), 'v5');
  reg.setActive('v2', 'test');
  assert.equal(reg.readActive().reason, 'test');
  assert.ok((reg.readActive().since ?? 0) > 0);
  // Keep 2 trained versions: the oldest go, but never v2 (active) nor v1 (its parent).
  const removed = reg.prune(2);
  assert.deepEqual(removed, ['v3', 'v4', 'v5'].slice(0, removed.length));
  const left = reg.list();
  assert.ok(left.includes('v1') && left.includes('v2') && left.includes('builtin-4'), left.join(','));
  assert.equal(left.filter((v) => v.startsWith('v')).length, 2);
  assert.equal(fs.existsSync(reg.metaPath('v3')), false);
  // Names are never reused after pruning.
  assert.equal(reg.nextVersion(), 'v6');
  const info = reg.listInfo();
  assert.equal(info.find((v) => v.version === 'v2')?.active, true);
  assert.equal(info.find((v) => v.version === 'builtin-4')?.builtin, true);
  assert.equal(info.find((v) => v.version === 'v1')?.decision?.reason, 'test');
});

test('hot swap: retire() releases the session only after the scorings in flight end', async () => {
  const dir = tmp();
  const file = path.join(dir, 'm.onnx');
  fs.writeFileSync(file, buildRankerModel(BUILTIN_SPEC));
  const r = await Ranker.load(file, { device: 'cpu' });
  const rows = featurize(Array.from({ length: 100 }, (_, i) => ({ text: `return ${i}`, votes: 1, totalSamples: 100, prefix: 'def f():\n    ', suffix: '', languageId: 'python' })));
  const inFlight = Array.from({ length: 20 }, () => r.score(rows, 100));
  assert.ok(r.busy > 0);
  let released = false;
  const retired = r.retire().then(() => (released = true));
  const scores = await Promise.all(inFlight);
  for (const s of scores) assert.equal(s.length, 100);
  await retired;
  assert.equal(released, true);
  await assert.rejects(r.score(rows, 100), /was released/);
});

test('a trained model scores the same in onnxruntime as in the trainer (what is trained is what runs)', async () => {
  const { trainPairs, scoreRows, toRankerSpec, DEFAULT_HYPER } = await import('../../engine/src/training/model');
  const rand = mulberry32(5);
  const n = 600;
  const rows = new Float32Array(n * 2 * NUM_FEATURES).map(() => rand() * 3);
  const chosen = rows.subarray(0, n * NUM_FEATURES);
  const rejected = rows.subarray(n * NUM_FEATURES);
  const data = { dim: NUM_FEATURES, n, chosen, rejected, weight: new Float32Array(n).fill(1) };
  for (const family of ['linear', 'mlp'] as const) {
    const res = trainPairs(data, undefined, { ...DEFAULT_HYPER, family, hidden: 16, maxEpochs: 3 });
    const file = path.join(tmp(), `${family}.onnx`);
    fs.writeFileSync(file, buildRankerModel(toRankerSpec(res.model, `t-${family}`, FEATURE_NAMES, { 'winnow.featureSet': 'fs-4' })));
    const r = await Ranker.load(file, { device: 'cpu' });
    const onnx = await r.score(chosen.slice(0, 100 * NUM_FEATURES), 100);
    const js = scoreRows(res.model, chosen.slice(0, 100 * NUM_FEATURES), 100);
    for (let i = 0; i < 100; i++) assert.ok(Math.abs((onnx[i] as number) - (js[i] as number)) < 1e-3 * Math.max(1, Math.abs(js[i] as number)), `${family} row ${i}: onnx ${onnx[i]} js ${js[i]}`);
    assert.equal(r.metadata['winnow.family'], family);
    await r.dispose();
  }
});
