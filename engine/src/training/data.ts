/**
 * From stored triplets to the trainer's pair matrices. Pure.
 *
 * Training reads the features stored with each candidate when it was ranked (it never
 * recomputes them), and only rows of the feature set being trained, or of an older set that
 * features.ts can upgrade by computing only the columns the newer set adds (upgradeRows:
 * fs-2 and fs-3 → fs-4); a pair with a side of another set (or without features) is left out
 * and counted. A reward model score counts only when it is the score of the reward model the
 * ranker is trained with: a row scored by another one is read as not scored (reward columns 0).
 */
import { hasReward, upgradeRows, withoutReward } from '../features';
import type { RequestRow, Triplet } from '../triplets';
import type { PairData } from './model';

export interface CandidateFeatures {
  features: Float32Array;
  votes: number;
  meanLogprob?: number;
}

/**
 * Candidate id → its stored features of `featureSet` (others are not included); `rewardModel`:
 * the id of the reward model trained with (none: undefined).
 */
export function featuresById(requests: readonly RequestRow[], featureSet: string, dim: number, rewardModel?: string): Map<string, CandidateFeatures> {
  const out = new Map<string, CandidateFeatures>();
  const put = (c: { id: string; votes?: number; meanLogprob?: number }, features: Float32Array) => out.set(c.id, { features, votes: c.votes ?? 1, ...(c.meanLogprob !== undefined ? { meanLogprob: c.meanLogprob } : {}) });
  for (const r of requests) {
    // Rows of older sets, by set: upgraded together (the request's context is read once).
    const older = new Map<string, { id: string; text: string; votes?: number; meanLogprob?: number; features: Float32Array }[]>();
    for (const c of r.candidates) {
      if (!c.features || !c.featureSet) continue;
      if (c.featureSet === featureSet) {
        if (c.features.length === dim) put(c, hasReward(c.features) && c.rewardModel !== rewardModel ? withoutReward(c.features) : c.features);
      } else {
        const list = older.get(c.featureSet) ?? [];
        list.push({ ...c, features: c.features });
        older.set(c.featureSet, list);
      }
    }
    for (const [set, list] of older) {
      const up = upgradeRows(set, featureSet, r, list);
      if (up && up.every((f) => f.length === dim)) list.forEach((c, i) => put(c, up[i] as Float32Array));
    }
  }
  return out;
}

export interface UsablePairs {
  train: Triplet[];
  validation: Triplet[];
  /** Triplets left out because a side has no features of this set. */
  otherFeatureSet: number;
}

/** Splits triplets by their split, keeping only those whose both sides have features of the set. */
export function usablePairs(triplets: readonly Triplet[], feats: ReadonlyMap<string, CandidateFeatures>): UsablePairs {
  const train: Triplet[] = [];
  const validation: Triplet[] = [];
  let other = 0;
  for (const t of triplets) {
    if (!feats.has(t.chosenId) || !feats.has(t.rejectedId)) {
      other++;
      continue;
    }
    (t.split === 'validation' ? validation : train).push(t);
  }
  return { train, validation, otherFeatureSet: other };
}

/** The pair matrices of some triplets (all of whose sides are in `feats`). */
export function pairData(triplets: readonly Triplet[], feats: ReadonlyMap<string, CandidateFeatures>, dim: number): PairData {
  const n = triplets.length;
  const chosen = new Float32Array(n * dim);
  const rejected = new Float32Array(n * dim);
  const weight = new Float32Array(n);
  triplets.forEach((t, i) => {
    const c = feats.get(t.chosenId);
    const r = feats.get(t.rejectedId);
    if (!c || !r) throw new Error(`pairData: no features for ${c ? t.rejectedId : t.chosenId}`);
    chosen.set(c.features, i * dim);
    rejected.set(r.features, i * dim);
    weight[i] = t.weight;
  });
  return { dim, n, chosen, rejected, weight };
}

/** The distinct candidates of some triplets, as rows (what the normalization is fitted on). */
export function candidateRows(triplets: readonly Triplet[], feats: ReadonlyMap<string, CandidateFeatures>, dim: number): { rows: Float32Array; n: number } {
  const ids = new Set<string>();
  for (const t of triplets) {
    ids.add(t.chosenId);
    ids.add(t.rejectedId);
  }
  const rows = new Float32Array(ids.size * dim);
  let i = 0;
  for (const id of ids) {
    const f = feats.get(id);
    if (f) rows.set(f.features, i++ * dim);
  }
  return { rows: rows.subarray(0, i * dim), n: i };
}

/** Triplets counted by source and split. */
export function countBySource(train: readonly Triplet[], validation: readonly Triplet[]): Record<string, { train: number; validation: number }> {
  const out: Record<string, { train: number; validation: number }> = {};
  for (const t of train) (out[t.source] ??= { train: 0, validation: 0 }).train++;
  for (const t of validation) (out[t.source] ??= { train: 0, validation: 0 }).validation++;
  return out;
}
