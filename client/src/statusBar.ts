/**
 * The status bar item (engine state, device, ranker version; click: the status menu) and the
 * one-warning-per-problem notifier. Both are driven by `winnow/status` notifications and by
 * the language client's own state; neither sends anything to the server.
 */
import * as vscode from 'vscode';
import type { RewardModelView, StatusParams } from '../../server/src/protocol';
import { config } from './config';
import { lastChangeText } from './trainingText';

/** The language server's state as the client sees it (the engine's comes in StatusParams). */
export type ServerState =
  | { kind: 'starting' }
  | { kind: 'running' }
  /** Not running and not coming back by itself: bootstrap failed, or it crashed too often. */
  | { kind: 'down'; reason: string };

export const STATUS_MENU_COMMAND = 'winnow.showStatusMenu';

export interface StatusBarSnapshot {
  text: string;
  tooltip: string;
  command: string | undefined;
}

export class StatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private server: ServerState = { kind: 'starting' };
  private status: StatusParams | undefined;

  constructor() {
    this.item = vscode.window.createStatusBarItem('winnow.status', vscode.StatusBarAlignment.Right, 100);
    this.item.name = 'Winnow';
    this.item.command = STATUS_MENU_COMMAND;
    this.render();
    this.item.show();
  }

  setServerState(state: ServerState): void {
    this.server = state;
    // A new server knows nothing of the old one's engine status.
    if (state.kind !== 'running') this.status = undefined;
    this.render();
  }

  setStatus(status: StatusParams): void {
    this.status = status;
    this.render();
  }

  /** Re-renders, for settings that change what is shown (`winnow.enabled`). */
  refresh(): void {
    this.render();
  }

  get lastStatus(): StatusParams | undefined {
    return this.status;
  }

  get serverState(): ServerState {
    return this.server;
  }

  snapshot(): StatusBarSnapshot {
    const t = this.item.tooltip;
    return { text: this.item.text, tooltip: typeof t === 'string' ? t : (t?.value ?? ''), command: typeof this.item.command === 'string' ? this.item.command : this.item.command?.command };
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const view = describe(this.server, this.status, config.enabled);
    this.item.text = view.text;
    this.item.backgroundColor = view.background ? new vscode.ThemeColor(view.background) : undefined;
    this.item.tooltip = tooltip(view.headline, this.server, this.status);
  }
}

interface View {
  text: string;
  headline: string;
  background?: 'statusBarItem.warningBackground' | 'statusBarItem.errorBackground';
}

/** The mapping from (server state, engine status, enabled) to what the item shows. */
export function describe(server: ServerState, status: StatusParams | undefined, enabled: boolean): View {
  if (server.kind === 'down') return { text: '$(error) Winnow: not running', headline: 'Winnow is not running', background: 'statusBarItem.errorBackground' };
  if (server.kind === 'starting' || status === undefined || status.state === 'starting') {
    return { text: '$(sync~spin) Winnow starting', headline: 'Winnow is starting' };
  }
  switch (status.state) {
    case 'restarting':
      return { text: '$(warning) Winnow: engine restarting', headline: 'The Winnow engine is restarting', background: 'statusBarItem.warningBackground' };
    case 'down':
      return { text: '$(error) Winnow: engine down', headline: 'The Winnow engine is down', background: 'statusBarItem.errorBackground' };
    case 'ready': {
      const parts = [status.device ? status.device.toUpperCase() : undefined, status.rankerVersion, rewardPart(status.rewardModel)].filter((p): p is string => !!p);
      const detail = parts.length > 0 ? ` ${parts.join(' · ')}` : '';
      if (!enabled) return { text: `$(circle-slash) Winnow off${detail}`, headline: 'Winnow completions are off (winnow.enabled)' };
      if (status.problem) return { text: `$(warning) Winnow${detail}`, headline: 'Winnow is ready, with a problem', background: 'statusBarItem.warningBackground' };
      return { text: `$(sparkle) Winnow${detail}`, headline: 'Winnow is ready' };
    }
  }
}

function tooltip(headline: string, server: ServerState, status: StatusParams | undefined): vscode.MarkdownString {
  const md = new vscode.MarkdownString(undefined, true);
  md.appendMarkdown('**').appendText(headline).appendMarkdown('**\n\n');
  const line = (label: string, value: string): void => {
    md.appendMarkdown(`- ${label}: `).appendText(value).appendMarkdown('\n');
  };
  if (server.kind === 'down') line('Why', server.reason);
  if (status) {
    if (status.device) line('Device', status.device.toUpperCase() + (status.deviceReason ? ` (${status.deviceReason})` : ''));
    else if (status.deviceReason) line('Device', status.deviceReason);
    if (status.rankerVersion) line('Ranker', status.rankerVersion + (status.training?.running ? ' (a training is running)' : ''));
    if (status.training?.lastChange) line('Ranker changed', lastChangeText(status.training.lastChange, Date.now()));
    if (status.enginePid !== undefined) line('Engine pid', String(status.enginePid));
    if (status.message) line('Detail', status.message);
    if (status.problem) line('$(warning) Problem', status.problem.message);
    if (status.rankerNote) line('Note', status.rankerNote);
    const rm = status.rewardModel;
    if (rm) line('Reward model', rewardLine(rm));
    if (status.lastExecution) line('Tests, last completion', status.lastExecution);
  }
  md.appendMarkdown('\nClick for the Winnow menu.');
  return md;
}

/** The reward model in the item's text: its name and device, or that it is loading or refused. */
export function rewardPart(rm: RewardModelView | undefined): string | undefined {
  if (!rm) return undefined;
  if (rm.state === 'loading') return 'RM loading';
  if (rm.state === 'failed') return 'RM refused';
  return `RM ${rm.name ?? ''} ${rm.device ? rm.device.toUpperCase() : ''}`.replace(/\s+/g, ' ').trim();
}

/** The reward model in the tooltip: device, precision, scoring time, how often in time; or what is wrong. */
export function rewardLine(rm: RewardModelView): string {
  if (rm.state === 'loading') return `${rm.path}: loading (completions go on without it)`;
  if (rm.state === 'failed') return `${rm.path}: not used: ${rm.problem ?? 'it could not be loaded'}`;
  const scored = rm.inTime + rm.late;
  const timing = rm.p50Ms !== undefined ? `scoring p50 ${rm.p50Ms} ms; ${rm.inTime} of ${scored} completions scored within the latency budget` : 'no completion scored yet';
  const cpu = rm.device === 'cpu' ? ` (slow on CPU: ${(rm.deviceReason ?? '').replace(/^CPU:\s*/, '') || 'no GPU'})` : '';
  return `${rm.name ?? rm.path} on ${(rm.device ?? 'cpu').toUpperCase()}, ${rm.precision ?? 'fp32'}${cpu}; ${timing}`;
}

/**
 * Shows one warning per distinct problem the server reports (StatusParams.problem), never one
 * per keystroke: a problem is shown when it differs from the last one shown, and the same
 * problem is not shown again within {@link REPEAT_AFTER_MS} even if it clears and comes back.
 */
export class ProblemNotifier {
  static readonly REPEAT_AFTER_MS = 10 * 60 * 1000;
  private lastKey: string | undefined;
  private readonly shownAt = new Map<string, number>();

  constructor(private readonly onError: (err: unknown) => void) {}

  update(problem: StatusParams['problem'], now = Date.now()): void {
    if (!problem) {
      this.lastKey = undefined;
      return;
    }
    const key = `${problem.code}\u0000${problem.message}`;
    if (key === this.lastKey) return;
    this.lastKey = key;
    const at = this.shownAt.get(key);
    if (at !== undefined && now - at < ProblemNotifier.REPEAT_AFTER_MS) return;
    this.shownAt.set(key, now);
    this.show(problem);
  }

  private show(problem: NonNullable<StatusParams['problem']>): void {
    const openSettings = 'Open Settings';
    const showLogs = 'Show Logs';
    void vscode.window.showWarningMessage(problemText(problem), openSettings, showLogs).then(
      async (choice) => {
        if (choice === openSettings) await vscode.commands.executeCommand('workbench.action.openSettings', settingsQueryFor(problem.code));
        else if (choice === showLogs) await vscode.commands.executeCommand('winnow.showLogs');
      },
      this.onError,
    ).then(undefined, this.onError);
  }
}

/**
 * The warning text for a problem. The engine's messages usually say what to do already (and
 * name the setting); those are shown as they are. Otherwise the text names the server and
 * what to do about it.
 */
export function problemText(problem: { code: string; message: string }): string {
  const gen = config.generator;
  const msg = problem.message.trim().replace(/[.\s]+$/, '');
  // A message that already names a setting carries its own advice: show it as is.
  if (/\bwinnow\.[a-zA-Z]/.test(msg)) return `Winnow: ${msg}.`;
  switch (problem.code) {
    case 'unreachable':
      return `Winnow cannot reach the model server at ${gen.url}: ${msg}. Start llama.cpp / Ollama / vLLM, or change winnow.generator.url.`;
    case 'timeout':
      return `Winnow's model server at ${gen.url} did not answer in time: ${msg}. Check that it is running, or raise winnow.latencyBudgetMs.`;
    case 'http':
      return `Winnow's model server at ${gen.url} answered with an error: ${msg}. Check winnow.generator.model and the server's log.`;
    case 'config':
      return `Winnow's settings need attention: ${msg}.`;
    case 'no_match':
      return `Winnow's recorded pool has nothing for this code: ${msg}.`;
    case 'reward_model':
      return `Winnow: ${msg}. Completions go on without the reward model; fix the folder or change winnow.ranker.rewardModel.`;
    default:
      return `Winnow: ${msg}.`;
  }
}

function settingsQueryFor(code: string): string {
  if (code === 'reward_model') return 'winnow.ranker.rewardModel';
  return code === 'unreachable' || code === 'timeout' || code === 'http' || code === 'no_match' ? 'winnow.generator' : 'winnow';
}
