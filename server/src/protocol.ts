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
 * - `winnow/retrainRanker` request, client → server: ask for a ranker retrain.
 * - `winnow/exportDataset` request, client → server: write the training triplets as JSONL.
 * - `winnow/purgeDataset`  request, client → server: delete everything stored (the client confirms first).
 * - `winnow/workspaceTrust` notification, client → server: the workspace's trust changed.
 *
 * Each inline completion item the server returns carries a `command` whose id is
 * {@link ACCEPT_COMMAND} and whose single argument is an {@link ItemRef}; VS Code runs it when
 * the user accepts the item, and the client turns it into a `winnow/feedback` `accepted` event.
 *
 * This module must stay free of Node and VS Code imports: the client bundles it too.
 */

export const LSP_EXTENSION_VERSION = 1;

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
  };
  message?: string;
}
export const EngineStatusRequest = 'winnow/engineStatus';

export interface RestartEngineResult {
  state: EngineState;
}
export const RestartEngineRequest = 'winnow/restartEngine';

export interface RetrainResult {
  started: boolean;
  message: string;
}
export const RetrainRankerRequest = 'winnow/retrainRanker';

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
  latencyBudgetMs: number;
  debounceMs: number;
  dataset: { enabled: boolean; maxSizeMB: number };
  /** Extra globs of files never sent to the model nor stored (winnow.exclude). */
  exclude: string[];
  /** winnow.execution.enabled: run candidates against tests (trusted workspaces only). */
  execution: 'off' | 'ask' | 'on';
  /** winnow.execution.synthesizeTests: continuations of `assert ` asked of the generator per completion (0: none). */
  synthesizeTests: number;
}

export const DEFAULT_SETTINGS: WinnowSettings = {
  enabled: true,
  generator: { backend: 'openai', url: 'http://127.0.0.1:8080', model: '', recordedPool: '', temperature: 0.8, maxTokens: 256 },
  candidates: 8,
  latencyBudgetMs: 1500,
  debounceMs: 75,
  dataset: { enabled: true, maxSizeMB: 512 },
  exclude: [],
  execution: 'ask',
  synthesizeTests: 4,
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
    latencyBudgetMs: num(r.latencyBudgetMs, d.latencyBudgetMs, 50, 60_000),
    debounceMs: num(r.debounceMs, d.debounceMs, 0, 2000),
    dataset: {
      enabled: typeof datasetEnabled === 'boolean' ? datasetEnabled : d.dataset.enabled,
      maxSizeMB: num(pick(ds.maxSizeMB, r['dataset.maxSizeMB']), d.dataset.maxSizeMB, 1, 1_000_000),
    },
    exclude,
    execution: execution === 'off' || execution === 'ask' || execution === 'on' ? execution : d.execution,
    synthesizeTests: Math.round(num(pick(ex.synthesizeTests, r['execution.synthesizeTests']), d.synthesizeTests, 0, 20)),
  };
}
