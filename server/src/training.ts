/**
 * Where the engine's training replies (engine/src/protocol.ts) become the `winnow/*` LSP
 * results (./protocol.ts): only what the editor shows crosses. Pure.
 */
import type {
  RankerVersionInfo,
  RankersReply,
  RoundMetrics,
  TrainProgress as EngineTrainProgress,
  TrainStatusReply,
  TrainSummary as EngineTrainSummary,
  TrainingSettings as EngineTrainingSettings,
} from '../../engine/src/protocol';
import type { RankerInfo, RankersResult, TrainProgress, TrainRound, TrainStatusResult, TrainSummary, TrainingSettings } from './protocol';

export function trainStatusFrom(r: TrainStatusReply): TrainStatusResult {
  return {
    ...(r.running ? { running: progressFrom(r.running) } : {}),
    ...(r.last ? { last: summaryFrom(r.last) } : {}),
    ...(r.lastChange ? { lastChange: { time: r.lastChange.time, version: r.lastChange.version, reason: r.lastChange.reason } } : {}),
  };
}

function progressFrom(p: EngineTrainProgress): TrainProgress {
  return {
    jobId: p.jobId,
    trigger: p.trigger,
    startedAt: p.startedAt,
    phase: p.phase,
    round: p.round,
    rounds: p.rounds,
    epoch: p.epoch,
    maxEpochs: p.maxEpochs,
    trainPairs: p.trainPairs,
    heldOutPairs: p.heldOutPairs,
    ...(p.heldOutAccuracy !== undefined ? { heldOutAccuracy: p.heldOutAccuracy } : {}),
    ...(p.completedRounds ? { completedRounds: p.completedRounds.map(roundFrom) } : {}),
  };
}

function roundFrom(m: RoundMetrics): TrainRound {
  return { round: m.round, trainPairs: m.trainPairs, hardNegatives: m.hardNegatives, epochs: m.epochs, bestEpoch: m.bestEpoch, heldOutAccuracy: m.heldOutAccuracy };
}

function summaryFrom(s: EngineTrainSummary): TrainSummary {
  return {
    jobId: s.jobId,
    trigger: s.trigger,
    outcome: s.outcome,
    ...(s.version !== undefined ? { version: s.version } : {}),
    reason: s.reason,
    triplets: s.triplets ?? {},
    ...(s.heldOut ? { heldOut: { ...s.heldOut } } : {}),
    rounds: (s.rounds ?? []).map(roundFrom),
    startedAt: s.startedAt,
    finishedAt: s.finishedAt,
    trainMs: s.trainMs,
  };
}

export function rankersFrom(r: RankersReply): RankersResult {
  return { active: r.active, versions: r.versions.map(rankerFrom) };
}

function rankerFrom(v: RankerVersionInfo): RankerInfo {
  return {
    version: v.version,
    active: v.active,
    builtin: v.builtin,
    ...(v.parent !== undefined ? { parent: v.parent } : {}),
    featureSet: v.featureSet,
    family: v.family,
    createdAt: v.createdAt,
    ...(v.triplets ? { triplets: v.triplets } : {}),
    ...(v.heldOut ? { heldOut: { ...v.heldOut } } : {}),
    ...(v.decision ? { decision: { promoted: v.decision.promoted, reason: v.decision.reason } } : {}),
  };
}

/** The settings as the engine takes them (the same fields; the compiler checks they stay so). */
export function engineTrainingSettings(t: TrainingSettings): EngineTrainingSettings {
  return { auto: t.auto, minNewTriplets: t.minNewTriplets, minPairs: t.minPairs, promotionMargin: t.promotionMargin, keepVersions: t.keepVersions, rounds: t.rounds };
}

/**
 * What the user is told when a request relayed to the engine fails: the engine is down or
 * starting (with what the server knows of why), did not answer, or refused the request.
 */
export function engineFailureText(
  what: string,
  err: { name?: string; message: string; code?: string },
  state: 'starting' | 'ready' | 'restarting' | 'down',
  detail?: string,
): string {
  if (err.name === 'NotReadyError') {
    if (state === 'down') {
      const why = detail?.trim().replace(/[.\s]+$/, '');
      return `Winnow could not ${what}: the engine is not running${why ? ` (${why})` : ''}. Run "Winnow: Restart Engine", or see "Winnow: Show Logs".`;
    }
    return `Winnow could not ${what}: the engine is ${state}; try again in a moment.`;
  }
  if (err.name === 'TimeoutError') return `Winnow could not ${what}: the engine did not answer in time (${err.message}).`;
  if (err.name === 'ClosedError') return `Winnow could not ${what}: the connection to the engine closed.`;
  if (err.code === 'bad_request' && /unknown request type/.test(err.message)) {
    return `Winnow could not ${what}: the running engine is older than this extension (${err.message}). Run "Winnow: Restart Engine".`;
  }
  return `Winnow could not ${what}: ${err.message.replace(/[.\s]+$/, '')}.`;
}
