/**
 * Tests from the project's own test files (found by the server by naming convention and cut to
 * the lines that mention the function, see server/src/relatedTests.ts), turned into standalone
 * asserts on the function being written. Pure functions, no I/O, nothing evaluated.
 *
 * Why not `extractExamples` (./docstring.ts): it reads the docstring or comment attached to a
 * definition, not code; and in test code its wrapper reading is too loose for trusted tests
 * (`assertNotEqual(f(1), 2)`, `assert.notStrictEqual(f(1), 2)` and `assertGreaterEqual(…)` all
 * read as equalities). Here each assertion form is read with its own meaning, with the lexer
 * shared with docstring.ts, and the simple `call == literal` cases are written by
 * `examplesToAsserts`, so they read exactly like docstring asserts (and deduplicate with them).
 *
 * Forms read (anywhere in a line; arguments may span lines when the text keeps them):
 * - pytest: `assert <expr>[, msg]`; `assert f(x) == pytest.approx(<number>)`.
 * - unittest (`self.` or `cls.`): assertEqual/assertEquals/assertListEqual/assertTupleEqual/
 *   assertDictEqual/assertSetEqual/assertMultiLineEqual (==), assertNotEqual (!=), assertTrue,
 *   assertFalse, assertIs, assertIsNot, assertIsNone, assertIsNotNone, assertIn, assertNotIn,
 *   assertGreater(Equal), assertLess(Equal), assertIsInstance, assertAlmostEqual (two arguments:
 *   7 places); a `msg` argument is dropped.
 * - node:assert: `assert(x)`, `assert.ok(x)`, `assert.strictEqual`, `assert.deepStrictEqual`,
 *   `assert.notStrictEqual`, `assert.notDeepStrictEqual`; the loose `assert.equal`/`notEqual`/
 *   `deepEqual`/`notDeepEqual` are read as strict when the file imports `assert/strict` (as
 *   node:test files usually do), else `equal`/`notEqual` become `==`/`!=` and `deepEqual` with
 *   a primitive becomes `==` (with an object or array, deep strict equality: a little stricter
 *   than legacy `deepEqual`); a legacy `notDeepEqual` is dropped.
 * - Jest/Vitest `expect(x)`: `.toBe`, `.toEqual`, `.toStrictEqual` (deep strict equality; `toEqual`
 *   ignores prototypes, so this is a little stricter), `.toBeTruthy`, `.toBeFalsy`, `.toBeNull`,
 *   `.toBeUndefined`, `.toBeDefined`, `.toBeNaN`, `.toBeCloseTo(n[, digits])`, `.toBeGreaterThan`,
 *   `.toBeGreaterThanOrEqual`, `.toBeLessThan`, `.toBeLessThanOrEqual`, `.toHaveLength`,
 *   `.toContain`; `.not.` and other matchers are dropped.
 *
 * Kept only when the assertion calls the entry point (`f(`, not `x.f(`) and every name in it is
 * the entry point, a builtin, a constant, an attribute or a bound variable (no fixtures, no
 * locals: the assert must run on its own), and its expression tokenizes cleanly. Test files of
 * the other language family are ignored (a .py test for a Python candidate, .js/.ts/.jsx/.tsx
 * tests for a JavaScript/TypeScript one). Output: Python `assert …` lines; JavaScript
 * `assert.…(…);` statements for a harness that binds `assert` to node:assert (only methods
 * whose meaning is the same in strict and legacy mode are written). Deduplicated, in file and
 * line order, at most `cap`.
 */

import type { RelatedTestFile } from '../protocol';
import { examplesToAsserts, type Example } from './docstring';
import { bracketsBalanced, checkNames, isLiteral, lexAt, matchBracket, oneLine, parseLiteral, tokenize, type Lang, type Tok } from './lexer';

const JS_LANGUAGES = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact']);

function familyOf(languageId: string): Lang | null {
  if (languageId === 'python') return 'python';
  return JS_LANGUAGES.has(languageId) ? 'js' : null;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One assertion read from a test file. */
type Check =
  /** `call == expected`, with a literal expected value: written by examplesToAsserts. */
  | { kind: 'example'; call: string; expected: string }
  /** A Python expression to assert as it is. */
  | { kind: 'py'; expr: string }
  /** A JavaScript statement (without the `;`). */
  | { kind: 'js'; stmt: string };

interface Ctx {
  ep: string;
  lang: Lang;
  /** node:assert's loose methods mean the strict ones (the file imports `assert/strict`). */
  strictAssert: boolean;
}

/** Significant tokens of `text`, or null when it does not tokenize. */
function sigTokens(text: string, lang: Lang): Tok[] | null {
  const toks = tokenize(text, lang);
  return toks ? toks.filter((t) => t.kind !== 'nl' && t.kind !== 'comment') : null;
}

/**
 * A clean, self-contained expression: tokenizes, brackets balanced, no dangling operator, no
 * statement-level syntax (assignment, `;`, walrus, `await`/`yield`), one line once normalized.
 */
function cleanExpr(text: string, lang: Lang): string | null {
  const toks = sigTokens(text, lang);
  if (!toks || toks.length === 0 || !bracketsBalanced(toks)) return null;
  const first = toks[0] as Tok;
  const last = toks[toks.length - 1] as Tok;
  if (last.kind === 'op' || (first.kind === 'op' && !['-', '+', '!', '~', '['].includes(first.text))) return null;
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    // Assignments: at the top level in both languages (a keyword argument `f(x=1)` is fine), anywhere in JavaScript.
    const assignment = t.kind === 'op' && (t.text === '=' || /^(?:[-+*/%&|^@]|\*\*|\/\/|<<|>>|>>>|&&|\|\||\?\?)=$/.test(t.text));
    if (assignment && (depth === 0 || lang === 'js' || t.text !== '=')) return null;
    if (t.kind === 'op' && (t.text === ';' || t.text === ':=' || t.text === '++' || t.text === '--')) return null;
    if (t.kind === 'name' && (t.text === 'await' || t.text === 'yield')) return null;
    // Interpolating strings read names the name check does not see.
    if (t.kind === 'string' && ((lang === 'python' && /^[a-zA-Z]*[fF]/.test(t.text) && t.text.includes('{')) || (lang === 'js' && t.text.startsWith('`') && t.text.includes('${')))) return null;
  }
  return oneLine(text, lang);
}

/** Every name is allowed and the entry point is called. */
function standalone(expr: string, ctx: Ctx): boolean {
  const names = checkNames(expr, ctx.ep, ctx.lang);
  return names !== null && names.closed && names.callsEntry;
}

/** Names only allowed (the other side of a comparison may be the one calling the entry point). */
function closedNames(expr: string, ctx: Ctx): boolean {
  const names = checkNames(expr, ctx.ep, ctx.lang);
  return names !== null && names.closed;
}

/** `expr` is exactly one call of the entry point, `ep(…)`. */
function isEntryCall(expr: string, ctx: Ctx): boolean {
  const m = new RegExp(`^${escapeRe(ctx.ep)}\\s*\\(`).exec(expr);
  if (!m) return false;
  return matchBracket(expr, m[0].length - 1, ctx.lang) === expr.length;
}

/** Wraps an operand in parentheses unless it is a single atom, call or literal without top-level operators. */
function paren(expr: string, lang: Lang): string {
  const toks = sigTokens(expr, lang);
  if (!toks) return `(${expr})`;
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && ((t.kind === 'op' && t.text !== '.' && t.text !== '?.') || (t.kind === 'name' && /^(?:not|and|or|in|is|if|else|lambda|typeof|new|instanceof|void|delete)$/.test(t.text)))) return `(${expr})`;
  }
  return expr;
}

/** Splits the arguments of a call whose '(' is at `open`; null when the brackets do not close. */
function callArgs(text: string, open: number, lang: Lang): { args: string[]; end: number } | null {
  const end = matchBracket(text, open, lang);
  if (end < 0) return null;
  const inner = text.slice(open + 1, end - 1);
  const toks = tokenize(inner, lang);
  if (!toks) return null;
  const args: string[] = [];
  let depth = 0;
  let from = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && t.kind === 'op' && t.text === ',') {
      args.push(inner.slice(from, t.start).trim());
      from = t.end;
    }
  }
  const tail = inner.slice(from).trim();
  if (tail !== '' || args.length > 0) args.push(tail);
  // A trailing comma leaves an empty last argument.
  if (args.length > 0 && args[args.length - 1] === '') args.pop();
  return { args, end };
}

/** Splits Python keyword arguments (`msg=…`, `places=…`) from the positional ones. */
function pyKeywords(args: readonly string[]): { pos: string[]; kw: Map<string, string> } {
  const pos: string[] = [];
  const kw = new Map<string, string>();
  for (const a of args) {
    const m = /^([\p{L}_][\p{L}\p{N}_]*)\s*=(?!=)\s*/u.exec(a);
    if (m) kw.set(m[1] as string, a.slice(m[0].length));
    else pos.push(a);
  }
  return { pos, kw };
}

/** The end of the Python logical line starting at `pos`: a newline outside brackets, a `;` or a comment at depth 0, or the end. */
function logicalEnd(text: string, pos: number, lang: Lang): number | null {
  let depth = 0;
  let p = pos;
  for (;;) {
    const t = lexAt(text, p, lang);
    if (t.kind === 'eof') return t.start;
    if (t.kind === 'error') return null;
    if (depth === 0 && (t.kind === 'nl' || t.kind === 'comment' || (t.kind === 'op' && t.text === ';'))) return t.start;
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') {
      depth--;
      if (depth < 0) return t.start;
    }
    p = t.end;
  }
}

/** Splits `expr` at its first top-level token `op` (a comparison or a comma). */
function splitTop(expr: string, lang: Lang, ops: ReadonlySet<string>): { lhs: string; op: string; rhs: string } | null {
  const toks = tokenize(expr, lang);
  if (!toks) return null;
  let depth = 0;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i] as Tok;
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && (t.kind === 'op' || t.kind === 'name') && ops.has(t.text)) {
      return { lhs: expr.slice(0, t.start).trim(), op: t.text, rhs: expr.slice(t.end).trim() };
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Equality, both languages

/** `a == b` (deep strict in JavaScript) with one side the entry call and the other a literal: an example; else null. */
function asExample(a: string, b: string, ctx: Ctx): Check | null {
  const x = cleanExpr(a, ctx.lang);
  const y = cleanExpr(b, ctx.lang);
  if (x === null || y === null) return null;
  for (const [call, expected] of [
    [x, y],
    [y, x],
  ] as const) {
    if (isEntryCall(call, ctx) && standalone(call, ctx) && isLiteral(expected, ctx.lang)) return { kind: 'example', call, expected };
  }
  return null;
}

/** A binary check `a <op> b`, both sides clean and closed, the entry point called on one side. */
function binary(a: string, b: string, ctx: Ctx, write: (a: string, b: string) => Check): Check | null {
  const x = cleanExpr(a, ctx.lang);
  const y = cleanExpr(b, ctx.lang);
  if (x === null || y === null || !closedNames(x, ctx) || !closedNames(y, ctx)) return null;
  if (!standalone(`${x}\n${y}`, ctx)) return null;
  return write(x, y);
}

function unary(a: string, ctx: Ctx, write: (a: string) => Check): Check | null {
  const x = cleanExpr(a, ctx.lang);
  if (x === null || !standalone(x, ctx)) return null;
  return write(x);
}

// ---------------------------------------------------------------------------------------------
// Python

const PY_CMP = new Set(['==', '!=', '<', '<=', '>', '>=', 'in', 'is', 'not']);

/** `assert <expr>[, msg]` starting right after the keyword. */
function pytestAssert(text: string, pos: number, ctx: Ctx): Check | null {
  const end = logicalEnd(text, pos, 'python');
  if (end === null) return null;
  let body = text.slice(pos, end);
  const comma = splitTop(body, 'python', new Set([',']));
  if (comma) body = comma.lhs;
  const expr = cleanExpr(body, 'python');
  if (expr === null) return null;
  const eq = splitTop(expr, 'python', PY_CMP);
  if (eq?.op === '==') {
    const ex = asExample(eq.lhs, eq.rhs, ctx);
    if (ex) return ex;
    // `f(x) == pytest.approx(0.5)`: pytest's default tolerance (relative 1e-6, absolute 1e-12).
    const approx = /^pytest\s*\.\s*approx\s*\(/.exec(eq.rhs);
    if (approx && isEntryCall(eq.lhs, ctx) && standalone(eq.lhs, ctx)) {
      const args = callArgs(eq.rhs, approx[0].length - 1, 'python');
      const v = args?.args.length === 1 ? (args.args[0] as string) : null;
      const num = v === null ? null : parseLiteral(v, 0, 'python');
      if (args && args.end === eq.rhs.length && v !== null && num?.isNumber && lexAt(v, num.end, 'python').kind === 'eof') {
        const value = oneLine(v, 'python') as string;
        return { kind: 'py', expr: `abs(${eq.lhs} - (${value})) <= max(1e-6 * abs(${value}), 1e-12)` };
      }
    }
  }
  return standalone(expr, ctx) ? { kind: 'py', expr } : null;
}

const PY_UNITTEST_BINARY: Record<string, string> = {
  assertEqual: '==',
  assertEquals: '==',
  assertListEqual: '==',
  assertTupleEqual: '==',
  assertDictEqual: '==',
  assertSetEqual: '==',
  assertMultiLineEqual: '==',
  assertNotEqual: '!=',
  assertNotEquals: '!=',
  assertIs: 'is',
  assertIsNot: 'is not',
  assertIn: 'in',
  assertNotIn: 'not in',
  assertGreater: '>',
  assertGreaterEqual: '>=',
  assertLess: '<',
  assertLessEqual: '<=',
};

/** `self.<method>(` with its '(' at `open`. */
function unittestAssert(text: string, method: string, open: number, ctx: Ctx): Check | null {
  const call = callArgs(text, open, 'python');
  if (!call) return null;
  const { pos, kw } = pyKeywords(call.args);
  for (const k of kw.keys()) if (k !== 'msg') return null;
  const py = (e: string): Check => ({ kind: 'py', expr: e });
  const op = PY_UNITTEST_BINARY[method];
  if (op !== undefined) {
    if (pos.length < 2 || pos.length > 3) return null;
    const [a, b] = pos as [string, string];
    if (op === '==') {
      const ex = asExample(a, b, ctx);
      if (ex) return ex;
    }
    return binary(a, b, ctx, (x, y) => py(`${paren(x, 'python')} ${op} ${paren(y, 'python')}`));
  }
  switch (method) {
    case 'assertTrue':
    case 'assert_':
      return pos.length >= 1 && pos.length <= 2 ? unary(pos[0] as string, ctx, (x) => py(x)) : null;
    case 'assertFalse':
      return pos.length >= 1 && pos.length <= 2 ? unary(pos[0] as string, ctx, (x) => py(`not ${paren(x, 'python')}`)) : null;
    case 'assertIsNone':
      return pos.length >= 1 && pos.length <= 2 ? unary(pos[0] as string, ctx, (x) => py(`${paren(x, 'python')} is None`)) : null;
    case 'assertIsNotNone':
      return pos.length >= 1 && pos.length <= 2 ? unary(pos[0] as string, ctx, (x) => py(`${paren(x, 'python')} is not None`)) : null;
    case 'assertIsInstance':
    case 'assertNotIsInstance': {
      if (pos.length < 2 || pos.length > 3) return null;
      const not = method === 'assertNotIsInstance' ? 'not ' : '';
      return binary(pos[0] as string, pos[1] as string, ctx, (x, y) => py(`${not}isinstance(${x}, ${y})`));
    }
    case 'assertAlmostEqual': {
      // Only the default: 7 places, no delta (a third positional argument is `places`).
      if (pos.length !== 2) return null;
      return binary(pos[0] as string, pos[1] as string, ctx, (x, y) => py(`round(abs(${paren(x, 'python')} - ${paren(y, 'python')}), 7) == 0`));
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// JavaScript / TypeScript

const STRICT_OF: Record<string, string> = { equal: 'strictEqual', notEqual: 'notStrictEqual', deepEqual: 'deepStrictEqual', notDeepEqual: 'notDeepStrictEqual' };

/** `assert(…)`, `assert.<method>(…)` with its '(' at `open`. */
function nodeAssert(text: string, method: string | undefined, open: number, ctx: Ctx): Check | null {
  const call = callArgs(text, open, 'js');
  if (!call) return null;
  const args = call.args;
  const js = (s: string): Check => ({ kind: 'js', stmt: s });
  if (method === undefined || method === 'ok') {
    return args.length >= 1 && args.length <= 2 ? unary(args[0] as string, ctx, (x) => js(`assert.ok(${x})`)) : null;
  }
  if (args.length < 2 || args.length > 3) return null;
  const [a, b] = args as [string, string];
  let m = method;
  if (ctx.strictAssert) m = STRICT_OF[m] ?? m;
  const primitive = (e: string) => isLiteral(e, 'js') && !/^[[{]|^new\b/.test(e.trim());
  switch (m) {
    case 'strictEqual':
    case 'deepStrictEqual':
      return asExample(a, b, ctx) ?? binary(a, b, ctx, (x, y) => js(`assert.${m}(${x}, ${y})`));
    case 'notStrictEqual':
    case 'notDeepStrictEqual':
      return binary(a, b, ctx, (x, y) => js(`assert.${m}(${x}, ${y})`));
    case 'equal':
      return binary(a, b, ctx, (x, y) => js(`assert.ok(${paren(x, 'js')} == ${paren(y, 'js')})`));
    case 'notEqual':
      return binary(a, b, ctx, (x, y) => js(`assert.ok(${paren(x, 'js')} != ${paren(y, 'js')})`));
    case 'deepEqual':
      if (primitive(a) || primitive(b)) return binary(a, b, ctx, (x, y) => js(`assert.ok(${paren(x, 'js')} == ${paren(y, 'js')})`));
      return asExample(a, b, ctx) ?? binary(a, b, ctx, (x, y) => js(`assert.deepStrictEqual(${x}, ${y})`));
    default:
      return null;
  }
}

const JEST_EQUAL = new Set(['toBe', 'toEqual', 'toStrictEqual']);
const JEST_CMP: Record<string, string> = { toBeGreaterThan: '>', toBeGreaterThanOrEqual: '>=', toBeLessThan: '<', toBeLessThanOrEqual: '<=' };

/** `expect(` with its '(' at `open`, followed by `.matcher(…)`. */
function jestExpect(text: string, open: number, ctx: Ctx): Check | null {
  const subject = callArgs(text, open, 'js');
  if (!subject || subject.args.length !== 1) return null;
  const m = /^\s*\.\s*([\p{L}_$][\p{L}\p{N}_$]*)\s*\(/u.exec(text.slice(subject.end));
  if (!m) return null; // `.not.…`, `.resolves.…` and the like lands here (no '(' after the first name)
  const matcher = m[1] as string;
  const mOpen = subject.end + m[0].length - 1;
  const margs = callArgs(text, mOpen, 'js');
  if (!margs) return null;
  const x = subject.args[0] as string;
  const args = margs.args;
  const js = (s: string): Check => ({ kind: 'js', stmt: s });
  const none = args.length === 0;
  if (JEST_EQUAL.has(matcher) && args.length === 1) {
    return asExample(x, args[0] as string, ctx) ?? binary(x, args[0] as string, ctx, (a, b) => js(`assert.deepStrictEqual(${a}, ${b})`));
  }
  const cmp = JEST_CMP[matcher];
  if (cmp && args.length === 1) return binary(x, args[0] as string, ctx, (a, b) => js(`assert.ok(${paren(a, 'js')} ${cmp} ${paren(b, 'js')})`));
  switch (matcher) {
    case 'toBeTruthy':
      return none ? unary(x, ctx, (a) => js(`assert.ok(${a})`)) : null;
    case 'toBeFalsy':
      return none ? unary(x, ctx, (a) => js(`assert.ok(!${paren(a, 'js')})`)) : null;
    case 'toBeNull':
      return none ? unary(x, ctx, (a) => js(`assert.strictEqual(${a}, null)`)) : null;
    case 'toBeUndefined':
      return none ? unary(x, ctx, (a) => js(`assert.strictEqual(${a}, undefined)`)) : null;
    case 'toBeDefined':
      return none ? unary(x, ctx, (a) => js(`assert.notStrictEqual(${a}, undefined)`)) : null;
    case 'toBeNaN':
      return none ? unary(x, ctx, (a) => js(`assert.ok(Number.isNaN(${a}))`)) : null;
    case 'toHaveLength':
      return args.length === 1 ? binary(x, args[0] as string, ctx, (a, b) => js(`assert.strictEqual(${paren(a, 'js')}.length, ${b})`)) : null;
    case 'toContain':
      return args.length === 1 ? binary(x, args[0] as string, ctx, (a, b) => js(`assert.ok(${paren(a, 'js')}.includes(${b}))`)) : null;
    case 'toBeCloseTo': {
      // Jest: |a - b| < 10^-digits / 2, digits 2 by default.
      if (args.length < 1 || args.length > 2) return null;
      const digits = args.length === 2 ? Number(args[1]) : 2;
      if (!Number.isInteger(digits) || digits < 0 || digits > 20) return null;
      return binary(x, args[0] as string, ctx, (a, b) => js(`assert.ok(Math.abs(${paren(a, 'js')} - ${paren(b, 'js')}) < 5e-${digits + 1})`));
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------

function readChecks(text: string, ctx: Ctx): Check[] {
  const out: Check[] = [];
  // Only lines that mention the entry point can hold a check of it; the rest is skipped fast.
  const mention = new RegExp(`(?<![\\p{L}\\p{N}_$])${escapeRe(ctx.ep)}(?![\\p{L}\\p{N}_$])`, 'u');
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1);
  const re =
    ctx.lang === 'python'
      ? /(?<![\p{L}\p{N}_$.])(?:assert(?=[\s(])|(?:self|cls)\s*\.\s*(assert[\p{L}\p{N}_]*)\s*\()/gu
      : /(?<![\p{L}\p{N}_$.])(?:assert(?:\s*\.\s*([\p{L}_$][\p{L}\p{N}_$]*))?\s*\(|expect\s*\()/gu;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text))) {
    // The check must mention the entry point somewhere from its line on (a few lines at most).
    let li = 0;
    for (let lo = 0, hi = lineStarts.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if ((lineStarts[mid] as number) <= m.index) {
        li = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    const window = text.slice(lineStarts[li] as number, lineStarts[li + 5] ?? text.length);
    if (!mention.test(window)) continue;
    // Not inside a comment or a string: the lexer from the line start must land on this token.
    if (!startsToken(text, lineStarts[li] as number, m.index, ctx.lang)) continue;
    let check: Check | null = null;
    const open = m.index + m[0].length - 1;
    if (ctx.lang === 'python') {
      if (m[1] !== undefined) check = unittestAssert(text, m[1], open, ctx);
      else check = pytestAssert(text, m.index + 'assert'.length, ctx);
    } else if (m[0].startsWith('expect')) check = jestExpect(text, open, ctx);
    else check = nodeAssert(text, m[1], open, ctx);
    if (check) out.push(check);
  }
  return out;
}

/** Lexing the line from `lineStart` reaches a token starting exactly at `at` (not inside a string or comment). */
function startsToken(text: string, lineStart: number, at: number, lang: Lang): boolean {
  let p = lineStart;
  for (;;) {
    const t = lexAt(text, p, lang);
    if (t.start === at) return true;
    if (t.kind === 'eof' || t.kind === 'nl' || t.start > at) return false;
    if (t.end > at) return false;
    p = t.end;
  }
}

function render(checks: readonly Check[], languageId: string): string[] {
  return checks.map((c) => {
    if (c.kind === 'example') {
      const ex: Pick<Example, 'call' | 'expected'> = { call: c.call, expected: c.expected };
      return examplesToAsserts([ex], languageId)[0] as string;
    }
    return c.kind === 'py' ? `assert ${c.expr}` : `${c.stmt};`;
  });
}

/** The file imports node:assert's strict mode (`node:assert/strict`, `assert/strict`, `assert.strict`, `strict as assert`). */
function importsStrictAssert(text: string): boolean {
  return /(['"])(?:node:)?assert\/strict\1|\bassert\s*\.\s*strict\b|\bstrict\s+as\s+assert\b|\{\s*strict\s*:\s*assert\s*\}/.test(text);
}

/**
 * Standalone asserts on `entryPoint` from the project's test files, in the candidate's
 * language (`languageId`): see the module comment. At most `cap`, deduplicated, in file order.
 */
export function projectTestAsserts(files: readonly RelatedTestFile[], entryPoint: string, languageId: string, cap = 20): string[] {
  const lang = familyOf(languageId);
  // Defensive: the files come off the wire.
  if (!lang || !entryPoint || cap <= 0 || !Array.isArray(files)) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of files as readonly (RelatedTestFile | null | undefined)[]) {
    if (!f || typeof f.languageId !== 'string' || familyOf(f.languageId) !== lang || typeof f.text !== 'string') continue;
    const text = f.text.replace(/\r\n?/g, '\n');
    const ctx: Ctx = { ep: entryPoint, lang, strictAssert: lang === 'js' && importsStrictAssert(text) };
    for (const a of render(readChecks(text, ctx), languageId)) {
      if (seen.has(a)) continue;
      seen.add(a);
      out.push(a);
      if (out.length >= cap) return out;
    }
  }
  return out;
}
