/**
 * `triplets` and `export` run off the serving loop: building the triplets reads the whole
 * store and writing them goes to a path a client chose, so each job runs in a worker thread
 * of its own (the engine bundle with the argument `dataset-worker`), on its own SQLite
 * connection, with a time limit; past it the thread is ended and the request fails with that
 * reason. The loop keeps answering every window meanwhile.
 */

import { engineBundle } from './bundle';
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { exportTriplets, listTriplets } from './dataset';
import { Store } from './store';

export type DatasetJob = { kind: 'triplets'; dbFile: string; limit: number } | { kind: 'export'; dbFile: string; out: string };

type Result = { ok: true; value: unknown } | { ok: false; message: string };

/** Time limits: a job past them is ended. */
export const DATASET_TIME_LIMIT_MS: Record<DatasetJob['kind'], number> = { triplets: 2 * 60_000, export: 10 * 60_000 };

/** Jobs run one at a time (each thread holds a V8 heap and reads the whole store); at most this many wait. */
export const MAX_WAITING_JOBS = 4;
let chain: Promise<unknown> = Promise.resolve();
let waiting = 0;

/**
 * Runs a job in a worker thread, after the jobs before it; rejects with the job's error, when it
 * runs past `timeoutMs`, or at once when {@link MAX_WAITING_JOBS} are already waiting.
 */
export function runDatasetJob<T>(job: DatasetJob, timeoutMs = DATASET_TIME_LIMIT_MS[job.kind]): Promise<T> {
  if (waiting >= MAX_WAITING_JOBS) return Promise.reject(new Error(`busy: ${waiting} triplets or export jobs are waiting already; try again when they end`));
  waiting++;
  const run = chain.then(
    () => runNow<T>(job, timeoutMs),
    () => runNow<T>(job, timeoutMs),
  );
  chain = run.catch(() => undefined).finally(() => waiting--);
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
    result = { ok: true, value: job.kind === 'triplets' ? listTriplets(store, job.limit) : exportTriplets(store, job.out) };
  } catch (e) {
    result = { ok: false, message: (e as Error).message };
  } finally {
    store?.close();
  }
  port.postMessage(result);
}
