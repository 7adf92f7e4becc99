/**
 * The check a reward model folder passes before anything loads it: the model file (and its
 * external data files), `tokenizer.json`, the ONNX header (IR version, opset), and the size
 * against what the device can hold. Every refusal says plainly what is wrong and what to do;
 * the inputs and outputs are checked once onnxruntime has the model (model.ts).
 *
 * Reading the header does not read the model: ModelProto's top-level fields are walked
 * through a file descriptor and the graph (the weights) is skipped by its length, so a
 * 2 GB file costs a few reads.
 */

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { walk } from '../ranker/onnx';

export type RewardProblem = 'missing' | 'invalid' | 'oversized' | 'does_not_load' | 'does_not_fit';

export class RewardModelError extends Error {
  constructor(
    readonly problem: RewardProblem,
    message: string,
  ) {
    super(message);
    this.name = 'RewardModelError';
  }
}

export interface RewardFolder {
  dir: string;
  /** The folder's name, for display. */
  name: string;
  /** `name@` and 12 hex digits of a fingerprint of the files: what a trained ranker version records. */
  id: string;
  modelFile: string;
  /** External data files beside the model (weights of models over 2 GB). */
  dataFiles: string[];
  /** Model and data files, in bytes. */
  bytes: number;
  irVersion: number;
  opset: number;
  tokenizerJson: object;
  tokenizerConfig: object;
  config: Record<string, unknown>;
}

/** The opsets onnxruntime-node 1.30 runs (default domain). */
export const MIN_OPSET = 7;
export const MAX_OPSET = 23;
const MAX_TOKENIZER_BYTES = 64 * 1024 * 1024;
const MAX_JSON_BYTES = 4 * 1024 * 1024;

/** The model file of a folder: model_fp16.onnx first when asked (CUDA), then model.onnx, then the only .onnx there. */
function pickModelFile(dir: string, names: string[], preferFp16: boolean): string {
  const onnx = names.filter((n) => n.endsWith('.onnx')).sort();
  if (preferFp16 && onnx.includes('model_fp16.onnx')) return 'model_fp16.onnx';
  if (onnx.includes('model.onnx')) return 'model.onnx';
  if (onnx.length === 1) return onnx[0] as string;
  if (onnx.length === 0) throw new RewardModelError('missing', `reward model folder ${dir} has no .onnx file: export one with \`optimum-cli export onnx --task text-classification --model <model> ${dir}\``);
  throw new RewardModelError('invalid', `reward model folder ${dir} has ${onnx.length} .onnx files (${onnx.join(', ')}) and none is model.onnx: keep one, or name the one to use model.onnx`);
}

function readJson(file: string, what: string, max: number): unknown {
  const st = fs.statSync(file);
  if (st.size > max) throw new RewardModelError('invalid', `${what} ${file} is ${Math.round(st.size / 1048576)} MB, more than a ${what} can be (${Math.round(max / 1048576)} MB)`);
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new RewardModelError('invalid', `${what} ${file} is not valid JSON: ${(e as Error).message}`);
  }
}

function readOptionalJson(file: string, what: string): Record<string, unknown> {
  if (!fs.existsSync(file)) return {};
  const v = readJson(file, what, MAX_JSON_BYTES);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new RewardModelError('invalid', `${what} ${file} is not a JSON object`);
  return v as Record<string, unknown>;
}

// ---------------------------------------------------------------------------------------
// ONNX header: ModelProto fields 1 (ir_version), 7 (graph), 8 (opset_import).

function readVarintAt(fd: number, pos: number, size: number): { value: number; next: number } {
  const buf = Buffer.alloc(10);
  const n = fs.readSync(fd, buf, 0, Math.min(10, size - pos), pos);
  let v = 0;
  let mul = 1;
  for (let i = 0; i < n; i++) {
    const b = buf[i] as number;
    v += (b & 0x7f) * mul;
    if (b < 0x80) return { value: v, next: pos + i + 1 };
    mul *= 0x80;
  }
  throw new Error(`truncated varint at byte ${pos}`);
}

export function readOnnxHeader(file: string): { irVersion: number; opset: number; hasGraph: boolean } {
  const fd = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    if (size === 0) throw new Error('the file is empty');
    let pos = 0;
    let irVersion = 0;
    let opset = 0;
    let hasGraph = false;
    while (pos < size) {
      const key = readVarintAt(fd, pos, size);
      const field = Math.floor(key.value / 8);
      const wire = key.value & 7;
      if (field === 0 || field > 30) throw new Error(`unexpected field ${field} at byte ${pos}`);
      pos = key.next;
      if (wire === 0) {
        const v = readVarintAt(fd, pos, size);
        if (field === 1) irVersion = v.value;
        pos = v.next;
      } else if (wire === 2) {
        const len = readVarintAt(fd, pos, size);
        pos = len.next;
        if (pos + len.value > size) throw new Error(`field ${field} runs past the end of the file (truncated?)`);
        if (field === 7) hasGraph = true;
        if (field === 8 && len.value < 4096) {
          const payload = Buffer.alloc(len.value);
          fs.readSync(fd, payload, 0, len.value, pos);
          let domain = '';
          let version = 0;
          walk(
            payload,
            (f, p) => {
              if (f === 1) domain = Buffer.from(p).toString('utf8');
            },
            (f, v) => {
              if (f === 2) version = v;
            },
          );
          if (domain === '' || domain === 'ai.onnx') opset = version;
        }
        pos += len.value;
      } else if (wire === 1) pos += 8;
      else if (wire === 5) pos += 4;
      else throw new Error(`unexpected wire type ${wire} at byte ${pos}`);
    }
    return { irVersion, opset, hasGraph };
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------
// The check.

/** A fingerprint of the files (tokenizer and config in full, each model file's size and first and last MiB), cheap on big models. */
function fingerprint(dir: string, files: string[]): string {
  const h = crypto.createHash('sha256');
  const chunk = 1024 * 1024;
  for (const f of files) {
    const p = path.join(dir, f);
    const size = fs.statSync(p).size;
    h.update(`${f}\0${size}\0`);
    const fd = fs.openSync(p, 'r');
    try {
      const head = Buffer.alloc(Math.min(chunk, size));
      fs.readSync(fd, head, 0, head.length, 0);
      h.update(head);
      if (size > chunk) {
        const tail = Buffer.alloc(Math.min(chunk, size - chunk));
        fs.readSync(fd, tail, 0, tail.length, size - tail.length);
        h.update(tail);
      }
    } finally {
      fs.closeSync(fd);
    }
  }
  return h.digest('hex').slice(0, 12);
}

/**
 * Checks a reward model folder; throws {@link RewardModelError} saying what is wrong.
 * `maxBytes`: the most model bytes the device can take (see maxModelBytes).
 */
export function checkRewardFolder(dirIn: string, opts: { maxBytes: number; preferFp16?: boolean; limitWhy?: string }): RewardFolder {
  const dir = path.resolve(dirIn);
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) throw new RewardModelError('invalid', `winnow.ranker.rewardModel must name a folder; ${dir} is a file (give the folder holding model.onnx and tokenizer.json)`);
    names = fs.readdirSync(dir);
  } catch (e) {
    if (e instanceof RewardModelError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new RewardModelError('missing', code === 'ENOENT' ? `reward model folder ${dir} does not exist` : `reward model folder ${dir} cannot be read: ${(e as Error).message}`);
  }
  const modelFile = pickModelFile(dir, names, opts.preferFp16 ?? false);
  if (!names.includes('tokenizer.json')) {
    throw new RewardModelError('missing', `reward model folder ${dir} has no tokenizer.json: save the model's tokenizer there (\`AutoTokenizer.from_pretrained(model).save_pretrained(DIR)\`; optimum-cli export does it)`);
  }
  const base = modelFile.replace(/\.onnx$/, '');
  const dataFiles = names.filter((n) => n !== modelFile && (n.startsWith(`${modelFile}_data`) || n.startsWith(`${modelFile}.data`) || (n.startsWith(base) && /(_data|\.data)$/.test(n)))).sort();
  const bytes = [modelFile, ...dataFiles].reduce((s, f) => s + fs.statSync(path.join(dir, f)).size, 0);

  let header: ReturnType<typeof readOnnxHeader>;
  try {
    header = readOnnxHeader(path.join(dir, modelFile));
  } catch (e) {
    throw new RewardModelError('invalid', `${path.join(dir, modelFile)} is not an ONNX model: ${(e as Error).message}`);
  }
  if (!header.hasGraph) throw new RewardModelError('invalid', `${path.join(dir, modelFile)} is not an ONNX model: it has no graph`);
  if (header.opset !== 0 && header.opset < MIN_OPSET) throw new RewardModelError('invalid', `${modelFile} uses opset ${header.opset}; onnxruntime runs ${MIN_OPSET} to ${MAX_OPSET}: export again with --opset 17`);
  if (header.opset > MAX_OPSET) throw new RewardModelError('invalid', `${modelFile} uses opset ${header.opset}, newer than this onnxruntime runs (${MIN_OPSET} to ${MAX_OPSET}): export again with --opset 17`);
  if (bytes > opts.maxBytes) {
    const gb = (b: number) => `${(b / 1024 ** 3).toFixed(1)} GB`;
    throw new RewardModelError('oversized', `reward model ${dir} is ${gb(bytes)}, more than ${opts.limitWhy ?? 'this machine can hold'} (${gb(opts.maxBytes)}): use a smaller model or an fp16/int8 export`);
  }

  const tokenizerJson = readJson(path.join(dir, 'tokenizer.json'), 'tokenizer.json', MAX_TOKENIZER_BYTES);
  if (typeof tokenizerJson !== 'object' || tokenizerJson === null || typeof (tokenizerJson as { model?: unknown }).model !== 'object') {
    throw new RewardModelError('invalid', `${path.join(dir, 'tokenizer.json')} is not a Hugging Face tokenizer (no "model" section)`);
  }
  const tokenizerConfig = readOptionalJson(path.join(dir, 'tokenizer_config.json'), 'tokenizer_config.json');
  const config = readOptionalJson(path.join(dir, 'config.json'), 'config.json');
  const idFiles = ['tokenizer.json', ...(names.includes('config.json') ? ['config.json'] : []), modelFile, ...dataFiles];
  const name = path.basename(dir);
  return { dir, name, id: `${name}@${fingerprint(dir, idFiles)}`, modelFile, dataFiles, bytes, irVersion: header.irVersion, opset: header.opset, tokenizerJson, tokenizerConfig, config };
}
