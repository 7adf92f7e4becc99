/**
 * The local store: SQLite through better-sqlite3, in WAL mode, in the data folder. It keeps
 * each completion request (context windows), its candidates with scores and features, and
 * the feedback events. Schema changes are numbered migrations tracked by `user_version`.
 *
 * A file that SQLite cannot open as a database is moved aside (`winnow.db.corrupt-<time>`)
 * with an error in the log, and a fresh store is started: nothing is deleted.
 */
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import type { EventKind, FeedbackEvent, StoredEvent } from './protocol';
import type { LogFn } from './log';

const MIGRATIONS: readonly string[] = [
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
];

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
  candidates: { id: string; rank: number; text: string; score: number; votes: number; meanLogprob?: number; features?: Float32Array }[];
}

export class Store {
  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
  ) {}

  /** Opens (creating or migrating) the store; a corrupt file is moved aside first. */
  static open(file: string, log: LogFn, options: { readonly?: boolean } = {}): Store {
    if (options.readonly) {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      return new Store(db, file);
    }
    try {
      return new Store(Store.openAndMigrate(file), file);
    } catch (e) {
      const code = (e as { code?: string }).code ?? '';
      if (!/SQLITE_(CORRUPT|NOTADB)/.test(code)) throw e;
      const aside = `${file}.corrupt-${Date.now()}`;
      log('error', `store ${file} is not a usable SQLite database (${code}); moved it to ${aside} and started a fresh one`);
      for (const ext of ['', '-wal', '-shm']) {
        if (fs.existsSync(file + ext)) fs.renameSync(file + ext, aside + ext);
      }
      return new Store(Store.openAndMigrate(file), file);
    }
  }

  private static openAndMigrate(file: string): Database.Database {
    const db = new Database(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.pragma('busy_timeout = 2000');
      const version = db.pragma('user_version', { simple: true }) as number;
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
        `INSERT INTO requests (id, time, file_path, language_id, prefix, suffix, n, backend, model, ranker_version, sampled, latency_ms, problem)
         VALUES (@id, @time, @filePath, @languageId, @prefix, @suffix, @n, @backend, @model, @rankerVersion, @sampled, @latencyMs, @problem)`,
      ),
      candidate: this.db.prepare(
        `INSERT INTO candidates (id, request_id, rank, text, score, votes, mean_logprob, features)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      event: this.db.prepare(
        `INSERT INTO events (time, received, kind, request_id, candidate_id, rank, data) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      ),
    };
    return this.statements;
  }

  recordRequest(r: RequestRecord): void {
    const s = this.stmts;
    this.db.transaction(() => {
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
        );
      }
    })();
  }

  /** Stores events in one transaction; returns how many were stored. */
  recordEvents(events: readonly FeedbackEvent[]): number {
    const s = this.stmts;
    const received = Date.now();
    this.db.transaction(() => {
      for (const e of events) {
        s.event.run(e.time, received, e.kind, e.requestId, e.candidateId, e.rank ?? null, e.data ? JSON.stringify(e.data) : null);
      }
    })();
    return events.length;
  }

  listEvents(options: { limit?: number; requestId?: string } = {}): StoredEvent[] {
    const limit = Math.max(1, Math.min(options.limit ?? 1000, 100_000));
    const rows = (
      options.requestId
        ? this.db.prepare('SELECT * FROM events WHERE request_id = ? ORDER BY id DESC LIMIT ?').all(options.requestId, limit)
        : this.db.prepare('SELECT * FROM events ORDER BY id DESC LIMIT ?').all(limit)
    ) as { id: number; time: number; kind: string; request_id: string; candidate_id: string; rank: number | null; data: string | null }[];
    return rows.reverse().map((r) => ({
      id: r.id,
      time: r.time,
      kind: r.kind as EventKind,
      requestId: r.request_id,
      candidateId: r.candidate_id,
      rank: r.rank,
      data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null,
    }));
  }

  counts(): { requests: number; candidates: number; events: number } {
    const one = (sql: string) => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      requests: one('SELECT count(*) AS n FROM requests'),
      candidates: one('SELECT count(*) AS n FROM candidates'),
      events: one('SELECT count(*) AS n FROM events'),
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
