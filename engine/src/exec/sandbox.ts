/**
 * Runs one untrusted program (a completion candidate and its tests) in its own child process,
 * contained as far as the platform allows. See docs/sandbox.md for what is enforced where.
 *
 * Every run: a fresh temporary folder holding `files` (cwd, HOME and TMPDIR point into it; it
 * is deleted afterwards), a minimal environment (PATH, LANG, HOME, TMPDIR and what the caller
 * adds: nothing is inherited), a wall-clock timeout that kills everything the run started,
 * and caps on what it may print. On Linux, in addition:
 *
 * - `bwrap` backend (bubblewrap installed and working): new network, PID, IPC and UTS
 *   namespaces; the whole file system read-only except the run folder; private /tmp, /var/tmp,
 *   /run; the real home folders hidden (the interpreter's own folders are put back,
 *   read-only); killed with its parent.
 * - `unshare` backend (util-linux `unshare` permitted: as root, or through a user namespace):
 *   new network, PID and mount namespaces; private /tmp, /var/tmp, /run; home folders hidden.
 *   The rest of the file system keeps its normal permissions.
 * - as root, the program runs under an unprivileged uid of its own (`setpriv`), one per
 *   concurrent run, with no capabilities and no_new_privs; that also makes RLIMIT_NPROC count
 *   only that run's tasks (the kernel ignores RLIMIT_NPROC for root).
 * - resource limits through `prlimit`: CPU seconds, address space and data (memory), file
 *   size, open files, no core dumps, and tasks (RLIMIT_NPROC) where that limit counts only
 *   the run's own tasks (its own uid, or its own user namespace).
 *
 * `containment` in the result lists what was actually applied to that run.
 */
import { spawn, execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export type SandboxBackend = 'bwrap' | 'unshare' | 'none';

export interface SandboxLimits {
  /** Wall-clock time for the whole run, after which everything it started is killed. */
  wallMs: number;
  /** RLIMIT_CPU (SIGXCPU at this many seconds, SIGKILL one second later). */
  cpuSeconds: number;
  /** RLIMIT_AS and RLIMIT_DATA, in MiB. */
  memoryMB: number;
  /** stdout + stderr together; past this the run is killed and the output cut. */
  outputBytes: number;
  /** RLIMIT_NPROC (tasks, threads included), where it can be made to count only this run. */
  maxProcesses: number;
  /** RLIMIT_FSIZE in MiB (default 16). */
  fileSizeMB?: number;
  /** RLIMIT_NOFILE (default 256). */
  openFiles?: number;
}

export interface SandboxSpec {
  /** An absolute path, or a name looked up on the engine's PATH (not the sandbox's). */
  command: string;
  args: string[];
  /** Relative paths (no `..`) → contents, written into the run folder. */
  files: Record<string, string>;
  stdin?: string;
  limits: SandboxLimits;
  signal?: AbortSignal;
  /** Extra environment variables (never secrets: the program can read them). */
  env?: Record<string, string>;
  /**
   * Folders the program needs to read that containment might hide (an interpreter installed
   * under a home folder, a virtual environment). The command's own install prefix is added
   * automatically.
   */
  readOnlyPaths?: string[];
  /** Default 'auto': the strongest backend `detectContainment()` found. */
  backend?: SandboxBackend | 'auto';
}

export interface SandboxResult {
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  outputTruncated: boolean;
  wallMs: number;
  containment: string[];
}

export interface ContainmentInfo {
  platform: NodeJS.Platform;
  /** The engine runs as root (uid 0). */
  root: boolean;
  /** Usable backends, strongest first; always ends with 'none'. */
  backends: SandboxBackend[];
  best: SandboxBackend;
  tools: { bwrap?: string; unshare?: string; prlimit?: string; setpriv?: string; sh?: string; mount?: string };
  /** bwrap understands `--size` (a bounded /tmp). */
  bwrapSize: boolean;
  /** The unshare backend goes through a user namespace (not root). */
  unshareUserns: boolean;
  /** As root: programs run under an unprivileged uid of their own. */
  uidDrop: boolean;
  /** What each usable backend applies (for a command the sandbox uid can run). */
  containment: Partial<Record<SandboxBackend, string[]>>;
  /** Why a backend is missing, and other limits worth knowing. */
  notes: string[];
}

/**
 * When the engine is root, each run gets a uid of its own from 0x70000000..0x7FFFFFFF (above
 * the ranges systemd-nspawn and subuid setups use; no passwd entry needed): a block of 256
 * per engine process, chosen by its pid so that two processes (the engine and a CLI bench, two
 * test files) never share a uid, and one slot of the block per concurrent run.
 */
export const SANDBOX_UID_BASE = Number(process.env.WINNOW_SANDBOX_UID_BASE ?? 0x70000000);
const SANDBOX_UID_SLOTS = 256;
const SANDBOX_UID_BLOCKS = 1 << 20;
const uidOfSlot = (slot: number) => SANDBOX_UID_BASE + (process.pid % SANDBOX_UID_BLOCKS) * SANDBOX_UID_SLOTS + slot;

const DEFAULT_FILE_SIZE_MB = 16;
const DEFAULT_OPEN_FILES = 256;
/** Size of the private /tmp; the other covering tmpfs (/var/tmp, /run, homes) get 16 MiB. */
const TMPFS_SIZE_MB = 256;
const SMALL_TMPFS_BYTES = 16 * 1024 * 1024;
/** How long to wait for the pipes to close once the process has exited and its group was killed. */
const CLOSE_GRACE_MS = 1000;

export class AbortError extends Error {
  override name = 'AbortError';
  constructor(message = 'sandboxed run cancelled') {
    super(message);
  }
}

// ---- tool lookup -----------------------------------------------------------------------

const SYSTEM_BIN = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

function isExecutableFile(p: string): boolean {
  try {
    const st = fs.statSync(p);
    if (!st.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Finds an executable by name on PATH (then the usual system folders); absolute paths are checked as they are. */
export function findExecutable(name: string, searchPath = process.env.PATH ?? ''): string | undefined {
  if (path.isAbsolute(name)) return isExecutableFile(name) ? name : undefined;
  if (name.includes('/') || (process.platform === 'win32' && name.includes('\\'))) {
    const abs = path.resolve(name);
    return isExecutableFile(abs) ? abs : undefined;
  }
  const exts = process.platform === 'win32' ? ['', ...(process.env.PATHEXT ?? '.EXE;.CMD;.BAT').split(';').map((e) => e.toLowerCase())] : [''];
  const dirs = [...searchPath.split(path.delimiter).filter(Boolean), ...(process.platform === 'win32' ? [] : SYSTEM_BIN)];
  for (const d of dirs) {
    for (const e of exts) {
      const p = path.join(d, name + e);
      if (isExecutableFile(p)) return p;
    }
  }
  return undefined;
}

// ---- planning (pure) -------------------------------------------------------------------

export interface PlanInput {
  backend: SandboxBackend;
  platform: NodeJS.Platform;
  root: boolean;
  tools: ContainmentInfo['tools'];
  bwrapSize: boolean;
  unshareUserns: boolean;
  /** Run folder (absolute). */
  workDir: string;
  /** Resolved command (absolute). */
  command: string;
  args: string[];
  /** Folders to keep readable (only those under a hidden folder are re-mounted). */
  readOnlyPaths: string[];
  /** Folders replaced by an empty tmpfs (homes); /tmp, /var/tmp and /run are added by the plan. */
  hiddenDirs: string[];
  /** Unprivileged uid to run as, when root and the drop is possible; undefined: no drop. */
  uid?: number;
  limits: SandboxLimits;
}

export interface Plan {
  file: string;
  args: string[];
  containment: string[];
}

/** `a` is `b` or inside `b`. */
function isWithin(a: string, b: string): boolean {
  const rel = path.relative(b, a);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function shQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

function rlimitArgs(limits: SandboxLimits, withNproc: boolean): string[] {
  const mem = Math.max(1, Math.floor(limits.memoryMB)) * 1024 * 1024;
  const cpu = Math.max(1, Math.ceil(limits.cpuSeconds));
  const fsize = Math.max(1, Math.floor(limits.fileSizeMB ?? DEFAULT_FILE_SIZE_MB)) * 1024 * 1024;
  const nofile = Math.max(16, Math.floor(limits.openFiles ?? DEFAULT_OPEN_FILES));
  const a = [`--cpu=${cpu}:${cpu + 1}`, `--as=${mem}`, `--data=${mem}`, `--fsize=${fsize}`, `--nofile=${nofile}`, '--core=0'];
  if (withNproc) a.push(`--nproc=${Math.max(1, Math.floor(limits.maxProcesses))}`);
  return a;
}

/** The folders under a hidden (tmpfs) folder that bwrap must create, with 0755, before binding `target`. */
function dirsToCreate(target: string, covered: string[]): string[] {
  const cover = covered.filter((c) => isWithin(target, c) && target !== c).sort((x, y) => y.length - x.length)[0];
  if (!cover) return [];
  const out: string[] = [];
  let d = path.dirname(target);
  while (d !== cover && isWithin(d, cover)) {
    out.unshift(d);
    d = path.dirname(d);
  }
  return out;
}

/**
 * Builds the command line for one run. Pure: all facts about the machine come in `input`.
 * Exported for the unit tests.
 */
export function planRun(input: PlanInput): Plan {
  const { tools, limits } = input;
  const containment = ['tempdir', 'env:minimal', 'timeout', 'output-cap'];
  const linux = input.platform === 'linux';
  if (!linux) return { file: input.command, args: input.args, containment };

  // Innermost first: [setpriv] [prlimit] command.
  let inner: string[] = [input.command, ...input.args];
  const userns = (input.backend === 'bwrap' && !input.root) || (input.backend === 'unshare' && input.unshareUserns);
  const dropUid = input.root && input.uid !== undefined && tools.setpriv !== undefined;
  const nprocCounted = dropUid || userns;
  if (tools.prlimit) {
    inner = [tools.prlimit, ...rlimitArgs(limits, nprocCounted), '--', ...inner];
    containment.push('rlimits');
    if (nprocCounted) containment.push('nproc');
  }
  if (dropUid && tools.setpriv) {
    const u = String(input.uid);
    inner = [tools.setpriv, `--reuid=${u}`, `--regid=${u}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', ...(input.backend === 'none' ? ['--pdeathsig=KILL'] : []), '--', ...inner];
    containment.push('uid:unprivileged', 'caps:none');
  } else if (input.backend === 'unshare' && input.unshareUserns && tools.setpriv) {
    // Root inside its own user namespace: drop the namespace's capabilities too.
    inner = [tools.setpriv, '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--', ...inner];
    containment.push('caps:none');
  } else if (input.backend === 'none' && tools.setpriv) {
    inner = [tools.setpriv, '--pdeathsig=KILL', '--', ...inner];
  }

  // Folders covered by an empty tmpfs (none inside another: the outer one covers it).
  const candidates = [...new Set(['/tmp', '/var/tmp', '/run', ...input.hiddenDirs].map((d) => path.resolve(d)))].filter((d) => d !== '/');
  const covered = candidates.filter((d) => !candidates.some((o) => o !== d && isWithin(d, o)));
  // Folders to bring back inside a covered one: read-only paths first, the run folder last.
  const ro = [...new Set(input.readOnlyPaths.map((p) => path.resolve(p)))].filter((p) => covered.some((c) => isWithin(p, c)) && !isWithin(p, input.workDir));
  const keepRo = ro.filter((p) => !ro.some((o) => o !== p && isWithin(p, o)));
  const tmpSize = TMPFS_SIZE_MB * 1024 * 1024;

  if (input.backend === 'bwrap' && tools.bwrap) {
    const a = ['--die-with-parent', '--new-session', '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try'];
    if (!input.root) a.push('--unshare-user');
    else if (!dropUid) a.push('--cap-drop', 'ALL');
    a.push('--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc');
    for (const c of covered) {
      if (!fs.existsSync(c)) continue;
      if (input.bwrapSize) a.push('--size', String(c === '/tmp' ? tmpSize : SMALL_TMPFS_BYTES));
      a.push('--perms', c === '/tmp' || c === '/var/tmp' ? '1777' : '0755', '--tmpfs', c);
    }
    const made = new Set<string>();
    const mkdirs = (target: string) => {
      for (const d of dirsToCreate(target, covered)) {
        if (made.has(d)) continue;
        made.add(d);
        a.push('--perms', '0755', '--dir', d);
      }
    };
    for (const p of keepRo) {
      if (!fs.existsSync(p)) continue;
      mkdirs(p);
      a.push('--ro-bind', p, p);
    }
    mkdirs(input.workDir);
    a.push('--bind', input.workDir, input.workDir, '--chdir', input.workDir, '--');
    containment.push('bwrap', 'net:none', 'pid-ns', 'ipc-ns', 'fs:ro-except-workdir', 'tmp:private', 'home:hidden');
    // Unprivileged bwrap drops every capability itself; as root, --cap-drop or setpriv does.
    containment.push('caps:none');
    return { file: tools.bwrap, args: [...a, ...inner], containment: order(containment) };
  }

  if (input.backend === 'unshare' && tools.unshare && tools.sh && tools.mount) {
    // sh is the tiny mount helper inside the new mount namespace: it keeps a descriptor on
    // each folder to bring back, covers /tmp, /var/tmp, /run and the homes with tmpfs, then
    // binds the kept folders back from their descriptors (their paths are hidden by then).
    const m = shQuote(tools.mount);
    const keep = [input.workDir, ...keepRo.filter((p) => fs.existsSync(p))].slice(0, 7);
    const lines: string[] = ['set -e', 'umask 022'];
    lines.push(`exec ${keep.map((p, i) => `${i + 3}<${shQuote(p)}`).join(' ')}`);
    for (const c of covered) {
      if (!fs.existsSync(c)) continue;
      const mode = c === '/tmp' || c === '/var/tmp' ? '1777' : '0755';
      const size = c === '/tmp' ? tmpSize : SMALL_TMPFS_BYTES;
      lines.push(`${m} -t tmpfs -o mode=${mode},size=${size},nosuid,nodev winnow ${shQuote(c)}`);
    }
    keep.forEach((p, i) => {
      lines.push(`mkdir -p ${shQuote(p)}`, `${m} --no-canonicalize --bind /proc/self/fd/${i + 3} ${shQuote(p)}`);
      if (i > 0) lines.push(`${m} --no-canonicalize -o remount,bind,ro ${shQuote(p)}`);
    });
    // sh stays as the namespace's init (pid 1 ignores signals it has no handler for, so the
    // program must not be pid 1: SIGXCPU and SIGXFSZ would not stop it).
    lines.push(`exec ${keep.map((_, i) => `${i + 3}<&-`).join(' ')}`, `cd ${shQuote(input.workDir)}`, 'set +e', '"$@"', 'exit $?');
    const u = ['--kill-child', '--fork', '--pid', '--mount-proc', '--mount', '--propagation', 'private', '--net', '--ipc', '--uts'];
    if (input.unshareUserns) u.unshift('--user', '--map-root-user');
    const args = [...u, '--', tools.sh, '-c', lines.join('\n'), 'winnow-sandbox', ...inner];
    containment.push('unshare', 'net:none', 'pid-ns', 'ipc-ns', 'tmp:private', 'home:hidden');
    if (input.unshareUserns) containment.push('userns');
    // unshare itself must die with the engine (its --kill-child then takes the namespace down).
    if (tools.setpriv) return { file: tools.setpriv, args: ['--pdeathsig=KILL', '--', tools.unshare, ...args], containment: order(containment) };
    return { file: tools.unshare, args, containment: order(containment) };
  }

  const [file, ...rest] = inner;
  return { file: file ?? input.command, args: rest, containment: order(containment) };
}

const ORDER = ['bwrap', 'unshare', 'userns', 'net:none', 'pid-ns', 'ipc-ns', 'fs:ro-except-workdir', 'tmp:private', 'home:hidden', 'uid:unprivileged', 'caps:none', 'rlimits', 'nproc', 'tempdir', 'env:minimal', 'timeout', 'output-cap'];
function order(c: string[]): string[] {
  return [...new Set(c)].sort((a, b) => ORDER.indexOf(a) - ORDER.indexOf(b));
}

// ---- detection -------------------------------------------------------------------------

function execQuiet(file: string, args: string[], timeoutMs: number): Promise<{ ok: boolean; out: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { timeout: timeoutMs, env: sandboxBaseEnv('/', '/'), cwd: '/', killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: `${stdout}${stderr}`.trim() });
    });
  });
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Homes hidden from runs: the engine user's, root's, and /home (every user's). */
function hiddenHomes(): string[] {
  const out = new Set<string>();
  const h = os.homedir();
  if (h && h !== '/' && path.isAbsolute(h)) out.add(h);
  if (fs.existsSync('/root')) out.add('/root');
  if (fs.existsSync('/home')) out.add('/home');
  return [...out];
}

let detected: Promise<ContainmentInfo> | undefined;

/** What this machine supports (probed once: each backend runs `true` as a real run would). */
export function detectContainment(opts: { refresh?: boolean } = {}): Promise<ContainmentInfo> {
  if (!detected || opts.refresh) detected = probe();
  return detected;
}

async function probe(): Promise<ContainmentInfo> {
  const platform = process.platform;
  const root = isRoot();
  const notes: string[] = [];
  const info: ContainmentInfo = { platform, root, backends: ['none'], best: 'none', tools: {}, bwrapSize: false, unshareUserns: !root, uidDrop: false, containment: {}, notes };
  if (platform !== 'linux') {
    notes.push(`${platform}: no namespaces nor resource limits; runs get a temp folder, a minimal environment, a wall-clock timeout and output caps only`);
    info.containment.none = planRun(dummyPlanInput(info, 'none')).containment;
    return info;
  }
  const t = info.tools;
  for (const name of ['bwrap', 'unshare', 'prlimit', 'setpriv', 'sh', 'mount'] as const) {
    const p = findExecutable(name);
    if (p) t[name] = p;
  }
  if (!t.prlimit) notes.push('prlimit (util-linux) not found: no CPU, memory, file-size or process limits');
  if (root) {
    if (t.setpriv) info.uidDrop = true;
    else notes.push('running as root without setpriv (util-linux): programs run as root, and RLIMIT_NPROC does not apply to root');
  } else {
    notes.push('not root: RLIMIT_NPROC is applied only inside a user namespace (bwrap or unshare), where it counts only the run\'s tasks');
  }
  const probeDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-probe-'));
  try {
    const trueCmd = findExecutable('true') ?? '/bin/true';
    const check = async (backend: SandboxBackend): Promise<boolean> => {
      const plan = planRun({ ...dummyPlanInput(info, backend), workDir: probeDir, command: trueCmd });
      const r = await execQuiet(plan.file, plan.args, 10_000);
      if (!r.ok) notes.push(`${backend} backend unusable: ${r.out.split('\n')[0] ?? 'failed'}`);
      return r.ok;
    };
    if (t.bwrap) {
      const sized = await execQuiet(t.bwrap, ['--ro-bind', '/', '/', '--size', '1048576', '--tmpfs', '/tmp', '--', trueCmd], 10_000);
      info.bwrapSize = sized.ok;
      if (await check('bwrap')) info.backends.unshift('bwrap');
    } else notes.push('bubblewrap (bwrap) not installed: no read-only file system; install it for the strongest containment');
    if (t.unshare && t.sh && t.mount) {
      if (await check('unshare')) info.backends.splice(info.backends.indexOf('none'), 0, 'unshare');
    } else if (!t.unshare) notes.push('unshare (util-linux) not found');
    if (root && !info.backends.includes('bwrap')) {
      notes.push('without bwrap, as root: files outside the run folder are protected only by their permissions against the unprivileged uid (world-writable folders other than /tmp, /var/tmp and /run stay writable)');
    }
    if (!root && !info.backends.includes('bwrap')) {
      notes.push('without bwrap, not root: the program can write wherever this user can, except the hidden homes and private /tmp (unshare), or everywhere (none)');
    }
  } finally {
    fs.rmSync(probeDir, { recursive: true, force: true });
  }
  // WINNOW_SANDBOX_BACKENDS (for example `unshare,none`) restricts the choice; 'none' always stays.
  const allowed = process.env.WINNOW_SANDBOX_BACKENDS?.split(',').map((x) => x.trim()).filter(Boolean);
  if (allowed && allowed.length > 0) {
    const dropped = info.backends.filter((b) => b !== 'none' && !allowed.includes(b));
    if (dropped.length > 0) notes.push(`${dropped.join(', ')} left out by WINNOW_SANDBOX_BACKENDS=${allowed.join(',')}`);
    info.backends = info.backends.filter((b) => b === 'none' || allowed.includes(b));
  }
  info.best = info.backends[0] ?? 'none';
  for (const b of info.backends) info.containment[b] = planRun(dummyPlanInput(info, b)).containment;
  return info;
}

function dummyPlanInput(info: ContainmentInfo, backend: SandboxBackend): PlanInput {
  return {
    backend,
    platform: info.platform,
    root: info.root,
    tools: info.tools,
    bwrapSize: info.bwrapSize,
    unshareUserns: info.unshareUserns,
    workDir: path.join(os.tmpdir(), 'winnow-run-probe'),
    command: '/bin/true',
    args: [],
    readOnlyPaths: [],
    hiddenDirs: hiddenHomes(),
    uid: info.uidDrop ? SANDBOX_UID_BASE : undefined,
    limits: { wallMs: 1000, cpuSeconds: 1, memoryMB: 256, outputBytes: 1024, maxProcesses: 16 },
  };
}

// ---- uid slots ---------------------------------------------------------------------------

// Slots rotate: a uid is reused only after all the others, which leaves a killed run's tasks
// time to be reaped (RLIMIT_NPROC counts a uid's tasks until they are).
const usedSlots = new Set<number>();
let nextSlot = 0;
function takeSlot(): number {
  for (let k = 0; k < SANDBOX_UID_SLOTS; k++) {
    const i = (nextSlot + k) % SANDBOX_UID_SLOTS;
    if (!usedSlots.has(i)) {
      usedSlots.add(i);
      nextSlot = (i + 1) % SANDBOX_UID_SLOTS;
      return i;
    }
  }
  // Never fall back to running as root: refuse instead (a pool keeps concurrency far lower).
  throw new Error(`sandbox: more than ${SANDBOX_UID_SLOTS} concurrent runs in one process`);
}
function releaseUid(slot: number | undefined): void {
  if (slot !== undefined) usedSlots.delete(slot);
}

/**
 * Whether a uid that is neither the owner nor in the group can reach and run `file`: every
 * folder above it searchable by others, the file itself readable and executable by others.
 * Under bwrap/unshare the folders in `remapped` (the hidden ones) are empty tmpfs whose
 * folders leading to a `bound` path are created 0755: those are skipped; the bound paths
 * keep their real permissions, and a file in a remapped folder but in no bound path is not
 * visible at all.
 */
export function othersCanUse(file: string, remapped: string[] = [], bound: string[] = []): boolean {
  try {
    let p = fs.realpathSync(file);
    const created = (q: string) => remapped.some((r) => isWithin(q, r)) && !bound.some((b) => isWithin(q, b));
    if (created(p)) return false;
    if ((fs.statSync(p).mode & 0o005) !== 0o005) return false;
    for (p = path.dirname(p); ; p = path.dirname(p)) {
      if (!created(p) && (fs.statSync(p).mode & 0o001) === 0) return false;
      if (p === path.dirname(p)) break;
    }
    return true;
  } catch {
    return false;
  }
}

// ---- running ----------------------------------------------------------------------------

function sandboxBaseEnv(home: string, tmp: string): Record<string, string> {
  if (process.platform === 'win32') {
    const sysRoot = process.env.SystemRoot ?? 'C:\\Windows';
    return { PATH: `${sysRoot}\\System32;${sysRoot}`, SystemRoot: sysRoot, WINDIR: sysRoot, HOME: home, USERPROFILE: home, TMPDIR: tmp, TEMP: tmp, TMP: tmp, LANG: 'C.UTF-8' };
  }
  return { PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8', HOME: home, TMPDIR: tmp };
}

function safeRelative(name: string): string {
  const norm = path.normalize(name);
  if (!name || path.isAbsolute(name) || norm.startsWith('..') || norm.split(path.sep).includes('..')) throw new Error(`sandbox: file name must be a relative path inside the run folder: ${name}`);
  return norm;
}

/** The install prefix of an executable (…/bin/x → …), for the given path and its real path. */
function installPrefixes(command: string): string[] {
  const out = new Set<string>();
  const add = (p: string) => {
    const dir = path.dirname(p);
    out.add(path.basename(dir) === 'bin' ? path.dirname(dir) : dir);
  };
  add(command);
  try {
    add(fs.realpathSync(command));
  } catch {
    // a dangling link fails later, when it runs
  }
  return [...out].filter((p) => p !== '/' && p !== '/usr');
}

function chownTree(p: string, uid: number): void {
  fs.lchownSync(p, uid, uid);
  if (fs.lstatSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), uid);
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    if (process.platform === 'win32') {
      spawn('taskkill', ['/pid', String(pid), '/T', '/F'], { stdio: 'ignore', windowsHide: true }).on('error', () => undefined);
    } else process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Kills, on Linux, every process descended from `pid` while it lives (found through
 * /proc/PID/task/TID/children, a few small reads). bwrap's `--new-session` puts the namespace's init in a session of its own,
 * out of the group killGroup reaches; it is meant to die with its parent (`--die-with-parent`),
 * but on a loaded machine it was seen to outlive it, with the program. Killing the tree while
 * the links are there leaves nothing to chance. Once `pid` has exited its children are
 * reparented and not found: the group kill and the uid sweep are for that.
 */
function killDescendants(root: number): void {
  if (process.platform !== 'linux') return;
  const found: number[] = [];
  const walk = (pid: number, depth: number) => {
    if (depth > 64) return;
    let tasks: string[];
    try {
      tasks = fs.readdirSync(`/proc/${pid}/task`);
    } catch {
      return; // gone
    }
    for (const t of tasks) {
      let children: string;
      try {
        children = fs.readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const c of children.split(' ').filter(Boolean).map(Number)) {
        found.push(c);
        walk(c, depth + 1);
      }
    }
  };
  walk(root, 0);
  for (const p of found) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/**
 * Kills every process of a sandbox uid (what a run left behind outside its process group):
 * kill(-1) from a shell running as that uid reaches exactly its processes.
 */
function killUid(info: ContainmentInfo, uid: number): Promise<void> {
  const { setpriv, sh } = info.tools;
  if (!setpriv || !sh) return Promise.resolve();
  return new Promise((resolve) => {
    execFile(setpriv, [`--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', '--', sh, '-c', 'kill -KILL -1'], { timeout: 5000, env: sandboxBaseEnv('/', '/'), cwd: '/' }, () => resolve());
  });
}

/** Runs one program under the strongest containment available (or the backend asked for). */
export async function runSandboxed(spec: SandboxSpec): Promise<SandboxResult> {
  if (spec.signal?.aborted) throw new AbortError();
  const info = await detectContainment();
  const backend: SandboxBackend = spec.backend === undefined || spec.backend === 'auto' ? info.best : spec.backend;
  if (!info.backends.includes(backend)) throw new Error(`sandbox backend '${backend}' is not available here (${info.backends.join(', ')}); ${info.notes.join('; ')}`);
  const command = findExecutable(spec.command);
  if (!command) throw new Error(`sandbox: command not found: ${spec.command}`);

  const started = performance.now();
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-run-'));
  const home = path.join(root, '.home');
  const tmp = path.join(root, '.tmp');
  let uid: number | undefined;
  let slot: number | undefined;
  try {
    fs.mkdirSync(home);
    fs.mkdirSync(tmp);
    for (const [name, content] of Object.entries(spec.files)) {
      const p = path.join(root, safeRelative(name));
      fs.mkdirSync(path.dirname(p), { recursive: true });
      fs.writeFileSync(p, content, { mode: 0o644 });
    }
    const hidden = hiddenHomes();
    const readOnlyPaths = [...installPrefixes(command), ...(spec.readOnlyPaths ?? [])];
    if (info.uidDrop && info.platform === 'linux') {
      // bwrap and unshare recreate the folders above a kept path 0755 inside the hidden ones,
      // so only the rest of the path matters there.
      const remapped = backend === 'none' ? [] : [...hidden, '/tmp', '/var/tmp', '/run'];
      const bound = readOnlyPaths.flatMap((p) => {
        try {
          return [path.resolve(p), fs.realpathSync(p)];
        } catch {
          return [];
        }
      });
      if (othersCanUse(command, remapped, bound) && readOnlyPaths.every((p) => !fs.existsSync(p) || othersCanUse(p, remapped, bound))) {
        slot = takeSlot();
        uid = uidOfSlot(slot);
        chownTree(root, uid);
      }
    }
    const plan = planRun({
      backend,
      platform: info.platform,
      root: info.root,
      tools: info.tools,
      bwrapSize: info.bwrapSize,
      unshareUserns: info.unshareUserns,
      workDir: root,
      command,
      args: spec.args,
      readOnlyPaths,
      hiddenDirs: hidden,
      uid,
      limits: spec.limits,
    });
    return await execute(plan, root, { ...sandboxBaseEnv(home, tmp), ...(spec.env ?? {}) }, spec, started);
  } finally {
    // Without a PID namespace, what left the process group is found by its uid.
    if (uid !== undefined && backend === 'none') await killUid(info, uid);
    await fs.promises.rm(root, { recursive: true, force: true, maxRetries: 3 }).catch(() => undefined);
    releaseUid(slot);
  }
}

function execute(plan: Plan, cwd: string, env: Record<string, string>, spec: SandboxSpec, started: number): Promise<SandboxResult> {
  return new Promise((resolve, reject) => {
    const cap = Math.max(0, spec.limits.outputBytes);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let total = 0;
    let outputTruncated = false;
    let timedOut = false;
    let aborted = false;
    let settled = false;
    let exitCode: number | null = null;
    let exitSignal: string | null = null;

    const child = spawn(plan.file, plan.args, {
      cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: process.platform !== 'win32',
      windowsHide: true,
    });
    const kill = () => killGroup(child.pid);
    // Cut short (time, output, cancelled) while it runs: its whole tree, then its group.
    const cut = () => {
      if (child.pid !== undefined) killDescendants(child.pid);
      kill();
    };

    const take = (into: Buffer[]) => (chunk: Buffer) => {
      if (outputTruncated) return;
      const room = cap - total;
      if (chunk.length > room) {
        if (room > 0) into.push(chunk.subarray(0, room));
        total = cap;
        outputTruncated = true;
        cut();
        return;
      }
      into.push(chunk);
      total += chunk.length;
    };
    child.stdout.on('data', take(out));
    child.stderr.on('data', take(err));
    child.stdin.on('error', () => undefined); // a program that does not read its input
    child.stdin.end(spec.stdin ?? '');

    const timer = setTimeout(() => {
      timedOut = true;
      cut();
    }, Math.max(1, spec.limits.wallMs));
    const onAbort = () => {
      aborted = true;
      cut();
    };
    spec.signal?.addEventListener('abort', onAbort, { once: true });
    let graceTimer: NodeJS.Timeout | undefined;

    const finish = (spawnError?: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (graceTimer) clearTimeout(graceTimer);
      spec.signal?.removeEventListener('abort', onAbort);
      kill();
      if (aborted) return reject(new AbortError());
      if (spawnError) return reject(spawnError);
      resolve({
        exitCode,
        signal: exitSignal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
        outputTruncated,
        wallMs: Math.round((performance.now() - started) * 10) / 10,
        containment: plan.containment,
      });
    };
    child.on('error', (e) => finish(e));
    child.on('exit', (code, sig) => {
      exitCode = code;
      exitSignal = sig;
      // Whatever the program left in its process group goes now; the pipes then close.
      kill();
      graceTimer = setTimeout(() => {
        child.stdout.destroy();
        child.stderr.destroy();
        finish();
      }, CLOSE_GRACE_MS);
    });
    child.on('close', () => finish());
  });
}
