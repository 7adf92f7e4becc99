/**
 * PLUMBING tests of the reward model path on a tiny transformer with RANDOM WEIGHTS, built by
 * test/fixtures/reward-model/build.ts (the committed fixture is its `tiny/` output): the
 * folder check, tokenization with the model's tokenizer.json, batching, padding, truncation,
 * scores against a float64 reference forward pass, and the refusal of broken models. The
 * real onnxruntime-node runs every model. Random weights say nothing about quality.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FLOAT, INT64, floatTensor, int64Tensor, modelBytes, node, valueInfo } from '../../engine/src/ranker/onnx';
import { checkRewardFolder, readOnnxHeader, RewardModelError } from '../../engine/src/reward/folder';
import { RewardModel } from '../../engine/src/reward/model';
import { referenceScore, TINY_SHAPE, weightsOf, writeRewardModelFolder } from '../fixtures/reward-model/build';
import { ROOT, tempDir } from '../helpers';

const TINY = path.join(ROOT, 'test/fixtures/reward-model/tiny');
const NO_LIMIT = { maxBytes: 1e12 };
const quiet = () => undefined;

const CONTEXT = 'def has_close_elements(numbers, threshold):\n    """Check if any two numbers are closer than threshold."""\n';
const CANDIDATES = [
  '    for i in range(len(numbers)):\n        for j in range(i + 1, len(numbers)):\n            if abs(numbers[i] - numbers[j]) < threshold:\n                return True\n    return False\n',
  '    return False\n',
  '    pass\n',
];

function copyFixture(to: string): string {
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(TINY)) fs.copyFileSync(path.join(TINY, f), path.join(to, f));
  return to;
}

/** A one-node-deep model with the given inputs and output shape, for refusals. */
function writeOddModel(dir: string, o: { inputs: { name: string; type: number }[]; outWidth: number | string; outName?: string }): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(path.join(TINY, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
  const first = o.inputs[0]?.name as string;
  const width = typeof o.outWidth === 'number' ? o.outWidth : 1;
  // logits = Cast(ReduceSum(input, axis 1, keepdims)) · w[1, width]
  const bytes = modelBytes({
    name: 'odd',
    nodes: [node('ReduceSum', [first, 'axis1'], 'sum', { keepdims: { i: 1 } }), node('Cast', ['sum'], 'sumf', { to: { i: FLOAT } }), node('MatMul', ['sumf', 'w'], o.outName ?? 'logits')],
    initializers: [int64Tensor('axis1', [1], [1]), floatTensor('w', [1, width], Array.from({ length: width }, (_, i) => (i + 1) * 0.001))],
    inputs: o.inputs.map((i) => valueInfo(i.name, ['batch', 'sequence'], i.type)),
    outputs: [valueInfo(o.outName ?? 'logits', ['batch', o.outWidth])],
    producer: 'winnow-test',
  });
  fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
  return dir;
}

describe('reward model folder check (plumbing, random weights)', () => {
  let tmp: string;
  before(() => {
    tmp = tempDir('winnow-reward-');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  test('the fixture passes: model file, opset 17, size, a stable id', () => {
    const f = checkRewardFolder(TINY, NO_LIMIT);
    assert.equal(f.modelFile, 'model.onnx');
    assert.equal(f.opset, 17);
    assert.equal(f.irVersion, 8);
    assert.deepEqual(f.dataFiles, []);
    assert.equal(f.bytes, fs.statSync(path.join(TINY, 'model.onnx')).size);
    assert.match(f.id, /^tiny@[0-9a-f]{12}$/);
    assert.equal(checkRewardFolder(TINY, NO_LIMIT).id, f.id);
    assert.deepEqual(readOnnxHeader(path.join(TINY, 'model.onnx')), { irVersion: 8, opset: 17, hasGraph: true });
  });

  test('another model in the same place gets another id', () => {
    const other = path.join(tmp, 'tiny');
    writeRewardModelFolder(other, { ...TINY_SHAPE, seed: 8 });
    assert.notEqual(checkRewardFolder(other, NO_LIMIT).id, checkRewardFolder(TINY, NO_LIMIT).id);
  });

  test('external data: the data file is found and counted', () => {
    const dir = path.join(tmp, 'external');
    const built = writeRewardModelFolder(dir, TINY_SHAPE, { externalData: true });
    const f = checkRewardFolder(dir, NO_LIMIT);
    assert.deepEqual(f.dataFiles, ['model.onnx_data']);
    assert.equal(f.bytes, built.modelBytes);
  });

  const refusals: [string, (dir: string) => void, RewardModelError['problem'], RegExp][] = [
    ['a folder that does not exist', (d) => fs.rmSync(d, { recursive: true }), 'missing', /does not exist/],
    ['no .onnx file', (d) => fs.rmSync(path.join(d, 'model.onnx')), 'missing', /no \.onnx file.*optimum-cli export onnx/],
    ['no tokenizer.json', (d) => fs.rmSync(path.join(d, 'tokenizer.json')), 'missing', /no tokenizer\.json/],
    ['two .onnx files, neither model.onnx', (d) => {
      fs.renameSync(path.join(d, 'model.onnx'), path.join(d, 'a.onnx'));
      fs.copyFileSync(path.join(d, 'a.onnx'), path.join(d, 'b.onnx'));
    }, 'invalid', /2 \.onnx files \(a\.onnx, b\.onnx\)/],
    ['a model file of random bytes', (d) => fs.writeFileSync(path.join(d, 'model.onnx'), Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256))), 'invalid', /is not an ONNX model/],
    ['a truncated model file', (d) => {
      const b = fs.readFileSync(path.join(d, 'model.onnx'));
      fs.writeFileSync(path.join(d, 'model.onnx'), b.subarray(0, b.length >> 1));
    }, 'invalid', /runs past the end of the file \(truncated\?\)/],
    ['an empty model file', (d) => fs.writeFileSync(path.join(d, 'model.onnx'), ''), 'invalid', /the file is empty/],
    ['a tokenizer.json that is not JSON', (d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), '{"model": '), 'invalid', /tokenizer\.json .* is not valid JSON/],
    ['a tokenizer.json without a model', (d) => fs.writeFileSync(path.join(d, 'tokenizer.json'), '{"version": "1.0"}'), 'invalid', /is not a Hugging Face tokenizer/],
  ];
  for (const [what, spoil, problem, message] of refusals) {
    test(`refused with a clear message: ${what}`, () => {
      const dir = copyFixture(path.join(tmp, what.replace(/\W+/g, '-')));
      spoil(dir);
      assert.throws(() => checkRewardFolder(dir, NO_LIMIT), (e: unknown) => e instanceof RewardModelError && e.problem === problem && message.test(e.message));
    });
  }

  test('a model bigger than the device can hold is refused before loading (oversized)', () => {
    assert.throws(
      () => checkRewardFolder(TINY, { maxBytes: 1000, limitWhy: "90% of the GPU's memory" }),
      (e: unknown) => e instanceof RewardModelError && e.problem === 'oversized' && /is 0\.0 GB, more than 90% of the GPU's memory \(0\.0 GB\): use a smaller model/.test(e.message),
    );
  });

  test('a setting naming a file, not a folder', () => {
    assert.throws(() => checkRewardFolder(path.join(TINY, 'model.onnx'), NO_LIMIT), /must name a folder/);
  });
});

describe('reward model scoring (plumbing, random weights)', () => {
  let model: RewardModel;
  const w = weightsOf(TINY_SHAPE);
  before(async () => {
    model = await RewardModel.load(checkRewardFolder(TINY, NO_LIMIT), { device: 'cpu', maxTokens: 4096, log: quiet });
  });
  after(() => model.dispose());

  test('loads on CPU with the choice visible; fp32; max tokens capped by the model', () => {
    assert.equal(model.info.device, 'cpu');
    assert.match(model.info.deviceReason, /^CPU: selected in settings/);
    assert.equal(model.info.precision, 'fp32');
    assert.equal(model.info.maxTokens, 1024); // max_position_embeddings
    assert.equal(model.info.name, 'tiny');
  });

  test("tokenization: the tokenizer's special tokens around context + candidate; pad id from config.json", () => {
    const t = model.tokenizer;
    assert.deepEqual(t.lead, [1]);
    assert.deepEqual(t.trail, [2]);
    assert.equal(t.padId, 0);
    const [seq] = model.encode('def f(x):\n', ['    return x\n']);
    assert.deepEqual(seq, [1, ...t.encodeText('def f(x):\n'), ...t.encodeText('    return x\n'), 2]);
  });

  test('truncation: the context loses tokens from its left, a long candidate from its right', () => {
    const t = model.tokenizer;
    const ctx = Array.from({ length: 50 }, (_, i) => 100 + i);
    const cand = [7, 8, 9];
    const p = t.pair(ctx, cand, 20);
    assert.equal(p.ids.length, 20);
    assert.deepEqual(p.ids, [1, ...ctx.slice(50 - 15), 7, 8, 9, 2]);
    assert.equal(p.truncatedContext, 35);
    const long = t.pair([5], Array.from({ length: 40 }, (_, i) => 200 + i), 10);
    assert.deepEqual(long.ids, [1, 200, 201, 202, 203, 204, 205, 206, 207, 2]);
    assert.equal(long.truncatedCandidate, 32);
  });

  test('one batched run, padded on the right, gives the scores of the reference forward pass', async () => {
    const seqs = model.encode(CONTEXT, CANDIDATES);
    assert.ok(new Set(seqs.map((s) => s.length)).size > 1, 'the sequences differ in length, so the batch is padded');
    const scores = await model.score(CONTEXT, CANDIDATES);
    assert.equal(scores.length, 3);
    seqs.forEach((s, i) => {
      const ref = referenceScore(w, s);
      assert.ok(Math.abs((scores[i] as number) - ref) < 1e-4 * Math.max(1, Math.abs(ref)), `candidate ${i}: onnxruntime ${scores[i]}, reference ${ref}`);
    });
    // The same candidates one at a time: padding changes nothing.
    for (let i = 0; i < 3; i++) {
      const [one] = await model.score(CONTEXT, [CANDIDATES[i] as string]);
      assert.ok(Math.abs((one as number) - (scores[i] as number)) < 1e-5, `candidate ${i} alone ${one} vs batched ${scores[i]}`);
    }
  });

  test('a context longer than maxTokens is cut from its left, and scores as the reference on what is kept', async () => {
    const small = await RewardModel.load(checkRewardFolder(TINY, NO_LIMIT), { device: 'cpu', maxTokens: 48, log: quiet });
    try {
      const ctx = CONTEXT.repeat(20);
      const [seq] = small.encode(ctx, [CANDIDATES[1] as string]);
      assert.equal(seq?.length, 48);
      const tail = small.tokenizer.encodeText(ctx);
      const cand = small.tokenizer.encodeText(CANDIDATES[1] as string);
      assert.deepEqual(seq, [1, ...tail.slice(tail.length - (46 - cand.length)), ...cand, 2]);
      const [score] = await small.score(ctx, [CANDIDATES[1] as string]);
      assert.ok(Math.abs((score as number) - referenceScore(w, seq as number[])) < 1e-4);
    } finally {
      await small.dispose();
    }
  });

  test('batches of 8, 32 and 100 candidates score as one at a time', async () => {
    const cands = Array.from({ length: 100 }, (_, i) => `    return ${'x + '.repeat(i % 13)}${i}\n`);
    const all = await model.score(CONTEXT, cands);
    for (const n of [8, 32]) {
      const part = await model.score(CONTEXT, cands.slice(0, n));
      for (let i = 0; i < n; i++) assert.ok(Math.abs((part[i] as number) - (all[i] as number)) < 1e-4);
    }
    assert.ok(Array.from(all).every(Number.isFinite));
  });

  test('the model with external data scores as the one-file model', async () => {
    const dir = tempDir('winnow-reward-ext-');
    try {
      writeRewardModelFolder(dir, TINY_SHAPE, { externalData: true });
      const ext = await RewardModel.load(checkRewardFolder(dir, NO_LIMIT), { device: 'cpu', maxTokens: 1024, log: quiet });
      const a = await ext.score(CONTEXT, CANDIDATES);
      const b = await model.score(CONTEXT, CANDIDATES);
      await ext.dispose();
      assert.deepEqual(Array.from(a), Array.from(b));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('reward models that load but cannot serve are refused (plumbing)', () => {
  let tmp: string;
  before(() => {
    tmp = tempDir('winnow-reward-odd-');
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const load = (dir: string) => RewardModel.load(checkRewardFolder(dir, NO_LIMIT), { device: 'cpu', maxTokens: 64, log: quiet });

  test('a two-class head scores logit[1] − logit[0]; int32 inputs and token_type_ids are filled', async () => {
    const dir = writeOddModel(path.join(tmp, 'two'), { inputs: [{ name: 'input_ids', type: 6 }, { name: 'attention_mask', type: 6 }, { name: 'token_type_ids', type: 6 }], outWidth: 2 });
    const m = await load(dir);
    try {
      const seqs = m.encode('ab', ['c']);
      const [s] = await m.score('ab', ['c']);
      const sum = (seqs[0] as number[]).reduce((a, b) => a + b, 0);
      assert.ok(Math.abs((s as number) - (sum * 0.002 - sum * 0.001)) < 1e-3 * Math.max(1, sum), `${s} vs ${sum * 0.001}`);
    } finally {
      await m.dispose();
    }
  });

  test('an input Winnow cannot fill (past key values): refused, naming it', async () => {
    const dir = writeOddModel(path.join(tmp, 'past'), { inputs: [{ name: 'input_ids', type: INT64 }, { name: 'past_key_values.0.key', type: INT64 }], outWidth: 1 });
    await assert.rejects(load(dir), (e: unknown) => e instanceof RewardModelError && /input Winnow cannot fill: past_key_values\.0\.key/.test(e.message));
  });

  test('no input_ids (a ranker file, say): refused', async () => {
    const dir = writeOddModel(path.join(tmp, 'noids'), { inputs: [{ name: 'features', type: INT64 }], outWidth: 1 });
    await assert.rejects(load(dir), /has no input_ids input \(it has features\)/);
  });

  test('float input ids: refused', async () => {
    const dir = writeOddModel(path.join(tmp, 'float'), { inputs: [{ name: 'input_ids', type: FLOAT }], outWidth: 1 });
    await assert.rejects(load(dir), /input input_ids must be int64 or int32, it is float32/);
  });

  test('a [batch, 3] output: refused', async () => {
    const dir = writeOddModel(path.join(tmp, 'three'), { inputs: [{ name: 'input_ids', type: INT64 }], outWidth: 3 });
    await assert.rejects(load(dir), /must be \[batch, 1\] or \[batch, 2\] logits, it is \[batch, 3\]/);
  });

  test('a model whose graph does not run (a node fed a missing tensor): does not load', async () => {
    const dir = writeOddModel(path.join(tmp, 'broken'), { inputs: [{ name: 'input_ids', type: INT64 }], outWidth: 1 });
    const bytes = modelBytes({ name: 'broken', nodes: [node('Add', ['input_ids', 'nowhere'], 'logits')], initializers: [], inputs: [valueInfo('input_ids', ['batch', 'sequence'], INT64)], outputs: [valueInfo('logits', ['batch', 1])], producer: 'winnow-test' });
    fs.writeFileSync(path.join(dir, 'model.onnx'), bytes);
    await assert.rejects(load(dir), (e: unknown) => e instanceof RewardModelError && e.problem === 'does_not_load' && /does not load in onnxruntime/.test(e.message));
  });
});
