/**
 * Random LSP params to the language server (issue 10): every method it serves, and the
 * notifications it takes, with junk in place of their params; it must answer (a result or an
 * error) and keep serving completions. Seeded; the server is the real bundle over stdio
 * (test/lspClient.ts). Export paths stay inside `sandboxDir`.
 */

import * as path from 'node:path';
import { mulberry32 } from '../../engine/src/random';
import type { TestServer } from '../lspClient';

export interface LspFuzzReport {
  messages: number;
  answered: number;
  errors: number;
  /** Requests that got no answer within 10 s. */
  unanswered: number;
  /** The same, by method. */
  unansweredBy: Record<string, number>;
  firstUnanswered: string;
  durationMs: number;
}

const REQUESTS = ['textDocument/inlineCompletion', 'winnow/engineStatus', 'winnow/train', 'winnow/trainStatus', 'winnow/trainCancel', 'winnow/rankers', 'winnow/activate', 'winnow/exportDataset', 'winnow/bogus'];
const NOTIFICATIONS = ['textDocument/didOpen', 'textDocument/didChange', 'textDocument/didClose', 'winnow/feedback', 'winnow/workspaceTrust', 'workspace/didChangeConfiguration', '$/cancelRequest', 'winnow/nonsense'];

export async function fuzzLsp(server: TestServer, o: { messages: number; seed: number; sandboxDir: string; docUri: string; requests?: string[]; notifications?: string[] }): Promise<LspFuzzReport> {
  const t0 = performance.now();
  const r = mulberry32(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const junk = (depth = 0): unknown => {
    const k = Math.floor(r() * (depth > 3 ? 5 : 7));
    if (k === 0) return null;
    if (k === 1) return pick([0, -1, 1e308, 2 ** 31, 1.5]);
    if (k === 2) return r() < 0.5;
    if (k === 3) return pick(['', 'file:///nope.py', o.docUri, 'x'.repeat(r() < 0.05 ? 500_000 : 20), '\u0000\n', '../../etc/passwd']);
    if (k === 4) return pick(['python', 'accepted', 'rejected', 'shown']);
    if (k === 5) return Array.from({ length: Math.floor(r() * 4) }, () => junk(depth + 1));
    const obj: Record<string, unknown> = {};
    for (const key of ['textDocument', 'uri', 'position', 'line', 'character', 'context', 'item', 'kind', 'time', 'data', 'version', 'text', 'contentChanges', 'trusted', 'path', 'settings', 'requestId', 'candidateId', 'rank', 'of', 'id']) if (r() < 0.25) obj[key] = junk(depth + 1);
    return obj;
  };
  const params = (method: string): unknown => {
    if (r() < 0.5) return junk();
    switch (method) {
      case 'textDocument/inlineCompletion':
        return { textDocument: { uri: pick([o.docUri, 'file:///none.py', 'untitled:x']) }, position: { line: pick([0, 1, -1, 1e9]), character: pick([0, 4, -3, 1e9]) }, context: { triggerKind: pick([1, 2, 9]) } };
      case 'winnow/exportDataset':
        return { path: pick([path.join(o.sandboxDir, 'x.jsonl'), path.join(o.sandboxDir, 'sub'), 'relative.jsonl', '']) };
      case 'winnow/activate':
        return { version: pick(['builtin-4', 'v9', '../x', '']) };
      case 'winnow/feedback':
        return { kind: pick(['shown', 'accepted', 'bogus']), item: { requestId: 'r', candidateId: 'c', rank: 0, of: 1 }, time: Date.now(), data: junk(1) };
      case 'textDocument/didChange':
        return { textDocument: { uri: o.docUri, version: Math.floor(r() * 1000) }, contentChanges: [{ text: pick(['def f():\n', '\u0000'.repeat(100), 'x'.repeat(200_000)]) }] };
      default:
        return junk();
    }
  };
  let answered = 0;
  let errors = 0;
  let unanswered = 0;
  const unansweredBy: Record<string, number> = {};
  let firstUnanswered = '';
  const pending: Promise<void>[] = [];
  for (let i = 0; i < o.messages; i++) {
    if (r() < 0.6) {
      const method = pick(o.requests ?? REQUESTS);
      // Answered (a result or an error) within 10 s, or counted as unanswered.
      const p = new Promise<void>((res) => {
        const timer = setTimeout(() => {
          if (unanswered === 0) firstUnanswered = `${method} at message ${i} after ${Math.round(performance.now() - t0)} ms`;
          unanswered++;
          unansweredBy[method] = (unansweredBy[method] ?? 0) + 1;
          res();
        }, 10_000);
        server.conn.sendRequest(method, params(method)).then(
          () => {
            clearTimeout(timer);
            answered++;
            res();
          },
          () => {
            clearTimeout(timer);
            errors++;
            res();
          },
        );
      });
      pending.push(p);
      if (pending.length >= 50) await Promise.all(pending.splice(0));
    } else {
      const method = pick(o.notifications ?? NOTIFICATIONS);
      await server.conn.sendNotification(method, params(method)).catch(() => undefined);
    }
  }
  await Promise.all(pending);
  return { messages: o.messages, answered, errors, unanswered, unansweredBy, firstUnanswered, durationMs: Math.round(performance.now() - t0) };
}
