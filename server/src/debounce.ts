/**
 * Debounce and supersede: per document, only the newest completion request goes on to the
 * engine. An older request still waiting out its debounce, or still waiting for the engine,
 * is answered with nothing as soon as a newer one arrives for the same document.
 */

export interface Ticket {
  /** Resolves true when the request may go on, false when it was superseded or cancelled. */
  ready: Promise<boolean>;
  /** True once a newer request for the same key arrived. */
  readonly superseded: boolean;
  /** Aborted when a newer request for the same key arrives (or the key is forgotten). */
  readonly signal: AbortSignal;
}

export class Debouncer {
  private readonly latest = new Map<string, { gen: number; cancel: () => void }>();
  private counter = 0;

  /** Waits `delayMs`, unless superseded first. `isCancelled` is polled when the wait ends. */
  enter(key: string, delayMs: number, isCancelled: () => boolean): Ticket {
    const gen = ++this.counter;
    this.latest.get(key)?.cancel();
    let timer: NodeJS.Timeout | undefined;
    let settle: (v: boolean) => void = () => undefined;
    const controller = new AbortController();
    const ready = new Promise<boolean>((resolve) => {
      settle = resolve;
      timer = setTimeout(() => resolve(!isCancelled() && this.latest.get(key)?.gen === gen), delayMs);
    });
    this.latest.set(key, {
      gen,
      cancel: () => {
        if (timer) clearTimeout(timer);
        settle(false);
        controller.abort();
      },
    });
    const self = this;
    return {
      ready,
      signal: controller.signal,
      get superseded() {
        return self.latest.get(key)?.gen !== gen;
      },
    };
  }

  forget(key: string): void {
    this.latest.get(key)?.cancel();
    this.latest.delete(key);
  }
}
