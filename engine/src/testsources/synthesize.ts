/**
 * Tests synthesized at inference, CodeT style: the configured generator is asked to continue
 * the function's stub (its header and docstring, body `pass`) followed by
 * `# check the correctness of NAME` and `assert `; its continuations are read back as asserts
 * by `collectGeneratedAsserts` (deduplicated, counted, the most frequent first) and capped.
 *
 * The prompt has the same layout as CodeT's (and as the recorded continuations of
 * shared/bench/humaneval/codegen16b_generated_tests.jsonl): the file's top-level imports, two
 * blank lines, the stub, one blank line, the comment, `assert `. Unlike CodeT, the docstring is
 * kept as written, examples included (CodeT removed HumanEval's examples to keep its evaluation
 * fair; here they are the user's own specification, and the best hint of the call format).
 *
 * JavaScript and TypeScript (javascriptreact, typescriptreact alike): the function's comment
 * (the JSDoc or `//` lines directly above it) and header as written (types kept), the comments
 * that open its body, a stub body `throw new Error('todo');`, one blank line,
 * `// check the correctness of NAME` and `assert.deepStrictEqual(` (`JS_ASSERT_OPENER`):
 *
 *     /** Adds two numbers. *\/
 *     function add(a: number, b: number): number {
 *       throw new Error('todo');
 *     }
 *
 *     // check the correctness of add
 *     assert.deepStrictEqual(
 *
 * Why this opener: as CodeT's `assert `, it commits the model to a test statement without
 * writing the call for it; unlike `assert `, which is not JavaScript, it is the start of a
 * real statement; `deepStrictEqual` is the comparison that holds for arrays and objects as
 * well as primitives (`strictEqual` and `===` compare objects by identity), the one the tests
 * run with (`node:assert/strict`) and the one docstring examples become (docstring.ts), so
 * a model that continues the pattern writes tests in the form most often kept. The imports
 * and the rest of the file are left out (the function's own text is its specification), and
 * the stub throws so that nothing suggests a return value. `generated.ts` reads the
 * continuations (`jsAssertsFromContinuation`).
 *
 * `testPrompt` is pure; `synthesizeTests` only calls the generator and never throws.
 */
import { enclosingFunction } from '../exec/programs';
import type { Generator } from '../generators/types';
import { problemFromError } from '../generators/types';
import type { GeneratorProblem } from '../protocol';
import { collectGeneratedAsserts, JS_ASSERT_OPENER, JS_LANGUAGE_IDS, type GeneratedAssert } from './generated';
import { lexAt, matchBracket, tokenize, type Tok } from './lexer';

export type { GeneratedAssert } from './generated';

/** Most distinct synthesized asserts returned by default (the most frequent first). */
export const DEFAULT_MAX_SYNTHESIZED = 20;

export interface SynthesizeInput {
  /** The document up to the cursor. */
  prefix: string;
  /**
   * The function being written: its name and where it starts in `prefix`. Python: the offset
   * of its `def` line (or of `def`/`async` itself). JavaScript/TypeScript: `enclosingFunction`'s
   * `from` (the comment above the header, or the header's first token).
   */
  fn: { name: string; from: number };
  languageId: string;
  /** Continuations to ask the generator for (its `n`). */
  samples: number;
  /** Most distinct asserts kept, the most frequent first (default `DEFAULT_MAX_SYNTHESIZED`). */
  maxTests?: number;
  /** Asserts read from each continuation (default 5, CodeT's). */
  perSample?: number;
  signal: AbortSignal;
}

export interface SynthesizeResult {
  /** Distinct asserts, one line each, with how many times they were generated (CodeT's test weights). */
  tests: GeneratedAssert[];
  /** Why the generator gave nothing (unreachable, HTTP error, ...); absent when it answered or the request was aborted. */
  problem?: GeneratorProblem;
  /** The prompt sent to the generator; absent when no prompt could be built (another language, cursor not in a usable function). */
  prompt?: string;
}

const DEF_AT = /^((?:async[ \t]+)?def)[ \t]+([A-Za-z_]\w*)[ \t]*\(/;

/** The file's top-level import statements before `end`, each whole (parenthesized and backslash-continued ones joined as written). */
export function topLevelImports(text: string, end = text.length): string[] {
  const lines = text.slice(0, end).split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const first = (lines[i] as string).replace(/\r$/, '');
    if (!/^(?:import[ \t]+[\w.]|from[ \t]+[\w.]+[ \t]+import\b)/.test(first)) continue;
    let stmt = first;
    let j = i;
    let complete = false;
    for (;;) {
      const toks = tokenize(stmt.replace(/\\$/, ''), 'python');
      const depth = toks ? toks.reduce((d, t) => d + (t.kind === 'open' ? 1 : t.kind === 'close' ? -1 : 0), 0) : 0;
      const continued = depth > 0 || /\\$/.test(stmt);
      if (toks && !continued) {
        complete = depth === 0;
        break;
      }
      if (!toks || j + 1 >= lines.length || j - i >= 50) break;
      j++;
      stmt += `\n${(lines[j] as string).replace(/\r$/, '')}`;
    }
    if (complete) out.push(stmt.trimEnd());
    i = j;
  }
  return out;
}

interface Stub {
  /** Header and prologue (comments before the docstring, the docstring), dedented to the top level. */
  text: string;
  /** Indentation of the body, relative to the `def`. */
  bodyIndent: string;
}

/** The function's stub as written in `prefix`: header, leading comments (and local imports), docstring; undefined when the header is not complete. */
function pythonStub(prefix: string, fn: { name: string; from: number }): Stub | undefined {
  if (!Number.isInteger(fn.from) || fn.from < 0 || fn.from > prefix.length) return undefined;
  const lineStart = prefix.lastIndexOf('\n', fn.from - 1) + 1;
  const ws = /^[ \t]*/.exec(prefix.slice(lineStart))?.[0] ?? '';
  const kwAt = lineStart + ws.length;
  if (fn.from > kwAt) return undefined; // `from` points past the `def`
  const m = DEF_AT.exec(prefix.slice(kwAt));
  if (!m || m[2] !== fn.name) return undefined;
  const defIndent = ws;
  const open = kwAt + m[0].length - 1;
  // A method (`self`, `cls`): its asserts would need an instance or a class.
  const firstParam = lexAt(prefix, open + 1, 'python');
  if (defIndent.length > 0 && firstParam.kind === 'name' && (firstParam.text === 'self' || firstParam.text === 'cls')) return undefined;
  const close = matchBracket(prefix, open, 'python');
  if (close < 0) return undefined; // the parameters are still being typed

  // Return annotation, then the `:` that ends the header.
  let pos = close;
  let depth = 0;
  let colonEnd = -1;
  for (;;) {
    const t = lexAt(prefix, pos, 'python');
    if (t.kind === 'eof' || t.kind === 'error' || t.kind === 'comment') return undefined;
    if (t.kind === 'nl' && depth === 0) return undefined;
    pos = t.end;
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (t.kind === 'op' && t.text === ':' && depth === 0) {
      colonEnd = t.end;
      break;
    }
  }
  // The rest of the header line: a comment is kept; code (a one-line body) is not.
  let headerEnd = colonEnd;
  let next = lexAt(prefix, colonEnd, 'python');
  if (next.kind === 'comment') {
    headerEnd = next.end;
    next = lexAt(prefix, next.end, 'python');
  }
  let keepEnd = headerEnd;
  let bodyIndent: string | undefined;
  if (next.kind === 'nl') {
    // Leading comment lines, then at most one docstring; the first statement after them (the body being written) ends the stub.
    let p = next.end;
    while (p < prefix.length) {
      const nl = prefix.indexOf('\n', p);
      const lineEnd = nl < 0 ? prefix.length : nl;
      const line = prefix.slice(p, lineEnd).replace(/\r$/, '');
      const indent = /^[ \t]*/.exec(line)?.[0] ?? '';
      const rest = line.slice(indent.length);
      if (rest.length === 0) {
        p = lineEnd + 1;
        continue;
      }
      if (indent.length <= defIndent.length) break; // not in this function any more
      bodyIndent ??= indent;
      // Comments, and local imports on whole lines (HumanEval/115 imports before its docstring), come with the header.
      if (rest.startsWith('#') || (nl >= 0 && /^(?:import[ \t]+\w[\w. \t,]*|from[ \t]+[\w.]+[ \t]+import[ \t]+\w[\w. \t,]*)(?:#.*)?$/.test(rest.trimEnd()))) {
        keepEnd = p + line.length;
        p = lineEnd + 1;
        continue;
      }
      const t = lexAt(prefix, p + indent.length, 'python');
      if (t.kind === 'string') {
        const after = lexAt(prefix, t.end, 'python');
        if (after.kind === 'nl' || after.kind === 'comment' || after.kind === 'eof') keepEnd = after.kind === 'comment' ? after.end : t.end;
      } else if (t.kind === 'error' && /^(?:[rRuUbBfF]{1,2})?['"]/.test(rest)) {
        return undefined; // the cursor is inside the docstring
      }
      break;
    }
  }
  const relIndent = bodyIndent?.startsWith(defIndent) ? bodyIndent.slice(defIndent.length) : '';
  const text = prefix
    .slice(kwAt, keepEnd)
    .replace(/\r\n?/g, '\n')
    .split('\n')
    .map((l, i) => (i > 0 && defIndent.length > 0 && l.startsWith(defIndent) ? l.slice(defIndent.length) : l))
    .join('\n')
    .trimEnd();
  return { text, bodyIndent: relIndent.length > 0 ? relIndent : defIndent.includes('\t') ? '\t' : '    ' };
}

/** Tokens after which a `{` is an object type, not a body (as in programs.ts). */
const TYPE_BEFORE_BRACE = new Set([':', '|', '&', '=>', '<', ',', 'is', 'keyof', 'typeof']);

/**
 * The stub of the top-level JavaScript/TypeScript function `fn` (which must be the function the
 * cursor is in, as `enclosingFunction` finds it): the comment above it and its header as
 * written, the comments that open its body, then a body that throws. Undefined when the header
 * is not one read here or `fn` is not that function.
 */
function jsStub(prefix: string, fn: { name: string; from: number }, languageId: string): string | undefined {
  if (!Number.isInteger(fn.from) || fn.from < 0 || fn.from > prefix.length) return undefined;
  const enclosing = enclosingFunction(prefix, languageId);
  if (!enclosing || enclosing.name !== fn.name || enclosing.from !== fn.from || !enclosing.topLevel) return undefined;
  /** The next token from `pos`, newlines and comments skipped. */
  const next = (pos: number): Tok => {
    for (let p = pos; ; ) {
      const t = lexAt(prefix, p, 'js');
      if (t.kind !== 'nl' && t.kind !== 'comment') return t;
      p = t.end;
    }
  };
  /** After an opening bracket at `t`: the token after its closer; undefined when it does not close. */
  const pastGroup = (t: Tok): Tok | undefined => {
    const end = matchBracket(prefix, t.start, 'js');
    return end < 0 ? undefined : next(end);
  };
  /** Type parameters `<…>` at `t`, skipped. */
  const pastAngles = (t: Tok): Tok | undefined => {
    if (t.text !== '<') return t;
    let depth = 0;
    for (let u: Tok | undefined = t; u; ) {
      if (u.kind === 'open') {
        u = pastGroup(u);
        continue;
      }
      if (u.kind !== 'op' && u.kind !== 'name' && u.kind !== 'string' && u.kind !== 'number') return undefined;
      if (u.text === '<') depth++;
      else if (u.text === '>' || u.text === '>>' || u.text === '>>>') depth -= u.text.length;
      else if (u.text === ';' || u.text === '=>') return undefined;
      u = next(u.end);
      if (depth <= 0) return u;
    }
    return undefined;
  };
  /** From `t`, after a parameter list: an optional return type, then what `stop` accepts (the body's `{`, an arrow's `=>`). */
  const pastReturnType = (t: Tok | undefined, stop: (u: Tok, prev: Tok | undefined) => boolean): Tok | undefined => {
    if (!t || t.text !== ':') return t && stop(t, undefined) ? t : undefined;
    let prev: Tok = t;
    for (let u: Tok | undefined = next(t.end); u; ) {
      if (stop(u, prev)) return u;
      if (u.kind === 'eof' || u.kind === 'error' || u.kind === 'close' || u.text === ';') return undefined;
      prev = u;
      u = u.kind === 'open' ? pastGroup(u) : next(u.end);
    }
    return undefined;
  };
  const isBody = (u: Tok, prev: Tok | undefined) => u.text === '{' && u.kind === 'open' && !(prev && TYPE_BEFORE_BRACE.has(prev.text));
  /** From `t` at `function`: `function [*] [name] [<…>] (…) [: T] {`; the body's `{`. */
  const functionBody = (t: Tok, name: string | undefined): Tok | undefined => {
    let u = next(t.end);
    if (u.text === '*') u = next(u.end);
    if (u.kind === 'name') {
      if (name !== undefined && u.text !== name) return undefined;
      u = next(u.end);
    } else if (name !== undefined) return undefined;
    const open = pastAngles(u);
    if (open?.text !== '(') return undefined;
    return pastReturnType(pastGroup(open), isBody);
  };

  const header = next(fn.from);
  let t = header;
  while (t.kind === 'name' && ['export', 'default', 'declare', 'async'].includes(t.text)) t = next(t.end);
  /** Where the header text ends: the body's `{` (kept) or an arrow's `=>` (kept, the stub body follows it). */
  let brace: Tok | undefined;
  let arrow: Tok | undefined;
  let declaration = false;
  if (t.kind === 'name' && t.text === 'function') {
    brace = functionBody(t, fn.name);
    declaration = true;
  } else if (t.kind === 'name' && ['const', 'let', 'var'].includes(t.text)) {
    let u = next(t.end);
    if (u.kind !== 'name' || u.text !== fn.name) return undefined;
    u = next(u.end);
    if (u.text === '!') u = next(u.end);
    if (u.text === ':') {
      const eq = pastReturnType(u, (x) => x.kind === 'op' && x.text === '=');
      if (!eq) return undefined;
      u = eq;
    }
    if (u.text !== '=') return undefined;
    u = next(u.end);
    if (u.kind === 'name' && u.text === 'async') u = next(u.end);
    if (u.kind === 'name' && u.text === 'function') brace = functionBody(u, undefined);
    else {
      if (u.kind === 'name' && next(u.end).text === '=>') arrow = next(u.end);
      else {
        const open = pastAngles(u);
        if (open?.text !== '(') return undefined;
        arrow = pastReturnType(pastGroup(open), (x) => x.kind === 'op' && x.text === '=>');
      }
      if (!arrow) return undefined;
      const first = next(arrow.end);
      if (first.kind === 'open' && first.text === '{') brace = first;
    }
  } else return undefined;
  if (!brace && !arrow) return undefined;

  // Kept: the header through the body's `{` and the comments that open the body, or through `=>`.
  let keepEnd = brace ? brace.end : (arrow as Tok).end;
  let bodyIndent: string | undefined;
  if (brace) {
    /** The indentation of the token at `at` when it is first on its line (after the `{`). */
    const indentOf = (at: number): string | undefined => {
      const ls = prefix.lastIndexOf('\n', at - 1) + 1;
      const ws = prefix.slice(ls, at);
      return ls > brace.end && /^[ \t]*$/.test(ws) ? ws : undefined;
    };
    for (let p = brace.end; ; ) {
      const u = lexAt(prefix, p, 'js');
      if (u.kind === 'nl') {
        p = u.end;
        continue;
      }
      if (u.kind !== 'eof') bodyIndent ??= indentOf(u.start);
      // A comment is kept; the first statement (the body being typed) ends the stub, as does a comment still open.
      if (u.kind !== 'comment') break;
      keepEnd = u.end;
      p = u.end;
    }
  }
  const lineStart = prefix.lastIndexOf('\n', header.start - 1) + 1;
  const headerIndent = /^[ \t]*/.exec(prefix.slice(lineStart))?.[0] ?? '';
  const dedent = (text: string) =>
    text
      .replace(/\r\n?/g, '\n')
      .split('\n')
      .map((l) => (headerIndent.length > 0 && l.startsWith(headerIndent) ? l.slice(headerIndent.length) : l))
      .join('\n');
  const rel = bodyIndent !== undefined && /^[ \t]+$/.test(bodyIndent) && bodyIndent.startsWith(headerIndent) ? bodyIndent.slice(headerIndent.length) : '';
  const indent = rel.length > 0 ? rel : headerIndent.includes('\t') ? '\t' : '  ';
  const comment = dedent(prefix.slice(fn.from, header.start)).trimEnd();
  const head = dedent(prefix.slice(header.start, keepEnd)).trimEnd();
  const open = brace ? '' : ' {';
  const close = declaration ? '}' : '};';
  return `${comment ? `${comment}\n` : ''}${head}${open}\n${indent}throw new Error('todo');\n${close}`;
}

/**
 * The prompt that asks a model for tests of `fn` (CodeT style), built from the document up to
 * the cursor. Python: the file's top-level imports, the function's header, leading comments
 * and docstring as written (dedented to the top level when nested; the body being typed is
 * left out), an indented `pass`, a blank line, `# check the correctness of NAME` and `assert `.
 * JavaScript/TypeScript (and their React ids): the comment above the function, its header
 * and the comments that open its body as written (types kept; the body being typed is left
 * out), `throw new Error('todo');` as its body, a blank line,
 * `// check the correctness of NAME` and `assert.deepStrictEqual(` (see the top of this file).
 * Undefined for other languages, for a method (`self`/`cls`; JS/TS: a method or a nested
 * function), while the header or the docstring is still being typed, or when `fn` does not
 * point at a function of that name (JS/TS: at the function the cursor is in, as
 * `enclosingFunction` gives it).
 */
export function testPrompt(prefix: string, fn: { name: string; from: number }, languageId: string): string | undefined {
  if (JS_LANGUAGE_IDS.has(languageId)) {
    const stub = jsStub(prefix, fn, languageId);
    return stub === undefined ? undefined : `${stub}\n\n// check the correctness of ${fn.name}\n${JS_ASSERT_OPENER}`;
  }
  if (languageId !== 'python') return undefined;
  const stub = pythonStub(prefix, fn);
  if (!stub) return undefined;
  const imports = topLevelImports(prefix, fn.from).join('\n');
  return `${imports}${imports ? '\n\n\n' : ''}${stub.text}\n${stub.bodyIndent}pass\n\n# check the correctness of ${fn.name}\nassert `;
}

/**
 * Asks `generator` for `input.samples` continuations of `testPrompt(...)` and reads them back as
 * asserts that call `fn.name`: deduplicated (layout ignored), counted, the most frequent first,
 * at most `maxTests`. Never throws: no prompt → no tests; aborted → no tests (and no problem);
 * a generator problem → no tests (unless some samples came back anyway) and the problem.
 */
export async function synthesizeTests(generator: Generator, input: SynthesizeInput): Promise<SynthesizeResult> {
  let prompt: string | undefined;
  try {
    prompt = testPrompt(input.prefix, input.fn, input.languageId);
  } catch {
    prompt = undefined;
  }
  if (prompt === undefined) return { tests: [] };
  const n = Math.floor(input.samples);
  if (!(n > 0) || input.signal.aborted) return { tests: [], prompt };
  try {
    const r = await generator.sample({ prefix: prompt, suffix: '', languageId: input.languageId, n, signal: input.signal });
    if (input.signal.aborted) return { tests: [], prompt };
    const tests = collectGeneratedAsserts(
      r.samples.map((s) => s.text),
      input.fn.name,
      { max: input.maxTests ?? DEFAULT_MAX_SYNTHESIZED, languageId: input.languageId, ...(input.perSample !== undefined ? { perSample: input.perSample } : {}) },
    );
    return r.problem ? { tests, problem: r.problem, prompt } : { tests, prompt };
  } catch (e) {
    if (input.signal.aborted) return { tests: [], prompt };
    return { tests: [], problem: problemFromError(e, generator.config.url ?? '', input.signal), prompt };
  }
}
