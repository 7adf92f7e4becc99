/**
 * Training cost, and what a training costs the completions served meanwhile.
 *
 *   node --import tsx bench/training.bench.ts [--json] [--sizes 10000,100000,1000000] [--requests 15000] [--skip-engine]
 *
 * 1. The trainer alone (engine/src/training/model.ts), on pairs of real feature rows: every
 *    HumanEval sample of the recorded pool featurized by the engine's featurize(), pairs of a
 *    passing and a failing sample of the same task (the pool's labels), drawn with replacement
 *    up to each size. Linear and MLP, the default hyper-parameters, early stopping on 15% of
 *    the pairs. One round (a full training has 1 + rounds of these).
 * 2. A real engine process: a simulated developer (accepts the longest of the 8 candidates
 *    shown) makes `--requests` completions with feedback; then completions are timed at rest,
 *    and again while `train` (2 hard-negative rounds) runs in the engine's worker, in one run;
 *    the training's own time on that store (load, triplets, 3 rounds, evaluation) is reported.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { featurize, NUM_FEATURES } from '../engine/src/features';
import type { CompleteRequest, FeedbackEvent, TrainSummary } from '../engine/src/protocol';
import { mulberry32 } from '../engine/src/random';
import { cutCodeT } from '../engine/src/testsources/postcut';
import { DEFAULT_HYPER, trainPairs, type PairData } from '../engine/src/training/model';
import { POOL, poolPrompts, startBenchEngine } from './shared';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const asJson = args.includes('--json');
const sizes = (argOf('--sizes') ?? '10000,100000,1000000').split(',').map(Number);
const requests = Number(argOf('--requests') ?? 15000);
const LABELS = path.resolve(path.dirname(POOL), 'codegen16b_labels.jsonl');

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

/** Per task: feature rows of its passing and its failing samples. */
function realRows(): { pass: Float32Array[]; fail: Float32Array[] }[] {
  const labels = new Map(
    fs
      .readFileSync(LABELS, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { task_id: string; passed: boolean[] })
      .map((l) => [l.task_id, l.passed]),
  );
  const out: { pass: Float32Array[]; fail: Float32Array[] }[] = [];
  for (const line of fs.readFileSync(POOL, 'utf8').split('\n').filter(Boolean)) {
    const t = JSON.parse(line) as { task_id: string; generation_prompt: string; samples: string[] };
    const texts = t.samples.map(cutCodeT);
    const votes = new Map<string, number>();
    for (const x of texts) votes.set(x, (votes.get(x) ?? 0) + 1);
    const f = featurize(texts.map((text) => ({ text, votes: votes.get(text) ?? 1, totalSamples: texts.length, prefix: t.generation_prompt, suffix: '', languageId: 'python' })));
    const passed = labels.get(t.task_id) ?? [];
    const task = { pass: [] as Float32Array[], fail: [] as Float32Array[] };
    texts.forEach((_, i) => (passed[i] ? task.pass : task.fail).push(f.slice(i * NUM_FEATURES, (i + 1) * NUM_FEATURES)));
    if (task.pass.length > 0 && task.fail.length > 0) out.push(task);
  }
  return out;
}

function pairsOf(tasks: ReturnType<typeof realRows>, n: number, seed: number): PairData {
  const r = mulberry32(seed);
  const chosen = new Float32Array(n * NUM_FEATURES);
  const rejected = new Float32Array(n * NUM_FEATURES);
  for (let i = 0; i < n; i++) {
    const t = tasks[Math.floor(r() * tasks.length)]!;
    chosen.set(t.pass[Math.floor(r() * t.pass.length)]!, i * NUM_FEATURES);
    rejected.set(t.fail[Math.floor(r() * t.fail.length)]!, i * NUM_FEATURES);
  }
  return { dim: NUM_FEATURES, n, chosen, rejected, weight: new Float32Array(n).fill(1) };
}

function trainerTable(): { family: string; pairs: number; ms: number; epochs: number; msPerEpoch: number; heldOut: number }[] {
  const tasks = realRows();
  const rows: ReturnType<typeof trainerTable> = [];
  for (const family of ['linear', 'mlp'] as const) {
    for (const n of sizes) {
      const fit = pairsOf(tasks, Math.round(n * 0.85), n);
      const es = pairsOf(tasks, Math.round(n * 0.15), n + 1);
      const t0 = performance.now();
      const res = trainPairs(fit, es, { ...DEFAULT_HYPER, family });
      const ms = performance.now() - t0;
      rows.push({ family, pairs: n, ms, epochs: res.epochs, msPerEpoch: ms / res.epochs, heldOut: res.heldOutAccuracy });
      if (!asJson) process.stderr.write(`trainer ${family} ${n} pairs: ${(ms / 1000).toFixed(1)} s, ${res.epochs} epochs\n`);
    }
  }
  return rows;
}

async function engineRun(): Promise<Record<string, unknown>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-train-bench-'));
  const { child, client } = await startBenchEngine(dir);
  const prompts = poolPrompts();
  const req = (i: number): CompleteRequest => ({
    prefix: prompts[i % prompts.length] as string,
    suffix: '',
    languageId: 'python',
    filePath: `/bench/f${i % 2000}.py`,
    n: 8,
    budgetMs: 5000,
    generator: { backend: 'recorded', recordedPool: POOL, seed: i },
    training: { auto: false, minNewTriplets: 200, minPairs: 50, promotionMargin: 1, keepVersions: 10, rounds: 2 },
  });
  try {
    const t0 = performance.now();
    let pending: FeedbackEvent[] = [];
    for (let i = 0; i < requests; i++) {
      const r = await client.request('complete', req(i), 10_000);
      if (r.candidates.length < 2) continue;
      const longest = [...r.candidates].sort((a, b) => b.text.length - a.text.length)[0]!;
      const base = { requestId: r.requestId, time: Date.now() };
      pending.push(...r.candidates.map((c) => ({ ...base, kind: 'shown' as const, candidateId: c.id, rank: c.rank })), { ...base, kind: 'accepted', candidateId: longest.id, rank: longest.rank });
      if (pending.length >= 400) {
        await client.request('event', { events: pending }, 30_000);
        pending = [];
      }
    }
    if (pending.length) await client.request('event', { events: pending }, 30_000);
    const teachMs = performance.now() - t0;

    const time = async (count: number, until?: () => boolean): Promise<number[]> => {
      const out: number[] = [];
      for (let i = 0; i < count || (until !== undefined && !until()); i++) {
        const s = performance.now();
        await client.request('complete', req(100_000 + i), 10_000);
        out.push(performance.now() - s);
      }
      return out.sort((a, b) => a - b);
    };
    await time(200); // warm-up
    const rest = await time(2000);
    const started = await client.request('train', { rounds: 2 }, 10_000);
    let summary: TrainSummary | undefined;
    const poll = setInterval(() => {
      void client.request('trainStatus', {}, 5000).then((s) => {
        if (s.last?.jobId === started.jobId) summary = s.last;
      });
    }, 200);
    const during = await time(200, () => summary !== undefined);
    clearInterval(poll);
    const cpu = fs.readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(' ');
    return {
      requests,
      teachSeconds: teachMs / 1000,
      triplets: summary ? Object.values(summary.triplets).reduce((a, t) => a + t.train + t.validation, 0) : undefined,
      summary,
      atRest: { n: rest.length, p50: pct(rest, 50), p99: pct(rest, 99) },
      duringTraining: { n: during.length, p50: pct(during, 50), p99: pct(during, 99) },
      p99Ratio: pct(during, 99) / pct(rest, 99),
      engineCpuTicks: Number(cpu[13]) + Number(cpu[14]),
    };
  } finally {
    client.close();
    child.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const trainer = trainerTable();
  const engine = args.includes('--skip-engine') ? undefined : await engineRun();
  if (asJson) {
    process.stdout.write(`${JSON.stringify({ trainer, engine }, null, 2)}\n`);
    return;
  }
  const lines = ['| family | pairs | time (s) | epochs | ms / epoch | early-stopping accuracy |', '| --- | ---: | ---: | ---: | ---: | ---: |'];
  for (const r of trainer) lines.push(`| ${r.family} | ${r.pairs.toLocaleString('en')} | ${(r.ms / 1000).toFixed(2)} | ${r.epochs} | ${r.msPerEpoch.toFixed(0)} | ${(100 * r.heldOut).toFixed(1)}% |`);
  process.stdout.write(`${lines.join('\n')}\n`);
  if (engine) process.stdout.write(`\n${JSON.stringify(engine, null, 2)}\n`);
}

void main();
