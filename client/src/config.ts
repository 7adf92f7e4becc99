/**
 * Typed access to the `winnow.*` settings declared in package.json, and the list of settings
 * that only take effect after a restart. Raw values are normalized here, at the boundary,
 * so the rest of the client never sees what the user typed.
 */
import * as vscode from 'vscode';
import { settingsFrom, type WinnowSettings } from '../../server/src/protocol';

export const SECTION = 'winnow';

export type RankerDevice = 'auto' | 'cpu' | 'cuda';

/**
 * Settings read when the language server and the engine start (they travel in
 * `InitializationOptions` or the engine's environment), so changing them needs a restart.
 * Every other `winnow.*` setting is pulled by the server per request.
 */
export const RESTART_SETTINGS = ['winnow.dataDir', 'winnow.engine.nodePath', 'winnow.ranker.device'] as const;
export type RestartSetting = (typeof RESTART_SETTINGS)[number];

/** Of {@link RESTART_SETTINGS}, those that the running engine itself reads (not only the server). */
export const ENGINE_RESTART_SETTINGS: readonly RestartSetting[] = ['winnow.engine.nodePath', 'winnow.ranker.device'];

/**
 * Resource-scoped settings (what the server pulls per document): those of `scope`, else of the
 * active editor's document.
 */
function resourceCfg(scope?: vscode.ConfigurationScope): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION, scope ?? vscode.window.activeTextEditor?.document.uri);
}

/**
 * Machine-scoped settings (`dataDir`, `engine.nodePath`, `ranker.device`): read with no
 * resource. With one, VS Code may resolve them differently (seen in a remote window with the
 * user settings file as the active editor: the user value was not returned).
 */
function machineCfg(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration(SECTION);
}

function str(key: string): string {
  const v = machineCfg().get<unknown>(key);
  return typeof v === 'string' ? v.trim() : '';
}

export const config = {
  /** The settings the server reads, normalized exactly as the server normalizes them. */
  settings(scope?: vscode.ConfigurationScope): WinnowSettings {
    const c = resourceCfg(scope);
    return settingsFrom({
      enabled: c.get('enabled'),
      generator: {
        backend: c.get('generator.backend'),
        url: c.get('generator.url'),
        model: c.get('generator.model'),
        recordedPool: c.get('generator.recordedPool'),
        temperature: c.get('generator.temperature'),
        maxTokens: c.get('generator.maxTokens'),
      },
      candidates: c.get('candidates'),
      latencyBudgetMs: c.get('latencyBudgetMs'),
      debounceMs: c.get('debounceMs'),
    });
  },
  get enabled(): boolean {
    return this.settings().enabled;
  },
  get generator(): WinnowSettings['generator'] {
    return this.settings().generator;
  },
  /** `winnow.dataDir`; empty when unset (the caller falls back to global storage). */
  get dataDir(): string {
    return str('dataDir');
  },
  /** `winnow.engine.nodePath`; empty when unset (the caller searches PATH). */
  get engineNodePath(): string {
    return str('engine.nodePath');
  },
  get rankerDevice(): RankerDevice {
    const v = machineCfg().get<unknown>('ranker.device');
    return v === 'cpu' || v === 'cuda' ? v : 'auto';
  },
};

/** The restart-requiring settings that this change touches (empty when none). */
export function restartSettingsAffected(e: vscode.ConfigurationChangeEvent): RestartSetting[] {
  return RESTART_SETTINGS.filter((key) => e.affectsConfiguration(key));
}
