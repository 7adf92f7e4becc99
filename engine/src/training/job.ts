/**
 * One training of the ranker on a data folder's store, as the worker process runs it:
 *
 *   load (read-only) → triplets → pairs of the current feature set → train (round 0)
 *   → k hard-negative rounds: rescore every stored candidate with the new model, rebuild the
 *     triplets with those scores (rejected or failing candidates it ranks above accepted or
 *     passing ones become `hard_negative` pairs, RewardRanker), retrain
 *   → evaluate the result and the active ranker, both through onnxruntime on the same held-out
 *     pairs → the promotion gate's verdict.
 *
 * Nothing here writes to the data folder: the caller (training/supervisor.ts) saves the
 * version and activates it, so that a cancelled or killed training changes nothing.
 *
 * Splits: the triplet builder assigns each prompt to `train` or `validation` by its hash. The
 * validation pairs are the held-out set of the gate, the same in every round and for both
 * models, and are never used to fit anything. Early stopping uses a further slice of the
 * training prompts (by hash), so that the gate's figure is not the one training selected on.
 */
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';
import type { LogFn } from '../log';
import type { RoundMetrics, TrainingSettings, TrainProgress, TrainSummary, TrainTrigger } from '../protocol';
import { buildRankerModel, INPUT_NAME, OUTPUT_NAME, readModelMetadata, type RankerSpec } from '../ranker/onnx';
import { Store } from '../store';
import { buildTriplets, splitOf, type Triplet } from '../triplets';
import { candidateRows, countBySource, featuresById, pairData, usablePairs, type CandidateFeatures } from './data';
import { DEFAULT_HYPER, pairwiseAccuracy, scoreRows, toRankerSpec, trainPairs, type TrainHyper, type TrainResult } from './model';

export interface TrainJobInput {
  jobId: string;
  trigger: TrainTrigger;
  dbFile: string;
  featureSet: string;
  featureNames: readonly string[];
  rounds: number;
  seed: number;
  settings: TrainingSettings;
  hyper?: Partial<TrainHyper>;
  active: { version: string; file: string };
  /** Background trainings: triplets at the last training; fewer than settings.minNewTriplets new ones and nothing is trained. */
  previousTripletTotal?: number;
  /** The id of the reward model the engine scores with (engine/src/reward/folder.ts); absent: none. The version records it. */
  rewardModel?: string;
}

export interface TrainJobResult {
  summary: TrainSummary;
  /** The trained model (without its final version name), when one was trained. */
  spec?: RankerSpec;
  promote: boolean;
  /** Triplets the build gave, to compare against at the next background training. */
  tripletTotal: number;
  hyper: TrainHyper;
}

/** Share of training prompts kept aside for early stopping. */
const EARLY_STOP_FRACTION = 0.15;
/** Fewer early-stopping pairs than this and every epoch runs (no early stopping). */
const MIN_EARLY_STOP_PAIRS = 20;

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' };

/** Scores rows with an ONNX model in batches, as the engine does. */
async function onnxScores(bytes: Uint8Array, rows: Float32Array, n: number, dim: number): Promise<Float32Array> {
  const session = await ort.InferenceSession.create(bytes, SESSION_OPTIONS);
  try {
    const out = new Float32Array(n);
    const batch = 4096;
    for (let s = 0; s < n; s += batch) {
      const e = Math.min(n, s + batch);
      const t = new ort.Tensor('float32', rows.slice(s * dim, e * dim), [e - s, dim]);
      const r = await session.run({ [INPUT_NAME]: t });
      const d = r[OUTPUT_NAME]?.data;
      if (!(d instanceof Float32Array) || d.length !== e - s) throw new Error(`output "${OUTPUT_NAME}" is not ${e - s} scores`);
      out.set(d, s);
    }
    return out;
  } finally {
    await session.release();
  }
}

async function heldOutAccuracyOnnx(bytes: Uint8Array, pairs: ReturnType<typeof pairData>): Promise<number> {
  if (pairs.n === 0) return Number.NaN;
  const c = await onnxScores(bytes, pairs.chosen, pairs.n, pairs.dim);
  const r = await onnxScores(bytes, pairs.rejected, pairs.n, pairs.dim);
  return pairwiseAccuracy(c, r);
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The promotion gate: a verdict and its reason, for the summary and the registry. */
export function promotionVerdict(g: { pairs: number; accuracy: number; activeAccuracy: number; activeVersion: string; minPairs: number; margin: number }): { promote: boolean; reason: string } {
  const vs = `held-out pairwise accuracy ${pct(g.accuracy)} vs ${pct(g.activeAccuracy)} for ${g.activeVersion} on the same ${g.pairs} pairs`;
  // No held-out pair: no accuracy to show (every prompt so far fell in the training split).
  if (g.pairs < g.minPairs) return { promote: false, reason: `kept, not activated: ${g.pairs} held-out pairs, the gate needs at least ${g.minPairs} (winnow.training.minPairs)${g.pairs > 0 ? `; ${vs}` : ''}` };
  const gain = 100 * (g.accuracy - g.activeAccuracy);
  if (!(gain >= g.margin)) return { promote: false, reason: `kept, not activated: ${vs}, ${gain >= 0 ? `a gain of ${gain.toFixed(1)} points,` : `${(-gain).toFixed(1)} points worse,`} less than the ${g.margin}-point margin (winnow.training.promotionMargin)` };
  return { promote: true, reason: `promoted: ${vs} (+${gain.toFixed(1)} points, margin ${g.margin})` };
}

export async function runTrainingJob(input: TrainJobInput, onProgress: (p: TrainProgress) => void, log: LogFn): Promise<TrainJobResult> {
  const t0 = Date.now();
  const hyper: TrainHyper = { ...DEFAULT_HYPER, seed: input.seed, ...(input.hyper ?? {}) };
  const dim = input.featureNames.length;
  const progress: TrainProgress = { jobId: input.jobId, trigger: input.trigger, startedAt: t0, phase: 'loading', round: 0, rounds: input.rounds, epoch: 0, maxEpochs: hyper.maxEpochs, trainPairs: 0, heldOutPairs: 0 };
  onProgress({ ...progress });
  const base = { jobId: input.jobId, trigger: input.trigger, featureSet: input.featureSet, startedAt: t0 };
  const end = (outcome: TrainSummary['outcome'], reason: string, extra: Partial<TrainSummary> = {}): TrainSummary => ({
    ...base,
    outcome,
    reason,
    triplets: {},
    rounds: [],
    finishedAt: Date.now(),
    trainMs: Date.now() - t0,
    ...extra,
  });

  if (!fs.existsSync(input.dbFile)) return { summary: end('skipped', 'nothing to train on yet: the store is empty'), promote: false, tripletTotal: 0, hyper };
  const store = Store.open(input.dbFile, log, { readonly: true });
  let loaded: ReturnType<Store['loadTripletInputs']>;
  try {
    loaded = store.loadTripletInputs();
  } finally {
    store.close();
  }
  const { requests, events, outcomes } = loaded;
  // The rounds rebuild the same pairs with other scores: edit distances are measured once.
  const distanceCache = new Map<string, number>();
  const build = (scores?: ReadonlyMap<string, number>) => buildTriplets(requests, events, outcomes, { seed: input.seed, distanceCache, ...(scores ? { scores } : {}) });
  const first = build();
  const tripletTotal = first.triplets.length;
  if (input.trigger === 'background' && input.previousTripletTotal !== undefined) {
    const fresh = tripletTotal - input.previousTripletTotal;
    if (fresh < input.settings.minNewTriplets) {
      return { summary: end('skipped', `${Math.max(0, fresh)} new triplets since the last training; background training waits for ${input.settings.minNewTriplets} (winnow.training.minNewTriplets)`), promote: false, tripletTotal, hyper };
    }
  }
  const feats = featuresById(requests, input.featureSet, dim, input.rewardModel);
  const usable = usablePairs(first.triplets, feats);
  const heldOut = usable.validation;
  const heldOutData = pairData(heldOut, feats, dim);
  progress.heldOutPairs = heldOut.length;
  if (usable.train.length === 0) {
    const why =
      tripletTotal === 0
        ? `no training triplets yet (${requests.length} completions with feedback): accept or reject some suggestions first`
        : `none of the ${tripletTotal} triplets has features of ${input.featureSet} on both sides (${usable.otherFeatureSet} were computed with another feature set)`;
    return { summary: end('skipped', why, { triplets: countBySource(usable.train, heldOut) }), promote: false, tripletTotal, hyper };
  }

  /** Training prompts aside for early stopping (by a salted hash of the prompt, stable across rounds). */
  const isEarlyStop = (t: Triplet) => splitOf(`${t.promptHash}:early-stop`, EARLY_STOP_FRACTION) === 'validation';
  const allRows = [...feats.entries()];
  const rowsMatrix = new Float32Array(allRows.length * dim);
  allRows.forEach(([, f], i) => rowsMatrix.set(f.features, i * dim));

  const rounds: RoundMetrics[] = [];
  let best: { result: TrainResult; round: number; esAccuracy: number; train: Triplet[] } | undefined;
  let trainTriplets = usable.train;
  for (let round = 0; round <= input.rounds; round++) {
    let hardNegatives = 0;
    if (round > 0 && best) {
      progress.phase = 'mining';
      progress.round = round;
      onProgress({ ...progress });
      const scores = scoreRows(best.result.model, rowsMatrix, allRows.length);
      const byId = new Map<string, number>(allRows.map(([id], i) => [id, scores[i] as number]));
      const rebuilt = usablePairs(build(byId).triplets, feats);
      // The held-out pairs stay those of round 0; only training pairs are mined.
      trainTriplets = rebuilt.train;
      hardNegatives = trainTriplets.filter((t) => t.source === 'hard_negative').length;
    }
    const es = trainTriplets.filter(isEarlyStop);
    const fit = es.length >= MIN_EARLY_STOP_PAIRS ? trainTriplets.filter((t) => !isEarlyStop(t)) : trainTriplets;
    const esData = es.length >= MIN_EARLY_STOP_PAIRS ? pairData(es, feats, dim) : undefined;
    progress.phase = 'training';
    progress.round = round;
    progress.epoch = 0;
    progress.trainPairs = fit.length;
    delete progress.heldOutAccuracy;
    onProgress({ ...progress });
    const result = trainPairs(pairData(fit, feats, dim), esData, hyper, {
      normRows: candidateRows(fit, feats, dim),
      onEpoch: (e) => {
        progress.epoch = e.epoch;
        if (Number.isFinite(e.bestHeldOutAccuracy)) progress.heldOutAccuracy = e.bestHeldOutAccuracy;
        onProgress({ ...progress });
      },
    });
    const roundHeldOut = pairwiseAccuracy(scoreRows(result.model, heldOutData.chosen, heldOutData.n), scoreRows(result.model, heldOutData.rejected, heldOutData.n));
    rounds.push({ round, trainPairs: fit.length, hardNegatives, epochs: result.epochs, bestEpoch: result.bestEpoch, trainLoss: result.trainLoss, heldOutAccuracy: roundHeldOut });
    progress.completedRounds = rounds.map((r) => ({ ...r }));
    log('info', `training ${input.jobId} round ${round}: ${fit.length} pairs (${hardNegatives} hard negatives), ${result.epochs} epochs, held-out pairwise accuracy ${pct(roundHeldOut)}`);
    // A round replaces the previous one only if it does not do worse on the early-stopping pairs.
    const esAccuracy = Number.isFinite(result.heldOutAccuracy) ? result.heldOutAccuracy : -result.trainLoss;
    if (!best || esAccuracy >= best.esAccuracy) best = { result, round, esAccuracy, train: fit };
  }
  if (!best) throw new Error('training produced no model');

  progress.phase = 'evaluating';
  onProgress({ ...progress });
  const spec = toRankerSpec(best.result.model, 'candidate', input.featureNames, {
    'winnow.featureSet': input.featureSet,
    'winnow.rewardModel': input.rewardModel ?? '',
    'winnow.parent': input.active.version,
    'winnow.round': String(best.round),
  });
  const bytes = buildRankerModel(spec);
  const accuracy = await heldOutAccuracyOnnx(bytes, heldOutData);
  let activeAccuracy = Number.NaN;
  let activeNote = '';
  try {
    const activeBytes = fs.readFileSync(input.active.file);
    const meta = readModelMetadata(activeBytes);
    if (meta['winnow.features'] !== input.featureNames.join(',')) activeNote = `${input.active.version} computes other features`;
    else activeAccuracy = await heldOutAccuracyOnnx(activeBytes, heldOutData);
  } catch (e) {
    activeNote = `${input.active.version} could not be evaluated: ${(e as Error).message}`;
  }
  // A ranker that cannot score these pairs is taken as chance.
  const activeForGate = Number.isFinite(activeAccuracy) ? activeAccuracy : 0.5;
  const heldOutFig = { pairs: heldOut.length, accuracy: Number.isFinite(accuracy) ? accuracy : 0, activeVersion: input.active.version, activeAccuracy: activeForGate };
  const verdict = promotionVerdict({ ...heldOutFig, minPairs: input.settings.minPairs, margin: input.settings.promotionMargin });
  const reason = activeNote ? `${verdict.reason} (${activeNote}; taken as 50%)` : verdict.reason;
  const summary: TrainSummary = {
    ...base,
    outcome: verdict.promote ? 'promoted' : 'kept',
    reason,
    triplets: countBySource(best.train, heldOut),
    heldOut: heldOutFig,
    rounds,
    finishedAt: Date.now(),
    trainMs: Date.now() - t0,
  };
  return { summary, spec, promote: verdict.promote, tripletTotal, hyper };
}

export type { CandidateFeatures };
