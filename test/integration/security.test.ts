/**
 * Only its own user can reach the engine or its data (issue 10). A real second user: the test,
 * when it runs as root (CI, these machines), drops to uid/gid 65534 (`nobody`) with
 * `setpriv` for the probes; elsewhere those tests are skipped with the reason. Real engine
 * processes, real sockets.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { defaultEndpoint } from '../../engine/src/discovery';
import { ENGINE_SCRIPT, startEngine, tempDir, waitFor } from '../helpers';

const OTHER = 65534;
const canDrop = process.platform === 'linux' && process.getuid?.() === 0 && spawnSync('setpriv', ['--reuid', String(OTHER), '--regid', String(OTHER), '--clear-groups', 'true']).status === 0;
const skipOther = canDrop ? false : 'needs root and setpriv to act as a second user (uid 65534); run as root on Linux';

/** Runs a Node script as the other user; returns its stdout (JSON). */
function asOther(script: string, ...args: string[]): Record<string, unknown> {
  const r = spawnSync('setpriv', ['--reuid', String(OTHER), '--regid', String(OTHER), '--clear-groups', process.execPath, '-e', script, ...args], { encoding: 'utf8', timeout: 20_000, cwd: '/' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

const PROBE = `
const fs = require('fs'), net = require('net');
const [dataDir, sock] = process.argv.slice(1);
const out = {};
for (const f of ['', 'winnow.db', 'winnow.db-wal', 'logs/engine.log', 'engine.json']) {
  try { fs.readFileSync(require('path').join(dataDir, f)); out[f || 'folder'] = 'read'; } catch (e) { out[f || 'folder'] = e.code; }
}
try { fs.readdirSync(dataDir); out.list = 'listed'; } catch (e) { out.list = e.code; }
const c = net.connect(sock);
c.on('connect', () => { out.connect = 'connected'; c.destroy(); console.log(JSON.stringify(out)); });
c.on('error', (e) => { out.connect = e.code; console.log(JSON.stringify(out)); });
`;

test('another user can neither read the data folder nor connect to the engine', { skip: skipOther }, async () => {
  const dir = tempDir('winnow-sec-');
  fs.chmodSync(dir, 0o755); // the parent is open: only Winnow's own modes protect what is inside
  const data = path.join(dir, 'data');
  const engine = await startEngine(data);
  try {
    const r = await engine.client.request('complete', { prefix: 'def f():\n', suffix: '', languageId: 'python', filePath: '/w/f.py', n: 2, budgetMs: 5000, generator: { backend: 'recorded', recordedPool: '/nonexistent.jsonl' } }, 10_000);
    assert.ok(r.requestId);
    const sock = engine.info.endpoint.slice('ipc://'.length);
    const probe = asOther(PROBE, data, sock);
    assert.equal(probe.list, 'EACCES');
    for (const f of ['winnow.db', 'logs/engine.log', 'engine.json']) assert.equal(probe[f], 'EACCES', `${f}: ${String(probe[f])}`);
    assert.equal(probe.connect, 'EACCES', `connect: ${String(probe.connect)}`);
    // The owner still connects.
    await engine.client.request('ping', {}, 2000);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a data folder whose path is too long for a socket: the socket goes to a fresh private folder, which another user cannot take first nor enter', { skip: process.platform === 'win32' && 'Unix sockets' }, async () => {
  const dir = tempDir('winnow-sec-');
  const data = path.join(dir, 'd'.repeat(90), 'data');
  // The old fallback name, pre-created by "another user" (a file where the socket would go).
  const e1 = defaultEndpoint(data);
  const e2 = defaultEndpoint(data);
  assert.notEqual(e1, e2, 'not predictable');
  for (const e of [e1, e2]) {
    const folder = path.dirname(e.slice('ipc://'.length));
    assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
    fs.rmSync(folder, { recursive: true, force: true });
  }
  const engine = await startEngine(data);
  try {
    const ep = engine.info.endpoint;
    assert.match(ep, /^ipc:\/\/.*\/winnow-[^/]+\/engine\.sock$/);
    const folder = path.dirname(ep.slice('ipc://'.length));
    assert.equal(fs.statSync(folder).mode & 0o777, 0o700);
    await engine.client.request('ping', {}, 2000);
    if (canDrop) assert.equal(asOther(PROBE, data, ep.slice('ipc://'.length)).connect, 'EACCES');
    await engine.stop();
    assert.equal(fs.existsSync(folder), false, 'the folder is removed when the engine stops');
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a socket path pre-created by another user does not stop the engine from starting', { skip: skipOther }, async () => {
  // The victim is uid 65534, running its own engine; the squatter (root here) takes the name the
  // engine used to bind in the shared temp folder when the data folder's path was long.
  const dir = tempDir('winnow-sec-');
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'd'.repeat(90), 'data');
  fs.mkdirSync(data, { recursive: true });
  fs.chownSync(path.dirname(data), OTHER, OTHER);
  fs.chownSync(data, OTHER, OTHER);
  const oldName = path.join(os.tmpdir(), `winnow-${OTHER}-${crypto.createHash('sha256').update(path.resolve(data)).digest('hex').slice(0, 16)}.sock`);
  fs.writeFileSync(oldName, 'squatted');
  const serve = spawn('setpriv', ['--reuid', String(OTHER), '--regid', String(OTHER), '--clear-groups', process.execPath, ENGINE_SCRIPT, 'serve', '--data-dir', data, '--device', 'cpu', '--idle-exit-min', '2'], { stdio: ['ignore', 'ignore', 'pipe'], cwd: '/' });
  let stderr = '';
  serve.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  try {
    const info = await waitFor(`the victim's engine (stderr: ${stderr})`, () => {
      if (serve.exitCode !== null) throw new Error(`engine exited with ${serve.exitCode}: ${stderr}`);
      try {
        return JSON.parse(fs.readFileSync(path.join(data, 'engine.json'), 'utf8')) as { endpoint: string };
      } catch {
        return undefined;
      }
    }, 20_000);
    assert.notEqual(info.endpoint, `ipc://${oldName}`);
    const st = spawnSync('setpriv', ['--reuid', String(OTHER), '--regid', String(OTHER), '--clear-groups', process.execPath, ENGINE_SCRIPT, 'status', '--json', '--data-dir', data], { encoding: 'utf8', timeout: 20_000, cwd: '/' });
    assert.equal(st.status, 0, st.stderr);
    assert.equal((JSON.parse(st.stdout) as { running: boolean }).running, true);
    assert.equal(fs.readFileSync(oldName, 'utf8'), 'squatted', "the squatter's file is left alone");
  } finally {
    serve.kill('SIGTERM');
    await new Promise((r) => serve.once('exit', r));
    fs.rmSync(oldName, { force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
