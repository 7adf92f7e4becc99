/**
 * The engine: composition root and the ROUTER loop. One engine per user and data folder,
 * shared by every VS Code window; it owns the ZeroMQ serving side, the ranker (ONNX), the
 * store (SQLite) and the generator backends.
 *
 * The loop reads one request at a time and hands it to a handler without awaiting it, so
 * a slow generation never holds up pings, events or other windows' requests. Replies go
 * through one send queue (a zeromq.js socket allows one send in flight).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as zmq from 'zeromq';
import { acquireLock, defaultEndpoint, paths, readEngineInfo, releaseLock, socketFolderOf } from './discovery';
import { makePrivate, mkdirp, writeFileAtomic } from './fsutil';
import { BUILTIN_VERSION, FEATURE_SET_ID, featurize, withoutExecFeatures, writeExecFeatures, writeRewardFeatures } from './features';
import { Generators } from './generators';
import { SamplePacer } from './generators/pacing';
import type { LogFn } from './log';
import { postprocess } from './postprocess';
import {
  decodeRequest,
  encodeError,
  encodeReply,
  PROTOCOL_VERSION,
  validateComplete,
  validateGenerator,
  type InsightsReply,
  type InsightsRequest,
  type ProbeReply,
  type ProbeRequest,
  validateEvents,
  type Candidate,
  type CompleteReply,
  type CompleteRequest,
  type DecodedRequest,
  type ErrorBody,
  type EventsRequest,
  type ExecutionSummary,
  type ExportRequest,
  type FeedbackEvent,
  type PurgeRequest,
  type TripletsRequest,
  type GeneratorConfig,
  type ActivateReply,
  type ActivateRequest,
  type RankersReply,
  type TrainingSettings,
  type TrainReply,
  type TrainRequest,
  DEFAULT_TRAINING,
  validateTrainingSettings,
  validateRewardModelSettings,
  type StatusReply,
  type StatusRequest,
} from './protocol';
import { loadActiveRanker, Ranker, RankerLoadError } from './ranker/ranker';
import { RankerRegistry } from './ranker/registry';
import { RewardService } from './reward/service';
import { InsightsThread } from './insights/thread';
import { TrainingSupervisor } from './training/supervisor';
import type { exportTriplets, listTriplets } from './dataset';
import { runDatasetJob } from './datasetThread';
import { enclosingFunction } from './exec/programs';
import { executeCandidates } from './execution';
import { synthesizeTests } from './testsources/synthesize';
import { Store } from './store';
import { StoreWriter } from './storeWriter';

export const ENGINE_VERSION = '0.1.0';
/** While a dashboard is open, the stored triplets are rebuilt at most this often (when feedback arrived). */
export const TRIPLETS_REFRESH_MS = 10_000;

export interface EngineOptions {
  dataDir: string;
  endpoint?: string;
  device: 'auto' | 'cpu' | 'cuda';
  /** Exit after this long without a request; 0 = never. */
  idleExitMs: number;
  log: LogFn;
  /** Most records held in memory while the store cannot be written; default 100,000. */
  storeMemoryCap?: number;
  /**
   * TEST STAND-IN for a full disk: caps the database at this many pages (SQLite's
   * max_page_count), so writes fail with SQLITE_FULL as they do on a full disk.
   */
  maxDbPages?: number;
  /** Background training: how long without a completion request counts as idle; default 120 s. */
  trainIdleMs?: number;
  /** Background training: how often the engine looks for new feedback to train on; default 60 s. */
  trainCheckMs?: number;
  /** TEST STAND-IN for a smaller machine: the most reward model bytes it takes. */
  rewardMaxBytes?: number;
}

/** Thrown by {@link Engine.start} when another live engine owns the data folder. */
export class AlreadyRunningError extends Error {
  constructor(readonly ownerPid: number) {
    super(`another engine (pid ${ownerPid}) already serves this data folder`);
  }
}

export class Engine {
  private readonly router = new zmq.Router({ linger: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000 });
  private sendChain: Promise<void> = Promise.resolve();
  private readonly generators = new Generators();
  /** Latency-aware N: what each generator's answers took (generators/pacing.ts). */
  private readonly pacer = new SamplePacer();
  /** The dashboard's queries run there (started at the first request, ended when idle). */
  private readonly insightsThread: InsightsThread;
  /** The last rebuild of the stored triplets for the dashboard (refreshTriplets). */
  private tripletsRefresh?: { at: number; lastEventId: number; tookMs: number; running?: Promise<unknown> };
  /** The `insights` request running now, shared by identical requests. */
  private insightsRun?: { key: string; reply: Promise<InsightsReply> };
  /** The pacing key and N of the last completion (for `status`). */
  private lastPacing?: { key: string; generator: GeneratorConfig; n: number; nAsked: number };
  private readonly startedAt = Date.now();
  private lastActivity = Date.now();
  private requestsServed = 0;
  private stopping?: Promise<void>;
  private idleTimer?: NodeJS.Timeout;
  private lastGenerator?: GeneratorConfig;
  private readonly writer: StoreWriter;
  /** Completions being worked on, by client identity and request id, for `cancel`. */
  private readonly inFlight = new Map<string, AbortController>();
  private readonly registry: RankerRegistry;
  readonly training: TrainingSupervisor;
  /** The latest training settings a window sent (winnow.training.*). */
  private trainingSettings: TrainingSettings = { ...DEFAULT_TRAINING };
  private lastCompletionAt = 0;
  private trainTimer?: NodeJS.Timeout;
  /** Activations one at a time. */
  private activation: Promise<unknown> = Promise.resolve();
  /** The one reward model of this engine (winnow.ranker.rewardModel), shared by every window. */
  readonly reward: RewardService;
  /** The built-in ranker, kept for when the active version cannot serve with the reward model in use. */
  private builtin?: Promise<Ranker>;
  endpoint = '';

  private constructor(
    private readonly opts: EngineOptions,
    private readonly store: Store,
    private ranker: Ranker,
  ) {
    this.insightsThread = new InsightsThread(store.file);
    this.writer = new StoreWriter(store, opts.log, { ...(opts.storeMemoryCap ? { memoryCap: opts.storeMemoryCap } : {}) });
    this.registry = new RankerRegistry(opts.dataDir);
    this.reward = new RewardService(opts.dataDir, opts.device, opts.log, opts.rewardMaxBytes);
    this.training = new TrainingSupervisor({
      dataDir: opts.dataDir,
      log: opts.log,
      activate: async (version, reason) => {
        await this.activate(version, reason);
      },
      active: () => ({ version: this.ranker.version, file: this.registry.pathOf(this.ranker.version) }),
    });
  }

  /** Takes the lock, opens the store, loads the ranker, binds, and publishes engine.json. */
  static async start(opts: EngineOptions): Promise<Engine> {
    const { dataDir, log } = opts;
    mkdirp(dataDir, 0o700);
    // Private by default: what the engine creates is its user's only (0700 folders, 0600 files),
    // and what older versions left readable is tightened.
    process.umask(0o077);
    const tightened = makePrivate(dataDir);
    if (tightened > 0) log('info', `data folder ${dataDir}: made ${tightened} files and folders private to their owner (0700 folders, 0600 files)`);
    const lock = acquireLock(dataDir, (pid) => !looksLikeEngine(pid, dataDir));
    if (!lock.acquired) throw new AlreadyRunningError(lock.ownerPid);
    try {
      const store = Store.open(paths(dataDir).db, log, { check: true });
      if (opts.maxDbPages) store.setMaxPages(opts.maxDbPages);
      const ranker = await loadActiveRanker(dataDir, opts.device, log);
      log('info', `ranker ${ranker.version} on ${ranker.device.toUpperCase()} (${ranker.deviceReason})`);
      const engine = new Engine(opts, store, ranker);
      engine.lastGenerator = readGeneratorState(dataDir);
      await engine.bind();
      return engine;
    } catch (e) {
      releaseLock(dataDir);
      throw e;
    }
  }

  private async bind(): Promise<void> {
    const endpoint = this.opts.endpoint ?? defaultEndpoint(this.opts.dataDir);
    if (endpoint.startsWith('ipc://')) fs.rmSync(endpoint.slice('ipc://'.length), { force: true }); // stale socket of a crashed engine
    await this.router.bind(endpoint);
    this.endpoint = this.router.lastEndpoint ?? endpoint;
    writeFileAtomic(
      paths(this.opts.dataDir).info,
      JSON.stringify({ pid: process.pid, endpoint: this.endpoint, protocolVersion: PROTOCOL_VERSION, engineVersion: ENGINE_VERSION, startedAt: this.startedAt }, null, 2),
    );
    this.opts.log('info', `engine ${ENGINE_VERSION} (protocol ${PROTOCOL_VERSION}) pid ${process.pid} serving ${this.endpoint}`);
    this.armIdleTimer();
    this.armTrainTimer();
  }

  /**
   * Background training: every `trainCheckMs`, when auto training is on, nothing trains, the
   * editor has sent no completion request for `trainIdleMs` and feedback arrived since the last
   * attempt, a background training starts; it trains only when at least `minNewTriplets` new
   * triplets exist (the worker checks, cheaply, before training).
   */
  private armTrainTimer(): void {
    const every = this.opts.trainCheckMs ?? 60_000;
    if (every <= 0) return;
    this.trainTimer = setInterval(() => this.maybeTrainInBackground(), every).unref();
  }

  private maybeTrainInBackground(): void {
    if (!this.trainingSettings.auto || this.training.isRunning || this.stopping) return;
    if (Date.now() - this.lastCompletionAt < (this.opts.trainIdleMs ?? 120_000)) return;
    try {
      this.writer.flush();
      const lastEventId = this.store.lastEventId();
      const state = this.registry.readTrainingState();
      if (lastEventId <= (state.lastEventId ?? 0)) return;
      this.registry.writeTrainingState({ ...state, lastEventId });
      this.training.start({ trigger: 'background', settings: this.trainingSettings, ...this.rewardForTraining() });
    } catch (e) {
      this.opts.log('warn', `background training did not start: ${(e as Error).message}`);
    }
  }

  /**
   * Hot swap: loads and validates the version first (a corrupt, truncated or incompatible file
   * is refused and the active ranker keeps serving), switches to it, records it in active.json,
   * and releases the old session only once the scorings in flight on it have finished.
   */
  activate(version: string, reason: string): Promise<ActivateReply> {
    const run = this.activation.then(async () => {
      if (!this.registry.has(version)) throw new BadRequest(`no ranker version ${JSON.stringify(version)} (winnow rankers lists them)`);
      let next: Ranker;
      try {
        next = await Ranker.load(this.registry.pathOf(version), { device: this.opts.device });
      } catch (e) {
        if (e instanceof RankerLoadError) throw new BadRequest(`cannot activate ${version}: ${e.message}; ${this.ranker.version} keeps serving`);
        throw e;
      }
      const mismatch = this.rewardMismatch(next);
      if (mismatch) {
        await next.dispose();
        throw new BadRequest(`cannot activate ${version}: ${mismatch}; ${this.ranker.version} keeps serving`);
      }
      const previous = this.ranker;
      if (previous.version === next.version) {
        await next.dispose();
        return { active: version, previous: previous.version };
      }
      this.ranker = next;
      try {
        this.registry.setActive(version, reason);
      } catch (e) {
        this.ranker = previous;
        await next.dispose();
        throw e;
      }
      void previous.retire();
      this.opts.log('info', `ranker ${version} active (was ${previous.version}): ${reason}`);
      return { active: version, previous: previous.version };
    });
    this.activation = run.catch(() => undefined);
    return run;
  }

  /** Serves until {@link stop} is called. */
  async serve(): Promise<void> {
    try {
      for await (const [identity, ...frames] of this.router) {
        if (!identity) continue;
        this.lastActivity = Date.now();
        const decoded = decodeRequest(frames);
        if (!decoded.ok) {
          this.opts.log('warn', `dropped a malformed message: ${decoded.error.message}`);
          if (decoded.id !== undefined) this.send(encodeError(decoded.id, decoded.error), identity);
          continue;
        }
        void this.handle(identity, decoded.value);
      }
    } catch (e) {
      if (!this.stopping) throw e;
    }
    await this.stopping; // the loop ends when stop() closes the socket: let stop() finish
  }

  private send(frames: Buffer[], identity: Buffer): void {
    this.sendChain = this.sendChain
      .then(() => this.router.send([identity, ...frames]))
      .catch((e: unknown) => this.opts.log('warn', `could not send a reply: ${(e as Error).message}`));
  }

  private async handle(identity: Buffer, req: DecodedRequest): Promise<void> {
    try {
      const body = await this.dispatch(req, identity);
      this.send(encodeReply(req.id, body), identity);
      if (req.type === 'shutdown') await this.stop('shutdown requested');
    } catch (e) {
      const error: ErrorBody =
        e instanceof BadRequest ? { code: 'bad_request', message: e.message } : { code: 'internal', message: (e as Error).message };
      if (error.code === 'internal') this.opts.log('error', `${req.type} failed: ${(e as Error).stack ?? String(e)}`);
      else this.opts.log('warn', `bad ${req.type} request: ${error.message}`);
      this.send(encodeError(req.id, error), identity);
    }
  }

  private async dispatch(req: DecodedRequest, identity: Buffer): Promise<unknown> {
    switch (req.type) {
      case 'ping':
        return { pong: true, pid: process.pid, protocolVersion: PROTOCOL_VERSION };
      case 'complete': {
        const problem = validateComplete(req.body);
        if (problem) throw new BadRequest(problem);
        // Cancellable by the same client with `cancel` {id} (its request was superseded).
        const key = `${identity.toString('hex')}/${req.id}`;
        const controller = new AbortController();
        this.inFlight.set(key, controller);
        try {
          return await this.complete(req.body as CompleteRequest, controller.signal);
        } finally {
          this.inFlight.delete(key);
        }
      }
      case 'cancel': {
        const id = (req.body as { id?: unknown }).id;
        if (typeof id !== 'string') throw new BadRequest('cancel needs "id": the id of the request to cancel');
        const controller = this.inFlight.get(`${identity.toString('hex')}/${id}`);
        controller?.abort();
        return { cancelled: controller !== undefined };
      }
      case 'event': {
        const problem = validateEvents(req.body);
        if (problem) throw new BadRequest(problem);
        const events = (req.body as { events: FeedbackEvent[] }).events;
        this.recordDeveloperTests(events);
        // Replies only once the events are committed (or held, when the disk is full).
        return this.writer.addEvents(events);
      }
      case 'status': {
        const b = req.body as StatusRequest;
        if (b.rewardModel !== undefined) {
          const problem = validateRewardModelSettings(b.rewardModel);
          if (problem) throw new BadRequest(problem);
          this.reward.configure(b.rewardModel);
        }
        return this.status(b);
      }
      case 'events': {
        const b = req.body as EventsRequest;
        return { events: this.store.listEvents({ limit: typeof b.limit === 'number' ? b.limit : 1000, ...(typeof b.requestId === 'string' ? { requestId: b.requestId } : {}) }) };
      }
      case 'shutdown':
        return { stopping: true };
      case 'triplets': {
        // Off the serving loop, with a time limit (datasetThread.ts).
        const b = req.body as TripletsRequest;
        this.writer.flush();
        const limit = typeof b.limit === 'number' && b.limit > 0 ? Math.min(b.limit, 100_000) : 100;
        try {
          return await runDatasetJob<ReturnType<typeof listTriplets>>({ kind: 'triplets', dbFile: this.store.file, limit });
        } catch (e) {
          throw new BadRequest(`cannot build the triplets: ${(e as Error).message}`);
        }
      }
      case 'export': {
        const b = req.body as ExportRequest;
        if (typeof b.out !== 'string' || b.out.length === 0 || b.out.length > 4096) throw new BadRequest('export needs "out": an absolute file path');
        this.writer.flush();
        try {
          return await runDatasetJob<ReturnType<typeof exportTriplets>>({ kind: 'export', dbFile: this.store.file, out: b.out });
        } catch (e) {
          const m = (e as Error).message;
          throw new BadRequest(m.startsWith('cannot export') ? m : `cannot export to ${b.out}: ${m}`);
        }
      }
      case 'insights': {
        const b = req.body as InsightsRequest;
        for (const k of ['since', 'bucketMs', 'latest'] as const) {
          if (b[k] !== undefined && (typeof b[k] !== 'number' || !Number.isFinite(b[k]))) throw new BadRequest(`insights: ${k} must be a number`);
        }
        return this.insights(b);
      }
      case 'probe': {
        const b = req.body as ProbeRequest;
        const problem = validateGenerator(b.generator);
        if (problem) throw new BadRequest(problem);
        const timeoutMs = typeof b.timeoutMs === 'number' && b.timeoutMs > 0 ? Math.min(b.timeoutMs, 60_000) : 10_000;
        return this.probe(b.generator, timeoutMs);
      }
      case 'train': {
        const b = req.body as TrainRequest;
        if (b.settings !== undefined) {
          const problem = validateTrainingSettings(b.settings);
          if (problem) throw new BadRequest(problem);
        }
        if (b.rounds !== undefined && (typeof b.rounds !== 'number' || !Number.isInteger(b.rounds) || b.rounds < 0 || b.rounds > 10)) throw new BadRequest('rounds must be an integer from 0 to 10');
        if (b.seed !== undefined && (typeof b.seed !== 'number' || !Number.isInteger(b.seed))) throw new BadRequest('seed must be an integer');
        const trigger = b.trigger === 'cli' || b.trigger === 'background' ? b.trigger : 'manual';
        this.writer.flush(); // the latest feedback is in the store before the worker reads it
        try {
          return this.training.start({ trigger, settings: b.settings ?? this.trainingSettings, ...this.rewardForTraining(), ...(b.rounds !== undefined ? { rounds: b.rounds } : {}), ...(b.seed !== undefined ? { seed: b.seed } : {}) }) satisfies TrainReply;
        } catch (e) {
          throw new BadRequest((e as Error).message);
        }
      }
      case 'trainStatus':
        return this.training.status();
      case 'trainCancel':
        return { cancelled: this.training.cancel() };
      case 'rankers':
        return { active: this.ranker.version, versions: this.registry.listInfo().map((v) => ({ ...v, active: v.version === this.ranker.version })) } satisfies RankersReply;
      case 'activate': {
        const b = req.body as ActivateRequest;
        if (typeof b.version !== 'string' || b.version.length === 0) throw new BadRequest('activate needs "version": a version from `rankers`');
        return this.activate(b.version, `activated by hand (was ${this.ranker.version})`);
      }
      case 'purge': {
        if ((req.body as PurgeRequest).confirm !== true) throw new BadRequest('purge needs "confirm": true');
        this.writer.flush();
        const purged = this.store.purge();
        this.opts.log('info', `store purged on request: ${purged.requests} requests, ${purged.events} events`);
        return purged;
      }
    }
  }

  private rewardForTraining(): { rewardModel?: string } {
    const key = this.reward.pairingKey();
    return key ? { rewardModel: key } : {};
  }

  /**
   * Why a ranker version cannot serve with the reward model in use (it was trained with
   * another one, or with none); undefined when it can. The built-in ranker serves with any.
   */
  private rewardMismatch(r: Ranker): string | undefined {
    if (/^builtin-\d+$/.test(r.version)) return undefined;
    const trained = r.metadata['winnow.rewardModel'] || undefined;
    const now = this.reward.pairingKey();
    if (trained === now) return undefined;
    return `${r.version} was trained ${trained ? `with reward model ${trained}` : 'without a reward model'}, and the engine now ${now ? `uses ${now}` : 'has none'}: retrain (Winnow: Retrain Ranker) to pair them`;
  }

  /** The ranker that serves now: the active one, or the built-in one while the active one cannot serve with the reward model in use. */
  private async servingRanker(): Promise<Ranker> {
    if (!this.rewardMismatch(this.ranker)) return this.ranker;
    this.builtin ??= Ranker.load(this.registry.pathOf(BUILTIN_VERSION), { device: this.opts.device }).catch((e: unknown) => {
      this.builtin = undefined; // tried again at the next request
      throw e;
    });
    return this.builtin;
  }

  async complete(req: CompleteRequest, cancelled?: AbortSignal): Promise<CompleteReply> {
    const t0 = performance.now();
    const requestId = crypto.randomUUID();
    this.lastCompletionAt = Date.now();
    if (req.training) this.trainingSettings = req.training;
    if (req.rewardModel) this.reward.configure(req.rewardModel);
    this.rememberGenerator(req.generator);
    const generator = this.generators.get(req.generator);
    // Leave a little of the budget for ranking and the reply.
    const budget = AbortSignal.timeout(Math.max(10, req.budgetMs - 25));
    const signal = cancelled ? AbortSignal.any([budget, cancelled]) : budget;
    // Model-written tests are asked for alongside the candidates (same generator, same budget).
    const fn = req.execute === true ? enclosingFunction(req.prefix, req.languageId) : undefined;
    const synthesized =
      fn?.topLevel && (req.synthesizeTests ?? 0) > 0
        ? synthesizeTests(generator, { prefix: req.prefix, fn, languageId: req.languageId, samples: Math.min(req.synthesizeTests ?? 0, 20), signal }).then((r) => r.tests)
        : undefined;
    // Latency-aware N: as many candidates as the generator's measured speed fits in its share of the budget.
    const paceKey = paceKeyOf(req.generator);
    const pace = req.fixedN === true ? { n: req.n, reason: 'fixed by the request' } : this.pacer.choose(paceKey, req.n, this.generationBudget(req));
    const { samples, problem } = await generator.sample({ prefix: req.prefix, suffix: req.suffix, languageId: req.languageId, n: pace.n, signal });
    const t1 = performance.now();
    // A superseded request's time says nothing; one cut by the budget says the server is at least that slow.
    if (!cancelled?.aborted && (!problem || problem.code === 'timeout')) this.pacer.observe(paceKey, pace.n, t1 - t0, budget.aborted);
    this.lastPacing = { key: paceKey, generator: req.generator, n: pace.n, nAsked: req.n };
    const processed = postprocess(samples, req);
    const ids = processed.map((_, i) => `${requestId}:${i}`);
    // The reward model scores alongside execution, within what is left of the budget.
    const rewardRun = this.reward.score(
      req.prefix,
      processed.map((c) => c.text),
      req.budgetMs - (performance.now() - t0) - 30,
      cancelled,
    );
    let execution: ExecutionSummary | undefined;
    let ex: Awaited<ReturnType<typeof executeCandidates>> | undefined;
    if (req.execute === true && processed.length > 0) {
      // What is left of the budget, less a margin for ranking and the reply.
      const left = req.budgetMs - (performance.now() - t0) - 30;
      ex = await executeCandidates({
        prefix: req.prefix,
        suffix: req.suffix,
        languageId: req.languageId,
        candidates: processed.map((c, i) => ({ id: ids[i] as string, text: c.text, votes: c.votes })),
        budgetMs: left,
        ...(cancelled ? { signal: cancelled } : {}),
        ...(req.relatedTests ? { relatedTests: req.relatedTests } : {}),
        ...(synthesized ? { synthesized } : {}),
      });
      execution = ex.summary;
    }
    const tExec = performance.now();
    const features = featurize(
      processed.map((c, i) => {
        const execFeatures = ex?.features.get(ids[i] as string);
        return {
          text: c.text,
          votes: c.votes,
          totalSamples: samples.length,
          ...(c.meanLogprob !== undefined ? { meanLogprob: c.meanLogprob } : {}),
          prefix: req.prefix,
          suffix: req.suffix,
          languageId: req.languageId,
          ...(execFeatures ? { exec: execFeatures } : {}),
        };
      }),
    );
    const reward = await rewardRun;
    if (reward?.scores) writeRewardFeatures(features, reward.scores);
    const ranker = await this.servingRanker();
    const scores = await ranker.score(features, processed.length);
    const width = processed.length > 0 ? features.length / processed.length : 0;
    const byScore = (s: ArrayLike<number>) =>
      processed.map((c, i) => ({ c, i, score: s[i] ?? 0 })).sort((a, b) => b.score - a.score || b.c.votes - a.c.votes || a.c.firstSample - b.c.firstSample);
    const order = byScore(scores);
    // Whether running the candidates changed the pick: the first candidate without the execution features.
    const changedPick = ex && ex.summary.ran > 0 && order.length > 1 ? byScore(await ranker.score(withoutExecFeatures(features), processed.length))[0]?.i !== order[0]?.i : false;
    const candidates: Candidate[] = order.map(({ c, i, score }, rank) => {
      const id = ids[i] as string;
      const o = ex?.outcomes.get(id);
      const agreement = ex?.features.get(id)?.agreement;
      const tests = o && (o.total > 0 || o.synthesizedPassed.length > 0) ? { passed: o.passed, total: o.total, ...(o.error ? { error: o.error } : {}), ...(o.synthesizedPassed.length > 0 && agreement !== undefined ? { agreement } : {}) } : undefined;
      return {
        id,
        text: c.text,
        score,
        rank,
        votes: c.votes,
        ...(c.meanLogprob !== undefined ? { meanLogprob: c.meanLogprob } : {}),
        ...(tests ? { tests } : {}),
      };
    });
    if (ex && req.dataset?.enabled !== false && ex.summary.tests > 0 && !cancelled?.aborted) {
      // Every outcome is stored when its run ends, those past the budget included: one row per test source.
      void ex.all.then((outs) => {
        try {
          this.store.recordTestOutcomes(
            outs.flatMap((o) => Object.entries(o.bySource).map(([source, r]) => ({ requestId, candidateId: o.candidateId, source, passed: r.passed, total: r.total }))),
          );
        } catch (e) {
          this.opts.log('warn', `could not store test outcomes of ${requestId}: ${(e as Error).message}`);
        }
      });
    }
    const t2 = performance.now();
    this.requestsServed += 1;
    const reply: CompleteReply = {
      requestId,
      candidates,
      rankerVersion: ranker.version,
      device: ranker.device,
      timings: { generateMs: t1 - t0, rankMs: t2 - t1, totalMs: t2 - t0, ...(ex ? { executeMs: tExec - t1 } : {}) },
      sampled: samples.length,
      nUsed: pace.n,
      nReason: pace.reason,
      ...(problem ? { problem } : {}),
      ...(this.writer.problem ? { storeProblem: this.writer.problem } : {}),
      ...(execution ? { execution } : {}),
    };
    // Queued for the store; written (redacted, batched) after the reply is on its way.
    if (req.dataset) this.writer.maxBytes = req.dataset.maxSizeMB * 1024 * 1024;
    // A superseded request was never shown: nothing of it is stored.
    if (req.dataset?.enabled !== false && !cancelled?.aborted) {
      this.writer.addRequest({
        id: requestId,
        time: Date.now(),
        filePath: req.filePath,
        languageId: req.languageId,
        prefix: req.prefix,
        suffix: req.suffix,
        n: pace.n,
        nAsked: req.n,
        trigger: req.trigger === 'manual' ? 'manual' : 'auto',
        generateMs: t1 - t0,
        ...(ex ? { executeMs: tExec - t1, exec: { ran: ex.summary.ran, passed: ex.summary.passedAll, changedPick } } : {}),
        backend: req.generator.backend,
        ...(req.generator.model ? { model: req.generator.model } : {}),
        rankerVersion: ranker.version,
        sampled: samples.length,
        latencyMs: t2 - t0,
        ...(problem ? { problem: `${problem.code}: ${problem.message}` } : {}),
        candidates: order.map(({ c, i, score }, rank) => ({
          id: `${requestId}:${i}`,
          rank,
          text: c.text,
          score,
          votes: c.votes,
          ...(c.meanLogprob !== undefined ? { meanLogprob: c.meanLogprob } : {}),
          features: features.slice(i * width, (i + 1) * width),
          featureSet: FEATURE_SET_ID,
          ...(reward?.scores ? { rewardModel: reward.modelId } : {}),
        })),
      });
      // What arrives after the reply goes into the request's one feature matrix (so that each
      // update carries the others), then into the stored rows.
      const stored = order.map(({ i }) => ({ i, id: `${requestId}:${i}` }));
      const storeRows = (only: ReadonlySet<string> | undefined, rewardModel?: string) => {
        const rows = stored.filter(({ id }) => !only || only.has(id)).map(({ i, id }) => ({ id, features: features.slice(i * width, (i + 1) * width), featureSet: FEATURE_SET_ID, ...(rewardModel ? { rewardModel } : {}) }));
        if (rows.length > 0) this.writer.updateFeatures(requestId, rows);
      };
      if (ex && ex.summary.background > 0) {
        // Runs that finished after the reply: the stored rows get the features their outcomes
        // imply, so that training never sees exec_ran = 0 beside pass-rate labels of the same runs.
        void ex.allFeatures.then((all) => {
          const done = new Set<string>();
          for (const { i, id } of stored) {
            const x = all.get(id);
            if (!x) continue;
            writeExecFeatures(features, i * width, x);
            done.add(id);
          }
          storeRows(done);
        });
      }
      if (reward?.later) {
        // A reward model score that missed the budget: stored, for training.
        const modelId = reward.modelId;
        void reward.later.then((late) => {
          if (!late || late.length !== processed.length) return;
          writeRewardFeatures(features, late);
          storeRows(undefined, modelId);
        });
      }
    }
    if (cancelled?.aborted) this.opts.log('debug', `request ${requestId} cancelled by its client (superseded)`);
    else if (problem) this.opts.log('warn', `generator ${req.generator.backend}: ${problem.code}: ${problem.message}`);
    return reply;
  }

  /**
   * The dashboard's aggregates, in their worker thread with a time limit (insights/thread.ts); a
   * request while the same one runs (several windows' dashboards) shares its answer.
   */
  private insights(req: InsightsRequest): Promise<InsightsReply> {
    const key = JSON.stringify(req);
    if (this.insightsRun?.key === key) return this.insightsRun.reply;
    this.writer.flush();
    this.refreshTriplets();
    const reply = this.insightsThread.run(req).catch((e: unknown) => {
      throw new BadRequest(`cannot read the dashboard's figures: ${(e as Error).message}`);
    });
    this.insightsRun = { key, reply };
    void reply.catch(() => undefined).finally(() => {
      if (this.insightsRun?.reply === reply) this.insightsRun = undefined;
    });
    return reply;
  }

  /**
   * While a dashboard is open, the stored triplets follow the feedback: when events arrived
   * since the last build, they are built again (the `triplets` job, in its thread), at most
   * every {@link TRIPLETS_REFRESH_MS} or 20 times as long as the last build took.
   */
  private refreshTriplets(): void {
    const r = this.tripletsRefresh;
    if (r?.running) return;
    let lastEventId: number;
    try {
      lastEventId = this.store.lastEventId();
    } catch {
      return;
    }
    if (lastEventId === 0 || (r && (r.lastEventId === lastEventId || Date.now() - r.at < Math.max(TRIPLETS_REFRESH_MS, 20 * r.tookMs)))) return;
    const at = Date.now();
    const running = runDatasetJob({ kind: 'triplets', dbFile: this.store.file, limit: 1 })
      .catch((e: unknown) => this.opts.log('warn', `could not rebuild the triplets for the dashboard: ${(e as Error).message}`))
      .finally(() => {
        if (this.tripletsRefresh?.at === at) this.tripletsRefresh = { at, lastEventId, tookMs: Date.now() - at };
      });
    this.tripletsRefresh = { at, lastEventId, tookMs: 0, running };
  }

  /**
   * The connection test: is the server there, which models does it list, and does it answer a
   * short completion as the settings ask for it (the same backend, URL and model)?
   */
  async probe(g: GeneratorConfig, timeoutMs: number): Promise<ProbeReply> {
    const started = performance.now();
    const generator = this.generators.get({ ...g, maxTokens: Math.min(g.maxTokens ?? 256, 24) });
    const reach = await generator.probe(Math.min(timeoutMs, 3000));
    const models = reach.models ?? [];
    const model = g.model || models[0];
    const base: ProbeReply = { ok: false, ...generatorView(g), models, ...(model ? { model } : {}) };
    if (!reach.reachable) return { ...base, ...(reach.problem ? { problem: reach.problem } : {}) };
    const prompt = generator.testPrompt?.() ?? 'def add(a, b):\n    # Return the sum of a and b.\n';
    const left = Math.round(Math.max(500, timeoutMs - (performance.now() - started)));
    const t0 = performance.now();
    const { samples, problem } = await generator.sample({ prefix: prompt, suffix: '', languageId: 'python', n: 1, signal: AbortSignal.timeout(left) });
    const sampleMs = Math.round(performance.now() - t0);
    if (problem) {
      const hint = !g.model && models.length > 0 && problem.code === 'http' ? ` The server lists ${models.slice(0, 5).join(', ')}: set winnow.generator.model to one of them.` : '';
      return { ...base, sampleMs, problem: { ...problem, message: problem.message + hint } };
    }
    const text = samples[0]?.text;
    if (text === undefined) return { ...base, sampleMs, problem: { code: 'http', message: 'The model server answered with no completion.' } };
    this.opts.log('info', `connection test: ${g.backend}${base.url ? ` ${base.url}` : ''} answered in ${sampleMs} ms${model ? ` (model ${model})` : ''}`);
    return { ...base, ok: true, sampleMs, sample: text.slice(0, 120) };
  }

  /**
   * The part of a request's budget generation may take: what is left after the reply's margin,
   * ranking, the reward model's usual time (when it usually fits in half the budget; a slower
   * one misses it anyway and is stored for training, so generation keeps its time) and, when
   * candidates run, about 40% for execution.
   */
  private generationBudget(req: CompleteRequest): number {
    const p50 = this.reward.typicalMs();
    const rewardMs = p50 <= req.budgetMs / 2 ? p50 : 0;
    return Math.max(10, req.budgetMs - 55 - rewardMs - (req.execute === true ? req.budgetMs * 0.4 : 0));
  }

  /** A developer's test run after an acceptance is also a (one-test) outcome of that candidate. */
  private recordDeveloperTests(events: readonly FeedbackEvent[]): void {
    const rows = events
      .filter((e) => e.kind === 'test_outcome' && typeof e.data?.passed === 'boolean')
      .map((e) => ({ requestId: e.requestId, candidateId: e.candidateId, source: 'developer_tests', passed: e.data?.passed === true ? 1 : 0, total: 1 }));
    if (rows.length === 0) return;
    try {
      this.store.recordTestOutcomes(rows);
    } catch (e) {
      this.opts.log('warn', `could not store developer test outcomes: ${(e as Error).message}`);
    }
  }

  private rememberGenerator(g: GeneratorConfig): void {
    const key = JSON.stringify(g);
    if (this.lastGenerator && JSON.stringify(this.lastGenerator) === key) return;
    this.lastGenerator = g;
    try {
      writeFileAtomic(paths(this.opts.dataDir).generatorState, key);
    } catch {
      /* not worth failing a completion for */
    }
  }

  async status(req: StatusRequest): Promise<StatusReply> {
    const g = req.generator ?? this.lastGenerator;
    const reply: StatusReply = {
      pid: process.pid,
      protocolVersion: PROTOCOL_VERSION,
      engineVersion: ENGINE_VERSION,
      dataDir: this.opts.dataDir,
      endpoint: this.endpoint,
      device: this.ranker.device,
      deviceReason: this.ranker.deviceReason,
      rankerVersion: (await this.servingRanker()).version,
      uptimeMs: Date.now() - this.startedAt,
      requestsServed: this.requestsServed,
      memory: memoryMiB(),
      store: this.storeStatus(),
      training: this.trainingStatus(),
      rewardModel: this.reward.status(),
    };
    const pacing = this.lastPacing;
    const fit = pacing && this.pacer.fit(pacing.key);
    if (pacing && fit) {
      reply.sampling = { ...generatorView(pacing.generator), ...fit, lastN: pacing.n, lastNAsked: pacing.nAsked };
    }
    const note = this.rewardMismatch(this.ranker);
    if (note) reply.rankerNote = `the built-in ranker serves: ${note}`;
    if (g && req.probe !== false) {
      const probe = await this.generators.get(g).probe(1500);
      reply.generator = { ...generatorView(g), ...probe };
    }
    return reply;
  }

  private trainingStatus(): NonNullable<StatusReply['training']> {
    const change = this.training.status().lastChange;
    return { running: this.training.isRunning, ...(change ? { lastChange: change } : {}) };
  }

  private storeStatus(): StatusReply['store'] {
    // A store that fails to read (damaged after start) is reported, never a failed status.
    let counts = { requests: 0, events: 0 };
    let liveMB = 0;
    let readProblem: string | undefined;
    try {
      this.writer.flush(); // the counts include what is queued (the dashboard compares them with its figures)
      counts = this.store.counts();
      liveMB = Math.round((this.store.liveBytes() / 1048576) * 10) / 10;
    } catch (e) {
      readProblem = `Winnow cannot read its store ${this.store.file} (${(e as { code?: string }).code ?? 'error'}: ${(e as Error).message}); restart the engine ("Winnow: Restart Engine"): a damaged store is moved aside at start and a fresh one begun.`;
    }
    return {
      file: this.store.file,
      requests: counts.requests,
      events: counts.events,
      liveMB,
      maxSizeMB: Math.round(this.writer.maxBytes / 1048576),
      held: this.writer.heldCount,
      ...(this.writer.problem || readProblem ? { problem: this.writer.problem ?? readProblem } : {}),
      ...(this.takeRecoveredNotice() ?? {}),
    };
  }

  private takeRecoveredNotice(): { recovered: string } | undefined {
    const aside = this.store.recoveredFrom;
    if (!aside) return undefined;
    this.store.recoveredFrom = undefined;
    return { recovered: `Winnow's store was damaged and could not be opened; it was moved to ${aside} and a fresh store was started. Nothing was deleted.` };
  }

  private armIdleTimer(): void {
    if (this.opts.idleExitMs <= 0) return;
    const check = () => {
      const idle = Date.now() - this.lastActivity;
      if (idle >= this.opts.idleExitMs) void this.stop(`idle for ${Math.round(idle / 1000)} s`);
      else this.idleTimer = setTimeout(check, this.opts.idleExitMs - idle).unref();
    };
    this.idleTimer = setTimeout(check, this.opts.idleExitMs).unref();
  }

  stop(reason: string): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    this.opts.log('info', `stopping: ${reason}`);
    if (this.idleTimer) clearTimeout(this.idleTimer);
    if (this.trainTimer) clearInterval(this.trainTimer);
    if (this.training.cancel()) await this.training.current;
    await this.sendChain; // let the last replies out
    const info = readEngineInfo(this.opts.dataDir);
    if (info?.pid === process.pid) fs.rmSync(paths(this.opts.dataDir).info, { force: true });
    const socketFolder = socketFolderOf(this.endpoint, this.opts.dataDir);
    if (socketFolder) fs.rmSync(socketFolder, { recursive: true, force: true });
    this.router.close();
    await this.ranker.dispose();
    if (this.builtin) await (await this.builtin.catch(() => undefined))?.dispose();
    await this.reward.dispose();
    this.insightsThread.end();
    this.writer.flush();
    if (this.writer.heldCount > 0) this.opts.log('error', `stopping with ${this.writer.heldCount} records the store could not take: they are lost`);
    this.store.close();
    releaseLock(this.opts.dataDir);
  }
}

class BadRequest extends Error {}

function memoryMiB(): StatusReply['memory'] {
  const m = process.memoryUsage();
  const mib = (b: number) => Math.round((b / 1048576) * 10) / 10;
  return { rssMiB: mib(m.rss), heapUsedMiB: mib(m.heapUsed), externalMiB: mib(m.external) };
}

/**
 * Whether a live pid holding the lock is an engine for this data folder. Where the OS shows
 * command lines (/proc on Linux) a reused pid is recognised; elsewhere a live pid is trusted.
 */
function looksLikeEngine(pid: number, dataDir: string): boolean {
  let cmdline: string;
  try {
    cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return true;
  }
  return cmdline.includes(' serve') && cmdline.includes(dataDir);
}

/** A generator as replies name it: its backend, and its server's URL (a recorded pool has none). */
function generatorView(g: GeneratorConfig): { backend: GeneratorConfig['backend']; url?: string } {
  return { backend: g.backend, ...(g.url && g.backend !== 'recorded' ? { url: g.url } : {}) };
}

/** One pacing history per generator: its server, model and token limit (prompt length aside). */
function paceKeyOf(g: GeneratorConfig): string {
  return JSON.stringify([g.backend, g.url ?? '', g.model ?? '', g.recordedPool ?? '', g.maxTokens ?? 256]);
}

function readGeneratorState(dataDir: string): GeneratorConfig | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths(dataDir).generatorState, 'utf8')) as GeneratorConfig;
  } catch {
    return undefined;
  }
}
