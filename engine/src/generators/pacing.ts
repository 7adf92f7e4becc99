/**
 * Latency-aware N. A model server's answer time grows with the candidates asked for, more or
 * less linearly: time ≈ overhead + perSample × n (prompt processing and the HTTP round trip,
 * then decoding, which batches well on some servers and not at all on others). The pacer fits
 * that line, per generator, on its last answers (least squares), and asks for the largest N
 * whose predicted time fits the part of the latency budget left for generation, at least 1 and
 * at most what the window asked for. Pure: the engine feeds it times and asks it for N.
 *
 * With answers at a single N the two terms cannot be told apart; the whole time is then taken
 * as per-sample (no overhead), which never over-asks: the next answers, at another N, split it.
 * An answer cut by the budget only says the server is slower than that: it counts as taking
 * the budget and a quarter more while fewer than two Ns answered in time (then those answers
 * alone are fitted), and for its last {@link CUT_MEMORY} answers the pacer asks for fewer
 * candidates than the fewest that were cut.
 */

export interface PaceFit {
  overheadMs: number;
  perSampleMs: number;
  observations: number;
}

export interface PaceChoice {
  n: number;
  /** Why that many, in words (logged, and returned with the completion). */
  reason: string;
}

interface Observation {
  n: number;
  ms: number;
  cut?: boolean;
}

/** The share of the generation budget the predicted time may take (answer times vary). */
export const PACE_HEADROOM = 0.85;
/** Answers kept per generator. */
export const PACE_WINDOW = 24;
/** An answer cut by the budget at N keeps the next requests below N for this many answers. */
export const CUT_MEMORY = 8;
/** Generators remembered (one per backend, URL, model and token limit in use). */
const MAX_GENERATORS = 32;

export class SamplePacer {
  private readonly byKey = new Map<string, Observation[]>();

  /** Records an answer: `n` candidates asked for, `ms` until the answer; `cut`: the budget ended it first. */
  observe(key: string, n: number, ms: number, cut: boolean): void {
    if (!(n >= 1) || !Number.isFinite(ms) || ms < 0) return;
    let list = this.byKey.get(key);
    if (!list) {
      if (this.byKey.size >= MAX_GENERATORS) this.byKey.delete(this.byKey.keys().next().value as string);
      list = [];
      this.byKey.set(key, list);
    }
    list.push(cut ? { n, ms: ms * 1.25, cut } : { n, ms });
    if (list.length > PACE_WINDOW) list.splice(0, list.length - PACE_WINDOW);
  }

  fit(key: string): PaceFit | undefined {
    const list = this.byKey.get(key);
    if (!list || list.length === 0) return undefined;
    const inTime = list.filter((o) => !o.cut);
    return new Set(inTime.map((o) => o.n)).size >= 2 ? fitLine(inTime) : fitLine(list);
  }

  /** How many candidates to ask for: as many as fit in `budgetMs` (the generation's share), within [1, maxN]. */
  choose(key: string, maxN: number, budgetMs: number): PaceChoice {
    const f = this.fit(key);
    if (!f) return { n: maxN, reason: 'no answer times measured yet' };
    const usable = budgetMs * PACE_HEADROOM;
    const predicted = (n: number) => f.overheadMs + f.perSampleMs * n;
    // Below the fewest candidates that ran out of budget lately.
    const lastCut = (this.byKey.get(key) ?? []).slice(-CUT_MEMORY).filter((o) => o.cut);
    const below = lastCut.length > 0 ? Math.max(1, Math.min(...lastCut.map((o) => o.n)) - 1) : maxN;
    const fits = f.perSampleMs > 0 ? Math.floor((usable - f.overheadMs) / f.perSampleMs) : predicted(0) <= usable ? maxN : 0;
    const chosen = Math.max(1, Math.min(maxN, below, fits));
    if (chosen === maxN) return { n: maxN, reason: `${maxN} fit: about ${Math.round(predicted(maxN))} ms of ${Math.round(budgetMs)} ms` };
    return {
      n: chosen,
      reason: `${Math.round(f.overheadMs)} ms + ${f.perSampleMs.toFixed(1)} ms per candidate: ${chosen} of ${maxN} fit in ${Math.round(budgetMs)} ms${fits < 1 ? ' (even 1 may not)' : below < maxN && below <= fits ? ` (${below + 1} ran out of time lately)` : ''}`,
    };
  }
}

/** Least squares of ms on n; overhead and per-sample kept non-negative. */
export function fitLine(obs: readonly Observation[]): PaceFit {
  const k = obs.length;
  const meanN = obs.reduce((a, o) => a + o.n, 0) / k;
  const meanMs = obs.reduce((a, o) => a + o.ms, 0) / k;
  const varN = obs.reduce((a, o) => a + (o.n - meanN) ** 2, 0);
  if (varN === 0) return { overheadMs: 0, perSampleMs: meanMs / meanN, observations: k };
  let perSampleMs = obs.reduce((a, o) => a + (o.n - meanN) * (o.ms - meanMs), 0) / varN;
  let overheadMs = meanMs - perSampleMs * meanN;
  if (perSampleMs < 0) {
    // More candidates were not slower: the time is all overhead.
    perSampleMs = 0;
    overheadMs = meanMs;
  } else if (overheadMs < 0) {
    // The line through the origin that fits best.
    overheadMs = 0;
    perSampleMs = obs.reduce((a, o) => a + o.n * o.ms, 0) / obs.reduce((a, o) => a + o.n * o.n, 0);
  }
  return { overheadMs, perSampleMs, observations: k };
}
