/**
 * The local dataset with real processes and the real SQLite: crash safety of acknowledged
 * events, a corrupt store moved aside, a full disk (stand-in: SQLite's max_page_count),
 * the size cap, collection off, redaction before storage, and the CLI's triplets, export
 * and purge with and without a running engine.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { paths } from '../../engine/src/discovery';
import type { CompleteRequest, FeedbackEvent } from '../../engine/src/protocol';
import { ENGINE_SCRIPT, POOL, startEngine, tempDir, waitFor, type RunningEngine } from '../helpers';

const firstPrompt = (): string => (JSON.parse(fs.readFileSync(POOL, 'utf8').split('\n')[0] ?? '{}') as { generation_prompt: string }).generation_prompt;

const complete = (prefix: string, over: Partial<CompleteRequest> = {}): CompleteRequest => ({
  prefix,
  suffix: '',
  languageId: 'python',
  filePath: '/work/demo/he.py',
  n: 8,
  budgetMs: 5000,
  generator: { backend: 'recorded', recordedPool: POOL },
  ...over,
});

function cli(dataDir: string, ...args: string[]) {
  return spawnSync(process.execPath, [ENGINE_SCRIPT, ...args, '--data-dir', dataDir], { encoding: 'utf8', timeout: 60_000 });
}

function openDb(dataDir: string): Database.Database {
  return new Database(paths(dataDir).db, { readonly: true, fileMustExist: true });
}

/** One completion plus shown/accepted on its second-ranked candidate: material for triplets. */
async function acceptSecond(engine: RunningEngine, prefix: string): Promise<string> {
  const r = await engine.client.request('complete', complete(prefix), 10_000);
  const [first, second] = r.candidates;
  assert.ok(first && second, 'at least two candidates');
  const time = Date.now();
  const base = { requestId: r.requestId, rankerVersion: r.rankerVersion, latencyMs: r.timings.totalMs, time };
  const ack = await engine.client.request(
    'event',
    {
      events: [
        { ...base, kind: 'shown', candidateId: first.id, rank: 0 },
        { ...base, kind: 'rejected', candidateId: first.id, rank: 0, data: { reason: 'dismissed' } },
        { ...base, kind: 'shown', candidateId: second.id, rank: 1 },
        { ...base, kind: 'accepted', candidateId: second.id, rank: 1 },
      ],
    },
    5000,
  );
  assert.equal(ack.stored, 4);
  return r.requestId;
}

test('every acknowledged event survives SIGKILL in the middle of a burst, and the store opens cleanly', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir);
  const acked: string[] = [];
  let sent = 0;
  try {
    const burst = async (worker: number) => {
      for (let i = 0; ; i++) {
        const events: FeedbackEvent[] = Array.from({ length: 20 }, (_, k) => ({
          kind: 'shown',
          requestId: `burst-${worker}-${i}`,
          candidateId: `burst-${worker}-${i}:${k}`,
          rank: k,
          time: Date.now(),
        }));
        sent += events.length;
        try {
          const ack = await engine.client.request('event', { events }, 2000);
          assert.equal(ack.stored, events.length);
          acked.push(...events.map((e) => e.candidateId));
        } catch {
          return; // the engine is gone
        }
      }
    };
    const workers = [burst(1), burst(2), burst(3)];
    await waitFor('a few hundred acknowledged events', () => acked.length >= 600);
    engine.child.kill('SIGKILL');
    await Promise.all(workers);
  } finally {
    await engine.stop();
  }
  const db = openDb(dir);
  try {
    assert.equal((db.pragma('integrity_check', { simple: true }) as string), 'ok');
    const stored = new Set((db.prepare('SELECT candidate_id FROM events').all() as { candidate_id: string }[]).map((r) => r.candidate_id));
    const missing = acked.filter((id) => !stored.has(id));
    assert.deepEqual(missing, [], `${missing.length} of ${acked.length} acknowledged events missing (sent ${sent})`);
  } finally {
    db.close();
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a corrupt store is moved aside with a clear message, and a fresh one serves', async () => {
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'winnow.db'), Buffer.from('this is not a database, just some bytes '.repeat(200)));
  const engine = await startEngine(dir);
  try {
    const aside = fs.readdirSync(dir).filter((f) => f.startsWith('winnow.db.corrupt-'));
    assert.equal(aside.length, 1, 'the corrupt file is kept aside, not deleted');
    assert.match(fs.readFileSync(path.join(dir, aside[0] ?? ''), 'utf8'), /not a database/);
    assert.match(fs.readFileSync(paths(dir).log, 'utf8'), /is not a usable SQLite database .* moved it to .*winnow\.db\.corrupt-\d+ and started a fresh one/);
    const first = await engine.client.request('status', {}, 5000);
    assert.match(first.store.recovered ?? '', /store was damaged .* moved to .*winnow\.db\.corrupt-\d+ .*Nothing was deleted/);
    await acceptSecond(engine, firstPrompt());
    const s = await engine.client.request('status', {}, 5000);
    assert.equal(s.store.recovered, undefined, 'the notice is given once');
    assert.ok(s.store.events >= 4);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('full disk (stand-in: SQLite max_page_count): events are held in memory, reported once, written when space returns', async () => {
  const dir = tempDir();
  // A store capped at 60 pages of 4 KB fills up after a few completion records.
  const engine = await startEngine(dir, ['--max-db-pages', '60']);
  try {
    const big = `${firstPrompt()}`;
    let full: string | undefined;
    for (let i = 0; i < 200 && !full; i++) {
      const r = await engine.client.request('complete', complete(`# ${'x'.repeat(3000)} ${i}\n${big}`), 10_000);
      full = r.storeProblem;
    }
    assert.match(full ?? '', /cannot write its store \(SQLITE_FULL.*holding up to .* records in memory.*Free some disk space/);
    const ack = await engine.client.request('event', { events: [{ kind: 'accepted', requestId: 'held-1', candidateId: 'held-1:0', rank: 0, time: Date.now() }] }, 5000);
    assert.deepEqual(ack, { stored: 0, held: 1 });
    const s = await engine.client.request('status', {}, 5000);
    assert.ok(s.store.held >= 1);
    assert.match(s.store.problem ?? '', /SQLITE_FULL/);
    const log = fs.readFileSync(paths(dir).log, 'utf8');
    assert.equal(log.match(/cannot write its store/g)?.length, 1, 'warned once');
    // Space comes back (a purge frees the pages): the held records are written.
    await engine.client.request('purge', { confirm: true }, 10_000);
    await engine.client.request('event', { events: [{ kind: 'shown', requestId: 'after', candidateId: 'after:0', rank: 0, time: Date.now() }] }, 5000);
    const after = await engine.client.request('status', {}, 5000);
    assert.equal(after.store.held, 0);
    assert.equal(after.store.problem, undefined);
    const events = await engine.client.request('events', {}, 5000);
    assert.ok(events.events.some((e) => e.requestId === 'held-1'), 'the held event reached the store');
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the size cap prunes the oldest requests first', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir);
  try {
    const prompt = firstPrompt();
    for (let i = 0; i < 700; i++) {
      await engine.client.request('complete', complete(`# request ${i} ${'y'.repeat(4000)}\n${prompt}`, { dataset: { enabled: true, maxSizeMB: 1 } }), 10_000);
    }
    const s = await waitFor('pruning', async () => {
      const st = await engine.client.request('status', {}, 5000);
      return st.store.requests < 700 ? st : undefined;
    });
    assert.ok(s.store.liveMB <= 2, `live data ${s.store.liveMB} MB (cap 1 MB, checked every 100 records)`);
    const db = openDb(dir);
    try {
      const oldest = db.prepare('SELECT prefix FROM requests ORDER BY time LIMIT 1').get() as { prefix: string };
      assert.doesNotMatch(oldest.prefix, /^# request 0 /, 'the oldest went first');
    } finally {
      db.close();
    }
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('collection off stores nothing; secrets are redacted before anything is stored', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir);
  try {
    const prompt = firstPrompt();
    await engine.client.request('complete', complete(`# off\n${prompt}`, { dataset: { enabled: false, maxSizeMB: 512 } }), 10_000);
    const secret = 'AKIAIOSFODNN7EXAMPLQ';
    await engine.client.request('complete', complete(`aws_access_key_id = "${secret}"\n${prompt}`), 10_000);
    const s = await waitFor('the record written', async () => {
      const st = await engine.client.request('status', {}, 5000);
      return st.store.requests === 1 ? st : undefined;
    });
    assert.equal(s.store.requests, 1, 'only the request with collection on');
    const db = openDb(dir);
    try {
      const row = db.prepare('SELECT prefix FROM requests').get() as { prefix: string };
      assert.ok(!row.prefix.includes(secret), 'the key is not stored');
      assert.match(row.prefix, /«redacted:[a-z_-]+»/);
    } finally {
      db.close();
    }
    const raw = fs.readFileSync(paths(dir).db).toString('latin1') + (fs.existsSync(`${paths(dir).db}-wal`) ? fs.readFileSync(`${paths(dir).db}-wal`).toString('latin1') : '');
    assert.ok(!raw.includes(secret), 'not in the database file nor its WAL');
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('CLI triplets, export and purge, through a running engine and directly on the store', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir);
  try {
    const requestId = await acceptSecond(engine, firstPrompt());
    const t = cli(dir, 'triplets', '--json', '--limit', '50');
    assert.equal(t.status, 0, t.stderr);
    const out = JSON.parse(t.stdout) as { stats: { triplets: number }; triplets: { request_id: string; chosen: string; rejected: string; source: string; prompt: string }[] };
    assert.ok(out.stats.triplets > 0);
    const mine = out.triplets.filter((x) => x.request_id === requestId);
    assert.ok(mine.length > 0);
    for (const x of mine) {
      assert.notEqual(x.chosen, x.rejected);
      assert.ok(x.prompt.length > 0);
      assert.equal(typeof x.source, 'string');
    }
    const file = path.join(dir, 'export', 'triplets.jsonl');
    const e = cli(dir, 'export', '--out', file);
    assert.equal(e.status, 0, e.stderr);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, out.stats.triplets);
    for (const line of lines) {
      const o = JSON.parse(line) as Record<string, unknown>;
      for (const k of ['prompt', 'chosen', 'rejected', 'source', 'weight', 'split', 'request_id', 'chosen_id', 'rejected_id']) assert.ok(k in o, `${k} in export`);
    }
    assert.equal(cli(dir, 'purge').status, 2, 'purge without --yes refuses');
    const p = cli(dir, 'purge', '--yes');
    assert.equal(p.status, 0, p.stderr);
    assert.match(p.stdout, /purged 1 requests and 4 events/);
  } finally {
    await engine.stop();
  }
  // Without an engine: the CLI opens the store itself and never starts one.
  const t2 = cli(dir, 'triplets', '--json');
  assert.equal(t2.status, 0, t2.stderr);
  assert.equal((JSON.parse(t2.stdout) as { stats: { triplets: number } }).stats.triplets, 0);
  assert.equal(fs.existsSync(paths(dir).info), false, 'no engine was started');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a developer test run after an acceptance is stored as a test outcome; a failing one stops the candidate being a positive', async () => {
  const dir = tempDir();
  const engine = await startEngine(dir);
  try {
    const requestId = await acceptSecond(engine, firstPrompt());
    const before = await engine.client.request('triplets', { limit: 100 }, 30_000);
    const accepted = (await engine.client.request('events', { requestId }, 5000)).events.find((e) => e.kind === 'accepted');
    assert.ok(accepted);
    assert.ok(before.triplets.some((t) => t.chosen_id === accepted.candidateId), 'a positive before the test run');
    await engine.client.request(
      'event',
      {
        events: [
          {
            kind: 'test_outcome',
            requestId,
            candidateId: accepted.candidateId,
            rank: accepted.rank ?? 0,
            time: Date.now(),
            data: { passed: false, exitCode: 1, command: 'pytest -q', source: 'winnow.runTests' },
          },
        ],
      },
      5000,
    );
    const db = openDb(dir);
    try {
      const rows = db.prepare('SELECT source, passed, total FROM test_outcomes WHERE candidate_id = ?').all(accepted.candidateId);
      assert.deepEqual(rows, [{ source: 'developer_tests', passed: 0, total: 1 }]);
    } finally {
      db.close();
    }
    const after = await engine.client.request('triplets', { limit: 100 }, 30_000);
    assert.ok(!after.triplets.some((t) => t.chosen_id === accepted.candidateId), 'no longer chosen once its tests failed');
    assert.ok((after.stats.skipped.positive_fails_tests ?? 0) >= 1);
  } finally {
    await engine.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
