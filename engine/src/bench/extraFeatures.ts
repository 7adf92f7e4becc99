/**
 * Candidate features the engine does NOT compute, tried on the cross-validated benchmark
 * (bench/learned.bench.ts) before any of them is proposed for features.ts. Each one is as cheap
 * as the engine's own (token hashing and sums over the request's candidates: O(n · 128)).
 *
 * - centroid_sim            cosine similarity of the candidate's hashed token bag (128 buckets,
 *                           unit length) to the vote-weighted sum of the OTHER candidates' bags:
 *                           a cheap medoid score.
 * - cluster_sim             the same within its CodeT consensus set (candidates with the same
 *                           agreement and cluster share); 0 alone or without execution.
 * - exec_survivor_agreement CodeT dual agreement among the candidates that pass every trusted
 *                           test only (what the "docstring filter, then CodeT" heuristic ranks by),
 *                           over the best such candidate's; 0 for the others.
 * - exec_survivor_share     votes of its consensus set among those survivors / all survivors' votes.
 * - return_count            `return` statements, capped at 5.
 */
import type { FeatureInput } from '../features';
import type { ExtraFeatures } from './learned';

export const EXTRA_FEATURE_NAMES = ['centroid_sim', 'cluster_sim', 'exec_survivor_agreement', 'exec_survivor_share', 'return_count'] as const;
export type ExtraFeatureName = (typeof EXTRA_FEATURE_NAMES)[number];

const B = 128;
const TOKEN = /[A-Za-z_]\w*|\d+|[^\s\w]/g;

function bag(text: string): Float64Array {
  const v = new Float64Array(B);
  TOKEN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = TOKEN.exec(text))) {
    const t = m[0];
    let h = 0x811c9dc5;
    for (let i = 0; i < t.length; i++) {
      h ^= t.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    const k = (h >>> 0) % B;
    v[k] = (v[k] as number) + 1;
  }
  let n = 0;
  for (let i = 0; i < B; i++) n += (v[i] as number) ** 2;
  n = Math.sqrt(n);
  if (n > 0) for (let i = 0; i < B; i++) v[i] = (v[i] as number) / n;
  return v;
}

/** Cosine of v with (sum − w·v): similarity to the others. */
function leaveOneOutCos(v: Float64Array, w: number, sum: Float64Array): number {
  let dot = 0;
  let nn = 0;
  for (let k = 0; k < B; k++) {
    const o = (sum[k] as number) - w * (v[k] as number);
    dot += (v[k] as number) * o;
    nn += o * o;
  }
  return nn > 1e-12 ? dot / Math.sqrt(nn) : 0;
}

function addInto(sum: Float64Array, v: Float64Array, w: number): void {
  for (let k = 0; k < B; k++) sum[k] = (sum[k] as number) + w * (v[k] as number);
}

export function extraFeatures(names: readonly ExtraFeatureName[]): ExtraFeatures {
  return {
    names,
    compute(inputs: readonly FeatureInput[]): Float32Array {
      const n = inputs.length;
      const k = names.length;
      const out = new Float32Array(n * k);
      const bags = inputs.map((c) => bag(c.text));
      const total = new Float64Array(B);
      bags.forEach((v, i) => addInto(total, v, (inputs[i] as FeatureInput).votes));
      // Consensus sets: candidates in one share agreement and cluster share (execution.ts gives them the same values).
      const key = inputs.map((c) => (c.exec && c.exec.clusterFrac > 0 ? `${c.exec.agreement}|${c.exec.clusterFrac}` : undefined));
      const setSum = new Map<string, Float64Array>();
      key.forEach((kk, i) => {
        if (kk === undefined) return;
        let s = setSum.get(kk);
        if (!s) setSum.set(kk, (s = new Float64Array(B)));
        addInto(s, bags[i] as Float64Array, (inputs[i] as FeatureInput).votes);
      });
      const survivor = inputs.map((c) => c.exec !== undefined && c.exec.trustedTotal > 0 && c.exec.trustedPassed >= c.exec.trustedTotal);
      const survivorVotes = new Map<string, number>();
      let survivorsTotal = 0;
      inputs.forEach((c, i) => {
        if (!survivor[i]) return;
        survivorsTotal += c.votes;
        const kk = key[i];
        if (kk !== undefined) survivorVotes.set(kk, (survivorVotes.get(kk) ?? 0) + c.votes);
      });
      // agreement ∝ |tests passed| · √(set size), cluster share ∝ set size: the set's tests passed ∝ agreement / √share.
      const survivorScore = inputs.map((c, i) => {
        const kk = key[i];
        if (!survivor[i] || kk === undefined || !c.exec) return 0;
        return (c.exec.agreement / Math.sqrt(c.exec.clusterFrac)) * Math.sqrt(survivorVotes.get(kk) ?? 0);
      });
      const best = Math.max(0, ...survivorScore);
      inputs.forEach((c, i) => {
        const kk = key[i];
        names.forEach((name, j) => {
          let x = 0;
          if (name === 'centroid_sim') x = leaveOneOutCos(bags[i] as Float64Array, c.votes, total);
          else if (name === 'cluster_sim') x = kk !== undefined ? leaveOneOutCos(bags[i] as Float64Array, c.votes, setSum.get(kk) as Float64Array) : 0;
          else if (name === 'exec_survivor_agreement') x = best > 0 ? (survivorScore[i] as number) / best : 0;
          else if (name === 'exec_survivor_share') x = survivor[i] && kk !== undefined && survivorsTotal > 0 ? (survivorVotes.get(kk) ?? 0) / survivorsTotal : 0;
          else if (name === 'return_count') x = Math.min(5, (c.text.match(/\breturn\b/g) ?? []).length);
          out[i * k + j] = x;
        });
      });
      return out;
    },
  };
}
