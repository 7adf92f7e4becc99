/** Small file-system helpers shared by the engine's modules. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/** What Winnow keeps in a data folder (files and folders it owns), by name or name prefix. */
const OWN_ENTRY = /^(?:winnow\.db.*|engine\.(?:json|lock|sock)|training\.lock|last-training\.json|generator\.json|reward-model\.json|logs|rankers|bench-cache)$/;

/**
 * Makes a data folder private to its owner: the folder 0700, and what Winnow keeps in it (the
 * store and its WAL, logs, rankers, state files; folders 0700, files 0600), so that what older
 * versions created under a looser umask is tightened at every start. Only Winnow's own entries
 * are touched (a data folder set to a shared folder keeps the modes of everything else), and
 * the folder itself is left alone when it is the home folder or the root. Links are not
 * followed. Returns how many modes were changed. No-op on Windows (no POSIX modes).
 */
export function makePrivate(dataDir: string): number {
  if (process.platform === 'win32') return 0;
  let changed = 0;
  const fix = (p: string, want: number, st: fs.Stats) => {
    if ((st.mode & 0o777) === want) return;
    try {
      fs.chmodSync(p, want);
      changed++;
    } catch {
      // not ours (another user's file): left alone
    }
  };
  const walk = (p: string, level: number) => {
    let st: fs.Stats;
    try {
      st = fs.lstatSync(p);
    } catch {
      return;
    }
    if (st.isFile()) return fix(p, 0o600, st);
    if (!st.isDirectory()) return;
    fix(p, 0o700, st);
    if (level > 4) return;
    let names: string[] = [];
    try {
      names = fs.readdirSync(p);
    } catch {
      return;
    }
    for (const n of names) walk(path.join(p, n), level + 1);
  };
  const dir = path.resolve(dataDir);
  let st: fs.Stats;
  try {
    st = fs.lstatSync(dir);
  } catch {
    return 0;
  }
  if (!st.isDirectory()) return 0;
  if (dir !== path.resolve(os.homedir()) && dir !== path.parse(dir).root) fix(dir, 0o700, st);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return changed;
  }
  for (const n of names) if (OWN_ENTRY.test(n)) walk(path.join(dir, n), 1);
  return changed;
}

/**
 * Creates a folder and the missing folders above it, like `mkdir -p`, with a bounded walk:
 * Node's own recursive mkdir never returns on some paths (`/proc/nope` loops forever, sync or
 * not), which froze the engine on `export --out /proc/nope/x.jsonl`. Throws a plain error
 * naming the folder that cannot be created.
 */
export function mkdirp(dirIn: string, mode = 0o777): void {
  const dir = path.resolve(dirIn);
  const missing: string[] = [];
  let cur = dir;
  for (let i = 0; ; i++) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot create the folder ${dir}: ${(e as Error).message}`);
    }
    if (st) {
      if (!st.isDirectory()) throw new Error(`cannot create the folder ${dir}: ${cur} is not a folder`);
      break;
    }
    missing.push(cur);
    const up = path.dirname(cur);
    if (up === cur || i > 255) throw new Error(`cannot create the folder ${dir}: no existing folder above it`);
    cur = up;
  }
  for (const d of missing.reverse()) {
    try {
      fs.mkdirSync(d, { mode });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(d).isDirectory()) continue; // made meanwhile
      throw new Error(`cannot create the folder ${d}: ${(e as Error).message}`);
    }
  }
}

/**
 * Writes a file so that readers see the old or the new content, never half of it, and the
 * new content survives a crash once this returns (temp file, fsync, rename). Mode 0600.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
