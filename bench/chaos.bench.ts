/**
 * Chaos soak (issue 10): 30 minutes in which the engine and the language server are killed with
 * SIGKILL at random points (mid-write, mid-swap of a ranker, mid-training, mid-export) while
 * traffic goes on (test/chaos/soak.ts). Prints recovery time after each kill (p50/p99/max;
 * target ≤ 5 s), acknowledged events lost (must be 0) and integrity_check failures (must be 0).
 * The suite runs the same for 20 s.
 *
 *   node --import tsx bench/chaos.bench.ts [--minutes 30] [--kill-every-s 60] [--seed 1] [--json]
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { runSoak } from '../test/chaos/soak';
import { numberArg, POOL } from './shared';

const num = numberArg;

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-chaosbench-'));
  try {
    const r = await runSoak({ dir, pool: POOL, durationMs: num('--minutes', 30) * 60_000, killEveryMs: num('--kill-every-s', 60) * 1000, seed: num('--seed', 1), onKill: (k) => console.error(`kill: ${JSON.stringify(k)}`) });
    const by = (t: string) => r.kills.filter((k) => `${k.target}/${k.during}` === t).length;
    console.log(`Machine: ${os.cpus()[0]?.model ?? '?'}, ${os.availableParallelism()} threads; load average at the end ${os.loadavg()[0]?.toFixed(1)}\n`);
    console.log('| minutes | kills (engine: traffic / swap / training / export; server) | recovery p50 / p99 / max ms | completions (failed while down) | events acked | lost | integrity_check failures |');
    console.log('| ---: | --- | --- | --- | ---: | ---: | ---: |');
    console.log(`| ${(r.durationMs / 60_000).toFixed(1)} | ${r.kills.length} (${by('engine/traffic')} / ${by('engine/activate')} / ${by('engine/train')} / ${by('engine/export')}; ${by('server/traffic')}) | ${r.recoveryP50Ms} / ${r.recoveryP99Ms} / ${r.recoveryMaxMs} | ${r.completions} (${r.completionFailures}) | ${r.eventsAcked} | **${r.eventsLost}** | ${r.integrityFailures} |`);
    if (process.argv.includes('--json')) console.log(JSON.stringify(r, null, 2));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
