/**
 * ONNX model files for rankers: a minimal protobuf writer that builds the ranker graph
 * (normalize, then a stack of dense layers) and a minimal reader for the model's
 * metadata_props. This module owns the on-disk ranker format ("winnow.format" = 1);
 * the built-in ranker and every trained one are written by {@link buildRankerModel}.
 *
 * Graph (opset 17):
 *   features float32 [batch, F]
 *     → Sub(mean[F]) → Div(std[F])
 *     → for each layer: MatMul(W[in,out]) → Add(b[out]) → (Relu)
 *   → score float32 [batch, 1]
 *
 * Field numbers follow onnx/onnx.proto (checked by loading the output with onnxruntime).
 */

export const MODEL_FORMAT = '1';
export const INPUT_NAME = 'features';
export const OUTPUT_NAME = 'score';
const IR_VERSION = 8;
const OPSET = 17;
export const FLOAT = 1; // TensorProto.DataType.FLOAT
export const INT64 = 7; // TensorProto.DataType.INT64

export interface DenseLayer {
  /** Row-major [in][out]. */
  weights: number[][];
  /** [out]. */
  bias: number[];
  /** Default 'none'. */
  activation?: 'relu' | 'none';
}

export interface RankerSpec {
  version: string;
  featureNames: string[];
  /** Per-feature normalization: x' = (x - mean) / std. */
  mean: number[];
  std: number[];
  /** A linear model is one layer with out = 1. The last layer must have out = 1. */
  layers: DenseLayer[];
  /** Extra metadata_props; the winnow.* keys are always set from the spec. */
  metadata?: Record<string, string>;
}

// ---------------------------------------------------------------------------------------
// Writer. A message is a list of byte chunks; fields are (tag, payload) pairs.

export class Msg {
  private readonly chunks: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.chunks.push(b);
    this.size += b.length;
  }

  private varint(v: number): void {
    // Values here are non-negative and < 2^53 (tags, lengths, dims, enums).
    const out: number[] = [];
    while (v > 0x7f) {
      out.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    out.push(v);
    this.push(Uint8Array.from(out));
  }

  int(field: number, v: number): this {
    if (!Number.isInteger(v) || v < 0) throw new Error(`onnx writer: field ${field} needs a non-negative integer, got ${v}`);
    this.varint(field << 3); // wire type 0
    this.varint(v);
    return this;
  }

  /** A float field (wire type 5, little-endian float32). */
  float32(field: number, v: number): this {
    this.varint((field << 3) | 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.varint((field << 3) | 2); // wire type 2
    this.varint(b.length);
    this.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, new TextEncoder().encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const c of this.chunks) {
      out.set(c, o);
      o += c.length;
    }
    return out;
  }
}

/** TensorProto: float32 initializer with raw little-endian data. */
export function floatTensor(name: string, dims: number[], values: ArrayLike<number>): Msg {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`onnx writer: tensor ${name} needs ${n} values, got ${values.length}`);
  const raw = new Uint8Array(n * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new Error(`onnx writer: tensor ${name} has a non-finite value at ${i}`);
    view.setFloat32(i * 4, v, true);
  }
  const t = new Msg();
  for (const d of dims) t.int(1, d);
  return t.int(2, FLOAT).str(8, name).bytes(9, raw);
}

/** TensorProto: int64 initializer (shapes, axes) with raw little-endian data. */
export function int64Tensor(name: string, dims: number[], values: number[]): Msg {
  const n = dims.reduce((a, b) => a * b, 1);
  if (values.length !== n) throw new Error(`onnx writer: tensor ${name} needs ${n} values, got ${values.length}`);
  const raw = new Uint8Array(n * 8);
  const view = new DataView(raw.buffer);
  values.forEach((v, i) => view.setBigInt64(i * 8, BigInt(v), true));
  const t = new Msg();
  for (const d of dims) t.int(1, d);
  return t.int(2, INT64).str(8, name).bytes(9, raw);
}

/** ValueInfoProto for a tensor (float32 unless told); a string dim is symbolic (dim_param). */
export function valueInfo(name: string, dims: (number | string)[], elemType: number = FLOAT): Msg {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, typeof d === 'string' ? new Msg().str(2, d) : new Msg().int(1, d));
  const tensorType = new Msg().int(1, elemType).msg(2, shape);
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tensorType));
}

/** A node attribute: an int, a float, or a list of non-negative ints. */
export type AttrValue = { i: number } | { f: number } | { ints: number[] };

/** NodeProto with one output, named after it; attributes as AttributeProto (onnx.proto field numbers). */
export function node(op: string, inputs: string[], output: string, attrs: Record<string, AttrValue> = {}): Msg {
  const m = new Msg();
  for (const i of inputs) m.str(1, i);
  m.str(2, output).str(3, output).str(4, op);
  for (const [name, v] of Object.entries(attrs)) {
    const a = new Msg().str(1, name);
    if ('i' in v) a.int(3, v.i).int(20, 2); // INT
    else if ('f' in v) a.float32(2, v.f).int(20, 1); // FLOAT
    else {
      for (const x of v.ints) a.int(8, x);
      a.int(20, 7); // INTS
    }
    m.msg(5, a);
  }
  return m;
}

/** ModelProto bytes for a graph of nodes, initializers, inputs and outputs (opset 17, default domain). */
export function modelBytes(g: { name: string; nodes: Msg[]; initializers: Msg[]; inputs: Msg[]; outputs: Msg[]; producer: string; metadata?: Record<string, string> }): Uint8Array {
  const graph = new Msg();
  for (const n of g.nodes) graph.msg(1, n);
  graph.str(2, g.name);
  for (const t of g.initializers) graph.msg(5, t);
  for (const i of g.inputs) graph.msg(11, i);
  for (const o of g.outputs) graph.msg(12, o);
  const model = new Msg().int(1, IR_VERSION).str(2, g.producer).str(3, MODEL_FORMAT).msg(7, graph);
  model.msg(8, new Msg().str(1, '').int(2, OPSET));
  for (const [k, v] of Object.entries(g.metadata ?? {})) model.msg(14, new Msg().str(1, k).str(2, v));
  return model.finish();
}

/** Checks a spec's shapes; throws with a message naming the first problem. */
export function validateSpec(spec: RankerSpec): void {
  const f = spec.featureNames.length;
  if (f === 0) throw new Error('ranker spec: no features');
  if (!spec.version || /[\\/]/.test(spec.version)) throw new Error(`ranker spec: bad version ${JSON.stringify(spec.version)}`);
  if (spec.mean.length !== f || spec.std.length !== f) throw new Error(`ranker spec: mean/std need ${f} values`);
  spec.std.forEach((s, i) => {
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`ranker spec: std[${i}] (${spec.featureNames[i]}) must be a positive number, got ${s}`);
  });
  if (spec.layers.length === 0) throw new Error('ranker spec: no layers');
  let width = f;
  spec.layers.forEach((l, li) => {
    if (l.weights.length !== width) throw new Error(`ranker spec: layer ${li} needs ${width} weight rows, got ${l.weights.length}`);
    const out = l.bias.length;
    if (out === 0) throw new Error(`ranker spec: layer ${li} has no outputs`);
    l.weights.forEach((row, r) => {
      if (row.length !== out) throw new Error(`ranker spec: layer ${li} row ${r} needs ${out} values, got ${row.length}`);
    });
    width = out;
  });
  if (width !== 1) throw new Error(`ranker spec: the last layer must have 1 output, got ${width}`);
}

/** Serializes a ranker spec to ONNX ModelProto bytes. */
export function buildRankerModel(spec: RankerSpec): Uint8Array {
  validateSpec(spec);
  const f = spec.featureNames.length;
  const nodes: Msg[] = [];
  const inits: Msg[] = [];

  inits.push(floatTensor('norm_mean', [f], spec.mean), floatTensor('norm_std', [f], spec.std));
  nodes.push(node('Sub', [INPUT_NAME, 'norm_mean'], 'centered'), node('Div', ['centered', 'norm_std'], 'normalized'));
  let x = 'normalized';
  spec.layers.forEach((l, li) => {
    const last = li === spec.layers.length - 1;
    const relu = l.activation === 'relu';
    const w = `l${li}_w`;
    const b = `l${li}_b`;
    inits.push(floatTensor(w, [l.weights.length, l.bias.length], l.weights.flat()), floatTensor(b, [l.bias.length], l.bias));
    nodes.push(node('MatMul', [x, w], `l${li}_mm`));
    const addOut = last && !relu ? OUTPUT_NAME : `l${li}_add`;
    nodes.push(node('Add', [`l${li}_mm`, b], addOut));
    x = addOut;
    if (relu) {
      const reluOut = last ? OUTPUT_NAME : `l${li}_relu`;
      nodes.push(node('Relu', [addOut], reluOut));
      x = reluOut;
    }
  });

  const meta: Record<string, string> = {
    ...(spec.metadata ?? {}),
    'winnow.version': spec.version,
    'winnow.features': spec.featureNames.join(','),
    'winnow.format': MODEL_FORMAT,
  };
  return modelBytes({ name: 'winnow_ranker', nodes, initializers: inits, inputs: [valueInfo(INPUT_NAME, ['batch', f])], outputs: [valueInfo(OUTPUT_NAME, ['batch', 1])], producer: 'winnow', metadata: meta });
}

// ---------------------------------------------------------------------------------------
// Reader: ModelProto.metadata_props only (onnxruntime-node exposes no model metadata).

function readVarint(b: Uint8Array, pos: { o: number }): number {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (pos.o >= b.length) throw new Error('truncated varint');
    const byte = b[pos.o++] as number;
    v += (byte & 0x7f) * mul;
    if (byte < 0x80) return v;
    mul *= 0x80;
  }
  throw new Error('varint too long');
}

/**
 * Calls `onField` for each length-delimited top-level field of a message, and `onVarint` (when
 * given) for each varint field; skips the rest. Throws on malformed bytes.
 */
export function walk(b: Uint8Array, onField: (field: number, payload: Uint8Array) => void, onVarint?: (field: number, value: number) => void): void {
  const pos = { o: 0 };
  while (pos.o < b.length) {
    const key = readVarint(b, pos);
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (field === 0) throw new Error('field number 0');
    if (wire === 0) {
      const v = readVarint(b, pos);
      onVarint?.(field, v);
    } else if (wire === 1) pos.o += 8;
    else if (wire === 5) pos.o += 4;
    else if (wire === 2) {
      const len = readVarint(b, pos);
      if (pos.o + len > b.length) throw new Error(`field ${field} overruns the message`);
      onField(field, b.subarray(pos.o, pos.o + len));
      pos.o += len;
    } else throw new Error(`unsupported wire type ${wire}`);
    if (pos.o > b.length) throw new Error('truncated message');
  }
}

/** Reads ModelProto.metadata_props (field 14) into a record. Throws on malformed bytes. */
export function readModelMetadata(bytes: Uint8Array): Record<string, string> {
  const out: Record<string, string> = {};
  const dec = new TextDecoder('utf-8', { fatal: true });
  walk(bytes, (field, payload) => {
    if (field !== 14) return;
    let key = '';
    let value = '';
    walk(payload, (f, p) => {
      if (f === 1) key = dec.decode(p);
      else if (f === 2) value = dec.decode(p);
    });
    out[key] = value;
  });
  return out;
}
