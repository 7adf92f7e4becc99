/**
 * The dashboard's aggregates on a large store:
 *
 *   node --import tsx bench/insights.bench.ts [--json] [--completions 120000] [--runs 7] [--keep]
 *
 * Builds a store of that many completions over 90 days (HumanEval prompts as context, 4
 * candidates each, with the engine's real schema and indexes), 5 feedback events per
 * completion (shown, then accepted, partially accepted or rejected, and survival checks) and
 * a triplet per accepted completion; then times the queries (engine/src/insights/queries.ts)
 * directly on the store, for a 30-day and a 365-day window, and through a real engine process
 * (the `insights` request: a worker thread on its own connection, and the reply).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { paths } from '../engine/src/discovery';
import { nullLog } from '../engine/src/log';
import type { FeedbackEvent } from '../engine/src/protocol';
import { Store, type RequestRecord } from '../engine/src/store';
import type { Triplet } from '../engine/src/triplets';
import { numberArg, poolPrompts, startBenchEngine } from './shared';

const arg = numberArg;
const json = process.argv.includes('--json');
const COMPLETIONS = arg('--completions', 120_000);
const RUNS = arg('--runs', 7);
const DAY = 86_400_000;
const LANGS = ['python', 'typescript', 'javascript', 'go', 'rust'];

function build(dataDir: string): { buildS: number; events: number; triplets: number; dbMB: number } {
  const t0 = performance.now();
  const prompts = poolPrompts();
  const store = Store.open(paths(dataDir).db, nullLog);
  const now = Date.now();
  let events = 0;
  const triplets: Triplet[] = [];
  for (let start = 0; start < COMPLETIONS; start += 2000) {
    const requests: RequestRecord[] = [];
    const evs: FeedbackEvent[] = [];
    for (let i = start; i < Math.min(COMPLETIONS, start + 2000); i++) {
      const id = `req-${i}`;
      const time = now - 90 * DAY + Math.floor((i / COMPLETIONS) * 90 * DAY);
      const executed = i % 7 === 0;
      requests.push({
        id,
        time,
        filePath: `/w/file${i % 300}.py`,
        languageId: LANGS[i % LANGS.length] as string,
        prefix: prompts[i % prompts.length] ?? '',
        suffix: '',
        n: 8 - (i % 3),
        nAsked: 8,
        trigger: i % 20 === 0 ? 'manual' : 'auto',
        backend: 'openai',
        rankerVersion: 'builtin-4',
        sampled: 8,
        latencyMs: 300 + (i % 500),
        generateMs: 250 + (i % 400),
        ...(executed ? { executeMs: 30, exec: { ran: 4, passed: i % 3, changedPick: i % 2 === 0 } } : {}),
        candidates: [0, 1, 2, 3].map((rank) => ({ id: `${id}:${rank}`, rank, text: `    return candidate_${rank}(x)  # ${i}`, score: -rank, votes: 1, features: new Float32Array(30).fill(rank) })),
      });
      const shownRank = i % 5 === 0 ? 1 : 0;
      const ev = (kind: FeedbackEvent['kind'], dt: number, data?: Record<string, unknown>): FeedbackEvent => ({ kind, requestId: id, candidateId: `${id}:${shownRank}`, rank: shownRank, time: time + dt, ...(data ? { data } : {}) });
      const outcome = i % 4;
      evs.push(
        ev('shown', 10),
        outcome === 0 ? ev('accepted', 900) : outcome === 1 ? ev('partially_accepted', 900, { acceptedChars: 5, totalChars: 20, how: 'word' }) : ev('rejected', 900, { reason: 'typed_over' }),
        ev('survival', 30_900, { fraction: 1, checkpointMs: 30_000 }),
        ev('survival', 120_900, { fraction: 0.9, checkpointMs: 120_000 }),
        ev('survival', 600_900, { fraction: 0.8, checkpointMs: 600_000 }),
      );
      if (outcome === 0) {
        triplets.push({ requestId: id, promptHash: `h${i}`, chosenId: `${id}:${shownRank}`, rejectedId: `${id}:3`, source: 'accepted_vs_shown', pairing: 'all', weight: 1, split: i % 10 === 0 ? 'validation' : 'train', editDistance: 4 } as Triplet);
      }
    }
    store.writeBatch(requests, evs);
    events += evs.length;
  }
  store.replaceTriplets(triplets);
  store.close();
  const dbMB = fs.statSync(paths(dataDir).db).size / 1048576;
  return { buildS: (performance.now() - t0) / 1000, events, triplets: triplets.length, dbMB };
}

function stats(ms: number[]): { p50: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  return { p50: Math.round(s[Math.floor(s.length / 2)] ?? 0), max: Math.round(s[s.length - 1] ?? 0) };
}

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-insights-bench-'));
  const built = build(dataDir);
  const direct: Record<string, { p50: number; max: number }> = {};
  const store = Store.open(paths(dataDir).db, nullLog, { readonly: true });
  for (const days of [30, 365]) {
    const ms: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      store.insights({ since: Date.now() - days * DAY });
      ms.push(performance.now() - t0);
    }
    direct[`${days} days`] = stats(ms);
  }
  store.close();
  const engine = await startBenchEngine(dataDir);
  const viaEngine: number[] = [];
  let completions = 0;
  try {
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const reply = await engine.client.request('insights', { since: Date.now() - 30 * DAY - r }, 60_000);
      viaEngine.push(performance.now() - t0);
      completions = reply.totals.completions;
    }
  } finally {
    await engine.client.request('shutdown', {}, 5000).catch(() => undefined);
    engine.client.close();
  }
  if (process.argv.includes('--keep')) process.stderr.write(`store kept in ${dataDir}\n`);
  else fs.rmSync(dataDir, { recursive: true, force: true });
  const result = { completions, events: built.events, triplets: built.triplets, dbMB: Math.round(built.dbMB), buildS: Math.round(built.buildS), direct, engine30Days: stats(viaEngine), runs: RUNS };
  if (json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    [
      `store: ${result.completions} completions, ${result.events} events, ${result.triplets} triplets, ${result.dbMB} MB (built in ${result.buildS} s)`,
      `| window | queries on the store p50 / max (ms) |`,
      `|---|---|`,
      ...Object.entries(direct).map(([w, s]) => `| ${w} | ${s.p50} / ${s.max} |`),
      `engine \`insights\` round trip (worker thread, 30 days): p50 ${result.engine30Days.p50} ms, max ${result.engine30Days.max} ms over ${RUNS} runs`,
    ].join('\n') + '\n',
  );
}

void main();
