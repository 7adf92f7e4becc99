// Seeds a data folder with recorded-backend completions and the feedback of a simulated
// developer, through the engine's own protocol (a real engine process on that folder, stopped
// afterwards), so that a training from the editor has enough triplets for the promotion gate.
// The developer has one taste the built-in ranker does not weigh: they accept the longest
// candidate shown (as in test/integration/training.test.ts), so a trained ranker can beat it.
import * as fs from 'node:fs';
import type { FeedbackEvent } from '../../engine/src/protocol';
import { startEngine } from '../helpers';

export interface SeedResult {
  requests: number;
  events: number;
}

/** `requests` completions over the pool's prompts (skipping `skipTask`), every candidate shown, the longest accepted. */
export async function seedFeedback(dataDir: string, pool: string, requests: number, skipTask?: string): Promise<SeedResult> {
  const prompts = fs
    .readFileSync(pool, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { task_id: string; generation_prompt: string })
    .filter((e) => e.task_id !== skipTask)
    .map((e) => e.generation_prompt);
  const engine = await startEngine(dataDir);
  let events = 0;
  let done = 0;
  try {
    for (let i = 0; i < requests; i++) {
      const prefix = prompts[i % prompts.length]!;
      const r = await engine.client.request(
        'complete',
        { prefix, suffix: '', languageId: 'python', filePath: `/seed/he_${i}.py`, n: 8, budgetMs: 5000, generator: { backend: 'recorded', recordedPool: pool, seed: i } },
        10_000,
      );
      if (r.candidates.length < 2) continue;
      const longest = [...r.candidates].sort((a, b) => b.text.length - a.text.length)[0]!;
      const base = { requestId: r.requestId, rankerVersion: r.rankerVersion, time: Date.now() };
      const batch: FeedbackEvent[] = r.candidates.map((c) => ({ ...base, kind: 'shown', candidateId: c.id, rank: c.rank }));
      batch.push({ ...base, kind: 'accepted', candidateId: longest.id, rank: longest.rank });
      const ack = await engine.client.request('event', { events: batch }, 10_000);
      events += ack.stored;
      done++;
    }
  } finally {
    await engine.stop();
  }
  return { requests: done, events };
}
