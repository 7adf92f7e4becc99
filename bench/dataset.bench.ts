/**
 * The local dataset under load, against a real engine process (CPU ranker, fresh data folder):
 *
 *   node --import tsx bench/dataset.bench.ts [--json] [--completions 10000] [--seconds 10] [--events 100000]
 *
 * 1. Sustained event ingest while serving completions: one client keeps asking for
 *    completions (recorded backend, N = 8) while event senders push feedback events, in
 *    messages of 1 event (as a window sends them one by one) and of 50 (as the server
 *    flushes a queue); events/s counted by acknowledgements (each acknowledged event is
 *    committed to SQLite).
 * 2. Store size per 10,000 completions: that many completion records (HumanEval prompts as
 *    context, 8 candidates each, with features), then the database file and its live data.
 * 3. Triplet building for 100,000 events: feedback events for those completions (shown,
 *    rejected, accepted, partial, survival), then the engine's `triplets` request, which
 *    loads the inputs from SQLite, builds and stores the triplets.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineClient } from '../engine/src/client';
import { paths } from '../engine/src/discovery';
import type { CompleteReply, CompleteRequest, FeedbackEvent } from '../engine/src/protocol';
import { numberArg, POOL, poolPrompts, startBenchEngine } from './shared';

const arg = numberArg;
const json = process.argv.includes('--json');
const COMPLETIONS = arg('--completions', 10_000);
const SECONDS = arg('--seconds', 10);
const EVENTS = arg('--events', 100_000);

const prompts = poolPrompts();

let k = 0;
const request = (): CompleteRequest => ({
  prefix: prompts[k++ % prompts.length] ?? '',
  suffix: '',
  languageId: 'python',
  filePath: `/bench/file${k % 50}.py`,
  n: 8,
  budgetMs: 5000,
  generator: { backend: 'recorded', recordedPool: POOL, seed: k },
});

async function ingest(client: EngineClient, batch: number, senders: number, seconds: number) {
  const deadline = Date.now() + seconds * 1000;
  let events = 0;
  let completions = 0;
  const completer = (async () => {
    while (Date.now() < deadline) {
      await client.request('complete', request(), 5000);
      completions++;
    }
  })();
  const sender = async (w: number) => {
    for (let i = 0; Date.now() < deadline; i++) {
      const evs: FeedbackEvent[] = Array.from({ length: batch }, (_, j) => ({
        kind: 'shown',
        requestId: `ingest-${w}-${i}`,
        candidateId: `ingest-${w}-${i}:${j}`,
        rank: j % 8,
        rankerVersion: 'builtin-1',
        latencyMs: 12.5,
        time: Date.now(),
        data: { bench: true },
      }));
      const ack = await client.request('event', { events: evs }, 10_000);
      events += ack.stored;
    }
  };
  const t0 = performance.now();
  await Promise.all([completer, ...Array.from({ length: senders }, (_, w) => sender(w))]);
  const secs = (performance.now() - t0) / 1000;
  return { batch, senders, eventsPerSecond: Math.round(events / secs), completionsPerSecond: Math.round(completions / secs), seconds: Math.round(secs * 10) / 10 };
}

function eventsFor(r: CompleteReply, i: number): FeedbackEvent[] {
  const c = r.candidates;
  const base = { requestId: r.requestId, rankerVersion: r.rankerVersion, latencyMs: r.timings.totalMs, time: Date.now() };
  const out: FeedbackEvent[] = [];
  const first = c[0];
  const second = c[1];
  if (!first) return out;
  out.push({ ...base, kind: 'shown', candidateId: first.id, rank: 0 });
  switch (i % 4) {
    case 0: // accepted, then survival checks
      out.push({ ...base, kind: 'accepted', candidateId: first.id, rank: 0 });
      for (const [afterMs, fraction] of [[30_000, 1], [120_000, 0.9], [600_000, i % 8 === 0 ? 0.1 : 0.8]] as const) {
        out.push({ ...base, kind: 'survival', candidateId: first.id, rank: 0, data: { afterMs, fraction } });
      }
      break;
    case 1: // dismissed, then the next one shown and accepted
      out.push({ ...base, kind: 'rejected', candidateId: first.id, rank: 0, data: { reason: 'dismissed' } });
      if (second) {
        out.push({ ...base, kind: 'shown', candidateId: second.id, rank: 1 });
        out.push({ ...base, kind: 'accepted', candidateId: second.id, rank: 1 });
      }
      break;
    case 2:
      out.push({ ...base, kind: 'partially_accepted', candidateId: first.id, rank: 0, data: { acceptedChars: 12, totalChars: 40, how: 'word' } });
      break;
    default:
      out.push({ ...base, kind: 'rejected', candidateId: first.id, rank: 0, data: { reason: i % 3 === 0 ? 'typed_over' : 'timeout' } });
  }
  return out;
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-dataset-bench-'));
  const { child, client } = await startBenchEngine(dataDir);
  try {
    const ingestRuns = [await ingest(client, 1, 4, SECONDS), await ingest(client, 1, 32, SECONDS), await ingest(client, 50, 4, SECONDS)];
    await client.request('purge', { confirm: true }, 60_000);

    // 2. Store size per COMPLETIONS completion records.
    const replies: CompleteReply[] = [];
    for (let i = 0; i < COMPLETIONS; i++) replies.push(await client.request('complete', request(), 5000));
    await client.request('ping', {}, 5000);
    const st = await client.request('status', {}, 5000);
    const fileBytes = ['', '-wal'].reduce((a, ext) => a + (fs.existsSync(paths(dataDir).db + ext) ? fs.statSync(paths(dataDir).db + ext).size : 0), 0);

    // 3. Events for those completions and more (about 3.2 events per completion), until
    //    100,000 events, then one triplet build.
    let events = 0;
    for (let i = 0; events < EVENTS; i += 50) {
      while (replies.length < i + 50) replies.push(await client.request('complete', request(), 5000));
      const evs = replies.slice(i, i + 50).flatMap((r, j) => eventsFor(r, i + j));
      events += (await client.request('event', { events: evs }, 30_000)).stored;
    }
    const t0 = performance.now();
    const trip = await client.request('triplets', { limit: 1 }, 600_000);
    const wallMs = performance.now() - t0;

    const result = {
      ingest: ingestRuns,
      store: {
        completions: COMPLETIONS,
        requests: st.store.requests,
        liveMB: st.store.liveMB,
        fileMB: Math.round((fileBytes / 1048576) * 10) / 10,
        bytesPerCompletion: Math.round((st.store.liveMB * 1048576) / st.store.requests),
      },
      triplets: { events, requests: trip.stats.requests, triplets: trip.stats.triplets, buildMs: trip.stats.buildMs, requestWallMs: Math.round(wallMs), bySource: trip.stats.bySource },
      node: process.version,
      cpus: os.cpus().length,
      loadavg: os.loadavg().map((x) => Math.round(x * 10) / 10),
    };
    if (json) {
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    console.log('| events per message | concurrent senders | events/s acknowledged (committed) | completions/s served meanwhile |');
    console.log('| ---: | ---: | ---: | ---: |');
    for (const r of result.ingest) console.log(`| ${r.batch} | ${r.senders} | ${r.eventsPerSecond} | ${r.completionsPerSecond} |`);
    console.log(
      `\nStore after ${result.store.requests} completion records (N = 8, HumanEval prompts): live data ${result.store.liveMB} MB, ` +
        `file ${result.store.fileMB} MB (with WAL), ${result.store.bytesPerCompletion} bytes per completion`,
    );
    console.log(
      `Triplets from ${result.triplets.events} events over ${result.triplets.requests} requests: ${result.triplets.triplets} triplets, ` +
        `build ${result.triplets.buildMs} ms (load + build + save), ${result.triplets.requestWallMs} ms for the whole request`,
    );
    console.log(`(${result.node}, ${result.cpus} cores, load average ${result.loadavg.join(' ')})`);
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
