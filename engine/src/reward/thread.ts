/**
 * The reward model runs in a worker thread of the engine, never on the serving loop:
 * onnxruntime-node's `session.run` computes on the calling thread (its promise only defers
 * the call), so a transformer run of a second would stall every window's requests. The
 * thread holds the tokenizer and the session (model.ts); the engine's side is a proxy with
 * the same shape (load, score, retire).
 *
 * The thread runs the engine bundle (engine/out/cli.js) with the argument `reward-worker`.
 * Runs are one at a time in the thread; the proxy refuses a run when {@link MAX_QUEUED} are
 * already waiting, so that a slow model on CPU never builds a queue.
 */

import { engineBundle } from '../bundle';
import { parentPort, Worker } from 'node:worker_threads';
import type { DevicePreference } from '../ranker/ranker';
import { type RewardFolder, RewardModelError, type RewardProblem } from './folder';
import { RewardModel, type RewardLog, type RewardModelInfo } from './model';

/** Runs waiting or running in the thread at most; past it a completion goes without a score. */
export const MAX_QUEUED = 2;

type ToThread = { type: 'load'; folder: RewardFolder; device: DevicePreference; maxTokens: number } | { type: 'score'; id: number; context: string; candidates: string[] };
type FromThread =
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'loaded'; info: RewardModelInfo }
  | { type: 'load_failed'; problem: RewardProblem; message: string }
  | { type: 'scores'; id: number; scores: Float32Array }
  | { type: 'score_failed'; id: number; message: string };

export class RewardModelThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (s: Float32Array) => void; reject: (e: Error) => void }>();
  private dead?: string;
  private retiring?: () => void;

  private constructor(
    private readonly worker: Worker,
    readonly info: RewardModelInfo,
    private readonly onDeath: (why: string) => void,
  ) {
    worker.on('message', (m: FromThread) => {
      if (m.type !== 'scores' && m.type !== 'score_failed') return;
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'scores') p.resolve(m.scores);
      else p.reject(new Error(m.message));
      if (this.pending.size === 0) this.retiring?.();
    });
    const die = (why: string) => {
      if (this.dead) return;
      this.dead = why;
      for (const p of this.pending.values()) p.reject(new Error(why));
      this.pending.clear();
      this.retiring?.();
      this.onDeath(why);
    };
    worker.on('error', (e) => die(`the reward model thread failed: ${e.message}`));
    worker.on('exit', (code) => die(`the reward model thread exited (code ${code})`));
  }

  /** Starts the thread and loads the model there. Throws {@link RewardModelError} when it cannot serve. */
  static load(folder: RewardFolder, opts: { device: DevicePreference; maxTokens: number; log: RewardLog; onDeath: (why: string) => void }): Promise<RewardModelThread> {
    const worker = new Worker(engineBundle(), { argv: ['reward-worker'], stdout: false, stderr: false });
    return new Promise<RewardModelThread>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'log') opts.log(m.level, m.message);
        else if (m.type === 'loaded') {
          cleanup();
          resolve(new RewardModelThread(worker, m.info, opts.onDeath));
        } else if (m.type === 'load_failed') {
          cleanup();
          void worker.terminate();
          reject(new RewardModelError(m.problem, m.message));
        }
      };
      const onError = (e: Error) => {
        cleanup();
        reject(new RewardModelError('does_not_load', `reward model ${folder.name}: its thread failed while loading: ${e.message}`));
      };
      const onExit = (code: number) => {
        cleanup();
        reject(new RewardModelError('does_not_load', `reward model ${folder.name}: its thread exited while loading (code ${code})`));
      };
      const cleanup = () => {
        worker.off('error', onError);
        worker.off('exit', onExit);
        // Logs keep flowing after the load.
        worker.off('message', onMessage);
        worker.on('message', (m: FromThread) => {
          if (m.type === 'log') opts.log(m.level, m.message);
        });
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
      worker.once('exit', onExit);
      worker.postMessage({ type: 'load', folder, device: opts.device, maxTokens: opts.maxTokens } satisfies ToThread);
    });
  }

  /** Runs waiting or running now. */
  get queued(): number {
    return this.pending.size;
  }

  /** Scores the candidates against the context in the thread (one batched run). */
  score(context: string, candidates: readonly string[]): Promise<Float32Array> {
    if (this.dead) return Promise.reject(new Error(this.dead));
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'score', id, context, candidates: [...candidates] } satisfies ToThread);
    });
  }

  /** Ends the thread once the runs in it have ended. */
  retire(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.retiring = () => {
        this.retiring = undefined;
        void this.worker.terminate().then(() => resolve(), () => resolve());
      };
      if (this.pending.size === 0 || this.dead) this.retiring();
    });
  }

  async dispose(): Promise<void> {
    this.dead ??= 'disposed';
    await this.worker.terminate();
  }
}

/** The thread's side (`reward-worker`): loads the model, then scores what it is sent, one run at a time. */
export function runRewardThread(): void {
  const port = parentPort;
  if (!port) throw new Error('reward-worker runs as a worker thread of the engine');
  let model: RewardModel | undefined;
  const send = (m: FromThread) => port.postMessage(m);
  const log: RewardLog = (level, message) => send({ type: 'log', level, message });
  let chain = Promise.resolve();
  port.on('message', (m: ToThread) => {
    chain = chain.then(async () => {
      if (m.type === 'load') {
        try {
          model = await RewardModel.load(m.folder, { device: m.device, maxTokens: m.maxTokens, log });
          send({ type: 'loaded', info: model.info });
        } catch (e) {
          send({ type: 'load_failed', problem: e instanceof RewardModelError ? e.problem : 'does_not_load', message: (e as Error).message });
        }
      } else if (m.type === 'score') {
        try {
          if (!model) throw new Error('no model loaded');
          send({ type: 'scores', id: m.id, scores: await model.score(m.context, m.candidates) });
        } catch (e) {
          send({ type: 'score_failed', id: m.id, message: (e as Error).message });
        }
      }
    });
  });
}
