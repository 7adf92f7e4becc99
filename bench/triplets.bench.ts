/**
 * Triplet builder throughput on a realistic, seeded synthetic log.
 *
 *   node --import tsx bench/triplets.bench.ts [--json] [--events 100000] [--seed 1] [--outcomes 0.2]
 *
 * Requests carry 8 candidates of 50–600 characters: real HumanEval samples from CodeGen-16B
 * (../shared/bench/humaneval/codegen16b_samples.jsonl) when present, else code-like synthetic
 * text. Events follow a plausible editor session: every request's first item is shown; ~30%
 * are accepted (some after cycling to another item, each with three survival checks, a few
 * mostly deleted), ~8% partially accepted, the rest rejected (dismissed, typed over, cursor
 * moved, timeout; some after cycling through more items). A quarter of the requests re-ask
 * an earlier prompt. A share of requests (--outcomes, default 0.2) also has test outcomes,
 * from the real pass/fail labels when present. Times buildTriplets, median of 3 runs, and
 * prints a markdown table; --json prints JSON too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildTriplets, type EventRow, type OutcomeRow, type RequestRow } from '../engine/src/triplets';
import { mulberry32 } from '../engine/src/random';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const asJson = args.includes('--json');
const targetEvents = Math.max(100, Number(argOf('--events') ?? 100_000));
const seed = Number(argOf('--seed') ?? 1);
const outcomeShare = Math.min(1, Math.max(0, Number(argOf('--outcomes') ?? 0.2)));
const RUNS = 3;
const N = 8;

const DIR = path.resolve(__dirname, '../../shared/bench/humaneval');
const SAMPLES = path.join(DIR, 'codegen16b_samples.jsonl');
const LABELS = path.join(DIR, 'codegen16b_labels.jsonl');

const rand = mulberry32(seed);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;

interface Task {
  prompt: string;
  texts: string[];
  passed: boolean[];
}

/** Tasks with at least N samples of 50–600 characters (and their labels). */
function loadTasks(): { tasks: Task[]; real: boolean } {
  if (fs.existsSync(SAMPLES)) {
    const labels = new Map<string, boolean[]>();
    if (fs.existsSync(LABELS)) {
      for (const line of fs.readFileSync(LABELS, 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const r = JSON.parse(line) as { task_id: string; passed: boolean[] };
        labels.set(r.task_id, r.passed);
      }
    }
    const tasks: Task[] = [];
    for (const line of fs.readFileSync(SAMPLES, 'utf8').split('\n')) {
      if (!line.trim()) continue;
      const r = JSON.parse(line) as { task_id: string; generation_prompt: string; samples: string[] };
      const lab = labels.get(r.task_id);
      const texts: string[] = [];
      const passed: boolean[] = [];
      r.samples.forEach((t, i) => {
        if (t.length >= 50 && t.length <= 600) {
          texts.push(t);
          passed.push(lab?.[i] ?? rand() < 0.5);
        }
      });
      if (texts.length >= N) tasks.push({ prompt: r.generation_prompt, texts, passed });
    }
    if (tasks.length > 0) return { tasks, real: true };
  }
  // Synthetic fallback: code-like bodies of 50–600 characters.
  const words = ['result', 'items', 'value', 'count', 'index', 'total', 'node', 'key', 'acc', 'buf'];
  const line = (): string =>
    pick([
      `    ${pick(words)} = ${pick(words)} + ${Math.floor(rand() * 10)}`,
      `    for ${pick(words)} in range(len(${pick(words)})):`,
      `        if ${pick(words)} > ${pick(words)}:`,
      `            ${pick(words)}.append(${pick(words)})`,
      `    return ${pick(words)}`,
    ]);
  const body = (): string => {
    const target = 50 + Math.floor(rand() * 550);
    let s = '';
    while (s.length < target) s += line() + '\n';
    return s.slice(0, target);
  };
  const tasks = Array.from({ length: 164 }, (_, k) => ({
    prompt: `def f${k}(items):\n    """Task ${k}."""\n`,
    texts: Array.from({ length: 40 }, body),
    passed: Array.from({ length: 40 }, () => rand() < 0.5),
  }));
  return { tasks, real: false };
}

function generate(tasks: Task[]): { requests: RequestRow[]; events: EventRow[]; outcomes: OutcomeRow[] } {
  const requests: RequestRow[] = [];
  const events: EventRow[] = [];
  const outcomes: OutcomeRow[] = [];
  const prompts: { task: Task; filePath: string }[] = [];
  let time = 1_700_000_000_000;
  const reasons = ['dismissed', 'typed_over', 'cursor_moved', 'timeout'] as const;
  const reasonCdf = [0.3, 0.65, 0.85, 1];
  while (events.length < targetEvents) {
    // A quarter of the requests re-ask an earlier prompt (same file, same cursor).
    const p = prompts.length > 0 && rand() < 0.25 ? pick(prompts) : { task: pick(tasks), filePath: `/project/src/mod${Math.floor(rand() * 5000)}.py` };
    prompts.push(p);
    const id = `r${requests.length}`;
    time += 1000 + Math.floor(rand() * 20_000);
    const idx = new Set<number>();
    while (idx.size < N) idx.add(Math.floor(rand() * p.task.texts.length));
    const chosenIdx = [...idx];
    const scored = chosenIdx.map((i) => ({ i, score: rand() * 4 - 2 })).sort((a, b) => b.score - a.score);
    const candidates = scored.map((c, rank) => ({ id: `${id}:${rank}`, rank, text: p.task.texts[c.i] as string, score: c.score }));
    requests.push({ id, time, prefix: p.task.prompt, suffix: '', languageId: 'python', filePath: p.filePath, rankerVersion: 'builtin-1', candidates });
    const ev = (kind: EventRow['kind'], rank: number, dt: number, data: Record<string, unknown> | null = null): void => {
      events.push({ kind, requestId: id, candidateId: `${id}:${rank}`, rank, time: time + dt, data });
    };
    ev('shown', 0, 50);
    const u = rand();
    if (u < 0.3) {
      // Accepted, a fifth of the time after cycling to another item.
      let rank = 0;
      if (rand() < 0.2) {
        rank = 1 + Math.floor(rand() * 3);
        for (let r = 1; r <= rank; r++) ev('shown', r, 100 + r * 300);
      }
      ev('accepted', rank, 2000);
      const v = rand();
      const late = v < 0.1 ? rand() * 0.3 : v < 0.25 ? 0.3 + rand() * 0.5 : 0.8 + rand() * 0.2;
      ev('survival', rank, 32_000, { afterMs: 30_000, fraction: Math.min(1, late + 0.15) });
      ev('survival', rank, 122_000, { afterMs: 120_000, fraction: Math.min(1, late + 0.05) });
      ev('survival', rank, 602_000, { afterMs: 600_000, fraction: late });
    } else if (u < 0.38) {
      const total = candidates[0]!.text.length;
      let got = 0;
      const steps = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < steps; k++) {
        got = Math.min(total, got + 5 + Math.floor(rand() * (total / 3)));
        ev('partially_accepted', 0, 1500 + k * 400, { acceptedChars: got, totalChars: total, how: pick(['word', 'line', 'typed'] as const) });
      }
      if (rand() < 0.5) ev('survival', 0, 32_000, { afterMs: 30_000, fraction: 0.2 + rand() * 0.8 });
    } else {
      // Rejected; a third of the time the developer first cycled through one or two more items.
      const seen = rand() < 0.35 ? 1 + Math.floor(rand() * 2) : 0;
      for (let r = 1; r <= seen; r++) ev('shown', r, 100 + r * 300);
      for (let r = 0; r <= seen; r++) {
        const x = rand();
        ev('rejected', r, 3000 + r, { reason: reasons[reasonCdf.findIndex((c) => x < c)] });
      }
    }
    if (rand() < outcomeShare) {
      for (const [rank, c] of scored.entries()) {
        const total = 3 + Math.floor(rand() * 8);
        const passed = p.task.passed[c.i] ? total : Math.floor(rand() * total);
        outcomes.push({ requestId: id, candidateId: `${id}:${rank}`, passed, total, source: 'docstring' });
      }
    }
  }
  return { requests, events, outcomes };
}

function main(): void {
  const { tasks, real } = loadTasks();
  const { requests, events, outcomes } = generate(tasks);
  const times: number[] = [];
  let result: ReturnType<typeof buildTriplets> | undefined;
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    result = buildTriplets(requests, events, outcomes, { seed });
    times.push(performance.now() - t0);
  }
  const { triplets, stats } = result!;
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)] as number;
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `Triplet building (${real ? 'HumanEval CodeGen-16B samples' : 'synthetic candidates'}, ${N} candidates per request, seed ${seed}); node ${process.version}, ${cpu}\n`,
  );
  console.log('| events | requests | outcomes | triplets | train | validation | ms (median of 3) | runs (ms) |');
  console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  console.log(
    `| ${events.length} | ${requests.length} | ${outcomes.length} | ${triplets.length} | ${stats.train} | ${stats.validation} | ${median.toFixed(0)} | ${times.map((t) => t.toFixed(0)).join(', ')} |`,
  );
  console.log(`\nby source: ${Object.entries(stats.bySource).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`by pairing: ${Object.entries(stats.byPairing).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  console.log(`skipped: ${Object.entries(stats.skipped).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (asJson) console.log(JSON.stringify({ node: process.version, cpu, real, seed, runsMs: times, medianMs: median, stats }, null, 2));
}

main();
