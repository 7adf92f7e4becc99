/**
 * The training worker: a child process (`winnow train-worker`, forked by training/supervisor.ts
 * with an IPC channel) that runs one training job at low priority, with its own read-only
 * connection to the store, and reports progress. It writes nothing: the supervisor saves what
 * it sends back. Killing it at any point changes nothing.
 *
 * Messages, parent → worker: `{ type: 'start', input: TrainJobInput }` (once).
 * Worker → parent: `{ type: 'progress', progress }`, then `{ type: 'done', result }` or
 * `{ type: 'error', message }`; then the worker exits.
 */
import * as os from 'node:os';
import type { TrainProgress } from '../protocol';
import { runTrainingJob, type TrainJobInput, type TrainJobResult } from './job';

export type ToWorker = { type: 'start'; input: TrainJobInput };
export type FromWorker = { type: 'progress'; progress: TrainProgress } | { type: 'done'; result: TrainJobResult } | { type: 'error'; message: string } | { type: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; message: string };

/** Entry point of the worker process. */
export function runWorker(): void {
  const send = (m: FromWorker) => process.send?.(m);
  try {
    os.setPriority(19); // the serving engine and the editor come first
  } catch {
    // not permitted here: run at normal priority
  }
  // Progress at most every 100 ms (and always the phase changes), so IPC never dominates.
  let lastSent = 0;
  let lastPhase = '';
  process.once('message', (m: ToWorker) => {
    if (m?.type !== 'start') {
      send({ type: 'error', message: 'training worker: expected a start message' });
      process.exit(2);
    }
    runTrainingJob(
      m.input,
      (progress) => {
        const now = Date.now();
        if (progress.phase !== lastPhase || now - lastSent >= 100) {
          lastSent = now;
          lastPhase = progress.phase;
          send({ type: 'progress', progress });
        }
      },
      (level, message) => send({ type: 'log', level, message }),
    )
      .then((result) => {
        send({ type: 'done', result });
        process.disconnect?.();
      })
      .catch((e: unknown) => {
        send({ type: 'error', message: (e as Error).message ?? String(e) });
        process.disconnect?.();
      });
  });
  process.on('disconnect', () => setTimeout(() => process.exit(0), 50).unref());
}
