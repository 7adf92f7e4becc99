/**
 * The words and numbers the training commands and the status bar show: progress lines, the
 * end-of-training summary, the Roll Back quick-pick items, "when the ranker last changed".
 * Pure (no `vscode` import), so that the unit tests can check every text.
 */
import type { RankerChange, RankerInfo, RankersResult, TrainPhase, TrainProgress, TrainSummary, TripletCounts } from '../../server/src/protocol';

/** 0.745 → "74.5%". */
export function pct(x: number): string {
  return `${(100 * x).toFixed(1)}%`;
}

/** Accuracy gain in points, signed: 0.065 → "+6.5 points". */
export function points(delta: number): string {
  const p = 100 * delta;
  const text = Math.abs(p).toFixed(1);
  const sign = text === '0.0' ? '±' : p > 0 ? '+' : '−';
  return `${sign}${text} point${text === '1.0' ? '' : 's'}`;
}

/** How long ago `time` was, in words ("just now", "5 min ago", "3 h ago", "2 days ago"). */
export function ago(time: number, now: number): string {
  const s = Math.max(0, Math.round((now - time) / 1000));
  if (s < 45) return 'just now';
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.round(m / 60);
  if (h < 36) return `${h} h ago`;
  const d = Math.round(h / 24);
  return `${d} day${d === 1 ? '' : 's'} ago`;
}

const PHASES: Record<TrainPhase, string> = {
  loading: 'loading triplets',
  training: 'training',
  mining: 'mining hard negatives',
  evaluating: 'evaluating on held-out pairs',
  saving: 'saving the new version',
};

/**
 * One line for the progress notification: phase, round k of K, epoch, pairs, this round's
 * accuracy so far (on its early-stopping pairs) and the held-out accuracy of the last round done.
 */
export function progressText(p: TrainProgress): string {
  const parts = [PHASES[p.phase] ?? p.phase, `round ${p.round + 1} of ${p.rounds + 1}`];
  if (p.maxEpochs > 0 && p.phase === 'training') parts.push(`epoch ${p.epoch} of ${p.maxEpochs}`);
  if (p.trainPairs > 0 || p.heldOutPairs > 0) parts.push(`${p.trainPairs} pairs (${p.heldOutPairs} held out)`);
  if (p.heldOutAccuracy !== undefined && p.phase === 'training') parts.push(`accuracy ${pct(p.heldOutAccuracy)} on early-stopping pairs`);
  const done = p.completedRounds?.at(-1);
  if (done) parts.push(`held-out accuracy ${pct(done.heldOutAccuracy)} after round ${done.round + 1}`);
  return parts.join(' · ');
}

/** How far the training is, 0..1: rounds done plus this round's epochs (for the progress bar). */
export function progressFraction(p: TrainProgress): number {
  const rounds = Math.max(1, p.rounds + 1);
  const within = p.phase === 'saving' ? 1 : p.maxEpochs > 0 ? Math.min(1, p.epoch / p.maxEpochs) : 0;
  return Math.min(1, Math.max(0, (p.round + within) / rounds));
}

/** "640 triplets (accepted vs shown 400, pass rate 240)", largest source first; train and held-out summed. */
export function tripletsText(t: TripletCounts): string {
  const rows = Object.entries(t)
    .map(([source, n]) => [source.replace(/_/g, ' '), n.train + n.validation] as const)
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const total = rows.reduce((sum, [, n]) => sum + n, 0);
  if (total === 0) return 'no triplets';
  return `${total} triplet${total === 1 ? '' : 's'} (${rows.map(([s, n]) => `${s} ${n}`).join(', ')})`;
}

function sentence(text: string): string {
  const t = text.trim().replace(/[.\s]+$/, '');
  return t ? `${t[0]!.toUpperCase()}${t.slice(1)}.` : '';
}

export interface SummaryView {
  /** The notification's text. */
  text: string;
  severity: 'info' | 'warning';
}

/**
 * The message at the end of a training: what was decided (promoted, kept, skipped, failed,
 * cancelled), held-out pairwise accuracy of the active version before and of the new one
 * after, the triplets used by source, and why.
 */
export function summaryText(s: TrainSummary): SummaryView {
  const accuracy = (v: string | undefined): string => {
    const h = s.heldOut;
    if (!h) return '';
    return ` Held-out pairwise accuracy: ${h.activeVersion} (active) ${pct(h.activeAccuracy)} → ${v ?? 'new'} ${pct(h.accuracy)} (${points(h.accuracy - h.activeAccuracy)}, ${h.pairs} pairs).`;
  };
  const used = ` Trained on ${tripletsText(s.triplets)}.`;
  const why = ` Why: ${sentence(s.reason.replace(/^(promoted|kept, not activated|kept|skipped|training failed|failed|cancelled):\s*/i, ''))}`;
  switch (s.outcome) {
    case 'promoted':
      return { severity: 'info', text: `Winnow promoted ranker ${s.version ?? '(new)'}; it ranks your completions now.${accuracy(s.version)}${used}${why}` };
    case 'kept':
      return { severity: 'info', text: `Winnow kept ranker ${s.heldOut?.activeVersion ?? 'the active one'}: the new version${s.version ? ` ${s.version}` : ''} was saved but not activated.${accuracy(s.version)}${used}${why}` };
    case 'skipped':
      return { severity: 'info', text: `Winnow did not train: ${sentence(s.reason.replace(/^skipped:\s*/i, ''))} The ranker did not change.` };
    case 'cancelled':
      return { severity: 'info', text: 'Winnow: the training was cancelled; the ranker did not change.' };
    case 'failed':
      return { severity: 'warning', text: `Winnow's training failed: ${sentence(s.reason.replace(/^(training failed|failed):\s*/i, ''))} The ranker did not change.` };
  }
}

/** The summary as several lines, for the log: the message plus each round's figures. */
export function summaryLog(s: TrainSummary): string {
  const lines = [`training ${s.jobId} (${s.trigger}) ${s.outcome}${s.version ? ` ${s.version}` : ''} in ${(s.trainMs / 1000).toFixed(1)} s: ${s.reason}`];
  lines.push(`  triplets by source (train/held out): ${Object.entries(s.triplets).map(([k, n]) => `${k} ${n.train}/${n.validation}`).join(', ') || 'none'}`);
  for (const r of s.rounds) {
    lines.push(`  round ${r.round}: ${r.trainPairs} pairs (${r.hardNegatives} hard negatives), best epoch ${r.bestEpoch} of ${r.epochs}, held-out accuracy ${pct(r.heldOutAccuracy)}`);
  }
  return lines.join('\n');
}

export interface RankerPickItem {
  label: string;
  description: string;
  detail?: string;
  version: string;
  active: boolean;
}

/**
 * The Roll Back quick pick: one item per version, newest first and the built-in one last;
 * label = the version, description = active mark · held-out accuracy · pairs · when created,
 * detail = why it was (or was not) promoted.
 */
export function rankerPickItems(r: RankersResult, now: number): RankerPickItem[] {
  return newestFirst(r.versions).map((v) => {
    const active = v.active || v.version === r.active;
    const parts = [active ? '$(check) active' : undefined, ...figures(v, now)].filter((x): x is string => !!x);
    const detail = v.decision?.reason ?? (v.builtin ? 'The ranker Winnow ships with (hand-chosen weights).' : v.parent ? `Trained from ${v.parent}.` : undefined);
    return { label: v.version, description: parts.join(' · '), ...(detail ? { detail } : {}), version: v.version, active };
  });
}

/** Ranker versions, newest first and the built-in one last. */
export function newestFirst(versions: readonly RankerInfo[]): RankerInfo[] {
  return [...versions].sort((a, b) => Number(a.builtin) - Number(b.builtin) || b.createdAt - a.createdAt || b.version.localeCompare(a.version));
}

function figures(v: RankerInfo, now: number): string[] {
  if (v.builtin) return ['built-in'];
  return [
    v.heldOut ? `held-out accuracy ${pct(v.heldOut.accuracy)}` : 'held-out accuracy not measured',
    v.heldOut ? `${v.heldOut.pairs} pairs` : undefined,
    `created ${ago(v.createdAt, now)}`,
  ].filter((x): x is string => !!x);
}

/** For the status bar's tooltip: "v3 since 14:02 (2 h ago): promoted: ...". */
export function lastChangeText(c: RankerChange, now: number, clock: (t: number) => string = (t) => new Date(t).toLocaleString()): string {
  return `${c.version} since ${clock(c.time)} (${ago(c.time, now)}): ${c.reason}`;
}

/** The message after an activation. */
export function activatedText(r: { active: string; previous: string }): string {
  return r.active === r.previous ? `Winnow already ranks with ${r.active}.` : `Winnow now ranks with ${r.active} (was ${r.previous}).`;
}
