/**
 * What `activate` returns: a small read-mostly view of the extension, for the extension test
 * suite (test/vscode) and for other extensions. It adds no behaviour of its own. This module
 * imports only types from `vscode` and the protocol, so the test suite can import it.
 */
import type * as vscode from 'vscode';
import type { EngineStatusResult, FeedbackParams, StatusParams } from '../../server/src/protocol';
import type { StatusBarSnapshot } from './statusBar';

export interface WinnowApi {
  /** True when the language server is running. */
  isRunning(): boolean;
  /** The last `winnow/status` the server sent, if any. */
  readonly status: StatusParams | undefined;
  readonly onDidChangeStatus: vscode.Event<StatusParams>;
  /** Every `winnow/feedback` notification the extension sends (see docs/feedback-events.md). */
  readonly onDidSendFeedback: vscode.Event<FeedbackParams>;
  /** What the status bar item shows now. */
  statusBar(): StatusBarSnapshot;
  /** Asks the server for `winnow/engineStatus`; rejects when the server is not running. */
  engineStatus(): Promise<EngineStatusResult>;
}
