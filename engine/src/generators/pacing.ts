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
 * An answer cut by the budget counts as taking the whole budget and a quarter more, so that
 * a server slower than the budget is asked for fewer candidates at once.
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
}

/** The share of the generation budget the predicted time may take (answer times vary). */
export const PACE_HEADROOM = 0.85;
/** Answers kept per generator. */
export const PACE_WINDOW = 24;
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
    list.push({ n, ms: cut ? ms * 1.25 : ms });
    if (list.length > PACE_WINDOW) list.splice(0, list.length - PACE_WINDOW);
  }

  fit(key: string): PaceFit | undefined {
    const list = this.byKey.get(key);
    return list && list.length > 0 ? fitLine(list) : undefined;
  }

  /** How many candidates to ask for: as many as fit in `budgetMs` (the generation's share), within [1, maxN]. */
  choose(key: string, maxN: number, budgetMs: number): PaceChoice {
    const f = this.fit(key);
    if (!f) return { n: maxN, reason: 'no answer times measured yet' };
    const usable = budgetMs * PACE_HEADROOM;
    const predicted = (n: number) => f.overheadMs + f.perSampleMs * n;
    if (predicted(maxN) <= usable) return { n: maxN, reason: `${maxN} fit: about ${Math.round(predicted(maxN))} ms of ${Math.round(budgetMs)} ms` };
    const n = f.perSampleMs > 0 ? Math.floor((usable - f.overheadMs) / f.perSampleMs) : maxN;
    const chosen = Math.max(1, Math.min(maxN, n));
    return {
      n: chosen,
      reason: `${Math.round(f.overheadMs)} ms + ${f.perSampleMs.toFixed(1)} ms per candidate: ${chosen} of ${maxN} fit in ${Math.round(budgetMs)} ms${chosen === 1 && n < 1 ? ' (even 1 may not)' : ''}`,
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
