/**
 * Latency-aware N against model servers of different speeds:
 *
 *   node --import tsx bench/pacing.bench.ts [--json] [--requests 25] [--budget 1500]
 *
 * A real engine process asks the fixture model server (test/fixtures/openaiServer.ts, which
 * answers after `overhead + perSample × n` ms, as a server that decodes the candidates one
 * after another) for up to 8 candidates per completion within the budget; once with
 * latency-aware N (what the editor does) and once with N fixed at 8 (what it did before).
 * Per server: the N used once it settled (the median of the last 10 requests), the latency
 * p50/p90, and the completions that came back empty because the budget ran out first.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CompleteReply } from '../engine/src/protocol';
import { startOpenAIFixture } from '../test/fixtures/openaiServer';
import { numberArg, percentile, poolPrompts, startBenchEngine } from './shared';

const arg = numberArg;
const json = process.argv.includes('--json');
const REQUESTS = arg('--requests', 25);
const BUDGET = arg('--budget', 1500);
const MAX_N = 8;

const SERVERS = [
  { name: 'fast (batched, vLLM-like)', overheadMs: 60, perSampleMs: 5 },
  { name: 'medium (GPU, one candidate at a time)', overheadMs: 150, perSampleMs: 120 },
  { name: 'slow (CPU)', overheadMs: 300, perSampleMs: 400 },
  { name: 'very slow (large model on CPU)', overheadMs: 900, perSampleMs: 700 },
];

const pct = percentile;

async function main(): Promise<void> {
  const prompts = poolPrompts();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-pacing-bench-'));
  const engine = await startBenchEngine(dataDir);
  const rows: Record<string, unknown>[] = [];
  try {
    for (const s of SERVERS) {
      for (const fixedN of [false, true]) {
        // A fresh server (its own URL: the engine learns each generator apart).
        const fixture = await startOpenAIFixture({ delayMs: s.overheadMs, perSampleMs: s.perSampleMs });
        const replies: { ms: number; reply: CompleteReply }[] = [];
        try {
          for (let i = 0; i < REQUESTS; i++) {
            const t0 = performance.now();
            const reply = await engine.client.request(
              'complete',
              { prefix: prompts[i % prompts.length] ?? '', suffix: '', languageId: 'python', filePath: '/bench/p.py', n: MAX_N, fixedN, budgetMs: BUDGET, generator: { backend: 'openai', url: fixture.url } },
              BUDGET + 5000,
            );
            replies.push({ ms: performance.now() - t0, reply });
          }
        } finally {
          await fixture.close();
        }
        const ms = replies.map((r) => r.ms);
        const settled = replies.slice(-10).map((r) => r.reply.nUsed ?? 0);
        rows.push({
          server: s.name,
          mode: fixedN ? `fixed N = ${MAX_N}` : 'latency-aware',
          settledN: pct(settled, 50),
          p50Ms: Math.round(pct(ms, 50)),
          p90Ms: Math.round(pct(ms, 90)),
          empty: replies.filter((r) => r.reply.candidates.length === 0).length,
          requests: replies.length,
          reason: replies.at(-1)?.reply.nReason ?? '',
        });
      }
    }
  } finally {
    await engine.client.request('shutdown', {}, 5000).catch(() => undefined);
    engine.client.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  if (json) {
    process.stdout.write(`${JSON.stringify({ budgetMs: BUDGET, maxN: MAX_N, rows }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`budget ${BUDGET} ms, up to ${MAX_N} candidates, ${REQUESTS} requests per row\n\n`);
  process.stdout.write('| server (overhead + per candidate) | N | N used (settled) | p50 ms | p90 ms | empty (budget ran out) |\n|---|---|---|---|---|---|\n');
  for (const r of rows) {
    const s = SERVERS.find((x) => x.name === r.server);
    process.stdout.write(`| ${r.server} (${s?.overheadMs} + ${s?.perSampleMs} ms) | ${r.mode} | ${r.settledN} | ${r.p50Ms} | ${r.p90Ms} | ${r.empty} of ${r.requests} |\n`);
  }
}

void main();
