/**
 * `triplets`, `export` and `insights` run off the serving loop: building the triplets reads
 * the whole store, writing them goes to a path a client chose, and the dashboard's aggregates
 * scan the window it shows; so each job runs in a worker thread of its own (the engine bundle
 * with the argument `dataset-worker`), on its own SQLite connection, with a time limit; past
 * it the thread is ended and the request fails with that reason. The loop keeps answering
 * every window meanwhile. `insights` has its own lane, so that a dashboard never waits behind
 * an export.
 */

import { engineBundle } from './bundle';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { exportTriplets, listTriplets } from './dataset';
import type { InsightsRequest } from './protocol';
import { Store } from './store';

export type DatasetJob =
  | { kind: 'triplets'; dbFile: string; limit: number }
  | { kind: 'export'; dbFile: string; out: string }
  | { kind: 'insights'; dbFile: string; request: InsightsRequest };

type Result = { ok: true; value: unknown } | { ok: false; message: string };

/** Time limits: a job past them is ended. */
export const DATASET_TIME_LIMIT_MS: Record<DatasetJob['kind'], number> = { triplets: 2 * 60_000, export: 10 * 60_000, insights: 15_000 };

/** Jobs of a lane run one at a time (each thread holds a V8 heap and reads the store); at most this many wait. */
export const MAX_WAITING_JOBS = 4;
const lanes = { dataset: { chain: Promise.resolve() as Promise<unknown>, waiting: 0 }, insights: { chain: Promise.resolve() as Promise<unknown>, waiting: 0 } };

/**
 * Runs a job in a worker thread, after the jobs of its lane before it; rejects with the job's
 * error, when it runs past `timeoutMs`, or at once when {@link MAX_WAITING_JOBS} are already waiting.
 */
export function runDatasetJob<T>(job: DatasetJob, timeoutMs = DATASET_TIME_LIMIT_MS[job.kind]): Promise<T> {
  const lane = job.kind === 'insights' ? lanes.insights : lanes.dataset;
  if (lane.waiting >= MAX_WAITING_JOBS) return Promise.reject(new Error(`busy: ${lane.waiting} ${job.kind === 'insights' ? 'insights' : 'triplets or export'} jobs are waiting already; try again when they end`));
  lane.waiting++;
  const run = lane.chain.then(
    () => runNow<T>(job, timeoutMs),
    () => runNow<T>(job, timeoutMs),
  );
  lane.chain = run.catch(() => undefined).finally(() => lane.waiting--);
  return run;
}

function runNow<T>(job: DatasetJob, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(engineBundle(), { argv: ['dataset-worker'], workerData: job, stdout: false, stderr: false });
    let settled = false;
    const settle = (f: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      f();
    };
    const timer = setTimeout(() => {
      settle(() => reject(new Error(`${job.kind} took longer than ${timeoutMs >= 1000 ? `${Math.round(timeoutMs / 1000)} s` : `${timeoutMs} ms`} and was stopped`)));
      void worker.terminate();
    }, timeoutMs);
    worker.once('message', (r: Result) => settle(() => (r.ok ? resolve(r.value as T) : reject(new Error(r.message)))));
    worker.once('error', (e) => settle(() => reject(e)));
    worker.once('exit', (code) => settle(() => reject(new Error(`${job.kind} ended without a result (thread exit ${code})`))));
  });
}

/** The thread's side (`dataset-worker`): one job, then it exits. */
export function runDatasetThread(): void {
  const port = parentPort;
  if (!port) throw new Error('dataset-worker runs as a worker thread of the engine');
  const job = workerData as DatasetJob;
  let store: Store | undefined;
  let result: Result;
  try {
    store = Store.open(job.dbFile, () => undefined, { existing: true });
    result = { ok: true, value: job.kind === 'triplets' ? listTriplets(store, job.limit) : job.kind === 'export' ? exportTriplets(store, job.out) : store.insights(job.request) };
  } catch (e) {
    result = { ok: false, message: (e as Error).message };
  } finally {
    store?.close();
  }
  port.postMessage(result);
}
