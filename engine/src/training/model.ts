/**
 * The built-in ranker family and its Bradley-Terry trainer. Pure: no I/O, no clock, no global
 * randomness; the same pairs, hyper-parameters and seed give the same model, bit for bit.
 *
 * A model is per-feature normalization x' = (x − mean) / std, then either one linear layer
 * (`linear`) or one hidden ReLU layer and a linear output (`mlp`). {@link toRankerSpec} turns it
 * into the spec that engine/src/ranker/onnx.ts writes as ONNX, so what is trained here is
 * exactly the graph the engine runs ({@link scoreRows} is the same forward pass in JavaScript).
 *
 * Loss over pairs (chosen c, rejected r, weight w), RewardRanker / AceCoder:
 *   L = Σ w · −log σ(s(c) − s(r)) / Σ w  +  (l2 / 2) · ‖weights‖²   (biases are not penalized)
 * minimized with Adam over seeded-shuffled minibatches; after each epoch the held-out pairwise
 * accuracy is measured and the best epoch's parameters are kept (early stopping with patience).
 */
import type { DenseLayer, RankerSpec } from '../ranker/onnx';
import { mulberry32 } from '../random';

export type ModelFamily = 'linear' | 'mlp';

export interface TrainHyper {
  family: ModelFamily;
  /** Hidden units of the MLP (ignored for linear). */
  hidden: number;
  /** L2 penalty on the weights. */
  l2: number;
  learningRate: number;
  batchSize: number;
  maxEpochs: number;
  /** Epochs without a better held-out accuracy before stopping. */
  patience: number;
  seed: number;
}

export const DEFAULT_HYPER: Readonly<TrainHyper> = {
  family: 'linear',
  hidden: 32,
  l2: 1e-4,
  learningRate: 0.02,
  batchSize: 256,
  maxEpochs: 40,
  patience: 6,
  seed: 1,
};

/** Pairs as row-major feature matrices: row i of `chosen` is preferred to row i of `rejected`. */
export interface PairData {
  dim: number;
  n: number;
  chosen: Float32Array;
  rejected: Float32Array;
  /** Loss weight per pair, > 0. */
  weight: Float32Array;
}

export interface TrainedModel {
  family: ModelFamily;
  mean: number[];
  std: number[];
  /** The layers after normalization, as onnx.ts writes them. */
  layers: DenseLayer[];
}

export interface EpochReport {
  epoch: number;
  maxEpochs: number;
  trainLoss: number;
  /** Held-out pairwise accuracy after this epoch (NaN without held-out pairs). */
  heldOutAccuracy: number;
  bestHeldOutAccuracy: number;
}

export interface TrainResult {
  model: TrainedModel;
  epochs: number;
  bestEpoch: number;
  /** Training loss (without the L2 term) of the kept parameters. */
  trainLoss: number;
  /** Held-out pairwise accuracy of the kept parameters (NaN without held-out pairs). */
  heldOutAccuracy: number;
  history: EpochReport[];
}

export interface TrainOptions {
  /** Rows to fit the normalization on (the training split's candidates); default every row of `train`. */
  normRows?: { rows: Float32Array; n: number };
  onEpoch?: (r: EpochReport) => void;
  /** Checked between epochs; true stops with the best parameters so far. */
  shouldStop?: () => boolean;
}

/** Emptiness helper for callers building PairData incrementally. */
export function emptyPairs(dim: number): PairData {
  return { dim, n: 0, chosen: new Float32Array(0), rejected: new Float32Array(0), weight: new Float32Array(0) };
}

/** Mean and standard deviation per column; a constant column gets std 1 (it then contributes nothing). */
export function fitNormalization(rows: Float32Array, n: number, dim: number): { mean: number[]; std: number[] } {
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) mean[j] = (mean[j] as number) + (rows[o + j] as number);
  }
  for (let j = 0; j < dim; j++) mean[j] = n > 0 ? (mean[j] as number) / n : 0;
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) {
      const d = (rows[o + j] as number) - (mean[j] as number);
      sq[j] = (sq[j] as number) + d * d;
    }
  }
  const std: number[] = [];
  for (let j = 0; j < dim; j++) {
    const s = n > 1 ? Math.sqrt((sq[j] as number) / n) : 0;
    std.push(s > 1e-6 ? Math.fround(s) : 1);
  }
  // float32 as the ONNX file stores them, so that JavaScript and onnxruntime normalize alike.
  return { mean: Array.from(mean, (m) => Math.fround(m)), std };
}

function normalize(rows: Float32Array, n: number, dim: number, mean: readonly number[], std: readonly number[]): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    const o = i * dim;
    for (let j = 0; j < dim; j++) out[o + j] = ((rows[o + j] as number) - (mean[j] as number)) / (std[j] as number);
  }
  return out;
}

/** Box-Muller normal from a seeded uniform source. */
function gaussian(rand: () => number): () => number {
  return () => {
    const u = Math.max(rand(), 1e-12);
    const v = rand();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/**
 * Parameters in one flat vector so that Adam, the L2 term and "keep the best epoch" are one
 * loop each. Linear: [w(dim)]. MLP: [W1(dim×H row-major), b1(H), w2(H)]. Output biases are 0
 * (a constant shift does not change a Bradley-Terry score difference).
 */
interface Layout {
  family: ModelFamily;
  dim: number;
  hidden: number;
  size: number;
  /** 1 where the L2 penalty applies. */
  penalized: Uint8Array;
}

function layoutOf(family: ModelFamily, dim: number, hidden: number): Layout {
  if (family === 'linear') return { family, dim, hidden: 0, size: dim, penalized: new Uint8Array(dim).fill(1) };
  const size = dim * hidden + hidden + hidden;
  const penalized = new Uint8Array(size).fill(1);
  penalized.fill(0, dim * hidden, dim * hidden + hidden); // b1
  return { family, dim, hidden, size, penalized };
}

function initParams(l: Layout, seed: number): Float64Array {
  const p = new Float64Array(l.size);
  if (l.family === 'linear') return p; // convex: start at zero
  const g = gaussian(mulberry32(seed >>> 0));
  const s1 = Math.sqrt(2 / l.dim);
  for (let i = 0; i < l.dim * l.hidden; i++) p[i] = g() * s1;
  for (let h = 0; h < l.hidden; h++) p[l.dim * l.hidden + h] = 0.01;
  const s2 = Math.sqrt(1 / l.hidden);
  for (let h = 0; h < l.hidden; h++) p[l.dim * l.hidden + l.hidden + h] = g() * s2;
  return p;
}

/** Score of one normalized row. `h` is scratch space of size hidden (MLP only). */
function scoreOne(l: Layout, p: Float64Array, x: Float32Array, o: number, h: Float64Array): number {
  const dim = l.dim;
  if (l.family === 'linear') {
    let s = 0;
    for (let j = 0; j < dim; j++) s += (p[j] as number) * (x[o + j] as number);
    return s;
  }
  const H = l.hidden;
  const b1 = dim * H;
  const w2 = b1 + H;
  for (let k = 0; k < H; k++) h[k] = p[b1 + k] as number;
  for (let j = 0; j < dim; j++) {
    const xj = x[o + j] as number;
    if (xj === 0) continue;
    const row = j * H;
    for (let k = 0; k < H; k++) h[k] = (h[k] as number) + xj * (p[row + k] as number);
  }
  let s = 0;
  for (let k = 0; k < H; k++) {
    const v = h[k] as number;
    if (v > 0) s += v * (p[w2 + k] as number);
    else h[k] = 0;
  }
  return s;
}

/** log(1 + e^z), stable. */
function softplus(z: number): number {
  return z > 30 ? z : z < -30 ? Math.exp(z) : Math.log1p(Math.exp(z));
}

/** Pairwise accuracy: share of pairs whose chosen side scores higher (a tie counts one half). */
export function pairwiseAccuracy(chosen: ArrayLike<number>, rejected: ArrayLike<number>): number {
  const n = chosen.length;
  if (n === 0) return Number.NaN;
  let a = 0;
  for (let i = 0; i < n; i++) {
    const d = (chosen[i] as number) - (rejected[i] as number);
    a += d > 0 ? 1 : d === 0 ? 0.5 : 0;
  }
  return a / n;
}

function accuracyOn(l: Layout, p: Float64Array, xc: Float32Array, xr: Float32Array, n: number): number {
  if (n === 0) return Number.NaN;
  const h = new Float64Array(Math.max(1, l.hidden));
  let a = 0;
  for (let i = 0; i < n; i++) {
    const o = i * l.dim;
    const d = scoreOne(l, p, xc, o, h) - scoreOne(l, p, xr, o, h);
    a += d > 0 ? 1 : d === 0 ? 0.5 : 0;
  }
  return a / n;
}

/**
 * Trains a model on `train`, early-stopping on `heldOut` (may be empty: then all epochs run and
 * the last parameters are kept). Deterministic for a given seed.
 */
export function trainPairs(train: PairData, heldOut: PairData | undefined, hyper: TrainHyper, opts: TrainOptions = {}): TrainResult {
  const dim = train.dim;
  if (heldOut && heldOut.dim !== dim) throw new Error(`trainer: held-out pairs have ${heldOut.dim} features, training pairs ${dim}`);
  if (!(hyper.batchSize >= 1) || !(hyper.maxEpochs >= 1) || !(hyper.learningRate > 0)) throw new Error('trainer: batchSize, maxEpochs and learningRate must be positive');
  const norm = opts.normRows
    ? fitNormalization(opts.normRows.rows, opts.normRows.n, dim)
    : fitNormalization(concatRows(train.chosen, train.rejected), train.n * 2, dim);
  const xc = normalize(train.chosen, train.n, dim, norm.mean, norm.std);
  const xr = normalize(train.rejected, train.n, dim, norm.mean, norm.std);
  const hn = heldOut?.n ?? 0;
  const vc = heldOut ? normalize(heldOut.chosen, hn, dim, norm.mean, norm.std) : new Float32Array(0);
  const vr = heldOut ? normalize(heldOut.rejected, hn, dim, norm.mean, norm.std) : new Float32Array(0);

  const l = layoutOf(hyper.family, dim, Math.max(1, Math.floor(hyper.hidden)));
  const p = initParams(l, hyper.seed);
  const m = new Float64Array(l.size);
  const v = new Float64Array(l.size);
  const grad = new Float64Array(l.size);
  const hc = new Float64Array(Math.max(1, l.hidden));
  const hr = new Float64Array(Math.max(1, l.hidden));
  const rand = mulberry32((hyper.seed ^ 0x5bd1e995) >>> 0);
  const order = new Uint32Array(train.n);
  for (let i = 0; i < train.n; i++) order[i] = i;
  const b1 = 0.9;
  const b2 = 0.999;
  let step = 0;

  let best = p.slice();
  let bestAcc = -1;
  let bestEpoch = 0;
  let bestLoss = Number.NaN;
  let sinceBest = 0;
  const history: EpochReport[] = [];
  let epoch = 0;
  const H = l.hidden;
  const W1 = 0;
  const B1 = dim * H;
  const W2 = B1 + H;

  for (epoch = 1; epoch <= hyper.maxEpochs; epoch++) {
    // Fisher-Yates with the seeded source.
    for (let i = train.n - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      const t = order[i] as number;
      order[i] = order[j] as number;
      order[j] = t;
    }
    let lossSum = 0;
    let weightSum = 0;
    for (let start = 0; start < train.n; start += hyper.batchSize) {
      const end = Math.min(train.n, start + hyper.batchSize);
      grad.fill(0);
      let bw = 0;
      for (let k = start; k < end; k++) {
        const i = order[k] as number;
        const w = train.weight[i] as number;
        const o = i * dim;
        const sc = scoreOne(l, p, xc, o, hc);
        const sr = scoreOne(l, p, xr, o, hr);
        const d = sc - sr;
        lossSum += w * softplus(-d);
        weightSum += w;
        bw += w;
        // dL/dd = −w · σ(−d)
        const g = -w / (1 + Math.exp(d));
        if (l.family === 'linear') {
          for (let j = 0; j < dim; j++) grad[j] = (grad[j] as number) + g * ((xc[o + j] as number) - (xr[o + j] as number));
        } else {
          for (let h = 0; h < H; h++) {
            const a = hc[h] as number;
            const b = hr[h] as number;
            grad[W2 + h] = (grad[W2 + h] as number) + g * (a - b);
            const w2 = p[W2 + h] as number;
            const dc = a > 0 ? g * w2 : 0;
            const dr = b > 0 ? -g * w2 : 0;
            if (dc === 0 && dr === 0) continue;
            grad[B1 + h] = (grad[B1 + h] as number) + dc + dr;
            for (let j = 0; j < dim; j++) {
              const idx = W1 + j * H + h;
              grad[idx] = (grad[idx] as number) + dc * (xc[o + j] as number) + dr * (xr[o + j] as number);
            }
          }
        }
      }
      if (bw <= 0) continue;
      step++;
      const lr = hyper.learningRate;
      const c1 = 1 - b1 ** step;
      const c2 = 1 - b2 ** step;
      for (let q = 0; q < l.size; q++) {
        const gq = (grad[q] as number) / bw + (l.penalized[q] === 1 ? hyper.l2 * (p[q] as number) : 0);
        m[q] = b1 * (m[q] as number) + (1 - b1) * gq;
        v[q] = b2 * (v[q] as number) + (1 - b2) * gq * gq;
        p[q] = (p[q] as number) - (lr * ((m[q] as number) / c1)) / (Math.sqrt((v[q] as number) / c2) + 1e-8);
      }
    }
    const trainLoss = weightSum > 0 ? lossSum / weightSum : 0;
    const acc = hn > 0 ? accuracyOn(l, p, vc, vr, hn) : Number.NaN;
    const better = hn > 0 ? acc > bestAcc + 1e-12 : true;
    if (better) {
      best = p.slice();
      bestAcc = hn > 0 ? acc : Number.NaN;
      bestEpoch = epoch;
      bestLoss = trainLoss;
      sinceBest = 0;
    } else sinceBest++;
    const report: EpochReport = { epoch, maxEpochs: hyper.maxEpochs, trainLoss, heldOutAccuracy: acc, bestHeldOutAccuracy: hn > 0 ? bestAcc : Number.NaN };
    history.push(report);
    opts.onEpoch?.(report);
    if (hn > 0 && sinceBest >= hyper.patience) break;
    if (opts.shouldStop?.()) break;
  }
  return {
    model: { family: l.family, mean: norm.mean, std: norm.std, layers: layersOf(l, best) },
    epochs: Math.min(epoch, hyper.maxEpochs),
    bestEpoch,
    trainLoss: bestLoss,
    heldOutAccuracy: hn > 0 ? bestAcc : Number.NaN,
    history,
  };
}

function concatRows(a: Float32Array, b: Float32Array): Float32Array {
  const out = new Float32Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function layersOf(l: Layout, p: Float64Array): DenseLayer[] {
  const f = (x: number) => Math.fround(x);
  if (l.family === 'linear') return [{ weights: Array.from({ length: l.dim }, (_, j) => [f(p[j] as number)]), bias: [0], activation: 'none' }];
  const H = l.hidden;
  const B1 = l.dim * H;
  const W2 = B1 + H;
  return [
    { weights: Array.from({ length: l.dim }, (_, j) => Array.from({ length: H }, (_, k) => f(p[j * H + k] as number))), bias: Array.from({ length: H }, (_, k) => f(p[B1 + k] as number)), activation: 'relu' },
    { weights: Array.from({ length: H }, (_, k) => [f(p[W2 + k] as number)]), bias: [0], activation: 'none' },
  ];
}

/**
 * Scores raw (unnormalized) rows with a model: the same computation as the ONNX graph
 * (normalize, dense layers, ReLU), in float64 over the float32 parameters.
 */
export function scoreRows(model: Pick<TrainedModel, 'mean' | 'std' | 'layers'>, rows: Float32Array, n: number): Float32Array {
  const dim = model.mean.length;
  if (rows.length !== n * dim) throw new Error(`scoreRows: expected ${n} × ${dim} values, got ${rows.length}`);
  const out = new Float32Array(n);
  // Buffers sized to the widest layer, reused across rows (this runs over every stored candidate).
  const width = Math.max(dim, ...model.layers.map((l) => l.bias.length));
  let cur = new Float64Array(width);
  let next = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) cur[j] = Math.fround(((rows[i * dim + j] as number) - (model.mean[j] as number)) / (model.std[j] as number));
    let curWidth = dim;
    for (const layer of model.layers) {
      const outW = layer.bias.length;
      for (let k = 0; k < outW; k++) next[k] = layer.bias[k] as number;
      for (let j = 0; j < curWidth; j++) {
        const xj = cur[j] as number;
        if (xj === 0) continue;
        const row = layer.weights[j] as number[];
        for (let k = 0; k < outW; k++) next[k] = (next[k] as number) + xj * (row[k] as number);
      }
      if (layer.activation === 'relu') for (let k = 0; k < outW; k++) if ((next[k] as number) < 0) next[k] = 0;
      const t = cur;
      cur = next;
      next = t;
      curWidth = outW;
    }
    out[i] = cur[0] as number;
  }
  return out;
}

/** The spec onnx.ts writes for a trained model. */
export function toRankerSpec(model: TrainedModel, version: string, featureNames: readonly string[], metadata: Record<string, string> = {}): RankerSpec {
  if (featureNames.length !== model.mean.length) throw new Error(`toRankerSpec: the model has ${model.mean.length} features, ${featureNames.length} names given`);
  return { version, featureNames: [...featureNames], mean: model.mean, std: model.std, layers: model.layers, metadata: { 'winnow.family': model.family, ...metadata } };
}

/** The same model read back from a spec (to rescore with a version kept on disk). */
export function fromRankerSpec(spec: RankerSpec): TrainedModel {
  const family: ModelFamily = spec.layers.length > 1 ? 'mlp' : 'linear';
  return { family, mean: spec.mean, std: spec.std, layers: spec.layers };
}
