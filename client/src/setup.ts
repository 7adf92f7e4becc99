/**
 * The first-run walkthrough ("Get started with Winnow", package.json `contributes.walkthroughs`)
 * and its commands: choose a backend, test the connection, choose N and the latency budget,
 * decide about execution. Choices are written to the user's settings (ConfigurationTarget.Global),
 * the only ones Winnow reads for the generator and execution in an untrusted workspace.
 * Presets and texts: ./setupText.ts.
 */
import * as vscode from 'vscode';
import { TestConnectionRequest, type TestConnectionParams, type TestConnectionResult } from '../../server/src/protocol';
import { errorMessage } from './bootstrap';
import type { Cmd } from './commands';
import { SECTION, config } from './config';
import type { Ctx } from './ctx';
import { EXECUTION_CONSENT } from './execution';
import {
  BACKEND_PRESETS,
  CANDIDATE_PRESETS,
  CANDIDATES_EXPLANATION,
  EXECUTION_CHOICES,
  backendSettings,
  candidateLabel,
  connectionText,
  presetOf,
  sandboxCaveat,
  urlProblem,
  type BackendPreset,
} from './setupText';

export const CHOOSE_BACKEND_COMMAND = 'winnow.chooseBackend';
export const TEST_CONNECTION_COMMAND = 'winnow.testConnection';
export const CHOOSE_CANDIDATES_COMMAND = 'winnow.chooseCandidates';
export const CHOOSE_EXECUTION_COMMAND = 'winnow.chooseExecution';

const WALKTHROUGH_ID = 'winnow-dev.winnow#winnow.gettingStarted';
/** globalState key: the first activation has been handled (the walkthrough opened or was not needed). */
const FIRST_RUN_KEY = 'winnow.firstRunDone';
/** Context key the "Test the connection" step completes on. */
const CONNECTED_CONTEXT = 'winnow.connected';

/**
 * Opens the walkthrough (the status menu's "Get Started", the first activation); VS Code reuses
 * a walkthrough page already open. `toSide`: beside the editor, keeping the focus there.
 */
export function openWalkthrough(toSide = false): Thenable<unknown> {
  return vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, toSide);
}

/**
 * First activation: opens the walkthrough beside the editor, once, when the user has set no
 * generator yet. Never in tests: not in extension test mode, nor with `workbench.startupEditor`
 * set to `none` (the test suites set it; so can a user who wants no welcome pages).
 */
export function maybeOpenWalkthrough(ctx: Ctx): void {
  const state = ctx.extCtx.globalState;
  if (state.get<boolean>(FIRST_RUN_KEY)) return;
  state.update(FIRST_RUN_KEY, true).then(undefined, ctx.logError('saving the first-run flag'));
  if (ctx.extCtx.extensionMode === vscode.ExtensionMode.Test) return;
  if (vscode.workspace.getConfiguration('workbench').get<string>('startupEditor') === 'none') return;
  const c = vscode.workspace.getConfiguration(SECTION);
  if (c.inspect('generator.url')?.globalValue !== undefined || c.inspect('generator.backend')?.globalValue !== undefined) return;
  ctx.log.info('first run with no generator set: opening the walkthrough');
  openWalkthrough(true).then(undefined, ctx.logError('opening the walkthrough'));
}

/** `winnow.chooseBackend`: the model server (or the recorded demo), its URL and model. */
export function chooseBackend(ctx: Ctx): Cmd {
  return async () => {
    const current = config.generator;
    const currentPreset = presetOf(current.backend, current.url);
    const picked = await vscode.window.showQuickPick(
      BACKEND_PRESETS.map((p) => ({
        label: p.label,
        description: [p.url ?? 'no server', p === currentPreset ? '(current)' : ''].filter(Boolean).join(' '),
        detail: p.detail,
        preset: p,
      })),
      { title: 'Winnow: Choose Backend', placeHolder: 'Which model server do you run?', matchOnDetail: true },
    );
    if (!picked) return;
    const preset = picked.preset;
    if (preset.backend === 'recorded') {
      const files = await vscode.window.showOpenDialog({
        title: 'Winnow: a recorded pool (JSONL, one prompt and its samples a line)',
        openLabel: 'Use This Pool',
        canSelectMany: false,
        ...(current.recordedPool ? { defaultUri: vscode.Uri.file(current.recordedPool) } : {}),
        filters: { 'JSON Lines': ['jsonl'] },
      });
      const pool = files?.[0];
      if (!pool) return;
      await writeUserSettings(ctx, backendSettings(preset, { recordedPool: pool.fsPath }));
    } else {
      const url = await vscode.window.showInputBox({
        title: `Winnow: ${preset.label} URL`,
        prompt: `Where ${preset.label} listens (its usual address is ${preset.url ?? ''})`,
        value: preset === currentPreset ? current.url : preset.url,
        validateInput: urlProblem,
        ignoreFocusOut: true,
      });
      if (url === undefined) return;
      await writeUserSettings(ctx, backendSettings(preset, { url }));
      if (preset.needsModel) {
        const model = await askModel(ctx, preset, current.model);
        if (model === undefined) return;
        await writeUserSettings(ctx, { 'generator.model': model.trim() });
      }
    }
    const test = 'Test Connection';
    const g = config.generator;
    const where = g.backend === 'recorded' ? `the recorded pool ${g.recordedPool}` : `${preset.label} at ${g.url}${g.model ? ` (model ${g.model})` : ''}`;
    void vscode.window.showInformationMessage(`Winnow will use ${where}.`, test).then(async (choice) => {
      if (choice === test) await vscode.commands.executeCommand(TEST_CONNECTION_COMMAND);
    }, ctx.logError('backend message'));
  };
}

/** The model name: picked from what the server lists when it answers, else typed. Undefined: cancelled. */
async function askModel(ctx: Ctx, preset: BackendPreset, current: string): Promise<string | undefined> {
  let models: string[] = [];
  try {
    models = (await probe(ctx, `Winnow: asking ${preset.label} for its models…`))?.models ?? [];
  } catch (err) {
    ctx.log.warn(`listing the models of ${preset.label}: ${errorMessage(err)}`);
  }
  const other = '$(edit) Another model…';
  if (models.length > 0) {
    const picked = await vscode.window.showQuickPick(
      [...models.map((m) => ({ label: m, description: m === current ? '(current)' : undefined })), { label: other }],
      { title: `Winnow: ${preset.label} model`, placeHolder: `The models ${preset.label} lists` },
    );
    if (!picked) return undefined;
    if (picked.label !== other) return picked.label;
  }
  return vscode.window.showInputBox({
    title: `Winnow: ${preset.label} model`,
    prompt: models.length > 0 ? 'The model name' : `The model name (${preset.label} listed none, or did not answer)`,
    value: current,
    placeHolder: preset.id === 'ollama' ? 'qwen2.5-coder:7b' : 'the model the server serves',
    validateInput: (v) => (v.trim() ? undefined : 'Enter a model name'),
    ignoreFocusOut: true,
  });
}

/**
 * `winnow.testConnection`: asks the language server (started first when no file started it) to
 * probe the generator the settings name, and says what it found. Returns the result (tests).
 */
export function testConnection(ctx: Ctx): Cmd {
  return async () => {
    let result: TestConnectionResult | undefined;
    try {
      result = await probe(ctx, 'Winnow: testing the connection…');
    } catch (err) {
      ctx.log.error(`test connection: ${errorMessage(err)}`);
      showConnectionProblem(ctx, `Winnow could not test the connection: ${errorMessage(err)}`);
      return undefined;
    }
    if (!result) return undefined;
    const text = connectionText(result);
    await vscode.commands.executeCommand('setContext', CONNECTED_CONTEXT, result.ok);
    if (result.ok) {
      ctx.log.info(text);
      void vscode.window.showInformationMessage(text).then(undefined, ctx.logError('connection message'));
    } else {
      ctx.log.warn(text);
      showConnectionProblem(ctx, text);
    }
    return result;
  };
}

/**
 * Sends `winnow/testConnection` with the active document's settings, in a cancellable progress
 * notification. Undefined: the user cancelled.
 */
function probe(ctx: Ctx, title: string): Thenable<TestConnectionResult | undefined> {
  return vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title, cancellable: true }, async (_progress, token) => {
    const client = await ctx.ensureClient();
    const uri = vscode.window.activeTextEditor?.document.uri.toString();
    const params: TestConnectionParams = uri ? { uri } : {};
    try {
      return await client.sendRequest<TestConnectionResult>(TestConnectionRequest, params, token);
    } catch (err) {
      if (token.isCancellationRequested) return undefined;
      throw err;
    }
  });
}

function showConnectionProblem(ctx: Ctx, text: string): void {
  const choose = 'Choose Backend';
  const logs = 'Show Logs';
  void vscode.window.showErrorMessage(text, choose, logs).then(async (choice) => {
    if (choice === choose) await vscode.commands.executeCommand(CHOOSE_BACKEND_COMMAND);
    else if (choice === logs) ctx.showLog('server');
  }, ctx.logError('connection message'));
}

/** `winnow.chooseCandidates`: N and the latency budget, from presets. */
export function chooseCandidates(ctx: Ctx): Cmd {
  return async () => {
    const s = config.settings();
    const picked = await vscode.window.showQuickPick(
      CANDIDATE_PRESETS.map((p) => ({
        label: candidateLabel(p),
        description: p.candidates === s.candidates && p.latencyBudgetMs === s.latencyBudgetMs ? '(current)' : undefined,
        detail: p.detail,
        preset: p,
      })),
      { title: 'Winnow: Candidates and Latency Budget', placeHolder: CANDIDATES_EXPLANATION },
    );
    if (!picked) return;
    await writeUserSettings(ctx, { candidates: picked.preset.candidates, latencyBudgetMs: picked.preset.latencyBudgetMs });
  };
}

/** `winnow.chooseExecution`: off, ask or on; on asks to confirm, saying what runs and what the sandbox does not contain. */
export function chooseExecution(ctx: Ctx): Cmd {
  return async () => {
    const current = vscode.workspace.getConfiguration(SECTION).get<string>('execution.enabled', 'ask');
    const picked = await vscode.window.showQuickPick(
      EXECUTION_CHOICES.map((c) => ({ ...c, description: c.mode === current ? '(current)' : undefined })),
      { title: 'Winnow: Run Candidates Against Tests?', placeHolder: 'Whether Winnow may run your model’s code to rank it' },
    );
    if (!picked) return;
    if (picked.mode === 'on') {
      const allow = 'Allow';
      const choice = await vscode.window.showWarningMessage(
        'Let Winnow run candidates against tests?',
        { modal: true, detail: `${EXECUTION_CONSENT}\n\n${sandboxCaveat(process.platform)}` },
        allow,
      );
      if (choice !== allow) return;
    }
    await writeUserSettings(ctx, { 'execution.enabled': picked.mode });
  };
}

/**
 * Writes `winnow.*` user settings, and says so when the open workspace sets one of them itself
 * (a trusted workspace's own values win over the user's).
 */
async function writeUserSettings(ctx: Ctx, values: Record<string, string | number>): Promise<void> {
  const c = vscode.workspace.getConfiguration(SECTION);
  for (const [key, value] of Object.entries(values)) await c.update(key, value, vscode.ConfigurationTarget.Global);
  ctx.log.info(`user settings: ${Object.entries(values).map(([k, v]) => `${SECTION}.${k} = ${JSON.stringify(v)}`).join(', ')}`);
  if (!vscode.workspace.isTrusted) return;
  const overridden = Object.keys(values).filter((k) => {
    const i = c.inspect(k);
    return i?.workspaceValue !== undefined || i?.workspaceFolderValue !== undefined;
  });
  if (overridden.length === 0) return;
  void vscode.window
    .showWarningMessage(`This workspace's own settings set ${overridden.map((k) => `${SECTION}.${k}`).join(', ')}; in it, they win over what you just chose.`)
    .then(undefined, ctx.logError('settings message'));
}
