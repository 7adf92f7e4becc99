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
 *
 * JavaScript and TypeScript (`languageId` javascript, typescript, javascriptreact,
 * typescriptreact): the prompt ends with `// check the correctness of f` and
 * `assert.deepStrictEqual(` (`JS_ASSERT_OPENER`; see synthesize.ts for why), and each
 * continuation is read back as `JS_ASSERT_OPENER` + the continuation. Every `assert` call that
 * starts a statement is read, wherever it is (inside an `it(…)` callback too), and kept only in
 * these forms, with literal arguments and a literal expected value (`isLiteral`: numbers,
 * strings, `true`/`false`/`null`/`undefined`/`NaN`/`Infinity`, arrays and objects of them,
 * arithmetic on them, `new Set([…])` and the like), and the call to `f` itself (`f(…)` or
 * `await f(…)`, not `x.f(…)`, nothing after it):
 * - `assert.deepStrictEqual(f(…), v)` (or `assert.deepEqual`, the same under
 *   `node:assert/strict`, which the tests run with);
 * - `assert.strictEqual(f(…), v)` / `assert.equal(f(…), v)`, `v` a primitive;
 * - `assert.ok(f(…) === v)` / `assert(f(…) === v)`, `v` a primitive;
 * - `assert.ok(f(…))`, `assert.ok(!f(…))` / `assert(…)` (truthiness).
 * The operands may come in either order and a literal message may follow; it is dropped. Each
 * kept assert is rewritten in one canonical text (so that one test written two ways counts
 * as one test generated twice): the equalities as `assert.deepStrictEqual(f(…), v);` (for a primitive `v`,
 * `strictEqual`, `===` and `deepStrictEqual` agree but for `NaN` and ±0), the truthiness ones
 * as `assert.ok(f(…));` / `assert.ok(!f(…));`; tokens laid out one way (a space after commas
 * and around binary operators, none inside brackets), trailing commas dropped, numbers written
 * as JavaScript prints them (`1.0` → `1`, `0x10` → `16`), strings without a backslash in
 * single quotes when they hold none. Everything else is dropped: other assert methods, other
 * comparisons (`==`, `!==`, `<`), a call of anything but `f` or with a name among its
 * arguments, an object compared with `===`/`strictEqual` (never equal), a call whose brackets
 * do not close before the next line's `assert` or a `;`, an unterminated string.
 */

import { bracketsBalanced, isLiteral, lexAt, oneLine, tokenKey, type Tok } from './lexer';

export interface GeneratedOptions {
  /** Most distinct asserts returned, the most frequent first (default 100; CodeT keeps them all). */
  max?: number;
  /** Asserts read from each continuation, in order (default 5, CodeT's `test_case_limit`). */
  perSample?: number;
  /**
   * The language the continuations are read in: `python` (the default); `javascript`,
   * `typescript`, `javascriptreact`, `typescriptreact` (continuations of `JS_ASSERT_OPENER`).
   * Any other gives no asserts.
   */
  languageId?: string;
}

export interface GeneratedAssert {
  /** One line: Python, `assert <expression>[, <message>]`; JavaScript/TypeScript, one canonical statement (`assert.deepStrictEqual(f(…), v);`, `assert.ok(f(…));`, `assert.ok(!f(…));`). */
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

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript

/** Language ids whose continuations are read as JavaScript (TypeScript tests are JavaScript here: literals only). */
export const JS_LANGUAGE_IDS: ReadonlySet<string> = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact']);

/** What a JavaScript/TypeScript test prompt ends with; continuations are read after it. */
export const JS_ASSERT_OPENER = 'assert.deepStrictEqual(';

/** `assert.<method>` read, and whether its expected value must be a primitive (`strictEqual` compares objects by identity). */
const JS_EQUALITY: ReadonlyMap<string, { primitiveOnly: boolean }> = new Map([
  ['deepStrictEqual', { primitiveOnly: false }],
  ['deepEqual', { primitiveOnly: false }],
  ['strictEqual', { primitiveOnly: true }],
  ['equal', { primitiveOnly: true }],
]);
const JS_PRIMITIVE_NAMES = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']);
const JS_UNARY = new Set(['-', '+', '!', '~']);
/** Tokens after which an `assert` starts a statement. */
const JS_STATEMENT_BEFORE = new Set([';', '{', '}', '=>']);

/** The tokens of `text`, newlines kept, comments dropped; null where a line does not tokenize (the rest of that line is skipped). */
function jsTokens(text: string): (Tok | null)[] {
  const out: (Tok | null)[] = [];
  let pos = 0;
  for (;;) {
    const t = lexAt(text, pos, 'js');
    if (t.kind === 'eof') return out;
    if (t.kind === 'error') {
      out.push(null);
      const nl = text.indexOf('\n', t.start);
      if (nl < 0) return out;
      pos = nl;
      continue;
    }
    pos = t.end;
    if (t.kind !== 'comment') out.push(t);
  }
}

/** Splits tokens at the commas at their own level; a trailing comma is dropped; null for an empty item. */
function splitTopCommas(toks: readonly Tok[]): Tok[][] | null {
  const items: Tok[][] = [[]];
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    if (depth === 0 && t.kind === 'op' && t.text === ',') {
      if ((items[items.length - 1] as Tok[]).length === 0) return null;
      items.push([]);
    } else (items[items.length - 1] as Tok[]).push(t);
  }
  if ((items[items.length - 1] as Tok[]).length === 0) items.pop();
  return items;
}

/** Tokens back to text for `isLiteral`: joined by spaces, which re-lexes to the same tokens. */
const joined = (toks: readonly Tok[]): string => toks.map((t) => t.text).join(' ');

const jsLiteral = (toks: readonly Tok[]): boolean => toks.length > 0 && toks.every((t) => !t.text.includes('\n')) && isLiteral(joined(toks), 'js');

/** A literal whose value is a primitive: numbers, strings and constants with arithmetic and parentheses, no array, object or constructor. */
const jsPrimitive = (toks: readonly Tok[]): boolean =>
  jsLiteral(toks) && toks.every((t) => t.kind === 'number' || t.kind === 'string' || t.kind === 'op' || t.text === '(' || t.text === ')' || (t.kind === 'name' && JS_PRIMITIVE_NAMES.has(t.text)));

/** `f(<literals>)` or `await f(<literals>)`: nothing before or after the call. */
function isEntryCall(toks: readonly Tok[], entryPoint: string): boolean {
  const s = toks[0]?.kind === 'name' && toks[0].text === 'await' ? 1 : 0;
  const name = toks[s];
  if (name?.kind !== 'name' || name.text !== entryPoint || toks[s + 1]?.text !== '(' || toks[toks.length - 1]?.text !== ')') return false;
  const inner = toks.slice(s + 2, -1);
  if (!bracketsBalanced(inner)) return false;
  const args = splitTopCommas(inner);
  return args !== null && args.every(jsLiteral);
}

/** A number as JavaScript prints it (`1.0` → `1`, `0x10` → `16`); kept as written when that could change it (BigInt, `_`, legacy octal). */
function jsNumber(text: string): string {
  if (/[n_]$|_/.test(text) || /^0[0-9]/.test(text)) return text;
  const n = Number(text);
  return Number.isFinite(n) ? String(n) : text;
}

/** A quoted string in single quotes when it holds no backslash and no single quote (double quotes when it holds single quotes only). */
function jsString(text: string): string {
  const q = text[0];
  if ((q !== "'" && q !== '"') || text.includes('\\')) return text;
  const body = text.slice(1, -1);
  if (!body.includes("'")) return `'${body}'`;
  if (!body.includes('"')) return `"${body}"`;
  return text;
}

/** One canonical text for an expression's tokens. */
function jsCanonical(toks: readonly Tok[]): string {
  const sig = toks.filter((t, i) => !(t.kind === 'op' && t.text === ',' && toks[i + 1]?.kind === 'close'));
  let out = '';
  let prev: Tok | undefined;
  let prevUnary = false;
  for (const t of sig) {
    const unary = t.kind === 'op' && JS_UNARY.has(t.text) && (!prev || prev.kind === 'open' || prev.kind === 'op');
    const tight =
      !prev ||
      t.kind === 'close' ||
      (t.kind === 'op' && [',', ':', '.', '?.'].includes(t.text)) ||
      prev.kind === 'open' ||
      (prev.kind === 'op' && ['.', '?.'].includes(prev.text)) ||
      prevUnary ||
      (t.kind === 'open' && t.text !== '{' && (prev.kind === 'name' || prev.kind === 'close'));
    if (!tight) out += ' ';
    out += t.kind === 'number' ? jsNumber(t.text) : t.kind === 'string' ? jsString(t.text) : t.text;
    prev = t;
    prevUnary = unary;
  }
  return out;
}

/** `call` and `expected` (either order) as the canonical equality, or null. */
function jsEquality(a: readonly Tok[], b: readonly Tok[], entryPoint: string, primitiveOnly: boolean): string | null {
  for (const [call, expected] of [
    [a, b],
    [b, a],
  ] as const) {
    if (isEntryCall(call, entryPoint) && (primitiveOnly ? jsPrimitive(expected) : jsLiteral(expected))) {
      return `assert.deepStrictEqual(${jsCanonical(call)}, ${jsCanonical(expected)});`;
    }
  }
  return null;
}

/** The canonical text of `assert.<method>(<args>)` (`method` undefined: `assert(…)`), or null when it is not one of the forms read. */
function jsAssertCanonical(method: string | undefined, args: readonly Tok[][], entryPoint: string): string | null {
  if (method === undefined || method === 'ok') {
    if (args.length < 1 || args.length > 2 || (args.length === 2 && !jsLiteral(args[1] as Tok[]))) return null;
    const arg = args[0] as Tok[];
    let depth = 0;
    const at: number[] = [];
    arg.forEach((t, i) => {
      if (t.kind === 'open') depth++;
      else if (t.kind === 'close') depth--;
      else if (depth === 0 && t.kind === 'op' && t.text === '===') at.push(i);
    });
    if (at.length === 1) return jsEquality(arg.slice(0, at[0]), arg.slice((at[0] as number) + 1), entryPoint, true);
    if (at.length > 1) return null;
    const not = arg[0]?.kind === 'op' && arg[0].text === '!';
    const call = not ? arg.slice(1) : arg;
    return isEntryCall(call, entryPoint) ? `assert.ok(${not ? '!' : ''}${jsCanonical(call)});` : null;
  }
  const eq = JS_EQUALITY.get(method);
  if (!eq || args.length < 2 || args.length > 3 || (args.length === 3 && !jsLiteral(args[2] as Tok[]))) return null;
  return jsEquality(args[0] as Tok[], args[1] as Tok[], entryPoint, eq.primitiveOnly);
}

/**
 * The asserts of one raw continuation of `JS_ASSERT_OPENER`, in order, in the forms read (see
 * the top of this file) and calling `entryPoint`, each in its canonical text.
 */
export function jsAssertsFromContinuation(raw: string, entryPoint: string): string[] {
  const toks = jsTokens(`${JS_ASSERT_OPENER}${raw.replace(/\r\n?/g, '\n')}`);
  const out: string[] = [];
  const nextSig = (k: number): Tok | null | undefined => {
    let j = k;
    while (toks[j]?.kind === 'nl') j++;
    return toks[j];
  };
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i];
    if (t?.kind !== 'name' || t.text !== 'assert') continue;
    const before = toks[i - 1];
    if (i > 0 && before !== null && before?.kind !== 'nl' && !JS_STATEMENT_BEFORE.has(before?.text ?? '')) continue;
    let j = i + 1;
    let method: string | undefined;
    if (toks[j]?.text === '.' && toks[j + 1]?.kind === 'name') {
      method = toks[j + 1]?.text;
      j += 2;
    }
    if (toks[j]?.text !== '(') continue;
    // The call's closing parenthesis: broken at an unterminated string, a `;` inside, or a line that starts another assert.
    const stack: string[] = [];
    let close = -1;
    for (let k = j; k < toks.length; k++) {
      const u = toks[k];
      if (!u) break;
      if (u.kind === 'open') stack.push(u.text === '(' ? ')' : u.text === '[' ? ']' : '}');
      else if (u.kind === 'close') {
        if (stack.pop() !== u.text) break;
        if (stack.length === 0) {
          close = k;
          break;
        }
      } else if (u.kind === 'op' && u.text === ';') break;
      else if (u.kind === 'nl' && nextSig(k)?.kind === 'name' && nextSig(k)?.text === 'assert') break;
    }
    if (close < 0) continue;
    // The statement ends there (`;`, a newline, a closer, the end), or it is something else (`assert(x).y`, `assert(x) && z`).
    const after = toks[close + 1];
    if (after === null || (after !== undefined && after.kind !== 'nl' && after.kind !== 'close' && after.text !== ';')) continue;
    i = close;
    const args = splitTopCommas(toks.slice(j + 1, close).filter((u): u is Tok => u !== null && u.kind !== 'nl'));
    const text = args && jsAssertCanonical(method, args, entryPoint);
    if (text) out.push(text);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

/**
 * The asserts of one raw continuation of `assert `, in order, that name `entryPoint` and look
 * well-formed, each as one line (`assert <expr>[, <msg>]`). With a JavaScript/TypeScript
 * `languageId`, those of a continuation of `JS_ASSERT_OPENER` (`jsAssertsFromContinuation`);
 * none for a language that is neither.
 */
export function assertsFromContinuation(raw: string, entryPoint: string, languageId = 'python'): string[] {
  if (languageId !== 'python') return JS_LANGUAGE_IDS.has(languageId) ? jsAssertsFromContinuation(raw, entryPoint) : [];
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
  const languageId = opts.languageId ?? 'python';
  const byKey = new Map<string, GeneratedAssert & { order: number }>();
  let order = 0;
  rawContinuations.forEach((raw, sample) => {
    for (const text of assertsFromContinuation(raw, entryPoint, languageId).slice(0, Math.max(0, perSample))) {
      // JavaScript asserts come back in their canonical text already.
      const key = languageId === 'python' ? (tokenKey(text, 'python') ?? text) : text;
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
