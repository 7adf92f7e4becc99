/**
 * The CLI at its edges (issue 10, the smaller findings): `--help` after any command, bad
 * positions, a FIFO or a huge file given to `complete`. Real CLI processes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ENGINE_SCRIPT, tempDir } from '../helpers';

const cli = (...args: string[]) => spawnSync(process.execPath, [ENGINE_SCRIPT, ...args], { encoding: 'utf8', timeout: 20_000 });

test('`winnow CMD --help` prints the usage for every command', () => {
  for (const cmd of ['serve', 'complete', 'status', 'events', 'triplets', 'export', 'purge', 'train', 'rankers', 'activate', 'bench', 'stop']) {
    const r = cli(cmd, '--help');
    assert.equal(r.status, 0, `${cmd}: ${r.stderr}`);
    assert.match(r.stdout, /^winnow .* Winnow's engine/, cmd);
  }
});

test('complete: a line or character that is not a number is refused with a clear message', () => {
  const dir = tempDir('winnow-cli-');
  try {
    const f = path.join(dir, 'a.py');
    fs.writeFileSync(f, 'def f():\n');
    const r = cli('complete', '--file', f, '--line', 'abc', '--character', '1', '--data-dir', path.join(dir, 'data'));
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--line must be a line number \(1 or more\), got "abc"/);
    const c = cli('complete', '--file', f, '--line', '1', '--character', '0', '--data-dir', path.join(dir, 'data'));
    assert.equal(c.status, 2);
    assert.match(c.stderr, /--character must be a column number/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('complete: a FIFO is refused without reading it, a file over 10 MB before it is read', { skip: process.platform === 'win32' && 'no mkfifo' }, () => {
  const dir = tempDir('winnow-cli-');
  try {
    const fifo = path.join(dir, 'f.py');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const r = cli('complete', '--file', fifo, '--line', '1', '--character', '1', '--data-dir', path.join(dir, 'data'));
    assert.equal(r.error, undefined, 'it did not hang');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /is not a regular file/);
    const big = path.join(dir, 'big.py');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 50 * 1024 * 1024); // sparse: 50 MB that cost nothing to make
    const b = cli('complete', '--file', big, '--line', '1', '--character', '1', '--data-dir', path.join(dir, 'data'));
    assert.equal(b.status, 1);
    assert.match(b.stderr, /is larger than 10 MB/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('output into a pipe closed early (`winnow events | head -c 1`) ends quietly, without an EPIPE stack', { skip: process.platform === 'win32' && 'no sh' }, async () => {
  const { Store } = await import('../../engine/src/store');
  const dir = tempDir('winnow-cli-');
  try {
    const data = path.join(dir, 'data');
    fs.mkdirSync(data);
    const store = Store.open(path.join(data, 'winnow.db'), () => undefined);
    store.recordEvents(Array.from({ length: 3000 }, (_, i) => ({ kind: 'shown' as const, requestId: `r${i}`, candidateId: `r${i}:0`, rank: 0, time: i })));
    store.close();
    const r = spawnSync('sh', ['-c', `"${process.execPath}" "${ENGINE_SCRIPT}" events --json --limit 3000 --data-dir "${data}" | head -c 1`], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.stdout, '{');
    assert.doesNotMatch(r.stderr, /EPIPE|Error/, r.stderr);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
