/**
 * A FIFO worker pool for sandboxed runs: at most `size` tasks at a time (default: the
 * machine's available parallelism), the rest queued in order. Each task may carry an
 * AbortSignal: aborted while queued, it is dropped (its promise rejects with AbortError
 * and it never starts); aborted while running, the signal reaches the task, which kills its
 * process (runSandboxed does). `close()` drops everything still queued.
 */
import * as os from 'node:os';
import { AbortError, runSandboxed, type SandboxResult, type SandboxSpec } from './sandbox';

export type PoolTask<T> = (signal: AbortSignal | undefined) => Promise<T>;

interface Queued {
  start: () => void;
  drop: (e: Error) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export function machineParallelism(): number {
  const f = (os as { availableParallelism?: () => number }).availableParallelism;
  return Math.max(1, typeof f === 'function' ? f() : os.cpus().length);
}

export class WorkerPool {
  readonly size: number;
  private running = 0;
  private readonly queue: Queued[] = [];
  private closed = false;

  constructor(opts: { size?: number } = {}) {
    this.size = Math.max(1, Math.floor(opts.size ?? machineParallelism()));
  }

  /** Tasks running now. */
  get active(): number {
    return this.running;
  }

  /** Tasks waiting for a slot. */
  get queued(): number {
    return this.queue.length;
  }

  /** Runs `task` when a slot is free (FIFO). */
  run<T>(task: PoolTask<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    if (signal?.aborted) return Promise.reject(new AbortError());
    return new Promise<T>((resolve, reject) => {
      const item: Queued = {
        signal,
        start: () => {
          if (item.onAbort) signal?.removeEventListener('abort', item.onAbort);
          this.running++;
          let p: Promise<T>;
          try {
            p = task(signal);
          } catch (e) {
            p = Promise.reject(e);
          }
          p.then(resolve, reject).finally(() => {
            this.running--;
            this.next();
          });
        },
        drop: (e) => {
          if (item.onAbort) signal?.removeEventListener('abort', item.onAbort);
          reject(e);
        },
      };
      if (signal) {
        item.onAbort = () => {
          const i = this.queue.indexOf(item);
          if (i >= 0) {
            this.queue.splice(i, 1);
            item.drop(new AbortError());
          }
        };
        signal.addEventListener('abort', item.onAbort, { once: true });
      }
      this.queue.push(item);
      this.next();
    });
  }

  /** runSandboxed through the pool, cancelled by `spec.signal`. */
  runSandboxed(spec: SandboxSpec): Promise<SandboxResult> {
    return this.run((signal) => runSandboxed({ ...spec, signal }), spec.signal);
  }

  /** Drops the queued tasks (their promises reject); running ones finish or are aborted by their own signals. */
  close(): void {
    this.closed = true;
    for (const item of this.queue.splice(0)) item.drop(new AbortError('worker pool closed'));
  }

  private next(): void {
    while (this.running < this.size && this.queue.length > 0) {
      const item = this.queue.shift();
      item?.start();
    }
  }
}

let shared: WorkerPool | undefined;

/** The engine's pool for candidate runs, sized to the machine. */
export function defaultPool(): WorkerPool {
  if (!shared) shared = new WorkerPool();
  return shared;
}
