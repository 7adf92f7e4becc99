/** What the process benchmarks share: a real engine process, and the HumanEval prompts of the recorded pool. */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from '../engine/src/client';
import { readEngineInfo, type EngineInfo } from '../engine/src/discovery';

export const ROOT = path.resolve(__dirname, '..');
export const POOL = process.env.WINNOW_RECORDED_POOL ?? path.resolve(ROOT, '../shared/bench/humaneval/codegen16b_samples.jsonl');

/** The `generation_prompt` of every entry of the recorded pool. */
export function poolPrompts(): string[] {
  return fs
    .readFileSync(POOL, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { generation_prompt: string }).generation_prompt);
}

/** Starts `winnow serve` (CPU ranker) on `dataDir` and connects once it answers. */
export async function startBenchEngine(dataDir: string): Promise<{ child: ChildProcess; info: EngineInfo; client: EngineClient }> {
  const child = spawn(process.execPath, [path.join(ROOT, 'engine/out/cli.js'), 'serve', '--data-dir', dataDir, '--device', 'cpu'], { stdio: 'ignore' });
  let info = readEngineInfo(dataDir);
  for (let i = 0; i < 400 && !(info && info.pid === child.pid); i++) {
    await new Promise((r) => setTimeout(r, 25));
    info = readEngineInfo(dataDir);
  }
  if (!info || info.pid !== child.pid) throw new Error('engine did not start');
  const client = new EngineClient(info.endpoint);
  await client.request('ping', {}, 5000);
  return { child, info, client };
}

/** A numeric command-line option (`--name 5`), or its default. */
export function numberArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** The p-th percentile (nearest rank) of unsorted values; 0 for none. */
export function percentile(values: readonly number[], p: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length > 0 ? (s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? 0) : 0;
}
