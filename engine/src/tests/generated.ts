/**
 * Model-written tests, CodeT style: the generator is given the function stub followed by
 * `# check the correctness of f` and `assert `, and continues it. Each raw continuation is
 * read back as Python statements (`assert ` + the continuation), the asserts among them are
 * kept when they name the entry point and pass a light syntactic check, the first few of each
 * continuation count (CodeT: 5), and the whole lot is deduplicated and ranked by how many
 * times it was generated. Pure functions: nothing is evaluated.
 *
 * Compared with CodeT's own post-processing (microsoft/CodeT `src/postprocess.py`): CodeT
 * splits on every `'assert '` substring, cuts each piece at `\nclass`, `\ndef`, `\n#`, `\nif`,
 * `\nprint` and keeps it when `compile()` accepts it; here an assert ends with its logical line
 * (a newline outside brackets, a `;` or a comment), which ends it at the same place for the
 * one-line asserts models write, and the syntactic check is done on tokens: balanced brackets,
 * terminated strings, at most one top-level comma (the message), no assignment or statement
 * keyword, no two operands or two binary operators in a row, no dangling operator. Asserts
 * spread over several lines inside brackets are kept, joined into one line.
 */

import { bracketsBalanced, lexAt, oneLine, tokenKey, type Tok } from './lexer';

export interface GeneratedOptions {
  /** Most distinct asserts returned, the most frequent first (default 100; CodeT keeps them all). */
  max?: number;
  /** Asserts read from each continuation, in order (default 5, CodeT's `test_case_limit`). */
  perSample?: number;
}

export interface GeneratedAssert {
  /** One line: `assert <expression>[, <message>]`. */
  text: string;
  /** How many times it was generated, over the first `perSample` asserts of every continuation. */
  count: number;
  /** Index of the first continuation that produced it. */
  firstSample: number;
}

export const DEFAULT_MAX_GENERATED = 100;
export const DEFAULT_PER_SAMPLE = 5;

const STATEMENT_KEYWORDS = new Set([
  'def', 'class', 'return', 'import', 'while', 'with', 'try', 'except', 'finally', 'pass', 'break', 'continue', 'del', 'global',
  'nonlocal', 'raise', 'elif', 'assert', 'async',
]);
const EXPR_KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'for', 'lambda', 'await', 'from', 'yield']);
const CONSTANTS = new Set(['True', 'False', 'None']);
const PREFIX_OPS = new Set(['-', '+', '~', '*', '**']);
const BAD_PY_OPS = new Set(['?', '!', '&&', '||', '===', '!==', '=>', '?.', '??', '++', '--', '->', '...']);

/** Python logical lines of `text`, as token lists (comments dropped); null entries for lines that do not tokenize. */
function logicalLines(text: string): (Tok[] | null)[] {
  const out: (Tok[] | null)[] = [];
  let cur: Tok[] = [];
  let depth = 0;
  let pos = 0;
  const flush = () => {
    if (cur.length > 0) out.push(cur);
    cur = [];
    depth = 0;
  };
  for (;;) {
    const t = lexAt(text, pos, 'python');
    if (t.kind === 'eof') break;
    pos = t.end;
    if (t.kind === 'error') {
      // A broken line: skip to the next newline and start afresh.
      out.push(null);
      cur = [];
      depth = 0;
      const nl = text.indexOf('\n', t.start);
      if (nl < 0) break;
      pos = nl + 1;
      continue;
    }
    if (t.kind === 'comment') continue;
    if (t.kind === 'nl') {
      if (depth <= 0) flush();
      else if (/^[ \t]*assert\b/.test(text.slice(t.end, text.indexOf('\n', t.end) < 0 ? text.length : text.indexOf('\n', t.end)))) {
        // An unclosed bracket, and the next line starts another assert: this one is broken.
        out.push(null);
        cur = [];
        depth = 0;
      }
      continue;
    }
    if (t.kind === 'op' && t.text === ';' && depth <= 0) {
      flush();
      continue;
    }
    if (t.kind === 'open') depth++;
    if (t.kind === 'close') depth--;
    cur.push(t);
  }
  flush();
  return out;
}

const isOperandEnd = (t: Tok): boolean => t.kind === 'number' || t.kind === 'string' || t.kind === 'close' || (t.kind === 'name' && !EXPR_KEYWORDS.has(t.text));
const isOperandStart = (t: Tok): boolean => t.kind === 'number' || t.kind === 'string' || t.kind === 'open' || (t.kind === 'name' && !EXPR_KEYWORDS.has(t.text));

/** Token-level check that `assert <toks>` is one well-formed Python assert statement. */
export function looksLikeAssert(toks: readonly Tok[]): boolean {
  if (toks.length < 2 || toks[0]?.text !== 'assert' || toks[0]?.kind !== 'name') return false;
  const body = toks.slice(1);
  if (!bracketsBalanced(body)) return false;
  let depth = 0;
  let commas = 0;
  let lambdaAtTop = 0;
  for (let i = 0; i < body.length; i++) {
    const t = body[i] as Tok;
    const prev = body[i - 1];
    const next = body[i + 1];
    if (t.kind === 'name' && STATEMENT_KEYWORDS.has(t.text)) return false;
    if (t.kind === 'op' && BAD_PY_OPS.has(t.text)) return false;
    if (t.kind === 'open') depth++;
    if (t.kind === 'close') depth--;
    if (depth === 0 && t.kind === 'name' && t.text === 'lambda') lambdaAtTop++;
    if (depth === 0 && t.kind === 'op') {
      if (t.text === ',') {
        commas++;
        if (commas > 1 || i === 0 || i === body.length - 1) return false;
      } else if (t.text === ':') {
        if (lambdaAtTop === 0) return false;
        lambdaAtTop--;
      } else if (t.text === '=' || t.text === ':=' || (t.text.endsWith('=') && !['==', '!=', '<=', '>='].includes(t.text))) return false;
    }
    // Adjacency: two operands in a row (`1 2`, `x y`) except string concatenation and calls/subscripts.
    if (prev && isOperandEnd(prev) && isOperandStart(t)) {
      const callOrIndex = t.kind === 'open' && (t.text === '(' || t.text === '[');
      const concat = prev.kind === 'string' && t.kind === 'string';
      if (!callOrIndex && !concat) return false;
    }
    if (t.kind === 'op' && t.text !== ',' && t.text !== ':' && t.text !== '.') {
      // A binary operator needs an operand after it; at the start only prefix operators are allowed.
      if (!next || (next.kind === 'op' && !PREFIX_OPS.has(next.text)) || next.kind === 'close') return false;
      if ((!prev || prev.kind === 'open' || (prev.kind === 'op' && prev.text !== '.')) && !PREFIX_OPS.has(t.text)) return false;
    }
    if (t.kind === 'op' && t.text === '.') {
      if (!prev || !next || next.kind !== 'name' || !isOperandEnd(prev)) {
        // `1.` style floats are numbers already; a dot elsewhere is broken.
        return false;
      }
    }
    if (t.kind === 'name' && ['and', 'or', 'in', 'is', 'if', 'else'].includes(t.text) && (!next || next.kind === 'close')) return false;
    if (t.kind === 'name' && t.text === 'not' && (!next || next.kind === 'close')) return false;
  }
  return (body[body.length - 1] as Tok).kind !== 'op';
}

/**
 * The asserts of one raw continuation of `assert `, in order, that name `entryPoint` and look
 * well-formed, each as one line (`assert <expr>[, <msg>]`).
 */
export function assertsFromContinuation(raw: string, entryPoint: string): string[] {
  const text = `assert ${raw.replace(/\r\n?/g, '\n')}`;
  const out: string[] = [];
  for (const toks of logicalLines(text)) {
    if (!toks || !looksLikeAssert(toks)) continue;
    const names = toks.some((t, i) => t.kind === 'name' && t.text === entryPoint && toks[i - 1]?.text !== '.');
    if (!names) continue;
    const first = toks[1] as Tok;
    const last = toks[toks.length - 1] as Tok;
    const expr = oneLine(text.slice(first.start, last.end), 'python');
    if (expr === null) continue;
    out.push(`assert ${expr}`);
  }
  return out;
}

/** Distinct asserts with how often they were generated, the most frequent first (ties: first seen). */
export function collectGeneratedAsserts(rawContinuations: readonly string[], entryPoint: string, opts: GeneratedOptions = {}): GeneratedAssert[] {
  const perSample = opts.perSample ?? DEFAULT_PER_SAMPLE;
  const max = opts.max ?? DEFAULT_MAX_GENERATED;
  const byKey = new Map<string, GeneratedAssert & { order: number }>();
  let order = 0;
  rawContinuations.forEach((raw, sample) => {
    for (const text of assertsFromContinuation(raw, entryPoint).slice(0, Math.max(0, perSample))) {
      const key = tokenKey(text, 'python') ?? text;
      const seen = byKey.get(key);
      if (seen) seen.count++;
      else byKey.set(key, { text, count: 1, firstSample: sample, order: order++ });
    }
  });
  return [...byKey.values()]
    .sort((a, b) => b.count - a.count || a.order - b.order)
    .slice(0, Math.max(0, max))
    .map(({ order: _order, ...g }) => g);
}

/**
 * CodeT-style test extraction: each raw continuation of `assert ` (the generator's output after
 * `# check the correctness of f\nassert `) read back as asserts that name `entryPoint`; the first
 * `perSample` of each (default 5) pooled, deduplicated (layout ignored), ordered by frequency
 * then first appearance, at most `max` (default 100). For CodeT's weighting, use
 * `collectGeneratedAsserts`, whose `count`s are the test weights of `dualAgreement`.
 */
export function parseGeneratedAsserts(rawContinuations: readonly string[], entryPoint: string, opts: GeneratedOptions = {}): string[] {
  return collectGeneratedAsserts(rawContinuations, entryPoint, opts).map((g) => g.text);
}
