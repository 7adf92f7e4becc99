/**
 * One engine per user and data folder: concurrent starters share one engine; a second
 * `serve` refuses politely; a stale lock, info file and socket from a crashed engine are
 * recovered. Real processes, real ZeroMQ.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { EngineClient } from '../../engine/src/client';
import { isAlive, paths, readEngineInfo } from '../../engine/src/discovery';
import { ensureEngine, EXIT_ALREADY_RUNNING } from '../../engine/src/launcher';
import { ENGINE_SCRIPT, tempDir, waitFor } from '../helpers';

async function shutdown(dataDir: string): Promise<void> {
  const info = readEngineInfo(dataDir);
  if (!info) return;
  const c = new EngineClient(info.endpoint);
  await c.request('shutdown', {}, 5000).catch(() => undefined);
  c.close();
  await waitFor('engine exit', () => !isAlive(info.pid));
}

const launch = (dataDir: string) => ensureEngine({ dataDir, nodePath: process.execPath, engineScript: ENGINE_SCRIPT, serveArgs: ['--device', 'cpu'] });

test('concurrent starters end up on one engine', async () => {
  const dir = tempDir();
  try {
    const infos = await Promise.all([launch(dir), launch(dir), launch(dir)]);
    assert.equal(new Set(infos.map((i) => i.pid)).size, 1);
    const again = await launch(dir);
    assert.equal(again.pid, infos[0]?.pid, 'a later starter finds the running engine');
  } finally {
    await shutdown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a second serve on the same data folder exits with code 3 and a clear message', async () => {
  const dir = tempDir();
  try {
    const info = await launch(dir);
    const second = spawnSync(process.execPath, [ENGINE_SCRIPT, 'serve', '--data-dir', dir], { encoding: 'utf8', timeout: 15_000 });
    assert.equal(second.status, EXIT_ALREADY_RUNNING);
    assert.match(second.stderr, new RegExp(`another engine \\(pid ${info.pid}\\) already serves this data folder`));
    assert.equal(readEngineInfo(dir)?.pid, info.pid, 'the running engine keeps its info file');
  } finally {
    await shutdown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('stale lock, info and socket left by a SIGKILLed engine are recovered', async () => {
  const dir = tempDir();
  try {
    const first = await launch(dir);
    process.kill(first.pid, 'SIGKILL');
    await waitFor('killed engine gone', () => !isAlive(first.pid));
    assert.ok(fs.existsSync(paths(dir).lock), 'lock left behind');
    assert.ok(fs.existsSync(paths(dir).info), 'info left behind');
    const second = await launch(dir);
    assert.notEqual(second.pid, first.pid);
    assert.equal(fs.readFileSync(paths(dir).lock, 'utf8'), String(second.pid));
    const c = new EngineClient(second.endpoint);
    assert.equal((await c.request('ping', {}, 5000)).pid, second.pid);
    c.close();
  } finally {
    await shutdown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a lock naming a live process that is not an engine is treated as stale', async () => {
  const dir = tempDir();
  const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(paths(dir).lock, String(sleeper.pid));
    const info = await launch(dir);
    assert.notEqual(info.pid, sleeper.pid);
  } finally {
    sleeper.kill();
    await shutdown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('status and stop from the CLI; status without an engine says so', async () => {
  const dir = tempDir();
  try {
    const none = spawnSync(process.execPath, [ENGINE_SCRIPT, 'status', '--json', '--data-dir', dir], { encoding: 'utf8' });
    assert.equal(none.status, 3);
    assert.equal((JSON.parse(none.stdout) as { running: boolean }).running, false);
    const info = await launch(dir);
    const st = spawnSync(process.execPath, [ENGINE_SCRIPT, 'status', '--json', '--data-dir', dir], { encoding: 'utf8' });
    assert.equal(st.status, 0, st.stderr);
    const s = JSON.parse(st.stdout) as { running: boolean; pid: number; protocolVersion: number; device: string; rankerVersion: string };
    assert.deepEqual([s.running, s.pid, s.protocolVersion, s.device], [true, info.pid, 1, 'cpu']);
    assert.equal(typeof s.rankerVersion, 'string');
    const stop = spawnSync(process.execPath, [ENGINE_SCRIPT, 'stop', '--data-dir', dir], { encoding: 'utf8' });
    assert.equal(stop.status, 0, stop.stderr);
    await waitFor('engine exit', () => !isAlive(info.pid));
    assert.equal(fs.existsSync(paths(dir).lock), false, 'a clean stop releases the lock');
  } finally {
    await shutdown(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('an engine that dies during start-up is reported with its stderr and a hint', { skip: process.platform === 'win32' && 'needs a shell script as a stand-in runtime' }, async () => {
  const dir = tempDir();
  try {
    // A stand-in "node" that fails the way a Node.js of the wrong ABI fails to load better-sqlite3.
    const fakeNode = path.join(dir, 'fake-node.sh');
    fs.writeFileSync(fakeNode, '#!/bin/sh\necho "Error: better_sqlite3.node was compiled against a different Node.js version using NODE_MODULE_VERSION 115." >&2\nexit 1\n', { mode: 0o755 });
    await assert.rejects(
      ensureEngine({ dataDir: path.join(dir, 'data'), nodePath: fakeNode, engineScript: ENGINE_SCRIPT }),
      (e: Error) =>
        /exited during start-up \(code 1\)/.test(e.message) && /NODE_MODULE_VERSION 115/.test(e.message) && /Set winnow\.engine\.nodePath/.test(e.message),
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
