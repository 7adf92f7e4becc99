/**
 * Winnow's extensions to LSP, version 1. The language server owns (serves) this edge; the
 * extension (client/) is its only client. Standard LSP (`textDocument/inlineCompletion`,
 * LSP 3.18) is used as is; everything Winnow adds is namespaced `winnow/*` and defined here.
 *
 * Direction of each message:
 * - `winnow/status`        notification, server → client: engine state changed.
 * - `winnow/feedback`      notification, client → server: what happened to a suggestion.
 * - `winnow/engineStatus`  request, client → server: full engine status (for the menu).
 * - `winnow/restartEngine` request, client → server: stop and start the engine.
 * - `winnow/train`         request, client → server: start a training of the ranker (returns at once; one at a time per data folder).
 * - `winnow/trainStatus`   request, client → server: the running training's progress, the last one's summary, the last ranker change.
 * - `winnow/trainCancel`   request, client → server: stop the running training (nothing changes).
 * - `winnow/rankers`       request, client → server: the ranker versions on disk and which one is active.
 * - `winnow/activate`      request, client → server: switch the (shared) engine to a version, e.g. to roll back.
 * - `winnow/exportDataset` request, client → server: write the training triplets as JSONL.
 * - `winnow/purgeDataset`  request, client → server: delete everything stored (the client confirms first).
 * - `winnow/workspaceTrust` notification, client → server: the workspace's trust changed.
 * - `winnow/dashboard`     request, client → server: everything the dashboard shows, in one reply (version 3).
 * - `winnow/testConnection` request, client → server: try the model server the settings name (version 3).
 *
 * Each inline completion item the server returns carries a `command` whose id is
 * {@link ACCEPT_COMMAND} and whose single argument is an {@link ItemRef}; VS Code runs it when
 * the user accepts the item, and the client turns it into a `winnow/feedback` `accepted` event.
 *
 * Requests the server relays to the engine fail with a message meant for the user (the
 * engine is down, did not answer, or refused the request), never with a bare error code.
 *
 * Version 2: `winnow/retrainRanker` (a placeholder) is replaced by `winnow/train`,
 * `winnow/trainStatus`, `winnow/trainCancel`, `winnow/rankers` and `winnow/activate`;
 * `winnow/status` and `winnow/engineStatus` gain `training`; later, `rewardModel` and
 * `rankerNote` (optional fields: a side without them ignores them).
 *
 * Version 3: `winnow/dashboard` and `winnow/testConnection`; items reused without asking the
 * engine (type-ahead, a repeated request) carry `reused` in their {@link ItemRef}.
 *
 * This module must stay free of Node and VS Code imports: the client bundles it too.
 */

import type { CompletionTiming, InsightsReply, ProbeReply, SamplingStatus } from '../../engine/src/protocol';

export const LSP_EXTENSION_VERSION = 3;

/** VS Code command id the server puts on every item; registered by the client. */
export const ACCEPT_COMMAND = 'winnow.didAcceptCompletion';

/** Identifies one candidate of one completion request. */
export interface ItemRef {
  requestId: string;
  candidateId: string;
  rank: number;
  /** Total candidates in the list the item came from. */
  of: number;
  /** Ranker version that ranked the list. */
  rankerVersion?: string;
  /** Milliseconds from the server receiving the request to answering it. */
  latencyMs?: number;
  /** Set when the server answered from its cache: `typeahead` (the user typed the start of the shown suggestion), `recent` (the same context as a recent request). */
  reused?: 'typeahead' | 'recent';
}

export type EngineState = 'starting' | 'ready' | 'restarting' | 'down';

export interface StatusParams {
  state: EngineState;
  /** Device the ranker runs on, when known. */
  device?: 'cuda' | 'cpu';
  deviceReason?: string;
  rankerVersion?: string;
  enginePid?: number;
  /** Human-readable detail: why the engine is down, what the generator said. */
  message?: string;
  /**
   * A problem the user should act on, sent once per distinct problem (not per keystroke):
   * for example an unreachable model server. Cleared (absent) once requests succeed again.
   */
  problem?: { code: string; message: string };
  /** What running the candidates of the last completion did, when execution is on (for example "1 of 2 candidates passed the 2 docstring examples"). */
  lastExecution?: string;
  /** Whether a training runs now, and when the active ranker last changed and why. */
  training?: TrainingState;
  /** The reward model (winnow.ranker.rewardModel), when one is set. */
  rewardModel?: RewardModelView;
  /** Why the built-in ranker serves instead of the active version (it was trained with another reward model). */
  rankerNote?: string;
}

/** What the status bar shows of the reward model (engine/src/protocol.ts RewardModelStatus). */
export interface RewardModelView {
  state: 'none' | 'loading' | 'ready' | 'failed';
  path: string;
  name?: string;
  device?: 'cuda' | 'cpu';
  deviceReason?: string;
  precision?: 'fp32' | 'fp16';
  /** Scoring time p50 over the last completions, ms. */
  p50Ms?: number;
  /** Completions scored within the latency budget, and after it. */
  inTime: number;
  late: number;
  problem?: string;
}

/** When the active ranker last changed, to what, and why (for example "promoted: held-out accuracy 0.74 vs 0.68"). */
export interface RankerChange {
  /** Milliseconds since the epoch. */
  time: number;
  version: string;
  reason: string;
}

export interface TrainingState {
  running: boolean;
  lastChange?: RankerChange;
}
export const StatusNotification = 'winnow/status';

export interface FeedbackParams {
  /** See engine/src/protocol.ts EventKind and docs/feedback-events.md. */
  kind: 'shown' | 'accepted' | 'partially_accepted' | 'rejected' | 'survival' | 'test_outcome';
  item: ItemRef;
  /** Milliseconds since the epoch. */
  time: number;
  data?: Record<string, unknown>;
}
export const FeedbackNotification = 'winnow/feedback';

export interface EngineStatusResult {
  state: EngineState;
  /** The engine's own status reply (see engine/src/protocol.ts StatusReply), when it answered. */
  engine?: {
    pid: number;
    protocolVersion: number;
    device: 'cuda' | 'cpu';
    deviceReason: string;
    rankerVersion: string;
    dataDir: string;
    endpoint: string;
    uptimeMs: number;
    requestsServed: number;
    generator?: { backend: string; url?: string; reachable: boolean; problem?: { code: string; message: string } };
    store?: { file: string; requests: number; events: number; liveMB: number; maxSizeMB: number; held: number; problem?: string; recovered?: string };
    training?: TrainingState;
    rewardModel?: RewardModelView & { id?: string; maxTokens: number; p90Ms?: number; errors: number; skipped: number };
    rankerNote?: string;
  };
  message?: string;
}
export const EngineStatusRequest = 'winnow/engineStatus';

export interface RestartEngineResult {
  state: EngineState;
}
export const RestartEngineRequest = 'winnow/restartEngine';

// ---------------------------------------------------------------------------------------
// Training and ranker versions. The engine trains (one training at a time per data folder,
// shared by every window); these mirror its replies (engine/src/protocol.ts) with what the
// editor shows.

export type TrainTrigger = 'manual' | 'background' | 'cli';
export type TrainPhase = 'loading' | 'training' | 'mining' | 'evaluating' | 'saving';

/** Triplets by source (accepted_vs_shown, pass_rate, hard_negative, ...) and split. */
export type TripletCounts = Record<string, { train: number; validation: number }>;

/** Held-out pairwise accuracy (0..1) of a new version and of the version active when it was trained, on the same pairs. */
export interface HeldOut {
  pairs: number;
  accuracy: number;
  activeVersion: string;
  activeAccuracy: number;
}

/** A training in progress. */
export interface TrainProgress {
  jobId: string;
  trigger: TrainTrigger;
  /** Milliseconds since the epoch. */
  startedAt: number;
  phase: TrainPhase;
  /** 0: the first training; 1..rounds: hard-negative rounds (so there are rounds + 1 in all). */
  round: number;
  rounds: number;
  epoch: number;
  maxEpochs: number;
  trainPairs: number;
  heldOutPairs: number;
  /** Pairwise accuracy (0..1) of the best epoch so far in this round, on the early-stopping pairs (a slice of the training prompts, not the gate's held-out pairs). */
  heldOutAccuracy?: number;
  /** The rounds finished so far, with their held-out pairwise accuracy. */
  completedRounds?: TrainRound[];
}

/** What one round gave. */
export interface TrainRound {
  round: number;
  trainPairs: number;
  hardNegatives: number;
  epochs: number;
  bestEpoch: number;
  heldOutAccuracy: number;
}

/** The end of a training: what it used, what it measured, what was decided and why. */
export interface TrainSummary {
  jobId: string;
  trigger: TrainTrigger;
  outcome: 'promoted' | 'kept' | 'skipped' | 'cancelled' | 'failed';
  /** The new version, when one was written (promoted or kept). */
  version?: string;
  /** The promotion gate's verdict, why nothing was trained, or the error. */
  reason: string;
  triplets: TripletCounts;
  heldOut?: HeldOut;
  rounds: TrainRound[];
  startedAt: number;
  finishedAt: number;
  trainMs: number;
}

export interface TrainParams {
  /** Hard-negative rounds; default winnow.training.rounds. */
  rounds?: number;
}
export interface TrainResult {
  jobId: string;
  /** false: a training was already running (started by another window, the CLI or in the background); jobId is that one's. */
  started: boolean;
}
export const TrainRequest = 'winnow/train';

export interface TrainStatusResult {
  running?: TrainProgress;
  /** The last training that ended. */
  last?: TrainSummary;
  lastChange?: RankerChange;
}
export const TrainStatusRequest = 'winnow/trainStatus';

export interface TrainCancelResult {
  /** false: no training was running. */
  cancelled: boolean;
}
export const TrainCancelRequest = 'winnow/trainCancel';

/** One ranker version on disk. */
export interface RankerInfo {
  version: string;
  active: boolean;
  /** The built-in ranker (hand-chosen weights); always there. */
  builtin: boolean;
  parent?: string;
  featureSet: string;
  family: string;
  /** Milliseconds since the epoch. */
  createdAt: number;
  triplets?: TripletCounts;
  heldOut?: HeldOut;
  decision?: { promoted: boolean; reason: string };
}
export interface RankersResult {
  active: string;
  versions: RankerInfo[];
}
export const RankersRequest = 'winnow/rankers';

export interface ActivateParams {
  version: string;
}
export interface ActivateResult {
  active: string;
  previous: string;
}
export const ActivateRequest = 'winnow/activate';

export interface ExportDatasetParams {
  /** Absolute path of the JSONL file to write. */
  path: string;
}
export interface ExportDatasetResult {
  path: string;
  count: number;
  /** Triplets by source, for the message shown to the user. */
  bySource: Record<string, number>;
}
export const ExportDatasetRequest = 'winnow/exportDataset';

export interface PurgeDatasetResult {
  requests: number;
  events: number;
}
export const PurgeDatasetRequest = 'winnow/purgeDataset';

/**
 * Initialization options the client passes to the server (`initializationOptions`).
 * Settings that can change at run time are pulled per request with `workspace/configuration`.
 */
export interface InitializationOptions {
  /** Folder for the engine's data, lock and logs (the extension's global storage by default). */
  dataDir: string;
  /** Path to the engine's bundle (engine/out/cli.js inside the extension). */
  engineScript: string;
  /** Node executable to run the engine with. */
  nodePath: string;
  /** Extra environment for the engine process. */
  engineEnv?: Record<string, string>;
  /** Whether the workspace is trusted (VS Code workspace trust); candidates never run otherwise. */
  workspaceTrusted?: boolean;
}

export interface WorkspaceTrustParams {
  trusted: boolean;
}
export const WorkspaceTrustNotification = 'winnow/workspaceTrust';

/** The settings the server reads from the `winnow` section. */
export interface WinnowSettings {
  enabled: boolean;
  generator: {
    backend: 'openai' | 'ollama' | 'recorded';
    url: string;
    model: string;
    recordedPool: string;
    temperature: number;
    maxTokens: number;
  };
  candidates: number;
  /** winnow.candidatesManual: most candidates when the user asks (Trigger Inline Suggestion). */
  manualCandidates: number;
  latencyBudgetMs: number;
  debounceMs: number;
  dataset: { enabled: boolean; maxSizeMB: number };
  /** Extra globs of files never sent to the model nor stored (winnow.exclude). */
  exclude: string[];
  /** winnow.execution.enabled: run candidates against tests (trusted workspaces only). */
  execution: 'off' | 'ask' | 'on';
  /** winnow.execution.synthesizeTests: continuations of `assert ` asked of the generator per completion (0: none). */
  synthesizeTests: number;
  /** winnow.training.* (machine-scoped: they act on the store and rankers every window shares). */
  training: TrainingSettings;
}

/** winnow.ranker.rewardModel and winnow.ranker.rewardModelMaxTokens (machine-scoped: one reward model per engine). */
export interface RewardModelSettings {
  /** The folder of an exported reward model; '' for none. */
  path: string;
  maxTokens: number;
}

export const DEFAULT_REWARD_MODEL_SETTINGS: RewardModelSettings = { path: '', maxTokens: 1024 };

/** Normalizes the raw `winnow.ranker` section: a string path (trimmed), max tokens clamped to 16..32768. */
export function rewardModelSettingsFrom(raw: unknown): RewardModelSettings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = DEFAULT_REWARD_MODEL_SETTINGS;
  const t = r.rewardModelMaxTokens;
  return {
    path: typeof r.rewardModel === 'string' ? r.rewardModel.trim() : d.path,
    maxTokens: typeof t === 'number' && Number.isFinite(t) ? Math.min(32768, Math.max(16, Math.round(t))) : d.maxTokens,
  };
}

/** winnow.training.*, as the engine takes them (engine/src/protocol.ts TrainingSettings). */
export interface TrainingSettings {
  /** Train in the background when enough new triplets exist and the editor is idle. */
  auto: boolean;
  /** New triplets since the last training that start a background one. */
  minNewTriplets: number;
  /** Fewest held-out pairs for the promotion gate to decide; with fewer, a new version is kept, not promoted. */
  minPairs: number;
  /** Points of held-out pairwise accuracy a new version must gain over the active one to be promoted (may be negative). */
  promotionMargin: number;
  /** Ranker versions kept on disk (the active one and its parent are never pruned). */
  keepVersions: number;
  /** Hard-negative rounds after the first training; 0: none. */
  rounds: number;
}

export const DEFAULT_TRAINING_SETTINGS: TrainingSettings = { auto: true, minNewTriplets: 200, minPairs: 50, promotionMargin: 1, keepVersions: 10, rounds: 2 };

/**
 * Normalizes the raw `winnow.training` section (`{auto, minPairs, ...}`, anything the user
 * typed) into {@link TrainingSettings}, within the ranges the engine accepts: out-of-range
 * numbers are clamped (counts rounded), wrong types take the default.
 */
export function trainingSettingsFrom(raw: unknown): TrainingSettings {
  const t = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const d = DEFAULT_TRAINING_SETTINGS;
  const count = (k: 'minNewTriplets' | 'minPairs' | 'keepVersions' | 'rounds', min: number, max: number): number => {
    const v = t[k];
    return typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, Math.round(v))) : d[k];
  };
  const margin = t.promotionMargin;
  return {
    auto: typeof t.auto === 'boolean' ? t.auto : d.auto,
    minNewTriplets: count('minNewTriplets', 1, 10_000_000),
    minPairs: count('minPairs', 0, 10_000_000),
    promotionMargin: typeof margin === 'number' && Number.isFinite(margin) ? Math.min(100, Math.max(-100, margin)) : d.promotionMargin,
    keepVersions: count('keepVersions', 2, 1000),
    rounds: count('rounds', 0, 10),
  };
}

export const DEFAULT_SETTINGS: WinnowSettings = {
  enabled: true,
  generator: { backend: 'openai', url: 'http://127.0.0.1:8080', model: '', recordedPool: '', temperature: 0.8, maxTokens: 256 },
  candidates: 8,
  manualCandidates: 16,
  latencyBudgetMs: 1500,
  debounceMs: 75,
  dataset: { enabled: true, maxSizeMB: 512 },
  exclude: [],
  execution: 'ask',
  synthesizeTests: 4,
  training: DEFAULT_TRAINING_SETTINGS,
};

/** Normalizes raw `winnow` settings (anything the user typed) into {@link WinnowSettings}. */
export function settingsFrom(raw: unknown): WinnowSettings {
  const r = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const g = (typeof r.generator === 'object' && r.generator !== null ? r.generator : {}) as Record<string, unknown>;
  // VS Code may hand dotted keys either nested or flat; accept both.
  const pick = (nested: unknown, flat: unknown): unknown => (nested !== undefined ? nested : flat);
  const str = (v: unknown, d: string): string => (typeof v === 'string' ? v : d);
  const num = (v: unknown, d: number, min: number, max: number): number =>
    typeof v === 'number' && Number.isFinite(v) ? Math.min(max, Math.max(min, v)) : d;
  const backend = pick(g.backend, r['generator.backend']);
  const ds = (typeof r.dataset === 'object' && r.dataset !== null ? r.dataset : {}) as Record<string, unknown>;
  const datasetEnabled = pick(ds.enabled, r['dataset.enabled']);
  const ex = (typeof r.execution === 'object' && r.execution !== null ? r.execution : {}) as Record<string, unknown>;
  const execution = pick(ex.enabled, r['execution.enabled']);
  const exclude = Array.isArray(r.exclude) ? r.exclude.filter((x): x is string => typeof x === 'string' && x.length > 0) : [];
  const d = DEFAULT_SETTINGS;
  return {
    enabled: typeof r.enabled === 'boolean' ? r.enabled : d.enabled,
    generator: {
      backend: backend === 'openai' || backend === 'ollama' || backend === 'recorded' ? backend : d.generator.backend,
      url: str(pick(g.url, r['generator.url']), d.generator.url),
      model: str(pick(g.model, r['generator.model']), d.generator.model),
      recordedPool: str(pick(g.recordedPool, r['generator.recordedPool']), d.generator.recordedPool),
      temperature: num(pick(g.temperature, r['generator.temperature']), d.generator.temperature, 0, 2),
      maxTokens: Math.round(num(pick(g.maxTokens, r['generator.maxTokens']), d.generator.maxTokens, 1, 4096)),
    },
    candidates: Math.round(num(r.candidates, d.candidates, 1, 64)),
    manualCandidates: Math.round(num(r.candidatesManual, d.manualCandidates, 1, 64)),
    latencyBudgetMs: num(r.latencyBudgetMs, d.latencyBudgetMs, 50, 60_000),
    debounceMs: num(r.debounceMs, d.debounceMs, 0, 2000),
    dataset: {
      enabled: typeof datasetEnabled === 'boolean' ? datasetEnabled : d.dataset.enabled,
      maxSizeMB: num(pick(ds.maxSizeMB, r['dataset.maxSizeMB']), d.dataset.maxSizeMB, 1, 1_000_000),
    },
    exclude,
    execution: execution === 'off' || execution === 'ask' || execution === 'on' ? execution : d.execution,
    synthesizeTests: Math.round(num(pick(ex.synthesizeTests, r['execution.synthesizeTests']), d.synthesizeTests, 0, 20)),
    training: trainingSettingsFrom(typeof r.training === 'object' && r.training !== null ? r.training : flatTraining(r)),
  };
}

/** The `training.*` keys of a flat `winnow` section, as a nested object. */
function flatTraining(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(DEFAULT_TRAINING_SETTINGS)) if (r[`training.${k}`] !== undefined) out[k] = r[`training.${k}`];
  return out;
}

// ---------------------------------------------------------------------------------------
// Dashboard and first run (version 3).

export interface DashboardParams {
  /** Days of history for the series; default 30. */
  days?: number;
}

/** One completion's timings with the hop (server ⇄ engine) this window measured, when it sent it. */
export type DashboardTiming = CompletionTiming & { hopMs?: number };

/** Everything the dashboard shows. Parts the engine could not give are absent, with `message` saying why. */
export interface DashboardResult {
  /** Milliseconds since the epoch. */
  time: number;
  state: EngineState;
  message?: string;
  /** The engine's status (device, reward model, store, generator), when it answered. */
  engine?: EngineStatusResult['engine'];
  insights?: Omit<InsightsReply, 'latency'> & { latency: DashboardTiming[] };
  rankers?: RankersResult;
  training?: TrainStatusResult;
  /** What the engine learned of the generator's speed (latency-aware N). */
  sampling?: SamplingStatus;
  /** The settings the figures are read against. */
  settings: { latencyBudgetMs: number; candidates: number; manualCandidates: number };
  /** This window's completion cache: requests answered without the engine. */
  cache: { typeahead: number; recent: number; engine: number };
}
export const DashboardRequest = 'winnow/dashboard';

export interface TestConnectionParams {
  /** A document whose settings to use (its workspace folder's); default: the window's. */
  uri?: string;
}
/** The engine's probe of the configured generator (engine/src/protocol.ts ProbeReply). */
export type TestConnectionResult = ProbeReply;
export const TestConnectionRequest = 'winnow/testConnection';
