/**
 * Private by default (issue 10): the data folder holds recorded code, so the engine makes it its
 * user's only: folders 0700, files 0600 (the store and its WAL, logs, rankers, state, the
 * socket), created that way and tightened at start when an older version left them readable.
 * Only Winnow's own entries are touched. Real engine process, real SQLite. POSIX only.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { POOL, startEngine, tempDir, waitFor } from '../helpers';

const mode = (p: string) => fs.statSync(p).mode & 0o777;

test('the data folder and everything Winnow keeps in it are private to their owner; other files are left alone', { skip: process.platform === 'win32' && 'no POSIX modes' }, async () => {
  const dir = tempDir('winnow-private-');
  const data = path.join(dir, 'data');
  // As an older version under umask 022 left it.
  fs.mkdirSync(path.join(data, 'logs'), { recursive: true, mode: 0o755 });
  fs.mkdirSync(path.join(data, 'rankers'), { mode: 0o755 });
  fs.chmodSync(data, 0o755);
  fs.chmodSync(path.join(data, 'logs'), 0o755);
  fs.chmodSync(path.join(data, 'rankers'), 0o755);
  fs.writeFileSync(path.join(data, 'logs', 'engine.log'), 'old line\n', { mode: 0o644 });
  fs.writeFileSync(path.join(data, 'generator.json'), '{"backend":"recorded"}', { mode: 0o644 });
  fs.writeFileSync(path.join(data, 'notes.txt'), 'not Winnow\'s', { mode: 0o644 });
  fs.chmodSync(path.join(data, 'logs', 'engine.log'), 0o644);
  fs.chmodSync(path.join(data, 'generator.json'), 0o644);
  fs.chmodSync(path.join(data, 'notes.txt'), 0o644);
  const engine = await startEngine(data);
  try {
    const r = await engine.client.request('complete', { prefix: 'def f():\n', suffix: '', languageId: 'python', filePath: '/w/f.py', n: 2, budgetMs: 5000, generator: { backend: 'recorded', recordedPool: POOL } }, 10_000);
    await engine.client.request('event', { events: [{ kind: 'shown', requestId: r.requestId, candidateId: `${r.requestId}:0`, rank: 0, time: Date.now() }] }, 10_000);
    await waitFor('the WAL', () => fs.existsSync(path.join(data, 'winnow.db-wal')));
    assert.equal(mode(data), 0o700);
    for (const d of ['logs', 'rankers']) assert.equal(mode(path.join(data, d)), 0o700, d);
    for (const f of ['winnow.db', 'winnow.db-wal', 'logs/engine.log', 'generator.json', 'engine.json', 'engine.lock', 'rankers/builtin-4.onnx', 'rankers/active.json']) {
      assert.equal(mode(path.join(data, f)), 0o600, `${f}: ${mode(path.join(data, f)).toString(8)}`);
    }
    const sock = engine.info.endpoint.startsWith('ipc://') ? engine.info.endpoint.slice('ipc://'.length) : undefined;
    if (sock) assert.equal(mode(sock) & 0o077, 0, `the socket ${sock} is not reachable by group or others: ${mode(sock).toString(8)}`);
    assert.equal(mode(path.join(data, 'notes.txt')), 0o644, 'a file that is not Winnow\'s keeps its mode');
    assert.match(fs.readFileSync(path.join(data, 'logs', 'engine.log'), 'utf8'), /made \d+ files and folders private to their owner/);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('one log entry is one line: line breaks and control characters from clients are escaped', async () => {
  const { createFileLog, escapeLogText } = await import('../../engine/src/log');
  assert.equal(escapeLogText('a\nb\r\u001b[31mc\u2028'), 'a\\nb\\r\\u001b[31mc\\u2028');
  assert.equal(escapeLogText('tab\tstays'), 'tab\tstays');
  assert.match(escapeLogText('x'.repeat(20_000)), /… \(3616 more characters\)$/);
  const dir = tempDir('winnow-log-');
  try {
    const file = path.join(dir, 'logs', 'engine.log');
    const log = createFileLog(file, false);
    log('warn', 'dropped a malformed message: bad id "x\n2026-01-01T00:00:00.000Z error forged line"');
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /bad id "x\\n2026-01-01T00:00:00\.000Z error forged line"$/);
    if (process.platform !== 'win32') assert.equal(mode(file), 0o600);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
