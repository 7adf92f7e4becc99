/**
 * A transformer reward model at serving time: one onnxruntime session (CUDA when present,
 * else CPU, the choice visible), the model's tokenizer, and one batched run per completion
 * that scores every (context, candidate) pair. Runs are asynchronous in onnxruntime's own
 * threads: the serving loop is never blocked by them.
 *
 * Scores: a `[batch, 1]` output is the score; a `[batch, 2]` output (two-class head) gives
 * logit[1] − logit[0], the log-odds of the "good" class. float16 outputs (fp16 exports) are
 * widened to float32.
 */

import * as os from 'node:os';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Device } from '../protocol';
import { type DevicePreference, detectExecutionProvider, shortError as firstLine } from '../ranker/ranker';

/** Reward model errors keep a little more of onnxruntime's message than the ranker's. */
const shortError = (e: unknown) => firstLine(e, 300);
import { type RewardFolder, RewardModelError } from './folder';
import { RewardTokenizer } from './tokenize';

export type RewardLog = (level: 'info' | 'warn' | 'error', message: string) => void;

/** Inputs Winnow knows how to fill. */
const KNOWN_INPUTS = ['input_ids', 'attention_mask', 'token_type_ids', 'position_ids'];

export interface RewardModelInfo {
  name: string;
  id: string;
  dir: string;
  device: Device;
  deviceReason: string;
  precision: 'fp32' | 'fp16';
  /** Most tokens of one (context, candidate) sequence. */
  maxTokens: number;
  modelMB: number;
}

const OUT_OF_MEMORY = /out of memory|failed to allocate|cudaErrorMemoryAllocation|CUBLAS_STATUS_ALLOC_FAILED|bad_alloc/i;

/** Half-precision bits to a number. */
function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

export class RewardModel {
  private released = false;
  private inFlight = 0;
  private retiring?: () => void;

  private constructor(
    private readonly session: ort.InferenceSession,
    readonly tokenizer: RewardTokenizer,
    readonly info: RewardModelInfo,
    private readonly inputs: { name: string; type: 'int64' | 'int32' }[],
    private readonly output: string,
  ) {}

  /**
   * Creates the session on the chosen device, checks the inputs and outputs, and scores one
   * probe pair. Throws {@link RewardModelError} when the model cannot serve.
   */
  static async load(folder: RewardFolder, opts: { device: DevicePreference; maxTokens: number; log: RewardLog }): Promise<RewardModel> {
    let tokenizer: RewardTokenizer;
    try {
      tokenizer = new RewardTokenizer(folder.tokenizerJson, folder.tokenizerConfig, folder.config);
    } catch (e) {
      throw new RewardModelError('invalid', `${path.join(folder.dir, 'tokenizer.json')} does not load in @huggingface/tokenizers: ${shortError(e)}`);
    }
    const file = path.join(folder.dir, folder.modelFile);
    const choice = detectExecutionProvider(opts.device);
    const base: ort.InferenceSession.SessionOptions = {
      graphOptimizationLevel: 'all',
      // Half the cores: the engine shares the machine with the editor and the model server.
      intraOpNumThreads: Math.max(1, Math.floor(os.availableParallelism() / 2)),
      interOpNumThreads: 1,
    };
    let session: ort.InferenceSession;
    let device: Device = 'cpu';
    let deviceReason = choice.reason;
    const onCpu = async (why: string) => {
      try {
        const s = await ort.InferenceSession.create(file, { ...base, executionProviders: ['cpu'] });
        deviceReason = why;
        return s;
      } catch (e) {
        throw new RewardModelError(OUT_OF_MEMORY.test(String(e)) ? 'does_not_fit' : 'does_not_load', `reward model ${file} does not load in onnxruntime: ${shortError(e)}`);
      }
    };
    if (choice.device === 'cuda') {
      try {
        session = await ort.InferenceSession.create(file, { ...base, executionProviders: ['cuda'] });
        device = 'cuda';
      } catch (e) {
        if (OUT_OF_MEMORY.test(String(e))) {
          throw new RewardModelError('does_not_fit', `reward model ${folder.name} (${(folder.bytes / 1024 ** 3).toFixed(1)} GB) does not fit in GPU memory: ${shortError(e)}; completions go on without it (use a smaller or fp16 export)`);
        }
        session = await onCpu(`CPU: CUDA session failed: ${shortError(e)}`);
      }
    } else {
      session = await onCpu(choice.reason);
    }

    const release = async (problem: RewardModelError): Promise<never> => {
      await session.release().catch(() => undefined);
      throw problem;
    };
    const meta = new Map(session.inputMetadata.map((m) => [m.name, m]));
    if (!meta.has('input_ids')) await release(new RewardModelError('invalid', `reward model ${file} has no input_ids input (it has ${session.inputNames.join(', ')}): export it as a sequence classifier (--task text-classification)`));
    const inputs: { name: string; type: 'int64' | 'int32' }[] = [];
    for (const name of session.inputNames) {
      const m = meta.get(name);
      if (!KNOWN_INPUTS.includes(name)) await release(new RewardModelError('invalid', `reward model ${file} has an input Winnow cannot fill: ${name} (it fills ${KNOWN_INPUTS.join(', ')}); export it as a sequence classifier without past key values (--task text-classification)`));
      const type = m && m.isTensor ? m.type : undefined;
      if (type !== 'int64' && type !== 'int32') await release(new RewardModelError('invalid', `reward model ${file}: input ${name} must be int64 or int32, it is ${type ?? 'not a tensor'}`));
      inputs.push({ name, type: type as 'int64' | 'int32' });
    }
    const output = session.outputNames.includes('logits') ? 'logits' : session.outputNames.length === 1 ? (session.outputNames[0] as string) : undefined;
    if (output === undefined) await release(new RewardModelError('invalid', `reward model ${file} has outputs ${session.outputNames.join(', ')} and none is logits`));
    const om = session.outputMetadata.find((m) => m.name === output);
    const otype = om && om.isTensor ? om.type : undefined;
    if (otype !== 'float32' && otype !== 'float16') await release(new RewardModelError('invalid', `reward model ${file}: output ${output} must be float32 or float16, it is ${otype ?? 'not a tensor'}`));
    const oshape = om && om.isTensor ? om.shape : [];
    const last = oshape[oshape.length - 1];
    if (oshape.length !== 2 || (typeof last === 'number' && last !== 1 && last !== 2)) {
      await release(new RewardModelError('invalid', `reward model ${file}: output ${output} must be [batch, 1] or [batch, 2] logits, it is [${oshape.join(', ')}]`));
    }

    const modelMax = [folder.config.max_position_embeddings, (folder.tokenizerConfig as Record<string, unknown>).model_max_length].filter((v): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 1_000_000);
    const maxTokens = Math.min(opts.maxTokens, ...modelMax);
    const precision = otype === 'float16' || /fp16/i.test(folder.modelFile) ? 'fp16' : 'fp32';
    if (device === 'cpu') opts.log('warn', `reward model ${folder.name} runs on CPU (${deviceReason}): expect it to be slow; scores that miss the latency budget are stored for training only`);
    const model = new RewardModel(session, tokenizer, { name: folder.name, id: folder.id, dir: folder.dir, device, deviceReason, precision, maxTokens, modelMB: Math.round(folder.bytes / 1048576) }, inputs, output as string);
    try {
      const probe = await model.score('def f():\n', ['    return 1\n', '    pass\n']);
      if (!Array.from(probe).every(Number.isFinite)) throw new Error('it scores NaN or infinity');
    } catch (e) {
      await model.dispose();
      throw new RewardModelError('does_not_load', `reward model ${file} does not score: ${shortError(e)}`);
    }
    return model;
  }

  /** Sequences of the (context, candidate) pairs, tokenized (the context once). */
  encode(context: string, candidates: readonly string[]): number[][] {
    const ctx = this.tokenizer.encodeText(context);
    return candidates.map((c) => this.tokenizer.pair(ctx, this.tokenizer.encodeText(c), this.info.maxTokens).ids);
  }

  /** Scores every candidate against the context in one batched run; higher is better. */
  async score(context: string, candidates: readonly string[]): Promise<Float32Array> {
    if (candidates.length === 0) return new Float32Array(0);
    return this.scoreSequences(this.encode(context, candidates));
  }

  async scoreSequences(seqs: readonly number[][]): Promise<Float32Array> {
    if (this.released) throw new Error(`reward model ${this.info.name} was released`);
    const b = this.tokenizer.batch(seqs);
    const dims = [b.rows, b.seq];
    const feeds: Record<string, ort.Tensor> = {};
    for (const { name, type } of this.inputs) {
      const values = name === 'input_ids' ? b.ids : name === 'attention_mask' ? b.mask : name === 'position_ids' ? b.mask.map((_, k) => k % b.seq) : b.mask.map(() => 0);
      feeds[name] = type === 'int64' ? new ort.Tensor('int64', BigInt64Array.from(values, (v) => BigInt(v)), dims) : new ort.Tensor('int32', Int32Array.from(values), dims);
    }
    this.inFlight++;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run(feeds);
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.retiring?.();
    }
    const t = out[this.output];
    if (!t) throw new Error(`reward model ${this.info.name}: no output ${this.output}`);
    const width = t.dims[1] ?? 1;
    if (t.dims.length !== 2 || t.dims[0] !== b.rows || (width !== 1 && width !== 2)) throw new Error(`reward model ${this.info.name}: output ${this.output} is [${t.dims.join(', ')}], not [${b.rows}, 1 or 2]`);
    const raw = t.data instanceof Float32Array ? t.data : t.data instanceof Uint16Array ? Float32Array.from(t.data, halfToFloat) : Float32Array.from(t.data as ArrayLike<number>);
    const scores = new Float32Array(b.rows);
    for (let r = 0; r < b.rows; r++) scores[r] = width === 1 ? (raw[r] as number) : (raw[r * 2 + 1] as number) - (raw[r * 2] as number);
    return scores;
  }

  /** Releases the session once the runs in flight on it have ended. */
  retire(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.retiring = () => {
        void this.dispose().then(resolve, () => resolve());
      };
      if (this.inFlight === 0) this.retiring();
    });
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}
