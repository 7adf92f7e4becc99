/**
 * Reward model cost, on models with RANDOM WEIGHTS (what they score means nothing; what they
 * cost is real): the committed tiny fixture (2 layers, hidden 32) and a model of realistic
 * shape (6 layers, hidden 512, 8 heads, about 100 MB) built at bench time by
 * test/fixtures/reward-model/build.ts, not committed.
 *
 * 1. Scoring time against batch size (8, 32, 100 candidates) and sequence length (256, 1024
 *    tokens, every sequence full: the worst case of a batch), one batched onnxruntime run.
 * 2. Tokenization of a completion (the context once, each candidate) at 1024 tokens.
 * 3. The latency budget's effect: completions of 8 HumanEval candidates (../shared/bench, the
 *    real prompts, up to 1024 tokens) scored through the engine's own RewardService (the
 *    worker thread, as the engine runs it): how often the score arrives within a given time
 *    left after generation.
 *
 *   node --import tsx bench/reward.bench.ts [--device auto|cpu|cuda] [--reps N] [--tiny-only] [--json]
 *
 * Prints markdown tables; --json prints JSON too.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkRewardFolder } from '../engine/src/reward/folder';
import { RewardModel } from '../engine/src/reward/model';
import { RewardService } from '../engine/src/reward/service';
import type { DevicePreference } from '../engine/src/ranker/ranker';
import { REALISTIC_SHAPE, writeRewardModelFolder } from '../test/fixtures/reward-model/build';
import { POOL, ROOT } from './shared';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const device = (argOf('--device') ?? 'auto') as DevicePreference;
const reps = Math.max(1, Number(argOf('--reps') ?? 3));
const asJson = args.includes('--json');
const BATCHES = [8, 32, 100];
const LENGTHS = [256, 1024];
const BUDGETS = [50, 100, 250, 500, 1000, 1500];
const quiet = () => undefined;

interface Model {
  label: string;
  dir: string;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] as number;
}

async function scoringTable(m: Model): Promise<{ batch: number; tokens: number; medianMs: number; perCandidateMs: number }[]> {
  const folder = checkRewardFolder(m.dir, { maxBytes: 1e12 });
  const model = await RewardModel.load(folder, { device, maxTokens: 2048, log: quiet });
  console.error(`${m.label}: ${model.info.device.toUpperCase()} (${model.info.deviceReason})`);
  const out: { batch: number; tokens: number; medianMs: number; perCandidateMs: number }[] = [];
  try {
    // Token ids spread over the vocabulary, every sequence full.
    const vocab = typeof folder.config.vocab_size === 'number' ? folder.config.vocab_size : 256;
    for (const tokens of LENGTHS) {
      for (const batch of BATCHES) {
        const seqs = Array.from({ length: batch }, (_, r) => Array.from({ length: tokens }, (_, t) => 3 + ((r * 131 + t * 7) % (vocab - 3))));
        await model.scoreSequences(seqs.slice(0, Math.min(batch, 2))); // warm-up
        const times: number[] = [];
        for (let k = 0; k < reps; k++) {
          const t0 = performance.now();
          await model.scoreSequences(seqs);
          times.push(performance.now() - t0);
        }
        const med = median(times);
        out.push({ batch, tokens, medianMs: med, perCandidateMs: med / batch });
        console.error(`  ${m.label} batch ${batch} × ${tokens} tokens: ${med.toFixed(1)} ms`);
      }
    }
    return out;
  } finally {
    await model.dispose();
  }
}

async function tokenizeCost(m: Model): Promise<{ batch: number; ms: number }[]> {
  const model = await RewardModel.load(checkRewardFolder(m.dir, { maxBytes: 1e12 }), { device: 'cpu', maxTokens: 1024, log: quiet });
  try {
    const { prompt, samples } = firstPoolEntry();
    const context = prompt.repeat(8); // about 2,000 tokens of context, cut to fit
    return BATCHES.map((batch) => {
      const cands = Array.from({ length: batch }, (_, i) => samples[i % samples.length] as string);
      model.encode(context, cands);
      const times: number[] = [];
      for (let k = 0; k < 20; k++) {
        const t0 = performance.now();
        model.encode(context, cands);
        times.push(performance.now() - t0);
      }
      return { batch, ms: median(times) };
    });
  } finally {
    await model.dispose();
  }
}

function firstPoolEntry(): { prompt: string; samples: string[] } {
  if (fs.existsSync(POOL)) {
    const rec = JSON.parse(fs.readFileSync(POOL, 'utf8').split('\n', 1)[0] as string) as { generation_prompt: string; samples: string[] };
    return { prompt: rec.generation_prompt, samples: rec.samples };
  }
  return { prompt: 'def total(xs):\n    """Sum of xs."""\n', samples: ['    return sum(xs)\n', '    s = 0\n    for x in xs:\n        s += x\n    return s\n'] };
}

function poolCompletions(limit: number): { prompt: string; samples: string[] }[] {
  if (!fs.existsSync(POOL)) return [firstPoolEntry()];
  return fs
    .readFileSync(POOL, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .slice(0, limit)
    .map((l) => JSON.parse(l) as { generation_prompt: string; samples: string[] })
    .map((r) => ({ prompt: r.generation_prompt, samples: [...new Set(r.samples)].slice(0, 8) }));
}

async function budgetTable(m: Model, completions: number): Promise<{ budgetMs: number; inTime: number; of: number; p50Ms: number }[]> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-rbench-'));
  const service = new RewardService(dataDir, device, quiet);
  try {
    service.configure({ path: m.dir, maxTokens: 1024 });
    await service.ready();
    const st = service.status();
    if (st.state !== 'ready') throw new Error(st.problem);
    const items = poolCompletions(completions);
    const out: { budgetMs: number; inTime: number; of: number; p50Ms: number }[] = [];
    for (const budgetMs of BUDGETS) {
      let inTime = 0;
      const times: number[] = [];
      for (const it of items) {
        const t0 = performance.now();
        const r = await service.score(it.prompt, it.samples, budgetMs);
        if (r?.scores) inTime++;
        // The next completion starts when this one's run has ended (as a developer types on).
        if (r?.later) await r.later;
        times.push(performance.now() - t0);
      }
      out.push({ budgetMs, inTime, of: items.length, p50Ms: median(times) });
      console.error(`  ${m.label} budget ${budgetMs} ms: ${inTime}/${items.length} in time`);
    }
    return out;
  } finally {
    await service.dispose();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const models: Model[] = [{ label: 'tiny fixture (2 layers, hidden 32)', dir: path.join(ROOT, 'test/fixtures/reward-model/tiny') }];
  let realisticDir: string | undefined;
  if (!args.includes('--tiny-only')) {
    realisticDir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-rm-realistic-'));
    const built = writeRewardModelFolder(realisticDir, REALISTIC_SHAPE);
    models.push({ label: `realistic shape (6 layers, hidden 512, 8 heads, ${(built.modelBytes / 1048576).toFixed(0)} MB)`, dir: realisticDir });
  }
  const cpu = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.availableParallelism()} threads (onnxruntime uses half)`;
  const results: Record<string, unknown> = { machine: cpu, device };
  try {
    console.log(`Machine: ${cpu}; device preference ${device}; median of ${reps} runs after a warm-up.\n`);
    console.log('| model | candidates | tokens each | batch ms | ms per candidate |\n| --- | ---: | ---: | ---: | ---: |');
    for (const m of models) {
      const rows = await scoringTable(m);
      results[`scoring:${m.label}`] = rows;
      for (const r of rows) console.log(`| ${m.label} | ${r.batch} | ${r.tokens} | ${r.medianMs.toFixed(1)} | ${r.perCandidateMs.toFixed(2)} |`);
    }
    const tok = await tokenizeCost(models[0] as Model);
    results.tokenize = tok;
    console.log(`\nTokenization (@huggingface/tokenizers, byte-level BPE; a 1024-token context once, then each candidate), median of 20:\n`);
    console.log('| candidates | ms |\n| ---: | ---: |');
    for (const t of tok) console.log(`| ${t.batch} | ${t.ms.toFixed(2)} |`);
    console.log(`\nLatency budget: completions of up to 8 distinct HumanEval candidates (CodeGen 16B samples), up to 1024 tokens each, scored through the engine's RewardService (worker thread); "in time" = the score arrived within the time left after generation.\n`);
    console.log('| model | time left for the reward model (ms) | in time | p50 scoring ms |\n| --- | ---: | ---: | ---: |');
    for (const m of models) {
      const rows = await budgetTable(m, m === models[0] ? 40 : 20);
      results[`budget:${m.label}`] = rows;
      for (const r of rows) console.log(`| ${m.label} | ${r.budgetMs} | ${r.inTime}/${r.of} (${Math.round((100 * r.inTime) / r.of)}%) | ${r.p50Ms.toFixed(0)} |`);
    }
  } finally {
    if (realisticDir) fs.rmSync(realisticDir, { recursive: true, force: true });
  }
  if (asJson) console.log(`\n${JSON.stringify(results, null, 2)}`);
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
