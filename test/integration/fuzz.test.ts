/**
 * The protocol fuzzer at CI size (issue 10): a few thousand malformed, oversized and mistyped
 * messages against a real engine process; it stays alive, answers every ping, stays within a
 * memory bound, and logs every line escaped. Full size: `npm run fuzz` (scripts/fuzz.mjs).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fuzzEngine } from '../fuzz/protocol';
import { closedPort, startEngine, tempDir } from '../helpers';

const MESSAGES = Number(process.env.WINNOW_FUZZ_MESSAGES ?? 3000);
const TIMEOUT_MS = Number(process.env.WINNOW_FUZZ_TIMEOUT_MS ?? 300_000);

test(`protocol fuzz: ${MESSAGES} hostile messages, the engine alive and answering throughout`, { timeout: TIMEOUT_MS, skip: process.platform !== 'linux' && 'RSS from /proc' }, async () => {
  const dir = tempDir('winnow-fuzz-');
  const engine = await startEngine(path.join(dir, 'data'));
  try {
    fs.mkdirSync(path.join(dir, 'sandbox'));
    const report = await fuzzEngine({ endpoint: engine.info.endpoint, pid: engine.child.pid as number, dataDir: path.join(dir, 'data'), sandboxDir: path.join(dir, 'sandbox'), messages: MESSAGES, seed: 1, pingEvery: 250, closedPort: await closedPort() });
    console.log(`# fuzz: ${JSON.stringify(report)}`);
    assert.equal(report.alive, true);
    assert.equal(report.pingsMissed, 0);
    assert.ok(report.pingsAnswered >= Math.floor(MESSAGES / 250));
    assert.deepEqual(report.badLogLines, []);
    assert.ok(report.rssAfterMiB - report.rssBeforeMiB < 300, `RSS grew from ${report.rssBeforeMiB} to ${report.rssAfterMiB} MiB`);
    await engine.client.request('ping', {}, 5000);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('file fuzz: random and mangled bytes to every file reader, each returns or refuses with a message', { timeout: TIMEOUT_MS }, async () => {
  const { fuzzFiles } = await import('../fuzz/files');
  const { buildRankerModel } = await import('../../engine/src/ranker/onnx');
  const { BUILTIN_SPEC } = await import('../../engine/src/features');
  const { POOL, ROOT } = await import('../helpers');
  const dir = tempDir('winnow-filefuzz-');
  try {
    const ranker = path.join(dir, 'seed.onnx');
    fs.writeFileSync(ranker, buildRankerModel(BUILTIN_SPEC));
    const report = await fuzzFiles({ dir: path.join(dir, 'cases'), cases: Number(process.env.WINNOW_FUZZ_FILES ?? 400), seed: 1, seedFiles: { pool: POOL, ranker, rewardFolder: path.join(ROOT, 'test/fixtures/reward-model/tiny') } });
    console.log(`# file fuzz: ${JSON.stringify(report)}`);
    assert.deepEqual(report.failures, []);
    for (const reader of ['recorded pool', 'store', 'ranker file', 'active.json', 'reward model folder', 'settings']) assert.ok(report.byReader[reader], `${reader} was fuzzed`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('LSP fuzz: junk params to every method of the language server; it answers each and keeps completing', { timeout: TIMEOUT_MS }, async () => {
  const { fuzzLsp } = await import('../fuzz/lsp');
  const { startServer } = await import('../lspClient');
  const { POOL } = await import('../helpers');
  const dir = tempDir('winnow-lspfuzz-');
  const doc = `file://${path.join(dir, 'he.py')}`;
  const prompt = (JSON.parse(fs.readFileSync(POOL, 'utf8').split('\n', 1)[0] as string) as { generation_prompt: string }).generation_prompt;
  const settings = { generator: { backend: 'recorded', recordedPool: POOL }, candidates: 4, latencyBudgetMs: 3000, debounceMs: 0, execution: { enabled: 'off' } };
  const server = await startServer(path.join(dir, 'data'), settings);
  try {
    fs.mkdirSync(path.join(dir, 'sandbox'));
    await server.waitForStatus('ready', (s) => s.state === 'ready');
    await server.open(doc, 'python', prompt);
    const report = await fuzzLsp(server, { messages: Number(process.env.WINNOW_FUZZ_LSP ?? 1500), seed: 1, sandboxDir: path.join(dir, 'sandbox'), docUri: doc });
    console.log(`# lsp fuzz: ${JSON.stringify(report)}`);
    if (report.unanswered > 0) console.log(`# server log tail: ${JSON.stringify(server.logs.slice(-15))}`);
    assert.equal(report.unanswered, 0);
    assert.equal(server.child.exitCode, null, 'the server is alive');
    await server.open(doc, 'python', prompt);
    const lines = prompt.split('\n');
    const items = await server.complete(doc, lines.length - 1, 0);
    assert.ok(items.length > 0, 'completions still come');
  } finally {
    await server.close();
    // The engine outlives its windows (it is shared): stop it, as the last window's user would.
    const { readEngineInfo } = await import('../../engine/src/discovery');
    const info = readEngineInfo(path.join(dir, 'data'));
    if (info) {
      try {
        process.kill(info.pid, 'SIGTERM');
      } catch {
        /* gone */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
