/**
 * The client side of the engine protocol: a ZeroMQ DEALER that sends requests and matches
 * replies by id. Used by the language server and the CLI; the engine itself never imports it.
 */
import * as crypto from 'node:crypto';
import * as zmq from 'zeromq';
import { decodeReply, encodeRequest, ProtocolError, type RequestMap, type RequestType } from './protocol';
import { isAlive } from './discovery';

interface Pending {
  resolve: (body: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class TimeoutError extends Error {
  constructor(type: string, ms: number) {
    super(`engine did not answer ${type} within ${ms} ms`);
    this.name = 'TimeoutError';
  }
}

export class CancelledError extends Error {
  constructor() {
    super('request cancelled');
    this.name = 'CancelledError';
  }
}

/** The engine's process ended while a request waited for it (only with the `pid` option). */
export class EngineDiedError extends Error {
  constructor(readonly pid: number) {
    super(`the engine (pid ${pid}) stopped while working on the request`);
    this.name = 'EngineDiedError';
  }
}

export class ClosedError extends Error {
  constructor() {
    super('engine connection closed');
    this.name = 'ClosedError';
  }
}

export class EngineClient {
  private readonly socket: zmq.Dealer;
  private readonly pending = new Map<string, Pending>();
  private sendChain: Promise<void> = Promise.resolve();
  private closed = false;
  private readonly prefix = crypto.randomBytes(4).toString('hex');
  private counter = 0;

  private pidWatch?: NodeJS.Timeout;

  /**
   * `options.pid`: the engine's pid; while requests wait, it is checked every 250 ms and they
   * fail at once with {@link EngineDiedError} when it is gone, instead of waiting out their timeouts.
   */
  constructor(
    readonly endpoint: string,
    private readonly options: { pid?: number } = {},
  ) {
    // linger 0: a closed client drops what it had queued instead of hanging the process.
    this.socket = new zmq.Dealer({ linger: 0, sendHighWaterMark: 10_000, receiveHighWaterMark: 10_000 });
    this.socket.connect(endpoint);
    void this.receiveLoop();
  }

  private watchPid(): void {
    const pid = this.options.pid;
    if (pid === undefined || this.pidWatch) return;
    this.pidWatch = setInterval(() => {
      if (this.pending.size === 0) {
        clearInterval(this.pidWatch);
        this.pidWatch = undefined;
        return;
      }
      if (isAlive(pid)) return;
      clearInterval(this.pidWatch);
      this.pidWatch = undefined;
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(new EngineDiedError(pid));
      }
      this.pending.clear();
    }, 250);
    this.pidWatch.unref();
  }

  /** Sends one request; rejects with {@link TimeoutError} after `timeoutMs`, {@link ProtocolError} on an error reply. */
  request<T extends RequestType>(type: T, body: RequestMap[T][0], timeoutMs: number, signal?: AbortSignal): Promise<RequestMap[T][1]> {
    if (this.closed) return Promise.reject(new ClosedError());
    if (signal?.aborted) return Promise.reject(new CancelledError());
    const id = `${this.prefix}-${++this.counter}`;
    return new Promise<RequestMap[T][1]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new TimeoutError(type, timeoutMs));
      }, timeoutMs);
      // Cancelling tells the engine to stop working on it (and drops its reply).
      signal?.addEventListener(
        'abort',
        () => {
          const p = this.pending.get(id);
          if (!p) return;
          clearTimeout(p.timer);
          this.pending.delete(id);
          p.reject(new CancelledError());
          if (!this.closed) {
            const frames = encodeRequest('cancel', `${id}-cancel`, { id });
            this.sendChain = this.sendChain.then(() => this.socket.send(frames)).catch(() => undefined);
          }
        },
        { once: true },
      );
      this.pending.set(id, { resolve: resolve as (b: unknown) => void, reject, timer });
      this.watchPid();
      const frames = encodeRequest(type, id, body);
      this.sendChain = this.sendChain
        .then(() => this.socket.send(frames))
        .catch((e: unknown) => {
          const p = this.pending.get(id);
          if (p) {
            clearTimeout(p.timer);
            this.pending.delete(id);
            p.reject(this.closed ? new ClosedError() : (e as Error));
          }
        });
    });
  }

  get inFlight(): number {
    return this.pending.size;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.pidWatch) clearInterval(this.pidWatch);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ClosedError());
    }
    this.pending.clear();
    this.socket.close();
  }

  private async receiveLoop(): Promise<void> {
    try {
      for await (const frames of this.socket) {
        const reply = decodeReply(frames);
        if (!reply) continue; // not ours or malformed: drop
        const p = this.pending.get(reply.id);
        if (!p) continue; // late reply to a request that timed out
        clearTimeout(p.timer);
        this.pending.delete(reply.id);
        if (reply.ok) p.resolve(reply.body);
        else p.reject(new ProtocolError(reply.error.code, reply.error.message));
      }
    } catch (e) {
      if (!this.closed) {
        for (const p of this.pending.values()) {
          clearTimeout(p.timer);
          p.reject(e as Error);
        }
        this.pending.clear();
      }
    }
  }
}
