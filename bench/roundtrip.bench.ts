/**
 * Server↔engine round trip without generation, and the engine's resident memory.
 *
 *   node --import tsx bench/roundtrip.bench.ts [--json] [--iterations N]
 *
 * Starts a real engine process (CPU ranker, fresh data folder), connects with the same
 * DEALER client the language server uses, and times:
 * - `ping`: the bare protocol round trip;
 * - `complete` with N=8 from the `recorded` backend (replaying HumanEval samples: no model,
 *   so what is timed is the protocol, post-processing, featurizing, ONNX scoring of 8
 *   candidates and the SQLite write).
 * Resident memory (VmRSS) is read from /proc after start-up and after the run.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { CompleteRequest } from '../engine/src/protocol';
import { POOL, poolPrompts, startBenchEngine } from './shared';

const json = process.argv.includes('--json');
const itArg = process.argv.indexOf('--iterations');
const iterations = itArg > 0 ? Number(process.argv[itArg + 1]) : 2000;

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

async function time(label: string, n: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < Math.min(200, n); i++) await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ms.sort((a, b) => a - b);
  return { label, iterations: n, p50: pct(ms, 50), p99: pct(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / n, max: ms.at(-1) ?? NaN };
}

async function main() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-bench-'));
  const { child, info, client } = await startBenchEngine(dataDir);
  try {
    const rssStart = rssMiB(info.pid);
    const prompts = poolPrompts();
    let k = 0;
    const req = (): CompleteRequest => ({
      prefix: prompts[k++ % prompts.length] ?? '',
      suffix: '',
      languageId: 'python',
      filePath: '/bench/he.py',
      n: 8,
      budgetMs: 5000,
      generator: { backend: 'recorded', recordedPool: POOL },
    });
    const ping = await time('ping', iterations, () => client.request('ping', {}, 5000));
    const complete = await time('complete N=8 (recorded backend)', iterations, () => client.request('complete', req(), 5000));
    const rssEnd = rssMiB(info.pid);
    const { memory } = await client.request('status', {}, 5000);
    client.close();
    const result = { ping, complete, rssMiB: { afterStart: rssStart, afterRun: rssEnd }, engineMemoryAfterRun: memory, transport: info.endpoint.split(':')[0], node: process.version, cpus: os.cpus().length };
    if (json) {
      console.log(JSON.stringify(result, null, 2));
    } else {
      console.log(`| measure | iterations | p50 ms | p99 ms | mean ms | max ms |`);
      console.log(`| --- | --- | --- | --- | --- | --- |`);
      for (const r of [ping, complete]) console.log(`| ${r.label} | ${r.iterations} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.mean.toFixed(3)} | ${r.max.toFixed(3)} |`);
      console.log(`\nEngine resident memory (VmRSS): ${rssStart.toFixed(1)} MiB after start, ${rssEnd.toFixed(1)} MiB after ${2 * iterations + 400} requests (V8 heap in use ${memory.heapUsedMiB} MiB, external ${memory.externalMiB} MiB; ${result.transport}, ${result.node}, ${result.cpus} cores)`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
