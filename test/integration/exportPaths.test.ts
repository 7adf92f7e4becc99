/**
 * `export --out` to a path whose folder cannot be made (issue 10: `/proc/nope/x.jsonl` hung the
 * shared engine for good: Node's recursive mkdir loops there). Real engine process and CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { mkdirp } from '../../engine/src/fsutil';
import { ENGINE_SCRIPT, startEngine, tempDir } from '../helpers';

test('mkdirp: makes the missing folders, refuses a file in the way, and returns on /proc', () => {
  const dir = tempDir('winnow-mkdirp-');
  try {
    mkdirp(path.join(dir, 'a', 'b', 'c'), 0o700);
    assert.ok(fs.statSync(path.join(dir, 'a', 'b', 'c')).isDirectory());
    mkdirp(path.join(dir, 'a', 'b', 'c')); // already there
    fs.writeFileSync(path.join(dir, 'f'), '');
    assert.throws(() => mkdirp(path.join(dir, 'f', 'x')), /cannot create the folder .*f\/x: (?:ENOTDIR|.*is not a folder)/);
    if (process.platform === 'linux') assert.throws(() => mkdirp('/proc/nope/deeper'), /cannot create the folder \/proc\/nope/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('export to /proc/nope/x.jsonl: a clear error, and the engine keeps answering', { skip: process.platform !== 'linux' && '/proc is Linux' }, async () => {
  const dir = tempDir('winnow-export-');
  const engine = await startEngine(path.join(dir, 'data'));
  try {
    await assert.rejects(engine.client.request('export', { out: '/proc/nope/x.jsonl' }, 10_000), /cannot create the folder \/proc\/nope/);
    await engine.client.request('ping', {}, 2000);
    const st = await engine.client.request('status', {}, 5000);
    assert.equal(st.pid, engine.child.pid);
    const cli = spawnSync(process.execPath, [ENGINE_SCRIPT, 'export', '--out', '/proc/nope/y.jsonl', '--data-dir', path.join(dir, 'data')], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(cli.error, undefined, 'the CLI returned');
    assert.notEqual(cli.status, 0);
    assert.match(cli.stderr, /cannot create the folder \/proc\/nope/);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('export to a folder: a clear error, and no temp file left behind', async () => {
  const dir = tempDir('winnow-export-');
  const engine = await startEngine(path.join(dir, 'data'));
  try {
    const target = path.join(dir, 'out');
    fs.mkdirSync(target);
    await assert.rejects(engine.client.request('export', { out: target }, 10_000), /cannot export to .*out: it is a folder; give a file name/);
    assert.deepEqual(fs.readdirSync(dir).filter((n) => n.includes('.tmp')), []);
    assert.deepEqual(fs.readdirSync(target), []);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('triplets and export run in a worker thread with a time limit: past it the job is stopped and says so', async () => {
  const { runDatasetJob } = await import('../../engine/src/datasetThread');
  const { Store } = await import('../../engine/src/store');
  const dir = tempDir('winnow-export-');
  try {
    const db = path.join(dir, 'winnow.db');
    Store.open(db, () => undefined).close();
    const ok = await runDatasetJob<{ count: number }>({ kind: 'export', dbFile: db, out: path.join(dir, 'x.jsonl') });
    assert.equal(ok.count, 0);
    await assert.rejects(runDatasetJob({ kind: 'triplets', dbFile: db, limit: 10 }, 1), /triplets took longer than 1 ms and was stopped/);
    await assert.rejects(runDatasetJob({ kind: 'triplets', dbFile: path.join(dir, 'none.db'), limit: 10 }), /store .*none\.db does not exist/);
    assert.equal(fs.existsSync(path.join(dir, 'none.db')), false, 'a job never creates a store');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
