/**
 * The dashboard's queries run in a worker thread of the engine (the engine bundle with the
 * argument `insights-worker`), on a read-only SQLite connection of its own: the serving loop
 * never runs them. A dashboard asks every few seconds while it is open, so the thread stays
 * up between requests (starting one costs about as much as the queries) and ends
 * {@link IDLE_MS} after the last one: a closed dashboard costs nothing. One request at a time;
 * one past {@link TIME_LIMIT_MS} ends the thread and fails with that reason.
 */
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { engineBundle } from '../bundle';
import type { InsightsReply, InsightsRequest } from '../protocol';
import { Store } from '../store';

export const IDLE_MS = 60_000;
export const TIME_LIMIT_MS = 15_000;

type ToThread = { id: number; request: InsightsRequest };
type FromThread = { id: number; ok: true; reply: InsightsReply } | { id: number; ok: false; message: string };

export class InsightsThread {
  private worker?: Worker;
  private idleTimer?: NodeJS.Timeout;
  private chain: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (r: InsightsReply) => void; reject: (e: Error) => void }>();

  constructor(
    private readonly dbFile: string,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Whether a thread is up now (for tests). */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Runs the queries after the requests before it. */
  run(request: InsightsRequest): Promise<InsightsReply> {
    const run = this.chain.then(
      () => this.runNow(request),
      () => this.runNow(request),
    );
    this.chain = run.catch(() => undefined);
    return run;
  }

  private runNow(request: InsightsRequest): Promise<InsightsReply> {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    const worker = (this.worker ??= this.start());
    const id = this.nextId++;
    return new Promise<InsightsReply>((resolve, reject) => {
      const timer = setTimeout(() => this.end(`the dashboard's queries took longer than ${TIME_LIMIT_MS / 1000} s and were stopped`), TIME_LIMIT_MS);
      this.pending.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      worker.postMessage({ id, request } satisfies ToThread);
    }).finally(() => {
      if (this.pending.size === 0 && this.worker) this.idleTimer = setTimeout(() => this.end(), this.idleMs).unref();
    });
  }

  private start(): Worker {
    const worker = new Worker(engineBundle(), { argv: ['insights-worker'], workerData: { dbFile: this.dbFile }, stdout: false, stderr: false });
    worker.unref();
    worker.on('message', (m: FromThread) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.ok) p.resolve(m.reply);
      else p.reject(new Error(m.message));
    });
    worker.on('error', (e) => this.end(`the dashboard's thread failed: ${e.message}`, worker));
    worker.on('exit', (code) => this.end(`the dashboard's thread exited (code ${code})`, worker));
    return worker;
  }

  /** Ends the thread; requests waiting on it fail with `why`. */
  end(why = 'the engine is stopping', which = this.worker): void {
    if (!which || which !== this.worker) return;
    this.worker = undefined;
    if (this.idleTimer) clearTimeout(this.idleTimer);
    for (const p of this.pending.values()) p.reject(new Error(why));
    this.pending.clear();
    void which.terminate();
  }
}

/** The thread's side (`insights-worker`): answers requests until it is ended. */
export function runInsightsThread(): void {
  const port = parentPort;
  if (!port) throw new Error('insights-worker runs as a worker thread of the engine');
  const { dbFile } = workerData as { dbFile: string };
  let store: Store | undefined;
  port.on('message', (m: ToThread) => {
    let reply: FromThread;
    try {
      store ??= Store.open(dbFile, () => undefined, { readonly: true });
      reply = { id: m.id, ok: true, reply: store.insights(m.request) };
    } catch (e) {
      store?.close();
      store = undefined; // opened again at the next request (the store may have been moved aside)
      reply = { id: m.id, ok: false, message: (e as Error).message };
    }
    port.postMessage(reply);
  });
}
