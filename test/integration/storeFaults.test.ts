/**
 * Faults around the store and the engine's process, as a careless or unlucky user meets them
 * (issue 10): a store damaged in its middle, a store path that is a folder, an engine that dies
 * while the CLI waits on it. Real engine processes, the real CLI, real SQLite.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { readEngineInfo } from '../../engine/src/discovery';
import { Store } from '../../engine/src/store';
import { ENGINE_SCRIPT, startEngine, tempDir, waitFor } from '../helpers';

const cli = (...args: string[]) => spawnSync(process.execPath, [ENGINE_SCRIPT, ...args], { encoding: 'utf8', timeout: 30_000 });

/** A store of a few hundred pages, then garbage written over pages in its middle. */
function damagedStore(data: string): void {
  fs.mkdirSync(data, { recursive: true });
  const file = path.join(data, 'winnow.db');
  const store = Store.open(file, () => undefined);
  store.recordEvents(Array.from({ length: 5000 }, (_, i) => ({ kind: 'shown' as const, requestId: `request-${i}`, candidateId: `request-${i}:0`, rank: 0, time: i, data: { note: 'x'.repeat(100) } })));
  store.close();
  const size = fs.statSync(file).size;
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, Buffer.alloc(16 * 4096, 0xa5), 0, 16 * 4096, Math.floor(size / 2 / 4096) * 4096);
  fs.closeSync(fd);
}

test('a store damaged in its middle: the engine moves it aside at start, says so in status, and serves with a fresh one', async () => {
  const dir = tempDir('winnow-faults-');
  const data = path.join(dir, 'data');
  damagedStore(data);
  const engine = await startEngine(data);
  try {
    const st = await engine.client.request('status', {}, 5000);
    assert.match(st.store.recovered ?? '', /was damaged and could not be opened; it was moved to .*winnow\.db\.corrupt-\d+ and a fresh store was started/);
    assert.equal(st.store.events, 0);
    assert.ok(fs.readdirSync(data).some((n) => /^winnow\.db\.corrupt-\d+$/.test(n)), 'kept, not deleted');
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI on a damaged store, or a store path that is a folder: a sentence, not a stack', () => {
  const dir = tempDir('winnow-faults-');
  try {
    const data = path.join(dir, 'data');
    damagedStore(data);
    const r = cli('events', '--limit', '5000', '--data-dir', data);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /winnow: the store is damaged \(SQLITE_CORRUPT.*\); the engine moves it aside and starts a fresh one at its next start/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
    const other = path.join(dir, 'other');
    fs.mkdirSync(path.join(other, 'winnow.db'), { recursive: true });
    const f = cli('events', '--data-dir', other);
    assert.notEqual(f.status, 0);
    assert.match(f.stderr, /winnow: the store .*winnow\.db is not a regular file \(a folder\)/);
    assert.doesNotMatch(f.stderr, /\n\s+at /, 'no stack');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine that dies while the CLI waits on it: the CLI says so at once, not after its timeout', async () => {
  const dir = tempDir('winnow-faults-');
  // A model server that never answers: the completion waits on it.
  const silent = http.createServer(() => undefined);
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const engine = await startEngine(path.join(dir, 'data'));
  try {
    const file = path.join(dir, 'a.py');
    fs.writeFileSync(file, 'def f():\n');
    const child = spawn(process.execPath, [ENGINE_SCRIPT, 'complete', '--file', file, '--line', '2', '--character', '1', '--backend', 'openai', '--url', url, '--budget-ms', '30000', '--data-dir', path.join(dir, 'data')], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', r));
    await new Promise((r) => setTimeout(r, 1500)); // the request is in the engine
    const pid = readEngineInfo(path.join(dir, 'data'))?.pid as number;
    const t0 = Date.now();
    process.kill(pid, 'SIGKILL');
    const code = await exited;
    const took = Date.now() - t0;
    assert.equal(code, 1);
    assert.match(stderr, /the engine \(pid \d+\) stopped while working on the request; see its log/);
    assert.ok(took < 5000, `the CLI gave up ${took} ms after the engine died (its timeout was 35 s)`);
  } finally {
    await engine.stop();
    await new Promise((r) => silent.close(r));
    silent.closeAllConnections?.();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the CLI on a data folder it cannot read (another user\'s): a sentence, not a stack', { skip: !(process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', 'true']).status === 0) && 'needs root and setpriv to act as another user' }, () => {
  const dir = tempDir('winnow-faults-');
  try {
    fs.chmodSync(dir, 0o755);
    const data = path.join(dir, 'data');
    fs.mkdirSync(data, { mode: 0o700 });
    Store.open(path.join(data, 'winnow.db'), () => undefined).close();
    const r = spawnSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, ENGINE_SCRIPT, 'events', '--data-dir', data], { encoding: 'utf8', timeout: 30_000, cwd: '/' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /winnow: the data folder cannot be used \((?:SQLITE_CANTOPEN|EACCES)/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
