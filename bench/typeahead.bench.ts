/**
 * Requests saved by the type-ahead cache while typing through a suggestion:
 *
 *   node --import tsx bench/typeahead.bench.ts [--json] [--tasks 40] [--chars 40]
 *
 * The real language server and engine (recorded backend, HumanEval prompts of the recorded
 * pool, N = 8) driven over LSP as VS Code drives them: for each task the document is the
 * prompt, an automatic inline completion request at its end gets the suggestion, then the
 * suggestion's first line (at most --chars characters) is typed one character at a time,
 * each keystroke a document change and an automatic request (as VS Code sends one per
 * keystroke; the debounce is 0 so that every keystroke is counted). Without the cache every
 * one of those requests would reach the engine; with it, those that continue the shown
 * suggestion are answered by the server. Reported: keystrokes, requests that reached the
 * engine, requests saved, and the answer time of each kind.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DashboardRequest, type DashboardResult, type ItemRef } from '../server/src/protocol';
import { startServer } from '../test/lspClient';
import { numberArg, percentile, POOL, poolPrompts } from './shared';

const arg = numberArg;
const json = process.argv.includes('--json');
const TASKS = arg('--tasks', 40);
const CHARS = arg('--chars', 40);

const pct = (xs: number[], p: number) => Math.round(percentile(xs, p) * 10) / 10;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-typeahead-bench-'));
  const server = await startServer(dataDir, { generator: { backend: 'recorded', recordedPool: POOL }, candidates: 8, latencyBudgetMs: 4000, debounceMs: 0 });
  await server.waitForStatus('ready', (s) => s.state === 'ready', 30_000);
  const prompts = poolPrompts().slice(0, TASKS);
  let keystrokes = 0;
  let typedThrough = 0;
  const cacheMs: number[] = [];
  const engineMs: number[] = [];
  try {
    for (const [t, prompt] of prompts.entries()) {
      const uri = `file:///bench/task${t}.py`;
      await server.open(uri, 'python', prompt);
      const lines = prompt.split('\n');
      const line = lines.length - 1;
      const col = (lines[line] ?? '').length;
      const t0 = performance.now();
      const items = await server.complete(uri, line, col);
      engineMs.push(performance.now() - t0);
      const text = String(items[0]?.insertText ?? '');
      const typed = text.split('\n')[0]?.slice(0, CHARS) ?? '';
      for (let k = 1; k <= typed.length; k++) {
        await server.change(uri, prompt + typed.slice(0, k));
        const k0 = performance.now();
        const next = await server.complete(uri, line, col + k);
        const ms = performance.now() - k0;
        keystrokes++;
        const ref = next[0]?.command?.arguments?.[0] as ItemRef | undefined;
        if (ref?.reused === 'typeahead') {
          cacheMs.push(ms);
          if (k === typed.length) typedThrough++;
        } else engineMs.push(ms);
      }
    }
    const d = (await server.conn.sendRequest(DashboardRequest, {})) as DashboardResult;
    const result = {
      tasks: prompts.length,
      keystrokes,
      engineRequestsWhileTyping: d.cache.engine - prompts.length,
      answeredByCache: d.cache.typeahead,
      savedShare: keystrokes > 0 ? Math.round((1000 * d.cache.typeahead) / keystrokes) / 10 : 0,
      typedThroughWholeLine: typedThrough,
      cacheAnswerMs: { p50: pct(cacheMs, 50), p90: pct(cacheMs, 90) },
      engineAnswerMs: { p50: pct(engineMs, 50), p90: pct(engineMs, 90) },
    };
    if (json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      process.stdout.write(
        [
          `${result.tasks} suggestions, first line typed through (at most ${CHARS} characters): ${result.keystrokes} keystrokes, one automatic request each`,
          `| | requests | answer p50 / p90 (ms) |`,
          `|---|---|---|`,
          `| answered by the type-ahead cache | ${result.answeredByCache} (${result.savedShare}%) | ${result.cacheAnswerMs.p50} / ${result.cacheAnswerMs.p90} |`,
          `| reached the engine while typing | ${result.engineRequestsWhileTyping} | ${result.engineAnswerMs.p50} / ${result.engineAnswerMs.p90} (all engine answers) |`,
          `suggestions still shown after the whole line was typed: ${typedThrough} of ${result.tasks}`,
        ].join('\n') + '\n',
      );
    }
  } finally {
    await server.close();
    // The engine outlives the server (it is shared); stop it.
    const { readEngineInfo, isAlive } = await import('../engine/src/discovery');
    const info = readEngineInfo(dataDir);
    if (info && isAlive(info.pid)) process.kill(info.pid, 'SIGTERM');
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main();
