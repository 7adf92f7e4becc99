/**
 * The store writer's group commit on the real SQLite: one bad record never fails the others
 * written with it (issue 10: an event whose data was nested 20,000 deep failed its whole group
 * commit, and the completion records of that batch were dropped without a message).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { LogFn } from '../../engine/src/log';
import * as zmq from 'zeromq';
import { PROTOCOL_TAG, validateEvents, type FeedbackEvent } from '../../engine/src/protocol';
import { Store, type RequestRecord } from '../../engine/src/store';
import { StoreWriter } from '../../engine/src/storeWriter';
import { POOL, startEngine, tempDir } from '../helpers';

function deep(levels: number): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  let cur = root;
  for (let i = 0; i < levels; i++) {
    const next: Record<string, unknown> = {};
    cur.x = next;
    cur = next;
  }
  return root;
}

const request = (id: string): RequestRecord => ({
  id, time: Date.now(), filePath: '/w/f.py', languageId: 'python', prefix: 'def f():\n', suffix: '', n: 2, backend: 'recorded', rankerVersion: 'builtin-4', sampled: 2, latencyMs: 1,
  candidates: [{ id: `${id}:0`, rank: 0, text: '    return 1\n', score: 1, votes: 1 }],
});
const event = (requestId: string, data?: Record<string, unknown>): FeedbackEvent => ({ kind: 'shown', requestId, candidateId: `${requestId}:0`, rank: 0, time: Date.now(), ...(data ? { data } : {}) });

test('validateEvents refuses event data nested too deep, too large, or ids too long, at the edge', () => {
  assert.equal(validateEvents({ events: [event('r', { a: { b: { c: 1 } } })] }), undefined);
  assert.match(validateEvents({ events: [event('r', deep(20_000))] }) ?? '', /events\[0\]\.data is nested deeper than 16 levels/);
  assert.match(validateEvents({ events: [event('r', { s: 'x'.repeat(70_000) })] }) ?? '', /events\[0\]\.data is larger than 65536 characters/);
  assert.match(validateEvents({ events: [event('r', { a: Array.from({ length: 12_000 }, () => 1) })] }) ?? '', /events\[0\]\.data has more than 10000 values/);
  assert.match(validateEvents({ events: [{ ...event('r'), requestId: 'r'.repeat(300) }] }) ?? '', /events\[0\] ids must be at most 256 characters/);
  assert.match(validateEvents({ events: [{ ...event('r'), time: Number.NaN }] }) ?? '', /events\[0\]\.time must be a finite number/);
});

test('a record the store cannot take fails alone: the other events and the completion records of its group commit are stored', async () => {
  const dir = tempDir('winnow-writer-');
  const logged: string[] = [];
  const log: LogFn = (level, msg) => logged.push(`${level}: ${msg}`);
  const store = Store.open(path.join(dir, 'winnow.db'), log);
  try {
    const writer = new StoreWriter(store, log);
    // All queued in one turn of the event loop: one group commit.
    writer.addRequest(request('r1'));
    writer.addRequest(request('r2'));
    const good = writer.addEvents([event('r1'), event('r2')]);
    // Past validation (written straight to the writer): JSON.stringify throws on it at write time.
    const bad = writer.addEvents([event('r1'), event('r2', deep(20_000))]);
    const alsoGood = writer.addEvents([event('r2')]);
    assert.deepEqual(await good, { stored: 2, held: 0 });
    assert.deepEqual(await bad, { stored: 1, held: 0, rejected: 1 });
    assert.deepEqual(await alsoGood, { stored: 1, held: 0 });
    assert.deepEqual(store.counts(), { requests: 2, candidates: 2, events: 4 });
    assert.ok(logged.some((l) => /^error: .*an event of r2 \(shown\) could not be stored/.test(l)), logged.join('\n'));
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a batch whose every event fails is rejected with the reason; the next batches are stored', async () => {
  const dir = tempDir('winnow-writer-');
  const store = Store.open(path.join(dir, 'winnow.db'), () => undefined);
  try {
    const writer = new StoreWriter(store, () => undefined);
    writer.addRequest(request('r1'));
    const bad = writer.addEvents([event('r1', deep(20_000))]);
    const good = writer.addEvents([event('r1')]);
    await assert.rejects(bad, /Maximum call stack size exceeded/);
    assert.deepEqual(await good, { stored: 1, held: 0 });
    assert.deepEqual(store.counts(), { requests: 1, candidates: 1, events: 1 });
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('through a real engine: an event nested 20,000 deep is refused at the edge with the reason; the events of other messages are stored', async () => {
  const dir = tempDir('winnow-writer-engine-');
  const engine = await startEngine(path.join(dir, 'data'));
  try {
    const r = await engine.client.request('complete', { prefix: 'def f():\n', suffix: '', languageId: 'python', filePath: '/w/f.py', n: 2, budgetMs: 5000, generator: { backend: 'recorded', recordedPool: POOL } }, 10_000);
    const ev = (data?: string) => `{"kind":"shown","requestId":"${r.requestId}","candidateId":"${r.requestId}:0","rank":0,"time":${Date.now()}${data ? `,"data":${data}` : ''}}`;
    // Written as JSON text by hand: the client's own encoder cannot even stringify it.
    const deepJson = `${'{"x":'.repeat(20_000)}1${'}'.repeat(20_000)}`;
    const raw = new zmq.Dealer({ linger: 0 });
    raw.connect(engine.info.endpoint);
    try {
      await raw.send([PROTOCOL_TAG, 'event', 'bad', `{"events":[${ev()},${ev(deepJson)}]}`]);
      await raw.send([PROTOCOL_TAG, 'event', 'good', `{"events":[${ev()}]}`]);
      const replies = new Map<string, { kind: string; body: Record<string, unknown> }>();
      for (let i = 0; i < 2; i++) {
        const [, kind, id, body] = await raw.receive();
        replies.set(String(id), { kind: String(kind), body: JSON.parse(String(body)) as Record<string, unknown> });
      }
      assert.equal(replies.get('bad')?.kind, 'error');
      assert.match(String(replies.get('bad')?.body.message), /events\[1\]\.data is nested deeper than 16 levels/);
      assert.deepEqual(replies.get('good'), { kind: 'reply', body: { stored: 1, held: 0 } });
    } finally {
      raw.close();
    }
    assert.equal((await engine.client.request('ping', {}, 5000)) !== undefined, true);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
