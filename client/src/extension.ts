/**
 * Entry point: `activate` builds the Ctx, registers the command table and starts the language
 * server; `deactivate` stops it. Activation failures are caught and shown here, because VS
 * Code shows nothing when an extension's `activate` throws.
 */
import * as vscode from 'vscode';
import { ACCEPT_COMMAND, EngineStatusRequest, type EngineStatusResult } from '../../server/src/protocol';
import type { WinnowApi } from './api';
import { errorMessage } from './bootstrap';
import * as commands from './commands';
import * as dataset from './datasetCommands';
import { OPEN_DASHBOARD_COMMAND, openDashboard } from './dashboard/panel';
import { Ctx } from './ctx';
import * as setup from './setup';
import * as training from './trainingCommands';
import { DISMISS_COMMAND, LINE_COMMAND, WORD_COMMAND } from './feedback/vscodeAdapter';

/** The command table: every command the extension registers, and its factory. */
const COMMANDS: Record<string, (ctx: Ctx) => commands.Cmd> = {
  [training.RETRAIN_COMMAND]: training.retrainRanker,
  [training.ROLL_BACK_COMMAND]: training.rollBackRanker,
  [OPEN_DASHBOARD_COMMAND]: openDashboard,
  'winnow.restartEngine': commands.restartEngine,
  'winnow.showLogs': commands.showLogs,
  'winnow.showStatusMenu': commands.showStatusMenu,
  'winnow.exportDataset': dataset.exportDataset,
  'winnow.purgeDataset': dataset.purgeDataset,
  'winnow.openDataFolder': dataset.openDataFolder,
  'winnow.runTests': (c) => () => c.testRuns.run(),
  [setup.CHOOSE_BACKEND_COMMAND]: setup.chooseBackend,
  [setup.TEST_CONNECTION_COMMAND]: setup.testConnection,
  [setup.CHOOSE_CANDIDATES_COMMAND]: setup.chooseCandidates,
  [setup.CHOOSE_EXECUTION_COMMAND]: setup.chooseExecution,
  [ACCEPT_COMMAND]: commands.didAcceptCompletion,
  [WORD_COMMAND]: commands.acceptNextWord,
  [LINE_COMMAND]: commands.acceptNextLine,
  [DISMISS_COMMAND]: commands.dismissInlineSuggestion,
};

let ctx: Ctx | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<WinnowApi | undefined> {
  try {
    ctx = new Ctx(context);
    context.subscriptions.push(ctx);
    for (const [id, factory] of Object.entries(COMMANDS)) {
      context.subscriptions.push(vscode.commands.registerCommand(id, factory(ctx)));
    }
  } catch (err) {
    // Nothing to log to: the channels may be what failed.
    void vscode.window.showErrorMessage(`Winnow failed to activate: ${errorMessage(err)}`).then(undefined, () => undefined);
    console.error('Winnow failed to activate', err);
    return undefined;
  }

  const c = ctx;
  c.log.info(`activating Winnow ${String((context.extension.packageJSON as { version?: unknown }).version)} (VS Code ${vscode.version}, ${vscode.workspace.isTrusted ? 'trusted' : 'untrusted'} workspace)`);
  setup.maybeOpenWalkthrough(c);
  try {
    await c.start();
  } catch (err) {
    // The commands and the status bar stay up, so the user can read the logs, fix a setting
    // and start again from the status menu.
    c.log.error(`start failed: ${errorMessage(err)}`);
    const logs = 'Show Logs';
    const settings = 'Open Settings';
    void vscode.window.showErrorMessage(`Winnow could not start: ${errorMessage(err)}`, logs, settings).then(async (choice) => {
      if (choice === logs) c.showLog('client');
      else if (choice === settings) await vscode.commands.executeCommand('workbench.action.openSettings', 'winnow');
    }, c.logError('start failure message'));
  }
  return makeApi(c);
}

export async function deactivate(): Promise<void> {
  const c = ctx;
  ctx = undefined;
  await c?.disposeAsync();
}

function makeApi(c: Ctx): WinnowApi {
  return {
    isRunning: () => c.runningClient() !== undefined,
    get status() {
      return c.lastStatus;
    },
    onDidChangeStatus: c.onDidChangeStatus,
    onDidSendFeedback: c.onDidSendFeedback,
    statusBar: () => c.statusBar.snapshot(),
    engineStatus: async () => {
      const client = c.runningClient();
      if (!client) throw new Error('Winnow is not running');
      return client.sendRequest<EngineStatusResult>(EngineStatusRequest);
    },
  };
}
