/**
 * The commands, as factories over the Ctx. Those that need the language server ask the Ctx for
 * a running client and otherwise tell the user "Winnow is not running".
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { EngineStatusRequest, RestartEngineRequest, type EngineStatusResult, type RestartEngineResult, type TrainingState } from '../../server/src/protocol';
import { errorMessage } from './bootstrap';
import { isItemRef } from './client';
import { config } from './config';
import type { Ctx } from './ctx';
import { openWalkthrough } from './setup';
import { OPEN_DASHBOARD_COMMAND } from './dashboard/panel';
import { RETRAIN_COMMAND, ROLL_BACK_COMMAND } from './trainingCommands';
import { lastChangeText } from './trainingText';

export type Cmd = (...args: unknown[]) => unknown;

/** How long the status menu waits for the engine's status before showing what it knows. */
const STATUS_TIMEOUT_MS = 5000;

/** `winnow.restartEngine`: asks the server to stop and start the (shared) engine, with progress. */
export function restartEngine(ctx: Ctx): Cmd {
  return async () => {
    const client = ctx.requireClient();
    if (!client) return;
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Winnow: restarting the engine…', cancellable: true },
        (_progress, token) => client.sendRequest<RestartEngineResult>(RestartEngineRequest, token),
      );
      const state = result.state;
      ctx.log.info(`engine restarted${state ? ` (${state})` : ''}`);
      const text = state && state !== 'ready' ? `Winnow: the engine restarted and is ${state}.` : 'Winnow: the engine restarted.';
      void vscode.window.showInformationMessage(text).then(undefined, ctx.logError('restart message'));
    } catch (err) {
      ctx.log.error(`restart engine: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(`Winnow could not restart the engine: ${errorMessage(err)}`, 'Show Logs').then((choice) => {
        if (choice) ctx.showLog('server');
      }, ctx.logError('restart message'));
    }
  };
}

/**
 * `winnow.showLogs`: shows the language server's channel (where the server also reports what
 * the engine said). Takes an optional `'client'` to show the extension's own log.
 */
export function showLogs(ctx: Ctx): Cmd {
  return (which?: unknown) => ctx.showLog(which === 'client' ? 'client' : 'server');
}

/** Opens the engine's log file from the data folder. */
export async function openEngineLog(ctx: Ctx): Promise<void> {
  const file = ctx.engineLogFile();
  if (!file) {
    await vscode.window.showInformationMessage(`Winnow: no engine log yet in ${ctx.dataDir ?? 'the data folder'}.`);
    return;
  }
  await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
}

/**
 * The internal ACCEPT_COMMAND: VS Code runs it with the item's ItemRef when the user accepts an
 * item; the feedback capture sends `accepted` (and starts the survival checks).
 */
export function didAcceptCompletion(ctx: Ctx): Cmd {
  return (item: unknown) => {
    if (!isItemRef(item)) {
      ctx.log.warn(`accept command with an unexpected argument: ${JSON.stringify(item)}`);
      return;
    }
    ctx.feedback.onAccept(item);
  };
}

/** `winnow.acceptNextWord` (Ctrl/Cmd+Right while ghost text is visible): VS Code's, recorded as `partially_accepted`. */
export function acceptNextWord(ctx: Ctx): Cmd {
  return () => ctx.feedback.acceptNextWord();
}

/** `winnow.acceptNextLine`: VS Code's, recorded as `partially_accepted`. */
export function acceptNextLine(ctx: Ctx): Cmd {
  return () => ctx.feedback.acceptNextLine();
}

/** `winnow.dismissInlineSuggestion` (Escape while ghost text is visible): recorded as `rejected` (dismissed), then hidden. */
export function dismissInlineSuggestion(ctx: Ctx): Cmd {
  return () => ctx.feedback.dismiss();
}

interface MenuItem extends vscode.QuickPickItem {
  run?: () => unknown;
}

/** `winnow.showStatusMenu`: engine status and the actions, in a QuickPick (the status bar's click). */
export function showStatusMenu(ctx: Ctx): Cmd {
  return async () => {
    const items = statusItems(ctx);
    const picked = await vscode.window.showQuickPick<MenuItem>(items, {
      title: 'Winnow',
      placeHolder: 'Winnow status and actions',
      matchOnDescription: true,
    });
    await picked?.run?.();
  };
}

async function statusItems(ctx: Ctx): Promise<MenuItem[]> {
  const client = ctx.runningClient();
  const status = client ? await fetchEngineStatus(ctx, client) : undefined;
  return [...describeStatus(ctx, client !== undefined, status), ...actions(ctx, client !== undefined)];
}

async function fetchEngineStatus(ctx: Ctx, client: LanguageClient): Promise<EngineStatusResult | { error: string }> {
  const cts = new vscode.CancellationTokenSource();
  const timer = setTimeout(() => cts.cancel(), STATUS_TIMEOUT_MS);
  try {
    return await client.sendRequest<EngineStatusResult>(EngineStatusRequest, cts.token);
  } catch (err) {
    ctx.log.warn(`engine status: ${errorMessage(err)}`);
    return { error: cts.token.isCancellationRequested ? `no answer within ${STATUS_TIMEOUT_MS / 1000} s` : errorMessage(err) };
  } finally {
    clearTimeout(timer);
    cts.dispose();
  }
}

function describeStatus(ctx: Ctx, running: boolean, result: EngineStatusResult | { error: string } | undefined): MenuItem[] {
  const items: MenuItem[] = [{ label: 'Status', kind: vscode.QuickPickItemKind.Separator }];
  const last = ctx.lastStatus;
  if (!running) {
    const server = ctx.statusBar.serverState;
    items.push(
      server.kind === 'down'
        ? { label: '$(error) Winnow is not running', detail: server.reason }
        : { label: '$(sync~spin) Winnow is starting' },
    );
  } else if (!result || 'error' in result) {
    items.push({ label: `$(server-process) Engine: ${last?.state ?? 'unknown'}`, description: result ? `status unavailable: ${result.error}` : undefined, detail: last?.message });
  } else {
    const e = result.engine;
    items.push({
      label: `$(server-process) Engine: ${result.state}`,
      description: e ? `pid ${e.pid} · up ${duration(e.uptimeMs)} · ${e.requestsServed} requests · protocol ${e.protocolVersion}` : undefined,
      detail: result.message,
    });
    if (e) {
      items.push({ label: `$(chip) Device: ${e.device.toUpperCase()}`, description: e.deviceReason });
      items.push(rankerItem(e.rankerVersion, e.training ?? last?.training));
      const g = e.generator;
      if (!g) items.push(generatorFromSettings());
      else {
        const where = [g.backend, g.url].filter(Boolean).join(' · ');
        items.push({
          label: `$(${g.reachable ? 'plug' : 'debug-disconnect'}) Generator: ${where}`,
          description: g.reachable ? 'reachable' : 'not reachable',
          detail: g.problem?.message,
        });
      }
    }
  }
  if (running && (!result || 'error' in result || !result.engine)) {
    // What the last `winnow/status` said, when the engine itself did not answer.
    if (last?.device) items.push({ label: `$(chip) Device: ${last.device.toUpperCase()}`, description: last.deviceReason });
    if (last?.rankerVersion) items.push(rankerItem(last.rankerVersion, last.training));
    items.push(generatorFromSettings());
  }
  const generatorProblemShown = !!result && !('error' in result) && !!result.engine?.generator?.problem;
  if (last?.problem && !generatorProblemShown) items.push({ label: `$(warning) ${last.problem.message}`, description: last.problem.code });
  const boot = ctx.bootstrapInfo;
  if (boot) {
    const from = { setting: 'winnow.engine.nodePath', PATH: 'PATH', vscode: "VS Code's own runtime" }[boot.nodeSource];
    items.push({ label: `$(terminal) Engine runtime: Node ${boot.nodeVersion}`, description: `${boot.init.nodePath} (from ${from})` });
  }
  const dataDir = result && !('error' in result) && result.engine ? result.engine.dataDir : ctx.dataDir;
  if (dataDir) {
    items.push({
      label: `$(folder) Data: ${dataDir}`,
      description: 'reveal',
      run: () => vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dataDir)),
    });
  }
  return items;
}

/** The ranker line: the active version, whether a training runs, and when and why it last changed. */
function rankerItem(version: string, training: TrainingState | undefined): MenuItem {
  const change = training?.lastChange;
  return {
    label: `$(versions) Ranker: ${version}`,
    ...(training?.running ? { description: 'a training is running' } : {}),
    ...(change ? { detail: `Last changed: ${lastChangeText(change, Date.now())}` } : {}),
  };
}

/** The generator as the settings describe it, when the engine has not probed it (no completion asked yet). */
function generatorFromSettings(): MenuItem {
  const gen = config.generator;
  const where = gen.backend === 'recorded' ? `recorded · ${gen.recordedPool || '(no pool set)'}` : `${gen.backend} · ${gen.url}`;
  return { label: `$(plug) Generator: ${where}`, description: 'from settings; not probed yet' };
}

function actions(ctx: Ctx, running: boolean): MenuItem[] {
  const items: MenuItem[] = [{ label: 'Actions', kind: vscode.QuickPickItemKind.Separator }];
  if (running) {
    items.push(
      { label: '$(debug-restart) Restart Engine', run: () => vscode.commands.executeCommand('winnow.restartEngine') },
      { label: '$(mortar-board) Retrain Ranker', description: 'from your feedback', run: () => vscode.commands.executeCommand(RETRAIN_COMMAND) },
      { label: '$(history) Roll Back Ranker', description: 'pick a ranker version', run: () => vscode.commands.executeCommand(ROLL_BACK_COMMAND) },
    );
  }
  items.push(
    { label: '$(graph) Open Dashboard', description: 'what Winnow learns', run: () => vscode.commands.executeCommand(OPEN_DASHBOARD_COMMAND) },
    {
      label: running ? '$(refresh) Restart Language Server' : '$(play) Start Winnow',
      run: () =>
        ctx.restart().catch((err: unknown) => {
          ctx.log.error(`restart: ${errorMessage(err)}`);
          void vscode.window.showErrorMessage(`Winnow could not start: ${errorMessage(err)}`).then(undefined, ctx.logError('restart message'));
        }),
    },
    { label: '$(output) Show Logs', description: 'language server', run: () => vscode.commands.executeCommand('winnow.showLogs') },
    { label: '$(output) Show Extension Log', run: () => vscode.commands.executeCommand('winnow.showLogs', 'client') },
    { label: '$(file) Open Engine Log', description: 'from the data folder', run: () => openEngineLog(ctx) },
    { label: '$(rocket) Get Started', description: 'backend, connection test, candidates, execution', run: () => openWalkthrough() },
    { label: '$(gear) Open Settings', run: () => vscode.commands.executeCommand('workbench.action.openSettings', 'winnow') },
  );
  return items;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}
