/**
 * Dataset operations shared by the engine (over the protocol) and the CLI (directly on the
 * store when no engine runs): build the triplets, list them, export them as JSONL, purge.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TripletRecord, TripletStats } from './protocol';
import type { Store } from './store';
import { buildTriplets } from './triplets';
import { mkdirp } from './fsutil';

/** Builds triplets from everything in the store and saves them; returns the build's figures. */
export function rebuildTriplets(store: Store): TripletStats {
  const t0 = performance.now();
  const { requests, events, outcomes } = store.loadTripletInputs();
  const { triplets, stats } = buildTriplets(requests, events, outcomes);
  store.replaceTriplets(triplets);
  return { ...stats, buildMs: Math.round(performance.now() - t0) };
}

export function listTriplets(store: Store, limit: number): { stats: TripletStats; triplets: TripletRecord[] } {
  const stats = rebuildTriplets(store);
  const triplets: TripletRecord[] = [];
  store.eachTriplet((t) => triplets.push(t), limit);
  return { stats, triplets };
}

/**
 * Writes the triplets as JSONL (one `{prompt, suffix, chosen, rejected, ...metadata}` a
 * line) to `out`, through a temp file renamed into place: a failed export leaves no half file.
 */
export function exportTriplets(store: Store, out: string): { path: string; count: number; stats: TripletStats } {
  if (!path.isAbsolute(out)) throw new Error(`export path must be absolute: ${out}`);
  let existing: fs.Stats | undefined;
  try {
    existing = fs.statSync(out);
  } catch {
    // a new file
  }
  if (existing && !existing.isFile()) throw new Error(`cannot export to ${out}: it is ${existing.isDirectory() ? 'a folder' : 'not a regular file'}; give a file name (for example ${path.join(out, 'winnow-triplets.jsonl')})`);
  mkdirp(path.dirname(out));
  const stats = rebuildTriplets(store);
  const tmp = `${out}.${process.pid}.tmp`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  let count = 0;
  try {
    let buffer = '';
    count = store.eachTriplet((t) => {
      buffer += `${JSON.stringify(t)}\n`;
      if (buffer.length > 1 << 20) {
        fs.writeSync(fd, buffer);
        buffer = '';
      }
    });
    fs.writeSync(fd, buffer);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, out);
  } catch (e) {
    fs.rmSync(tmp, { force: true }); // nothing left behind
    throw new Error(`cannot export to ${out}: ${(e as Error).message}`);
  }
  return { path: out, count, stats };
}
