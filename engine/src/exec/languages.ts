/**
 * Language adapters for the sandboxed test runner, and `runTests` on top of them.
 *
 * An adapter turns (program text, tests) into what one sandboxed run needs: files, command,
 * arguments, stdin. Each candidate runs once, in one process, for all its tests: the
 * harness (./harness/*.ts) executes the program, then each test isolated, under its own time
 * limit, and reports one JSON line. Adding a language (MultiPL-E style: C++, Java, PHP,
 * Bash …) means one more adapter whose harness speaks the same protocol: read the request
 * from stdin, print `<nonce>T {…}` per test and `<nonce>R {"results": […], …}` at the end.
 *
 * - python: CPython 3 found as `python3` (or `WINNOW_PYTHON`), resolved to the real binary
 *   (pyenv shims cost ~200 ms a run), run as `python -I -S -B harness.py`: isolated mode, no
 *   site module (it can cost tens of ms per run), the interpreter's site-packages folders added
 *   to sys.path as plain folders (.pth files are not processed).
 * - javascript: node (the engine's own, unless it is Electron), `node harness.js`.
 * - typescript: the JavaScript harness, the program and the tests stripped of their types in
 *   the engine before the run (`stripTypes` in ./programs.ts: amaro, Node.js's own type
 *   stripper, swc compiled to WebAssembly), so it runs on any Node.js (20 included). Only when
 *   amaro cannot load does the harness strip with Node's `module.stripTypeScriptTypes`
 *   (Node 22.13+), and without either TypeScript is unavailable (`unavailableReason` says why).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { JAVASCRIPT_HARNESS } from './harness/javascript';
import { PYTHON_HARNESS } from './harness/python';
import { defaultPool, type WorkerPool } from './pool';
import { stripTestTypes, stripTypes, typeStripper } from './programs';
import { detectContainment, findExecutable, othersCanUse, runSandboxed, type SandboxBackend, type SandboxLimits, type SandboxResult } from './sandbox';

export interface TestCase {
  source: string;
  /** This test's time limit (default: the run's perTestMs). */
  timeoutMs?: number;
}

/** What the harness is asked to do (everything but the program). */
export interface HarnessSpec {
  nonce: string;
  tests: TestCase[];
  /** Time limit for executing the program itself (its top level). */
  programMs: number;
  /** Time for the whole harness run; tests that would start after it are reported as not run. */
  budgetMs?: number;
  /** Captured print()/console output kept per test, in characters. */
  outputChars: number;
  /** Python: the module name the program runs as (default '__main__', like `python program.py`). */
  moduleName?: string;
  /** The backend the run will use (adapters may pick a toolchain the sandbox can reach). */
  backend?: SandboxBackend;
}

export interface BuiltRun {
  files: Record<string, string>;
  command: string;
  args: string[];
  stdin: string;
  env?: Record<string, string>;
  readOnlyPaths?: string[];
  /** The adapter's defaults (the caller's limits win). */
  limits: Partial<SandboxLimits>;
}

export interface LanguageAdapter {
  id: string;
  /** File extensions this adapter runs, with the dot. */
  extensions: string[];
  /** Whether the toolchain is here (resolved once, cached). Must be awaited before build(). */
  available(): Promise<boolean>;
  /** Why it is not available, when it is not. */
  unavailableReason(): Promise<string | undefined>;
  build(program: string, harness: HarnessSpec): BuiltRun;
}

export interface TestResult {
  passed: boolean;
  error?: string;
  timedOut?: boolean;
  /** Not run: an earlier test ended the process, or the run's time budget was spent. */
  skipped?: boolean;
  /** What the test printed (capped). */
  stdout?: string;
}

export interface TestRunResult {
  language: string;
  /** The program does not compile; no test ran. */
  syntaxError?: string;
  /** The program raised (or timed out) while executing its top level; no test ran. */
  programError?: string;
  /** One per test, in order. */
  results: TestResult[];
  /** The run hit its wall-clock limit, or the program or a test timed out. */
  timedOut: boolean;
  /** The harness did not report normally: the process was killed or exited (why). */
  crashed?: string;
  exitCode: number | null;
  signal: string | null;
  /** The process's stderr (capped), for diagnostics. */
  stderr: string;
  outputTruncated: boolean;
  wallMs: number;
  containment: string[];
}

export interface RunTestsOptions {
  /** Default time limit per test (default 3000 ms). */
  perTestMs?: number;
  /** Time limit for the program's top level (default perTestMs). */
  programMs?: number;
  /** Budget for the whole run (default: program + every test's limit + 1 s, at most 120 s). */
  totalMs?: number;
  /** Overrides of the adapter's default limits. */
  limits?: Partial<SandboxLimits>;
  signal?: AbortSignal;
  /** Pool to queue the run on (default: the engine's shared pool); null runs it at once. */
  pool?: WorkerPool | null;
  backend?: SandboxBackend | 'auto';
  /** Captured output kept per test (default 2000 characters). */
  outputChars?: number;
  /** Python: module name of the program (default '__main__'). */
  moduleName?: string;
}

const DEFAULT_PER_TEST_MS = 3000;
const STARTUP_MARGIN_MS = 2000;
const MAX_TOTAL_MS = 120_000;

const BASE_LIMITS: SandboxLimits = { wallMs: 10_000, cpuSeconds: 10, memoryMB: 1024, outputBytes: 1 << 20, maxProcesses: 32, fileSizeMB: 16, openFiles: 256 };

function execText(file: string, args: string[], timeoutMs = 15_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, encoding: 'utf8', env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: process.env.HOME ?? '/' } }, (err, stdout) => resolve(err ? undefined : stdout));
  });
}

// ---- Python -----------------------------------------------------------------------------

export interface PythonInfo {
  /** The real interpreter binary (not a pyenv shim). */
  executable: string;
  version: string;
  prefixes: string[];
  sitePaths: string[];
}

const PY_PROBE = [
  'import sys, json, site, sysconfig',
  'paths = []',
  'try: paths += site.getsitepackages()',
  'except Exception: pass',
  'for k in ("purelib", "platlib"):',
  '    p = sysconfig.get_paths().get(k)',
  '    if p and p not in paths: paths.append(p)',
  'print(json.dumps({"executable": sys.executable, "version": "%d.%d.%d" % sys.version_info[:3], "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}), "sitePaths": paths}))',
].join('\n');

async function probePython(cmd: string): Promise<PythonInfo | undefined> {
  const exe = findExecutable(cmd);
  if (!exe) return undefined;
  const out = await execText(exe, ['-I', '-c', PY_PROBE]);
  if (!out) return undefined;
  try {
    const info = JSON.parse(out.trim().split('\n').pop() ?? '') as PythonInfo;
    if (!info.executable || !info.version.startsWith('3.')) return undefined;
    return info;
  } catch {
    return undefined;
  }
}

export interface PythonAdapterOptions {
  /** Interpreter to use (a name on PATH or a path); default `WINNOW_PYTHON`, else python3. */
  python?: string;
}

export class PythonAdapter implements LanguageAdapter {
  readonly id = 'python';
  readonly extensions = ['.py'];
  private resolved: Promise<{ info?: PythonInfo; plain?: PythonInfo; reason?: string; note?: string }> | undefined;
  private info: PythonInfo | undefined;
  private plain: PythonInfo | undefined;
  /** Set when plain (backend 'none') runs as root use another interpreter than the configured one. */
  note: string | undefined;

  constructor(private readonly opts: PythonAdapterOptions = {}) {}

  private resolve(): Promise<{ info?: PythonInfo; plain?: PythonInfo; reason?: string; note?: string }> {
    this.resolved ??= (async () => {
      const wanted = this.opts.python ?? process.env.WINNOW_PYTHON ?? (process.platform === 'win32' ? 'python' : 'python3');
      const first = await probePython(wanted);
      if (!first) return { reason: `no Python 3 interpreter found (${wanted})` };
      // As root, programs run under an unprivileged uid, which must be able to reach the
      // interpreter. bwrap and unshare re-expose it (the homes they hide are recreated 0755);
      // a plain run (backend 'none') does not, and a pyenv under /root (0700) is out of its
      // reach: plain runs then use a system python3 rather than run as root.
      const c = await detectContainment();
      if (c.uidDrop && !othersCanUse(first.executable)) {
        for (const alt of ['/usr/bin/python3', '/usr/local/bin/python3']) {
          if (!fs.existsSync(alt) || !othersCanUse(alt)) continue;
          const plain = await probePython(alt);
          if (plain) return { info: first, plain, note: `plain runs use ${plain.executable}: ${first.executable} is not reachable by the sandbox's unprivileged uid` };
        }
        return { info: first, note: `${first.executable} is not reachable by the sandbox's unprivileged uid: plain runs (no bwrap/unshare) run as root` };
      }
      return { info: first };
    })();
    return this.resolved;
  }

  async available(): Promise<boolean> {
    const r = await this.resolve();
    this.info = r.info;
    this.plain = r.plain;
    this.note = r.note;
    return r.info !== undefined;
  }

  async unavailableReason(): Promise<string | undefined> {
    return (await this.resolve()).reason;
  }

  /** The interpreter in use for a backend (after available()). */
  interpreter(backend?: SandboxBackend): PythonInfo | undefined {
    return backend === 'none' && this.plain ? this.plain : this.info;
  }

  build(program: string, harness: HarnessSpec): BuiltRun {
    const info = this.interpreter(harness.backend);
    if (!info) throw new Error('PythonAdapter.build before available() resolved an interpreter');
    const request = {
      nonce: harness.nonce,
      program,
      filename: 'program.py',
      moduleName: harness.moduleName ?? '__main__',
      tests: harness.tests,
      programMs: harness.programMs,
      budgetMs: harness.budgetMs,
      outputChars: harness.outputChars,
      sitePaths: info.sitePaths,
    };
    return {
      files: { 'harness.py': PYTHON_HARNESS, 'program.py': program },
      command: info.executable,
      args: ['-I', '-S', '-B', 'harness.py'],
      stdin: JSON.stringify(request),
      readOnlyPaths: [...info.prefixes, ...info.sitePaths],
      limits: { memoryMB: 1024, maxProcesses: 32 },
    };
  }
}

// ---- JavaScript / TypeScript --------------------------------------------------------------

export interface NodeAdapterOptions {
  /** Node.js binary; default: the engine's own (unless it is Electron), else node on PATH. */
  node?: string;
}

function defaultNode(): string | undefined {
  if (!process.versions.electron) return process.execPath;
  return findExecutable('node');
}

export class JavaScriptAdapter implements LanguageAdapter {
  readonly id: string;
  readonly extensions: string[];
  private resolved: Promise<{ node?: string; reason?: string; strip?: 'engine' | 'node' }> | undefined;
  private node: string | undefined;
  /** TypeScript: who strips the types (the engine with amaro, or the harness with Node's stripTypeScriptTypes). */
  private strip: 'engine' | 'node' | undefined;

  constructor(
    private readonly opts: NodeAdapterOptions = {},
    private readonly typescript = false,
  ) {
    this.id = typescript ? 'typescript' : 'javascript';
    this.extensions = typescript ? ['.ts', '.mts', '.cts'] : ['.js', '.mjs', '.cjs'];
  }

  private resolve(): Promise<{ node?: string; reason?: string; strip?: 'engine' | 'node' }> {
    this.resolved ??= (async () => {
      const node = this.opts.node ? findExecutable(this.opts.node) : defaultNode();
      if (!node) return { reason: 'no Node.js found' };
      const probe = await execText(node, ['-p', `process.versions.node + ' ' + typeof require('node:module').stripTypeScriptTypes`]);
      if (!probe) return { reason: `${node} does not run` };
      if (!this.typescript) return { node };
      const stripper = typeStripper();
      if (stripper.ok) return { node, strip: 'engine' as const };
      const [version, strip] = probe.trim().split(' ');
      if (strip === 'function') return { node, strip: 'node' as const };
      return { reason: `TypeScript types cannot be stripped: ${stripper.reason}, and Node.js ${version ?? '?'} has no module.stripTypeScriptTypes (Node 22.13+); TypeScript candidates are not run` };
    })();
    return this.resolved;
  }

  async available(): Promise<boolean> {
    const r = await this.resolve();
    this.node = r.node;
    this.strip = r.strip;
    return r.node !== undefined;
  }

  async unavailableReason(): Promise<string | undefined> {
    return (await this.resolve()).reason;
  }

  build(program: string, harness: HarnessSpec): BuiltRun {
    const node = this.node;
    if (!node) throw new Error(`${this.id} adapter: build before available() resolved Node.js`);
    const memoryMB = 2048;
    const inEngine = this.typescript && this.strip === 'engine';
    const request: Record<string, unknown> = {
      nonce: harness.nonce,
      program,
      filename: this.typescript ? 'program.ts' : 'program.js',
      tests: harness.tests,
      programMs: harness.programMs,
      budgetMs: harness.budgetMs,
      outputChars: harness.outputChars,
      typescript: this.typescript && !inEngine,
    };
    if (inEngine) {
      // Types stripped here (positions kept: types become spaces); the harness gets JavaScript,
      // and reports a program or a test that does not parse as it would a JavaScript one.
      try {
        request.program = stripTypes(program);
      } catch (e) {
        request.program = '';
        request.syntaxError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      }
      request.tests = harness.tests.map((t) => {
        try {
          return { ...t, source: stripTestTypes(t.source) };
        } catch (e) {
          return { ...t, compileError: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
        }
      });
    }
    return {
      files: { 'harness.js': JAVASCRIPT_HARNESS, [String(request.filename)]: program },
      command: node,
      args: [`--max-old-space-size=${memoryMB / 2}`, 'harness.js'],
      stdin: JSON.stringify(request),
      // Electron as plain Node.js; harmless for node itself.
      env: process.versions.electron && node === process.execPath ? { ELECTRON_RUN_AS_NODE: '1' } : {},
      limits: { memoryMB, maxProcesses: 64 },
    };
  }
}

// ---- registry ------------------------------------------------------------------------------

let adapters: LanguageAdapter[] | undefined;

/** The built-in adapters (shared instances). */
export function languageAdapters(): LanguageAdapter[] {
  adapters ??= [new PythonAdapter(), new JavaScriptAdapter(), new JavaScriptAdapter({}, true)];
  return adapters;
}

/** The adapter for a VS Code language id ('python', 'javascript', 'typescript', 'javascriptreact'…) or a file extension ('.py'). */
export function adapterFor(languageOrExtension: string): LanguageAdapter | undefined {
  const key = languageOrExtension.toLowerCase();
  const alias: Record<string, string> = { javascriptreact: 'javascript', typescriptreact: 'typescript' };
  const id = alias[key] ?? key;
  return languageAdapters().find((a) => a.id === id || a.extensions.includes(key));
}

// ---- running -----------------------------------------------------------------------------

function normalizeTests(tests: readonly (string | TestCase)[], perTestMs: number): TestCase[] {
  return tests.map((t) => (typeof t === 'string' ? { source: t, timeoutMs: perTestMs } : { source: t.source, timeoutMs: t.timeoutMs ?? perTestMs }));
}

interface HarnessReport {
  results?: (TestResult | null)[];
  syntaxError?: string;
  programError?: string;
}

/**
 * Reads the harness's lines out of a run's stdout. Exported for the unit tests.
 * Prefers the final R line; else assembles the per-test T lines and explains the rest.
 */
export function parseHarnessOutput(stdout: string, nonce: string, testCount: number, run: Pick<SandboxResult, 'timedOut' | 'exitCode' | 'signal' | 'outputTruncated'>): Pick<TestRunResult, 'results' | 'syntaxError' | 'programError' | 'crashed'> {
  let final: HarnessReport | undefined;
  const partial: (TestResult | undefined)[] = new Array<TestResult | undefined>(testCount).fill(undefined);
  for (const line of stdout.split('\n')) {
    const at = line.indexOf(nonce);
    if (at < 0) continue;
    const kind = line.charAt(at + nonce.length);
    const body = line.slice(at + nonce.length + 2);
    try {
      if (kind === 'R') final = JSON.parse(body) as HarnessReport;
      else if (kind === 'T') {
        const t = JSON.parse(body) as TestResult & { i: number };
        if (Number.isInteger(t.i) && t.i >= 0 && t.i < testCount) {
          const { i, ...r } = t;
          partial[i] = r;
        }
      }
    } catch {
      // a line cut by the output cap
    }
  }
  const why = run.outputTruncated ? 'output limit exceeded' : run.timedOut ? 'wall-clock limit' : run.signal ? `killed by ${run.signal}` : `exited with code ${run.exitCode ?? '?'}`;
  if (final && Array.isArray(final.results)) {
    const results = Array.from({ length: testCount }, (_, i) => final?.results?.[i] ?? partial[i] ?? { passed: false, skipped: true, error: 'no result reported' });
    const out: Pick<TestRunResult, 'results' | 'syntaxError' | 'programError' | 'crashed'> = { results };
    if (final.syntaxError !== undefined) out.syntaxError = final.syntaxError;
    if (final.programError !== undefined) out.programError = final.programError;
    if (run.exitCode !== 0) out.crashed = why;
    return out;
  }
  // No final line: the process was killed or exited early. The first test without a result
  // is the one that was running.
  const results: TestResult[] = [];
  let running = true;
  const anyStarted = partial.some((p) => p !== undefined);
  for (let i = 0; i < testCount; i++) {
    const p = partial[i];
    if (p) {
      results.push(p);
      continue;
    }
    if (running) {
      running = false;
      results.push(run.timedOut && !run.outputTruncated ? { passed: false, timedOut: true, error: 'timed out (run killed at its wall-clock limit)' } : { passed: false, error: `the process ended during this test: ${why}` });
    } else results.push({ passed: false, skipped: true, error: `not run: the process ended (${why})` });
  }
  const out: Pick<TestRunResult, 'results' | 'syntaxError' | 'programError' | 'crashed'> = { results, crashed: why };
  if (!anyStarted && testCount > 0) out.programError = run.timedOut ? 'timed out' : `the process ended: ${why}`;
  if (testCount === 0 && !anyStarted) out.programError = `the process ended: ${why}`;
  return out;
}

/** Runs `program` once and each of `tests` against it, in a sandbox, with `adapter`'s harness. */
export async function runTests(adapter: LanguageAdapter, program: string, tests: readonly (string | TestCase)[], opts: RunTestsOptions = {}): Promise<TestRunResult> {
  if (!(await adapter.available())) throw new Error(`${adapter.id} is not available: ${(await adapter.unavailableReason()) ?? 'unknown reason'}`);
  const perTestMs = opts.perTestMs ?? DEFAULT_PER_TEST_MS;
  const programMs = opts.programMs ?? perTestMs;
  const cases = normalizeTests(tests, perTestMs);
  const natural = programMs + cases.reduce((a, t) => a + (t.timeoutMs ?? perTestMs), 0) + 1000;
  const totalMs = Math.max(100, opts.totalMs ?? Math.min(natural, MAX_TOTAL_MS));
  const nonce = `@@winnow-${randomBytes(9).toString('hex')}@@`;
  const backend = opts.backend === undefined || opts.backend === 'auto' ? (await detectContainment()).best : opts.backend;
  const built = adapter.build(program, { nonce, tests: cases, programMs, budgetMs: totalMs, outputChars: opts.outputChars ?? 2000, moduleName: opts.moduleName, backend });
  const wallMs = totalMs + STARTUP_MARGIN_MS;
  const limits: SandboxLimits = { ...BASE_LIMITS, ...built.limits, wallMs, cpuSeconds: Math.ceil(wallMs / 1000) + 1, ...(opts.limits ?? {}) };
  const spec = { command: built.command, args: built.args, files: built.files, stdin: built.stdin, env: built.env, readOnlyPaths: built.readOnlyPaths, limits, backend, signal: opts.signal };
  const pool = opts.pool === undefined ? defaultPool() : opts.pool;
  const run = pool ? await pool.runSandboxed(spec) : await runSandboxed(spec);
  const parsed = parseHarnessOutput(run.stdout, nonce, cases.length, run);
  const timedOut = run.timedOut || parsed.results.some((r) => r.timedOut === true) || parsed.programError === 'timed out';
  return {
    language: adapter.id,
    ...parsed,
    timedOut,
    exitCode: run.exitCode,
    signal: run.signal,
    stderr: run.stderr.slice(0, 4000),
    outputTruncated: run.outputTruncated,
    wallMs: run.wallMs,
    containment: run.containment,
  };
}

function adapterById(id: string): LanguageAdapter {
  const a = languageAdapters().find((x) => x.id === id);
  if (!a) throw new Error(`no adapter ${id}`);
  return a;
}

/** Python: executes `program` once, then each test (statements, e.g. asserts) isolated. */
export function runPythonTests(program: string, tests: readonly (string | TestCase)[], opts: RunTestsOptions = {}): Promise<TestRunResult> {
  return runTests(adapterById('python'), program, tests, opts);
}

/** JavaScript: executes `program` once as a script, then each test as the body of an async function. */
export function runJavaScriptTests(program: string, tests: readonly (string | TestCase)[], opts: RunTestsOptions = {}): Promise<TestRunResult> {
  return runTests(adapterById('javascript'), program, tests, opts);
}

/** TypeScript: as JavaScript after type stripping (in the engine, see `stripTypes`); the tests may be TypeScript too. */
export function runTypeScriptTests(program: string, tests: readonly (string | TestCase)[], opts: RunTestsOptions = {}): Promise<TestRunResult> {
  return runTests(adapterById('typescript'), program, tests, opts);
}

