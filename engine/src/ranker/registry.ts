/**
 * The ranker registry: the versions of the ranker kept on disk under `<dataDir>/rankers/`
 * and which one is active.
 *
 * Layout:
 *   rankers/<version>.onnx     one file per version (immutable once added)
 *   rankers/active.json        {"version": "<version>"}
 *   rankers/<version>.onnx.corrupt-<timestamp>   a file set aside because it did not load
 *
 * Every write is atomic (write a temporary file in the same folder, fsync, rename), so a
 * crash never leaves a half-written model or pointer behind. Version names are restricted
 * to [A-Za-z0-9._-] so that they are safe as file names.
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil';
import { BUILTIN_SPEC, BUILTIN_VERSION } from '../features';
import { buildRankerModel } from './onnx';

const VERSION_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
const ACTIVE_FILE = 'active.json';

export function isValidVersion(version: string): boolean {
  return VERSION_RE.test(version) && !version.endsWith('.onnx');
}

/** Writes a file atomically: temporary file in the same folder, fsync, rename over. */
export interface ActiveState {
  version?: string;
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
    fs.mkdirSync(this.dir, { recursive: true });
    const file = this.pathOf(BUILTIN_VERSION);
    const want = buildRankerModel(BUILTIN_SPEC);
    let have: Buffer | undefined;
    try {
      have = fs.readFileSync(file);
    } catch {
      have = undefined;
    }
    if (!have || !Buffer.from(want).equals(have)) writeFileAtomic(file, want);
    if (this.activeVersion() === undefined) this.setActive(BUILTIN_VERSION);
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
      const v = (JSON.parse(text) as { version?: unknown }).version;
      if (typeof v === 'string' && isValidVersion(v)) return { version: v };
      return { problem: `${file} has no valid "version"` };
    } catch (e) {
      return { problem: `${file} is not JSON: ${(e as Error).message}` };
    }
  }

  /** The active version, or undefined when none is recorded (or active.json is unusable). */
  activeVersion(): string | undefined {
    return this.readActive().version;
  }

  setActive(version: string): void {
    if (!this.has(version)) throw new Error(`no ranker version ${JSON.stringify(version)} in ${this.dir}`);
    writeFileAtomic(path.join(this.dir, ACTIVE_FILE), `${JSON.stringify({ version })}\n`);
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
    fs.mkdirSync(this.dir, { recursive: true });
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
