/**
 * Ranker latency benchmark: featurize + ONNX run, ONNX run alone, and featurize alone, for
 * 8, 32 and 100 candidates, with the built-in ranker and a 2-layer MLP of the size the
 * trainer produces. Candidates are real samples from ../shared/bench (HumanEval, CodeGen
 * 16B) when present, else synthetic ones.
 *
 *   node --import tsx bench/ranker.bench.ts [--json] [--device auto|cpu|cuda] [--iterations N]
 *
 * Prints a markdown table (milliseconds per call: p50, p99, mean); --json prints JSON too.
 * Target: ≤ 5 ms for 100 candidates on CPU.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUILTIN_SPEC, FEATURE_NAMES, NUM_FEATURES, featurize, type FeatureInput } from '../engine/src/features';
import { buildRankerModel, type RankerSpec } from '../engine/src/ranker/onnx';
import { Ranker, type DevicePreference } from '../engine/src/ranker/ranker';

const args = process.argv.slice(2);
const argOf = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const asJson = args.includes('--json');
const device = (argOf('--device') ?? 'auto') as DevicePreference;
const iterations = Math.max(500, Number(argOf('--iterations') ?? 1000));
const WARMUP = 200;
const SIZES = [8, 32, 100];

const POOL = path.resolve(__dirname, '../../shared/bench/humaneval/codegen16b_samples.jsonl');

/** n candidates of one completion request. */
function candidates(n: number): FeatureInput[] {
  if (fs.existsSync(POOL)) {
    const first = fs.readFileSync(POOL, 'utf8').split('\n', 1)[0] as string;
    const rec = JSON.parse(first) as { generation_prompt: string; samples: string[] };
    return Array.from({ length: n }, (_, i) => ({
      text: rec.samples[i % rec.samples.length] as string,
      votes: 1 + (i % 3),
      totalSamples: n,
      prefix: rec.generation_prompt,
      suffix: '',
      languageId: 'python',
    }));
  }
  const prefix = 'def total(xs: list[int]) -> int:\n    """Sum of the even numbers in xs."""\n';
  return Array.from({ length: n }, (_, i) => ({
    text: `    s = 0\n    for x in xs:\n        if x % 2 == ${i % 2}:\n            s += x * ${i}\n    return s\n`,
    votes: 1,
    totalSamples: n,
    prefix,
    suffix: '',
    languageId: 'python',
  }));
}

function mlpSpec(hidden: number): RankerSpec {
  let seed = 1;
  const r = () => ((seed = (seed * 16807) % 2147483647) / 2147483647) * 2 - 1;
  return {
    version: `bench-mlp-${hidden}`,
    featureNames: [...FEATURE_NAMES],
    mean: FEATURE_NAMES.map(() => 0),
    std: FEATURE_NAMES.map(() => 1),
    layers: [
      { weights: FEATURE_NAMES.map(() => Array.from({ length: hidden }, r)), bias: Array.from({ length: hidden }, r), activation: 'relu' },
      { weights: Array.from({ length: hidden }, () => [r()]), bias: [0] },
    ],
  };
}

interface Row {
  model: string;
  device: string;
  measure: string;
  n: number;
  p50: number;
  p99: number;
  mean: number;
  iterations: number;
}

async function time(fn: () => unknown): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const t = new Float64Array(iterations);
  for (let i = 0; i < iterations; i++) {
    const t0 = performance.now();
    await fn();
    t[i] = performance.now() - t0;
  }
  const sorted = Float64Array.from(t).sort();
  const q = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
  return { p50: q(0.5), p99: q(0.99), mean: t.reduce((a, b) => a + b, 0) / t.length };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-bench-'));
  const rows: Row[] = [];
  let deviceReason = '';
  try {
    for (const spec of [BUILTIN_SPEC, mlpSpec(64)]) {
      const file = path.join(dir, `${spec.version}.onnx`);
      fs.writeFileSync(file, buildRankerModel(spec));
      const ranker = await Ranker.load(file, { device });
      deviceReason = ranker.deviceReason;
      try {
        for (const n of SIZES) {
          const cands = candidates(n);
          const features = featurize(cands);
          if (features.length !== n * NUM_FEATURES) throw new Error('featurize returned the wrong shape');
          const add = (measure: string, r: { p50: number; p99: number; mean: number }) => rows.push({ model: spec.version, device: ranker.device, measure, n, iterations, ...r });
          add('featurize + score', await time(async () => ranker.score(featurize(cands), n)));
          add('score (ONNX run) only', await time(async () => ranker.score(features, n)));
          if (spec === BUILTIN_SPEC) add('featurize only', await time(() => featurize(cands)));
        }
      } finally {
        await ranker.dispose();
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  const ort = (JSON.parse(fs.readFileSync(require.resolve('onnxruntime-node/package.json'), 'utf8')) as { version: string }).version;
  console.log(`Ranker latency, ms per call (${iterations} iterations after ${WARMUP} warm-up; ${fs.existsSync(POOL) ? 'HumanEval CodeGen-16B samples' : 'synthetic candidates'})`);
  const load = os.loadavg().map((l) => l.toFixed(1)).join(' ');
  console.log(`node ${process.version}, onnxruntime-node ${ort}, ${cpu} (${os.cpus().length} threads, load average ${load}); device: ${deviceReason}`);
  console.log('p99 on a loaded machine mostly measures preemption: compare p50 and mean across machines.\n');
  console.log('| model | device | measure | n | p50 | p99 | mean |');
  console.log('| --- | --- | --- | ---: | ---: | ---: | ---: |');
  for (const r of rows) console.log(`| ${r.model} | ${r.device} | ${r.measure} | ${r.n} | ${r.p50.toFixed(3)} | ${r.p99.toFixed(3)} | ${r.mean.toFixed(3)} |`);
  const worst = rows.filter((r) => r.n === 100 && r.measure === 'featurize + score').reduce((m, r) => Math.max(m, r.p99), 0);
  console.log(`\nTarget ≤ 5 ms for 100 candidates: worst p99 ${worst.toFixed(3)} ms → ${worst <= 5 ? 'met' : 'NOT met'}`);
  if (asJson) console.log(JSON.stringify({ node: process.version, onnxruntime: ort, cpu, loadAverage: os.loadavg(), deviceReason, rows }, null, 2));
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
