/**
 * The dataset commands: "Winnow: Export Dataset" (the training triplets as JSONL),
 * "Winnow: Purge Dataset" (after a modal confirmation) and "Winnow: Open Data Folder".
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ExportDatasetRequest,
  PurgeDatasetRequest,
  type ExportDatasetParams,
  type ExportDatasetResult,
  type PurgeDatasetResult,
} from '../../server/src/protocol';
import { errorMessage } from './bootstrap';
import type { Cmd } from './commands';
import type { Ctx } from './ctx';

export function exportDataset(ctx: Ctx): Cmd {
  return async (target?: unknown) => {
    const client = ctx.requireClient();
    if (!client) return;
    // A path argument (from tests or other extensions) skips the dialog.
    let file = typeof target === 'string' ? target : undefined;
    if (!file) {
      const home = ctx.dataDir ?? '';
      const uri = await vscode.window.showSaveDialog({
        title: 'Export Winnow training triplets',
        saveLabel: 'Export',
        defaultUri: vscode.Uri.file(path.join(vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? home, 'winnow-triplets.jsonl')),
        filters: { 'JSON Lines': ['jsonl'] },
      });
      if (!uri) return;
      file = uri.fsPath;
    }
    try {
      const params: ExportDatasetParams = { path: file };
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: 'Winnow: building and exporting triplets…' },
        () => client.sendRequest<ExportDatasetResult>(ExportDatasetRequest, params),
      );
      const sources = Object.entries(r.bySource)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ');
      ctx.log.info(`exported ${r.count} triplets to ${r.path} (${sources || 'none'})`);
      void vscode.window
        .showInformationMessage(`Winnow exported ${r.count} training triplets to ${r.path}.`, 'Open File')
        .then(async (choice) => {
          if (choice) await vscode.window.showTextDocument(vscode.Uri.file(r.path));
        }, ctx.logError('export message'));
    } catch (err) {
      ctx.log.error(`export: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(`Winnow could not export the dataset: ${errorMessage(err)}`).then(undefined, ctx.logError('export message'));
    }
  };
}

export function purgeDataset(ctx: Ctx): Cmd {
  return async (confirmed?: unknown) => {
    const client = ctx.requireClient();
    if (!client) return;
    if (confirmed !== true) {
      const purge = 'Purge';
      const choice = await vscode.window.showWarningMessage(
        'Delete everything Winnow has stored (completions, feedback events, triplets)?',
        { modal: true, detail: `This cannot be undone. The store is in ${ctx.dataDir ?? 'the data folder'}. Trained rankers are kept.` },
        purge,
      );
      if (choice !== purge) return;
    }
    try {
      const r = await client.sendRequest<PurgeDatasetResult>(PurgeDatasetRequest);
      ctx.log.info(`purged ${r.requests} requests and ${r.events} events`);
      void vscode.window.showInformationMessage(`Winnow deleted ${r.requests} completions and ${r.events} feedback events.`).then(undefined, ctx.logError('purge message'));
    } catch (err) {
      ctx.log.error(`purge: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(`Winnow could not purge the dataset: ${errorMessage(err)}`).then(undefined, ctx.logError('purge message'));
    }
  };
}

export function openDataFolder(ctx: Ctx): Cmd {
  return async () => {
    const dir = ctx.dataDir;
    if (!dir) {
      void vscode.window.showWarningMessage('Winnow has no data folder yet.').then(undefined, ctx.logError('data folder message'));
      return;
    }
    // In a desktop window the OS file manager opens it; in a remote window (where that is
    // the wrong machine), open it as a folder in a new window instead.
    if (vscode.env.remoteName) {
      await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(dir), { forceNewWindow: true });
    } else {
      await vscode.commands.executeCommand('revealFileInOS', vscode.Uri.file(dir));
    }
  };
}
