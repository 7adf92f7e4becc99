/**
 * The engine's ZeroMQ protocol, version 1. The engine owns (serves) this edge; the
 * language server and the CLI are its clients. This module is the only definition of the
 * wire format: both sides import it, nothing else builds or parses frames.
 *
 * Transport: the client holds a DEALER socket, the engine a ROUTER socket.
 *
 * Frames, client → engine (DEALER sends; ROUTER prepends the peer identity):
 *   [ "winnow/1", type, id, body ]
 * Frames, engine → client:
 *   [ "winnow/1", "reply" | "error", id, body ]
 *
 * - `type` is one of {@link RequestType}; `id` is chosen by the client and echoed back, so a
 *   client can match replies to requests and drop late ones.
 * - `body` is UTF-8 JSON: the request payload, the reply payload, or an {@link ErrorBody}.
 * - A frame set that does not parse (wrong tag, unknown type, bad JSON) is logged and
 *   dropped by the engine; when the id could be read, the client gets an `error` reply
 *   with code `bad_request`. It is never fatal.
 *
 * Direction of every message: all requests go client → engine and get exactly one reply
 * (or error) engine → client. The engine never sends unsolicited messages.
 */

export const PROTOCOL_VERSION = 1;
export const PROTOCOL_TAG = `winnow/${PROTOCOL_VERSION}`;

/** Cap on one body, so a runaway client cannot make the engine allocate without bound. */
export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export type GeneratorBackend = 'openai' | 'ollama' | 'recorded';

/** Which generator to use; sent with each request because windows may differ. */
export interface GeneratorConfig {
  backend: GeneratorBackend;
  /** Base URL of the model server (openai: `http://127.0.0.1:8080`, `/v1` optional; ollama: `http://127.0.0.1:11434`). */
  url?: string;
  model?: string;
  /** Path to a JSONL pool for the `recorded` backend. */
  recordedPool?: string;
  /** Sampling temperature; default 0.8. */
  temperature?: number;
  /** Most tokens per candidate; default 256. */
  maxTokens?: number;
  /** Seed for the recorded backend's sampling; default 0. */
  seed?: number;
}

export interface CompleteRequest {
  /** Text before the cursor (already windowed by the server). */
  prefix: string;
  /** Text after the cursor (already windowed). */
  suffix: string;
  languageId: string;
  filePath: string;
  /**
   * Most candidates to sample. The engine asks the generator for as many as its measured speed
   * fits in the budget (latency-aware N, at least 1, at most `n`) unless `fixedN` is set.
   */
  n: number;
  /** Ask for exactly `n` (benchmarks, tests); default false. */
  fixedN?: boolean;
  /** `manual`: the user asked (Trigger Inline Suggestion); `auto`: while typing. Stored for the dashboard; default auto. */
  trigger?: 'auto' | 'manual';
  /** How long the engine may spend in total, in milliseconds. */
  budgetMs: number;
  generator: GeneratorConfig;
  /** The user's dataset settings (winnow.dataset.*); absent: collect, default cap. */
  dataset?: DatasetSettings;
  /**
   * Run the candidates against the tests found above the cursor (docstring examples), in
   * the sandbox, and rank the ones that pass first. The server sets it only for a trusted
   * workspace whose user allowed execution (winnow.execution.enabled).
   */
  execute?: boolean;
  /**
   * Test files of the project that may exercise the function being written, found by the
   * server by naming convention (test_x.py, x_test.py, x.test.ts, __tests__/x.js, ...) and
   * cut to the lines that mention it. Only read when `execute` is set.
   */
  relatedTests?: RelatedTestFile[];
  /**
   * Ask the generator for this many continuations of `assert ` (model-written tests, CodeT
   * style) alongside the candidates; 0 or absent: none. Only used when `execute` is set.
   */
  synthesizeTests?: number;
  /** The user's training settings (winnow.training.*); the engine keeps the latest for background training. */
  training?: TrainingSettings;
  /** The user's reward model settings (winnow.ranker.rewardModel*); the engine keeps the latest (one model for all windows). */
  rewardModel?: RewardModelSettings;
}

/** winnow.ranker.rewardModel and winnow.ranker.rewardModelMaxTokens. */
export interface RewardModelSettings {
  /** Folder of an exported reward model (model.onnx, tokenizer.json); '' for none. */
  path: string;
  /** Most tokens of one (context, candidate) sequence; the context is cut from its left. */
  maxTokens: number;
}

export const DEFAULT_REWARD_MAX_TOKENS = 1024;

/** The reward model as the engine has it (`status`). */
export interface RewardModelStatus {
  /** none: no folder set; loading: being checked and loaded (completions go on without it); failed: see problem. */
  state: 'none' | 'loading' | 'ready' | 'failed';
  path: string;
  name?: string;
  /** What a ranker version trained with it records. */
  id?: string;
  device?: Device;
  deviceReason?: string;
  precision?: 'fp32' | 'fp16';
  maxTokens: number;
  modelMB?: number;
  /** Scoring time of the last completions (up to 100), ms. */
  p50Ms?: number;
  p90Ms?: number;
  /** Completions it scored within the latency budget, and after it (those scores are stored for training only). */
  inTime: number;
  late: number;
  /** Runs that failed. */
  errors: number;
  /** Completions that went without a score because earlier runs still occupied the model. */
  skipped: number;
  /** Runs in its thread now (running or waiting). */
  running: number;
  problem?: string;
}

/**
 * winnow.training.* as the engine uses them (machine-scoped settings: they act on the store and
 * the rankers every window shares).
 */
export interface TrainingSettings {
  /** Train in the background when enough new triplets exist and the editor is idle. */
  auto: boolean;
  /** New triplets since the last training that start a background one. */
  minNewTriplets: number;
  /** Held-out pairs a new version needs before it may be promoted. */
  minPairs: number;
  /** Points of held-out pairwise accuracy (0-100 scale) by which a new version must beat the active one. */
  promotionMargin: number;
  /** Ranker versions kept on disk (the active one and its parent are never pruned). */
  keepVersions: number;
  /** Hard-negative rounds after the first training (RewardRanker); 0: none. */
  rounds: number;
}

export const DEFAULT_TRAINING: TrainingSettings = { auto: true, minNewTriplets: 200, minPairs: 50, promotionMargin: 1, keepVersions: 10, rounds: 2 };

/** Part of a project test file, as sent with a completion request. */
export interface RelatedTestFile {
  /** Absolute path, for the log and for the stored outcome's source. */
  path: string;
  languageId: string;
  /** The text (possibly only the relevant lines), at most {@link MAX_RELATED_TEST_CHARS}. */
  text: string;
}

/** Cap on the text of one related test file, and on how many files one request carries. */
export const MAX_RELATED_TEST_CHARS = 64 * 1024;
export const MAX_RELATED_TEST_FILES = 4;

export interface DatasetSettings {
  /** false: store nothing of this request (winnow.dataset.enabled). */
  enabled: boolean;
  /** Cap on the store's live data, in MB (winnow.dataset.maxSizeMB). */
  maxSizeMB: number;
}

export interface Candidate {
  /** Stable id: `${requestId}:${index}`. */
  id: string;
  text: string;
  /** Ranker score; higher is better. */
  score: number;
  /** 0-based position in the ranked list. */
  rank: number;
  /** Mean token log-probability when the generator gave one. */
  meanLogprob?: number;
  /** How many raw samples collapsed into this candidate after post-processing. */
  votes: number;
  /**
   * Outcome of running it against the docstring and project tests, when it ran in time;
   * `agreement`: its CodeT agreement over model-written tests, in [0, 1], when there were any.
   */
  tests?: { passed: number; total: number; error?: 'syntax' | 'timeout' | 'exception'; agreement?: number };
}

export interface GeneratorProblem {
  /** `unreachable`: connection refused / DNS / timeout; `http`: server answered with an error; `config`: settings are wrong; `no_match`: recorded pool has no entry for this prompt. */
  code: 'unreachable' | 'http' | 'config' | 'no_match' | 'timeout';
  message: string;
}

export interface CompleteReply {
  /** Engine-assigned id of this completion request; events refer to it. */
  requestId: string;
  /** Ranked, best first. */
  candidates: Candidate[];
  rankerVersion: string;
  device: Device;
  /** `rankMs`: from the samples to the reply: post-processing, execution when asked for, featurizing and scoring. */
  timings: { generateMs: number; rankMs: number; totalMs: number; executeMs?: number };
  /** Raw samples received from the generator before post-processing. */
  sampled: number;
  /** Candidates asked of the generator (latency-aware N), and why that many. */
  nUsed?: number;
  nReason?: string;
  problem?: GeneratorProblem;
  /** Set while the store cannot be written (for example a full disk). */
  storeProblem?: string;
  /** What execution did for this request, when it was asked for. */
  execution?: ExecutionSummary;
}

export interface ExecutionSummary {
  /** Tests run against every candidate (docstring examples, project tests, model-written tests). */
  tests: number;
  /** Where the tests came from. */
  bySource?: { docstring: number; project: number; synthesized: number };
  /** Candidates run to the end within the latency budget. */
  ran: number;
  /** Candidates that passed every docstring and project test (model-written tests aside). */
  passedAll: number;
  /** With model-written tests: the size of the largest group of candidates that pass the same (non-empty) set of them. */
  largestAgreement?: number;
  /** Runs still going when the reply left; their outcomes are stored when they finish. */
  background: number;
  /** Why nothing ran, when nothing did (no tests found, language not supported, ...). */
  skipped?: string;
  /** The containment the sandbox applied (see docs/sandbox.md). */
  containment?: string[];
}

/**
 * What happened to a suggestion (see docs/feedback-events.md for how each is detected):
 * - `shown`: VS Code displayed it.
 * - `accepted`: accepted whole (Tab).
 * - `partially_accepted`: part of it accepted (word or line acceptance, or typed through);
 *   data: {@link PartialAcceptData}.
 * - `rejected`: not accepted; data: {@link RejectedData}.
 * - `survival`: a check, some time after an acceptance, of how much of the accepted text is
 *   still there; data: {@link SurvivalData}.
 * - `test_outcome`: the developer's own test run ("Winnow: Run Tests", or a task in VS Code's
 *   test group) finished after the candidate was accepted; data: {@link TestOutcomeData}. The
 *   engine also records it as a test outcome (source `developer_tests`, 1 of 1 or 0 of 1).
 */
export type EventKind = 'shown' | 'accepted' | 'partially_accepted' | 'rejected' | 'survival' | 'test_outcome';
export const EVENT_KINDS: readonly EventKind[] = ['shown', 'accepted', 'partially_accepted', 'rejected', 'survival', 'test_outcome'];

export interface TestOutcomeData {
  passed: boolean;
  exitCode: number | null;
  /** What ran: the command of winnow.tests.command, or the task's name. */
  command: string;
  source: 'winnow.runTests' | 'task';
}

export type RejectReason = 'dismissed' | 'typed_over' | 'cursor_moved' | 'timeout';
export interface RejectedData {
  reason: RejectReason;
}
export interface PartialAcceptData {
  /** Characters of the suggestion accepted so far. */
  acceptedChars: number;
  totalChars: number;
  how: 'word' | 'line' | 'typed';
}
export interface SurvivalData {
  /** Time since the acceptance when this was measured. */
  afterMs: number;
  /** 1 − (edit distance between the accepted text and what is there now) / (accepted length); 0..1. */
  fraction: number;
}

export interface FeedbackEvent {
  kind: EventKind;
  requestId: string;
  candidateId: string;
  rank?: number;
  /** Ranker version that ranked the candidate. */
  rankerVersion?: string;
  /** End-to-end latency of the completion the candidate came from, in ms (as the server saw it). */
  latencyMs?: number;
  /** Milliseconds since the epoch, at the client. */
  time: number;
  /** Details per kind: {@link RejectedData}, {@link PartialAcceptData}, {@link SurvivalData}. */
  data?: Record<string, unknown>;
}

export interface EventReply {
  /** Events committed to the store. */
  stored: number;
  /** Events the engine holds in memory because the store cannot be written (full disk); not crash-safe. */
  held?: number;
  /** Events the store refused one by one (the engine's log says why); the others of the message are stored. */
  rejected?: number;
}

export type Device = 'cuda' | 'cpu';

// ---------------------------------------------------------------------------------------
// Training and ranker versions (see engine/src/training/ and engine/src/ranker/registry.ts).

export type TrainTrigger = 'manual' | 'background' | 'cli';
export type TrainPhase = 'loading' | 'training' | 'mining' | 'evaluating' | 'saving';

/** A training in progress, readable while it runs (`trainStatus`). */
export interface TrainProgress {
  jobId: string;
  trigger: TrainTrigger;
  startedAt: number;
  phase: TrainPhase;
  /** 0 = the first training; 1..rounds = hard-negative rounds. */
  round: number;
  rounds: number;
  epoch: number;
  maxEpochs: number;
  /** Pairs in this round's training split, and the held-out pairs (the same in every round). */
  trainPairs: number;
  heldOutPairs: number;
  /** Pairwise accuracy (0..1) of the best epoch so far in this round, on the early-stopping pairs (a slice of the training prompts; the gate's held-out pairs are measured at the end). */
  heldOutAccuracy?: number;
  /** The rounds finished so far, with their held-out pairwise accuracy. */
  completedRounds?: RoundMetrics[];
}

/** What one round of training gave (a version keeps each round's figures). */
export interface RoundMetrics {
  round: number;
  trainPairs: number;
  /** Hard-negative pairs mined for this round (0 in round 0). */
  hardNegatives: number;
  epochs: number;
  bestEpoch: number;
  trainLoss: number;
  heldOutAccuracy: number;
}

/** The end of a training: what it used, what it measured, what was decided. */
export interface TrainSummary {
  jobId: string;
  trigger: TrainTrigger;
  outcome: 'promoted' | 'kept' | 'skipped' | 'cancelled' | 'failed';
  /** The new version, when one was written (promoted or kept). */
  version?: string;
  /** Why: the promotion gate's verdict, why nothing was trained, or the error. */
  reason: string;
  featureSet: string;
  /** Triplets used, by source and split. */
  triplets: Record<string, { train: number; validation: number }>;
  heldOut?: { pairs: number; accuracy: number; activeVersion: string; activeAccuracy: number };
  rounds: RoundMetrics[];
  startedAt: number;
  finishedAt: number;
  trainMs: number;
}

export interface TrainRequest {
  trigger?: TrainTrigger;
  /** Hard-negative rounds; default the settings' `rounds`. */
  rounds?: number;
  seed?: number;
  /** Settings for this training (gate, pruning); default the engine's latest. */
  settings?: TrainingSettings;
}
export interface TrainReply {
  jobId: string;
  /** false: a training was already running (its jobId is returned). */
  started: boolean;
}

export interface TrainStatusReply {
  running?: TrainProgress;
  /** The last training that ended since the engine started (or read back from the data folder). */
  last?: TrainSummary;
  /** When the active ranker last changed, to what, and why. */
  lastChange?: { time: number; version: string; reason: string };
}

/** One ranker version as the registry keeps it (`rankers`). */
export interface RankerVersionInfo {
  version: string;
  active: boolean;
  builtin: boolean;
  parent?: string;
  featureSet: string;
  family: string;
  hyper?: Record<string, number | string>;
  createdAt: number;
  triplets?: Record<string, { train: number; validation: number }>;
  heldOut?: { pairs: number; accuracy: number; activeVersion: string; activeAccuracy: number };
  rounds?: RoundMetrics[];
  decision?: { promoted: boolean; reason: string };
  /** The id of the reward model a version was trained with (engine/src/reward/folder.ts); absent: none. It serves only with that reward model. */
  rewardModel?: string;
}
export interface RankersReply {
  active: string;
  versions: RankerVersionInfo[];
}

export interface ActivateRequest {
  version: string;
}
export interface ActivateReply {
  active: string;
  previous: string;
}

export interface StatusRequest {
  /** When given, also probe this generator's reachability. */
  generator?: GeneratorConfig;
  /** false: do not probe any generator (the dashboard asks every few seconds); default true. */
  probe?: boolean;
  /** The user's reward model settings, as with `complete`: a window tells the engine of a change at once. */
  rewardModel?: RewardModelSettings;
}

export interface StatusReply {
  pid: number;
  protocolVersion: number;
  engineVersion: string;
  dataDir: string;
  endpoint: string;
  device: Device;
  /** Why this device was chosen (for example "CUDA provider not installed"). */
  deviceReason: string;
  rankerVersion: string;
  uptimeMs: number;
  requestsServed: number;
  /** process.memoryUsage() of the engine, in MiB. */
  memory: { rssMiB: number; heapUsedMiB: number; externalMiB: number };
  store: {
    file: string;
    requests: number;
    events: number;
    liveMB: number;
    maxSizeMB: number;
    held: number;
    problem?: string;
    /** Once, in the first status reply after start-up: the store was corrupt and was moved aside. */
    recovered?: string;
  };
  generator?: { backend: GeneratorBackend; url?: string; reachable: boolean; problem?: GeneratorProblem };
  /** Training: whether one runs now, and when the active ranker last changed and why. */
  training?: { running: boolean; lastChange?: { time: number; version: string; reason: string } };
  rewardModel?: RewardModelStatus;
  /** Set when the active ranker version cannot serve with the reward model in use (then the built-in one serves). */
  rankerNote?: string;
  /** What the engine learned of the generator's speed (latency-aware N), for the generator of the last completion. */
  sampling?: SamplingStatus;
}

export interface EventsRequest {
  limit?: number;
  requestId?: string;
}

export interface StoredEvent {
  id: number;
  time: number;
  kind: EventKind;
  requestId: string;
  candidateId: string;
  rank: number | null;
  rankerVersion: string | null;
  latencyMs: number | null;
  data: Record<string, unknown> | null;
}

export interface EventsReply {
  events: StoredEvent[];
}

export interface ShutdownReply {
  stopping: true;
}

/** One training triplet with its texts: the chosen/rejected layout reward-model trainers read. */
export interface TripletRecord {
  /** Text before the cursor. */
  prompt: string;
  /** Text after the cursor. */
  suffix: string;
  chosen: string;
  rejected: string;
  source: string;
  pairing: string;
  weight: number;
  split: string;
  language: string;
  file_path: string;
  request_id: string;
  chosen_id: string;
  rejected_id: string;
  prompt_hash: string;
}

export interface TripletStats {
  requests: number;
  events: number;
  triplets: number;
  bySource: Record<string, number>;
  train: number;
  validation: number;
  skipped: Record<string, number>;
  buildMs: number;
}

export interface TripletsRequest {
  /** Most triplets to return (the build covers everything); default 100. */
  limit?: number;
}
export interface TripletsReply {
  stats: TripletStats;
  triplets: TripletRecord[];
}

export interface ExportRequest {
  /** Absolute path of the JSONL file to write (replaced atomically). */
  out: string;
}
export interface ExportReply {
  path: string;
  count: number;
  stats: TripletStats;
}

export interface PurgeRequest {
  /** Must be true: purging deletes everything the store holds. */
  confirm: boolean;
}
export interface PurgeReply {
  requests: number;
  events: number;
}

/**
 * `insights`: the aggregates the dashboard shows, computed by indexed queries off the serving
 * loop (engine/src/insights/). Totals are all-time (they match `winnow status`); series cover
 * [since, until) in buckets of `bucketMs`.
 */
export interface InsightsRequest {
  /** Start of the history, ms since the epoch; default 30 days before now. */
  since?: number;
  /** Width of one bucket, ms; default: a day, or an hour when the history is shorter than 3 days. */
  bucketMs?: number;
  /** How many of the latest completions to return timings of; default 500, at most 5,000. */
  latest?: number;
}

/** Timings of one completion, as the engine measured them (the hop is measured by the server). */
export interface CompletionTiming {
  requestId: string;
  time: number;
  totalMs: number;
  generateMs: number;
  /** Running candidates against tests (0 when execution was off). */
  executeMs: number;
  /** Post-processing, reward model, featurizing and the ranker. */
  scoreMs: number;
  /** Candidates asked of the generator (latency-aware N), and what the window asked for. */
  n: number;
  nAsked: number;
  /** How the request was made: `auto` (while typing), `manual` (Trigger Inline Suggestion). */
  trigger: 'auto' | 'manual';
}

export interface InsightsReply {
  since: number;
  until: number;
  bucketMs: number;
  /** Start of each bucket, ms since the epoch. */
  buckets: number[];
  /**
   * All-time counts. `tripletsBuiltAt`: when the stored triplets were last built (by `triplets`,
   * `export`, and while a dashboard asks, when feedback arrived: at most every 10 s, or 20 times the last build's time).
   */
  totals: { completions: number; events: Partial<Record<EventKind, number>>; triplets: Record<string, number>; tripletsBuiltAt?: number };
  /** Per bucket: completions, events by kind, triplets by source (by their completion's time). */
  growth: { completions: number[]; events: Partial<Record<EventKind, number[]>>; triplets: Record<string, number[]> };
  acceptance: {
    /** Per bucket: suggestions shown, accepted whole, partially accepted. */
    shown: number[];
    accepted: number[];
    partial: number[];
    byLanguage: { languageId: string; shown: number; accepted: number; partial: number }[];
    /**
     * By the rank of the candidate: `shown` counts what was displayed at that rank, `accepted`
     * what was kept (whole or part) at that rank. Rank 0 is the ranker's first pick; a higher
     * rank was reached by cycling through the suggestions.
     */
    byRank: { rank: number; shown: number; accepted: number }[];
  };
  /** The latest completions, newest first. */
  latency: CompletionTiming[];
  /** Completions whose candidates were run against tests, in the window. */
  execution: { requests: number; candidatesRan: number; candidatesPassed: number; changedPick: number };
  /** Time the queries took, ms. */
  queryMs: number;
}

/** `probe`: the walkthrough's connection test: reach the server, list its models, ask for one short sample. */
export interface ProbeRequest {
  generator: GeneratorConfig;
  /** Total time allowed, ms; default 10,000. */
  timeoutMs?: number;
}
export interface ProbeReply {
  ok: boolean;
  backend: GeneratorBackend;
  url?: string;
  /** Models the server lists (/v1/models, /api/tags; the recorded pool's task count for recorded). */
  models: string[];
  /** The model a completion will use: winnow.generator.model, else the only or first one listed. */
  model?: string;
  /** The test sample: its time and its first characters. */
  sampleMs?: number;
  sample?: string;
  problem?: GeneratorProblem;
}

/** What the engine learned of a generator's speed (latency-aware N), per generator. */
export interface SamplingStatus {
  backend: GeneratorBackend;
  url?: string;
  /** Fixed time per request, and the time each extra candidate adds, ms (fitted on the last requests). */
  overheadMs: number;
  perSampleMs: number;
  /** Requests the fit is based on. */
  observations: number;
  /** N used by the last completion, and what was asked for. */
  lastN?: number;
  lastNAsked?: number;
}

/** Request type → [request body, reply body]. */
export interface RequestMap {
  ping: [Record<string, never>, { pong: true; pid: number; protocolVersion: number }];
  complete: [CompleteRequest, CompleteReply];
  event: [{ events: FeedbackEvent[] }, EventReply];
  status: [StatusRequest, StatusReply];
  events: [EventsRequest, EventsReply];
  shutdown: [Record<string, never>, ShutdownReply];
  triplets: [TripletsRequest, TripletsReply];
  export: [ExportRequest, ExportReply];
  purge: [PurgeRequest, PurgeReply];
  /** Stop working on request `id` (a `complete` this client sent): generation and test runs are aborted. Its reply may still come; clients drop it. */
  cancel: [{ id: string }, { cancelled: boolean }];
  /** Start a training (one at a time per data folder); its progress is read with `trainStatus`. */
  train: [TrainRequest, TrainReply];
  trainStatus: [Record<string, never>, TrainStatusReply];
  /** Stop the running training: the worker is killed and nothing changes. */
  trainCancel: [Record<string, never>, { cancelled: boolean }];
  rankers: [Record<string, never>, RankersReply];
  /** Load and validate the version, switch to it (hot), then record it as active. */
  activate: [ActivateRequest, ActivateReply];
  /** The dashboard's aggregates (indexed queries in a worker thread, with a time limit). */
  insights: [InsightsRequest, InsightsReply];
  /** Try a generator: reachability, its models, one short sample (the walkthrough's connection test). */
  probe: [ProbeRequest, ProbeReply];
}

export type RequestType = keyof RequestMap;
export const REQUEST_TYPES: readonly RequestType[] = ['ping', 'complete', 'event', 'status', 'events', 'shutdown', 'triplets', 'export', 'purge', 'cancel', 'train', 'trainStatus', 'trainCancel', 'rankers', 'activate', 'insights', 'probe'];

export type ErrorCode = 'bad_request' | 'internal' | 'unsupported_version' | 'shutting_down';

export interface ErrorBody {
  code: ErrorCode;
  message: string;
}

export class ProtocolError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}

// ---------------------------------------------------------------------------------------
// Codec. Frames are Buffers (what zeromq.js gives and takes).

export function encodeRequest<T extends RequestType>(type: T, id: string, body: RequestMap[T][0]): Buffer[] {
  return [Buffer.from(PROTOCOL_TAG), Buffer.from(type), Buffer.from(id), Buffer.from(JSON.stringify(body))];
}

export function encodeReply(id: string, body: unknown): Buffer[] {
  return [Buffer.from(PROTOCOL_TAG), Buffer.from('reply'), Buffer.from(id), Buffer.from(JSON.stringify(body))];
}

export function encodeError(id: string, error: ErrorBody): Buffer[] {
  return [Buffer.from(PROTOCOL_TAG), Buffer.from('error'), Buffer.from(id), Buffer.from(JSON.stringify(error))];
}

export interface DecodedRequest {
  type: RequestType;
  id: string;
  body: unknown;
}

/** Result of decoding: either a request, or an error with the id when it could be read. */
export type DecodeResult = { ok: true; value: DecodedRequest } | { ok: false; id?: string; error: ErrorBody };

/** Decodes the frames a ROUTER receives after the identity frame. Never throws. */
export function decodeRequest(frames: readonly Buffer[]): DecodeResult {
  if (frames.length !== 4) {
    return { ok: false, error: { code: 'bad_request', message: `expected 4 frames, got ${frames.length}` } };
  }
  const [tag, type, id, body] = frames as [Buffer, Buffer, Buffer, Buffer];
  const idText = id.length > 0 && id.length <= 128 ? id.toString('utf8') : undefined;
  const tagText = tag.toString('utf8');
  if (tagText !== PROTOCOL_TAG) {
    const code: ErrorCode = tagText.startsWith('winnow/') ? 'unsupported_version' : 'bad_request';
    return { ok: false, id: idText, error: { code, message: `expected protocol ${PROTOCOL_TAG}, got ${JSON.stringify(tagText.slice(0, 32))}` } };
  }
  if (idText === undefined) return { ok: false, error: { code: 'bad_request', message: 'missing or oversized request id' } };
  const typeText = type.toString('utf8');
  if (!(REQUEST_TYPES as readonly string[]).includes(typeText)) {
    return { ok: false, id: idText, error: { code: 'bad_request', message: `unknown request type ${JSON.stringify(typeText.slice(0, 32))}` } };
  }
  if (body.length > MAX_BODY_BYTES) {
    return { ok: false, id: idText, error: { code: 'bad_request', message: `body of ${body.length} bytes exceeds ${MAX_BODY_BYTES}` } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    return { ok: false, id: idText, error: { code: 'bad_request', message: `body is not JSON: ${(e as Error).message}` } };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { ok: false, id: idText, error: { code: 'bad_request', message: 'body must be a JSON object' } };
  }
  return { ok: true, value: { type: typeText as RequestType, id: idText, body: parsed } };
}

export type DecodedReply = { id: string; ok: true; body: unknown } | { id: string; ok: false; error: ErrorBody };

/** Decodes the frames a DEALER receives. Returns undefined for frames that are not a reply. */
export function decodeReply(frames: readonly Buffer[]): DecodedReply | undefined {
  if (frames.length !== 4) return undefined;
  const [tag, kind, id, body] = frames as [Buffer, Buffer, Buffer, Buffer];
  if (tag.toString('utf8') !== PROTOCOL_TAG) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
  const k = kind.toString('utf8');
  if (k === 'reply') return { id: id.toString('utf8'), ok: true, body: parsed };
  if (k === 'error') {
    const e = parsed as Partial<ErrorBody>;
    return { id: id.toString('utf8'), ok: false, error: { code: (e.code ?? 'internal') as ErrorCode, message: String(e.message ?? 'unknown error') } };
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------
// Validation of request bodies at the boundary (engine side). Returns a message on failure.

function isStr(v: unknown): v is string {
  return typeof v === 'string';
}

export function validateGenerator(g: unknown): string | undefined {
  if (typeof g !== 'object' || g === null) return 'generator must be an object';
  const o = g as Record<string, unknown>;
  if (!['openai', 'ollama', 'recorded'].includes(o.backend as string)) return `generator.backend must be openai, ollama or recorded, got ${JSON.stringify(o.backend)}`;
  for (const k of ['url', 'model', 'recordedPool'] as const) {
    if (o[k] !== undefined && !isStr(o[k])) return `generator.${k} must be a string`;
  }
  for (const k of ['temperature', 'maxTokens', 'seed'] as const) {
    if (o[k] !== undefined && (typeof o[k] !== 'number' || !Number.isFinite(o[k]))) return `generator.${k} must be a number`;
  }
  return undefined;
}

export function validateComplete(b: unknown): string | undefined {
  const o = b as Record<string, unknown>;
  if (!isStr(o.prefix) || !isStr(o.suffix)) return 'prefix and suffix must be strings';
  if (!isStr(o.languageId) || !isStr(o.filePath)) return 'languageId and filePath must be strings';
  if (typeof o.n !== 'number' || !Number.isInteger(o.n) || o.n < 1 || o.n > 128) return 'n must be an integer from 1 to 128';
  if (typeof o.budgetMs !== 'number' || !(o.budgetMs > 0) || o.budgetMs > 600_000) return 'budgetMs must be a positive number of milliseconds';
  if (o.dataset !== undefined) {
    const d = o.dataset as Record<string, unknown>;
    if (typeof d !== 'object' || d === null || typeof d.enabled !== 'boolean' || typeof d.maxSizeMB !== 'number' || !(d.maxSizeMB > 0)) {
      return 'dataset must be { enabled: boolean, maxSizeMB: positive number }';
    }
  }
  if (o.synthesizeTests !== undefined && (typeof o.synthesizeTests !== 'number' || !Number.isInteger(o.synthesizeTests) || o.synthesizeTests < 0 || o.synthesizeTests > 20)) {
    return 'synthesizeTests must be an integer from 0 to 20';
  }
  if (o.relatedTests !== undefined) {
    if (!Array.isArray(o.relatedTests) || o.relatedTests.length > MAX_RELATED_TEST_FILES) return `relatedTests must be an array of at most ${MAX_RELATED_TEST_FILES} files`;
    for (const [i, f] of o.relatedTests.entries()) {
      const r = f as Record<string, unknown>;
      if (typeof r !== 'object' || r === null || !isStr(r.path) || !isStr(r.languageId) || !isStr(r.text)) return `relatedTests[${i}] must be { path, languageId, text } strings`;
      if (r.text.length > MAX_RELATED_TEST_CHARS) return `relatedTests[${i}].text is longer than ${MAX_RELATED_TEST_CHARS} characters`;
    }
  }
  if (o.training !== undefined) {
    const problem = validateTrainingSettings(o.training);
    if (problem) return problem;
  }
  if (o.rewardModel !== undefined) {
    const problem = validateRewardModelSettings(o.rewardModel);
    if (problem) return problem;
  }
  return validateGenerator(o.generator);
}

export function validateRewardModelSettings(v: unknown): string | undefined {
  const r = v as Record<string, unknown>;
  if (typeof r !== 'object' || r === null || !isStr(r.path) || r.path.length > 4096) return 'rewardModel.path must be a string (a folder, or empty for none)';
  if (typeof r.maxTokens !== 'number' || !Number.isInteger(r.maxTokens) || r.maxTokens < 16 || r.maxTokens > 32768) return 'rewardModel.maxTokens must be an integer from 16 to 32768';
  return undefined;
}

export function validateTrainingSettings(t: unknown): string | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'training must be an object';
  const o = t as Record<string, unknown>;
  if (typeof o.auto !== 'boolean') return 'training.auto must be a boolean';
  const ranges: [keyof TrainingSettings, number, number][] = [
    ['minNewTriplets', 1, 10_000_000],
    ['minPairs', 0, 10_000_000],
    ['promotionMargin', -100, 100],
    ['keepVersions', 2, 1000],
    ['rounds', 0, 10],
  ];
  for (const [k, min, max] of ranges) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) return `training.${k} must be a number from ${min} to ${max}`;
  }
  return undefined;
}

/** Bounds on an event's free-form `data`: what the store and every reader can take. */
export const EVENT_DATA_LIMITS = { depth: 16, values: 10_000, chars: 65_536 } as const;
const MAX_ID_CHARS = 256;

/**
 * Why an event's `data` is out of bounds (nested too deep, too many values, too much text);
 * undefined when it is fine. Iterative: a hostile depth cannot overflow the stack here.
 */
export function eventDataProblem(data: unknown): string | undefined {
  const stack: { v: unknown; depth: number }[] = [{ v: data, depth: 0 }];
  let values = 0;
  let chars = 0;
  while (stack.length > 0) {
    const { v, depth } = stack.pop() as { v: unknown; depth: number };
    if (++values > EVENT_DATA_LIMITS.values) return `has more than ${EVENT_DATA_LIMITS.values} values`;
    if (typeof v === 'string') chars += v.length;
    else if (typeof v === 'number' && !Number.isFinite(v)) return 'has a number that is not finite';
    else if (typeof v === 'object' && v !== null) {
      if (depth >= EVENT_DATA_LIMITS.depth) return `is nested deeper than ${EVENT_DATA_LIMITS.depth} levels`;
      for (const [k, x] of Object.entries(v)) {
        chars += k.length;
        stack.push({ v: x, depth: depth + 1 });
      }
    }
    if (chars > EVENT_DATA_LIMITS.chars) return `is larger than ${EVENT_DATA_LIMITS.chars} characters`;
  }
  return undefined;
}

export function validateEvents(b: unknown): string | undefined {
  const o = b as Record<string, unknown>;
  if (!Array.isArray(o.events)) return 'events must be an array';
  if (o.events.length > 10_000) return 'at most 10000 events per message';
  for (const [i, e] of o.events.entries()) {
    const ev = e as Record<string, unknown>;
    if (typeof ev !== 'object' || ev === null) return `events[${i}] must be an object`;
    if (!EVENT_KINDS.includes(ev.kind as EventKind)) return `events[${i}].kind must be one of ${EVENT_KINDS.join(', ')}`;
    if (!isStr(ev.requestId) || !isStr(ev.candidateId)) return `events[${i}] needs requestId and candidateId strings`;
    if (ev.requestId.length > MAX_ID_CHARS || ev.candidateId.length > MAX_ID_CHARS || (isStr(ev.rankerVersion) && ev.rankerVersion.length > MAX_ID_CHARS)) return `events[${i}] ids must be at most ${MAX_ID_CHARS} characters`;
    if (typeof ev.time !== 'number' || !Number.isFinite(ev.time)) return `events[${i}].time must be a finite number`;
    if (ev.rank !== undefined && typeof ev.rank !== 'number') return `events[${i}].rank must be a number`;
    if (ev.rankerVersion !== undefined && !isStr(ev.rankerVersion)) return `events[${i}].rankerVersion must be a string`;
    if (ev.latencyMs !== undefined && typeof ev.latencyMs !== 'number') return `events[${i}].latencyMs must be a number`;
    if (ev.data !== undefined && (typeof ev.data !== 'object' || ev.data === null || Array.isArray(ev.data))) return `events[${i}].data must be an object`;
    if (ev.data !== undefined) {
      const problem = eventDataProblem(ev.data);
      if (problem) return `events[${i}].data ${problem}`;
    }
  }
  return undefined;
}
