/**
 * Winnow's language server: the only part that speaks LSP. Answers
 * `textDocument/inlineCompletion` (LSP 3.18) by building a context and asking the engine for
 * ranked candidates within the latency budget; relays feedback; reports engine state with
 * `winnow/status` (see ./protocol.ts). When the engine is slow or down it answers quickly
 * with nothing rather than blocking the editor.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import {
  createConnection,
  ErrorCodes,
  InlineCompletionTriggerKind,
  ProposedFeatures,
  ResponseError,
  TextDocuments,
  TextDocumentSyncKind,
  type InitializeParams,
  type InlineCompletionItem,
  type InlineCompletionParams,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { ProtocolError, type CompleteReply, type FeedbackEvent, type GeneratorConfig, type RequestMap, type RequestType, type StatusReply } from '../../engine/src/protocol';
import { CancelledError } from '../../engine/src/client';
import { CompletionCache } from './completionCache';
import { buildContext, filePathOf } from './context';
import { Debouncer } from './debounce';
import { isExcluded } from './exclude';
import { EngineHost, NotReadyError } from './engineHost';
import { executionLine } from './executionLog';
import { findRelatedTests, functionNameAt, type RelatedTestFile } from './relatedTests';
import { engineFailureText, engineTrainingSettings, rankersFrom, trainStatusFrom } from './training';
import {
  ACCEPT_COMMAND,
  ActivateRequest,
  DashboardRequest,
  TestConnectionRequest,
  EngineStatusRequest,
  ExportDatasetRequest,
  PurgeDatasetRequest,
  FeedbackNotification,
  RankersRequest,
  RestartEngineRequest,
  settingsFrom,
  DEFAULT_SETTINGS,
  StatusNotification,
  TrainCancelRequest,
  TrainRequest,
  TrainStatusRequest,
  trainingSettingsFrom,
  rewardModelSettingsFrom,
  WorkspaceTrustNotification,
  type RewardModelSettings,
  type RewardModelView,
  type ActivateParams,
  type DashboardParams,
  type DashboardResult,
  type DashboardTiming,
  type TestConnectionParams,
  type TestConnectionResult,
  type ActivateResult,
  type EngineStatusResult,
  type ExportDatasetParams,
  type ExportDatasetResult,
  type PurgeDatasetResult,
  type FeedbackParams,
  type InitializationOptions,
  type ItemRef,
  type RankersResult,
  type RestartEngineResult,
  type StatusParams,
  type TrainCancelResult,
  type TrainingSettings,
  type TrainingState,
  type TrainParams,
  type TrainResult,
  type TrainStatusResult,
  type WinnowSettings,
  type WorkspaceTrustParams,
} from './protocol';

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
const debouncer = new Debouncer();
/** Candidates already answered, for type-ahead and repeated requests (./completionCache.ts). */
const cache = new CompletionCache<ItemRef>();
/** Requests answered from the cache and by the engine, since the server started (the dashboard shows them). */
const cacheCounts = { typeahead: 0, recent: 0, engine: 0 };
/** The hop (server ⇄ engine: the round trip less the engine's own time) of this window's last completions, by request id. */
const hops = new Map<string, number>();
const MAX_HOPS = 1000;
/** A manual request (Trigger Inline Suggestion) may take this many times the latency budget: the user is waiting for it. */
const MANUAL_BUDGET_FACTOR = 2;
const settingsCache = new Map<string, Promise<WinnowSettings>>();
let trainingCache: Promise<TrainingSettings> | undefined;
let rewardCache: Promise<RewardModelSettings> | undefined;
let datasetCapCache: Promise<number> | undefined;
/** When the engine's status was last read for the reward model's figures (they change with every completion). */
let rewardStatusAt = 0;
const REWARD_STATUS_EVERY_MS = 3000;
/** A status refresh in flight (see refreshStatus). */
let refreshing: Promise<void> | undefined;
/** Polls the engine's status while a training runs (see watchTraining). */
let trainingWatch: NodeJS.Timeout | undefined;
/** While a training runs, how often the engine's status is read (for when it ends in the background). */
const TRAINING_WATCH_MS = 5000;
let host: EngineHost | undefined;
let lastStatus: StatusParams = { state: 'starting' };
let shownProblem: string | undefined;
let lastGenerator: GeneratorConfig | undefined;
/** VS Code workspace trust, from the client; candidates never run in an untrusted workspace. */
let workspaceTrusted = false;
/** Workspace folder roots (file paths) from the initialize request: where related tests may be looked for. */
let workspaceRoots: string[] = [];
/** How long a completion may wait for the related-test search (it goes on in the background and fills the cache). */
const RELATED_TESTS_WAIT_MS = 50;

/** Feedback that arrived while the engine was not ready; sent when it is back. */
const pendingEvents: FeedbackEvent[] = [];
/** Requests whose feedback must not be stored (winnow.dataset.enabled was off); bounded. */
const notCollected = new Set<string>();
/** Files already logged as excluded, so the log says it once per file. */
const excludedLogged = new Set<string>();
const MAX_PENDING_EVENTS = 10_000;
let droppedEvents = 0;

const log = (message: string) => connection.console.log(message);

function sendStatus(s: StatusParams): void {
  lastStatus = s;
  if (s.problem) shownProblem = `${s.problem.code}:${s.problem.message}`;
  void connection.sendNotification(StatusNotification, s).catch(() => undefined);
  if (s.state === 'ready') void flushEvents();
  watchTraining();
}

connection.onInitialize((params: InitializeParams) => {
  const init = params.initializationOptions as Partial<InitializationOptions> | undefined;
  if (!init?.dataDir || !init.engineScript) {
    throw new Error('Winnow language server needs initializationOptions.dataDir and .engineScript');
  }
  workspaceTrusted = init.workspaceTrusted === true;
  workspaceRoots = workspaceRootsOf(params);
  host = new EngineHost({
    dataDir: init.dataDir,
    nodePath: init.nodePath || process.execPath,
    engineScript: path.resolve(init.engineScript),
    ...(init.engineEnv ? { env: init.engineEnv } : {}),
    onStatus: sendStatus,
    log,
  });
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      inlineCompletionProvider: true,
    },
    serverInfo: { name: 'winnow-language-server', version: '0.1.0' },
  };
});

function workspaceRootsOf(params: InitializeParams): string[] {
  const uris = params.workspaceFolders?.length ? params.workspaceFolders.map((f) => f.uri) : params.rootUri ? [params.rootUri] : [];
  const roots = uris.filter((u) => u.startsWith('file://')).map(filePathOf);
  if (roots.length === 0 && params.rootPath) roots.push(params.rootPath);
  return roots.filter((r) => path.isAbsolute(r));
}

connection.onInitialized(() => {
  void host?.start();
});

connection.onDidChangeConfiguration(() => {
  settingsCache.clear();
  cache.clear(); // candidates of another model server or setting are not reused
  trainingCache = undefined;
  rewardCache = undefined;
  datasetCapCache = undefined;
  // A new reward model setting starts loading now, not at the next completion; the status bar follows.
  void refreshStatus();
});

connection.onNotification(WorkspaceTrustNotification, (p: WorkspaceTrustParams) => {
  workspaceTrusted = p?.trusted === true;
  log(`workspace trust: ${workspaceTrusted ? 'trusted' : 'not trusted'} (candidates ${workspaceTrusted ? 'may run when allowed' : 'never run'})`);
});

function settingsFor(uri: string): Promise<WinnowSettings> {
  const cached = settingsCache.get(uri);
  if (cached) return cached;
  const s = connection.workspace
    .getConfiguration({ scopeUri: uri, section: 'winnow' })
    .then(settingsFrom, () => settingsFrom(undefined));
  settingsCache.set(uri, s);
  return s;
}

/**
 * winnow.training.*: machine-scoped (they act on the store and rankers every window shares),
 * so pulled with no resource, where only user (and machine) settings apply.
 */
function trainingSettings(): Promise<TrainingSettings> {
  trainingCache ??= connection.workspace
    .getConfiguration({ section: 'winnow.training' })
    .then(trainingSettingsFrom, () => trainingSettingsFrom(undefined));
  return trainingCache;
}

/**
 * winnow.dataset.maxSizeMB: the cap of the store every window shares, so machine-scoped and
 * read without a resource: a workspace's settings (an untrusted repository's among them)
 * cannot prune the user's store.
 */
function datasetCapMB(): Promise<number> {
  datasetCapCache ??= connection.workspace
    .getConfiguration({ section: 'winnow.dataset' })
    .then(
      (raw: unknown) => settingsFrom({ dataset: typeof raw === 'object' && raw !== null ? raw : {} }).dataset.maxSizeMB,
      () => DEFAULT_SETTINGS.dataset.maxSizeMB,
    );
  return datasetCapCache;
}

/**
 * winnow.ranker.rewardModel*: machine-scoped (the engine every window shares has one reward
 * model). `~` at the start of the path is the home folder.
 */
function rewardModelSettings(): Promise<RewardModelSettings> {
  rewardCache ??= connection.workspace
    .getConfiguration({ section: 'winnow.ranker' })
    .then(rewardModelSettingsFrom, () => rewardModelSettingsFrom(undefined))
    .then((r) => (r.path === '~' || r.path.startsWith('~/') ? { ...r, path: path.join(os.homedir(), r.path.slice(1)) } : r));
  return rewardCache;
}

function generatorOf(s: WinnowSettings): GeneratorConfig {
  const g = s.generator;
  return {
    backend: g.backend,
    ...(g.url ? { url: g.url } : {}),
    ...(g.model ? { model: g.model } : {}),
    ...(g.recordedPool ? { recordedPool: g.recordedPool } : {}),
    temperature: g.temperature,
    maxTokens: g.maxTokens,
  };
}

/** Tells the client about a generator problem once, and that it is gone once it is. */
function reportProblem(problem: { code: string; message: string } | undefined): void {
  const key = problem ? `${problem.code}:${problem.message}` : undefined;
  if (key === shownProblem) return;
  shownProblem = key;
  if (problem) log(`generator problem: ${problem.message}`);
  const { problem: _old, ...rest } = lastStatus;
  sendStatus(problem ? { ...rest, problem } : rest);
}

connection.languages.inlineCompletion.on(async (params: InlineCompletionParams, token) => {
  const received = performance.now();
  const doc = documents.get(params.textDocument.uri);
  if (!doc || !host) return null;
  const settings = await settingsFor(doc.uri);
  if (!settings.enabled) return null;
  const text = doc.getText();
  const offset = doc.offsetAt(params.position);
  // The user asked (Trigger Inline Suggestion, or cycling with Alt+]): more candidates, a longer
  // budget, no debounce, and the engine is asked even when the cache knows the answer.
  const manual = params.context?.triggerKind === InlineCompletionTriggerKind.Invoked;
  const hit = cache.lookup(doc.uri, text, offset, Date.now());
  if (!manual) {
    if (hit) {
      debouncer.forget(doc.uri); // an older request still waiting is stale now
      cacheCounts[hit.kind] += 1;
      log(`answered from the cache (${hit.kind === 'typeahead' ? `type-ahead, ${hit.typed.length} characters typed` : 'same context as a recent request'}): ${hit.candidates.length} candidates, no engine request`);
      const range = { start: doc.positionAt(hit.anchor), end: params.position };
      return { items: hit.candidates.map((c) => itemOf(c.text, { ...c.ref, of: hit.candidates.length, reused: hit.kind }, range)) };
    }
  }
  const ticket = debouncer.enter(doc.uri, manual ? 0 : settings.debounceMs, () => token.isCancellationRequested);
  if (!(await ticket.ready)) return null;
  const built = buildContext(text, offset, doc.languageId, doc.uri);
  if (!built.ok) {
    log(`no completion for ${doc.uri}: ${built.reason}`);
    return null;
  }
  const excluded = isExcluded(built.context.filePath, settings.exclude);
  if (excluded.excluded) {
    if (!excludedLogged.has(doc.uri)) {
      excludedLogged.add(doc.uri);
      log(`no completions for ${built.context.filePath}: excluded by ${excluded.pattern ?? 'a pattern'} (never sent to the model nor stored)`);
    }
    return null;
  }
  const generator = generatorOf(settings);
  lastGenerator = generator;
  const execute = workspaceTrusted && settings.execution === 'on';
  // The project's own tests for the function being written (only read by the engine when it runs candidates).
  let relatedTests: RelatedTestFile[] = [];
  if (execute && workspaceRoots.length > 0) {
    relatedTests = await findRelatedTests({
      filePath: built.context.filePath,
      languageId: built.context.languageId,
      functionName: functionNameAt(built.context.prefix, built.context.languageId),
      workspaceRoots,
      timeoutMs: RELATED_TESTS_WAIT_MS,
    });
  }
  // The engine keeps the latest for background training.
  const training = engineTrainingSettings(await trainingSettings());
  const rewardModel = await rewardModelSettings();
  let reply: CompleteReply;
  const budgetMs = manual ? settings.latencyBudgetMs * MANUAL_BUDGET_FACTOR : settings.latencyBudgetMs;
  const sent = performance.now();
  try {
    reply = await host.request(
      'complete',
      {
        ...built.context,
        n: manual ? Math.max(settings.manualCandidates, settings.candidates) : settings.candidates,
        trigger: manual ? 'manual' : 'auto',
        budgetMs,
        generator,
        // Whether to record this workspace's completions is the workspace's call; the shared store's cap is the user's.
        dataset: { enabled: settings.dataset.enabled, maxSizeMB: await datasetCapMB() },
        training,
        rewardModel,
        execute,
        ...(relatedTests.length > 0 ? { relatedTests } : {}),
        ...(execute && settings.synthesizeTests > 0 ? { synthesizeTests: settings.synthesizeTests } : {}),
      },
      budgetMs + 250,
      // A newer request for the same document, or VS Code cancelling, cancels it in the engine too.
      AbortSignal.any([ticket.signal, abortedBy(token)]),
    );
  } catch (e) {
    if (!(e instanceof NotReadyError) && !(e instanceof CancelledError)) log(`completion failed: ${(e as Error).message}`);
    return null;
  }
  cacheCounts.engine += 1;
  hops.set(reply.requestId, Math.max(0, performance.now() - sent - reply.timings.totalMs));
  if (hops.size > MAX_HOPS) hops.delete(hops.keys().next().value as string);
  if (!settings.dataset.enabled) {
    notCollected.add(reply.requestId);
    if (notCollected.size > 5000) notCollected.delete(notCollected.values().next().value as string);
  }
  if (reply.problem?.code === 'timeout' && reply.nUsed === 1) {
    // Latency-aware N is down to one candidate and even that ran out of time: say what to change.
    reportProblem({
      code: 'too_slow',
      message: `The model server did not answer even one candidate within the latency budget (${budgetMs} ms): raise winnow.latencyBudgetMs, or use a smaller or faster model.`,
    });
  } else if (reply.problem?.code !== 'timeout') reportProblem(reply.problem ?? (reply.storeProblem ? { code: 'store', message: reply.storeProblem } : undefined));
  if (reply.execution) {
    log(executionLine(reply));
    const short = executionLine(reply, { short: true });
    if (short !== lastStatus.lastExecution) sendStatus({ ...lastStatus, lastExecution: short });
  }
  // A background training, or another window, changed the ranker: the status bar says so.
  // The reward model's state and timings (loading, ready, refused; p50) follow, a few seconds apart at most.
  const rewardDue = (rewardModel.path !== '' || lastStatus.rewardModel !== undefined) && Date.now() - rewardStatusAt > REWARD_STATUS_EVERY_MS;
  if ((reply.rankerVersion && reply.rankerVersion !== lastStatus.rankerVersion) || rewardDue) void refreshStatus();
  if (token.isCancellationRequested || ticket.superseded) return null;
  const of = reply.candidates.length;
  const latencyMs = Math.round(performance.now() - received);
  const answered = reply.candidates.map((c) => ({ text: c.text, ref: { requestId: reply.requestId, candidateId: c.id, rank: c.rank, of, rankerVersion: reply.rankerVersion, latencyMs } satisfies ItemRef }));
  const range = { start: params.position, end: params.position };
  if (manual && hit) {
    // Suggestions were already on screen (VS Code asks this way when the user cycles with Alt+]):
    // they stay first, in their order and with their ids, so that the one shown keeps its place;
    // the new candidates follow.
    const kept = hit.candidates.map((c) => ({ text: c.text, ref: { ...c.ref, of: hit.candidates.length, reused: hit.kind } }));
    const seen = new Set(hit.candidates.map((c) => c.text.slice(hit.typed.length)));
    const added = answered.filter((c) => !seen.has(c.text));
    cache.remember(doc.uri, text, offset, hit.kind === 'recent' ? [...kept, ...added] : answered, Date.now());
    const keptRange = { start: doc.positionAt(hit.anchor), end: params.position };
    return { items: [...kept.map((c) => itemOf(c.text, c.ref, keptRange)), ...added.map((c) => itemOf(c.text, c.ref, range))] };
  }
  cache.remember(doc.uri, text, offset, answered, Date.now());
  return { items: answered.map((c) => itemOf(c.text, c.ref, range)) };
});

/** An inline completion item; accepting it runs the client's accept command with its ref. */
function itemOf(insertText: string, ref: ItemRef, range: InlineCompletionItem['range']): InlineCompletionItem {
  return { insertText, ...(range ? { range } : {}), command: { title: 'Winnow: accepted', command: ACCEPT_COMMAND, arguments: [ref] } };
}

/** An AbortSignal that follows an LSP cancellation token. */
function abortedBy(token: { isCancellationRequested: boolean; onCancellationRequested: (f: () => void) => unknown }): AbortSignal {
  const c = new AbortController();
  if (token.isCancellationRequested) c.abort();
  else token.onCancellationRequested(() => c.abort());
  return c.signal;
}

connection.onNotification(FeedbackNotification, (p: FeedbackParams) => {
  if (!p?.item?.requestId || !p.item.candidateId) return;
  if (notCollected.has(p.item.requestId)) return; // collection was off for it
  pendingEvents.push({
    kind: p.kind,
    requestId: p.item.requestId,
    candidateId: p.item.candidateId,
    rank: p.item.rank,
    ...(typeof p.item.rankerVersion === 'string' ? { rankerVersion: p.item.rankerVersion } : {}),
    ...(typeof p.item.latencyMs === 'number' ? { latencyMs: p.item.latencyMs } : {}),
    time: typeof p.time === 'number' ? p.time : Date.now(),
    ...(p.data ? { data: p.data } : {}),
  });
  if (pendingEvents.length > MAX_PENDING_EVENTS) {
    droppedEvents += pendingEvents.splice(0, pendingEvents.length - MAX_PENDING_EVENTS).length;
    log(`engine unavailable: dropped ${droppedEvents} feedback events so far (queue holds ${MAX_PENDING_EVENTS})`);
  }
  void flushEvents();
});

let flushing = false;
async function flushEvents(): Promise<void> {
  if (flushing || !host || host.state !== 'ready') return;
  flushing = true;
  try {
    while (pendingEvents.length > 0 && host.state === 'ready') {
      const batch = pendingEvents.slice(0, 500);
      try {
        await host.request('event', { events: batch }, 5000);
      } catch (e) {
        // A batch the engine refuses as malformed (say, an event kind an older engine does
        // not know) would block the queue for good: drop it, counted, and go on.
        if (!(e instanceof ProtocolError && e.code === 'bad_request')) throw e;
        droppedEvents += batch.length;
        log(`the engine refused ${batch.length} feedback events (${e.message}); dropped (${droppedEvents} dropped so far)`);
      }
      pendingEvents.splice(0, batch.length); // only once the engine acknowledged (or refused) them
    }
  } catch (e) {
    if (!(e instanceof NotReadyError)) log(`could not deliver feedback events (${pendingEvents.length} queued): ${(e as Error).message}`);
  } finally {
    flushing = false;
  }
}

connection.onRequest(EngineStatusRequest, async (): Promise<EngineStatusResult> => {
  if (!host) return { state: 'down', message: 'not initialized' };
  try {
    const s = await host.request('status', lastGenerator ? { generator: lastGenerator } : {}, 4000);
    return { state: host.state, engine: s };
  } catch (e) {
    return { state: host.state, message: lastStatus.message ?? (e as Error).message };
  }
});

connection.onRequest(RestartEngineRequest, async (): Promise<RestartEngineResult> => {
  await host?.restart();
  return { state: host?.state ?? 'down' };
});

/** Sends a request to the engine; a failure becomes a message for the user (see ./training.ts). */
async function relay<T extends RequestType>(what: string, type: T, body: RequestMap[T][0], timeoutMs: number): Promise<RequestMap[T][1]> {
  if (!host) throw new ResponseError(ErrorCodes.InternalError, `Winnow could not ${what}: the language server is not initialized.`);
  try {
    return await host.request(type, body, timeoutMs);
  } catch (e) {
    const err = e as Error & { code?: string };
    const text = engineFailureText(what, err, host.state, lastStatus.message);
    log(`${type}: ${err.message}`);
    throw new ResponseError(ErrorCodes.InternalError, text);
  }
}

connection.onRequest(TrainRequest, async (p: TrainParams | undefined): Promise<TrainResult> => {
  await flushEvents(); // the latest feedback is trained on
  const settings = engineTrainingSettings(await trainingSettings());
  const rounds = typeof p?.rounds === 'number' && Number.isInteger(p.rounds) ? { rounds: Math.min(10, Math.max(0, p.rounds)) } : {};
  const r = await relay('start a training', 'train', { trigger: 'manual', settings, ...rounds }, 10_000);
  log(r.started ? `training ${r.jobId} started` : `a training (${r.jobId}) is already running`);
  void refreshStatus();
  return { jobId: r.jobId, started: r.started };
});

connection.onRequest(TrainStatusRequest, async (): Promise<TrainStatusResult> => {
  const r = trainStatusFrom(await relay('read the training status', 'trainStatus', {}, 5000));
  // A training started or ended, or the ranker changed: the status bar follows.
  const known = lastStatus.training;
  if (!!r.running !== !!known?.running || r.lastChange?.time !== known?.lastChange?.time) void refreshStatus();
  return r;
});

connection.onRequest(TrainCancelRequest, async (): Promise<TrainCancelResult> => {
  const r = await relay('cancel the training', 'trainCancel', {}, 10_000);
  log(r.cancelled ? 'training cancelled on request' : 'cancel: no training was running');
  void refreshStatus();
  return { cancelled: r.cancelled };
});

connection.onRequest(RankersRequest, async (): Promise<RankersResult> => rankersFrom(await relay('list the ranker versions', 'rankers', {}, 5000)));

connection.onRequest(ActivateRequest, async (p: ActivateParams): Promise<ActivateResult> => {
  if (typeof p?.version !== 'string' || p.version.length === 0) throw new ResponseError(ErrorCodes.InvalidParams, 'winnow/activate needs a version');
  const r = await relay(`switch to ranker ${p.version}`, 'activate', { version: p.version }, 30_000);
  log(`ranker ${r.active} activated (was ${r.previous})`);
  await refreshStatus();
  return { active: r.active, previous: r.previous };
});

/** What the status bar shows of the engine's reward model status; undefined when none is set. */
function rewardViewOf(r: StatusReply['rewardModel']): RewardModelView | undefined {
  if (!r || r.state === 'none') return undefined;
  const { state, path: folder, name, device, deviceReason, precision, p50Ms, inTime, late, problem } = r;
  return { state, path: folder, name, device, deviceReason, precision, p50Ms, inTime, late, problem };
}

/**
 * Reads the engine's status again and sends `winnow/status` when the active ranker or the
 * training state changed (after a training, an activation, or what another window did).
 */
function refreshStatus(): Promise<void> {
  refreshing ??= (async () => {
    try {
      if (!host || host.state !== 'ready') return;
      // The reward model setting goes along, so that a change reaches the engine before the next completion.
      const s = await host.request('status', { rewardModel: await rewardModelSettings() }, 4000);
      const training: TrainingState | undefined = s.training
        ? { running: s.training.running, ...(s.training.lastChange ? { lastChange: { ...s.training.lastChange } } : {}) }
        : undefined;
      rewardStatusAt = Date.now();
      const rewardModel = rewardViewOf(s.rewardModel);
      const known = lastStatus.training;
      const changed =
        s.rankerVersion !== lastStatus.rankerVersion ||
        training?.running !== known?.running ||
        training?.lastChange?.time !== known?.lastChange?.time ||
        JSON.stringify(rewardModel) !== JSON.stringify(lastStatus.rewardModel) ||
        s.rankerNote !== lastStatus.rankerNote;
      if (changed && lastStatus.state === 'ready') {
        const { training: _old, rewardModel: _oldReward, rankerNote: _oldNote, ...rest } = lastStatus;
        if (s.rankerVersion !== lastStatus.rankerVersion) log(`ranker is now ${s.rankerVersion}${training?.lastChange ? ` (${training.lastChange.reason})` : ''}${s.rankerNote ? ` (${s.rankerNote})` : ''}`);
        if (rewardModel?.problem && rewardModel.problem !== lastStatus.rewardModel?.problem) log(`reward model: ${rewardModel.problem}`);
        sendStatus({ ...rest, rankerVersion: s.rankerVersion, ...(training ? { training } : {}), ...(rewardModel ? { rewardModel } : {}), ...(s.rankerNote ? { rankerNote: s.rankerNote } : {}) });
      }
    } catch (e) {
      if (!(e instanceof NotReadyError)) log(`status refresh: ${(e as Error).message}`);
    } finally {
      refreshing = undefined;
      watchTraining();
    }
  })();
  return refreshing;
}

/** Polls the engine's status while a training runs, so the status bar learns when it ends. */
function watchTraining(): void {
  // Also while the reward model loads, so that the status bar shows when it is ready (or refused) without a completion.
  const running = lastStatus.state === 'ready' && (lastStatus.training?.running === true || lastStatus.rewardModel?.state === 'loading');
  if (running && !trainingWatch) {
    trainingWatch = setInterval(() => void refreshStatus(), TRAINING_WATCH_MS);
    trainingWatch.unref();
  } else if (!running && trainingWatch) {
    clearInterval(trainingWatch);
    trainingWatch = undefined;
  }
}

connection.onRequest(ExportDatasetRequest, async (p: ExportDatasetParams): Promise<ExportDatasetResult> => {
  if (!host) throw new Error('not initialized');
  await flushEvents();
  const r = await host.request('export', { out: p.path }, 300_000);
  return { path: r.path, count: r.count, bySource: r.stats.bySource };
});

connection.onRequest(PurgeDatasetRequest, async (): Promise<PurgeDatasetResult> => {
  if (!host) throw new Error('not initialized');
  pendingEvents.length = 0; // nothing queued survives a purge
  return host.request('purge', { confirm: true }, 120_000);
});

// ---------------------------------------------------------------------------------------
// The dashboard and the connection test.

/** The window's `winnow` settings (no resource: what the user and the workspace set). */
function windowSettings(): Promise<WinnowSettings> {
  return connection.workspace.getConfiguration({ section: 'winnow' }).then(settingsFrom, () => settingsFrom(undefined));
}

const DAY_MS = 86_400_000;

connection.onRequest(DashboardRequest, async (p: DashboardParams | undefined): Promise<DashboardResult> => {
  const s = await windowSettings();
  const base: DashboardResult = {
    time: Date.now(),
    state: host?.state ?? 'down',
    settings: { latencyBudgetMs: s.latencyBudgetMs, candidates: s.candidates, manualCandidates: s.manualCandidates },
    cache: { ...cacheCounts },
  };
  if (!host || host.state !== 'ready') return { ...base, message: lastStatus.message ?? `the engine is ${host?.state ?? 'not started'}` };
  const days = typeof p?.days === 'number' && p.days > 0 ? Math.min(p.days, 3650) : 30;
  // Rounded to the minute, so that several windows' dashboards share one run of the queries.
  const since = Math.floor((Date.now() - days * DAY_MS) / 60_000) * 60_000;
  const [status, insights, rankers, training] = await Promise.allSettled([
    host.request('status', { probe: false }, 4000),
    host.request('insights', { since }, 20_000),
    host.request('rankers', {}, 5000),
    host.request('trainStatus', {}, 5000),
  ]);
  const failed = [status, insights, rankers, training].find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const result: DashboardResult = { ...base };
  if (failed) result.message = (failed.reason as Error).message;
  if (status.status === 'fulfilled') {
    result.engine = status.value;
    if (status.value.sampling) result.sampling = status.value.sampling;
  }
  if (insights.status === 'fulfilled') {
    const latency: DashboardTiming[] = insights.value.latency.map((t) => {
      const hopMs = hops.get(t.requestId);
      return hopMs === undefined ? t : { ...t, hopMs };
    });
    result.insights = { ...insights.value, latency };
  }
  if (rankers.status === 'fulfilled') result.rankers = rankersFrom(rankers.value);
  if (training.status === 'fulfilled') result.training = trainStatusFrom(training.value);
  return result;
});

connection.onRequest(TestConnectionRequest, async (p: TestConnectionParams | undefined): Promise<TestConnectionResult> => {
  const settings = typeof p?.uri === 'string' ? await settingsFor(p.uri) : await windowSettings();
  const generator = generatorOf(settings);
  // The walkthrough may run this before any completion started the engine.
  if (host && host.state !== 'ready') await host.start();
  const r = await relay('test the connection to the model server', 'probe', { generator, timeoutMs: 15_000 }, 20_000);
  log(`connection test: ${r.ok ? `${r.backend} ${r.url ?? ''} answered in ${r.sampleMs} ms${r.model ? ` (model ${r.model})` : ''}` : `failed: ${r.problem?.message ?? 'no answer'}`}`);
  if (r.ok) lastGenerator = generator;
  return r;
});

documents.onDidClose((e) => {
  debouncer.forget(e.document.uri);
  cache.forget(e.document.uri);
});

connection.onShutdown(() => {
  if (trainingWatch) clearInterval(trainingWatch);
  host?.dispose();
});

documents.listen(connection);
connection.listen();
