/**
 * The ranker at serving time: loads an ONNX ranker with onnxruntime-node, picks the
 * execution provider (CUDA when it is installed and a GPU is present, else CPU, never
 * failing hard), checks that the model was trained on this engine's features, and scores
 * a batch of featurized candidates in one run.
 *
 * The EP decision is split in two so that it can be tested without a GPU: detection
 * (detectCudaProvider, detectGpu) reads the machine; chooseExecutionProvider is a pure
 * table over what was detected.
 */

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import type { Device } from '../protocol';
import { BUILTIN_VERSION, FEATURE_NAMES, FEATURE_SET_ID, NUM_FEATURES } from '../features';
import { INPUT_NAME, OUTPUT_NAME, readModelMetadata } from './onnx';
import { RankerRegistry } from './registry';

export type DevicePreference = 'auto' | 'cpu' | 'cuda';
export type RankerLog = (level: 'info' | 'warn' | 'error', message: string) => void;

// ---------------------------------------------------------------------------------------
// Execution provider choice.

export interface EpInputs {
  preference: DevicePreference;
  /** onnxruntime-node has a usable CUDA execution provider (bundled or installed beside it). */
  cudaProviderAvailable: boolean;
  /** An NVIDIA GPU was found. */
  gpuPresent: boolean;
  /** The GPU's name, for the reason text. */
  gpuName?: string;
}

export interface EpChoice {
  /** Providers to create the session with, in order. */
  providers: ('cuda' | 'cpu')[];
  /** The device that will run the model if the session is created as asked. */
  device: Device;
  reason: string;
}

export const CUDA_NOT_INSTALLED = "CUDA provider not installed (see README 'Using a GPU')";

/** Pure: which providers to try, given what was detected. */
export function chooseExecutionProvider(i: EpInputs): EpChoice {
  const cpu = (why: string): EpChoice => ({ providers: ['cpu'], device: 'cpu', reason: `CPU: ${why}` });
  if (i.preference === 'cpu') return cpu('selected in settings (winnow.ranker.device)');
  if (!i.cudaProviderAvailable) return cpu(i.preference === 'cuda' ? `CUDA requested but ${CUDA_NOT_INSTALLED}` : CUDA_NOT_INSTALLED);
  const gpu = i.gpuName ?? 'NVIDIA GPU';
  if (!i.gpuPresent) {
    // Forced: detection can miss a GPU (containers, WSL), so try; the session decides.
    if (i.preference === 'cuda') return { providers: ['cuda', 'cpu'], device: 'cuda', reason: 'CUDA: requested in settings (no NVIDIA GPU detected) via onnxruntime CUDA provider' };
    return cpu('no NVIDIA GPU found');
  }
  return { providers: ['cuda', 'cpu'], device: 'cuda', reason: `CUDA: ${gpu} via onnxruntime CUDA provider` };
}

/** Folder of onnxruntime_binding.node, where optional provider libraries are installed. */
export function onnxruntimeBinDir(): string | undefined {
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    return path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
  } catch {
    return undefined;
  }
}

/** Whether onnxruntime-node can load its CUDA provider here. */
export function detectCudaProvider(): boolean {
  let cuda: { bundled: boolean } | undefined;
  try {
    cuda = ort.listSupportedBackends().find((b) => b.name === 'cuda');
  } catch {
    return false;
  }
  if (!cuda) return false;
  if (cuda.bundled) return true;
  const dir = onnxruntimeBinDir();
  if (!dir) return false;
  // The CUDA provider is loaded through the shared provider bridge; both ship together.
  const libs = process.platform === 'win32' ? ['onnxruntime_providers_cuda.dll', 'onnxruntime_providers_shared.dll'] : ['libonnxruntime_providers_cuda.so', 'libonnxruntime_providers_shared.so'];
  return libs.every((lib) => fs.existsSync(path.join(dir, lib)));
}

/** Looks for an NVIDIA GPU: the Linux driver's /proc entry, else `nvidia-smi -L`. */
export function detectGpu(): { present: boolean; name?: string } {
  if (process.platform === 'linux' && fs.existsSync('/proc/driver/nvidia/version')) {
    let name: string | undefined;
    try {
      const gpus = fs.readdirSync('/proc/driver/nvidia/gpus');
      const first = gpus[0];
      if (first !== undefined) {
        const info = fs.readFileSync(path.join('/proc/driver/nvidia/gpus', first, 'information'), 'utf8');
        name = /^Model:\s*(.+)$/m.exec(info)?.[1]?.trim();
      }
    } catch {
      // the name is only for display
    }
    return name ? { present: true, name } : { present: true };
  }
  try {
    const out = execFileSync('nvidia-smi', ['-L'], { encoding: 'utf8', timeout: 3000, stdio: ['ignore', 'pipe', 'ignore'], windowsHide: true });
    const m = /^GPU \d+: (.+?)(?: \(UUID:.*)?$/m.exec(out);
    if (m) return m[1] ? { present: true, name: m[1].trim() } : { present: true };
  } catch {
    // no nvidia-smi, or it failed: no usable GPU
  }
  return { present: false };
}

/** Detects the machine and chooses; detection of the GPU is skipped when it cannot matter. */
export function detectExecutionProvider(preference: DevicePreference): EpChoice {
  if (preference === 'cpu') return chooseExecutionProvider({ preference, cudaProviderAvailable: false, gpuPresent: false });
  const cudaProviderAvailable = detectCudaProvider();
  const gpu = cudaProviderAvailable ? detectGpu() : { present: false };
  return chooseExecutionProvider({ preference, cudaProviderAvailable, gpuPresent: gpu.present, ...(gpu.name ? { gpuName: gpu.name } : {}) });
}

/** The first line of an error's message (onnxruntime's colour codes removed), cut at `max` characters. */
export function shortError(e: unknown, max = 240): string {
  // eslint-disable-next-line no-control-regex
  const text = String((e as Error)?.message ?? e).replace(/\u001b\[[0-9;]*m/g, '');
  const first = text.split('\n')[0] ?? '';
  return first.length > max ? `${first.slice(0, max)}…` : first;
}

const SESSION_OPTIONS: ort.InferenceSession.SessionOptions = {
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
  // The model is tiny: threads cost more to wake than they save, and the engine shares
  // the machine with the generator and the trainer.
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
};

/**
 * Creates a session as the choice says; when a CUDA session cannot be created, falls back
 * to CPU and says why. Throws only when the CPU session fails too (a bad model).
 */
export async function createRankerSession(bytes: Uint8Array, choice: EpChoice): Promise<{ session: ort.InferenceSession; device: Device; reason: string }> {
  if (choice.providers.includes('cuda')) {
    try {
      const session = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS, executionProviders: choice.providers });
      return { session, device: 'cuda', reason: choice.reason };
    } catch (e) {
      const session = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS, executionProviders: ['cpu'] });
      return { session, device: 'cpu', reason: `CPU: CUDA session failed: ${shortError(e)}` };
    }
  }
  const session = await ort.InferenceSession.create(bytes, { ...SESSION_OPTIONS, executionProviders: ['cpu'] });
  return { session, device: 'cpu', reason: choice.reason };
}

// ---------------------------------------------------------------------------------------
// The ranker.

export type RankerLoadProblem = 'missing' | 'corrupt' | 'features';

export class RankerLoadError extends Error {
  constructor(
    readonly problem: RankerLoadProblem,
    readonly file: string,
    message: string,
  ) {
    super(message);
    this.name = 'RankerLoadError';
  }
}

function describeFeatureMismatch(model: string[], engine: readonly string[]): string {
  const i = model.findIndex((n, k) => n !== engine[k]);
  const at = i >= 0 ? i : Math.min(model.length, engine.length);
  return `the model has ${model.length} features, the engine ${engine.length}; first difference at #${at}: model ${JSON.stringify(model[at] ?? null)}, engine ${JSON.stringify(engine[at] ?? null)}`;
}

export class Ranker {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly version: string,
    readonly device: Device,
    readonly deviceReason: string,
    readonly featureNames: readonly string[],
    readonly metadata: Readonly<Record<string, string>>,
  ) {}

  /** Loads a ranker file. Throws {@link RankerLoadError} when the file cannot be used. */
  static async load(modelPath: string, opts: { device: DevicePreference }): Promise<Ranker> {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(modelPath);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
      throw new RankerLoadError(missing ? 'missing' : 'corrupt', modelPath, `ranker ${modelPath}: ${missing ? 'file not found' : shortError(e)}`);
    }
    let meta: Record<string, string>;
    try {
      meta = readModelMetadata(bytes);
    } catch (e) {
      throw new RankerLoadError('corrupt', modelPath, `ranker ${modelPath} is not a readable ONNX model: ${shortError(e)}`);
    }
    const features = meta['winnow.features'];
    if (features === undefined) {
      // Readable but foreign (say, an ONNX model exported elsewhere): keep it, do not use it.
      if (bytes.length === 0) throw new RankerLoadError('corrupt', modelPath, `ranker ${modelPath} is empty`);
      throw new RankerLoadError('features', modelPath, `ranker ${modelPath} is not a Winnow ranker: it has no winnow.features metadata`);
    }
    const names = features.split(',');
    const set = meta['winnow.featureSet'];
    if (set !== undefined && set !== FEATURE_SET_ID) {
      throw new RankerLoadError('features', modelPath, `ranker ${modelPath} was trained on feature set ${set}; this engine computes ${FEATURE_SET_ID}`);
    }
    if (names.length !== FEATURE_NAMES.length || names.some((n, k) => n !== FEATURE_NAMES[k])) {
      throw new RankerLoadError('features', modelPath, `ranker ${modelPath} was trained on other features than this engine computes: ${describeFeatureMismatch(names, FEATURE_NAMES)}`);
    }

    const choice = detectExecutionProvider(opts.device);
    let created: Awaited<ReturnType<typeof createRankerSession>>;
    try {
      created = await createRankerSession(bytes, choice);
    } catch (e) {
      throw new RankerLoadError('corrupt', modelPath, `ranker ${modelPath} does not load in onnxruntime: ${shortError(e)}`);
    }
    const { session } = created;
    const input = session.inputMetadata.find((m) => m.name === INPUT_NAME);
    const shapeOk = input !== undefined && input.isTensor && input.shape.length === 2 && input.shape[1] === NUM_FEATURES;
    if (!shapeOk || !session.outputNames.includes(OUTPUT_NAME)) {
      await session.release();
      throw new RankerLoadError('corrupt', modelPath, `ranker ${modelPath} needs input "${INPUT_NAME}" [batch, ${NUM_FEATURES}] and output "${OUTPUT_NAME}"`);
    }
    const version = meta['winnow.version'] || path.basename(modelPath, '.onnx');
    const ranker = new Ranker(session, version, created.device, created.reason, names, meta);
    // A model that loads but cannot score (or scores NaN) is refused before it serves.
    try {
      const probe = await ranker.score(new Float32Array(NUM_FEATURES * 2), 2);
      if (!Array.from(probe).every(Number.isFinite)) throw new Error('it scores NaN or infinity');
    } catch (e) {
      await session.release();
      throw new RankerLoadError('corrupt', modelPath, `ranker ${modelPath} does not score: ${shortError(e)}`);
    }
    return ranker;
  }

  private inFlight = 0;
  private retiring?: () => void;
  private released = false;

  /**
   * Releases the session once the scorings in flight on it have finished (hot swap: the new
   * ranker already serves new requests). Resolves when it is released.
   */
  retire(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.retiring = () => {
        if (this.released) return resolve();
        this.released = true;
        void this.session.release().then(resolve, () => resolve());
      };
      if (this.inFlight === 0) this.retiring();
    });
  }

  /** Scorings running on this ranker now. */
  get busy(): number {
    return this.inFlight;
  }

  /**
   * Scores n candidates in one run. `features` is row-major [n, F] as featurize() makes it.
   * Returns one score per candidate, higher is better.
   */
  async score(features: Float32Array, n: number): Promise<Float32Array> {
    if (n === 0) return new Float32Array(0);
    if (!Number.isInteger(n) || n < 0 || features.length !== n * NUM_FEATURES) {
      throw new Error(`ranker.score: expected ${n} × ${NUM_FEATURES} features, got ${features.length} values`);
    }
    if (this.released) throw new Error(`ranker ${this.version} was released`);
    const input = new ort.Tensor('float32', features, [n, NUM_FEATURES]);
    this.inFlight++;
    let out: ort.InferenceSession.ReturnType;
    try {
      out = await this.session.run({ [INPUT_NAME]: input });
    } finally {
      this.inFlight--;
      if (this.inFlight === 0) this.retiring?.();
    }
    const score = out[OUTPUT_NAME];
    if (!score || !(score.data instanceof Float32Array) || score.data.length !== n) {
      throw new Error(`ranker ${this.version}: output "${OUTPUT_NAME}" is not ${n} float32 scores`);
    }
    return score.data;
  }

  async dispose(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await this.session.release();
  }
}

/**
 * Loads the active ranker of a data folder, falling back to the built-in one when the active
 * version is missing, corrupt (set aside as `<file>.corrupt-<timestamp>`) or was trained on
 * other features (kept, but deactivated). Never leaves the engine without a ranker unless
 * onnxruntime itself cannot load the built-in model.
 */
export async function loadActiveRanker(dataDir: string, device: DevicePreference, log: RankerLog): Promise<Ranker> {
  const registry = new RankerRegistry(dataDir);
  const active = registry.readActive();
  if (active.problem) log('error', `${active.problem}; using the built-in ranker ${BUILTIN_VERSION}`);
  registry.ensureBuiltin();
  let version = registry.activeVersion() ?? BUILTIN_VERSION;
  if (/^builtin-\d+$/.test(version) && version !== BUILTIN_VERSION) {
    // An older built-in ranker (a new engine version computes other features): the new one replaces it.
    log('info', `built-in ranker ${version} replaced by ${BUILTIN_VERSION} (this engine computes other features)`);
    registry.setActive(BUILTIN_VERSION, `built-in ranker ${BUILTIN_VERSION} replaced ${version} (this engine computes other features)`);
    version = BUILTIN_VERSION;
  }
  if (version !== BUILTIN_VERSION) {
    try {
      return await Ranker.load(registry.pathOf(version), { device });
    } catch (e) {
      if (!(e instanceof RankerLoadError)) throw e;
      let what = e.message;
      if (e.problem === 'corrupt') {
        const aside = registry.quarantine(version);
        if (aside) what += `; moved aside to ${aside}`;
      }
      log('error', `${what}; falling back to the built-in ranker ${BUILTIN_VERSION}`);
      registry.setActive(BUILTIN_VERSION, `fell back to the built-in ranker: ${what}`);
    }
  }
  return Ranker.load(registry.pathOf(BUILTIN_VERSION), { device });
}
