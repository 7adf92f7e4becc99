/**
 * Load on one engine (issue 10): `windows` simulated windows, each its own DEALER client (as
 * each window's language server has), asking for `rate` completions a second (recorded backend:
 * HumanEval prompts, 8 candidates) and sending the feedback a window sends (shown for each
 * candidate, an acceptance now and then), with one training started in the middle. Measures
 * completion latency (p50/p99), the engine's CPU share, and acknowledged events lost (events
 * the engine acknowledged that are not in the store at the end: must be 0).
 *
 * Used by test/integration/load.test.ts (seconds) and bench/load.bench.ts (minutes).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { EngineClient } from '../../engine/src/client';
import type { CompleteRequest, FeedbackEvent } from '../../engine/src/protocol';
import { rssMiB } from '../fuzz/protocol';

export interface LoadOptions {
  endpoint: string;
  pid: number;
  dataDir: string;
  pool: string;
  windows: number;
  /** Completions per second per window. */
  rate: number;
  durationMs: number;
  /** Start one training at this share of the duration (0.5: the middle); undefined: none. */
  trainAt?: number;
}

export interface LoadReport {
  windows: number;
  rate: number;
  durationMs: number;
  completions: number;
  completionErrors: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Engine CPU time over wall time (1.0 = one core busy). */
  engineCpu: number;
  rssMiB: number;
  eventsAcked: number;
  eventsInStore: number;
  eventsLost: number;
  eventErrors: number;
  training?: { started: boolean; outcome?: string; trainMs?: number };
}

function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    // utime and stime are fields 14 and 15 of stat (11 and 12 after the command's ')').
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

function pct(sorted: number[], p: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number);
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const prompts = fs
    .readFileSync(o.pool, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => (JSON.parse(l) as { generation_prompt: string }).generation_prompt);
  const clients = Array.from({ length: o.windows }, () => new EngineClient(o.endpoint, { pid: o.pid }));
  const latencies: number[] = [];
  let completionErrors = 0;
  let eventsAcked = 0;
  let eventErrors = 0;
  let seq = 0;
  const cpu0 = cpuSeconds(o.pid);
  const t0 = performance.now();
  const inflight = new Set<Promise<void>>();
  const track = (p: Promise<void>) => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p));
  };
  const oneCompletion = async (w: number) => {
    const i = seq++;
    const client = clients[w] as EngineClient;
    const req: CompleteRequest = { prefix: prompts[i % prompts.length] as string, suffix: '', languageId: 'python', filePath: `/load/w${w}/f${i % 50}.py`, n: 8, budgetMs: 2000, generator: { backend: 'recorded', recordedPool: o.pool, seed: i } };
    const s = performance.now();
    let reply;
    try {
      reply = await client.request('complete', req, 10_000);
    } catch {
      completionErrors++;
      return;
    }
    latencies.push(performance.now() - s);
    if (reply.candidates.length === 0) return;
    const base = { requestId: reply.requestId, rankerVersion: reply.rankerVersion, time: Date.now() };
    const events: FeedbackEvent[] = reply.candidates.map((c) => ({ ...base, kind: 'shown', candidateId: c.id, rank: c.rank }));
    if (i % 3 === 0) {
      const c = reply.candidates[i % reply.candidates.length]!;
      events.push({ ...base, kind: 'accepted', candidateId: c.id, rank: c.rank });
    }
    try {
      const ack = await client.request('event', { events }, 10_000);
      eventsAcked += ack.stored + (ack.held ?? 0);
    } catch {
      eventErrors++;
    }
  };
  let training: LoadReport['training'];
  let trainJob: string | undefined;
  const trainAtMs = o.trainAt !== undefined ? o.durationMs * o.trainAt : undefined;
  const period = 1000 / o.rate;
  // Each window on its own schedule, staggered: `rate` completions a second, open loop.
  const timers = clients.map((_, w) =>
    setTimeout(() => {
      const tick = setInterval(() => {
        if (performance.now() - t0 >= o.durationMs) return clearInterval(tick);
        track(oneCompletion(w));
      }, period);
      timers.push(tick as unknown as NodeJS.Timeout);
    }, (w * period) / o.windows),
  );
  if (trainAtMs !== undefined) {
    setTimeout(() => {
      void clients[0]!.request('train', { rounds: 1, settings: { auto: false, minNewTriplets: 1, minPairs: 10, promotionMargin: 1, keepVersions: 10, rounds: 1 } }, 10_000).then(
        (r) => {
          trainJob = r.jobId;
          training = { started: r.started };
        },
        () => (training = { started: false }),
      );
    }, trainAtMs);
  }
  await new Promise((r) => setTimeout(r, o.durationMs));
  for (const t of timers) clearInterval(t);
  await Promise.all([...inflight]);
  const wall = (performance.now() - t0) / 1000;
  const engineCpu = (cpuSeconds(o.pid) - cpu0) / wall;
  if (trainJob) {
    // Let the training end, then read its outcome.
    for (let k = 0; k < 600; k++) {
      const st = await clients[0]!.request('trainStatus', {}, 5000);
      if (st.last?.jobId === trainJob) {
        training = { started: true, outcome: st.last.outcome, trainMs: st.last.trainMs };
        break;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const rss = rssMiB(o.pid);
  for (const c of clients) c.close();
  // Acknowledged means committed: every acknowledged event is in the store now.
  const db = new Database(path.join(o.dataDir, 'winnow.db'), { readonly: true });
  const eventsInStore = (db.prepare('SELECT COUNT(*) AS n FROM events').get() as { n: number }).n;
  db.close();
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    windows: o.windows,
    rate: o.rate,
    durationMs: o.durationMs,
    completions: latencies.length,
    completionErrors,
    p50Ms: Math.round(pct(sorted, 50) * 10) / 10,
    p99Ms: Math.round(pct(sorted, 99) * 10) / 10,
    maxMs: Math.round((sorted.at(-1) ?? 0) * 10) / 10,
    engineCpu: Math.round(engineCpu * 100) / 100,
    rssMiB: rss,
    eventsAcked,
    eventsInStore,
    eventsLost: Math.max(0, eventsAcked - eventsInStore),
    eventErrors,
    ...(training ? { training } : {}),
  };
}
