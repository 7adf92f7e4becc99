/**
 * A minimal LSP client for tests: starts the real language server bundle as a process over
 * stdio and speaks LSP to it with vscode-languageserver-protocol, answering
 * `workspace/configuration` with the given settings and recording `winnow/status`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  createProtocolConnection,
  InlineCompletionRequest,
  StreamMessageReader,
  StreamMessageWriter,
  type InlineCompletionItem,
  type InlineCompletionList,
  type ProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import { FeedbackNotification, StatusNotification, type FeedbackParams, type InitializationOptions, type StatusParams } from '../server/src/protocol';
import { ENGINE_SCRIPT, SERVER_SCRIPT, waitFor } from './helpers';

export interface TestServer {
  child: ChildProcess;
  conn: ProtocolConnection;
  statuses: StatusParams[];
  logs: string[];
  settings: Record<string, unknown>;
  open(uri: string, languageId: string, text: string): Promise<void>;
  /** An inline completion request; `manual`: as "Trigger Inline Suggestion" sends it (default: automatic, as while typing). */
  complete(uri: string, line: number, character: number, options?: { manual?: boolean }): Promise<InlineCompletionItem[]>;
  /** Replaces a document's whole text (a full-content change). */
  change(uri: string, text: string): Promise<void>;
  feedback(p: FeedbackParams): Promise<void>;
  waitForStatus(what: string, pred: (s: StatusParams) => boolean, timeoutMs?: number, from?: number): Promise<StatusParams>;
  close(): Promise<void>;
}

export interface ServerOptions {
  /** The workspace folder (a file URI); default none. */
  rootUri?: string;
  /** VS Code workspace trust as the client reports it; default untrusted. */
  workspaceTrusted?: boolean;
  /** The user's settings (what a request without a resource gets); default: the same as the workspace's. */
  userSettings?: Record<string, unknown>;
}

export async function startServer(dataDir: string, settings: Record<string, unknown>, options: ServerOptions = {}): Promise<TestServer> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const statuses: StatusParams[] = [];
  const logs: string[] = [];
  const state = { settings };
  conn.onNotification(StatusNotification, (s: StatusParams) => {
    statuses.push(s);
  });
  conn.onNotification('window/logMessage', (m: { message: string }) => {
    logs.push(m.message);
  });
  // As VS Code answers: the section asked for (`winnow` or a part of it, `winnow.training`);
  // with a resource (scopeUri), the settings of its workspace; without one, the user's, which
  // are all that machine-scoped settings ever take (options.userSettings; default: the same).
  conn.onRequest('workspace/configuration', (p: { items: { section?: string; scopeUri?: string }[] }) =>
    p.items.map((item) => {
      const root = item.scopeUri === undefined && options.userSettings ? options.userSettings : state.settings;
      const parts = (item.section ?? 'winnow').split('.').slice(1);
      let v: unknown = root;
      for (const k of parts) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined;
      return v ?? null;
    }),
  );
  conn.onRequest('client/registerCapability', () => null);
  conn.listen();
  const init: InitializationOptions = {
    dataDir,
    engineScript: ENGINE_SCRIPT,
    nodePath: process.execPath,
    engineEnv: { WINNOW_DEVICE: 'cpu' },
    ...(options.workspaceTrusted !== undefined ? { workspaceTrusted: options.workspaceTrusted } : {}),
  };
  await conn.sendRequest('initialize', {
    processId: process.pid,
    rootUri: options.rootUri ?? null,
    capabilities: { workspace: { configuration: true }, textDocument: { inlineCompletion: { dynamicRegistration: false } } },
    initializationOptions: init,
  });
  await conn.sendNotification('initialized', {});
  let version = 0;
  const server: TestServer = {
    child,
    conn,
    statuses,
    logs,
    get settings() {
      return state.settings;
    },
    set settings(s) {
      state.settings = s;
      void conn.sendNotification('workspace/didChangeConfiguration', { settings: null });
    },
    open: (uri, languageId, text) => conn.sendNotification('textDocument/didOpen', { textDocument: { uri, languageId, version: ++version, text } }),
    async complete(uri, line, character, options = {}) {
      const r = (await conn.sendRequest(InlineCompletionRequest.type, {
        textDocument: { uri },
        position: { line, character },
        // LSP 3.18 InlineCompletionTriggerKind: Invoked = 1, Automatic = 2.
        context: { triggerKind: options.manual ? 1 : 2 },
      })) as InlineCompletionList | InlineCompletionItem[] | null;
      return r === null ? [] : Array.isArray(r) ? r : r.items;
    },
    change: (uri, text) => conn.sendNotification('textDocument/didChange', { textDocument: { uri, version: ++version }, contentChanges: [{ text }] }),
    feedback: (p) => conn.sendNotification(FeedbackNotification, p),
    waitForStatus: (what, pred, timeoutMs = 20_000, from = 0) =>
      waitFor(`status: ${what} (seen: ${JSON.stringify(statuses.map((s) => s.state))}; logs: ${logs.slice(-5).join(' | ')})`, () => statuses.slice(from).find(pred), timeoutMs),
    async close() {
      try {
        await conn.sendRequest('shutdown');
        await conn.sendNotification('exit');
      } catch {
        /* already gone */
      }
      conn.dispose();
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        setTimeout(() => child.kill(), 2000).unref();
        await exited;
      }
    },
  };
  return server;
}
