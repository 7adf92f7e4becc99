/**
 * The local store: SQLite through better-sqlite3, in WAL mode, in the data folder. It keeps
 * each completion request (context windows), its candidates with scores and features, the
 * feedback events, test outcomes and the triplets built from them. Schema changes are
 * numbered migrations tracked by `user_version`. Texts arrive here already redacted
 * (see storeWriter.ts); the store itself never sees a model server or the network.
 *
 * A file that SQLite cannot open as a database is moved aside (`winnow.db.corrupt-<time>`)
 * with an error in the log, and a fresh store is started: nothing is deleted.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import type { LogFn } from './log';
import { computeInsights } from './insights/queries';
import type { EventKind, FeedbackEvent, InsightsReply, InsightsRequest, StoredEvent, TripletRecord } from './protocol';
import type { EventRow, OutcomeRow, RequestRow, Triplet } from './triplets';

export const MIGRATIONS: readonly string[] = [
  // 1: requests, candidates, events
  `CREATE TABLE requests (
     id TEXT PRIMARY KEY,
     time INTEGER NOT NULL,
     file_path TEXT NOT NULL,
     language_id TEXT NOT NULL,
     prefix TEXT NOT NULL,
     suffix TEXT NOT NULL,
     n INTEGER NOT NULL,
     backend TEXT NOT NULL,
     model TEXT,
     ranker_version TEXT NOT NULL,
     sampled INTEGER NOT NULL,
     latency_ms REAL NOT NULL,
     problem TEXT
   );
   CREATE TABLE candidates (
     id TEXT PRIMARY KEY,
     request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
     rank INTEGER NOT NULL,
     text TEXT NOT NULL,
     score REAL NOT NULL,
     votes INTEGER NOT NULL,
     mean_logprob REAL,
     features BLOB
   );
   CREATE INDEX candidates_request ON candidates(request_id);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     received INTEGER NOT NULL,
     kind TEXT NOT NULL,
     request_id TEXT NOT NULL,
     candidate_id TEXT NOT NULL,
     rank INTEGER,
     data TEXT
   );
   CREATE INDEX events_request ON events(request_id);`,
  // 2: what each event knew (ranker version, latency); test outcomes; triplets
  `ALTER TABLE events ADD COLUMN ranker_version TEXT;
   ALTER TABLE events ADD COLUMN latency_ms REAL;
   CREATE INDEX requests_time ON requests(time);
   CREATE TABLE test_outcomes (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     time INTEGER NOT NULL,
     request_id TEXT NOT NULL,
     candidate_id TEXT NOT NULL,
     source TEXT NOT NULL,
     passed INTEGER NOT NULL,
     total INTEGER NOT NULL,
     data TEXT
   );
   CREATE INDEX test_outcomes_request ON test_outcomes(request_id);
   CREATE TABLE triplets (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     built_at INTEGER NOT NULL,
     request_id TEXT NOT NULL,
     prompt_hash TEXT NOT NULL,
     chosen_id TEXT NOT NULL,
     rejected_id TEXT NOT NULL,
     source TEXT NOT NULL,
     pairing TEXT NOT NULL,
     weight REAL NOT NULL,
     split TEXT NOT NULL,
     edit_distance INTEGER NOT NULL
   );`,
  // 3: the feature set each candidate's features were computed with (features.ts FEATURE_SETS).
  // Rows stored before it keep the id of the set of their length: 19 float32 (fs-1), 28 (fs-2).
  `ALTER TABLE candidates ADD COLUMN feature_set TEXT;
   UPDATE candidates SET feature_set = CASE length(features) WHEN 76 THEN 'fs-1' WHEN 112 THEN 'fs-2' END WHERE features IS NOT NULL;`,
  // 4: the reward model whose score is in a candidate's features (its id, engine/src/reward/folder.ts), if any.
  `ALTER TABLE candidates ADD COLUMN reward_model TEXT;`,
  // 5: what the dashboard shows of each completion: where its time went, the N used (latency-aware)
  // and asked for, how it was asked, and what execution did; events and triplets by time.
  `ALTER TABLE requests ADD COLUMN generate_ms REAL;
   ALTER TABLE requests ADD COLUMN execute_ms REAL;
   ALTER TABLE requests ADD COLUMN n_asked INTEGER;
   ALTER TABLE requests ADD COLUMN trigger TEXT;
   ALTER TABLE requests ADD COLUMN exec_ran INTEGER;
   ALTER TABLE requests ADD COLUMN exec_passed INTEGER;
   ALTER TABLE requests ADD COLUMN exec_changed INTEGER;
   CREATE INDEX events_kind ON events(kind, time, rank, request_id);
   CREATE INDEX triplets_request ON triplets(request_id);`,
];

/** A triplet with its texts, as exported. */
export type ExportedTriplet = TripletRecord;

export interface RequestRecord {
  id: string;
  time: number;
  filePath: string;
  languageId: string;
  prefix: string;
  suffix: string;
  n: number;
  backend: string;
  model?: string;
  rankerVersion: string;
  sampled: number;
  latencyMs: number;
  problem?: string;
  /** Where the time went (the rest of latencyMs is scoring), the N asked of the generator's window, how it was asked. */
  generateMs?: number;
  executeMs?: number;
  nAsked?: number;
  trigger?: 'auto' | 'manual';
  /** With execution: candidates run to the end, candidates passing every test, whether the outcomes changed the pick. */
  exec?: { ran: number; passed: number; changedPick: boolean };
  candidates: { id: string; rank: number; text: string; score: number; votes: number; meanLogprob?: number; features?: Float32Array; featureSet?: string; rewardModel?: string }[];
}

export class Store {
  /** Set when open() found the file corrupt: where the old file was moved. */
  recoveredFrom?: string;

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  /**
   * Opens (creating or migrating) the store; a corrupt file is moved aside first, unless
   * `existing` is set (a second connection of the engine's own: it must never move the file).
   */
  static open(file: string, log: LogFn, options: { readonly?: boolean; existing?: boolean; check?: boolean } = {}): Store {
    if (options.readonly) {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      return new Store(db, file);
    }
    try {
      if (options.existing && !fs.existsSync(file)) throw new Error(`store ${file} does not exist`);
      return new Store(Store.openAndMigrate(file, options.check === true), file);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (options.existing || !/SQLITE_(CORRUPT|NOTADB)/.test(code)) throw e;
      const aside = `${file}.corrupt-${Date.now()}`;
      log('error', `store ${file} is not a usable SQLite database (${code}); moved it to ${aside} and started a fresh one`);
      for (const ext of ['', '-wal', '-shm']) {
        if (fs.existsSync(file + ext)) fs.renameSync(file + ext, aside + ext);
      }
      const store = new Store(Store.openAndMigrate(file), file);
      store.recoveredFrom = aside;
      return store;
    }
  }

  private static openAndMigrate(file: string, check = false): Database.Database {
    const db = new Database(file);
    try {
      if (check) {
        // A file damaged in its middle opens fine and fails later, on some query: look at
        // every page now (quick_check: about a second per few hundred MB), so that the engine
        // moves it aside at start instead of failing requests.
        const verdict = db.pragma('quick_check(1)', { simple: true });
        if (verdict !== 'ok') throw Object.assign(new Error(`quick_check: ${String(verdict)}`), { code: 'SQLITE_CORRUPT' });
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 2000');
      const version = db.pragma('user_version', { simple: true }) as number;
      // Deleted rows give their pages back to the file system (needs setting before the first table).
      if (version === 0) db.pragma('auto_vacuum = INCREMENTAL');
      if (version > MIGRATIONS.length) {
        throw new Error(`store ${file} has schema version ${version}, newer than this engine knows (${MIGRATIONS.length}); update Winnow`);
      }
      for (let v = version; v < MIGRATIONS.length; v++) {
        db.transaction(() => {
          db.exec(MIGRATIONS[v] as string);
          db.pragma(`user_version = ${v + 1}`);
        })();
      }
      return db;
    } catch (e) {
      db.close();
      throw e;
    }
  }

  private statements?: {
    request: Database.Statement;
    candidate: Database.Statement;
    event: Database.Statement;
  };

  private get stmts() {
    this.statements ??= {
      request: this.db.prepare(
        `INSERT INTO requests (id, time, file_path, language_id, prefix, suffix, n, backend, model, ranker_version, sampled, latency_ms, problem,
                               generate_ms, execute_ms, n_asked, trigger, exec_ran, exec_passed, exec_changed)
         VALUES (@id, @time, @filePath, @languageId, @prefix, @suffix, @n, @backend, @model, @rankerVersion, @sampled, @latencyMs, @problem,
                 @generateMs, @executeMs, @nAsked, @trigger, @execRan, @execPassed, @execChanged)`,
      ),
      candidate: this.db.prepare(
        `INSERT INTO candidates (id, request_id, rank, text, score, votes, mean_logprob, features, feature_set, reward_model)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      event: this.db.prepare(
        `INSERT INTO events (time, received, kind, request_id, candidate_id, rank, ranker_version, latency_ms, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    return this.statements;
  }

  /** Writes requests (with their candidates) and events in one transaction. */
  writeBatch(requests: readonly RequestRecord[], events: readonly FeedbackEvent[]): void {
    const s = this.stmts;
    const received = Date.now();
    this.db.transaction(() => {
      for (const r of requests) {
        s.request.run({
          id: r.id,
          time: r.time,
          filePath: r.filePath,
          languageId: r.languageId,
          prefix: r.prefix,
          suffix: r.suffix,
          n: r.n,
          backend: r.backend,
          model: r.model ?? null,
          rankerVersion: r.rankerVersion,
          sampled: r.sampled,
          latencyMs: r.latencyMs,
          problem: r.problem ?? null,
          generateMs: r.generateMs ?? null,
          executeMs: r.executeMs ?? null,
          nAsked: r.nAsked ?? null,
          trigger: r.trigger ?? null,
          execRan: r.exec?.ran ?? null,
          execPassed: r.exec?.passed ?? null,
          execChanged: r.exec ? (r.exec.changedPick ? 1 : 0) : null,
        });
        for (const c of r.candidates) {
          s.candidate.run(
            c.id,
            r.id,
            c.rank,
            c.text,
            c.score,
            c.votes,
            c.meanLogprob ?? null,
            c.features ? Buffer.from(c.features.buffer, c.features.byteOffset, c.features.byteLength) : null,
            c.features ? (c.featureSet ?? null) : null,
            c.features ? (c.rewardModel ?? null) : null,
          );
        }
      }
      for (const e of events) {
        s.event.run(
          e.time,
          received,
          e.kind,
          e.requestId,
          e.candidateId,
          e.rank ?? null,
          e.rankerVersion ?? null,
          e.latencyMs ?? null,
          e.data ? JSON.stringify(e.data) : null,
        );
      }
    })();
  }

  /**
   * Replaces stored candidates' feature rows (same feature set), for execution outcomes and
   * reward model scores that arrived after the reply; returns how many rows were updated.
   * `rewardModel`: the reward model whose score the row now holds (absent: unchanged).
   */
  updateCandidateFeatures(rows: readonly { id: string; features: Float32Array; featureSet: string; rewardModel?: string }[]): number {
    const update = this.db.prepare('UPDATE candidates SET features = ?, feature_set = ?, reward_model = COALESCE(?, reward_model) WHERE id = ?');
    let n = 0;
    this.db.transaction(() => {
      for (const r of rows) n += update.run(Buffer.from(r.features.buffer, r.features.byteOffset, r.features.byteLength), r.featureSet, r.rewardModel ?? null, r.id).changes;
    })();
    return n;
  }

  recordRequest(r: RequestRecord): void {
    this.writeBatch([r], []);
  }

  /** Stores events in one transaction; returns how many were stored. */
  recordEvents(events: readonly FeedbackEvent[]): number {
    this.writeBatch([], events);
    return events.length;
  }

  recordTestOutcomes(rows: readonly OutcomeRow[]): void {
    const insert = this.db.prepare('INSERT INTO test_outcomes (time, request_id, candidate_id, source, passed, total) VALUES (?, ?, ?, ?, ?, ?)');
    const now = Date.now();
    this.db.transaction(() => {
      for (const r of rows) insert.run(now, r.requestId, r.candidateId, r.source, r.passed, r.total);
    })();
  }

  listEvents(options: { limit?: number; requestId?: string } = {}): StoredEvent[] {
    const limit = Math.max(1, Math.min(options.limit ?? 1000, 100_000));
    const rows = (
      options.requestId
        ? this.db.prepare('SELECT * FROM events WHERE request_id = ? ORDER BY id DESC LIMIT ?').all(options.requestId, limit)
        : this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit)
    ) as RawEvent[];
    return rows.reverse().map((r) => ({
      id: r.id,
      time: r.time,
      kind: r.kind as EventKind,
      requestId: r.request_id,
      candidateId: r.candidate_id,
      rank: r.rank,
      rankerVersion: r.ranker_version,
      latencyMs: r.latency_ms,
      data: parseData(r.data),
    }));
  }

  /**
   * What the triplet builder needs: every request that has feedback, with its candidates,
   * and all events and test outcomes of those requests.
   */
  loadTripletInputs(): { requests: RequestRow[]; events: EventRow[]; outcomes: OutcomeRow[] } {
    const reqs = this.db
      .prepare(
        `SELECT id, time, prefix, suffix, language_id, file_path, ranker_version FROM requests
         WHERE id IN (SELECT request_id FROM events UNION SELECT request_id FROM test_outcomes)`,
      )
      .all() as { id: string; time: number; prefix: string; suffix: string; language_id: string; file_path: string; ranker_version: string }[];
    const byId = new Map<string, RequestRow>();
    for (const r of reqs) {
      byId.set(r.id, { id: r.id, time: r.time, prefix: r.prefix, suffix: r.suffix, languageId: r.language_id, filePath: r.file_path, rankerVersion: r.ranker_version, candidates: [] });
    }
    const cands = this.db
      .prepare(
        `SELECT id, request_id, rank, text, score, votes, mean_logprob, features, feature_set, reward_model FROM candidates
         WHERE request_id IN (SELECT request_id FROM events UNION SELECT request_id FROM test_outcomes) ORDER BY request_id, rank`,
      )
      .all() as { id: string; request_id: string; rank: number; text: string; score: number; votes: number; mean_logprob: number | null; features: Buffer | null; feature_set: string | null; reward_model: string | null }[];
    for (const c of cands) {
      byId.get(c.request_id)?.candidates.push({
        id: c.id,
        rank: c.rank,
        text: c.text,
        score: c.score,
        votes: c.votes,
        ...(c.mean_logprob !== null ? { meanLogprob: c.mean_logprob } : {}),
        // A copy: the Buffer's memory may be shared and need not be 4-byte aligned.
        ...(c.features && c.feature_set && c.features.length % 4 === 0 ? { features: new Float32Array(new Uint8Array(c.features).buffer), featureSet: c.feature_set } : {}),
        ...(c.reward_model !== null ? { rewardModel: c.reward_model } : {}),
      });
    }
    const events = (this.db.prepare('SELECT * FROM events ORDER BY id').all() as RawEvent[]).map((e) => ({
      kind: e.kind as EventKind,
      requestId: e.request_id,
      candidateId: e.candidate_id,
      rank: e.rank,
      time: e.time,
      data: parseData(e.data),
    }));
    const outcomes = (
      this.db.prepare('SELECT request_id, candidate_id, source, passed, total FROM test_outcomes ORDER BY id').all() as {
        request_id: string;
        candidate_id: string;
        source: string;
        passed: number;
        total: number;
      }[]
    ).map((o) => ({ requestId: o.request_id, candidateId: o.candidate_id, source: o.source, passed: o.passed, total: o.total }));
    return { requests: [...byId.values()], events, outcomes };
  }

  /** Replaces the stored triplets with a fresh build. */
  replaceTriplets(triplets: readonly Triplet[]): void {
    const insert = this.db.prepare(
      `INSERT INTO triplets (built_at, request_id, prompt_hash, chosen_id, rejected_id, source, pairing, weight, split, edit_distance)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const now = Date.now();
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM triplets').run();
      for (const t of triplets) insert.run(now, t.requestId, t.promptHash, t.chosenId, t.rejectedId, t.source, t.pairing, t.weight, t.split, t.editDistance);
    })();
  }

  /** Stored triplets with their texts, in build order; `onRow` streams them (for export). */
  eachTriplet(onRow: (t: ExportedTriplet) => void, limit = Number.MAX_SAFE_INTEGER): number {
    const rows = this.db
      .prepare(
        `SELECT r.prefix AS prompt, r.suffix AS suffix, c.text AS chosen, x.text AS rejected, t.source, t.pairing, t.weight, t.split,
                r.language_id AS language, r.file_path, t.request_id, t.chosen_id, t.rejected_id, t.prompt_hash
         FROM triplets t
         JOIN requests r ON r.id = t.request_id
         JOIN candidates c ON c.id = t.chosen_id
         JOIN candidates x ON x.id = t.rejected_id
         ORDER BY t.id LIMIT ?`,
      )
      .iterate(limit) as IterableIterator<ExportedTriplet>;
    let n = 0;
    for (const row of rows) {
      onRow(row);
      n++;
    }
    return n;
  }

  /** TEST STAND-IN for a full disk: cap the file at `pages` pages (SQLITE_FULL beyond). */
  setMaxPages(pages: number): void {
    this.db.pragma(`max_page_count = ${Math.max(1, Math.floor(pages))}`);
  }

  /** Bytes of live data (pages in use); what the size cap is measured against. */
  liveBytes(): number {
    const pageSize = this.db.pragma('page_size', { simple: true }) as number;
    const pages = this.db.pragma('page_count', { simple: true }) as number;
    const free = this.db.pragma('freelist_count', { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  /**
   * Deletes the oldest requests (with their candidates, events, outcomes and triplets) until
   * the live data fits in `maxBytes`; returns how many requests were deleted.
   */
  pruneTo(maxBytes: number): number {
    let deleted = 0;
    const oldest = this.db.prepare('SELECT id FROM requests ORDER BY time LIMIT ?');
    const del = ['DELETE FROM events WHERE request_id = ?', 'DELETE FROM test_outcomes WHERE request_id = ?', 'DELETE FROM triplets WHERE request_id = ?', 'DELETE FROM requests WHERE id = ?'].map((sql) => this.db.prepare(sql));
    for (let guard = 0; guard < 1000 && this.liveBytes() > maxBytes; guard++) {
      const total = (this.db.prepare('SELECT count(*) AS n FROM requests').get() as { n: number }).n;
      if (total === 0) break;
      const ids = oldest.all(Math.max(50, Math.ceil(total * 0.05))) as { id: string }[];
      this.db.transaction(() => {
        for (const { id } of ids) for (const d of del) d.run(id);
      })();
      deleted += ids.length;
    }
    // Events whose request is gone (older than any request kept) go too.
    if (deleted > 0) {
      this.db.prepare('DELETE FROM events WHERE request_id NOT IN (SELECT id FROM requests) AND time < (SELECT coalesce(min(time), 0) FROM requests)').run();
      this.db.pragma('incremental_vacuum');
    }
    return deleted;
  }

  /** Deletes everything the store holds and gives the space back. */
  purge(): { requests: number; events: number } {
    const before = this.counts();
    this.db.transaction(() => {
      for (const t of ['triplets', 'test_outcomes', 'events', 'candidates', 'requests']) this.db.prepare(`DELETE FROM ${t}`).run();
    })();
    this.db.exec('VACUUM');
    return { requests: before.requests, events: before.events };
  }

  /** The dashboard's aggregates (insights/queries.ts). */
  insights(req: InsightsRequest, now?: number): InsightsReply {
    return computeInsights(this.db, req, now);
  }

  counts(): { requests: number; candidates: number; events: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      requests: one('SELECT count(*) AS n FROM requests'),
      candidates: one('SELECT count(*) AS n FROM candidates'),
      events: one('SELECT count(*) AS n FROM events'),
    };
  }

  /** The id of the newest feedback event (0 when none): background training counts what came after it. */
  lastEventId(): number {
    return (this.db.prepare('SELECT coalesce(max(id), 0) AS n FROM events').get() as { n: number }).n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

interface RawEvent {
  id: number;
  time: number;
  kind: string;
  request_id: string;
  candidate_id: string;
  rank: number | null;
  ranker_version: string | null;
  latency_ms: number | null;
  data: string | null;
}

function parseData(data: string | null): Record<string, unknown> | null {
  if (!data) return null;
  try {
    return JSON.parse(data) as Record<string, unknown>;
  } catch {
    return null;
  }
}
