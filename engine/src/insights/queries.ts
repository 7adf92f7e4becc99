/**
 * The dashboard's aggregates: what the store holds, over time. Every query is an aggregate over
 * an index (requests_time, events_kind, triplets_request, the primary keys), so the time it
 * takes grows with the rows in the window, not with the texts stored; BENCHMARKS.md has its
 * figures on a 120,000-completion store. The engine runs it in a worker thread with a time
 * limit (../datasetThread.ts); the CLI's `winnow insights` runs it directly.
 */
import type Database from 'better-sqlite3';
import { EVENT_KINDS, type CompletionTiming, type InsightsReply, type InsightsRequest } from '../protocol';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Most buckets a reply has (a bucket width too small for the window is widened). */
export const MAX_BUCKETS = 400;
export const DEFAULT_LATEST = 500;
export const MAX_LATEST = 5000;
/** Ranks above this are counted with it ("5 or more"). */
export const MAX_RANK = 5;

/** The window and bucket width a request asks for, with the defaults and bounds applied. */
export function insightsWindow(req: InsightsRequest, now: number): { since: number; until: number; bucketMs: number; latest: number } {
  const until = now;
  const since = typeof req.since === 'number' && Number.isFinite(req.since) && req.since < until ? Math.max(0, req.since) : until - 30 * DAY;
  const span = until - since;
  let bucketMs = typeof req.bucketMs === 'number' && Number.isFinite(req.bucketMs) && req.bucketMs > 0 ? req.bucketMs : span < 3 * DAY ? HOUR : DAY;
  bucketMs = Math.max(1, Math.round(bucketMs), Math.ceil(span / (MAX_BUCKETS - 1)));
  const latest = typeof req.latest === 'number' && Number.isFinite(req.latest) ? Math.max(0, Math.min(MAX_LATEST, Math.floor(req.latest))) : DEFAULT_LATEST;
  return { since, until, bucketMs, latest };
}

export function computeInsights(db: Database.Database, req: InsightsRequest, now = Date.now()): InsightsReply {
  const t0 = performance.now();
  const { since, until, bucketMs, latest } = insightsWindow(req, now);
  const start = Math.floor(since / bucketMs) * bucketMs;
  const count = Math.max(1, Math.ceil((until - start) / bucketMs));
  const buckets = Array.from({ length: count }, (_, i) => start + i * bucketMs);
  const zeros = () => new Array<number>(count).fill(0);
  /** Adds `n` to a series at bucket `b` (clamped: an event time a little outside the window lands at its edge). */
  const add = (series: number[], b: number, n: number) => {
    const i = Math.min(count - 1, Math.max(0, b));
    series[i] = (series[i] ?? 0) + n;
  };
  const win = [start, bucketMs, since, until] as const;

  // All-time totals (they match `winnow status`).
  const one = <T>(sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as T;
  const all = <T>(sql: string, ...args: unknown[]) => db.prepare(sql).all(...args) as T[];
  const totals: InsightsReply['totals'] = {
    completions: one<{ n: number }>('SELECT count(*) AS n FROM requests').n,
    events: {},
    triplets: {},
  };
  for (const kind of EVENT_KINDS) {
    const n = one<{ n: number }>('SELECT count(*) AS n FROM events WHERE kind = ?', kind).n;
    if (n > 0) totals.events[kind] = n;
  }
  for (const r of all<{ source: string; n: number }>('SELECT source, count(*) AS n FROM triplets GROUP BY source')) totals.triplets[r.source] = r.n;
  const builtAt = one<{ t: number | null }>('SELECT max(built_at) AS t FROM triplets').t;
  if (builtAt !== null) totals.tripletsBuiltAt = builtAt;

  // Growth: completions, events by kind, triplets by source (by their completion's time).
  const growth: InsightsReply['growth'] = { completions: zeros(), events: {}, triplets: {} };
  for (const r of all<{ b: number; n: number }>('SELECT CAST((time - ?) / ? AS INTEGER) AS b, count(*) AS n FROM requests WHERE time >= ? AND time < ? GROUP BY b', ...win)) {
    add(growth.completions, r.b, r.n);
  }
  // Acceptance counts suggestions. `shown` and `accepted` come once per suggestion (the
  // feedback tracker sends them once per candidate), so their events are counted (on the
  // events_kind index alone); a suggestion accepted word by word has several
  // partially_accepted events, so those are counted by distinct candidate.
  const acceptance: InsightsReply['acceptance'] = { shown: zeros(), accepted: zeros(), partial: zeros(), byLanguage: [], byRank: [] };
  for (const kind of EVENT_KINDS) {
    for (const r of all<{ b: number; n: number }>('SELECT CAST((time - ?) / ? AS INTEGER) AS b, count(*) AS n FROM events WHERE kind = ? AND time >= ? AND time < ? GROUP BY b', start, bucketMs, kind, since, until)) {
      add((growth.events[kind] ??= zeros()), r.b, r.n);
    }
  }
  acceptance.shown = growth.events.shown ?? zeros();
  acceptance.accepted = growth.events.accepted ?? zeros();
  for (const r of all<{ b: number; n: number }>(
    `SELECT CAST((time - ?) / ? AS INTEGER) AS b, count(DISTINCT candidate_id) AS n FROM events WHERE kind = 'partially_accepted' AND time >= ? AND time < ? GROUP BY b`,
    ...win,
  )) {
    add(acceptance.partial, r.b, r.n);
  }
  for (const r of all<{ b: number; source: string; n: number }>(
    `SELECT CAST((r.time - ?) / ? AS INTEGER) AS b, t.source AS source, count(*) AS n
       FROM triplets t JOIN requests r ON r.id = t.request_id
      WHERE r.time >= ? AND r.time < ? GROUP BY b, t.source`,
    ...win,
  )) {
    add((growth.triplets[r.source] ??= zeros()), r.b, r.n);
  }

  // Acceptance by language and by the rank of the candidate, in the window.
  const langs = new Map<string, { languageId: string; shown: number; accepted: number; partial: number }>();
  const ranks = new Map<number, { rank: number; shown: number; accepted: number }>();
  for (const kind of ['shown', 'accepted', 'partially_accepted'] as const) {
    const counted = kind === 'partially_accepted' ? 'count(DISTINCT e.candidate_id)' : 'count(*)';
    for (const r of all<{ lang: string; n: number }>(
      `SELECT r.language_id AS lang, ${counted} AS n FROM events e JOIN requests r ON r.id = e.request_id
        WHERE e.kind = ? AND e.time >= ? AND e.time < ? GROUP BY lang`,
      kind,
      since,
      until,
    )) {
      const row = langs.get(r.lang) ?? { languageId: r.lang, shown: 0, accepted: 0, partial: 0 };
      langs.set(r.lang, row);
      addKind(row, kind, r.n);
    }
    for (const r of all<{ rank: number; n: number }>(
      `SELECT min(e.rank, ${MAX_RANK}) AS rank, ${counted} AS n FROM events e WHERE e.kind = ? AND e.time >= ? AND e.time < ? AND e.rank IS NOT NULL GROUP BY 1`,
      kind,
      since,
      until,
    )) {
      const row = ranks.get(r.rank) ?? { rank: r.rank, shown: 0, accepted: 0 };
      ranks.set(r.rank, row);
      if (kind === 'shown') row.shown += r.n;
      else row.accepted += r.n;
    }
  }
  acceptance.byLanguage = [...langs.values()].sort((a, b) => b.shown - a.shown || a.languageId.localeCompare(b.languageId));
  acceptance.byRank = [...ranks.values()].sort((a, b) => a.rank - b.rank);

  // The latest completions' timings, newest first.
  const latency: CompletionTiming[] = all<{
    id: string;
    time: number;
    latency_ms: number;
    generate_ms: number | null;
    execute_ms: number | null;
    n: number;
    n_asked: number | null;
    trigger: string | null;
  }>('SELECT id, time, latency_ms, generate_ms, execute_ms, n, n_asked, trigger FROM requests ORDER BY time DESC LIMIT ?', latest).map((r) => {
    const generateMs = r.generate_ms ?? 0;
    const executeMs = r.execute_ms ?? 0;
    return {
      requestId: r.id,
      time: r.time,
      totalMs: r.latency_ms,
      generateMs,
      executeMs,
      scoreMs: Math.max(0, r.latency_ms - generateMs - executeMs),
      n: r.n,
      nAsked: r.n_asked ?? r.n,
      trigger: r.trigger === 'manual' ? 'manual' : 'auto',
    };
  });

  const ex = one<{ requests: number; ran: number | null; passed: number | null; changed: number | null }>(
    'SELECT count(*) AS requests, sum(exec_ran) AS ran, sum(exec_passed) AS passed, sum(exec_changed) AS changed FROM requests WHERE time >= ? AND time < ? AND exec_ran IS NOT NULL',
    since,
    until,
  );
  return {
    since,
    until,
    bucketMs,
    buckets,
    totals,
    growth,
    acceptance,
    latency,
    execution: { requests: ex.requests, candidatesRan: ex.ran ?? 0, candidatesPassed: ex.passed ?? 0, changedPick: ex.changed ?? 0 },
    queryMs: Math.round((performance.now() - t0) * 10) / 10,
  };
}

function addKind(row: { shown: number; accepted: number; partial: number }, kind: string, n: number): void {
  if (kind === 'shown') row.shown += n;
  else if (kind === 'accepted') row.accepted += n;
  else row.partial += n;
}
