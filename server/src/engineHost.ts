/**
 * The server's side of the engine: finds or starts the user's engine, keeps a DEALER
 * connection to it, watches its process, and restarts it when it dies. Reports every state
 * change through `onStatus`. Knows nothing of LSP.
 */
import { ClosedError, EngineClient, TimeoutError } from '../../engine/src/client';
import { isAlive, type EngineInfo } from '../../engine/src/discovery';
import { ensureEngine, findEngine, tailOfLog } from '../../engine/src/launcher';
import type { RequestMap, RequestType, StatusReply } from '../../engine/src/protocol';
import type { EngineState, StatusParams } from './protocol';

export interface EngineHostOptions {
  dataDir: string;
  nodePath: string;
  engineScript: string;
  env?: Record<string, string>;
  serveArgs?: string[];
  onStatus: (s: StatusParams) => void;
  log: (message: string) => void;
  /** How often the engine's pid is checked, in ms; default 250. */
  watchIntervalMs?: number;
  /**
   * The hang watchdog: the engine is pinged every `pingEveryMs` (default 5 s) with
   * `pingTimeoutMs` to answer (default 3 s); after `hungAfter` missed pings in a row (default 3)
   * while its process lives, it is taken as stuck, killed, and restarted like a crashed one.
   */
  pingEveryMs?: number;
  pingTimeoutMs?: number;
  hungAfter?: number;
}

export class NotReadyError extends Error {
  constructor(state: EngineState) {
    super(`engine is ${state}`);
    this.name = 'NotReadyError';
  }
}

/** At most this many automatic restarts in {@link RESTART_WINDOW_MS}; then the engine stays down. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 3 * 60_000;

export class EngineHost {
  private client?: EngineClient;
  private info?: EngineInfo;
  private watch?: NodeJS.Timeout;
  private pinger?: NodeJS.Timeout;
  private pingInFlight = false;
  private missedPings = 0;
  private starting?: Promise<void>;
  private restarts: number[] = [];
  private disposed = false;
  private _state: EngineState = 'down';
  private lastStatus?: StatusReply;

  constructor(private readonly opts: EngineHostOptions) {}

  get state(): EngineState {
    return this._state;
  }

  get enginePid(): number | undefined {
    return this.info?.pid;
  }

  /** Finds or starts the engine; resolves when it answers (or the attempt failed and the state is `down`). */
  start(reason: 'starting' | 'restarting' = 'starting', message?: string): Promise<void> {
    this.starting ??= this.doStart(reason, message).finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async doStart(reason: 'starting' | 'restarting', message?: string): Promise<void> {
    this.setState(reason, message ? { message } : {});
    this.detach();
    try {
      const info = await ensureEngine({
        dataDir: this.opts.dataDir,
        nodePath: this.opts.nodePath,
        engineScript: this.opts.engineScript,
        ...(this.opts.env ? { env: this.opts.env } : {}),
        ...(this.opts.serveArgs ? { serveArgs: this.opts.serveArgs } : {}),
        log: this.opts.log,
      });
      if (this.disposed) return;
      this.info = info;
      this.client = new EngineClient(info.endpoint);
      this.lastStatus = await this.client.request('status', {}, 5000);
      this.opts.log(`engine pid ${info.pid} ready at ${info.endpoint}: ranker ${this.lastStatus.rankerVersion} on ${this.lastStatus.device}`);
      this.startWatch(info.pid);
      // After a crash, ready says what happened (the status bar's tooltip shows it).
      const recovered = this.lastStatus.store.recovered;
      this.setState('ready', {
        ...(reason === 'restarting' && message ? { message: `${message.replace(/; restarting it\.$/, '.')} Restarted at ${new Date().toLocaleTimeString()}.` } : {}),
        ...(recovered ? { problem: { code: 'store_recovered', message: recovered } } : {}),
      });
    } catch (e) {
      this.detach();
      const msg = `The Winnow engine could not start: ${(e as Error).message}`;
      this.opts.log(msg);
      this.setState('down', { message: msg });
    }
  }

  private setState(state: EngineState, extra: Partial<StatusParams> = {}): void {
    this._state = state;
    const s = this.lastStatus;
    this.opts.onStatus({
      state,
      ...(state === 'ready' && s ? { device: s.device, deviceReason: s.deviceReason, rankerVersion: s.rankerVersion, enginePid: s.pid } : {}),
      ...(state === 'ready' && s?.training ? { training: { running: s.training.running, ...(s.training.lastChange ? { lastChange: { ...s.training.lastChange } } : {}) } } : {}),
      ...extra,
    });
  }

  private startWatch(pid: number): void {
    this.watch = setInterval(() => {
      if (!isAlive(pid)) this.onEngineDied(pid);
    }, this.opts.watchIntervalMs ?? 250);
    this.watch.unref();
    this.missedPings = 0;
    this.pinger = setInterval(() => void this.pingOnce(pid), this.opts.pingEveryMs ?? 5000);
    this.pinger.unref();
  }

  /**
   * One tick of the hang watchdog. An engine whose process lives but that answers no ping for
   * `hungAfter` ticks is stuck (a loop, a blocking call, a stopped process): it is killed, and
   * the pid watch restarts it, so that every window gets a working engine back.
   */
  private async pingOnce(pid: number): Promise<void> {
    const client = this.client;
    if (this.pingInFlight || !client || this.info?.pid !== pid || this._state !== 'ready') return;
    this.pingInFlight = true;
    try {
      await client.request('ping', {}, this.opts.pingTimeoutMs ?? 3000);
      this.missedPings = 0;
    } catch (e) {
      if (!(e instanceof TimeoutError) || this.info?.pid !== pid) return;
      this.missedPings++;
      const limit = this.opts.hungAfter ?? 3;
      if (this.missedPings < limit || !isAlive(pid)) return;
      this.hung = pid;
      this.opts.log(`engine pid ${pid} answered no ping for ${limit} checks in a row: it is stuck; killing it so that it is restarted`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone meanwhile */
      }
    } finally {
      this.pingInFlight = false;
    }
  }

  /** The pid the watchdog killed as stuck, for the restart message. */
  private hung?: number;

  private detach(): void {
    if (this.watch) clearInterval(this.watch);
    this.watch = undefined;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = undefined;
    this.client?.close();
    this.client = undefined;
  }

  private onEngineDied(pid: number): void {
    if (this.disposed || this.info?.pid !== pid) return;
    this.detach();
    this.info = undefined;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < RESTART_WINDOW_MS);
    if (this.restarts.length >= MAX_RESTARTS) {
      const msg = `The Winnow engine (pid ${pid}) stopped unexpectedly ${MAX_RESTARTS} times in ${RESTART_WINDOW_MS / 60_000} minutes; not restarting it again. Run "Winnow: Restart Engine" after checking the log.\n${tailOfLog(this.opts.dataDir)}`;
      this.opts.log(msg);
      this.setState('down', { message: msg });
      return;
    }
    this.restarts.push(now);
    const msg = this.hung === pid ? `The Winnow engine (pid ${pid}) stopped answering and was stopped; restarting it.` : `The Winnow engine (pid ${pid}) stopped unexpectedly; restarting it.`;
    this.hung = undefined;
    this.opts.log(`${msg}\n${tailOfLog(this.opts.dataDir, 5)}`);
    void this.start('restarting', msg);
  }

  /**
   * Sends one request. Rejects at once with {@link NotReadyError} when the engine is not
   * ready (starting it if it is down), so that callers can answer the editor quickly.
   */
  async request<T extends RequestType>(type: T, body: RequestMap[T][0], timeoutMs: number, signal?: AbortSignal): Promise<RequestMap[T][1]> {
    const client = this.client;
    if (this._state !== 'ready' || !client) {
      if (this._state === 'down' && !this.starting && !this.disposed) void this.start();
      throw new NotReadyError(this._state);
    }
    try {
      const reply = await client.request(type, body, timeoutMs, signal);
      if (type === 'status') this.lastStatus = reply as StatusReply;
      return reply;
    } catch (e) {
      // A timeout may mean the engine died between two watch ticks: look now.
      if (e instanceof TimeoutError && this.info && !isAlive(this.info.pid)) this.onEngineDied(this.info.pid);
      throw e;
    }
  }

  /** Graceful restart: ask the engine to stop, wait for its process to end, start again. */
  async restart(): Promise<void> {
    const known = this.info;
    this.detach();
    this.info = undefined;
    this.setState('restarting', { message: 'Restarting the engine on request.' });
    const running = known ?? (await findEngine(this.opts.dataDir));
    if (running) await this.stopEngine(running.pid, new EngineClient(running.endpoint));
    this.restarts = [];
    await this.start('restarting');
  }

  private async stopEngine(pid: number, client: EngineClient): Promise<void> {
    try {
      await client.request('shutdown', {}, 3000);
    } catch (e) {
      if (!(e instanceof ClosedError)) this.opts.log(`engine did not answer shutdown (${(e as Error).message}); terminating pid ${pid}`);
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    } finally {
      client.close();
    }
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    if (isAlive(pid)) {
      this.opts.log(`engine pid ${pid} still alive after 5 s; killing it`);
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  /** Stops watching and disconnects; the engine keeps running for other windows. */
  dispose(): void {
    this.disposed = true;
    this.detach();
  }
}
