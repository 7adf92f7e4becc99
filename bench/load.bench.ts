/**
 * Load on one engine (issue 10): 20 simulated windows × 10 completions a second for 5 minutes
 * (recorded backend, HumanEval prompts, 8 candidates), feedback events flowing, one training
 * started in the middle. Prints completion latency p50/p99/max, the engine's CPU share and
 * RSS, and acknowledged events lost (must be 0). The suite runs the same for 8 s.
 *
 *   node --import tsx bench/load.bench.ts [--windows 20] [--rate 10] [--seconds 300] [--json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runLoad } from '../test/load/load';
import { numberArg, POOL, startBenchEngine } from './shared';

const num = numberArg;

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-loadbench-'));
  const { child, info, client } = await startBenchEngine(dataDir);
  try {
    const r = await runLoad({ endpoint: info.endpoint, pid: child.pid as number, dataDir, pool: POOL, windows: num('--windows', 20), rate: num('--rate', 10), durationMs: num('--seconds', 300) * 1000, trainAt: 0.5 });
    console.log(`Machine: ${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} threads; load average at the end ${os.loadavg()[0]?.toFixed(1)}\n`);
    console.log('| windows × rate | seconds | completions | errors | p50 ms | p99 ms | max ms | engine CPU | RSS MiB | events acked | in store | lost | training |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    console.log(`| ${r.windows} × ${r.rate}/s | ${r.durationMs / 1000} | ${r.completions} | ${r.completionErrors + r.eventErrors} | ${r.p50Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.engineCpu} | ${r.rssMiB} | ${r.eventsAcked} | ${r.eventsInStore} | **${r.eventsLost}** | ${r.training ? `${r.training.outcome ?? 'started'}${r.training.trainMs ? ` in ${(r.training.trainMs / 1000).toFixed(1)} s` : ''}` : 'none'} |`);
    if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
