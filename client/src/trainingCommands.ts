/**
 * The training commands: "Winnow: Retrain Ranker" (a cancellable progress notification that
 * follows the engine's training, then its summary) and "Winnow: Roll Back Ranker" (pick a
 * ranker version, activate it). The engine trains and decides; these only ask and show.
 * The texts are in ./trainingText.ts.
 */
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  ActivateRequest,
  RankersRequest,
  TrainCancelRequest,
  TrainRequest,
  TrainStatusRequest,
  type ActivateParams,
  type ActivateResult,
  type RankersResult,
  type TrainCancelResult,
  type TrainParams,
  type TrainResult,
  type TrainStatusResult,
  type TrainSummary,
} from '../../server/src/protocol';
import { errorMessage } from './bootstrap';
import type { Cmd } from './commands';
import type { Ctx } from './ctx';
import { activatedText, progressFraction, progressText, rankerPickItems, summaryLog, summaryText, type RankerPickItem } from './trainingText';

/** How often the progress notification asks for the training's status. */
const POLL_MS = 500;

export const RETRAIN_COMMAND = 'winnow.retrainRanker';
export const ROLL_BACK_COMMAND = 'winnow.rollBackRanker';

type Followed = { kind: 'ended'; summary: TrainSummary } | { kind: 'cancelled'; cancelled: boolean } | { kind: 'lost' };

/** `winnow.retrainRanker`: starts a training (or follows the one running) and shows its progress and summary. */
export function retrainRanker(ctx: Ctx): Cmd {
  return async () => {
    const client = ctx.requireClient();
    if (!client) return;
    let start: TrainResult;
    try {
      start = await client.sendRequest<TrainResult>(TrainRequest, {} satisfies TrainParams);
    } catch (err) {
      ctx.log.error(`train: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(errorMessage(err), 'Show Logs').then((choice) => {
        if (choice) ctx.showLog('server');
      }, ctx.logError('train message'));
      return;
    }
    ctx.log.info(start.started ? `training ${start.jobId} started` : `a training is already running (${start.jobId}); following it`);
    let followed: Followed;
    try {
      followed = await vscode.window.withProgress(
        {
          location: vscode.ProgressLocation.Notification,
          title: start.started ? 'Winnow: retraining the ranker' : 'Winnow: a training is already running',
          cancellable: true,
        },
        (progress, token) => follow(client, start.jobId, progress, token),
      );
    } catch (err) {
      ctx.log.error(`training status: ${errorMessage(err)}`);
      void vscode.window
        .showErrorMessage(`${errorMessage(err)} The training may still be running; the status bar says when it ends.`)
        .then(undefined, ctx.logError('train message'));
      return;
    }
    switch (followed.kind) {
      case 'cancelled':
        ctx.log.info(`training ${start.jobId} cancelled (${followed.cancelled ? 'stopped' : 'it had already ended'})`);
        void vscode.window
          .showInformationMessage(
            followed.cancelled ? 'Winnow: training cancelled; nothing changed.' : 'Winnow: the training had already ended when it was cancelled.',
          )
          .then(undefined, ctx.logError('train message'));
        return;
      case 'lost':
        ctx.log.warn(`training ${start.jobId}: no longer running and no summary for it (the engine may have restarted)`);
        void vscode.window
          .showWarningMessage('Winnow lost track of the training: the engine no longer runs it and has no summary for it (did the engine restart?). See "Winnow: Show Logs".')
          .then(undefined, ctx.logError('train message'));
        return;
      case 'ended':
        showSummary(ctx, followed.summary);
    }
  };
}

/** Polls `winnow/trainStatus` until the job ends or the user cancels (then sends `winnow/trainCancel`). */
async function follow(
  client: LanguageClient,
  jobId: string,
  progress: vscode.Progress<{ message?: string; increment?: number }>,
  token: vscode.CancellationToken,
): Promise<Followed> {
  let shown = 0; // percent already reported (increments add up)
  for (;;) {
    if (token.isCancellationRequested) {
      const r = await client.sendRequest<TrainCancelResult>(TrainCancelRequest);
      return { kind: 'cancelled', cancelled: r.cancelled };
    }
    const s = await client.sendRequest<TrainStatusResult>(TrainStatusRequest);
    if (s.last?.jobId === jobId && s.running?.jobId !== jobId) return { kind: 'ended', summary: s.last };
    if (s.running?.jobId !== jobId) return { kind: 'lost' };
    const p = s.running;
    const percent = Math.floor(100 * progressFraction(p));
    progress.report({ message: progressText(p), ...(percent > shown ? { increment: percent - shown } : {}) });
    shown = Math.max(shown, percent);
    await delay(POLL_MS, token);
  }
}

/** Resolves after `ms`, or as soon as `token` is cancelled. */
function delay(ms: number, token: vscode.CancellationToken): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    const sub = token.onCancellationRequested(done);
    function done(): void {
      clearTimeout(timer);
      sub.dispose();
      resolve();
    }
  });
}

function showSummary(ctx: Ctx, summary: TrainSummary): void {
  ctx.log.info(summaryLog(summary));
  const view = summaryText(summary);
  const rollBack = 'Roll Back…';
  const actions = summary.outcome === 'promoted' || summary.outcome === 'kept' ? [rollBack] : summary.outcome === 'failed' ? ['Show Logs'] : [];
  const show = view.severity === 'warning' ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  void show(view.text, ...actions).then(async (choice) => {
    if (choice === rollBack) await vscode.commands.executeCommand(ROLL_BACK_COMMAND);
    else if (choice) ctx.showLog('server');
  }, ctx.logError('training summary'));
}

/**
 * `winnow.rollBackRanker`: a quick pick of the ranker versions (the active one marked), then
 * activates the one picked. A version argument (from tests or other extensions) skips the pick.
 */
export function rollBackRanker(ctx: Ctx): Cmd {
  return async (version?: unknown) => {
    const client = ctx.requireClient();
    if (!client) return;
    let target = typeof version === 'string' && version ? version : undefined;
    if (!target) {
      let rankers: RankersResult;
      try {
        rankers = await client.sendRequest<RankersResult>(RankersRequest);
      } catch (err) {
        ctx.log.error(`rankers: ${errorMessage(err)}`);
        void vscode.window.showErrorMessage(errorMessage(err)).then(undefined, ctx.logError('rankers message'));
        return;
      }
      const items = rankerPickItems(rankers, Date.now());
      if (items.length <= 1) {
        void vscode.window
          .showInformationMessage(`Winnow has only one ranker version (${rankers.active}); nothing to roll back to yet. "Winnow: Retrain Ranker" trains one from your feedback.`)
          .then(undefined, ctx.logError('rankers message'));
        return;
      }
      const picked = await vscode.window.showQuickPick<RankerPickItem & vscode.QuickPickItem>(items, {
        title: 'Winnow: Roll Back Ranker',
        placeHolder: `The ranker version to use (active: ${rankers.active})`,
        matchOnDescription: true,
        matchOnDetail: true,
      });
      if (!picked) return;
      if (picked.active) {
        void vscode.window.showInformationMessage(`Winnow already ranks with ${picked.version}.`).then(undefined, ctx.logError('rankers message'));
        return;
      }
      target = picked.version;
    }
    try {
      const params: ActivateParams = { version: target };
      const r = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: `Winnow: switching to ranker ${target}…` },
        () => client.sendRequest<ActivateResult>(ActivateRequest, params),
      );
      ctx.log.info(`ranker ${r.active} activated (was ${r.previous})`);
      void vscode.window.showInformationMessage(activatedText(r)).then(undefined, ctx.logError('activate message'));
    } catch (err) {
      ctx.log.error(`activate ${target}: ${errorMessage(err)}`);
      void vscode.window.showErrorMessage(errorMessage(err)).then(undefined, ctx.logError('activate message'));
    }
  };
}
