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

test(`protocol fuzz: ${MESSAGES} hostile messages, the engine alive and answering throughout`, { timeout: 300_000, skip: process.platform !== 'linux' && 'RSS from /proc' }, async () => {
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
