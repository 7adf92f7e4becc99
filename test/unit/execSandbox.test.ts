/**
 * The sandbox's command-line planning (pure: the machine's facts come in as input) for each
 * platform profile: Linux root/non-root with bwrap, unshare or nothing, and macOS/Windows.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { findExecutable, othersCanUse, planRun, type PlanInput } from '../../engine/src/exec/sandbox';

const tools = { bwrap: '/usr/bin/bwrap', unshare: '/usr/bin/unshare', prlimit: '/usr/bin/prlimit', setpriv: '/usr/bin/setpriv', sh: '/bin/sh', mount: '/bin/mount' };
const limits = { wallMs: 3000, cpuSeconds: 4, memoryMB: 512, outputBytes: 65536, maxProcesses: 16 };

function input(over: Partial<PlanInput>): PlanInput {
  return {
    backend: 'bwrap',
    platform: 'linux',
    root: true,
    tools,
    bwrapSize: true,
    unshareUserns: false,
    workDir: path.join(os.tmpdir(), 'winnow-run-x'),
    command: '/usr/bin/python3',
    args: ['-I', 'harness.py'],
    readOnlyPaths: [],
    hiddenDirs: [],
    uid: 2_000_000_000,
    limits,
    ...over,
  };
}

/** The argument right after `flag`. */
const after = (args: string[], flag: string) => args[args.indexOf(flag) + 1];

test('linux, root, bwrap: namespaces, read-only root, the run folder bound, an unprivileged uid, rlimits with nproc', () => {
  const p = planRun(input({}));
  assert.equal(p.file, tools.bwrap);
  for (const f of ['--unshare-net', '--unshare-pid', '--die-with-parent', '--new-session']) assert.ok(p.args.includes(f), f);
  assert.ok(!p.args.includes('--unshare-user'), 'root needs no user namespace (and setpriv could not switch uid inside one)');
  assert.ok(!p.args.includes('--cap-drop'), 'setpriv drops the capabilities with the uid');
  const ro = p.args.indexOf('--ro-bind');
  assert.deepEqual(p.args.slice(ro, ro + 3), ['--ro-bind', '/', '/']);
  const wd = input({}).workDir;
  const bind = p.args.indexOf('--bind');
  assert.deepEqual(p.args.slice(bind, bind + 3), ['--bind', wd, wd]);
  assert.equal(after(p.args, '--chdir'), wd);
  const sep = p.args.indexOf('--');
  assert.equal(p.args[sep + 1], tools.setpriv);
  assert.ok(p.args.includes('--reuid=2000000000'));
  assert.ok(p.args.includes('--no-new-privs'));
  assert.ok(p.args.includes('--nproc=16'));
  assert.ok(p.args.includes(`--as=${512 * 1024 * 1024}`));
  assert.ok(p.args.includes('--cpu=4:5'));
  assert.deepEqual(p.args.slice(-3), ['/usr/bin/python3', '-I', 'harness.py']);
  for (const c of ['bwrap', 'net:none', 'pid-ns', 'fs:ro-except-workdir', 'tmp:private', 'home:hidden', 'uid:unprivileged', 'caps:none', 'rlimits', 'nproc', 'timeout', 'output-cap']) assert.ok(p.containment.includes(c), c);
});

test('linux, root, bwrap without setpriv: capabilities dropped by bwrap, no nproc (root is exempt from RLIMIT_NPROC)', () => {
  const { setpriv: _, ...noSetpriv } = tools;
  const p = planRun(input({ tools: noSetpriv }));
  assert.equal(after(p.args, '--cap-drop'), 'ALL');
  assert.ok(!p.args.some((a) => a.startsWith('--nproc')));
  assert.ok(!p.containment.includes('nproc'));
  assert.ok(!p.containment.includes('uid:unprivileged'));
  assert.ok(p.containment.includes('caps:none'));
});

test('linux, not root, bwrap: a user namespace, where RLIMIT_NPROC counts only the run', () => {
  const p = planRun(input({ root: false, uid: undefined }));
  assert.ok(p.args.includes('--unshare-user'));
  assert.ok(!p.args.includes(tools.setpriv));
  assert.ok(p.args.includes('--nproc=16'));
  assert.ok(p.containment.includes('nproc'));
  assert.ok(!p.containment.includes('uid:unprivileged'));
});

test('bwrap: an interpreter under a hidden home is bound back read-only, its parents created 0755', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-unit-home-'));
  try {
    const prefix = path.join(home, '.pyenv', 'versions', '3.11.7');
    fs.mkdirSync(prefix, { recursive: true });
    const p = planRun(input({ hiddenDirs: [home], readOnlyPaths: [prefix, '/usr'] }));
    const s = p.args.join(' ');
    assert.ok(s.includes(`--perms 0755 --dir ${path.join(home, '.pyenv')}`), s);
    assert.ok(s.includes(`--perms 0755 --dir ${path.join(home, '.pyenv', 'versions')}`), s);
    assert.ok(s.includes(`--ro-bind ${prefix} ${prefix}`), s);
    assert.ok(!s.includes('--ro-bind /usr /usr'), 'paths that are not hidden need no bind');
    // The run folder is bound after the folders that cover it.
    assert.ok(p.args.lastIndexOf('--bind') > p.args.indexOf('--tmpfs'));
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('linux, root, unshare: dies with the engine, new net/pid/mount namespaces, sh binds the run folder back over a private /tmp', () => {
  const p = planRun(input({ backend: 'unshare' }));
  assert.equal(p.file, tools.setpriv);
  assert.deepEqual(p.args.slice(0, 3), ['--pdeathsig=KILL', '--', tools.unshare]);
  for (const f of ['--net', '--pid', '--fork', '--kill-child', '--mount', '--mount-proc']) assert.ok(p.args.includes(f), f);
  assert.ok(!p.args.includes('--user'));
  const script = after(p.args, '-c') ?? '';
  assert.match(script, /-t tmpfs .* '\/tmp'/);
  assert.match(script, /--bind \/proc\/self\/fd\/3 /);
  assert.ok(!/exec "\$@"/.test(script), 'the program must not be the namespace init (pid 1 ignores SIGXCPU)');
  assert.ok(p.args.includes('--reuid=2000000000'));
  assert.ok(p.containment.includes('net:none') && p.containment.includes('pid-ns') && p.containment.includes('tmp:private'));
  assert.ok(!p.containment.includes('fs:ro-except-workdir'));
});

test('linux, not root, unshare: through a user namespace, its capabilities dropped', () => {
  const p = planRun(input({ backend: 'unshare', root: false, uid: undefined, unshareUserns: true }));
  assert.ok(p.args.includes('--user') && p.args.includes('--map-root-user'));
  assert.ok(p.args.includes('--bounding-set=-all'));
  assert.ok(p.containment.includes('userns') && p.containment.includes('nproc'));
});

test('linux, not root, no namespaces: rlimits without nproc (it would count every process of the user)', () => {
  const p = planRun(input({ backend: 'none', root: false, uid: undefined }));
  assert.equal(p.file, tools.setpriv);
  assert.ok(p.args.includes(tools.prlimit));
  assert.ok(!p.args.some((a) => a.startsWith('--nproc')));
  assert.deepEqual(p.containment, ['rlimits', 'tempdir', 'env:minimal', 'timeout', 'output-cap']);
});

test('linux, root, no namespaces: the uid drop still applies', () => {
  const p = planRun(input({ backend: 'none' }));
  assert.ok(p.args.includes('--reuid=2000000000'));
  assert.ok(p.args.includes('--pdeathsig=KILL'));
  assert.ok(p.containment.includes('uid:unprivileged') && p.containment.includes('nproc'));
  assert.ok(!p.containment.includes('net:none'));
});

test('macOS and Windows: the command as it is; temp folder, minimal environment, timeout and output caps only', () => {
  for (const platform of ['darwin', 'win32'] as const) {
    const p = planRun(input({ platform, backend: 'none' }));
    assert.equal(p.file, '/usr/bin/python3');
    assert.deepEqual(p.args, ['-I', 'harness.py']);
    assert.deepEqual(p.containment, ['tempdir', 'env:minimal', 'timeout', 'output-cap']);
  }
});

test('othersCanUse: a file inside a 0700 folder is out of reach unless that folder is remapped', { skip: process.platform !== 'linux' ? 'the temp folder is not searchable by others on every platform' : false }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-unit-perm-'));
  try {
    const inner = path.join(dir, 'bin');
    fs.mkdirSync(inner);
    const exe = path.join(inner, 'tool');
    fs.writeFileSync(exe, '#!/bin/sh\n', { mode: 0o755 });
    fs.chmodSync(inner, 0o755);
    fs.chmodSync(dir, 0o755);
    assert.equal(othersCanUse(exe), true);
    fs.chmodSync(dir, 0o700);
    assert.equal(othersCanUse(exe), false);
    assert.equal(othersCanUse(exe, [dir], [inner]), true, 'bwrap recreates the hidden folders above a bound path 0755');
    assert.equal(othersCanUse(exe, [dir], []), false, 'in a hidden folder and not bound back: not visible');
    fs.chmodSync(inner, 0o700);
    assert.equal(othersCanUse(exe, [dir], [inner]), false, 'a bound folder keeps its own permissions');
    fs.chmodSync(inner, 0o755);
    fs.chmodSync(exe, 0o700);
    assert.equal(othersCanUse(exe, [dir], [inner]), false);
  } finally {
    fs.chmodSync(dir, 0o755);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('findExecutable: absolute paths as they are, names on PATH, nothing for a missing tool', () => {
  assert.equal(findExecutable(process.execPath), process.execPath);
  assert.equal(findExecutable('winnow-no-such-tool-xyz'), undefined);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-unit-path-'));
  try {
    const exe = path.join(dir, process.platform === 'win32' ? 'wtool.exe' : 'wtool');
    fs.writeFileSync(exe, '', { mode: 0o755 });
    assert.equal(findExecutable('wtool', dir), exe);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
