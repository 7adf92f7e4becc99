/**
 * The LanguageClient's options: how the server process is started, which documents it sees,
 * what it is told at initialization, the restart policy, and the inline-completion middleware
 * that hands each list VS Code will apply to the feedback capture (feedback/vscodeAdapter.ts).
 */
import * as vscode from 'vscode';
import {
  CloseAction,
  ErrorAction,
  LanguageClient,
  RevealOutputChannelOn,
  TransportKind,
  type CloseHandlerResult,
  type DocumentFilter,
  type ErrorHandler,
  type ErrorHandlerResult,
  type LanguageClientOptions,
  type Message,
  type ServerOptions,
} from 'vscode-languageclient/node';
import type { ItemRef } from '../../server/src/protocol';
import type { Bootstrap } from './bootstrap';
import type { AppliedInlineCompletions } from './feedback/vscodeAdapter';

export const CLIENT_ID = 'winnow';
export const CLIENT_NAME = 'Winnow Language Server';

export interface ClientDeps {
  /** The extension's manifest, for the languages Winnow activates on. */
  packageJSON: unknown;
  /** "Winnow Language Server": the server's stderr and `window/logMessage` go here. */
  serverChannel: vscode.LogOutputChannel;
  /** "Winnow": the client's own log. */
  log: vscode.LogOutputChannel;
  /** The server crashed too often and stays down; `reason` is for the user. */
  onGiveUp(reason: string): void;
  /**
   * The server answered a completion request and VS Code will apply the answer (it was neither
   * cancelled nor overtaken by an edit); the feedback capture decides what is shown.
   */
  onInlineCompletions(applied: AppliedInlineCompletions): void;
}

export function createClient(boot: Bootstrap, deps: ClientDeps): LanguageClient {
  const serverOptions: ServerOptions = {
    run: { module: boot.serverModule, transport: TransportKind.ipc },
    debug: {
      module: boot.serverModule,
      transport: TransportKind.ipc,
      options: { execArgv: ['--nolazy', '--inspect=6019'] },
    },
  };

  const clientOptions: LanguageClientOptions = {
    documentSelector: documentSelector(deps.packageJSON),
    initializationOptions: { ...boot.init, workspaceTrusted: vscode.workspace.isTrusted },
    outputChannel: deps.serverChannel,
    revealOutputChannelOn: RevealOutputChannelOn.Never,
    errorHandler: new RestartPolicy(deps.log, deps.onGiveUp),
    middleware: {
      async provideInlineCompletionItems(document, position, context, token, next) {
        const version = document.version;
        const result = await next(document, position, context, token);
        // VS Code drops an answer that comes after a cancellation or after a newer edit; it
        // applies any other, and an empty one hides the suggestion on screen. Which item is
        // displayed, and whether it is, the stable API does not say: feedback/vscodeAdapter.ts
        // and docs/feedback-events.md say what is inferred from what.
        if (!token.isCancellationRequested && document.version === version) {
          try {
            deps.onInlineCompletions({ document, position, context, result });
          } catch (err) {
            deps.log.error(`feedback for inline completions: ${String(err)}`);
          }
        }
        return result;
      },
    },
  };

  return new LanguageClient(CLIENT_ID, CLIENT_NAME, serverOptions, clientOptions);
}

/** `file` and `untitled` documents of every language in the manifest's `onLanguage:` activation events. */
export function documentSelector(packageJSON: unknown): DocumentFilter[] {
  const events = (packageJSON as { activationEvents?: unknown } | undefined)?.activationEvents;
  const languages = Array.isArray(events)
    ? events.filter((e): e is string => typeof e === 'string' && e.startsWith('onLanguage:')).map((e) => e.slice('onLanguage:'.length))
    : [];
  if (languages.length === 0) throw new Error('the manifest declares no onLanguage activation events');
  return languages.flatMap((language) => [
    { scheme: 'file', language },
    { scheme: 'untitled', language },
  ]);
}

/** The ItemRef an item's command carries (`arguments[0]`), if it is one of ours. */
export function itemRefOf(command: vscode.Command | undefined): ItemRef | undefined {
  const arg: unknown = command?.arguments?.[0];
  return isItemRef(arg) ? arg : undefined;
}

export function isItemRef(v: unknown): v is ItemRef {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.requestId === 'string' && typeof r.candidateId === 'string' && typeof r.rank === 'number' && typeof r.of === 'number';
}

/**
 * The restart policy, decided here rather than left to the library's default: when the server
 * process goes away it is restarted, up to {@link MAX_RESTARTS} times within {@link WINDOW_MS};
 * past that it stays down and the user is told once (by `onGiveUp`).
 */
export class RestartPolicy implements ErrorHandler {
  static readonly MAX_RESTARTS = 4;
  static readonly WINDOW_MS = 3 * 60 * 1000;
  private restarts: number[] = [];

  constructor(
    private readonly log: Pick<vscode.LogOutputChannel, 'warn' | 'error'>,
    private readonly onGiveUp: (reason: string) => void,
    private readonly now: () => number = Date.now,
  ) {}

  error(error: Error, _message: Message | undefined, count: number | undefined): ErrorHandlerResult {
    // Errors reading or writing the connection; the library resets `count` after a message
    // gets through. A few in a row are noise; more mean the connection is gone.
    if (count !== undefined && count <= 3) {
      this.log.warn(`connection to the language server: ${error.message} (${count})`);
      return { action: ErrorAction.Continue, handled: true };
    }
    this.log.error(`connection to the language server keeps failing: ${error.message}; shutting it down`);
    return { action: ErrorAction.Shutdown, handled: true };
  }

  closed(): CloseHandlerResult {
    const now = this.now();
    this.restarts = this.restarts.filter((t) => now - t < RestartPolicy.WINDOW_MS);
    if (this.restarts.length < RestartPolicy.MAX_RESTARTS) {
      this.restarts.push(now);
      this.log.warn(`the language server exited; restarting it (${this.restarts.length} of ${RestartPolicy.MAX_RESTARTS} within ${RestartPolicy.WINDOW_MS / 60000} minutes)`);
      return { action: CloseAction.Restart, handled: true };
    }
    const reason = `the language server crashed ${RestartPolicy.MAX_RESTARTS + 1} times within ${RestartPolicy.WINDOW_MS / 60000} minutes`;
    this.log.error(`${reason}; it will not be restarted`);
    this.onGiveUp(reason);
    return { action: CloseAction.DoNotRestart, handled: true };
  }
}
