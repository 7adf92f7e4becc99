/**
 * The engine's one reward model, shared by every window: follows the setting (a new folder
 * is checked and loaded in the background while completions go on without it), scores a
 * completion's candidates within what is left of the latency budget, and keeps the figures
 * `status` shows (device, precision, scoring time p50 over the last completions, how many
 * scores arrived in time).
 *
 * The last setting is remembered in the data folder (`reward-model.json`), so that a
 * restarted engine loads the same model before the first completion asks for it.
 */

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { writeFileAtomic } from '../fsutil';
import type { RewardModelSettings, RewardModelStatus } from '../protocol';
import { type DevicePreference, detectExecutionProvider } from '../ranker/ranker';
import { checkRewardFolder, RewardModelError } from './folder';
import type { RewardLog } from './model';
import { MAX_QUEUED, RewardModelThread } from './thread';

const STATE_FILE = 'reward-model.json';
const TIMINGS_KEPT = 100;

/** What one completion got from the reward model. */
export interface RewardRun {
  /** Scores that arrived in time, one per candidate. */
  scores?: Float32Array;
  /** When they did not: the run still going (resolves undefined when it fails). */
  later?: Promise<Float32Array | undefined>;
  /** The id of the model that scored (or is scoring). */
  modelId: string;
}

/** Total memory of the first NVIDIA GPU in bytes, from nvidia-smi; undefined when it cannot tell. */
function gpuMemoryBytes(): number | undefined {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=memory.total', '--format=csv,noheader,nounits'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true });
    const mib = Number(out.trim().split('\n')[0]);
    return Number.isFinite(mib) && mib > 0 ? mib * 1048576 : undefined;
  } catch {
    return undefined;
  }
}

/** The most model bytes a device takes: 90% of the GPU's memory, or half of the machine's. */
export function modelSizeLimit(device: DevicePreference): { bytes: number; why: string } {
  const ram = { bytes: Math.floor(os.totalmem() / 2), why: 'half of this machine\'s memory' };
  if (device === 'cpu' || detectExecutionProvider(device).device !== 'cuda') return ram;
  const gpu = gpuMemoryBytes();
  return gpu ? { bytes: Math.floor(gpu * 0.9), why: '90% of the GPU\'s memory' } : ram;
}

/**
 * The id of the reward model a data folder's engine uses (its remembered setting), for a
 * training run without the engine (`winnow train` with no engine running); undefined when none
 * is set or its folder does not pass the check.
 */
export function rememberedRewardModelId(dataDir: string): string | undefined {
  try {
    const s = JSON.parse(fs.readFileSync(path.join(dataDir, STATE_FILE), 'utf8')) as RewardModelSettings;
    if (typeof s.path !== 'string' || s.path === '' || !path.isAbsolute(s.path)) return undefined;
    return checkRewardFolder(s.path, { maxBytes: Number.MAX_SAFE_INTEGER }).id;
  } catch {
    return undefined;
  }
}

function pct(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] as number;
}

export class RewardService {
  private settings: RewardModelSettings;
  private model?: RewardModelThread;
  private loading?: Promise<void>;
  /** Bumped at each new setting: a load that finishes after a newer setting is discarded. */
  private generation = 0;
  private state: RewardModelStatus['state'] = 'none';
  private problem?: string;
  private checkedId?: string;
  private timings: number[] = [];
  private inTime = 0;
  private late = 0;
  private errors = 0;
  private skipped = 0;

  constructor(
    private readonly dataDir: string,
    private readonly device: DevicePreference,
    private readonly log: RewardLog,
    /** TEST STAND-IN for a smaller machine: the most model bytes it takes. */
    private readonly maxBytesOverride?: number,
  ) {
    this.settings = { path: '', maxTokens: 1024 };
    const saved = this.readState();
    if (saved) this.configure(saved);
  }

  private readState(): RewardModelSettings | undefined {
    try {
      const s = JSON.parse(fs.readFileSync(path.join(this.dataDir, STATE_FILE), 'utf8')) as RewardModelSettings;
      return typeof s.path === 'string' && typeof s.maxTokens === 'number' ? s : undefined;
    } catch {
      return undefined;
    }
  }

  /** Follows a setting: nothing when it is the current one; else the old model is let go and the new one loads in the background. */
  configure(next: RewardModelSettings): void {
    const want = { path: next.path.trim(), maxTokens: next.maxTokens };
    if (want.path === this.settings.path && want.maxTokens === this.settings.maxTokens) return;
    this.settings = want;
    try {
      writeFileAtomic(path.join(this.dataDir, STATE_FILE), JSON.stringify(want));
    } catch {
      /* remembered for the next start only */
    }
    const gen = ++this.generation;
    const old = this.model;
    this.model = undefined;
    this.checkedId = undefined;
    this.problem = undefined;
    this.timings = [];
    this.inTime = this.late = this.errors = this.skipped = 0;
    if (old) void old.retire();
    if (want.path === '') {
      this.state = 'none';
      this.log('info', 'no reward model (winnow.ranker.rewardModel is empty)');
      return;
    }
    this.state = 'loading';
    this.loading = this.load(gen, want);
  }

  private async load(gen: number, s: RewardModelSettings): Promise<void> {
    const t0 = performance.now();
    try {
      if (!path.isAbsolute(s.path)) throw new RewardModelError('invalid', `winnow.ranker.rewardModel must be an absolute folder path (or start with ~/), got ${JSON.stringify(s.path)}`);
      const limit = this.maxBytesOverride !== undefined ? { bytes: this.maxBytesOverride, why: 'the size limit' } : modelSizeLimit(this.device);
      const folder = checkRewardFolder(s.path, { maxBytes: limit.bytes, limitWhy: limit.why, preferFp16: detectExecutionProvider(this.device).device === 'cuda' });
      if (gen !== this.generation) return;
      this.checkedId = folder.id;
      const model = await RewardModelThread.load(folder, {
        device: this.device,
        maxTokens: s.maxTokens,
        log: this.log,
        onDeath: (why) => {
          if (gen !== this.generation || this.model !== model) return;
          this.model = undefined;
          this.state = 'failed';
          this.checkedId = undefined;
          this.problem = `${why}; completions go on without the reward model (set winnow.ranker.rewardModel again, or restart the engine, to reload it)`;
          this.log('error', this.problem);
        },
      });
      if (gen !== this.generation) {
        await model.dispose();
        return;
      }
      this.model = model;
      this.state = 'ready';
      const i = model.info;
      this.log('info', `reward model ${i.name} (${i.id}, ${i.modelMB} MB, ${i.precision}) on ${i.device.toUpperCase()} (${i.deviceReason}), up to ${i.maxTokens} tokens a candidate, loaded in ${Math.round(performance.now() - t0)} ms`);
    } catch (e) {
      if (gen !== this.generation) return;
      this.state = 'failed';
      this.checkedId = undefined;
      this.problem = e instanceof RewardModelError ? e.message : `reward model ${s.path} could not be loaded: ${(e as Error).message}`;
      this.log('error', `${this.problem}; completions go on without it`);
    }
  }

  /** Resolves when the model of the current setting has loaded or failed (tests, `winnow status`). */
  async ready(): Promise<void> {
    let seen: Promise<void> | undefined;
    while (this.loading && this.loading !== seen) {
      seen = this.loading;
      await seen;
    }
  }

  /**
   * The reward model a ranker version must have been trained with to serve now: the one set
   * (once its folder passed the check), else none.
   */
  pairingKey(): string | undefined {
    return this.state === 'ready' || this.state === 'loading' ? this.checkedId : undefined;
  }

  /**
   * Scores the candidates against the context; waits at most `waitMs`, or until `signal`
   * aborts (a superseded request). Undefined when no model is ready (none set, loading,
   * failed) or it is busy with earlier completions.
   */
  async score(context: string, candidates: readonly string[], waitMs: number, signal?: AbortSignal): Promise<RewardRun | undefined> {
    const model = this.model;
    if (!model || candidates.length === 0) return undefined;
    if (model.queued >= MAX_QUEUED) {
      // Still busy with earlier completions (a slow model): this one goes without, rather than queue.
      this.skipped++;
      return undefined;
    }
    const t0 = performance.now();
    const run = model.score(context, candidates).then(
      (scores) => {
        this.timings.push(performance.now() - t0);
        if (this.timings.length > TIMINGS_KEPT) this.timings.shift();
        return scores;
      },
      (e: unknown) => {
        this.errors++;
        this.log('warn', `reward model ${model.info.name} failed to score: ${(e as Error).message}`);
        return undefined;
      },
    );
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const timeout = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), Math.max(0, waitMs));
      onAbort = () => resolve('late');
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) resolve('late');
    });
    const first = await Promise.race([run, timeout]);
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    if (first === 'late') {
      this.late++;
      return { later: run, modelId: model.info.id };
    }
    if (first === undefined) return undefined;
    this.inTime++;
    return { scores: first, modelId: model.info.id };
  }

  /** Its usual scoring time (p50 of the last completions), ms, while it is ready; 0 otherwise (latency-aware N leaves it that much). */
  typicalMs(): number {
    return this.state === 'ready' && this.timings.length > 0 ? pct([...this.timings].sort((a, b) => a - b), 50) : 0;
  }

  status(): RewardModelStatus {
    const i = this.model?.info;
    const sorted = [...this.timings].sort((a, b) => a - b);
    const round = (v: number) => Math.round(v * 10) / 10;
    return {
      state: this.state,
      path: this.settings.path,
      maxTokens: i?.maxTokens ?? this.settings.maxTokens,
      ...(i ? { name: i.name, id: i.id, device: i.device, deviceReason: i.deviceReason, precision: i.precision, modelMB: i.modelMB } : this.checkedId ? { id: this.checkedId } : {}),
      ...(sorted.length > 0 ? { p50Ms: round(pct(sorted, 50)), p90Ms: round(pct(sorted, 90)) } : {}),
      inTime: this.inTime,
      late: this.late,
      errors: this.errors,
      skipped: this.skipped,
      running: this.model?.queued ?? 0,
      ...(this.problem ? { problem: this.problem } : {}),
    };
  }

  /** At engine stop: the thread ends now (a run in it is not waited for; its score would be stored by nobody). */
  async dispose(): Promise<void> {
    this.generation++;
    const m = this.model;
    this.model = undefined;
    if (m) await m.dispose();
  }
}
