/**
 * The dashboard's aggregates on the real SQLite store, and through a real engine process
 * (`insights` in its worker thread, `probe`, latency-aware N against the fixture model server).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { nullLog } from '../../engine/src/log';
import type { FeedbackEvent } from '../../engine/src/protocol';
import { InsightsThread } from '../../engine/src/insights/thread';
import { Store, type RequestRecord } from '../../engine/src/store';
import { startOpenAIFixture } from '../fixtures/openaiServer';
import { POOL, startEngine, tempDir, waitFor } from '../helpers';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 10, 1); // a bucket edge

function request(id: string, time: number, languageId: string, extra: Partial<RequestRecord> = {}): RequestRecord {
  return {
    id,
    time,
    filePath: `/w/${id}`,
    languageId,
    prefix: 'def f():\n',
    suffix: '',
    n: 4,
    backend: 'openai',
    rankerVersion: 'builtin-4',
    sampled: 4,
    latencyMs: 300,
    generateMs: 200,
    candidates: [0, 1, 2].map((rank) => ({ id: `${id}:${rank}`, rank, text: `return ${rank}`, score: -rank, votes: 1 })),
    ...extra,
  };
}

function event(kind: FeedbackEvent['kind'], req: string, rank: number, time: number): FeedbackEvent {
  return { kind, requestId: req, candidateId: `${req}:${rank}`, rank, time };
}

test('insights: totals, growth by day, acceptance by language and rank, latency, execution', () => {
  const store = Store.open(path.join(tempDir(), 'winnow.db'), nullLog);
  try {
    store.writeBatch(
      [
        request('a', T0 + 1000, 'python', { exec: { ran: 3, passed: 1, changedPick: true }, executeMs: 50 }),
        request('b', T0 + 2000, 'python', { n: 2, nAsked: 8, trigger: 'manual' }),
        request('c', T0 + DAY + 5, 'typescript'),
        request('old', T0 - 40 * DAY, 'go'),
      ],
      [
        event('shown', 'a', 0, T0 + 1100),
        event('accepted', 'a', 0, T0 + 1200),
        event('shown', 'b', 0, T0 + 2100),
        event('shown', 'b', 1, T0 + 2200), // cycled to the second candidate
        event('partially_accepted', 'b', 1, T0 + 2300),
        event('partially_accepted', 'b', 1, T0 + 2400), // the same suggestion, word by word: one suggestion
        event('shown', 'c', 0, T0 + DAY + 100),
        event('rejected', 'c', 0, T0 + DAY + 200),
        event('shown', 'old', 0, T0 - 40 * DAY + 1),
      ],
    );
    store.replaceTriplets([
      { requestId: 'a', promptHash: 'h', chosenId: 'a:0', rejectedId: 'a:1', source: 'accepted_vs_shown', pairing: 'all', weight: 1, split: 'train', editDistance: 3 },
      { requestId: 'c', promptHash: 'h2', chosenId: 'c:1', rejectedId: 'c:0', source: 'pass_rate', pairing: 'all', weight: 1, split: 'train', editDistance: 3 },
    ]);

    const r = store.insights({ since: T0, bucketMs: DAY }, T0 + 2 * DAY);
    assert.deepEqual(r.buckets, [T0, T0 + DAY]);
    // Totals are all-time (the 40-day-old request counts), as `winnow status` counts.
    assert.equal(r.totals.completions, 4);
    assert.deepEqual(r.totals.events, { shown: 5, accepted: 1, partially_accepted: 2, rejected: 1 });
    assert.deepEqual(r.totals.triplets, { accepted_vs_shown: 1, pass_rate: 1 });
    assert.ok(r.totals.tripletsBuiltAt !== undefined);
    // Growth within the window, by day.
    assert.deepEqual(r.growth.completions, [2, 1]);
    assert.deepEqual(r.growth.events.shown, [3, 1]);
    assert.deepEqual(r.growth.events.partially_accepted, [2, 0]);
    assert.deepEqual(r.growth.triplets, { accepted_vs_shown: [1, 0], pass_rate: [0, 1] });
    // Acceptance counts suggestions: b's two partial events are one suggestion.
    assert.deepEqual(r.acceptance.shown, [3, 1]);
    assert.deepEqual(r.acceptance.accepted, [1, 0]);
    assert.deepEqual(r.acceptance.partial, [1, 0]);
    assert.deepEqual(r.acceptance.byLanguage, [
      { languageId: 'python', shown: 3, accepted: 1, partial: 1 },
      { languageId: 'typescript', shown: 1, accepted: 0, partial: 0 },
    ]);
    assert.deepEqual(r.acceptance.byRank, [
      { rank: 0, shown: 3, accepted: 1 },
      { rank: 1, shown: 1, accepted: 1 },
    ]);
    // Latest completions first, with where their time went.
    assert.deepEqual(
      r.latency.map((t) => t.requestId),
      ['c', 'b', 'a', 'old'],
    );
    const a = r.latency.find((t) => t.requestId === 'a');
    assert.deepEqual(a && { g: a.generateMs, e: a.executeMs, s: a.scoreMs }, { g: 200, e: 50, s: 50 });
    const b = r.latency.find((t) => t.requestId === 'b');
    assert.deepEqual(b && { n: b.n, asked: b.nAsked, trigger: b.trigger }, { n: 2, asked: 8, trigger: 'manual' });
    assert.deepEqual(r.execution, { requests: 1, candidatesRan: 3, candidatesPassed: 1, changedPick: 1 });
    assert.ok(r.queryMs >= 0);
  } finally {
    store.close();
  }
});

test('insights: bounds: too many buckets are widened, the latest list is capped, an empty store answers zeros', () => {
  const store = Store.open(path.join(tempDir(), 'winnow.db'), nullLog);
  try {
    const r = store.insights({ since: T0 - 365 * DAY, bucketMs: 1, latest: 1e9 }, T0);
    assert.ok(r.buckets.length <= 400, `${r.buckets.length} buckets`);
    assert.equal(r.totals.completions, 0);
    assert.deepEqual(r.latency, []);
    assert.deepEqual(r.execution, { requests: 0, candidatesRan: 0, candidatesPassed: 0, changedPick: 0 });
    assert.ok(r.growth.completions.every((n) => n === 0));
  } finally {
    store.close();
  }
});

test('the insights thread: started by a request, kept while asked, ended when idle, started again', async () => {
  const file = path.join(tempDir(), 'winnow.db');
  const store = Store.open(file, nullLog);
  store.writeBatch([request('a', Date.now() - 1000, 'python')], [event('shown', 'a', 0, Date.now() - 900)]);
  const thread = new InsightsThread(file, 300);
  try {
    assert.equal(thread.running, false);
    const [r1, r2] = await Promise.all([thread.run({}), thread.run({ latest: 1 })]);
    assert.equal(r1.totals.completions, 1);
    assert.equal(r2.latency.length, 1);
    assert.equal(thread.running, true);
    // It reads what the engine's connection commits after it started.
    store.writeBatch([request('b', Date.now() - 500, 'go')], []);
    assert.equal((await thread.run({})).totals.completions, 2);
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(thread.running, false, 'ended after being idle');
    assert.equal((await thread.run({})).totals.completions, 2);
  } finally {
    thread.end();
    store.close();
  }
});

test('engine: insights in its worker thread match the store counts of status; probe and latency-aware N against a model server', async () => {
  const fast = await startOpenAIFixture({ model: 'fixture-coder-1b' });
  // 50 ms a request and 100 ms a candidate: 8 candidates would take 850 ms of a 600 ms budget.
  const slow = await startOpenAIFixture({ delayMs: 50, perSampleMs: 100 });
  const engine = await startEngine(tempDir());
  try {
    const ask = (url: string, n: number) =>
      engine.client.request(
        'complete',
        { prefix: 'def add(a, b):\n    ', suffix: '', languageId: 'python', filePath: '/w/a.py', n, budgetMs: 600, generator: { backend: 'openai', url } },
        5000,
      );
    // A fast server gets all 8, every time.
    for (let i = 0; i < 3; i++) assert.equal((await ask(fast.url, 8)).nUsed, 8);
    // A slow one: the first request asks for 8 and runs out of budget; from then on fewer, as many as fit.
    const first = await ask(slow.url, 8);
    assert.equal(first.nUsed, 8);
    const used: number[] = [];
    for (let i = 0; i < 4; i++) used.push((await ask(slow.url, 8)).nUsed ?? 0);
    const last = used[used.length - 1] ?? 0;
    assert.ok(last >= 1 && last < 8, `N used against the slow server: ${used.join(', ')}`);
    assert.ok(50 + 100 * last <= 600, `the last N (${last}) fits the budget`);
    // fixedN asks for exactly n.
    const fixed = await engine.client.request(
      'complete',
      { prefix: 'x = ', suffix: '', languageId: 'python', filePath: '/w/a.py', n: 3, fixedN: true, budgetMs: 2000, generator: { backend: 'openai', url: slow.url } },
      5000,
    );
    assert.equal(fixed.nUsed, 3);
    const status = await engine.client.request('status', {}, 5000);
    assert.equal(status.sampling?.lastNAsked, 3);
    assert.ok((status.sampling?.perSampleMs ?? 0) > 0);

    // The connection test: the model the server lists, and a short sample.
    const ok = await engine.client.request('probe', { generator: { backend: 'openai', url: fast.url } }, 15_000);
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.deepEqual(ok.models, ['fixture-coder-1b']);
    assert.equal(ok.model, 'fixture-coder-1b');
    assert.ok(typeof ok.sample === 'string' && typeof ok.sampleMs === 'number');
    const down = await engine.client.request('probe', { generator: { backend: 'openai', url: 'http://127.0.0.1:9' } }, 15_000);
    assert.equal(down.ok, false);
    assert.equal(down.problem?.code, 'unreachable');
    const recorded = await engine.client.request('probe', { generator: { backend: 'recorded', recordedPool: POOL } }, 15_000);
    assert.equal(recorded.ok, true, JSON.stringify(recorded));
    assert.match(recorded.models[0] ?? '', /164 recorded tasks/);
    await assert.rejects(engine.client.request('probe', { generator: { backend: 'nope' } } as never, 5000), /generator\.backend/);

    // The figures: in the worker thread, equal to what status counts.
    const r = await engine.client.request('insights', {}, 20_000);
    const s = await engine.client.request('status', {}, 5000);
    assert.equal(r.totals.completions, s.store.requests);
    assert.equal(r.totals.completions, 9);
    assert.deepEqual(
      r.latency.slice(0, 1).map((t) => [t.n, t.nAsked]),
      [[3, 3]],
    );
    assert.ok(r.latency.every((t) => t.generateMs > 0 && t.totalMs >= t.generateMs));
    await assert.rejects(engine.client.request('insights', { since: 'yesterday' } as never, 5000), /since must be a number/);
    // Feedback arrives while a dashboard is open: the stored triplets are rebuilt in the background.
    const shownReply = await ask(fast.url, 8);
    const [kept, other] = shownReply.candidates;
    assert.ok(kept && other);
    const ev = (kind: FeedbackEvent['kind'], c: { id: string; rank: number }) => ({ kind, requestId: shownReply.requestId, candidateId: c.id, rank: c.rank, time: Date.now() });
    await engine.client.request('event', { events: [ev('shown', kept), ev('accepted', kept)] }, 5000);
    assert.equal(r.totals.tripletsBuiltAt, undefined);
    const rebuilt = await waitFor('triplets rebuilt for the dashboard', async () => {
      const x = await engine.client.request('insights', { latest: 1 }, 20_000);
      return Object.values(x.totals.triplets).reduce((a, b) => a + b, 0) > 0 ? x : undefined;
    });
    assert.ok(rebuilt.totals.tripletsBuiltAt !== undefined);
  } finally {
    await engine.stop();
    await fast.close();
    await slow.close();
  }
});
