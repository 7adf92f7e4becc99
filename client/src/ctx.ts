/**
 * The extension's lifecycle: owns the LanguageClient, the status bar, the output channels and
 * the reaction to settings changes. Everything else asks the Ctx for a running client.
 *
 * Output channels, one per process:
 * - "Winnow": this extension's own log (bootstrap, restarts, failures).
 * - "Winnow Language Server": given to the LanguageClient; the server's `window/logMessage`
 *   and stderr land there.
 * - The engine is one process per user, shared by every VS Code window, so its log is not
 *   any one window's: it writes a log file in the data folder, which "Open Engine Log" in the
 *   status menu opens (see {@link Ctx.engineLogFile}). No third channel is created.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DidChangeConfigurationNotification, State, type LanguageClient } from 'vscode-languageclient/node';
import {
  FeedbackNotification,
  RestartEngineRequest,
  StatusNotification,
  WorkspaceTrustNotification,
  type FeedbackParams,
  type StatusParams,
} from '../../server/src/protocol';
import { bootstrap, errorMessage, resolveDataDir, type Bootstrap } from './bootstrap';
import { createClient, itemRefOf } from './client';
import { ENGINE_RESTART_SETTINGS, SECTION, restartSettingsAffected, type RestartSetting } from './config';
import { ExecutionConsent } from './execution';
import { TestRuns } from './testRuns';
import { FeedbackAdapter } from './feedback/vscodeAdapter';
import { ProblemNotifier, StatusBar, type ServerState } from './statusBar';

export const NOT_RUNNING = 'Winnow is not running';

export class Ctx implements vscode.Disposable {
  readonly log: vscode.LogOutputChannel;
  readonly serverChannel: vscode.LogOutputChannel;
  readonly statusBar: StatusBar;
  /** Feedback capture (shown, accepted, partially accepted, rejected, survival); outlives client restarts. */
  readonly feedback: FeedbackAdapter;
  private readonly execution: ExecutionConsent;
  readonly testRuns: TestRuns;
  private readonly problems: ProblemNotifier;
  private readonly rewardProblems: ProblemNotifier;
  private readonly disposables: vscode.Disposable[] = [];
  private readonly onStatusEmitter = new vscode.EventEmitter<StatusParams>();
  private readonly onFeedbackEmitter = new vscode.EventEmitter<FeedbackParams>();
  /** Fires on every `winnow/status` notification. */
  readonly onDidChangeStatus = this.onStatusEmitter.event;
  /** Fires on every `winnow/feedback` notification sent to the server. */
  readonly onDidSendFeedback = this.onFeedbackEmitter.event;

  private client: LanguageClient | undefined;
  private clientDisposables: vscode.Disposable[] = [];
  private startPromise: Promise<void> | undefined;
  private boot: Bootstrap | undefined;
  /** Set while this Ctx stops the client on purpose, so the state change is not read as a crash. */
  private stopping = false;
  /** Why the server is down for good, once the restart policy gave up (told to the user once). */
  private gaveUp: string | undefined;
  /** Serializes start / stop / restart. */
  private lifecycle: Promise<void> = Promise.resolve();
  /** Restart-requiring settings changed since the last (re)start. */
  private pendingRestart = new Set<RestartSetting>();

  constructor(readonly extCtx: vscode.ExtensionContext) {
    this.log = vscode.window.createOutputChannel('Winnow', { log: true });
    this.serverChannel = vscode.window.createOutputChannel('Winnow Language Server', { log: true });
    this.statusBar = new StatusBar();
    this.problems = new ProblemNotifier((err) => this.log.error(`showing a problem: ${errorMessage(err)}`));
    this.rewardProblems = new ProblemNotifier((err) => this.log.error(`showing a reward model problem: ${errorMessage(err)}`));
    this.feedback = new FeedbackAdapter({ send: (p) => this.sendFeedback(p), log: this.log, itemRefOf });
    this.execution = new ExecutionConsent((p) => {
      this.client?.sendNotification(WorkspaceTrustNotification, p).catch(this.logError('sending workspace trust'));
    }, this.log);
    this.testRuns = new TestRuns(this.onDidSendFeedback, (p) => this.sendFeedback(p), this.log);
    this.disposables.push(
      this.testRuns,
      this.execution,
      this.feedback,
      this.log,
      this.serverChannel,
      this.statusBar,
      this.onStatusEmitter,
      this.onFeedbackEmitter,
      vscode.workspace.onDidChangeConfiguration((e) => this.onConfigChange(e)),
    );
  }

  /** Starts the language server (which connects to, or starts, the engine). Throws what went wrong. */
  start(): Promise<void> {
    return this.serialize(() => this.doStart());
  }

  /** Graceful stop, dispose, start: picks up new settings and a new server bundle. */
  restart(): Promise<void> {
    return this.serialize(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.serialize(() => this.doStop());
  }

  /** The client when it is running, else undefined. */
  runningClient(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  /**
   * The running client, for commands that must work before any file opened it (the walkthrough):
   * waits for a start under way, starts the server when it is not running, throws why it could not.
   */
  async ensureClient(): Promise<LanguageClient> {
    await this.lifecycle;
    if (!this.runningClient()) await this.restart();
    const client = this.runningClient();
    if (!client) throw new Error(NOT_RUNNING);
    return client;
  }

  /** The client when it is running; else tells the user "Winnow is not running" and returns undefined. */
  requireClient(): LanguageClient | undefined {
    const client = this.runningClient();
    if (!client) {
      void vscode.window.showWarningMessage(this.notRunningText(), 'Show Logs').then((choice) => {
        if (choice) this.showLog('client');
      }, this.logError('"not running" message'));
    }
    return client;
  }

  /** "Winnow is not running yet (it is starting)." or why it is down. */
  notRunningText(): string {
    const server = this.statusBar.serverState;
    const detail = server.kind === 'down' ? `: ${server.reason.replace(/[.\s]+$/, '')}` : server.kind === 'starting' ? ' yet (it is starting)' : '';
    return `${NOT_RUNNING}${detail}.`;
  }

  get lastStatus(): StatusParams | undefined {
    return this.statusBar.lastStatus;
  }

  /** The data folder in use, or the one a start would use; undefined if even that fails. */
  get dataDir(): string | undefined {
    if (this.boot) return this.boot.init.dataDir;
    try {
      return resolveDataDir(this.extCtx);
    } catch {
      return undefined;
    }
  }

  get bootstrapInfo(): Bootstrap | undefined {
    return this.boot;
  }

  /** Sends a `winnow/feedback` notification if the server is running; drops it otherwise. */
  sendFeedback(params: FeedbackParams): void {
    const client = this.runningClient();
    if (!client) {
      this.log.debug(`feedback ${params.kind} for ${params.item.candidateId} dropped: the server is not running`);
      return;
    }
    this.onFeedbackEmitter.fire(params);
    client.sendNotification(FeedbackNotification, params).catch(this.logError(`sending feedback ${params.kind}`));
  }

  showLog(which: 'client' | 'server'): void {
    (which === 'client' ? this.log : this.serverChannel).show(true);
  }

  /**
   * The engine's log file: the newest `*.log` in the data folder's `logs/` subfolder or the
   * data folder itself (today `logs/engine.log`; the engine owns the name, so it is not
   * hard-coded here), or undefined when there is none yet.
   */
  engineLogFile(): string | undefined {
    const dir = this.dataDir;
    if (!dir) return undefined;
    let best: { file: string; mtime: number } | undefined;
    for (const d of [path.join(dir, 'logs'), dir]) {
      let names: string[];
      try {
        names = fs.readdirSync(d);
      } catch {
        continue;
      }
      for (const name of names) {
        if (!name.endsWith('.log')) continue;
        const file = path.join(d, name);
        try {
          const st = fs.statSync(file);
          if (st.isFile() && (!best || st.mtimeMs > best.mtime)) best = { file, mtime: st.mtimeMs };
        } catch {
          // vanished between readdir and stat
        }
      }
    }
    return best?.file;
  }

  /** A `.catch` handler that logs instead of leaving a rejection unhandled. */
  logError(what: string): (err: unknown) => void {
    return (err) => this.log.error(`${what}: ${errorMessage(err)}`);
  }

  dispose(): void {
    for (const d of this.clientDisposables.splice(0)) d.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  /** Stops the client; VS Code awaits this on deactivate. */
  async disposeAsync(): Promise<void> {
    // Pending survival checks are measured now, while the client can still send them.
    this.feedback.flush();
    try {
      await this.stop();
    } finally {
      this.dispose();
    }
  }

  private serialize(op: () => Promise<void>): Promise<void> {
    const next = this.lifecycle.then(op);
    this.lifecycle = next.catch(() => undefined);
    return next;
  }

  private async doStart(): Promise<void> {
    this.gaveUp = undefined;
    this.pendingRestart.clear();
    this.setServerState({ kind: 'starting' });
    let boot: Bootstrap;
    try {
      boot = bootstrap(this.extCtx, this.log);
    } catch (err) {
      this.setServerState({ kind: 'down', reason: errorMessage(err) });
      throw err;
    }
    this.boot = boot;

    const client = createClient(boot, {
      packageJSON: this.extCtx.extension.packageJSON,
      serverChannel: this.serverChannel,
      log: this.log,
      onGiveUp: (reason) => this.onGiveUp(reason),
      onInlineCompletions: (applied) => {
        this.feedback.onInlineCompletions(applied);
        this.execution.maybeAsk();
      },
    });
    this.client = client;
    this.clientDisposables.push(
      client.onNotification(StatusNotification, (params: StatusParams) => this.onStatus(params)),
      client.onDidChangeState(({ newState }) => this.onClientState(client, newState)),
    );

    this.log.info(`starting the language server (${boot.serverModule})`);
    const started = client.start();
    this.startPromise = started;
    try {
      await started;
    } catch (err) {
      const reason = `the language server did not start: ${errorMessage(err)}`;
      this.log.error(reason);
      this.setServerState({ kind: 'down', reason });
      throw new Error(`Winnow's ${reason}`);
    } finally {
      this.startPromise = undefined;
    }
    this.log.info('language server running');
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.stopping = true;
    try {
      // The library cannot stop a client that is still starting: let the start settle first.
      await this.startPromise?.catch(() => undefined);
      if (client.state === State.Running) await client.stop(3000);
    } catch (err) {
      this.log.warn(`stopping the language server: ${errorMessage(err)}`);
    } finally {
      try {
        await client.dispose();
      } catch (err) {
        this.log.debug(`disposing the language client: ${errorMessage(err)}`);
      }
      for (const d of this.clientDisposables.splice(0)) d.dispose();
      this.stopping = false;
    }
  }

  private onClientState(client: LanguageClient, state: State): void {
    if (client !== this.client || this.stopping) return;
    switch (state) {
      case State.Starting:
        this.setServerState({ kind: 'starting' });
        break;
      case State.Running:
        this.setServerState({ kind: 'running' });
        break;
      case State.Stopped:
        // Also passes through here while the restart policy restarts the server; Starting
        // follows at once in that case.
        this.setServerState({ kind: 'down', reason: this.gaveUp ?? 'the language server stopped' });
        break;
    }
  }

  private onGiveUp(reason: string): void {
    if (this.gaveUp) return;
    this.gaveUp = reason;
    const restart = 'Restart';
    const logs = 'Show Logs';
    void vscode.window.showErrorMessage(`Winnow stopped: ${reason}. It will not be restarted automatically.`, restart, logs).then((choice) => {
      if (choice === restart) this.restart().catch(this.logError('restart'));
      else if (choice === logs) this.showLog('server');
    }, this.logError('give-up message'));
  }

  private setServerState(state: ServerState): void {
    this.statusBar.setServerState(state);
    if (state.kind !== 'running') this.problems.update(undefined);
  }

  private onStatus(params: StatusParams): void {
    this.log.debug(`engine status: ${JSON.stringify(params)}`);
    this.statusBar.setStatus(params);
    this.problems.update(params.problem);
    // A reward model that was refused: said once, like the other problems.
    this.rewardProblems.update(params.rewardModel?.problem ? { code: 'reward_model', message: params.rewardModel.problem } : undefined);
    this.onStatusEmitter.fire(params);
  }

  private onConfigChange(e: vscode.ConfigurationChangeEvent): void {
    if (!e.affectsConfiguration(SECTION)) return;
    this.statusBar.refresh();
    // The server pulls `winnow` with workspace/configuration; this tells it to pull again.
    const client = this.runningClient();
    if (client) {
      client.sendNotification(DidChangeConfigurationNotification.type, { settings: null }).catch(this.logError('didChangeConfiguration'));
    }
    const changed = restartSettingsAffected(e);
    if (changed.length === 0) return;
    for (const key of changed) this.pendingRestart.add(key);
    const keys = [...this.pendingRestart];
    const restart = 'Restart';
    void vscode.window
      .showInformationMessage(`Winnow needs a restart to apply ${keys.join(', ')}.`, restart)
      .then(async (choice) => {
        if (choice !== restart || this.pendingRestart.size === 0) return; // already applied by another restart
        const engineToo = [...this.pendingRestart].some((k) => ENGINE_RESTART_SETTINGS.includes(k));
        await this.restart();
        // The engine is shared and outlives the server; restart it too when it reads the setting.
        const c = this.runningClient();
        if (engineToo && c) await c.sendRequest(RestartEngineRequest);
      })
      .then(undefined, (err: unknown) => {
        this.log.error(`restart after a settings change: ${errorMessage(err)}`);
        void vscode.window.showErrorMessage(`Winnow could not restart: ${errorMessage(err)}`);
      });
  }
}
