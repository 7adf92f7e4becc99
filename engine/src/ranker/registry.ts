/**
 * The ranker registry: the versions of the ranker kept on disk under `<dataDir>/rankers/`
 * and which one is active.
 *
 * Layout:
 *   rankers/<version>.onnx     one file per version (immutable once added)
 *   rankers/<version>.json     what the registry keeps about it (RankerVersionInfo less `active`):
 *                              parent, feature set, family and hyper-parameters, triplets by
 *                              source and split, held-out figures, rounds, decision
 *   rankers/active.json        {"version": "<version>", "since": <ms>, "reason": "..."}
 *   rankers/last-training.json the summary of the last training that ended, and what the next
 *                              background training compares against
 *   rankers/<version>.onnx.corrupt-<timestamp>   a file set aside because it did not load
 *
 * Every write is atomic (write a temporary file in the same folder, fsync, rename), so a
 * crash never leaves a half-written model or pointer behind. Version names are restricted
 * to [A-Za-z0-9._-] so that they are safe as file names.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { mkdirp, writeFileAtomic } from '../fsutil';
import { BUILTIN_SPEC, BUILTIN_VERSION, FEATURE_SET_ID } from '../features';
import type { RankerVersionInfo, TrainSummary } from '../protocol';
import { buildRankerModel, readModelMetadata } from './onnx';

/** What a version's sidecar file holds. */
export type VersionMeta = Omit<RankerVersionInfo, 'active'>;

/** rankers/last-training.json. */
export interface TrainingState {
  last?: TrainSummary;
  /** Triplets built at the last training that trained (background training counts new ones from it). */
  tripletTotal?: number;
  /** The newest event id at the last attempt (no new events: no background attempt). */
  lastEventId?: number;
  /** The highest N of a version vN ever written (names are never reused after pruning). */
  lastVersionNumber?: number;
}

const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ACTIVE_FILE = 'active.json';

export function isValidVersion(version: string): boolean {
  return VERSION_RE.test(version) && !version.endsWith('.onnx');
}

/** Writes a file atomically: temporary file in the same folder, fsync, rename over. */
export interface ActiveState {
  version?: string;
  /** When it became active, and why (absent in files written before versions had reasons). */
  since?: number;
  reason?: string;
  /** Why active.json could not be used, when it exists but is unreadable or invalid. */
  problem?: string;
}

export class RankerRegistry {
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = path.join(dataDir, 'rankers');
  }

  pathOf(version: string): string {
    if (!isValidVersion(version)) throw new Error(`invalid ranker version ${JSON.stringify(version)}`);
    return path.join(this.dir, `${version}.onnx`);
  }

  has(version: string): boolean {
    return isValidVersion(version) && fs.existsSync(this.pathOf(version));
  }

  /**
   * Makes sure the built-in ranker's file exists with the exact bytes this build produces
   * (rewriting it when missing or different), and makes it active when nothing valid is.
   */
  ensureBuiltin(): void {
    mkdirp(this.dir, 0o700);
    const file = this.pathOf(BUILTIN_VERSION);
    const want = buildRankerModel(BUILTIN_SPEC);
    let have: Buffer | undefined;
    try {
      have = fs.readFileSync(file);
    } catch {
      have = undefined;
    }
    if (!have || !Buffer.from(want).equals(have)) writeFileAtomic(file, want);
    if (this.activeVersion() === undefined) this.setActive(BUILTIN_VERSION, 'the built-in ranker (no other version active)');
  }

  /** The active version as recorded in active.json, or a problem when it cannot be used. */
  readActive(): ActiveState {
    const file = path.join(this.dir, ACTIVE_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      return { problem: `cannot read ${file}: ${(e as Error).message}` };
    }
    try {
      const o = JSON.parse(text) as { version?: unknown; since?: unknown; reason?: unknown };
      const v = o.version;
      if (typeof v === 'string' && isValidVersion(v)) {
        return { version: v, ...(typeof o.since === 'number' ? { since: o.since } : {}), ...(typeof o.reason === 'string' ? { reason: o.reason } : {}) };
      }
      return { problem: `${file} has no valid "version"` };
    } catch (e) {
      return { problem: `${file} is not JSON: ${(e as Error).message}` };
    }
  }

  /** The active version, or undefined when none is recorded (or active.json is unusable). */
  activeVersion(): string | undefined {
    return this.readActive().version;
  }

  setActive(version: string, reason = 'activated'): void {
    if (!this.has(version)) throw new Error(`no ranker version ${JSON.stringify(version)} in ${this.dir}`);
    writeFileAtomic(path.join(this.dir, ACTIVE_FILE), `${JSON.stringify({ version, since: Date.now(), reason })}\n`);
  }

  metaPath(version: string): string {
    return this.pathOf(version).replace(/\.onnx$/, '.json');
  }

  /** What the registry keeps about a version; for files without a sidecar, what their metadata says. */
  readMeta(version: string): VersionMeta | undefined {
    if (version === BUILTIN_VERSION || /^builtin-\d+$/.test(version)) {
      return { version, builtin: true, featureSet: version === BUILTIN_VERSION ? FEATURE_SET_ID : 'older', family: 'linear (hand-weighted)', createdAt: 0 };
    }
    try {
      const m = JSON.parse(fs.readFileSync(this.metaPath(version), 'utf8')) as VersionMeta;
      if (m && typeof m === 'object' && m.version === version) return m;
    } catch {
      // no sidecar: fall back to the model's own metadata
    }
    try {
      const file = this.pathOf(version);
      const meta = readModelMetadata(fs.readFileSync(file));
      return { version, builtin: false, featureSet: meta['winnow.featureSet'] ?? 'unknown', family: meta['winnow.family'] ?? 'unknown', createdAt: fs.statSync(file).mtimeMs, ...(meta['winnow.parent'] ? { parent: meta['winnow.parent'] } : {}) };
    } catch {
      return undefined;
    }
  }

  /** Every version with what is known of it, oldest first, the active one marked. */
  listInfo(): RankerVersionInfo[] {
    const active = this.activeVersion();
    return this.list().flatMap((v) => {
      const m = this.readMeta(v);
      return m ? [{ ...m, active: v === active }] : [];
    });
  }

  /** The next free trained-version name: v1, v2, ... (never reused, even after pruning). */
  nextVersion(): string {
    let max = 0;
    let names: string[] = [];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      // no folder yet
    }
    for (const n of names) {
      const m = /^v(\d+)\./.exec(n);
      if (m) max = Math.max(max, Number(m[1]));
    }
    return `v${Math.max(max, this.readTrainingState().lastVersionNumber ?? 0) + 1}`;
  }

  /** Adds a trained version with its sidecar (the sidecar first: a version file always has one). */
  addVersion(meta: VersionMeta, bytes: Uint8Array): void {
    mkdirp(this.dir, 0o700);
    if (this.has(meta.version)) throw new Error(`ranker version ${meta.version} already exists`);
    writeFileAtomic(this.metaPath(meta.version), `${JSON.stringify(meta, null, 2)}\n`);
    this.add(meta.version, bytes);
    const n = /^v(\d+)$/.exec(meta.version);
    if (n) {
      const state = this.readTrainingState();
      this.writeTrainingState({ ...state, lastVersionNumber: Math.max(Number(n[1]), state.lastVersionNumber ?? 0) });
    }
  }

  /**
   * Deletes the oldest trained versions beyond `keep` (built-in ones are not counted and never
   * deleted); the active version and its parent are always kept. Returns what was deleted.
   */
  prune(keep: number): string[] {
    const active = this.activeVersion();
    const parent = active ? this.readMeta(active)?.parent : undefined;
    const trained = this.list().filter((v) => !/^builtin-\d+$/.test(v));
    const over = trained.length - Math.max(1, keep);
    if (over <= 0) return [];
    const removed: string[] = [];
    for (const v of trained) {
      if (removed.length >= over) break;
      if (v === active || v === parent) continue;
      fs.rmSync(this.pathOf(v), { force: true });
      fs.rmSync(this.metaPath(v), { force: true });
      removed.push(v);
    }
    return removed;
  }

  readTrainingState(): TrainingState {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(this.dir, 'last-training.json'), 'utf8')) as TrainingState;
      return s && typeof s === 'object' ? s : {};
    } catch {
      return {};
    }
  }

  writeTrainingState(s: TrainingState): void {
    mkdirp(this.dir, 0o700);
    writeFileAtomic(path.join(this.dir, 'last-training.json'), `${JSON.stringify(s, null, 2)}\n`);
  }

  /** Versions on disk, oldest first (by modification time, then name). */
  list(): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.dir);
    } catch {
      return [];
    }
    return names
      .filter((n) => n.endsWith('.onnx') && isValidVersion(n.slice(0, -5)))
      .map((n) => ({ version: n.slice(0, -5), mtime: fs.statSync(path.join(this.dir, n)).mtimeMs }))
      .sort((a, b) => a.mtime - b.mtime || a.version.localeCompare(b.version))
      .map((e) => e.version);
  }

  /** Adds a new version (does not activate it). Versions are immutable: adding an existing one throws. */
  add(version: string, bytes: Uint8Array): string {
    const file = this.pathOf(version);
    mkdirp(this.dir, 0o700);
    if (fs.existsSync(file)) throw new Error(`ranker version ${version} already exists`);
    writeFileAtomic(file, bytes);
    return file;
  }

  /** Moves a version's file aside as `<version>.onnx.corrupt-<timestamp>`; returns the new path. */
  quarantine(version: string): string | undefined {
    const file = this.pathOf(version);
    if (!fs.existsSync(file)) return undefined;
    const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(file, aside);
    return aside;
  }
}
