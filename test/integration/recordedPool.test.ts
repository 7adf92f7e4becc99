/**
 * The recorded backend's pool reader (issue 10): a FIFO (or any non-regular file) given as the
 * pool froze the engine in a synchronous read; the pool cache grew with every spelling of a
 * path. Real engine process for the first; the cache in process.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cachedPoolCount, loadPool } from '../../engine/src/generators/recorded';
import { POOL, startEngine, tempDir } from '../helpers';

test('a FIFO, a folder or a device as the pool is refused at once with a clear problem; the engine keeps answering', { skip: process.platform === 'win32' && 'no mkfifo' }, async () => {
  const dir = tempDir('winnow-fifo-');
  const fifo = path.join(dir, 'pool.jsonl');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const engine = await startEngine(path.join(dir, 'data'));
  try {
    for (const pool of [fifo, dir, '/dev/zero']) {
      const r = await engine.client.request('complete', { prefix: 'def f():\n', suffix: '', languageId: 'python', filePath: '/w/f.py', n: 2, budgetMs: 3000, generator: { backend: 'recorded', recordedPool: pool } }, 5000);
      assert.equal(r.candidates.length, 0);
      assert.equal(r.problem?.code, 'config');
      assert.match(r.problem?.message ?? '', /is not a regular file/);
      await engine.client.request('ping', {}, 2000);
    }
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the pool cache is keyed by real path and bounded', () => {
  const dir = tempDir('winnow-pools-');
  try {
    const base = cachedPoolCount();
    const copy = path.join(dir, 'a', 'pool.jsonl');
    fs.mkdirSync(path.dirname(copy));
    fs.writeFileSync(copy, fs.readFileSync(POOL, 'utf8').split('\n').slice(0, 3).join('\n'));
    // 40 spellings of one file: one pool in memory.
    for (let i = 0; i < 40; i++) loadPool(path.join(dir, 'a', ...Array.from({ length: i % 5 }, () => '.'), '..', 'a', 'pool.jsonl'));
    fs.symlinkSync(copy, path.join(dir, 'link.jsonl'));
    loadPool(path.join(dir, 'link.jsonl'));
    assert.equal(cachedPoolCount(), Math.min(4, base + 1));
    // Six different pools: at most four kept.
    for (let i = 0; i < 6; i++) {
      const f = path.join(dir, `p${i}.jsonl`);
      fs.copyFileSync(copy, f);
      assert.ok(loadPool(f).length > 0);
    }
    assert.equal(cachedPoolCount(), 4);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
