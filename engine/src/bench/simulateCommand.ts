/**
 * `winnow bench --simulate-user`: the command-line side of {@link runSimulation} (option
 * parsing, progress on stderr, the table on stdout, JSON and SVG files).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_SIM_TRAINING, describeSimulation, runSimulation, simulationSvg, type SimulateOptions } from './simulate';

type Values = Record<string, string | boolean | undefined>;

function fail(message: string, code = 2): never {
  process.stderr.write(`winnow: ${message}\n`);
  process.exit(code);
}

function int(v: Values, k: string, dflt: number, min: number, max: number): number {
  if (v[k] === undefined) return dflt;
  const n = Number(v[k]);
  if (!Number.isInteger(n) || n < min || n > max) fail(`--${k} must be an integer from ${min} to ${max}`);
  return n;
}

export async function simulateUserCommand(dataDir: string, v: Values, engineScript: string): Promise<void> {
  for (const k of ['problems', 'samples'] as const) {
    if (typeof v[k] !== 'string') fail(`bench --simulate-user needs --${k} FILE (see winnow --help)`);
    if (!fs.existsSync(v[k] as string)) fail(`--${k}: no such file ${v[k] as string}`);
  }
  if (typeof v.labels === 'string' && !fs.existsSync(v.labels)) fail(`--labels: no such file ${v.labels}`);
  const seedsText = typeof v.seeds === 'string' ? v.seeds : '1,2,3';
  const seeds = seedsText.split(',').map((s) => Number(s.trim()));
  if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s) || s < 0 || s > 10_000)) fail('--seeds must be a comma-separated list of integers from 0 to 10000');
  if (v.margin !== undefined && !(Number.isFinite(Number(v.margin)) && Math.abs(Number(v.margin)) <= 100)) fail('--margin must be a number of points from -100 to 100');
  const limit = v.limit === undefined ? undefined : int(v, 'limit', 0, 2, 100_000);
  const o: SimulateOptions = {
    problems: path.resolve(v.problems as string),
    samples: path.resolve(v.samples as string),
    ...(typeof v.labels === 'string' ? { labels: path.resolve(v.labels) } : {}),
    engineScript,
    seeds,
    ...(limit ? { limit } : {}),
    window: int(v, 'window', 20, 1, 10_000),
    n: int(v, 'n', 8, 1, 128),
    execute: v.execute === true,
    maxCycles: 3,
    training: {
      ...DEFAULT_SIM_TRAINING,
      minPairs: int(v, 'min-pairs', DEFAULT_SIM_TRAINING.minPairs, 0, 10_000_000),
      rounds: int(v, 'rounds', DEFAULT_SIM_TRAINING.rounds, 0, 10),
      promotionMargin: v.margin === undefined ? DEFAULT_SIM_TRAINING.promotionMargin : Number(v.margin),
    },
    trainIdleMs: int(v, 'train-idle-ms', 300, 1, 600_000),
    trainCheckMs: int(v, 'train-check-ms', 200, 1, 600_000),
    trainWaitMs: 180_000,
    cacheDir: path.resolve(typeof v['cache-dir'] === 'string' ? v['cache-dir'] : path.join(dataDir, 'bench-cache')),
    onProgress: (line) => process.stderr.write(`${line}\n`),
  };
  let result;
  try {
    result = await runSimulation(o);
  } catch (e) {
    fail((e as Error).message, 1);
  }
  if (typeof v.out === 'string') {
    fs.writeFileSync(path.resolve(v.out), `${JSON.stringify(result, null, 2)}\n`);
    process.stderr.write(`wrote ${path.resolve(v.out)}\n`);
  }
  if (typeof v['svg-out'] === 'string') {
    fs.writeFileSync(path.resolve(v['svg-out']), simulationSvg(result));
    process.stderr.write(`wrote ${path.resolve(v['svg-out'])}\n`);
  }
  if (v.json) {
    const { runs, ...rest } = result;
    process.stdout.write(`${JSON.stringify({ ...rest, runs: runs.map(({ arrivals, ...r }) => ({ ...r, arrivals: arrivals.length })) }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`${describeSimulation(result)}\n`);
}
