/**
 * What the reward model reads: the (context, candidate) pair laid out as one token sequence,
 * tokenized with the model's own `tokenizer.json` by @huggingface/tokenizers (never a
 * hand-written tokenizer).
 *
 * Layout (documented in docs/reward-model.md):
 *
 *   [the tokenizer's leading special tokens] context tokens  candidate tokens [trailing special tokens]
 *
 * The context is the text before the cursor, the candidate the completion; they are
 * tokenized apart (without special tokens) and joined, so the text the model reads is
 * `prefix + candidate`, as a language model saw it. The special tokens are the ones the
 * tokenizer's own post-processor adds to a single sequence (for example `<s> … </s>` or
 * `[CLS] … [SEP]`; none for most decoder models). When the pair is longer than `maxTokens`,
 * the context loses tokens from its left (the code farthest from the cursor goes first);
 * a candidate longer than the room left keeps its first tokens. Batches are padded on the
 * right with the model's pad token, attention mask 0.
 */

import { Tokenizer } from '@huggingface/tokenizers';

export interface EncodedPair {
  ids: number[];
  /** Tokens of the context dropped from its left. */
  truncatedContext: number;
  /** Tokens of the candidate dropped from its right. */
  truncatedCandidate: number;
}

export interface Batch {
  /** Row-major [rows, seq]. */
  ids: number[];
  mask: number[];
  rows: number;
  seq: number;
}

export class RewardTokenizer {
  private readonly tok: Tokenizer;
  /** Special tokens the post-processor puts before and after a single sequence. */
  readonly lead: number[];
  readonly trail: number[];
  readonly padId: number;

  constructor(tokenizerJson: object, tokenizerConfig: object, config: Record<string, unknown>) {
    this.tok = new Tokenizer(tokenizerJson, tokenizerConfig);
    // Where the special tokens go: encode a probe with and without them, find the probe.
    const probe = 'x';
    const bare = this.tok.encode(probe, { add_special_tokens: false }).ids;
    const full = this.tok.encode(probe, { add_special_tokens: true }).ids;
    const at = indexOfRun(full, bare);
    this.lead = at >= 0 ? full.slice(0, at) : [];
    this.trail = at >= 0 ? full.slice(at + bare.length) : [];
    this.padId = padIdOf(tokenizerJson, tokenizerConfig, config, (t) => this.tokenId(t));
  }

  private tokenId(token: string): number | undefined {
    const ids = this.tok.encode(token, { add_special_tokens: false }).ids;
    return ids.length === 1 ? ids[0] : undefined;
  }

  /** Tokens of a text, without special tokens. */
  encodeText(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** One (context, candidate) sequence of at most maxTokens tokens, from already tokenized parts. */
  pair(context: readonly number[], candidate: readonly number[], maxTokens: number): EncodedPair {
    const room = Math.max(1, maxTokens - this.lead.length - this.trail.length);
    const cand = candidate.length > room ? candidate.slice(0, room) : candidate;
    const ctxRoom = room - cand.length;
    const ctx = context.length > ctxRoom ? context.slice(context.length - ctxRoom) : context;
    return { ids: [...this.lead, ...ctx, ...cand, ...this.trail], truncatedContext: context.length - ctx.length, truncatedCandidate: candidate.length - cand.length };
  }

  /** Pads sequences on the right to the longest one. */
  batch(seqs: readonly number[][]): Batch {
    const seq = Math.max(1, ...seqs.map((s) => s.length));
    const ids = new Array<number>(seqs.length * seq).fill(this.padId);
    const mask = new Array<number>(seqs.length * seq).fill(0);
    seqs.forEach((s, r) => {
      for (let t = 0; t < s.length; t++) {
        ids[r * seq + t] = s[t] as number;
        mask[r * seq + t] = 1;
      }
    });
    return { ids, mask, rows: seqs.length, seq };
  }
}

function indexOfRun(hay: readonly number[], needle: readonly number[]): number {
  if (needle.length === 0) return -1;
  for (let i = 0; i + needle.length <= hay.length; i++) if (needle.every((v, k) => hay[i + k] === v)) return i;
  return -1;
}

/**
 * The pad token id: config.json's pad_token_id, else the tokenizer's padding settings, else
 * tokenizer_config.json's pad_token, else the end-of-sequence token (what sequence
 * classification heads of decoder models expect), else 0. With right padding and an
 * attention mask, a model that pools by the mask never reads it.
 */
function padIdOf(tokenizerJson: object, tokenizerConfig: object, config: Record<string, unknown>, idOf: (token: string) => number | undefined): number {
  const num = (v: unknown) => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined);
  const tokenText = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'object' && v !== null && typeof (v as { content?: unknown }).content === 'string' ? (v as { content: string }).content : undefined);
  const padding = (tokenizerJson as { padding?: { pad_id?: unknown } | null }).padding;
  const cfg = tokenizerConfig as Record<string, unknown>;
  const fromText = (v: unknown) => {
    const t = tokenText(v);
    return t !== undefined ? idOf(t) : undefined;
  };
  return num(config.pad_token_id) ?? num(padding?.pad_id) ?? fromText(cfg.pad_token) ?? num(config.eos_token_id) ?? fromText(cfg.eos_token) ?? 0;
}
