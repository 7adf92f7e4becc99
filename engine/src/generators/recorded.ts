/**
 * The `recorded` backend: replays stored samples from a JSONL pool, one JSON object a line
 * with `task_id`, `generation_prompt` and `samples` (the format of
 * shared/bench/humaneval/codegen16b_samples.jsonl). A request whose document prefix ends
 * with an entry's `generation_prompt` (trailing whitespace ignored) gets N of that entry's
 * samples, chosen by a seeded shuffle, so the same request gets the same samples. Used for
 * offline demos, tests and benchmarks.
 */
import * as fs from 'node:fs';
import type { GeneratorConfig } from '../protocol';
import * as path from 'node:path';
import type { Generator, ProbeResult, SampleRequest, SampleResult } from './types';
import { mulberry32 } from '../random';

export interface PoolEntry {
  taskId: string;
  prompt: string;
  /** `prompt` without trailing whitespace: what a document prefix must end with. */
  promptTrimmed: string;
  samples: string[];
}

interface CachedPool {
  mtimeMs: number;
  size: number;
  entries: PoolEntry[];
}

/** Pools kept in memory, by real path, least recently used dropped first. */
const MAX_POOLS = 4;
/** A pool bigger than this is refused (HumanEval's 164 tasks × 100 samples are 3.7 MB). */
export const MAX_POOL_BYTES = 256 * 1024 * 1024;
const pools = new Map<string, CachedPool>();

/**
 * Loads (and caches, by real path and modification time; at most {@link MAX_POOLS}) a pool;
 * throws with the line number on bad lines. Only a regular file is read: a FIFO, a device or
 * a folder would block or never end.
 */
export function loadPool(fileIn: string): PoolEntry[] {
  let file: string;
  let st: fs.Stats;
  try {
    file = fs.realpathSync(fileIn);
    st = fs.statSync(file);
  } catch (e) {
    throw new Error(`recorded pool ${fileIn}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
  if (!st.isFile()) throw new Error(`recorded pool ${fileIn} is not a regular file (a JSONL file is needed)`);
  if (st.size > MAX_POOL_BYTES) throw new Error(`recorded pool ${fileIn} is ${Math.round(st.size / 1048576)} MB, more than ${MAX_POOL_BYTES / 1048576} MB`);
  const cached = pools.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) {
    pools.delete(file); // most recently used last
    pools.set(file, cached);
    return cached.entries;
  }
  const entries: PoolEntry[] = [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line.trim().length === 0) return;
    let o: { task_id?: unknown; generation_prompt?: unknown; samples?: unknown };
    try {
      o = JSON.parse(line) as typeof o;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
    }
    if (typeof o.generation_prompt !== 'string' || !Array.isArray(o.samples)) {
      throw new Error(`${file}:${i + 1}: needs "generation_prompt" (string) and "samples" (array of strings)`);
    }
    entries.push({
      taskId: typeof o.task_id === 'string' ? o.task_id : `line-${i + 1}`,
      prompt: o.generation_prompt,
      promptTrimmed: o.generation_prompt.trimEnd(),
      samples: o.samples.filter((s): s is string => typeof s === 'string'),
    });
  });
  // Longest prompts first, so that a prompt that ends another one does not shadow it.
  entries.sort((a, b) => b.promptTrimmed.length - a.promptTrimmed.length);
  pools.delete(file);
  pools.set(file, { mtimeMs: st.mtimeMs, size: st.size, entries });
  while (pools.size > MAX_POOLS) pools.delete(pools.keys().next().value as string);
  return entries;
}

/** Pools in memory now (tests). */
export function cachedPoolCount(): number {
  return pools.size;
}

export function findEntry(entries: readonly PoolEntry[], prefix: string): PoolEntry | undefined {
  const p = prefix.trimEnd();
  return entries.find((e) => e.promptTrimmed.length > 0 && p.endsWith(e.promptTrimmed));
}

function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The first `n` indices of a seeded shuffle of `0..count-1`. */
export function seededPick(count: number, n: number, seed: number): number[] {
  const idx = Array.from({ length: count }, (_, i) => i);
  const r = mulberry32(seed);
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j] as number, idx[i] as number];
  }
  return idx.slice(0, Math.min(n, count));
}

/**
 * Re-bases a sample (which continues `entry.prompt`) onto the cursor: the document may have
 * different whitespace after the prompt than the prompt itself had (a blank line, the
 * indentation of the next line already typed).
 */
export function alignToCursor(entry: PoolEntry, sample: string, prefix: string): string {
  const typedTail = prefix.slice(prefix.trimEnd().length); // whitespace typed after the prompt
  const continuation = entry.prompt.slice(entry.promptTrimmed.length) + sample;
  if (continuation.startsWith(typedTail)) return continuation.slice(typedTail.length);
  if (!typedTail.includes('\n')) return continuation.replace(/^[ \t]+/, '');
  const cursorIndent = typedTail.slice(typedTail.lastIndexOf('\n') + 1);
  const fromLineStart = continuation.replace(/^(?:[ \t]*\n)+/, '');
  if (fromLineStart.startsWith(cursorIndent)) return fromLineStart.slice(cursorIndent.length);
  return fromLineStart.replace(/^[ \t]+/, '');
}

export class RecordedGenerator implements Generator {
  constructor(readonly config: GeneratorConfig) {}

  async sample(req: SampleRequest): Promise<SampleResult> {
    const file = this.config.recordedPool;
    if (!file) return { samples: [], problem: { code: 'config', message: 'The recorded backend needs winnow.generator.recordedPool: the path of a JSONL pool.' } };
    let entries: PoolEntry[];
    try {
      entries = loadPool(file);
    } catch (e) {
      return { samples: [], problem: { code: 'config', message: `The recorded pool cannot be used: ${(e as Error).message}` } };
    }
    const entry = findEntry(entries, req.prefix);
    if (!entry) return { samples: [] }; // no recorded prompt here: nothing to suggest, not an error
    const picks = seededPick(entry.samples.length, req.n, hash32(`${this.config.seed ?? 0}:${entry.taskId}`));
    return { samples: picks.map((i) => ({ text: alignToCursor(entry, entry.samples[i] ?? '', req.prefix) })) };
  }

  /** The first task's prompt: the only kind of prompt a pool answers. */
  testPrompt(): string | undefined {
    try {
      return this.config.recordedPool ? loadPool(this.config.recordedPool)[0]?.prompt : undefined;
    } catch {
      return undefined;
    }
  }

  async probe(): Promise<ProbeResult> {
    try {
      if (!this.config.recordedPool) throw new Error('winnow.generator.recordedPool is not set');
      const pool = loadPool(this.config.recordedPool);
      return { reachable: true, models: [`${path.basename(this.config.recordedPool)} (${pool.length} recorded tasks)`] };
    } catch (e) {
      return { reachable: false, problem: { code: 'config', message: `Recorded pool unusable: ${(e as Error).message}` } };
    }
  }
}
