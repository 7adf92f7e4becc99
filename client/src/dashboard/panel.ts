/**
 * "Winnow: Open Dashboard": one webview panel (created, or revealed when open) showing what
 * Winnow learns. Its data comes only from the language server (`winnow/dashboard`), polled
 * while the panel is visible: every 3 s, every second while a training runs; no timer while it
 * is hidden or closed. The page (media/dashboard/main.ts) reads no files.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { DashboardRequest, type DashboardParams, type DashboardResult } from '../../../server/src/protocol';
import { errorMessage } from '../bootstrap';
import type { Cmd } from '../commands';
import type { Ctx } from '../ctx';
import { RETRAIN_COMMAND, ROLL_BACK_COMMAND } from '../trainingCommands';
import { dashboardHtml } from './html';
import { isPageMessage, type HostMessage, type PageMessage } from './messages';

export const OPEN_DASHBOARD_COMMAND = 'winnow.openDashboard';

const POLL_MS = 3000;
const TRAINING_POLL_MS = 1000;
/** A reply slower than this is given up on (the next poll asks again). */
const REQUEST_TIMEOUT_MS = 10_000;

/** `winnow.openDashboard`: opens the dashboard, or reveals it when it is open. */
export function openDashboard(ctx: Ctx): Cmd {
  let panel: DashboardPanel | undefined;
  ctx.extCtx.subscriptions.push({ dispose: () => panel?.dispose() });
  return () => {
    if (panel) panel.reveal();
    else panel = new DashboardPanel(ctx, () => (panel = undefined));
  };
}

class DashboardPanel implements vscode.Disposable {
  private readonly panel: vscode.WebviewPanel;
  private readonly disposables: vscode.Disposable[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: vscode.CancellationTokenSource | undefined;
  /** The last message sent, for a page that (re)loads. */
  private last: HostMessage | undefined;
  /** The last failure logged, so that a poll every 3 s does not repeat it. */
  private lastProblem: string | undefined;
  private disposed = false;
  /** Whether the panel tried to start the language server (once, when it was not running). */
  private startTried = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly onDisposed: () => void,
  ) {
    const media = vscode.Uri.joinPath(ctx.extCtx.extensionUri, 'media');
    this.panel = vscode.window.createWebviewPanel('winnow.dashboard', 'Winnow Dashboard', vscode.ViewColumn.Active, {
      enableScripts: true,
      localResourceRoots: [media],
    });
    const webview = this.panel.webview;
    webview.html = dashboardHtml({
      cspSource: webview.cspSource,
      script: webview.asWebviewUri(vscode.Uri.joinPath(media, 'out', 'dashboard.js')).toString(),
      style: webview.asWebviewUri(vscode.Uri.joinPath(media, 'dashboard', 'dashboard.css')).toString(),
      nonce: randomBytes(16).toString('base64'),
    });
    this.disposables.push(
      this.panel.onDidDispose(() => this.dispose()),
      // Hidden: the page is unloaded (no retainContextWhenHidden) and polling stops; shown again, it loads and says `ready`.
      this.panel.onDidChangeViewState(() => (this.panel.visible ? this.refresh() : this.stopPolling())),
      webview.onDidReceiveMessage((m: unknown) => this.onMessage(m)),
    );
    this.refresh();
  }

  reveal(): void {
    this.panel.reveal();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.stopPolling();
    this.inFlight?.cancel();
    this.onDisposed();
    this.panel.dispose();
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  private onMessage(m: unknown): void {
    if (!isPageMessage(m)) {
      this.ctx.log.warn(`dashboard: ignored a message from the page: ${String(JSON.stringify(m)).slice(0, 200)}`);
      return;
    }
    this.handle(m);
  }

  private handle(m: PageMessage): void {
    switch (m.type) {
      case 'ready':
        if (this.last) void this.panel.webview.postMessage(this.last);
        this.refresh();
        return;
      case 'retrain':
        this.runCommand(RETRAIN_COMMAND);
        // The training starts within a poll or two: follow it closely from now on.
        this.schedule(TRAINING_POLL_MS);
        return;
      case 'rollBack':
        this.runCommand(ROLL_BACK_COMMAND);
        return;
    }
  }

  /** Runs one of the extension's commands (it shows its own messages), then shows what changed. */
  private runCommand(id: string): void {
    vscode.commands.executeCommand(id).then(
      () => this.refresh(),
      (err: unknown) => this.ctx.log.error(`dashboard: ${id}: ${errorMessage(err)}`),
    );
  }

  /** Polls now, unless a poll is under way (its reply will be shown, and it schedules the next). */
  private refresh(): void {
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.disposed || !this.panel.visible || this.inFlight) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.poll(), ms);
  }

  private stopPolling(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async poll(): Promise<void> {
    this.timer = undefined;
    const message = await this.fetch();
    if (this.disposed) return;
    this.last = message;
    void this.panel.webview.postMessage(message);
    this.schedule(message.type === 'data' && message.data.training?.running ? TRAINING_POLL_MS : POLL_MS);
  }

  private async fetch(): Promise<HostMessage> {
    const cts = new vscode.CancellationTokenSource();
    this.inFlight = cts;
    let timedOut = false;
    let timeout: ReturnType<typeof setTimeout> | undefined;
    try {
      let client = this.ctx.runningClient();
      if (!client && !this.startTried) {
        // Opened before any file started Winnow: start it once (a failing start is not retried every poll).
        this.startTried = true;
        client = await this.ctx.ensureClient().catch(() => undefined);
      }
      if (!client) return { type: 'unavailable', message: this.ctx.notRunningText() };
      timeout = setTimeout(() => {
        timedOut = true;
        cts.cancel();
      }, REQUEST_TIMEOUT_MS);
      const data = await client.sendRequest<DashboardResult>(DashboardRequest, {} satisfies DashboardParams, cts.token);
      this.lastProblem = undefined;
      return { type: 'data', data };
    } catch (err) {
      if (this.disposed) return { type: 'unavailable', message: 'closed' };
      const problem = timedOut ? `no answer within ${REQUEST_TIMEOUT_MS / 1000} s` : errorMessage(err);
      if (problem !== this.lastProblem) this.ctx.log.warn(`dashboard: ${problem}`);
      this.lastProblem = problem;
      return { type: 'unavailable', message: `Winnow's language server did not give the dashboard's figures: ${problem}.` };
    } finally {
      clearTimeout(timeout);
      cts.dispose();
      this.inFlight = undefined;
    }
  }
}
