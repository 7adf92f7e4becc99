/**
 * What the dashboard computes from a `winnow/dashboard` reply before drawing it: rates,
 * the latency histogram, labels and the one-line summaries that charts carry as their
 * accessible names. Pure (no DOM, no Chart.js), so that the unit tests can check it.
 */
import type { DashboardResult, DashboardTiming, RankerInfo, RankersResult, TripletCounts } from '../../server/src/protocol';
import { ago, newestFirst, pct } from '../../client/src/trainingText';

export { pct };

const numberFormat = new Intl.NumberFormat('en-US');

/** 1234 → "1,234". */
export function count(n: number): string {
  return numberFormat.format(n);
}

/** Milliseconds as people read them: "0.4 ms", "38 ms", "1,250 ms", "12.5 s". */
export function ms(x: number): string {
  if (x >= 10_000) return `${(x / 1000).toFixed(1)} s`;
  return x < 10 ? `${x.toFixed(1)} ms` : `${count(Math.round(x))} ms`;
}

/** "accepted_vs_shown" → "accepted vs shown". */
export function words(id: string): string {
  return id.replace(/_/g, ' ');
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

/** What the banner above the figures says: why they are missing or stale; undefined when all is well. */
export function bannerText(d: Pick<DashboardResult, 'state' | 'message' | 'insights'>): string | undefined {
  const why = d.message?.trim().replace(/[.\s]+$/, '');
  if (d.state === 'ready' && d.insights) return why ? `${why}.` : undefined;
  return `The engine is ${d.state}${why ? `: ${why}` : d.state === 'ready' ? ' but gave no figures' : ''}. The dashboard updates when it answers.`;
}

// ---- acceptance ----------------------------------------------------------------------

/** `kept / shown`, or null when nothing was shown (no rate, rather than 0%). */
export function rate(kept: number, shown: number): number | null {
  return shown > 0 ? kept / shown : null;
}

export interface AcceptanceSeries {
  shown: readonly number[];
  accepted: readonly number[];
  partial: readonly number[];
}

/** Per bucket: suggestions kept (accepted whole or in part) over suggestions shown; null where none was shown. */
export function acceptanceRates(a: AcceptanceSeries): (number | null)[] {
  return a.shown.map((shown, i) => rate((a.accepted[i] ?? 0) + (a.partial[i] ?? 0), shown));
}

export interface RateRow {
  label: string;
  shown: number;
  kept: number;
  rate: number | null;
}

/** Over the whole window. */
export function overallAcceptance(a: AcceptanceSeries): RateRow {
  const shown = sum(a.shown);
  const kept = sum(a.accepted) + sum(a.partial);
  return { label: 'all', shown, kept, rate: rate(kept, shown) };
}

/** One row per language, most shown first. */
export function languageRates(rows: readonly { languageId: string; shown: number; accepted: number; partial: number }[]): RateRow[] {
  return rows
    .map((r) => ({ label: r.languageId, shown: r.shown, kept: r.accepted + r.partial, rate: rate(r.accepted + r.partial, r.shown) }))
    .sort((a, b) => b.shown - a.shown || a.label.localeCompare(b.label));
}

export interface RankRow {
  rank: number;
  shown: number;
  kept: number;
  /** Kept at this rank over shown at this rank. */
  rate: number | null;
  /** Kept at this rank over everything kept. */
  share: number | null;
}

/**
 * By the rank of the suggestion kept: rank 0 is the ranker's first pick; a higher rank means
 * the user cycled to another candidate. `firstPick`: the share of kept suggestions that were
 * the first pick.
 */
export function rankRates(rows: readonly { rank: number; shown: number; accepted: number }[]): { rows: RankRow[]; firstPick: number | null } {
  const kept = sum(rows.map((r) => r.accepted));
  const out = [...rows]
    .sort((a, b) => a.rank - b.rank)
    .map((r) => ({ rank: r.rank, shown: r.shown, kept: r.accepted, rate: rate(r.accepted, r.shown), share: rate(r.accepted, kept) }));
  return { rows: out, firstPick: rate(rows.find((r) => r.rank === 0)?.accepted ?? 0, kept) };
}

// ---- latency ----------------------------------------------------------------------

/** The parts of a completion's time, in the order the histogram stacks them. */
export const LATENCY_PARTS = ['generate', 'execute', 'score', 'hop'] as const;
export type LatencyPart = (typeof LATENCY_PARTS)[number];
export const PART_LABELS: Record<LatencyPart, string> = { generate: 'generation', execute: 'execution', score: 'scoring', hop: 'hop' };

/** What the user waited for: the engine's time plus the server ⇄ engine hop, when measured. */
export function totalOf(t: DashboardTiming): number {
  return t.totalMs + (t.hopMs ?? 0);
}

function partOf(t: DashboardTiming, p: LatencyPart): number | undefined {
  switch (p) {
    case 'generate':
      return t.generateMs;
    case 'execute':
      return t.executeMs;
    case 'score':
      return t.scoreMs;
    case 'hop':
      return t.hopMs;
  }
}

export interface LatencyBin {
  /** [from, to) in ms; the open bin (outliers) has `to` = Infinity. */
  from: number;
  to: number;
  count: number;
  /** Mean of each part over the bin's completions (the hop over those that measured it). */
  mean: Record<LatencyPart, number>;
}

export interface Histogram {
  /** Width of each bin but the open one, ms. */
  width: number;
  bins: LatencyBin[];
  n: number;
  p50: number;
  p90: number;
  max: number;
}

/** The smallest of 1, 2, 5 × 10^k at least `x` (at least 1: timings are in whole ms). */
export function niceStep(x: number): number {
  if (!(x > 1)) return 1;
  const base = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 5, 10].map((m) => m * base).find((s) => s >= x) ?? 10 * base;
}

/** Nearest-rank quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/**
 * Bins the completions' total time into at most `maxBins` bins of a round width from 0. When
 * a few outliers lie far beyond the rest (max over 3 × p95), the bins stop after p95 and one
 * open bin takes the rest, so that the bulk stays readable.
 */
export function latencyHistogram(timings: readonly DashboardTiming[], maxBins = 16): Histogram {
  const totals = timings.map(totalOf).sort((a, b) => a - b);
  const n = totals.length;
  const max = totals[n - 1] ?? 0;
  const p95 = quantile(totals, 0.95);
  const capped = n >= 20 && max > 3 * p95;
  const top = capped ? p95 : max;
  const width = niceStep(top / maxBins);
  const regular = Math.floor(top / width) + 1;
  const bins: LatencyBin[] = Array.from({ length: regular + (capped ? 1 : 0) }, (_, i) => ({
    from: i * width,
    to: i < regular ? (i + 1) * width : Infinity,
    count: 0,
    mean: { generate: 0, execute: 0, score: 0, hop: 0 },
  }));
  const members: DashboardTiming[][] = bins.map(() => []);
  for (const t of timings) members[Math.min(bins.length - 1, Math.floor(totalOf(t) / width))]!.push(t);
  bins.forEach((bin, i) => {
    const ts = members[i]!;
    bin.count = ts.length;
    for (const p of LATENCY_PARTS) {
      const values = ts.map((t) => partOf(t, p)).filter((v): v is number => v !== undefined);
      bin.mean[p] = values.length ? sum(values) / values.length : 0;
    }
  });
  return { width, bins, n, p50: quantile(totals, 0.5), p90: quantile(totals, 0.9), max };
}

/**
 * A bin's bar split by part: the bin's count shared out in proportion to each part's mean
 * time, so the bar's height stays the count and its colours show where the time went.
 */
export function stackedParts(bin: LatencyBin): Record<LatencyPart, number> {
  const total = sum(LATENCY_PARTS.map((p) => bin.mean[p]));
  const out = { generate: 0, execute: 0, score: 0, hop: 0 };
  for (const p of LATENCY_PARTS) out[p] = total > 0 ? (bin.count * bin.mean[p]) / total : p === 'generate' ? bin.count : 0;
  return out;
}

/** "0–100 ms", "1,500 ms and more". */
export function binLabel(bin: LatencyBin): string {
  return bin.to === Infinity ? `${count(bin.from)} ms and more` : `${count(bin.from)}–${count(bin.to)} ms`;
}

/** Where the budget falls on the bins' axis, in bins from the left edge; undefined past the regular bins. */
export function budgetPosition(h: Histogram, budgetMs: number): number | undefined {
  const regular = h.bins.filter((b) => b.to !== Infinity).length;
  const pos = budgetMs / h.width;
  return pos <= regular ? pos : undefined;
}

/** One sentence: how the times spread, and how many went over the budget. */
export function latencySummary(h: Histogram, timings: readonly DashboardTiming[], budgetMs: number): string {
  if (h.n === 0) return 'No completions timed yet.';
  const over = timings.filter((t) => totalOf(t) > budgetMs).length;
  return `Total time of the last ${count(h.n)} completions: median ${ms(h.p50)}, 90th percentile ${ms(h.p90)}, slowest ${ms(h.max)}; ${count(over)} over the ${ms(budgetMs)} budget.`;
}

export interface NUsed {
  trigger: 'auto' | 'manual';
  completions: number;
  /** Mean candidates asked of the generator, and mean the window asked for. */
  meanN: number;
  meanAsked: number;
}

/** Latency-aware N over the recent completions, per trigger (while typing, asked for). */
export function nUsed(timings: readonly DashboardTiming[]): NUsed[] {
  return (['auto', 'manual'] as const).flatMap((trigger) => {
    const ts = timings.filter((t) => t.trigger === trigger);
    if (ts.length === 0) return [];
    return [{ trigger, completions: ts.length, meanN: sum(ts.map((t) => t.n)) / ts.length, meanAsked: sum(ts.map((t) => t.nAsked)) / ts.length }];
  });
}

/** "The model server takes 54.5 ms per candidate plus 182 ms per request (fitted on 64 requests); the last completion asked for 6 of 8." */
export function samplingText(s: DashboardResult['sampling']): string {
  if (!s) return 'No generator speed measured yet: Winnow learns it from the first completions.';
  const last = s.lastN !== undefined ? ` The last completion asked for ${s.lastN}${s.lastNAsked !== undefined ? ` of ${s.lastNAsked}` : ''} candidates.` : '';
  return `The model server (${s.backend}${s.url ? ` ${s.url}` : ''}) takes about ${ms(s.perSampleMs)} per candidate plus ${ms(s.overheadMs)} per request (fitted on ${count(s.observations)} requests).${last}`;
}

// ---- series and labels ---------------------------------------------------------------

/** A label per bucket: "May 3" for day buckets, "May 3, 14:00" for shorter ones. */
export function bucketLabels(buckets: readonly number[], bucketMs: number, timeZone?: string): string[] {
  const day = bucketMs >= 86_400_000;
  const f = new Intl.DateTimeFormat('en-US', { month: 'short', day: 'numeric', ...(day ? {} : { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }), ...(timeZone ? { timeZone } : {}) });
  return buckets.map((b) => f.format(b));
}

/** "day" or "hour" (or "3 h"): what one bucket is, for titles. */
export function bucketUnit(bucketMs: number): string {
  if (bucketMs === 86_400_000) return 'day';
  if (bucketMs === 3_600_000) return 'hour';
  return bucketMs % 3_600_000 === 0 ? `${bucketMs / 3_600_000} h` : `${Math.round(bucketMs / 60_000)} min`;
}

/** "1,261 completions over 30 days; most on May 12 (96)." */
export function seriesSummary(what: string, values: readonly number[], labels: readonly string[], unit: string): string {
  const total = sum(values);
  if (total === 0) return `No ${what} in the last ${values.length} ${unit}s.`;
  let peak = 0;
  values.forEach((v, i) => {
    if (v > values[peak]!) peak = i;
  });
  return `${count(total)} ${what} over the last ${values.length} ${unit}s; most on ${labels[peak]} (${count(values[peak]!)}).`;
}

// ---- rankers ---------------------------------------------------------------------

export interface RankerRow {
  version: string;
  active: boolean;
  builtin: boolean;
  created: string;
  createdAt: number;
  /** Training pairs: the train split of its triplets, all sources. */
  pairs?: number;
  heldOut: string;
  decision: string;
}

/** Training pairs of a version: the train counts of its triplets, summed over sources. */
export function trainPairs(t: TripletCounts | undefined): number | undefined {
  return t ? sum(Object.values(t).map((c) => c.train)) : undefined;
}

/** The versions table: newest first, the built-in one last. */
export function rankerRows(r: RankersResult, now: number): RankerRow[] {
  return newestFirst(r.versions).map((v: RankerInfo) => {
    const h = v.heldOut;
    const pairs = trainPairs(v.triplets);
    return {
      version: v.version,
      active: v.active || v.version === r.active,
      builtin: v.builtin,
      created: v.builtin ? 'ships with Winnow' : ago(v.createdAt, now),
      createdAt: v.createdAt,
      ...(pairs !== undefined ? { pairs } : {}),
      heldOut: h ? `${pct(h.accuracy)} on ${count(h.pairs)} pairs (${h.activeVersion}: ${pct(h.activeAccuracy)})` : v.builtin ? '—' : 'not measured',
      decision: v.decision ? v.decision.reason : v.builtin ? 'hand-chosen weights' : '—',
    };
  });
}
