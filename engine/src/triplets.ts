/**
 * Triplet builder: turns stored completion requests, feedback events and test outcomes into
 * (prompt, chosen, rejected) training pairs for the Bradley-Terry ranker.
 *
 * Pure: no SQLite, no clock, no global randomness. The store reads rows and hands them here;
 * it writes what comes back. The same inputs and seed always give the same output, in the
 * same order. The rules, thresholds and weights are documented in docs/triplets.md; the
 * method follows RewardRanker (hard negatives, Levenshtein-nearest + random pairing) and
 * AceCoder (pass-rate preference pairs).
 */
import { createHash } from 'node:crypto';
import type { EventKind, RejectReason } from './protocol';
import { mulberry32 } from './random';

// ---------------------------------------------------------------------------------------
// Rows in, triplets out.

export interface RequestCandidateRow {
  id: string;
  rank: number;
  text: string;
  score: number;
  /** What training reads with the pairs (the builder itself does not use them). */
  votes?: number;
  meanLogprob?: number;
  /** The stored feature row and the id of the feature set it was computed with. */
  features?: Float32Array;
  featureSet?: string;
  /** The reward model whose score is in the row (its id), if any. */
  rewardModel?: string;
}

export interface RequestRow {
  id: string;
  time: number;
  prefix: string;
  suffix: string;
  languageId: string;
  filePath: string;
  rankerVersion: string;
  candidates: RequestCandidateRow[];
}

export interface EventRow {
  kind: EventKind;
  requestId: string;
  candidateId: string;
  rank: number | null;
  time: number;
  data: Record<string, unknown> | null;
}

/** One test run of one candidate: `passed` of `total` tests from `source` (docstring, synthesized, project, ...). */
export interface OutcomeRow {
  requestId: string;
  candidateId: string;
  passed: number;
  total: number;
  source: string;
}

/**
 * Why a pair exists (docs/triplets.md, "Sources"):
 * - `accepted_vs_shown`: accepted whole, over a candidate that was shown and not taken (or rejected, or accepted then deleted).
 * - `accepted_vs_unshown`: accepted whole, over a candidate returned but never displayed.
 * - `partial_vs_shown` / `partial_vs_unshown`: the same with a partial acceptance as the positive.
 * - `pass_rate`: AceCoder rule within one request: chosen pass rate high, rejected low, gap wide.
 * - `passing_vs_rejected`: a candidate that passes the tests over one the developer rejected
 *   (or accepted then deleted), when no acceptance says otherwise.
 * - `hard_negative`: any of the above whose negative was rejected or failing and yet scored
 *   above the chosen one by the ranker (RewardRanker); its weight is the base source's times
 *   the `hard_negative` factor.
 */
export type TripletSource =
  | 'accepted_vs_shown'
  | 'accepted_vs_unshown'
  | 'partial_vs_shown'
  | 'partial_vs_unshown'
  | 'pass_rate'
  | 'passing_vs_rejected'
  | 'hard_negative';

export const TRIPLET_SOURCES: readonly TripletSource[] = [
  'accepted_vs_shown',
  'accepted_vs_unshown',
  'partial_vs_shown',
  'partial_vs_unshown',
  'pass_rate',
  'passing_vs_rejected',
  'hard_negative',
];

/**
 * How a kept pair was selected for its chosen candidate: `all` (strong evidence, hard
 * negatives, or a small pool kept whole), `nearest` (Levenshtein-nearest of a large pool),
 * `random` (seeded random pick from the rest of a large pool).
 */
export type Pairing = 'all' | 'nearest' | 'random';

export interface Triplet {
  requestId: string;
  promptHash: string;
  chosenId: string;
  rejectedId: string;
  source: TripletSource;
  pairing: Pairing;
  /** Loss weight for this pair, > 0. */
  weight: number;
  split: 'train' | 'validation';
  /** Levenshtein distance between the chosen and rejected texts (UTF-16 code units). */
  editDistance: number;
}

export interface PassRateOptions {
  /** A chosen candidate's pass rate must be ≥ this. Default 0.8. */
  chosenMin: number;
  /** A rejected candidate's pass rate must be ≤ this. Default 0.4. */
  rejectedMax: number;
  /** chosen − rejected must be ≥ this. Default 0.4. */
  minGap: number;
  /** Fewer tests than this (summed over sources) and the pass rate is unknown. Default 1. */
  minTests: number;
  /** AceCoder's `s_j > 0`: candidates that pass no test are never the rejected side. Default false. */
  excludeZero: boolean;
}

/** Strength of a negative, by what happened to it (multiplies the pair's weight). */
export interface NegativeFactors {
  dismissed: number;
  typed_over: number;
  cursor_moved: number;
  timeout: number;
  /** Shown, not accepted, no reject event (the developer cycled past it or accepted another). */
  passed_over: number;
  /** Accepted, then mostly deleted (survival below `survivalDropBelow`). */
  deleted: number;
}

export interface PairingOptions {
  /** A chosen candidate's pool of ordinary negatives this size or smaller is kept whole. Default 8. */
  allUpTo: number;
  /** From a larger pool: this many Levenshtein-nearest negatives. Default 3. */
  nearest: number;
  /** ... plus this many seeded random ones from the rest. Default 3. */
  random: number;
}

export interface BuildOptions {
  /** Seed of the random pairing. Default 0. */
  seed?: number;
  /** Share of prompts (by prompt hash) held out for validation. Default 0.1. */
  validationFraction?: number;
  /** Base weight per source; `hard_negative` is a factor on the base source's weight. See DEFAULT_WEIGHTS. */
  weights?: Partial<Record<TripletSource, number>>;
  negativeFactors?: Partial<NegativeFactors>;
  passRate?: Partial<PassRateOptions>;
  /** An accepted candidate whose latest survival fraction is below this stops being a positive and counts as a negative. Default 0.3. */
  survivalDropBelow?: number;
  pairing?: Partial<PairingOptions>;
  /**
   * Scores by candidate id from the current ranker, for mining hard negatives with it
   * (RewardRanker re-scores with the latest model). Candidates missing here use the score
   * stored with the request.
   */
  scores?: ReadonlyMap<string, number>;
  /** Pairs whose weight is ≤ this are dropped. Default 0. */
  minWeight?: number;
  /**
   * Edit distances already measured, by `chosenId + '\0' + rejectedId`; filled as they are
   * measured. Builds of the same rows (the hard-negative rounds of a training) share one.
   */
  distanceCache?: Map<string, number>;
}

export interface BuildStats {
  requests: number;
  events: number;
  triplets: number;
  bySource: Record<string, number>;
  byPairing: Record<string, number>;
  train: number;
  validation: number;
  /** Counts of what was left out, by reason (see docs/triplets.md, "Stats"). */
  skipped: Record<string, number>;
}

export const DEFAULT_WEIGHTS: Readonly<Record<TripletSource, number>> = {
  accepted_vs_shown: 1.0,
  accepted_vs_unshown: 0.5,
  partial_vs_shown: 0.6,
  partial_vs_unshown: 0.3,
  pass_rate: 1.0,
  passing_vs_rejected: 0.5,
  hard_negative: 1.5,
};

export const DEFAULT_NEGATIVE_FACTORS: Readonly<NegativeFactors> = {
  dismissed: 1.0,
  typed_over: 1.0,
  cursor_moved: 0.6,
  timeout: 0.4,
  passed_over: 1.0,
  deleted: 1.0,
};

export const DEFAULT_PASS_RATE: Readonly<PassRateOptions> = {
  chosenMin: 0.8,
  rejectedMax: 0.4,
  minGap: 0.4,
  minTests: 1,
  excludeZero: false,
};

export const DEFAULT_PAIRING: Readonly<PairingOptions> = { allUpTo: 8, nearest: 3, random: 3 };
export const DEFAULT_SURVIVAL_DROP_BELOW = 0.3;
export const DEFAULT_VALIDATION_FRACTION = 0.1;

/** Tolerance of threshold comparisons, so that 0.7 − 0.3 meets a 0.4 gap. */
const EPS = 1e-9;

// ---------------------------------------------------------------------------------------
// Hashing and the split.

/** Stable id of a prompt: sha256 over the file path, prefix and suffix (length-framed), first 16 hex digits. */
export function promptHash(prefix: string, suffix: string, filePath = ''): string {
  return createHash('sha256')
    .update(`winnow-prompt\n${filePath.length}:${prefix.length}:${suffix.length}\n`)
    .update(filePath)
    .update('\u0000')
    .update(prefix)
    .update('\u0000')
    .update(suffix)
    .digest('hex')
    .slice(0, 16);
}

/** FNV-1a over UTF-16 code units with a murmur3 finalizer: a well-mixed 32-bit hash. */
function hash32(s: string, seed = 0): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Train or validation, from the prompt hash alone: the same prompt always lands on the same
 * side, whatever else is in the data set, so a prompt is never on both sides.
 */
export function splitOf(promptHash: string, validationFraction: number): 'train' | 'validation' {
  if (!(validationFraction > 0)) return 'train';
  if (validationFraction >= 1) return 'validation';
  return hash32(promptHash, 0x5f1e7) / 2 ** 32 < validationFraction ? 'validation' : 'train';
}

// ---------------------------------------------------------------------------------------
// Levenshtein distance: Myers' bit-parallel algorithm (Hyyrö's block form for patterns over
// 32 code units) after stripping the common prefix and suffix. O(⌈m/32⌉·n) instead of O(m·n).

/** Pattern bit masks by char code, for patterns of ≤ 32 code units; reset after each use. */
const PEQ32 = new Int32Array(0x10000);
/** Char code → 1-based index in the pattern's alphabet (0: not in the pattern); reset after each use. */
const ALPHA = new Int32Array(0x10000);

/**
 * Edit distance (insertions, deletions, substitutions of UTF-16 code units). With `max`, any
 * distance above it is reported as `max + 1`, and the computation stops as soon as the
 * distance is known to exceed it.
 */
export function levenshtein(a: string, b: string, max?: number): number {
  return levenshteinDistance(a, b, max);
}

function levenshteinDistance(a: string, b: string, max?: number): number {
  const cap = max === undefined || !Number.isFinite(max) ? Number.MAX_SAFE_INTEGER - 1 : Math.max(0, Math.floor(max));
  if (a === b) return 0;
  let la = a.length;
  let lb = b.length;
  if (Math.abs(la - lb) > cap) return cap + 1;
  let start = 0;
  while (start < la && start < lb && a.charCodeAt(start) === b.charCodeAt(start)) start++;
  while (la > start && lb > start && a.charCodeAt(la - 1) === b.charCodeAt(lb - 1)) {
    la--;
    lb--;
  }
  const ma = la - start;
  const mb = lb - start;
  let d: number;
  if (ma === 0) d = mb;
  else if (mb === 0) d = ma;
  else if (ma <= mb) d = ma <= 32 ? myers32(a, start, ma, b, start, mb, cap) : myersBlocks(a, start, ma, b, start, mb, cap);
  else d = mb <= 32 ? myers32(b, start, mb, a, start, ma, cap) : myersBlocks(b, start, mb, a, start, ma, cap);
  return d > cap ? cap + 1 : d;
}

/** Pattern p[ps, ps+m) with m ≤ 32, text t[ts, ts+n). */
function myers32(p: string, ps: number, m: number, t: string, ts: number, n: number, cap: number): number {
  const peq = PEQ32;
  for (let i = 0; i < m; i++) peq[p.charCodeAt(ps + i)]! |= 1 << i;
  const last = 1 << (m - 1);
  let pv = -1;
  let mv = 0;
  let score = m;
  for (let j = 0; j < n; j++) {
    const eq = peq[t.charCodeAt(ts + j)]!;
    const xv = eq | mv;
    const xh = (((eq & pv) + pv) ^ pv) | eq;
    let ph = mv | ~(xh | pv);
    let mh = pv & xh;
    if (ph & last) score++;
    else if (mh & last) score--;
    ph = (ph << 1) | 1;
    mh <<= 1;
    pv = mh | ~(xv | ph);
    mv = ph & xv;
    // The last row can fall by at most one per remaining column.
    if (score - (n - 1 - j) > cap) {
      score = cap + 1;
      break;
    }
  }
  for (let i = 0; i < m; i++) peq[p.charCodeAt(ps + i)] = 0;
  return score;
}

/** Scratch buffers of {@link myersBlocks}, grown on demand. */
let PEQ = new Int32Array(4096);
let PB = new Int32Array(64);
let MB = new Int32Array(64);

/** Pattern p[ps, ps+m) with m > 32, text t[ts, ts+n): Myers (1999) blocks of 32 rows, one column at a time. */
function myersBlocks(p: string, ps: number, m: number, t: string, ts: number, n: number, cap: number): number {
  const alpha = ALPHA;
  let size = 0;
  for (let i = 0; i < m; i++) {
    const c = p.charCodeAt(ps + i);
    if (alpha[c] === 0) alpha[c] = ++size;
  }
  const blocks = (m + 31) >>> 5;
  const need = (size + 1) * blocks;
  if (PEQ.length < need) PEQ = new Int32Array(need * 2);
  if (PB.length < blocks) {
    PB = new Int32Array(blocks * 2);
    MB = new Int32Array(blocks * 2);
  }
  // Row 0 of peq (chars absent from the pattern) stays all zeros.
  const peq = PEQ;
  const P = PB;
  const M = MB;
  peq.fill(0, 0, need);
  P.fill(-1, 0, blocks);
  M.fill(0, 0, blocks);
  for (let i = 0; i < m; i++) peq[alpha[p.charCodeAt(ps + i)]! * blocks + (i >>> 5)]! |= 1 << (i & 31);
  const last = blocks - 1;
  const lastBit = 1 << ((m - 1) & 31);
  let score = m;
  for (let j = 0; j < n; j++) {
    const row = alpha[t.charCodeAt(ts + j)]! * blocks;
    // Horizontal delta entering the block from above, as two bits: +1 (hp) or −1 (hm). Row 0 is +1.
    let hp = 1;
    let hm = 0;
    for (let b = 0; b <= last; b++) {
      const e = peq[row + b]!;
      const pv = P[b]!;
      const mv = M[b]!;
      const eq = e | hm;
      const xv = e | mv;
      const xh = (((eq & pv) + pv) ^ pv) | eq;
      let ph = mv | ~(xh | pv);
      let mh = pv & xh;
      let op: number;
      let om: number;
      if (b === last) {
        op = ph & lastBit ? 1 : 0;
        om = mh & lastBit ? 1 : 0;
      } else {
        op = ph >>> 31;
        om = mh >>> 31;
      }
      ph = (ph << 1) | hp;
      mh = (mh << 1) | hm;
      P[b] = mh | ~(xv | ph);
      M[b] = ph & xv;
      hp = op;
      hm = om;
    }
    score += hp - hm;
    if (score - (n - 1 - j) > cap) {
      score = cap + 1;
      break;
    }
  }
  for (let i = 0; i < m; i++) alpha[p.charCodeAt(ps + i)] = 0;
  return score;
}

// ---------------------------------------------------------------------------------------
// The builder.

type PositiveKind = 'accepted' | 'partial';
type NegativeClass = 'shown' | 'unshown';

interface CandState {
  row: RequestCandidateRow;
  shown: boolean;
  accepted: boolean;
  /** Largest acceptedChars/totalChars seen; −1 when never partially accepted. */
  partial: number;
  reject?: { reason: string; time: number };
  survival?: { afterMs: number; time: number; fraction: number };
  /** Latest outcome per test source: [passed, total]. */
  outcomes?: Map<string, [number, number]>;
}

interface RequestState {
  row: RequestRow;
  cands: CandState[];
  byId: Map<string, number>;
}

/** What one candidate is, once all its evidence is in. */
interface Role {
  positive?: PositiveKind;
  /** Weight factor of the positive: partial fraction × survival scaling. */
  strength: number;
  negative?: NegativeClass;
  /** Weight factor of the negative (reject reason, passed over, deleted). */
  negFactor: number;
  /** Explicitly rejected, or accepted and then deleted: evidence against this very candidate. */
  rejected: boolean;
  passRate?: number;
  score: number;
  trimmed: string;
}

interface PairDraft {
  c: number;
  n: number;
  base: TripletSource;
  hard: boolean;
  weight: number;
  /** Explicit evidence about this negative (never sampled away). */
  strong: boolean;
}

const REJECT_REASONS: readonly RejectReason[] = ['dismissed', 'typed_over', 'cursor_moved', 'timeout'];

function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

export function buildTriplets(
  requests: readonly RequestRow[],
  events: readonly EventRow[],
  outcomes: readonly OutcomeRow[],
  options: BuildOptions = {},
): { triplets: Triplet[]; stats: BuildStats } {
  const weights: Record<TripletSource, number> = { ...DEFAULT_WEIGHTS, ...options.weights };
  const negf: NegativeFactors = { ...DEFAULT_NEGATIVE_FACTORS, ...options.negativeFactors };
  const pr: PassRateOptions = { ...DEFAULT_PASS_RATE, ...options.passRate };
  const pairing: PairingOptions = { ...DEFAULT_PAIRING, ...options.pairing };
  const dropBelow = options.survivalDropBelow ?? DEFAULT_SURVIVAL_DROP_BELOW;
  const validationFraction = options.validationFraction ?? DEFAULT_VALIDATION_FRACTION;
  const seed = (options.seed ?? 0) >>> 0;
  const minWeight = options.minWeight ?? 0;
  const skipped: Record<string, number> = {};

  // Index the requests; their state is made on first use (requests with no events cost nothing).
  const rows = new Map<string, RequestRow>();
  for (const r of requests) {
    if (rows.has(r.id)) bump(skipped, 'duplicate_request');
    rows.set(r.id, r);
  }
  const states = new Map<string, RequestState>();
  const stateOf = (requestId: string): RequestState | undefined => {
    let s = states.get(requestId);
    if (s) return s;
    const row = rows.get(requestId);
    if (!row) return undefined;
    const byId = new Map<string, number>();
    const cands = row.candidates.map((c, i) => {
      byId.set(c.id, i);
      return { row: c, shown: false, accepted: false, partial: -1 } as CandState;
    });
    s = { row, cands, byId };
    states.set(requestId, s);
    return s;
  };
  const candOf = (requestId: string, candidateId: string): CandState | undefined => {
    const s = stateOf(requestId);
    if (!s) {
      bump(skipped, 'unknown_request');
      return undefined;
    }
    const i = s.byId.get(candidateId);
    if (i === undefined) {
      bump(skipped, 'unknown_candidate');
      return undefined;
    }
    return s.cands[i];
  };

  // 1. Fold the events into per-candidate evidence.
  for (const e of events) {
    const c = candOf(e.requestId, e.candidateId);
    if (!c) continue;
    const d = e.data ?? {};
    switch (e.kind) {
      case 'shown':
        c.shown = true;
        break;
      case 'accepted':
        c.accepted = true;
        c.shown = true;
        break;
      case 'partially_accepted': {
        const got = num(d.acceptedChars);
        const total = num(d.totalChars);
        if (got === undefined || total === undefined || total <= 0 || got < 0) {
          bump(skipped, 'bad_event_data');
          break;
        }
        c.partial = Math.max(c.partial, Math.min(1, got / total));
        c.shown = true;
        break;
      }
      case 'rejected': {
        const reason = typeof d.reason === 'string' ? d.reason : 'unknown';
        if (!c.reject || e.time >= c.reject.time) c.reject = { reason, time: e.time };
        c.shown = true;
        break;
      }
      case 'survival': {
        const afterMs = num(d.afterMs);
        const fraction = num(d.fraction);
        if (afterMs === undefined || fraction === undefined) {
          bump(skipped, 'bad_event_data');
          break;
        }
        const s = c.survival;
        if (!s || afterMs > s.afterMs || (afterMs === s.afterMs && e.time >= s.time)) {
          c.survival = { afterMs, time: e.time, fraction: Math.min(1, Math.max(0, fraction)) };
        }
        break;
      }
      case 'test_outcome':
        // Its evidence arrives as a test outcome row (source developer_tests), folded below.
        break;
      default:
        bump(skipped, 'unknown_event_kind');
    }
  }

  // 2. Fold the test outcomes: the last row per (candidate, test source).
  for (const o of outcomes) {
    if (!(o.total > 0) || !(o.passed >= 0) || o.passed > o.total) {
      bump(skipped, 'bad_outcome');
      continue;
    }
    const c = candOf(o.requestId, o.candidateId);
    if (!c) continue;
    (c.outcomes ??= new Map()).set(o.source, [o.passed, o.total]);
  }

  // 3. Pairs per request, then dedup across requests of the same prompt.
  const textIds = new Map<string, number>();
  const textId = (t: string): number => {
    let id = textIds.get(t);
    if (id === undefined) {
      id = textIds.size;
      textIds.set(t, id);
    }
    return id;
  };
  const kept = new Map<string, Triplet>();
  const keyOf = (hash: string, c: string, n: string): string => `${hash}|${textId(c)}|${textId(n)}`;

  for (const row of rows.values()) {
    const s = states.get(row.id);
    if (!s || s.cands.length < 2) continue;
    const { list, roles } = pairsOfRequest(s, weights, negf, pr, dropBelow, options.scores, skipped);
    if (list.length === 0) {
      if (s.cands.some((c) => c.shown)) bump(skipped, 'request_without_pairs');
      continue;
    }
    const hash = promptHash(row.prefix, row.suffix, row.filePath);
    const split = splitOf(hash, validationFraction);
    for (const t of selectPairs(s, roles, list, pairing, seed, minWeight, skipped, options.distanceCache)) {
      const cr = roles[t.c]!;
      const nr = roles[t.n]!;
      const triplet: Triplet = {
        requestId: row.id,
        promptHash: hash,
        chosenId: s.cands[t.c]!.row.id,
        rejectedId: s.cands[t.n]!.row.id,
        source: t.hard ? 'hard_negative' : t.base,
        pairing: t.pairing,
        weight: t.weight,
        split,
        editDistance: t.distance,
      };
      const key = keyOf(hash, cr.trimmed, nr.trimmed);
      const prev = kept.get(key);
      if (prev) {
        bump(skipped, 'duplicate');
        if (triplet.weight > prev.weight) kept.set(key, triplet);
      } else {
        kept.set(key, triplet);
      }
    }
  }

  // 4. The same two texts preferred both ways for one prompt: the heavier side wins, a tie drops both.
  const out: Triplet[] = [];
  for (const [key, t] of kept) {
    const [hash, c, n] = key.split('|') as [string, string, string];
    const rev = kept.get(`${hash}|${n}|${c}`);
    if (rev && rev.weight >= t.weight) {
      bump(skipped, 'contradicted');
      continue;
    }
    out.push(t);
  }

  const stats: BuildStats = {
    requests: requests.length,
    events: events.length,
    triplets: out.length,
    bySource: {},
    byPairing: {},
    train: 0,
    validation: 0,
    skipped,
  };
  for (const t of out) {
    bump(stats.bySource, t.source);
    bump(stats.byPairing, t.pairing);
    stats[t.split]++;
  }
  return { triplets: out, stats };
}

/** Every admissible (chosen, rejected) pair of one request, one per candidate pair at most (the heaviest). */
function pairsOfRequest(
  s: RequestState,
  weights: Record<TripletSource, number>,
  negf: NegativeFactors,
  pr: PassRateOptions,
  dropBelow: number,
  scores: ReadonlyMap<string, number> | undefined,
  skipped: Record<string, number>,
): { list: PairDraft[]; roles: Role[] } {
  const roles: Role[] = s.cands.map((c) => roleOf(c, negf, pr, dropBelow, scores, skipped));
  const n = roles.length;
  const best = new Map<number, PairDraft>();
  const isFailing = (r: Role): boolean => r.passRate !== undefined && r.passRate <= pr.rejectedMax + EPS && !(pr.excludeZero && r.passRate === 0);
  const add = (c: number, x: number, base: TripletSource, factor: number, strong: boolean): void => {
    const cr = roles[c]!;
    const xr = roles[x]!;
    const hard = (xr.negative === 'shown' || isFailing(xr)) && xr.score > cr.score;
    const weight = weights[base] * factor * (hard ? weights.hard_negative : 1);
    const key = c * n + x;
    const prev = best.get(key);
    if (!prev || weight > prev.weight) best.set(key, { c, n: x, base, hard, weight, strong: strong || (prev?.strong ?? false) });
    else if (strong) prev.strong = true;
  };

  for (let c = 0; c < n; c++) {
    const cr = roles[c]!;
    // Behaviour: a positive over the shown and unshown negatives.
    if (cr.positive) {
      for (let x = 0; x < n; x++) {
        const xr = roles[x]!;
        if (x === c || !xr.negative) continue;
        if (cr.passRate !== undefined && xr.passRate !== undefined && xr.passRate - cr.passRate >= pr.minGap - EPS) {
          bump(skipped, 'tests_contradict');
          continue;
        }
        const base: TripletSource = `${cr.positive}_vs_${xr.negative}`;
        add(c, x, base, cr.strength * xr.negFactor, xr.negative === 'shown');
      }
    }
    // Tests: AceCoder pairs, and a passing candidate over explicitly rejected ones.
    if (cr.passRate !== undefined && cr.passRate >= pr.chosenMin - EPS) {
      for (let x = 0; x < n; x++) {
        const xr = roles[x]!;
        if (x === c) continue;
        if (isFailing(xr) && cr.passRate - xr.passRate! >= pr.minGap - EPS) add(c, x, 'pass_rate', 1, false);
        if (xr.rejected && !cr.rejected && cr.negative !== 'shown' && (xr.passRate === undefined || xr.passRate < pr.chosenMin - EPS)) {
          add(c, x, 'passing_vs_rejected', xr.negFactor, true);
        }
      }
    }
  }
  return { list: [...best.values()], roles };
}

function roleOf(
  c: CandState,
  negf: NegativeFactors,
  pr: PassRateOptions,
  dropBelow: number,
  scores: ReadonlyMap<string, number> | undefined,
  skipped: Record<string, number>,
): Role {
  let passRate: number | undefined;
  if (c.outcomes) {
    let passed = 0;
    let total = 0;
    for (const [p, t] of c.outcomes.values()) {
      passed += p;
      total += t;
    }
    if (total >= pr.minTests && total > 0) passRate = passed / total;
  }
  const role: Role = { strength: 0, negFactor: 1, rejected: false, passRate, score: scores?.get(c.row.id) ?? c.row.score, trimmed: c.row.text.trim() };
  let positive: PositiveKind | undefined = c.accepted ? 'accepted' : c.partial >= 0 ? 'partial' : undefined;
  let strength = c.accepted ? 1 : c.partial;
  if (positive && c.survival) {
    if (c.survival.fraction < dropBelow) {
      bump(skipped, 'positive_dropped_by_survival');
      role.negative = 'shown';
      role.negFactor = negf.deleted;
      role.rejected = true;
      return role;
    }
    strength *= c.survival.fraction;
  }
  if (positive && passRate !== undefined && passRate <= pr.rejectedMax + EPS) {
    // Accepted but failing its tests: not trusted as a positive, and not a behavioural negative.
    bump(skipped, 'positive_fails_tests');
    positive = undefined;
  }
  if (positive) {
    role.positive = positive;
    role.strength = strength;
    return role;
  }
  if (c.accepted || c.partial >= 0) return role;
  if (c.reject) {
    role.negative = 'shown';
    role.rejected = true;
    role.negFactor = (REJECT_REASONS as readonly string[]).includes(c.reject.reason) ? negf[c.reject.reason as RejectReason] : negf.timeout;
  } else if (c.shown) {
    role.negative = 'shown';
    role.negFactor = negf.passed_over;
  } else {
    role.negative = 'unshown';
  }
  return role;
}

interface Selected extends PairDraft {
  pairing: Pairing;
  distance: number;
}

/**
 * Per chosen candidate: strong pairs (shown/rejected negatives, explicit rejections) and hard
 * negatives are all kept; the other negatives form a pool, kept whole when small, otherwise
 * thinned to its Levenshtein-nearest members plus seeded random ones (RewardRanker).
 */
function selectPairs(
  s: RequestState,
  roles: Role[],
  drafts: PairDraft[],
  opt: PairingOptions,
  seed: number,
  minWeight: number,
  skipped: Record<string, number>,
  cache?: Map<string, number>,
): Selected[] {
  const byChosen = new Map<number, PairDraft[]>();
  for (const d of drafts) {
    if (roles[d.c]!.trimmed === roles[d.n]!.trimmed) {
      bump(skipped, 'identical_text');
      continue;
    }
    if (!(d.weight > minWeight)) {
      bump(skipped, 'low_weight');
      continue;
    }
    let list = byChosen.get(d.c);
    if (!list) byChosen.set(d.c, (list = []));
    list.push(d);
  }
  const out: Selected[] = [];
  const text = (i: number): string => s.cands[i]!.row.text;
  const levenshtein = (a: string, b: string, c: number, n: number): number => {
    if (!cache) return levenshteinDistance(a, b);
    const key = `${s.cands[c]!.row.id}\0${s.cands[n]!.row.id}`;
    let d = cache.get(key);
    if (d === undefined) cache.set(key, (d = levenshteinDistance(a, b)));
    return d;
  };
  for (const [c, list] of byChosen) {
    const pool: PairDraft[] = [];
    for (const d of list) {
      if (d.strong || d.hard) out.push({ ...d, pairing: 'all', distance: levenshtein(text(c), text(d.n), c, d.n) });
      else pool.push(d);
    }
    if (pool.length <= opt.allUpTo) {
      for (const d of pool) out.push({ ...d, pairing: 'all', distance: levenshtein(text(c), text(d.n), c, d.n) });
      continue;
    }
    const measured = pool.map((d) => ({ d, distance: levenshtein(text(c), text(d.n), c, d.n) }));
    measured.sort((p, q) => p.distance - q.distance || p.d.n - q.d.n);
    const nearest = Math.max(0, Math.min(opt.nearest, measured.length));
    for (let i = 0; i < nearest; i++) out.push({ ...measured[i]!.d, pairing: 'nearest', distance: measured[i]!.distance });
    const rest = measured.slice(nearest).sort((p, q) => p.d.n - q.d.n);
    const random = Math.max(0, Math.min(opt.random, rest.length));
    const rand = mulberry32(hash32(`${s.row.id}\u0000${s.cands[c]!.row.id}`, seed));
    for (let i = 0; i < random; i++) {
      const j = i + Math.floor(rand() * (rest.length - i));
      const picked = rest[j]!;
      rest[j] = rest[i]!;
      rest[i] = picked;
      out.push({ ...picked.d, pairing: 'random', distance: picked.distance });
    }
    bump(skipped, 'sampled_out', rest.length - random);
  }
  return out;
}
