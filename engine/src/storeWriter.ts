/**
 * All writes to the store go through here, off the completion path:
 * - Completion records and events are queued and written together in one transaction per
 *   turn of the event loop (group commit); a batch of events is acknowledged only once the
 *   transaction that holds it has committed.
 * - Secrets are redacted from every text before it is queued (context windows, candidates).
 * - When the disk is full (or the file cannot be written), records are held in memory up to
 *   a cap and written once the store accepts them again; the first failure is reported once
 *   through `onProblem`, and the recovery too. What is held in memory is not crash-safe.
 * - The store is pruned, oldest first, when its live data passes the size cap.
 * - One bad record never fails its neighbours: when a group commit fails for another reason
 *   than space, its records are written again one by one, and only those that still fail are
 *   refused (an event batch's reply counts them; completion records are logged).
 */
import type { LogFn } from './log';
import type { FeedbackEvent } from './protocol';
import { redactSecrets } from './redact';
import type { RequestRecord, Store } from './store';

export interface WriterOptions {
  /** Most records (requests + events) held in memory while the store cannot be written. */
  memoryCap?: number;
  /** Called once when writing starts failing (with why), and once when it works again (undefined). */
  onProblem?: (message: string | undefined) => void;
  /** How often the size cap is checked, in records written; default 100. */
  pruneEvery?: number;
}

export interface EventAck {
  /** Events committed to the store by this call. */
  stored: number;
  /** Events held in memory because the store could not be written. */
  held: number;
  /** Events the store refused (written one by one after their group commit failed). */
  rejected?: number;
}

interface PendingEvents {
  events: FeedbackEvent[];
  resolve: (ack: EventAck) => void;
  reject: (e: Error) => void;
}

const FULL = /SQLITE_(FULL|IOERR|READONLY|CANTOPEN)/;
/** Another connection (a triplets or export job, a training worker) holds the write lock past the busy timeout: try again shortly. */
const BUSY = /SQLITE_(BUSY|LOCKED)/;

export class StoreWriter {
  private requests: RequestRecord[] = [];
  private events: PendingEvents[] = [];
  private heldRequests: RequestRecord[] = [];
  private heldEvents: FeedbackEvent[] = [];
  private scheduled = false;
  private failing: string | undefined;
  private retryTimer?: NodeJS.Timeout;
  private writesSincePrune = 0;
  private dropped = 0;
  maxBytes = 512 * 1024 * 1024;
  redactions = 0;

  constructor(
    private readonly store: Store,
    private readonly log: LogFn,
    private readonly opts: WriterOptions = {},
  ) {}

  /** Queues a completion record (redacted here); never throws. */
  addRequest(r: RequestRecord): void {
    this.requests.push(this.redactRequest(r));
    this.schedule();
  }

  /** Queues events; resolves once they are committed (or held, when the disk is full). */
  addEvents(events: readonly FeedbackEvent[]): Promise<EventAck> {
    return new Promise<EventAck>((resolve, reject) => {
      this.events.push({ events: [...events], resolve, reject });
      this.schedule();
    });
  }

  /**
   * Replaces the feature rows of candidates already queued or stored (execution outcomes that
   * arrived after the reply). Never throws: a failure is logged and the old rows stay.
   */
  updateFeatures(requestId: string, rows: readonly { id: string; features: Float32Array; featureSet: string; rewardModel?: string }[]): void {
    const byId = new Map(rows.map((r) => [r.id, r]));
    const queued = [...this.requests, ...this.heldRequests].find((r) => r.id === requestId);
    if (queued) {
      for (const c of queued.candidates) {
        const r = byId.get(c.id);
        if (r) Object.assign(c, { features: r.features, featureSet: r.featureSet }, r.rewardModel !== undefined ? { rewardModel: r.rewardModel } : {});
      }
      return;
    }
    try {
      this.store.updateCandidateFeatures(rows);
    } catch (e) {
      this.log('warn', `could not store the late execution features of ${requestId}: ${(e as Error).message}`);
    }
  }

  get heldCount(): number {
    return this.heldRequests.length + this.heldEvents.length;
  }

  /** The user-facing message while the store cannot be written; undefined when it can. */
  get problem(): string | undefined {
    return this.failing;
  }

  private redactRequest(r: RequestRecord): RequestRecord {
    const red = (t: string) => {
      const x = redactSecrets(t);
      this.redactions += x.count;
      return x.text;
    };
    return { ...r, prefix: red(r.prefix), suffix: red(r.suffix), candidates: r.candidates.map((c) => ({ ...c, text: red(c.text) })) };
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  /** Writes everything queued (and anything held) in one transaction. */
  flush(): void {
    this.scheduled = false;
    const requests = [...this.heldRequests, ...this.requests];
    const batches = this.events;
    const events = [...this.heldEvents, ...batches.flatMap((b) => b.events)];
    this.requests = [];
    this.events = [];
    if (requests.length === 0 && events.length === 0) return;
    try {
      this.store.writeBatch(requests, events);
    } catch (e) {
      const message = (e as Error).message;
      const code = (e as { code?: string }).code ?? '';
      if (BUSY.test(code)) {
        // Nothing is wrong with the records: they go back in front of the queue, acknowledged once written.
        this.requests = [...requests.slice(this.heldRequests.length), ...this.requests];
        this.events = [...batches, ...this.events];
        this.log('warn', `store busy (${code}); writing ${requests.length + events.length} records again in 200 ms`);
        setTimeout(() => this.schedule(), 200).unref();
        return;
      }
      if (!FULL.test(code)) {
        // Not a space problem (a bad record, a bug): each record again on its own.
        this.log('warn', `store write of ${requests.length} completion records and ${events.length} events failed (${code || (e as Error).name}: ${message}); writing them one by one`);
        this.writeOneByOne(requests, this.heldEvents, batches);
        return;
      }
      this.hold(requests, events, `${code}: ${message}`);
      for (const b of batches) b.resolve({ stored: 0, held: b.events.length });
      return;
    }
    const recovered = this.heldRequests.length + this.heldEvents.length;
    this.heldRequests = [];
    this.heldEvents = [];
    if (this.failing !== undefined) {
      this.log('info', `store writable again: wrote ${recovered} held records`);
      this.failing = undefined;
      if (this.retryTimer) clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      this.opts.onProblem?.(undefined);
    }
    for (const b of batches) b.resolve({ stored: b.events.length, held: 0 });
    this.writesSincePrune += requests.length + events.length;
    if (this.writesSincePrune >= (this.opts.pruneEvery ?? 100)) this.pruneNow();
  }

  /**
   * After a failed group commit: every record in a transaction of its own. What fails again
   * is refused and logged; on a space error the rest is held, as in flush.
   */
  private writeOneByOne(requests: RequestRecord[], heldEvents: FeedbackEvent[], batches: PendingEvents[]): void {
    this.heldRequests = [];
    this.heldEvents = [];
    const holdRequests: RequestRecord[] = [];
    const holdEvents: FeedbackEvent[] = [];
    let full: string | undefined;
    /** 'ok', 'full' (held) or the error. */
    const write = (reqs: RequestRecord[], evs: FeedbackEvent[]): 'ok' | 'full' | Error => {
      if (full !== undefined) return 'full';
      try {
        this.store.writeBatch(reqs, evs);
        return 'ok';
      } catch (e) {
        const code = (e as { code?: string }).code ?? '';
        // Out of space, or still locked by another connection: held and written later, never refused.
        if (FULL.test(code) || BUSY.test(code)) {
          full = `${code}: ${(e as Error).message}`;
          return 'full';
        }
        return e as Error;
      }
    };
    for (const r of requests) {
      const res = write([r], []);
      if (res === 'full') holdRequests.push(r);
      else if (res !== 'ok') this.log('error', `a completion record (${r.id}) could not be stored and is dropped: ${res.message}`);
    }
    for (const ev of heldEvents) {
      const res = write([], [ev]);
      if (res === 'full') holdEvents.push(ev);
      else if (res !== 'ok') this.log('error', `a held event of ${ev.requestId} (${ev.kind}) could not be stored and is dropped: ${res.message}`);
    }
    for (const b of batches) {
      let stored = 0;
      let held = 0;
      let last: Error | undefined;
      for (const ev of b.events) {
        const res = write([], [ev]);
        if (res === 'ok') stored++;
        else if (res === 'full') {
          holdEvents.push(ev);
          held++;
        } else {
          last = res;
          this.log('error', `an event of ${ev.requestId} (${ev.kind}) could not be stored: ${res.message}`);
        }
      }
      const rejected = b.events.length - stored - held;
      if (stored === 0 && held === 0 && last) b.reject(last);
      else b.resolve({ stored, held, ...(rejected > 0 ? { rejected } : {}) });
    }
    if (full !== undefined) this.hold(holdRequests, holdEvents, full);
  }

  private hold(requests: RequestRecord[], events: FeedbackEvent[], why: string): void {
    const cap = this.opts.memoryCap ?? 100_000;
    this.heldEvents = events;
    this.heldRequests = requests;
    // Over the cap, completion records go first (events are the evidence), oldest first.
    const before = this.heldCount;
    let over = before - cap;
    if (over > 0) {
      const r = Math.min(over, this.heldRequests.length);
      this.heldRequests.splice(0, r);
      over -= r;
      if (over > 0) this.heldEvents.splice(0, over);
      this.dropped += before - this.heldCount;
      this.log('warn', `store still not writable: dropped ${this.dropped} records so far (memory cap ${cap})`);
    }
    if (this.failing === undefined) {
      this.failing = `Winnow cannot write its store (${why}); holding up to ${cap} records in memory until it can.${BUSY.test(why) ? '' : ' Free some disk space.'}`;
      this.log('error', this.failing);
      this.opts.onProblem?.(this.failing);
    }
    if (!this.retryTimer) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        if (this.heldCount > 0) this.schedule();
      }, 5000);
      this.retryTimer.unref();
    }
  }

  /** Applies the size cap now; returns how many requests were pruned. */
  pruneNow(): number {
    this.writesSincePrune = 0;
    try {
      if (this.store.liveBytes() <= this.maxBytes) return 0;
      // Down to 90% of the cap, so that pruning does not run on every check.
      const deleted = this.store.pruneTo(this.maxBytes * 0.9);
      if (deleted > 0) this.log('info', `store over ${Math.round(this.maxBytes / 1048576)} MB: pruned the ${deleted} oldest requests`);
      return deleted;
    } catch (e) {
      this.log('warn', `pruning the store failed: ${(e as Error).message}`);
      return 0;
    }
  }

  get droppedCount(): number {
    return this.dropped;
  }
}
