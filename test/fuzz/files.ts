/**
 * Random bytes to every file reader (issue 10): the recorded pool, the store, ranker files,
 * `active.json`, the reward model folder check, and the settings normalizers. Each reader must
 * return or throw an Error with a message, never crash the process, hang or throw a non-Error.
 * Seeded; used by test/integration/fuzz.test.ts (small) and scripts/fuzz.mjs (full size).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadPool } from '../../engine/src/generators/recorded';
import { mulberry32 } from '../../engine/src/random';
import { readModelMetadata } from '../../engine/src/ranker/onnx';
import { Ranker } from '../../engine/src/ranker/ranker';
import { RankerRegistry } from '../../engine/src/ranker/registry';
import { checkRewardFolder } from '../../engine/src/reward/folder';
import { Store } from '../../engine/src/store';
import { rewardModelSettingsFrom, settingsFrom, trainingSettingsFrom } from '../../server/src/protocol';

export interface FileFuzzReport {
  cases: number;
  /** Reader → how many cases it accepted and refused (with an Error). */
  byReader: Record<string, { accepted: number; refused: number }>;
  /** What went wrong: a non-Error thrown, or an Error without a message. */
  failures: string[];
  durationMs: number;
}

/** Random content: raw bytes, or mangled JSON / JSONL / ONNX-like bytes (they get further). */
function content(r: () => number, seeds: Buffer[]): Buffer {
  const kind = Math.floor(r() * 4);
  const n = Math.floor(r() * (r() < 0.1 ? 200_000 : 2000));
  if (kind === 0 || seeds.length === 0) return Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
  const seed = seeds[Math.floor(r() * seeds.length)] as Buffer;
  const b = Buffer.from(seed);
  if (kind === 1) return b.subarray(0, Math.floor(r() * b.length)); // truncated
  for (let i = Math.floor(r() * 20); i > 0; i--) b[Math.floor(r() * b.length)] = Math.floor(r() * 256); // flipped bytes
  return b;
}

function randomJsonish(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 7));
  if (k === 0) return null;
  if (k === 1) return r() < 0.5;
  if (k === 2) return [r() * 1e9 - 5e8, -1, 0, 1e308, 3.5][Math.floor(r() * 5)];
  if (k === 3 || k === 4) return ['', 'x', '../..', '\u0000', 'auto', 'cuda', 'on', '~/m', 'x'.repeat(5000)][Math.floor(r() * 9)];
  if (k === 5) return Array.from({ length: Math.floor(r() * 4) }, () => randomJsonish(r, depth + 1));
  const o: Record<string, unknown> = {};
  for (const key of ['enabled', 'generator', 'backend', 'url', 'candidates', 'latencyBudgetMs', 'dataset', 'maxSizeMB', 'training', 'auto', 'minPairs', 'rewardModel', 'rewardModelMaxTokens', '__proto__', 'execution', 'exclude']) if (r() < 0.3) o[key] = randomJsonish(r, depth + 1);
  return o;
}

export async function fuzzFiles(o: { dir: string; cases: number; seed: number; seedFiles: { pool: string; ranker: string; rewardFolder: string } }): Promise<FileFuzzReport> {
  const t0 = performance.now();
  const r = mulberry32(o.seed);
  const byReader: FileFuzzReport['byReader'] = {};
  const failures: string[] = [];
  const seeds = {
    pool: [fs.readFileSync(o.seedFiles.pool).subarray(0, 50_000)],
    ranker: [fs.readFileSync(o.seedFiles.ranker)],
    onnx: [fs.readFileSync(path.join(o.seedFiles.rewardFolder, 'model.onnx'))],
    tokenizer: [fs.readFileSync(path.join(o.seedFiles.rewardFolder, 'tokenizer.json'))],
    active: [Buffer.from('{"version":"builtin-4","since":1,"reason":"x"}')],
  };
  const note = (reader: string, f: () => unknown | Promise<unknown>) => async (i: number) => {
    const slot = (byReader[reader] ??= { accepted: 0, refused: 0 });
    try {
      await f();
      slot.accepted++;
    } catch (e) {
      if (!(e instanceof Error) || !e.message) failures.push(`${reader} #${i}: threw ${e instanceof Error ? 'an Error without a message' : typeof e}`);
      else slot.refused++;
    }
  };
  for (let i = 0; i < o.cases; i++) {
    const caseDir = path.join(o.dir, `c${i % 8}`);
    fs.rmSync(caseDir, { recursive: true, force: true });
    fs.mkdirSync(caseDir, { recursive: true });
    const which = Math.floor(r() * 7);
    if (which === 0) {
      const f = path.join(caseDir, 'pool.jsonl');
      fs.writeFileSync(f, content(r, seeds.pool));
      await note('recorded pool', () => loadPool(f))(i);
    } else if (which === 1) {
      const f = path.join(caseDir, 'winnow.db');
      fs.writeFileSync(f, content(r, []));
      await note('store', () => {
        const s = Store.open(f, () => undefined, { check: true });
        try {
          s.counts();
          s.listEvents({ limit: 10 });
        } finally {
          s.close();
        }
      })(i);
    } else if (which === 2) {
      const f = path.join(caseDir, 'v1.onnx');
      const bytes = content(r, seeds.ranker);
      fs.writeFileSync(f, bytes);
      await note('ranker metadata', () => readModelMetadata(bytes))(i);
      await note('ranker file', async () => (await Ranker.load(f, { device: 'cpu' })).dispose())(i);
    } else if (which === 3) {
      fs.mkdirSync(path.join(caseDir, 'rankers'), { recursive: true });
      fs.writeFileSync(path.join(caseDir, 'rankers', 'active.json'), content(r, seeds.active));
      await note('active.json', () => new RankerRegistry(caseDir).readActive())(i);
    } else if (which === 4) {
      const folder = path.join(caseDir, 'rm');
      fs.mkdirSync(folder);
      fs.writeFileSync(path.join(folder, 'model.onnx'), content(r, seeds.onnx));
      fs.writeFileSync(path.join(folder, 'tokenizer.json'), content(r, seeds.tokenizer));
      if (r() < 0.3) fs.writeFileSync(path.join(folder, 'config.json'), content(r, []));
      await note('reward model folder', () => checkRewardFolder(folder, { maxBytes: 1e9 }))(i);
    } else {
      const raw = r() < 0.5 ? randomJsonish(r) : (() => {
        try {
          return JSON.parse(content(r, [Buffer.from(JSON.stringify({ generator: { backend: 'openai' }, training: { auto: true } }))]).toString('utf8')) as unknown;
        } catch {
          return undefined;
        }
      })();
      await note('settings', () => {
        settingsFrom(raw);
        trainingSettingsFrom(raw);
        rewardModelSettingsFrom(raw);
      })(i);
    }
  }
  return { cases: o.cases, byReader, failures, durationMs: Math.round(performance.now() - t0) };
}
