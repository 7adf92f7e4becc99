/**
 * The sandboxed runner against hostile candidates, with real processes: an infinite loop, a
 * CPU burner, a fork bomb, a child that leaves the process group, a 10 GB allocation, writes
 * outside the run folder, a socket to a port this test listens on, reading ~/.ssh, a flood of
 * output, secrets in the environment; then a normal candidate still passes. Each case runs
 * under every backend this machine has (bwrap, unshare, none), names the containment it
 * relies on, and is skipped, saying why, where that containment is missing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test, type TestContext } from 'node:test';
import { PythonAdapter, runJavaScriptTests, runPythonTests, runTypeScriptTests } from '../../engine/src/exec/languages';
import { WorkerPool } from '../../engine/src/exec/pool';
import { detectContainment, runSandboxed, type SandboxBackend, type SandboxLimits, type SandboxResult } from '../../engine/src/exec/sandbox';
import { ROOT } from '../helpers';

const BACKENDS: SandboxBackend[] = ['bwrap', 'unshare', 'none'];
const LIMITS: SandboxLimits = { wallMs: 5000, cpuSeconds: 5, memoryMB: 512, outputBytes: 1 << 20, maxProcesses: 16 };
const python = new PythonAdapter();
const linux = process.platform === 'linux';
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

const marker = (what: string) => `winnow-hostile-${what}-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;

/** Live processes (not zombies) whose command line holds `mark`, read from /proc like pgrep -f. */
function processesWith(mark: string): string[] {
  if (!linux) return [];
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || pid === String(process.pid)) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmd.includes(mark)) continue;
      const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      if (state !== 'Z') found.push(`${pid} ${cmd.replace(/\0/g, ' ').slice(0, 80)}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

/** The processes holding `mark` that are still there after up to 5 s (killed processes take a moment to go). */
async function survivors(mark: string): Promise<string[]> {
  const until = Date.now() + 5000;
  for (;;) {
    const left = processesWith(mark);
    if (left.length === 0 || Date.now() > until) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Runs `fn` once per backend as subtests; a backend this machine lacks is skipped with the
 * reason detectContainment gave, and a containment the case relies on but the backend does
 * not apply skips it too.
 */
async function perBackend(t: TestContext, relies: string[] | ((c: string[]) => string | undefined), fn: (backend: SandboxBackend, containment: string[]) => Promise<void>): Promise<void> {
  const info = await detectContainment();
  const pythonOk = await python.available();
  for (const backend of BACKENDS) {
    await t.test(backend, async (st) => {
      if (!pythonOk) return st.skip(`no Python 3: ${await python.unavailableReason()}`);
      if (!info.backends.includes(backend)) {
        const why = info.notes.find((n) => n.startsWith(`${backend} backend unusable`) || (backend === 'bwrap' && n.startsWith('bubblewrap')) || (backend === 'unshare' && n.startsWith('unshare (')) || n.includes('WINNOW_SANDBOX_BACKENDS'));
        return st.skip(`${backend} is not available here${why ? `: ${why}` : ''}`);
      }
      const c = info.containment[backend] ?? [];
      // A plain run as root keeps the uid drop only when the interpreter is reachable by the sandbox uid.
      const effective = backend === 'none' && isRoot && python.note?.includes('run as root') ? c.filter((x) => x !== 'uid:unprivileged' && x !== 'nproc' && x !== 'caps:none') : c;
      const missing = typeof relies === 'function' ? relies(effective) : relies.filter((r) => !effective.includes(r)).map((r) => `relies on ${r}, which ${backend} does not apply here`).join('; ') || undefined;
      if (missing) return st.skip(missing);
      await fn(backend, effective);
    });
  }
}

/** python -c `code` in the sandbox (the marker goes on the command line, for pgrep). */
function py(backend: SandboxBackend, code: string, mark: string, limits: Partial<SandboxLimits> = {}, extra: { files?: Record<string, string> } = {}): Promise<SandboxResult> {
  const info = python.interpreter(backend);
  assert.ok(info, 'python resolved');
  return runSandboxed({ backend, command: info.executable, args: ['-I', '-S', '-B', '-c', `${code}\n# ${mark}`], files: extra.files ?? {}, readOnlyPaths: info.prefixes, limits: { ...LIMITS, ...limits } });
}

test('detectContainment: what this machine supports', async (t) => {
  const info = await detectContainment();
  t.diagnostic(`platform ${info.platform}, root ${info.root}, backends ${info.backends.join(' > ')}`);
  for (const b of info.backends) t.diagnostic(`${b}: ${(info.containment[b] ?? []).join(', ')}`);
  for (const n of info.notes) t.diagnostic(`note: ${n}`);
  assert.equal(info.best, info.backends[0]);
  assert.equal(info.backends.at(-1), 'none');
  assert.equal(await detectContainment(), info, 'cached');
  if (linux && isRoot) assert.ok(info.backends.includes('unshare'), 'root may always unshare on Linux');
});

test('infinite loop: cut at the wall-clock limit, nothing left running', async (t) => {
  await perBackend(t, ['timeout'], async (backend) => {
    const mark = marker('loop');
    const t0 = Date.now();
    const r = await py(backend, 'while True: pass', mark, { wallMs: 1000, cpuSeconds: 30 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 4000, `took ${Date.now() - t0} ms`);
    assert.deepEqual(await survivors(mark), []);
  });
});

test('CPU burner: stopped by RLIMIT_CPU before the wall clock', async (t) => {
  await perBackend(t, ['rlimits'], async (backend) => {
    const r = await py(backend, 'while True: pass', marker('cpu'), { wallMs: 20_000, cpuSeconds: 1 });
    assert.equal(r.timedOut, false);
    assert.ok(r.signal === 'SIGXCPU' || r.signal === 'SIGKILL' || (r.exitCode ?? 0) > 128, `ended by the CPU limit: ${r.exitCode} ${r.signal}`);
    assert.ok(r.wallMs < 6000, `${r.wallMs} ms`);
  });
});

test('fork bomb: capped by RLIMIT_NPROC, the machine stays responsive, no process survives', async (t) => {
  await perBackend(
    t,
    (c) => (c.includes('nproc') ? undefined : `relies on nproc (RLIMIT_NPROC counting only the run: an unprivileged uid as root, or a user namespace), which this backend lacks here; without it a fork bomb runs until the wall-clock limit`),
    async (backend) => {
      const mark = marker('forkbomb');
      const code = 'import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        time.sleep(0.01)';
      let lag = 0;
      let last = Date.now();
      const iv = setInterval(() => {
        const now = Date.now();
        lag = Math.max(lag, now - last - 25);
        last = now;
      }, 25);
      let peak = 0;
      let spawnMs = 0;
      const probe = setInterval(() => {
        peak = Math.max(peak, processesWith(mark).length);
        const s0 = Date.now();
        spawnSync('true');
        spawnMs = Math.max(spawnMs, Date.now() - s0);
      }, 300);
      const r = await py(backend, code, mark, { wallMs: 2500, maxProcesses: 16 });
      clearInterval(iv);
      clearInterval(probe);
      assert.equal(r.timedOut, true);
      // 16 tasks of the sandbox uid (or user namespace), plus bwrap/unshare/sh around them.
      assert.ok(peak > 1 && peak <= 16 + 4, `peak ${peak} processes`);
      assert.ok(lag < 1000, `event loop lag ${lag} ms`);
      assert.ok(spawnMs < 1000, `spawning a process took ${spawnMs} ms during the bomb`);
      assert.deepEqual(await survivors(mark), [], 'no stray processes');
    },
  );
});

test('a child that leaves the process group (setsid, double fork) does not outlive the run', async (t) => {
  await perBackend(
    t,
    (c) => (c.includes('pid-ns') || c.includes('uid:unprivileged') ? undefined : 'relies on pid-ns or uid:unprivileged (everything of the run is killed with its namespace, or by uid); a plain run as a normal user can only kill its process group'),
    async (backend) => {
      const mark = marker('daemon');
      const code = 'import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(60)\n    os._exit(0)\ntime.sleep(0.3)\nprint("parent done")';
      const r = await py(backend, code, mark);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /parent done/);
      assert.deepEqual(await survivors(mark), []);
    },
  );
});

test('10 GB allocation: MemoryError (or killed), not the machine', async (t) => {
  await perBackend(t, ['rlimits'], async (backend) => {
    const r = await runPythonTests('def grab():\n    return bytearray(10 * 1024 ** 3)\n', ['x = grab()', 'assert 1 + 1 == 2'], { backend, limits: { memoryMB: 512 }, pool: null });
    const first = r.results[0];
    assert.equal(first?.passed, false);
    assert.ok(/MemoryError/.test(first?.error ?? '') || r.crashed !== undefined, JSON.stringify(r));
    assert.equal(r.results[1]?.passed, true, 'the next test still runs in the same process');
    assert.ok(r.wallMs < 10_000);
  });
});

test('writing outside its folder', async (t) => {
  const code = (target: string) => `import os\nopen("inside.txt", "w").write("ok")\ntry:\n    open(${JSON.stringify(target)}, "w").write("escaped")\n    print("WROTE")\nexcept OSError as e:\n    print("DENIED", e)\nprint("INSIDE", os.path.exists("inside.txt"))`;

  await t.test('/tmp/winnow-escape-<rand>: lands in a private /tmp, gone with the run', async (t) => {
    await perBackend(
      t,
      (c) => (c.includes('tmp:private') || c.includes('uid:unprivileged') ? undefined : 'relies on tmp:private (a mount namespace); a plain run as a normal user can write to /tmp'),
      async (backend, c) => {
        const target = path.join('/tmp', `winnow-escape-${Math.random().toString(36).slice(2)}`);
        try {
          const r = await py(backend, code(target), marker('escape'));
          assert.match(r.stdout, /INSIDE True/, 'the run folder is writable');
          if (c.includes('tmp:private')) assert.equal(fs.existsSync(target), false, `${target} must not exist`);
          else {
            // No mount namespace: /tmp is world-writable and cannot be protected. What holds:
            // the file belongs to the unprivileged sandbox uid, not to the engine's user.
            assert.match(r.stdout, /WROTE/);
            assert.notEqual(fs.statSync(target).uid, 0);
            t.diagnostic(`${backend}: a write to /tmp cannot be prevented without a mount namespace; the file is owned by uid ${fs.statSync(target).uid}`);
          }
        } finally {
          fs.rmSync(target, { force: true });
        }
      },
    );
  });

  await t.test('a world-writable folder outside /tmp: the file system is read-only', async (t) => {
    await perBackend(t, ['fs:ro-except-workdir'], async (backend) => {
      const outDir = path.join(ROOT, 'test', 'out');
      fs.mkdirSync(outDir, { recursive: true });
      const dir = fs.mkdtempSync(path.join(outDir, 'escape-'));
      fs.chmodSync(dir, 0o777);
      const target = path.join(dir, 'escaped.txt');
      try {
        const r = await py(backend, code(target), marker('escape-ro'));
        assert.match(r.stdout, /DENIED/);
        assert.equal(fs.existsSync(target), false);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  await t.test('a folder of the engine user (0755): protected by the unprivileged uid', async (t) => {
    if (!isRoot) return t.skip('only as root: a normal user\'s own folders are writable by its runs unless bwrap makes the file system read-only');
    await perBackend(t, ['uid:unprivileged'], async (backend) => {
      const outDir = path.join(ROOT, 'test', 'out');
      fs.mkdirSync(outDir, { recursive: true });
      const dir = fs.mkdtempSync(path.join(outDir, 'escape-own-'));
      fs.chmodSync(dir, 0o755);
      const target = path.join(dir, 'escaped.txt');
      try {
        const r = await py(backend, code(target), marker('escape-own'));
        assert.match(r.stdout, /DENIED/);
        assert.equal(fs.existsSync(target), false);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

test('opening a socket to 127.0.0.1: refused, and the server sees no connection', async (t) => {
  await perBackend(t, ['net:none'], async (backend) => {
    let connections = 0;
    const server = net.createServer((s) => {
      connections++;
      s.destroy();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await py(backend, `import socket\ntry:\n    socket.create_connection(("127.0.0.1", ${port}), timeout=2).close()\n    print("CONNECTED")\nexcept OSError as e:\n    print("FAILED", e)\ntry:\n    socket.getaddrinfo("example.com", 80)\n    print("DNS")\nexcept OSError as e:\n    print("NODNS", e)`, marker('socket'));
      assert.match(r.stdout, /FAILED/, r.stdout + r.stderr);
      assert.match(r.stdout, /NODNS/);
      assert.equal(connections, 0);
    } finally {
      server.close();
    }
  });
});

test('reading ~/.ssh: HOME is the run folder, the real home is hidden', async (t) => {
  // A stand-in home outside /tmp, made the engine's home for these runs.
  const outDir = path.join(ROOT, 'test', 'out');
  fs.mkdirSync(outDir, { recursive: true });
  const fakeHome = fs.mkdtempSync(path.join(outDir, 'home-'));
  fs.chmodSync(fakeHome, 0o755);
  fs.mkdirSync(path.join(fakeHome, '.ssh'), { mode: 0o700 });
  fs.writeFileSync(path.join(fakeHome, '.ssh', 'id_ed25519'), 'WINNOW-SECRET-KEY-MARKER\n', { mode: 0o600 });
  const savedHome = process.env.HOME;
  process.env.HOME = fakeHome;
  process.env.WINNOW_TEST_SECRET = 'winnow-env-secret-marker';
  try {
    await perBackend(
      t,
      (c) => (c.includes('home:hidden') || c.includes('uid:unprivileged') ? undefined : 'relies on home:hidden or uid:unprivileged; a plain run as a normal user can read what that user can'),
      async (backend) => {
        const key = path.join(fakeHome, '.ssh', 'id_ed25519');
        const r = await py(backend, `import os\nprint("HOME", os.path.expanduser("~"))\nfor p in (${JSON.stringify(key)}, os.path.expanduser("~/.ssh/id_ed25519")):\n    try:\n        print("READ", open(p).read())\n    except OSError as e:\n        print("DENIED", type(e).__name__)\nprint("ENV", sorted(os.environ))\nprint("SECRET" if any("winnow-env-secret" in v for v in os.environ.values()) else "NOSECRET")`, marker('ssh'));
        assert.doesNotMatch(r.stdout, /WINNOW-SECRET-KEY-MARKER/);
        assert.equal((r.stdout.match(/DENIED/g) ?? []).length, 2, r.stdout);
        assert.match(r.stdout, /HOME \/.*winnow-run-[^/]+\/\.home/);
        assert.match(r.stdout, /NOSECRET/);
      },
    );
  } finally {
    if (savedHome === undefined) delete process.env.HOME;
    else process.env.HOME = savedHome;
    delete process.env.WINNOW_TEST_SECRET;
    fs.rmSync(fakeHome, { recursive: true, force: true });
  }
});

test('a flood of output: capped, the run killed at once', async (t) => {
  await perBackend(t, ['output-cap'], async (backend) => {
    const r = await py(backend, 'import sys\nwhile True:\n    sys.stdout.write("x" * 65536)', marker('flood'), { outputBytes: 256 * 1024, wallMs: 20_000 });
    assert.equal(r.outputTruncated, true);
    assert.equal(r.timedOut, false);
    assert.ok(r.stdout.length + r.stderr.length <= 256 * 1024);
    assert.ok(r.wallMs < 5000, `${r.wallMs} ms`);
  });
  // Through the harness: the test that floods fails, the earlier ones keep their results.
  const r = await runPythonTests('def f():\n    return 1\n', ['assert f() == 1', 'while True: print("y" * 10000)'], { limits: { outputBytes: 64 * 1024 }, pool: null });
  assert.equal(r.results[0]?.passed, true);
  assert.equal(r.results[1]?.passed, false);
});

test('after all of that, a normal candidate passes', async (t) => {
  await perBackend(t, [], async (backend) => {
    const r = await runPythonTests('def add(a, b):\n    return a + b\n', ['assert add(2, 3) == 5', 'assert add("a", "b") == "ab"', 'assert add(1, 1) == 3'], { backend, pool: null });
    assert.deepEqual(
      r.results.map((x) => x.passed),
      [true, true, false],
    );
    assert.equal(r.timedOut, false);
    assert.ok(r.containment.includes('timeout'));
  });
});

test('Python harness: syntax errors, exceptions at import, timeouts that the program swallows, exit()', async () => {
  const s = await runPythonTests('def f(:\n    pass\n', ['assert True'], { pool: null });
  assert.match(s.syntaxError ?? '', /SyntaxError/);
  assert.equal(s.results[0]?.passed, false);
  const p = await runPythonTests('raise ValueError("at import")\n', ['assert True'], { pool: null });
  assert.match(p.programError ?? '', /ValueError: at import/);
  const loop = await runPythonTests('def spin():\n    while True:\n        try:\n            while True:\n                pass\n        except BaseException:\n            pass\n', ['assert 1 == 1', 'spin()', 'assert 2 == 2'], { perTestMs: 300, pool: null });
  assert.equal(loop.results[0]?.passed, true);
  assert.equal(loop.results[1]?.timedOut, true);
  assert.equal(loop.timedOut, true);
  assert.ok(loop.wallMs < 5000, `${loop.wallMs} ms`);
  const exit = await runPythonTests('import sys\n', ['sys.exit(0)', 'assert True'], { pool: null });
  assert.equal(exit.results[0]?.passed, false, 'exit() inside a test is a failure');
  assert.equal(exit.results[1]?.passed, true);
});

test('JavaScript: an infinite loop is cut (in a test, in the program, and a raw node process)', async (t) => {
  const js = await runJavaScriptTests('function spin() { for (;;) {} }\nfunction add(a, b) { return a + b }\n', ['spin()', 'require("node:assert").strictEqual(add(1, 2), 3)'], { perTestMs: 300, pool: null });
  assert.equal(js.results[0]?.timedOut, true);
  assert.equal(js.results[1]?.passed, true);
  const top = await runJavaScriptTests('for (;;) {}', ['1'], { programMs: 300, pool: null });
  assert.equal(top.programError, 'timed out');
  await perBackend(t, ['timeout'], async (backend) => {
    const mark = marker('jsloop');
    const r = await runSandboxed({ backend, command: process.execPath, args: ['-e', `for (;;) {} // ${mark}`], files: {}, limits: { ...LIMITS, memoryMB: 2048, maxProcesses: 64, wallMs: 1000 } });
    assert.equal(r.timedOut, true);
    assert.deepEqual(await survivors(mark), []);
  });
});

test('TypeScript: runs on any Node.js (the engine strips the types), a program that does not parse is a syntax error', async (t) => {
  const hasStrip = typeof (await import('node:module') as { stripTypeScriptTypes?: unknown }).stripTypeScriptTypes === 'function';
  t.diagnostic(`Node.js ${process.versions.node}: ${hasStrip ? 'has' : 'no'} module.stripTypeScriptTypes; types stripped in the engine either way`);
  const r = await runTypeScriptTests('function add(a: number, b: number): number { return a + b }', ['if (add(1, 2) !== 3) throw new Error("no")', 'const n: number = add(2, 2);\nif (n !== 4) throw new Error("no")'], { pool: null });
  assert.deepEqual(r.results.map((x) => x.passed), [true, true], JSON.stringify(r));
  const bad = await runTypeScriptTests('let x: = 1', ['1'], { pool: null });
  assert.match(bad.syntaxError ?? '', /SyntaxError/);
  assert.equal(bad.results[0]?.passed, false);
});

test('cancellation through the pool: the queued run never starts, the running one is killed', async () => {
  if (!(await python.available())) return;
  const pool = new WorkerPool({ size: 1 });
  const ac = new AbortController();
  const mark = marker('cancel');
  const info = python.interpreter((await detectContainment()).best);
  assert.ok(info);
  const spec = { command: info.executable, args: ['-I', '-S', '-c', `import time\ntime.sleep(30)\n# ${mark}`], files: {}, readOnlyPaths: info.prefixes, limits: { ...LIMITS, wallMs: 60_000, cpuSeconds: 60 }, signal: ac.signal };
  const running = pool.runSandboxed(spec);
  const queued = pool.runSandboxed({ ...spec, args: ['-I', '-S', '-c', `print("started") # ${mark}-queued`] });
  const until = Date.now() + 5000;
  while (processesWith(mark).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.equal(pool.queued, 1);
  const t0 = Date.now();
  ac.abort();
  await Promise.all([assert.rejects(running, { name: 'AbortError' }), assert.rejects(queued, { name: 'AbortError' })]);
  assert.ok(Date.now() - t0 < 5000, `cancelled in ${Date.now() - t0} ms`);
  assert.deepEqual(await survivors(mark), []);
  const after = await runPythonTests('x = 1\n', ['assert x == 1'], { pool });
  assert.equal(after.results[0]?.passed, true, 'the pool keeps serving');
});

test('the run folder is deleted afterwards', async () => {
  if (!(await python.available())) return;
  const r = await runPythonTests('import os\nHERE = os.getcwd()\n', ['print(HERE); assert True'], { pool: null });
  const dir = (r.results[0]?.stdout ?? '').trim();
  assert.match(dir, /winnow-run-/);
  assert.equal(fs.existsSync(dir), false);
  assert.ok(dir.startsWith(os.tmpdir()));
});
