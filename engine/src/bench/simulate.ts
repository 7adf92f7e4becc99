/**
 * `winnow bench --simulate-user`: a simulated developer teaching a REAL engine process.
 *
 * HumanEval tasks arrive, in a seeded order, at `winnow serve` (a fresh data folder, the
 * recorded backend replaying CodeGen-16B samples, N = 8, the generator seed varied per arrival
 * so that a repeated task draws other samples). Everything goes through the protocol the editor
 * uses (EngineClient: `complete`, `event`, `trainStatus`, `rankers`) into the engine's store.
 *
 * The developer sees the top candidate; if it passes the task's hidden tests they accept it,
 * otherwise they cycle to the next one, up to {@link SimulateOptions.maxCycles} times, accept the
 * first that passes, or dismiss the one on screen. The feedback events are those the extension
 * sends (docs/feedback-events.md): `shown` for each candidate seen (the first `trigger:
 * automatic`, cycled-to ones `trigger: explicit`, an accepted cycled-to one `inferred: true` as
 * the extension's tracker marks it), `accepted` with `totalChars`, and `rejected` `{ reason:
 * 'dismissed', shownMs }` for the one on screen when dismissing; candidates cycled past get no
 * terminal event ("passed over").
 *
 * "Passes" is decided from the reference labels (codegen16b_labels.jsonl) when the engine's
 * post-processed text equals (trailing whitespace aside) the CodeT cut of a labelled sample
 * whose labels agree, and otherwise by running the prompt + candidate against the hidden
 * tests + check(entry_point) in the sandboxed runner (runPythonTests), cached in SQLite by
 * content hash.
 *
 * Without execution (the extension's default asks first) the prompt is the pool's
 * generation_prompt, whose docstring examples CodeT removed; with `execute` it is HumanEval's
 * prompt, examples included, and the engines run the candidates against them as they would in
 * a trusted workspace with winnow.execution.enabled: on.
 *
 * Two engines see the same stream side by side: one learning (background training on: `auto`,
 * low thresholds; between windows of arrivals the simulator goes idle until the engine's
 * background training has ended), one with training off (`auto: false`): the baseline.
 *
 * Stream per seed (so that what is measured late was never trained on): the tasks are shuffled
 * and split into two disjoint halves A and B; pass 1 goes over A, pass 2 over A again in
 * another order (other samples), pass 3 over B: tasks neither engine has seen. The last third
 * of the stream is pass 3.
 */
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineClient } from '../client';
import { readEngineInfo } from '../discovery';
import { runPythonTests } from '../exec/languages';
import { WorkerPool } from '../exec/pool';
import type { CompleteReply, CompleteRequest, FeedbackEvent, RankerVersionInfo, TrainingSettings, TrainSummary } from '../protocol';
import { mulberry32 } from '../random';
import { cutCodeT } from '../testsources/postcut';
import { mkdirp } from '../fsutil';

export const SIM_RUNNER_VERSION = 'simulate-1';
const HIDDEN_MS = 3000;
const CANDIDATE_MS = 6000;

export interface SimulateOptions {
  problems: string;
  samples: string;
  /** codegen16b_labels.jsonl: labels of the raw samples (CodeT cut), used when a candidate is one of them. */
  labels?: string;
  /** The engine bundle (engine/out/cli.js) to spawn as `serve`. */
  engineScript: string;
  seeds: number[];
  /** Only this many tasks (the first N of problems.jsonl), for quick runs. */
  limit?: number;
  /** Arrivals per window (the figure's x step, and how often the learning engine may train). */
  window: number;
  n: number;
  /**
   * Ask the engine to run the candidates against the docstring's examples (the request's
   * `execute`, what `winnow.execution.enabled: on` sends in a trusted workspace). Off by
   * default, as the extension's default asks first.
   */
  execute?: boolean;
  /** Times the developer cycles to the next candidate before dismissing. */
  maxCycles: number;
  /** Training settings the learning engine gets with every completion (auto is forced on). */
  training: TrainingSettings;
  /** Background training: the engine's idle time and check period (--train-idle-ms, --train-check-ms). */
  trainIdleMs: number;
  trainCheckMs: number;
  /** Longest wait for a background training after a window. */
  trainWaitMs: number;
  cacheDir: string;
  /** Where the engines' data folders go (default: a fresh temp folder, removed at the end). */
  workDir?: string;
  keepWorkDir?: boolean;
  onProgress?: (line: string) => void;
}

export const DEFAULT_SIM_TRAINING: TrainingSettings = { auto: true, minNewTriplets: 40, minPairs: 20, promotionMargin: 1, keepVersions: 50, rounds: 1 };

export type Mode = 'learning' | 'off';

export interface ArrivalRecord {
  index: number;
  pass: 1 | 2 | 3;
  taskId: string;
  seed: number;
  rankerVersion: string;
  candidates: number;
  /** Rank of the accepted candidate; -1: dismissed. */
  acceptedRank: number;
  top1: boolean;
  /** Some candidate of the N passes (the ceiling of any ranking). */
  anyPasses: boolean;
}

export interface TrainingRecord {
  /** Arrivals served before it started (mid-window: before the arrival after which it was seen finished). */
  afterArrival: number;
  /**
   * It ran during a window, not in the idle time after one: the engine found itself idle
   * for --train-idle-ms while the simulator was judging candidates (slow with execution).
   */
  midWindow?: boolean;
  jobId: string;
  outcome: TrainSummary['outcome'];
  version?: string;
  reason: string;
  heldOut?: TrainSummary['heldOut'];
  trainMs: number;
  triplets: number;
}

export interface RunRecord {
  seed: number;
  mode: Mode;
  arrivals: ArrivalRecord[];
  trainings: TrainingRecord[];
  /** `rankers` at the end of the run. */
  rankers: RankerVersionInfo[];
  wallMs: number;
}

export interface WindowRow {
  window: number;
  from: number;
  to: number;
  pass: string;
  /** Top-1 acceptance in percent, mean over seeds. */
  learning: number;
  off: number;
  /** Some candidate passes (ceiling), percent. */
  ceiling: number;
  /** Acceptance within the cycles, percent. */
  learningAny: number;
  offAny: number;
}

export interface SimulateResult {
  seeds: number[];
  tasks: number;
  passSize: number;
  window: number;
  arrivalsPerSeed: number;
  /** Whether the engines ran the candidates against the docstring's examples. */
  execute: boolean;
  windows: WindowRow[];
  /** Per phase: top-1 in percent (mean over seeds), per seed too. */
  phases: { name: string; from: number; to: number; learning: number; off: number; perSeed: { seed: number; learning: number; off: number }[] }[];
  /** The goal: last third (pass 3, held-out tasks), learning − off, in points. */
  lastThird: { learning: number; off: number; gain: number; perSeed: { seed: number; gain: number }[]; met: boolean };
  judged: { fromLabels: number; executed: number; fromCache: number };
  runs: RunRecord[];
  wallMs: number;
}

interface Problem {
  task_id: string;
  prompt: string;
  entry_point: string;
  test: string;
}

interface Task {
  taskId: string;
  prompt: string;
  hidden: string;
  /** trimEnd(CodeT cut of a sample) → label, only where every sample with that text agrees. */
  labelled: Map<string, boolean>;
  samples: string[];
}

/**
 * The recorded pool the engines replay: the shared one, or with execution a copy keyed by the
 * prompts the simulation sends (the same samples under HumanEval's prompt with its examples).
 */
function poolFor(o: SimulateOptions, tasks: readonly Task[], work: string): string {
  if (!o.execute) return o.samples;
  const file = path.join(work, 'pool-with-examples.jsonl');
  fs.writeFileSync(file, tasks.map((t) => JSON.stringify({ task_id: t.taskId, generation_prompt: t.prompt, samples: t.samples })).join('\n') + '\n');
  return file;
}

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as T);
}

function loadTasks(o: SimulateOptions): Task[] {
  const problems = new Map(readJsonl<Problem>(o.problems).map((p) => [p.task_id, p]));
  const labels = o.labels ? new Map(readJsonl<{ task_id: string; passed: boolean[] }>(o.labels).map((l) => [l.task_id, l.passed])) : new Map<string, boolean[]>();
  const tasks: Task[] = [];
  for (const s of readJsonl<{ task_id: string; generation_prompt: string; samples: string[] }>(o.samples)) {
    const p = problems.get(s.task_id);
    if (!p) throw new Error(`${o.samples}: task ${s.task_id} is not in ${o.problems}`);
    const passed = labels.get(s.task_id);
    const labelled = new Map<string, boolean>();
    const conflicted = new Set<string>();
    if (passed) {
      s.samples.forEach((x, i) => {
        const l = passed[i];
        if (l === undefined) return;
        const key = cutCodeT(x).trimEnd();
        const seen = labelled.get(key);
        if (seen !== undefined && seen !== l) conflicted.add(key);
        labelled.set(key, l);
      });
      for (const k of conflicted) labelled.delete(k);
    }
    // With execution the developer's file holds the docstring's examples (HumanEval's prompt);
    // the pool's generation_prompt has them removed (CodeT's setting), so the engine would find
    // nothing to run.
    tasks.push({ taskId: s.task_id, prompt: o.execute ? p.prompt : s.generation_prompt, hidden: `${p.test}\ncheck(${p.entry_point})\n`, labelled, samples: s.samples });
    if (o.limit && tasks.length >= o.limit) break;
  }
  return tasks;
}

/** Hidden-test verdicts: labels first, then the SQLite cache, then the sandbox. */
class Judge {
  private readonly db: Database.Database;
  private readonly get: Database.Statement;
  private readonly put: Database.Statement;
  private readonly pending = new Map<string, Promise<boolean>>();
  readonly pool = new WorkerPool();
  counts = { fromLabels: 0, executed: 0, fromCache: 0 };

  constructor(dir: string) {
    mkdirp(dir);
    this.db = new Database(path.join(dir, 'simulate-cache.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, passed INTEGER NOT NULL)');
    this.get = this.db.prepare('SELECT passed FROM verdicts WHERE key = ?');
    this.put = this.db.prepare('INSERT OR REPLACE INTO verdicts (key, passed) VALUES (?, ?)');
  }

  passes(task: Task, text: string): Promise<boolean> {
    const label = task.labelled.get(text.trimEnd());
    if (label !== undefined) {
      this.counts.fromLabels++;
      return Promise.resolve(label);
    }
    const program = `${task.prompt}${text}\n`;
    const key = crypto.createHash('sha256').update(SIM_RUNNER_VERSION).update('\0').update(program).update('\0').update(task.hidden).digest('hex');
    const inFlight = this.pending.get(key);
    if (inFlight) return inFlight;
    const row = this.get.get(key) as { passed: number } | undefined;
    if (row) {
      this.counts.fromCache++;
      return Promise.resolve(row.passed === 1);
    }
    const p = runPythonTests(program, [{ source: task.hidden, timeoutMs: HIDDEN_MS }], { perTestMs: HIDDEN_MS, totalMs: CANDIDATE_MS, pool: this.pool }).then((r) => {
      const passed = r.results[0]?.passed === true;
      this.counts.executed++;
      this.put.run(key, passed ? 1 : 0);
      this.pending.delete(key);
      return passed;
    });
    this.pending.set(key, p);
    return p;
  }

  close(): void {
    this.pool.close();
    this.db.close();
  }
}

interface Engine {
  child: ChildProcess;
  client: EngineClient;
  stderr: () => string;
  stop(): Promise<void>;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function startEngine(o: SimulateOptions, dataDir: string): Promise<Engine> {
  mkdirp(dataDir, 0o700);
  const child = spawn(
    process.execPath,
    [o.engineScript, 'serve', '--data-dir', dataDir, '--device', 'cpu', '--idle-exit-min', '0', '--train-idle-ms', String(o.trainIdleMs), '--train-check-ms', String(o.trainCheckMs)],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const deadline = Date.now() + 30_000;
  let info = readEngineInfo(dataDir);
  while (!info || info.pid !== child.pid) {
    if (child.exitCode !== null) throw new Error(`engine exited with ${child.exitCode}: ${err}`);
    if (Date.now() > deadline) throw new Error(`engine in ${dataDir} did not start within 30 s: ${err}`);
    await sleep(50);
    info = readEngineInfo(dataDir);
  }
  const client = new EngineClient(info.endpoint);
  await client.request('ping', {}, 10_000);
  return {
    child,
    client,
    stderr: () => err,
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** The seeded arrival order: pass 1 over A, pass 2 over A reshuffled, pass 3 over B (disjoint). */
export function streamOf(taskCount: number, seed: number, window: number): { order: { task: number; pass: 1 | 2 | 3 }[]; passSize: number } {
  const r = mulberry32(0x5eed ^ Math.imul(seed, 0x9e3779b1));
  const shuffle = (xs: number[]) => {
    const a = [...xs];
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [a[i], a[j]] = [a[j] as number, a[i] as number];
    }
    return a;
  };
  const all = shuffle(Array.from({ length: taskCount }, (_, i) => i));
  const half = Math.floor(taskCount / 2);
  // Whole windows per pass where there are enough tasks, so that the passes are table rows.
  const passSize = half >= window ? half - (half % window) : half;
  const a = all.slice(0, passSize);
  const b = all.slice(passSize, 2 * passSize);
  const order = [...a.map((task) => ({ task, pass: 1 as const })), ...shuffle(a).map((task) => ({ task, pass: 2 as const })), ...shuffle(b).map((task) => ({ task, pass: 3 as const }))];
  return { order, passSize };
}

function completeRequest(o: SimulateOptions, pool: string, task: Task, genSeed: number, training: TrainingSettings): CompleteRequest {
  return {
    prefix: task.prompt,
    suffix: '',
    languageId: 'python',
    filePath: `/home/dev/humaneval/${task.taskId.replace(/[^A-Za-z0-9]+/g, '_')}.py`,
    n: o.n,
    budgetMs: 10_000,
    generator: { backend: 'recorded', recordedPool: pool, seed: genSeed },
    dataset: { enabled: true, maxSizeMB: 1000 },
    ...(o.execute ? { execute: true } : {}),
    training,
  };
}

/** One arrival: the completion, the developer's look at up to 1 + maxCycles candidates, the events. */
async function arrive(o: SimulateOptions, pool: string, engine: Engine, judge: Judge, task: Task, genSeed: number, training: TrainingSettings): Promise<Omit<ArrivalRecord, 'index' | 'pass' | 'taskId' | 'seed'>> {
  const t0 = performance.now();
  const r: CompleteReply = await engine.client.request('complete', completeRequest(o, pool, task, genSeed, training), 60_000);
  const latencyMs = Math.round(performance.now() - t0);
  const verdicts = await Promise.all(r.candidates.map((c) => judge.passes(task, c.text)));
  const events: FeedbackEvent[] = [];
  let clock = Date.now();
  const ev = (kind: FeedbackEvent['kind'], i: number, data?: Record<string, unknown>): FeedbackEvent => {
    const c = r.candidates[i]!;
    return { kind, requestId: r.requestId, candidateId: c.id, rank: c.rank, rankerVersion: r.rankerVersion, latencyMs, time: clock, ...(data ? { data } : {}) };
  };
  let acceptedRank = -1;
  const seen = Math.min(r.candidates.length, 1 + o.maxCycles);
  let shownAt = clock;
  for (let i = 0; i < seen; i++) {
    // A second or so per look.
    clock += i === 0 ? 0 : 1000;
    shownAt = clock;
    if (verdicts[i]) {
      if (i === 0) events.push(ev('shown', i, { trigger: 'automatic' }));
      else events.push(ev('shown', i, { inferred: true }));
      clock += 1500;
      events.push(ev('accepted', i, { totalChars: r.candidates[i]!.text.length }));
      acceptedRank = i;
      break;
    }
    events.push(ev('shown', i, { trigger: i === 0 ? 'automatic' : 'explicit' }));
  }
  if (acceptedRank < 0 && seen > 0) {
    clock += 1500;
    events.push(ev('rejected', seen - 1, { reason: 'dismissed', shownMs: clock - shownAt }));
  }
  if (events.length > 0) {
    const ack = await engine.client.request('event', { events }, 20_000);
    if (ack.stored + (ack.held ?? 0) !== events.length) throw new Error(`engine stored ${ack.stored} of ${events.length} events`);
  }
  return { rankerVersion: r.rankerVersion, candidates: r.candidates.length, acceptedRank, top1: acceptedRank === 0, anyPasses: verdicts.some(Boolean) };
}

/** Triplets of a training, both splits, all sources. */
const tripletCount = (bySource: Record<string, { train: number; validation: number }> | undefined) => Object.values(bySource ?? {}).reduce((a, t) => a + t.train + t.validation, 0);

function recordOf(last: TrainSummary, afterArrival: number, midWindow: boolean): TrainingRecord {
  return {
    afterArrival,
    ...(midWindow ? { midWindow } : {}),
    jobId: last.jobId,
    outcome: last.outcome,
    ...(last.version ? { version: last.version } : {}),
    reason: last.reason,
    ...(last.heldOut ? { heldOut: last.heldOut } : {}),
    trainMs: last.trainMs,
    triplets: tripletCount(last.triplets),
  };
}

/**
 * The trainings seen, plus the versions the registry holds that no look caught (two
 * trainings can end between two looks when the engine trains whenever it is idle), placed
 * after the last arrival stored before the version was created; sorted by arrival.
 */
export function withRegistryVersions(seen: readonly TrainingRecord[], rankers: readonly RankerVersionInfo[], doneAt: readonly number[]): TrainingRecord[] {
  const have = new Set(seen.flatMap((t) => (t.version ? [t.version] : [])));
  const found: TrainingRecord[] = rankers
    .filter((v) => !v.builtin && !have.has(v.version))
    .map((v) => ({
      afterArrival: doneAt.filter((t) => t <= v.createdAt).length,
      midWindow: true,
      jobId: '',
      outcome: v.decision?.promoted ? 'promoted' : 'kept',
      version: v.version,
      reason: v.decision?.reason ?? '',
      ...(v.heldOut ? { heldOut: v.heldOut } : {}),
      trainMs: Number.NaN,
      triplets: tripletCount(v.triplets),
    }));
  return [...seen, ...found].sort((a, b) => a.afterArrival - b.afterArrival);
}

/** After an arrival: a background training that ended since the last look (the engine may train whenever it is idle). */
async function finishedTraining(engine: Engine, afterArrival: number, known: Set<string>): Promise<TrainingRecord | undefined> {
  const st = await engine.client.request('trainStatus', {}, 10_000);
  if (st.running || !st.last || known.has(st.last.jobId)) return undefined;
  known.add(st.last.jobId);
  return recordOf(st.last, afterArrival, true);
}

/** After a window: idle until the background training the engine starts has ended (bounded). */
async function awaitBackgroundTraining(o: SimulateOptions, engine: Engine, since: number, afterArrival: number, known: Set<string>): Promise<TrainingRecord | undefined> {
  const deadline = Date.now() + o.trainWaitMs;
  // No training starts within idle + a few checks: nothing to train on (the engine decided).
  const startBy = Date.now() + o.trainIdleMs + 4 * o.trainCheckMs + 3000;
  for (;;) {
    const st = await engine.client.request('trainStatus', {}, 10_000);
    const last = st.last;
    if (!st.running && last && !known.has(last.jobId) && last.startedAt >= since) {
      known.add(last.jobId);
      return recordOf(last, afterArrival, false);
    }
    if (!st.running && Date.now() > startBy) return undefined;
    if (Date.now() > deadline) {
      o.onProgress?.(`training still running after ${o.trainWaitMs} ms; going on`);
      return undefined;
    }
    await sleep(100);
  }
}

async function runOne(o: SimulateOptions, pool: string, tasks: Task[], judge: Judge, seed: number, mode: Mode, dataDir: string): Promise<RunRecord> {
  const t0 = Date.now();
  const { order } = streamOf(tasks.length, seed, o.window);
  const training: TrainingSettings = mode === 'learning' ? { ...o.training, auto: true } : { ...o.training, auto: false };
  const engine = await startEngine(o, dataDir);
  const arrivals: ArrivalRecord[] = [];
  /** When each arrival's feedback was stored (to place versions found only in the registry). */
  const doneAt: number[] = [];
  const trainings: TrainingRecord[] = [];
  const known = new Set<string>();
  try {
    for (const [index, a] of order.entries()) {
      const task = tasks[a.task]!;
      // The generator seed differs per arrival (and seed): a repeated task draws other samples.
      const genSeed = seed * 100_000 + index;
      const x = await arrive(o, pool, engine, judge, task, genSeed, training);
      arrivals.push({ index, pass: a.pass, taskId: task.taskId, seed, ...x });
      doneAt.push(Date.now());
      if (mode === 'learning') {
        const mid = await finishedTraining(engine, index + 1, known);
        if (mid) {
          trainings.push(mid);
          o.onProgress?.(`seed ${seed} learning: training during the window, seen after ${index + 1}: ${mid.outcome}${mid.version ? ` ${mid.version}` : ''} (${mid.triplets} triplets, ${Math.round(mid.trainMs)} ms): ${mid.reason}`);
        }
      }
      const endOfWindow = (index + 1) % o.window === 0 && index + 1 < order.length;
      if (endOfWindow) {
        const recent = arrivals.slice(-o.window);
        o.onProgress?.(`seed ${seed} ${mode}: ${index + 1}/${order.length} arrivals, window top-1 ${recent.filter((y) => y.top1).length}/${recent.length}, ranker ${x.rankerVersion}`);
        if (mode === 'learning') {
          const t = await awaitBackgroundTraining(o, engine, Date.now() - 1, index + 1, known);
          if (t) {
            trainings.push(t);
            o.onProgress?.(`seed ${seed} learning: training after ${index + 1}: ${t.outcome}${t.version ? ` ${t.version}` : ''} (${t.triplets} triplets, ${Math.round(t.trainMs)} ms): ${t.reason}`);
          }
        }
      }
    }
    const rankers = (await engine.client.request('rankers', {}, 10_000)).versions;
    return { seed, mode, arrivals, trainings: withRegistryVersions(trainings, rankers, doneAt), rankers, wallMs: Date.now() - t0 };
  } catch (e) {
    throw new Error(`seed ${seed} ${mode}: ${(e as Error).message}\nengine stderr: ${engine.stderr()}`);
  } finally {
    await engine.stop();
  }
}

const pct = (xs: readonly boolean[]) => (xs.length === 0 ? 0 : (100 * xs.filter(Boolean).length) / xs.length);
const mean = (xs: readonly number[]) => (xs.length === 0 ? 0 : xs.reduce((a, b) => a + b, 0) / xs.length);

export function summarize(runs: RunRecord[], seeds: number[], window: number, passSize: number, tasks: number, judged: SimulateResult['judged'], wallMs: number): Omit<SimulateResult, 'execute'> {
  const of = (seed: number, mode: Mode) => runs.find((r) => r.seed === seed && r.mode === mode)?.arrivals ?? [];
  const total = of(seeds[0]!, 'off').length;
  const windows: WindowRow[] = [];
  for (let w = 0; w * window < total; w++) {
    const from = w * window;
    const to = Math.min(total, from + window);
    const at = (seed: number, mode: Mode) => of(seed, mode).slice(from, to);
    const passes = [...new Set(at(seeds[0]!, 'off').map((a) => a.pass))].join('/');
    windows.push({
      window: w + 1,
      from: from + 1,
      to,
      pass: passes,
      learning: mean(seeds.map((s) => pct(at(s, 'learning').map((a) => a.top1)))),
      off: mean(seeds.map((s) => pct(at(s, 'off').map((a) => a.top1)))),
      ceiling: mean(seeds.map((s) => pct(at(s, 'off').map((a) => a.anyPasses)))),
      learningAny: mean(seeds.map((s) => pct(at(s, 'learning').map((a) => a.acceptedRank >= 0)))),
      offAny: mean(seeds.map((s) => pct(at(s, 'off').map((a) => a.acceptedRank >= 0)))),
    });
  }
  const phaseNames = ['pass 1 (tasks A)', 'pass 2 (tasks A again, other samples)', 'pass 3 (tasks B, never seen: the last third)'];
  const phases = ([1, 2, 3] as const).map((p) => {
    const perSeed = seeds.map((seed) => ({
      seed,
      learning: pct(of(seed, 'learning').filter((a) => a.pass === p).map((a) => a.top1)),
      off: pct(of(seed, 'off').filter((a) => a.pass === p).map((a) => a.top1)),
    }));
    return { name: phaseNames[p - 1]!, from: (p - 1) * passSize + 1, to: p * passSize, learning: mean(perSeed.map((x) => x.learning)), off: mean(perSeed.map((x) => x.off)), perSeed };
  });
  const last = phases[2]!;
  const gain = last.learning - last.off;
  return {
    seeds,
    tasks,
    passSize,
    window,
    arrivalsPerSeed: total,
    windows,
    phases,
    lastThird: { learning: last.learning, off: last.off, gain, perSeed: last.perSeed.map((x) => ({ seed: x.seed, gain: x.learning - x.off })), met: gain >= 5 },
    judged,
    runs,
    wallMs,
  };
}

export async function runSimulation(o: SimulateOptions): Promise<SimulateResult> {
  const t0 = Date.now();
  const tasks = loadTasks(o);
  if (tasks.length < 2) throw new Error('the simulation needs at least 2 tasks');
  const { passSize } = streamOf(tasks.length, o.seeds[0] ?? 1, o.window);
  const work = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-simulate-'));
  mkdirp(work);
  const judge = new Judge(o.cacheDir);
  const runs: RunRecord[] = [];
  try {
    const pool = poolFor(o, tasks, work);
    for (const seed of o.seeds) {
      // The learning engine and the baseline see the same stream side by side.
      const [learning, off] = await Promise.all([
        runOne(o, pool, tasks, judge, seed, 'learning', path.join(work, `seed${seed}-learning`)),
        runOne(o, pool, tasks, judge, seed, 'off', path.join(work, `seed${seed}-off`)),
      ]);
      runs.push(learning, off);
    }
  } finally {
    judge.close();
    if (!o.workDir && !o.keepWorkDir) fs.rmSync(work, { recursive: true, force: true });
  }
  return { ...summarize(runs, o.seeds, o.window, passSize, tasks.length, judge.counts, Date.now() - t0), execute: o.execute === true };
}

/** The table BENCHMARKS.md shows. */
export function describeSimulation(r: SimulateResult): string {
  const f = (x: number) => x.toFixed(1);
  const lines: string[] = [];
  lines.push(`| window | arrivals | pass | top-1 learning | top-1 off | learning − off | accepted within ${'3'} cycles (learning / off) | some candidate passes |`);
  lines.push('| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  for (const w of r.windows) lines.push(`| ${w.window} | ${w.from}–${w.to} | ${w.pass} | ${f(w.learning)} | ${f(w.off)} | ${w.learning - w.off >= 0 ? '+' : ''}${f(w.learning - w.off)} | ${f(w.learningAny)} / ${f(w.offAny)} | ${f(w.ceiling)} |`);
  lines.push('');
  lines.push('| phase | arrivals | top-1 learning | top-1 off | learning − off | per seed (learning − off) |');
  lines.push('| --- | --- | ---: | ---: | ---: | --- |');
  for (const p of r.phases) lines.push(`| ${p.name} | ${p.from}–${p.to} | ${f(p.learning)} | ${f(p.off)} | ${p.learning - p.off >= 0 ? '+' : ''}${f(p.learning - p.off)} | ${p.perSeed.map((x) => `${x.seed}: ${x.learning - x.off >= 0 ? '+' : ''}${f(x.learning - x.off)}`).join(', ')} |`);
  lines.push('');
  const g = r.lastThird;
  lines.push(`Goal (last third, learning ≥ off + 5 points): ${g.met ? 'met' : 'missed'}: ${f(g.learning)} vs ${f(g.off)}, ${g.gain >= 0 ? '+' : ''}${f(g.gain)} points.`);
  lines.push(`${r.tasks} tasks, ${r.passSize} per pass, ${r.arrivalsPerSeed} arrivals per seed, seeds ${r.seeds.join(', ')}, execution ${r.execute ? 'on (docstring examples)' : 'off'}; verdicts: ${r.judged.fromLabels} from the labels, ${r.judged.executed} executed, ${r.judged.fromCache} from the cache; ${(r.wallMs / 1000).toFixed(0)} s.`);
  lines.push('');
  lines.push('Trainings of the learning engine (arrivals served before each; * during a window, seen finished after that arrival):');
  for (const run of r.runs.filter((x) => x.mode === 'learning')) {
    const t = run.trainings.map((x) => `${x.afterArrival}${x.midWindow ? '*' : ''}: ${x.outcome}${x.version ? ` ${x.version}` : ''}${x.heldOut ? (x.heldOut.pairs > 0 ? ` (held-out ${(100 * x.heldOut.accuracy).toFixed(1)} vs ${x.heldOut.activeVersion} ${(100 * x.heldOut.activeAccuracy).toFixed(1)}, ${x.heldOut.pairs} pairs)` : ' (no held-out pairs)') : ''}`);
    lines.push(`- seed ${run.seed}: ${t.join('; ') || 'none'}`);
    const served = new Map<string, number>();
    for (const a of run.arrivals) if (!served.has(a.rankerVersion)) served.set(a.rankerVersion, a.index + 1);
    lines.push(`  served first at arrival: ${[...served].map(([v, i]) => `${v} @${i}`).join(', ')}; active at the end: ${run.rankers.find((v) => v.active)?.version ?? '?'}`);
  }
  return lines.join('\n');
}

/** An SVG line chart of top-1 acceptance per window (learning vs off, and the ceiling). */
export function simulationSvg(r: SimulateResult, extra: { label: string; values: number[]; color: string }[] = []): string {
  const W = 900;
  const H = 480;
  const m = { l: 64, r: 24, t: 48, b: 64 };
  const n = r.windows.length;
  const x = (i: number) => m.l + (n <= 1 ? 0 : (i * (W - m.l - m.r)) / (n - 1));
  // Headroom above the highest line for the legend box.
  const maxY = Math.min(100, Math.ceil(Math.max(...r.windows.flatMap((w) => [w.learning, w.off, w.ceiling]), ...extra.flatMap((e) => e.values), 10) / 10) * 10 + 30);
  const y = (v: number) => H - m.b - (v / maxY) * (H - m.t - m.b);
  const line = (vals: number[], color: string, dash = '') =>
    `<polyline fill="none" stroke="${color}" stroke-width="3" ${dash ? `stroke-dasharray="${dash}"` : ''} points="${vals.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(' ')}"/>` +
    vals.map((v, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(v).toFixed(1)}" r="4" fill="${color}"/>`).join('');
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="DejaVu Sans, sans-serif" font-size="14">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  // Pass 3 (held-out tasks) shaded.
  const p3 = r.windows.findIndex((w) => w.pass === '3');
  if (p3 >= 0) parts.push(`<rect x="${(x(p3) - (n > 1 ? (x(1) - x(0)) / 2 : 0)).toFixed(1)}" y="${m.t}" width="${(W - m.r - x(p3) + (n > 1 ? (x(1) - x(0)) / 2 : 0)).toFixed(1)}" height="${H - m.t - m.b}" fill="#f0f0f0"/>`);
  for (let v = 0; v <= maxY; v += 10) {
    parts.push(`<line x1="${m.l}" x2="${W - m.r}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`);
    parts.push(`<text x="${m.l - 8}" y="${y(v) + 5}" text-anchor="end">${v}</text>`);
  }
  r.windows.forEach((w, i) => parts.push(`<text x="${x(i)}" y="${H - m.b + 20}" text-anchor="middle">${w.window}</text>`));
  parts.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 18}" text-anchor="middle">window of ${r.window} arrivals (shaded: pass 3, tasks never seen)</text>`);
  parts.push(`<text transform="translate(18 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">top-1 acceptance, % (mean of ${r.seeds.length} seeds)</text>`);
  parts.push(`<text x="${W / 2}" y="28" text-anchor="middle" font-size="17" font-weight="bold">Simulated developer on HumanEval: learning vs training off (${r.execute ? 'docstring examples run' : 'no execution'})</text>`);
  parts.push(line(r.windows.map((w) => w.ceiling), '#999', '6 4'));
  parts.push(line(r.windows.map((w) => w.off), '#d62728'));
  parts.push(line(r.windows.map((w) => w.learning), '#1f77b4'));
  for (const e of extra) parts.push(line(e.values, e.color, '2 3'));
  const lx = m.l + 16;
  const ly = m.t + 14;
  parts.push(`<rect x="${lx - 8}" y="${ly - 14}" width="360" height="${74 + 22 * extra.length}" fill="white" stroke="#ccc"/>`);
  parts.push(`<line x1="${lx}" x2="${lx + 30}" y1="${ly}" y2="${ly}" stroke="#1f77b4" stroke-width="3"/><text x="${lx + 38}" y="${ly + 5}">learning (background training on)</text>`);
  parts.push(`<line x1="${lx}" x2="${lx + 30}" y1="${ly + 22}" y2="${ly + 22}" stroke="#d62728" stroke-width="3"/><text x="${lx + 38}" y="${ly + 27}">training off (built-in ranker)</text>`);
  parts.push(`<line x1="${lx}" x2="${lx + 30}" y1="${ly + 44}" y2="${ly + 44}" stroke="#999" stroke-width="3" stroke-dasharray="6 4"/><text x="${lx + 38}" y="${ly + 49}">some candidate of the 8 passes</text>`);
  extra.forEach((e, i) => {
    const yy = ly + 66 + 22 * i;
    parts.push(`<line x1="${lx}" x2="${lx + 30}" y1="${yy}" y2="${yy}" stroke="${e.color}" stroke-width="3" stroke-dasharray="2 3"/><text x="${lx + 38}" y="${yy + 5}">${e.label}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}
