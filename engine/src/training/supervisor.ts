/**
 * Runs trainings for one data folder: one at a time (a `training.lock` file in the data folder,
 * so a standalone `winnow train` and the engine never train at once), each in a worker process
 * (training/worker.ts) at low priority; keeps its progress readable; cancels it by killing the
 * worker; and, when it ends, saves the new version in the registry, lets the owner activate it
 * when the gate promoted it, prunes old versions and records the summary.
 *
 * The serving path never waits for any of this: the supervisor only forks, listens to IPC
 * messages and writes a few small files when a training ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { engineBundle } from '../bundle';
import { FEATURE_NAMES, FEATURE_SET_ID } from '../features';
import type { LogFn } from '../log';
import { DEFAULT_TRAINING, type TrainingSettings, type TrainProgress, type TrainReply, type TrainStatusReply, type TrainSummary, type TrainTrigger } from '../protocol';
import { buildRankerModel } from '../ranker/onnx';
import { RankerRegistry } from '../ranker/registry';
import type { TrainJobInput, TrainJobResult } from './job';
import type { FromWorker } from './worker';

export interface SupervisorOptions {
  dataDir: string;
  log: LogFn;
  /**
   * Makes a promoted version active (the engine: load, validate, hot swap, then record it).
   * Throws when the version cannot be used; it is then kept, not active.
   */
  activate: (version: string, reason: string) => Promise<void>;
  /** The active version and its file, as the serving side has it. */
  active: () => { version: string; file: string };
}

export interface StartOptions {
  trigger: TrainTrigger;
  rounds?: number;
  seed?: number;
  settings: TrainingSettings;
  /** The id of the reward model the engine scores with; the version is trained with it and records it. */
  rewardModel?: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes `<dataDir>/training.lock` (O_EXCL, with our pid); a lock whose pid is dead is stale. */
export function acquireTrainingLock(dataDir: string): { acquired: true } | { acquired: false; ownerPid: number } {
  const file = path.join(dataDir, 'training.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = fs.openSync(file, 'wx', 0o600);
      fs.writeSync(fd, String(process.pid));
      fs.closeSync(fd);
      return { acquired: true };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(fs.readFileSync(file, 'utf8').trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) return { acquired: false, ownerPid: owner };
      fs.rmSync(file, { force: true }); // stale (or our own from an earlier run)
    }
  }
  return { acquired: false, ownerPid: -1 };
}

export function releaseTrainingLock(dataDir: string): void {
  const file = path.join(dataDir, 'training.lock');
  try {
    if (Number(fs.readFileSync(file, 'utf8').trim()) === process.pid) fs.rmSync(file, { force: true });
  } catch {
    // already gone
  }
}

interface Running {
  jobId: string;
  trigger: TrainTrigger;
  child: ChildProcess;
  progress: TrainProgress;
  cancelled: boolean;
  settings: TrainingSettings;
  done: Promise<TrainSummary>;
}

export class TrainingSupervisor {
  readonly registry: RankerRegistry;
  private running?: Running;
  private last?: TrainSummary;

  constructor(private readonly opts: SupervisorOptions) {
    this.registry = new RankerRegistry(opts.dataDir);
    const state = this.registry.readTrainingState();
    if (state.last) this.last = state.last;
  }

  get isRunning(): boolean {
    return this.running !== undefined;
  }

  /** The running job's end, when one runs. */
  get current(): Promise<TrainSummary> | undefined {
    return this.running?.done;
  }

  status(): TrainStatusReply {
    const active = this.registry.readActive();
    return {
      ...(this.running ? { running: { ...this.running.progress } } : {}),
      ...(this.last ? { last: this.last } : {}),
      ...(active.version && active.since ? { lastChange: { time: active.since, version: active.version, reason: active.reason ?? 'activated' } } : {}),
    };
  }

  /** Starts a training unless one runs (then its id is returned with started: false). Throws when another process trains this folder. */
  start(o: StartOptions): TrainReply {
    if (this.running) return { jobId: this.running.jobId, started: false };
    const lock = acquireTrainingLock(this.opts.dataDir);
    if (!lock.acquired) throw new Error(`another process (pid ${lock.ownerPid}) is training the ranker of this data folder`);
    const jobId = crypto.randomUUID().slice(0, 8);
    const settings = { ...DEFAULT_TRAINING, ...o.settings };
    const active = this.opts.active();
    const state = this.registry.readTrainingState();
    const input: TrainJobInput = {
      jobId,
      trigger: o.trigger,
      dbFile: path.join(this.opts.dataDir, 'winnow.db'),
      featureSet: FEATURE_SET_ID,
      featureNames: FEATURE_NAMES,
      rounds: Math.max(0, Math.min(10, Math.floor(o.rounds ?? settings.rounds))),
      seed: o.seed ?? 1,
      settings,
      active,
      // Background: minNewTriplets counts from the last training that trained (from nothing, the first time).
      ...(o.trigger === 'background' ? { previousTripletTotal: state.tripletTotal ?? 0 } : {}),
      ...(o.rewardModel ? { rewardModel: o.rewardModel } : {}),
    };
    let child: ChildProcess;
    try {
      child = fork(engineBundle(), ['train-worker'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'advanced' });
    } catch (e) {
      releaseTrainingLock(this.opts.dataDir);
      throw e;
    }
    const progress: TrainProgress = { jobId, trigger: o.trigger, startedAt: Date.now(), phase: 'loading', round: 0, rounds: input.rounds, epoch: 0, maxEpochs: 0, trainPairs: 0, heldOutPairs: 0 };
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < 4000) stderr += d.toString();
    });
    const done = new Promise<TrainSummary>((resolve) => {
      let result: TrainJobResult | undefined;
      let error: string | undefined;
      child.on('message', (m: FromWorker) => {
        if (m.type === 'progress') Object.assign(progress, m.progress);
        else if (m.type === 'done') result = m.result;
        else if (m.type === 'error') error = m.message;
        else if (m.type === 'log') this.opts.log(m.level, m.message);
      });
      child.once('error', (e) => (error ??= e.message));
      child.once('exit', (code, signal) => {
        void this.finish(running, result, error ?? (result ? undefined : `the training worker exited (${signal ?? `code ${code}`})${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' ')}` : ''}`)).then(resolve);
      });
    });
    const running: Running = { jobId, trigger: o.trigger, child, progress, cancelled: false, settings, done };
    this.running = running;
    child.send({ type: 'start', input });
    this.opts.log('info', `training ${jobId} started (${o.trigger}, ${input.rounds} hard-negative rounds, feature set ${FEATURE_SET_ID}, active ${active.version})`);
    return { jobId, started: true };
  }

  /** Stops the running training: the worker is killed, nothing is saved. */
  cancel(): boolean {
    const r = this.running;
    if (!r) return false;
    r.cancelled = true;
    r.child.kill('SIGKILL');
    return true;
  }

  private async finish(r: Running, result: TrainJobResult | undefined, error: string | undefined): Promise<TrainSummary> {
    const now = Date.now();
    const base = { jobId: r.jobId, trigger: r.trigger, featureSet: FEATURE_SET_ID, triplets: {}, rounds: [], startedAt: r.progress.startedAt, finishedAt: now, trainMs: now - r.progress.startedAt };
    let summary: TrainSummary;
    try {
      if (r.cancelled) summary = { ...base, outcome: 'cancelled', reason: 'cancelled: nothing changed' };
      else if (!result) summary = { ...base, outcome: 'failed', reason: `training failed: ${error ?? 'no result'}` };
      else summary = await this.save(result);
    } catch (e) {
      summary = { ...base, outcome: 'failed', reason: `training failed: ${(e as Error).message}` };
    }
    this.last = summary;
    if (summary.outcome !== 'cancelled') {
      const state = this.registry.readTrainingState();
      try {
        // Background training counts new triplets from the last training that trained something.
        const trained = result !== undefined && (summary.outcome === 'promoted' || summary.outcome === 'kept');
        this.registry.writeTrainingState({ ...state, last: summary, ...(trained ? { tripletTotal: result.tripletTotal } : {}) });
      } catch (e) {
        this.opts.log('warn', `could not record the training summary: ${(e as Error).message}`);
      }
    }
    this.opts.log(summary.outcome === 'failed' ? 'error' : 'info', `training ${r.jobId} ${summary.outcome}${summary.version ? ` ${summary.version}` : ''}: ${summary.reason}`);
    this.running = undefined;
    releaseTrainingLock(this.opts.dataDir);
    return summary;
  }

  /** Writes the trained version, activates it when promoted, prunes. */
  private async save(result: TrainJobResult): Promise<TrainSummary> {
    const s = result.summary;
    if (!result.spec || (s.outcome !== 'promoted' && s.outcome !== 'kept')) return s;
    if (this.running) this.running.progress.phase = 'saving';
    const version = this.registry.nextVersion();
    const parent = s.heldOut?.activeVersion ?? this.opts.active().version;
    const spec = { ...result.spec, version, metadata: { ...(result.spec.metadata ?? {}), 'winnow.parent': parent } };
    const h = result.hyper;
    this.registry.addVersion(
      {
        version,
        builtin: false,
        parent,
        featureSet: s.featureSet,
        family: h.family,
        hyper: { family: h.family, ...(h.family === 'mlp' ? { hidden: h.hidden } : {}), l2: h.l2, learningRate: h.learningRate, batchSize: h.batchSize, maxEpochs: h.maxEpochs, patience: h.patience, seed: h.seed, rounds: s.rounds.length - 1 },
        createdAt: Date.now(),
        triplets: s.triplets,
        ...(s.heldOut ? { heldOut: s.heldOut } : {}),
        rounds: s.rounds,
        decision: { promoted: result.promote, reason: s.reason },
        ...(result.spec.metadata?.['winnow.rewardModel'] ? { rewardModel: result.spec.metadata['winnow.rewardModel'] } : {}),
      },
      buildRankerModel(spec),
    );
    let summary: TrainSummary = { ...s, version };
    if (result.promote) {
      try {
        await this.opts.activate(version, s.reason);
      } catch (e) {
        summary = { ...summary, outcome: 'kept', reason: `kept, not activated: ${version} could not be loaded (${(e as Error).message})` };
        this.markDecision(version, false, summary.reason);
      }
    }
    try {
      const removed = this.registry.prune(this.running?.settings.keepVersions ?? DEFAULT_TRAINING.keepVersions);
      if (removed.length > 0) this.opts.log('info', `pruned ranker versions ${removed.join(', ')} (winnow.training.keepVersions)`);
    } catch (e) {
      this.opts.log('warn', `could not prune old ranker versions: ${(e as Error).message}`);
    }
    return summary;
  }

  private markDecision(version: string, promoted: boolean, reason: string): void {
    const m = this.registry.readMeta(version);
    if (!m) return;
    try {
      fs.writeFileSync(this.registry.metaPath(version), `${JSON.stringify({ ...m, decision: { promoted, reason } }, null, 2)}\n`, { mode: 0o600 });
    } catch {
      // the summary says it anyway
    }
  }
}
