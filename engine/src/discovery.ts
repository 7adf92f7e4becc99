/**
 * How clients find the one engine of a user: everything lives in the data folder.
 *
 * - `engine.lock`  created exclusively by the engine that owns the folder (holds its pid).
 * - `engine.json`  written atomically by that engine once its socket is bound: {@link EngineInfo}.
 * - `logs/engine.log` the engine's log.
 *
 * A lock or info file left by a crashed engine is stale when its pid is no longer alive;
 * the next engine to start recovers it. The ipc socket file is rebound by the new engine.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface EngineInfo {
  pid: number;
  endpoint: string;
  protocolVersion: number;
  engineVersion: string;
  startedAt: number;
}

export const paths = (dataDir: string) => ({
  lock: path.join(dataDir, 'engine.lock'),
  info: path.join(dataDir, 'engine.json'),
  log: path.join(dataDir, 'logs', 'engine.log'),
  stderr: path.join(dataDir, 'logs', 'engine-stderr.log'),
  db: path.join(dataDir, 'winnow.db'),
  rankers: path.join(dataDir, 'rankers'),
  generatorState: path.join(dataDir, 'generator.json'),
});

/**
 * The endpoint an engine for this data folder binds by default: a Unix socket in the data
 * folder, which is its user's only (0700): no other user can reach it. A path too long for a
 * Unix socket (about 104 bytes) gets a folder made for it, private and unpredictable (mkdtemp:
 * 0700, random name) under the user's runtime folder ($XDG_RUNTIME_DIR, when it is theirs
 * and private) or the temp folder: never a fixed name in a shared folder, which another user
 * could take first. Clients find the endpoint in `engine.json`. Windows: loopback TCP.
 */
export function defaultEndpoint(dataDir: string): string {
  if (process.platform === 'win32') return 'tcp://127.0.0.1:*';
  const inDir = path.join(dataDir, 'engine.sock');
  if (Buffer.byteLength(inDir) < 100) return `ipc://${inDir}`;
  const dir = fs.mkdtempSync(path.join(privateRuntimeBase(), 'winnow-'));
  return `ipc://${path.join(dir, SOCKET_NAME)}`;
}

const SOCKET_NAME = 'engine.sock';

/** $XDG_RUNTIME_DIR when it exists, is ours and no one else's (0700), else the temp folder. */
function privateRuntimeBase(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg && path.isAbsolute(xdg)) {
    try {
      const st = fs.lstatSync(xdg);
      const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
      if (st.isDirectory() && st.uid === uid && (st.mode & 0o077) === 0 && Buffer.byteLength(xdg) < 60) return xdg;
    } catch {
      // not there
    }
  }
  return os.tmpdir();
}

/** The private folder {@link defaultEndpoint} made for a socket, when it made one: removed when the engine stops. */
export function socketFolderOf(endpoint: string, dataDir: string): string | undefined {
  if (!endpoint.startsWith('ipc://')) return undefined;
  const dir = path.dirname(endpoint.slice('ipc://'.length));
  return path.basename(dir).startsWith('winnow-') && path.resolve(dir) !== path.resolve(dataDir) && path.basename(endpoint) === SOCKET_NAME ? dir : undefined;
}

export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function readEngineInfo(dataDir: string): EngineInfo | undefined {
  try {
    const raw = JSON.parse(fs.readFileSync(paths(dataDir).info, 'utf8')) as Partial<EngineInfo>;
    if (typeof raw.pid !== 'number' || typeof raw.endpoint !== 'string') return undefined;
    return {
      pid: raw.pid,
      endpoint: raw.endpoint,
      protocolVersion: Number(raw.protocolVersion ?? 0),
      engineVersion: String(raw.engineVersion ?? ''),
      startedAt: Number(raw.startedAt ?? 0),
    };
  } catch {
    return undefined;
  }
}

export type LockResult = { acquired: true } | { acquired: false; ownerPid: number };

/**
 * Takes the data folder's engine lock for this process. A lock whose owner is dead is
 * stale and recovered; `staleIf` lets the caller treat a live pid as stale too (a pid that
 * was reused by an unrelated process and does not answer as an engine).
 */
export function acquireLock(dataDir: string, staleIf: (pid: number) => boolean = () => false): LockResult {
  const file = paths(dataDir).lock;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return { acquired: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number.parseInt(safeRead(file), 10);
    if (owner === process.pid) return { acquired: true };
    if (Number.isInteger(owner) && isAlive(owner) && !staleIf(owner)) return { acquired: false, ownerPid: owner };
    // Stale: move it aside atomically, and make sure what we moved is the stale lock and
    // not a fresh one another starter wrote in between.
    const aside = `${file}.stale.${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue;
    }
    const moved = Number.parseInt(safeRead(aside), 10);
    if (moved !== owner && Number.isInteger(moved) && isAlive(moved)) {
      try {
        fs.linkSync(aside, file); // put the fresh lock back; fails if someone took it meanwhile
      } catch {
        /* ignore */
      }
    }
    fs.rmSync(aside, { force: true });
  }
  const owner = Number.parseInt(safeRead(file), 10);
  return { acquired: false, ownerPid: Number.isInteger(owner) ? owner : -1 };
}

export function releaseLock(dataDir: string): void {
  const file = paths(dataDir).lock;
  if (Number.parseInt(safeRead(file), 10) === process.pid) fs.rmSync(file, { force: true });
}

function safeRead(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return '';
  }
}
