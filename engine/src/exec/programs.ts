/**
 * What a candidate is run as: for each language, the function the cursor is in and the
 * program built around a candidate for it. Pure functions (type stripping aside, which loads
 * amaro lazily), nothing evaluated here; the programs run in the sandbox (./languages.ts).
 *
 * - python: the function is the innermost `def` whose body is still open at the cursor (a
 *   later logical line at its indentation or less closes it; strings, comments and bracketed
 *   continuation lines do not count). The program is the file's top-level `import`/`from`
 *   lines, then the function from its `def` with the candidate as its body. The rest of the
 *   file is not run (its top level could do anything, and the prefix window may start
 *   mid-block).
 * - javascript, typescript, javascriptreact, typescriptreact: the function is the innermost
 *   named function whose body is open at the cursor: `function f(`, `async function`,
 *   `export [default] function f`, `const|let|var f = (…) =>` (braced or expression body),
 *   `= x =>`, `= function`, `export const f = …`; methods (class or object literal) and
 *   functions inside other blocks are found too, with `topLevel: false`. Anonymous callbacks
 *   are not functions here: the cursor inside `xs.map((x) => {…})` within `f` is in `f`.
 *   Brackets are counted outside strings, comments, template literals (their `${…}` parts are
 *   code) and regular expressions (recognized approximately, by the token before the `/`).
 *
 *   The program is a classic script (what the JavaScript harness runs, its top-level
 *   declarations visible to the tests):
 *   1. of the file's top-level imports, only Node.js built-in modules are kept, as `require`:
 *      `import x from 'node:fs'`, `import * as x from 'fs'` → `const x = require(…)`,
 *      `import { a, b as c } from 'node:util'` → `const { a, b: c } = require(…)`,
 *      `import x = require('fs')` (TypeScript) and top-level `const … = require('<builtin>')`
 *      lines as they are. Every other import (project files, packages) is dropped: the
 *      sandbox has neither the project nor its node_modules. Type-only imports are dropped.
 *      A candidate that uses a dropped name fails with a ReferenceError (an `exception`).
 *   2. the function from its header to the cursor, then the candidate, then what closes the
 *      function: the candidate is cut where it closes the function's body itself; otherwise
 *      the suffix is read up to and including the `}` that balances the body's `{` (for an
 *      expression-bodied arrow: to the `;` or the line that ends the expression); when the
 *      suffix does not close it either, the missing closers are appended.
 *   3. `export` / `export default` in front of the header are removed.
 *   TypeScript programs are returned as TypeScript; the runner strips the types
 *   (`stripTypes`) before the program goes into the sandbox.
 */
import { builtinModules } from 'node:module';

export interface EnclosingFunction {
  name: string;
  /**
   * Offset in the prefix where the function's text starts: Python, its `def` line (the
   * docstring is inside); JS/TS, the comment directly above the header (JSDoc or `//` lines)
   * when there is one, else the header's first token (`export` included).
   */
  from: number;
  /** Indentation (columns) of the header's line. */
  indent: number;
  /** Not inside a class, an object literal, another function or any other bracket. */
  topLevel: boolean;
}

const JS_LANGUAGES = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact']);

/** Language ids `enclosingFunction` and `programFor` know. */
export const PROGRAM_LANGUAGES: readonly string[] = ['python', ...JS_LANGUAGES];

/** The function whose body the cursor (the end of `prefix`) is in, or undefined. */
export function enclosingFunction(prefix: string, languageId: string): EnclosingFunction | undefined {
  if (languageId === 'python') return enclosingPython(prefix);
  if (JS_LANGUAGES.has(languageId)) {
    const open = innermostOpen(jsFunctions(prefix).fns);
    return open ? { name: open.name, from: open.from, indent: open.indent, topLevel: open.topLevel } : undefined;
  }
  return undefined;
}

/**
 * The program `candidate` runs as when completing at the end of `prefix` inside `fn` (from
 * `enclosingFunction(prefix, languageId)`), `suffix` being the text after the cursor.
 * Undefined for a language without programs, for a function that is not top-level (a method
 * or a nested function cannot run on its own), or when `fn` is not found again in `prefix`.
 */
export function programFor(languageId: string, prefix: string, fn: EnclosingFunction, candidate: string, suffix: string): string | undefined {
  if (!fn.topLevel) return undefined;
  if (languageId === 'python') return pythonProgram(prefix, fn.from, candidate);
  if (JS_LANGUAGES.has(languageId)) return jsProgram(prefix, fn, candidate, suffix);
  return undefined;
}

// ---- Python ----------------------------------------------------------------------------

interface LogicalLine {
  /** Offset of the line's start (its indentation included). */
  start: number;
  /** Offset of its first non-blank character. */
  first: number;
  indent: number;
}

/** Logical lines of Python source that hold code: not blank, not only a comment, not inside a string or brackets. */
function pythonLogicalLines(text: string): LogicalLine[] {
  const lines: LogicalLine[] = [];
  let depth = 0;
  let i = 0;
  let atLineStart = true;
  let lineStart = 0;
  let continued = false; // a backslash-newline
  while (i < text.length) {
    const c = text[i] as string;
    if (atLineStart) {
      atLineStart = false;
      lineStart = i;
      let j = i;
      let col = 0;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\f')) {
        col = text[j] === '\t' ? col + 8 - (col % 8) : col + 1;
        j++;
      }
      const d = text[j];
      if (depth === 0 && !continued && d !== undefined && d !== '\n' && d !== '\r' && d !== '#') lines.push({ start: lineStart, first: j, indent: col });
      continued = false;
      i = j;
      continue;
    }
    if (c === '\n') {
      atLineStart = true;
      i++;
      continue;
    }
    if (c === '\\' && text[i + 1] === '\n') {
      continued = true;
      i += 2;
      atLineStart = true;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") {
      const triple = text.startsWith(c.repeat(3), i);
      let j = i + (triple ? 3 : 1);
      for (;;) {
        if (j >= text.length) break;
        const ch = text[j];
        if (ch === '\\') {
          j += 2;
          continue;
        }
        if (triple ? text.startsWith(c.repeat(3), j) : ch === c) {
          j += triple ? 3 : 1;
          break;
        }
        if (ch === '\n' && !triple) break;
        j++;
      }
      i = j;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth = Math.max(0, depth - 1);
    i++;
  }
  return lines;
}

function enclosingPython(prefix: string): EnclosingFunction | undefined {
  const lines = pythonLogicalLines(prefix);
  const def = /^(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(/;
  // Open defs, outermost first: a logical line at a def's indentation or less closes it.
  const open: { name: string; from: number; indent: number }[] = [];
  for (const line of lines) {
    while (open.length > 0 && (open[open.length - 1] as { indent: number }).indent >= line.indent) open.pop();
    const m = def.exec(prefix.slice(line.first, line.first + 200));
    if (m) open.push({ name: m[1] ?? '', from: line.start, indent: line.indent });
  }
  const last = open[open.length - 1];
  return last ? { ...last, topLevel: last.indent === 0 } : undefined;
}

/**
 * The Python program: the file's top-level imports, then the function from its `def` with
 * the candidate as its body.
 */
export function pythonProgram(prefix: string, fnFrom: number, candidate: string): string {
  const imports = prefix
    .slice(0, fnFrom)
    .split('\n')
    .filter((l) => /^(import|from)\s+[\w.]+/.test(l) && !l.trimEnd().endsWith('('))
    .join('\n');
  return `${imports}${imports ? '\n\n' : ''}${prefix.slice(fnFrom)}${candidate}\n`;
}

// ---- JavaScript / TypeScript: tokens -----------------------------------------------------

type JsKind = 'name' | 'num' | 'str' | 'regex' | 'punct' | 'open' | 'close';

interface JsTok {
  kind: JsKind;
  text: string;
  start: number;
  end: number;
  /** The first token on its line. */
  lineFirst: boolean;
}

const JS_PUNCT = ['>>>=', '...', '===', '!==', '**=', '<<=', '>>=', '&&=', '||=', '??=', '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '**'];
/** After these names a `/` starts a regular expression, not a division. */
const REGEX_AFTER = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
const NAME_CHAR_WIDE = /[\p{L}\p{N}_$\u200c\u200d]/u;
/** A character of an identifier (ASCII by char code, the rest by Unicode class). */
function isNameChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  if (c < 128) return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 36;
  return NAME_CHAR_WIDE.test(text[i] as string);
}
const isDigit = (text: string, i: number) => {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
};
/** Characters that can start a multi-character punctuator. */
const PUNCT_START = new Set('>.=!*<&|?+-/%^'.split(''));

/**
 * Tokens of JavaScript/TypeScript source, comments and whitespace left out. A template
 * literal is one `str` token per literal part; the code of its `${…}` parts is tokenized
 * (their braces are not `open`/`close` tokens). Unterminated strings and comments end at
 * the end of the line / text. Never fails.
 */
function scanJs(text: string): JsTok[] {
  const toks: JsTok[] = [];
  // For each `{` still open: whether it opened a template substitution.
  const braces: boolean[] = [];
  let i = 0;
  let lineFirst = true;
  const push = (kind: JsKind, start: number, end: number) => {
    toks.push({ kind, text: text.slice(start, end), start, end, lineFirst });
    lineFirst = false;
  };
  /** Reads template text from `j` (just past '`' or a substitution's '}'); returns where it stopped and whether a `${` was entered. */
  const template = (j: number): number => {
    while (j < text.length) {
      const ch = text[j];
      if (ch === '\\') j += 2;
      else if (ch === '`') return j + 1;
      else if (ch === '$' && text[j + 1] === '{') {
        braces.push(true);
        return j + 2;
      } else {
        if (ch === '\n') lineFirst = false;
        j++;
      }
    }
    return text.length;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '\n') {
      lineFirst = true;
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v' || c === '\ufeff' || c === '\u00a0') {
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      const end = close < 0 ? text.length : close + 2;
      if (text.slice(i, end).includes('\n')) lineFirst = true;
      i = end;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < text.length && text[j] !== c && text[j] !== '\n') j += text[j] === '\\' ? 2 : 1;
      const end = Math.min(text.length, text[j] === c ? j + 1 : j);
      push('str', i, end);
      i = end;
      continue;
    }
    if (c === '`') {
      const end = template(i + 1);
      push('str', i, end);
      i = end;
      continue;
    }
    if (c === '}' && braces.length > 0 && braces[braces.length - 1] === true) {
      braces.pop();
      const end = template(i + 1);
      push('str', i, end);
      i = end;
      continue;
    }
    if (isDigit(text, i) || (c === '.' && isDigit(text, i + 1))) {
      let j = i + 1;
      while (j < text.length && (isNameChar(text, j) || text[j] === '.')) j++;
      push('num', i, j);
      i = j;
      continue;
    }
    if (isNameChar(text, i) || c === '#' || c === '\\') {
      let j = i + 1;
      while (j < text.length && isNameChar(text, j)) j++;
      push('name', i, j);
      i = j;
      continue;
    }
    if (c === '(' || c === '[' || c === '{') {
      if (c === '{') braces.push(false);
      push('open', i, i + 1);
      i++;
      continue;
    }
    if (c === ')' || c === ']' || c === '}') {
      if (c === '}') braces.pop();
      push('close', i, i + 1);
      i++;
      continue;
    }
    if (c === '/') {
      const prev = toks[toks.length - 1];
      const regexHere = !prev || prev.kind === 'open' || (prev.kind === 'punct' && prev.text !== '++' && prev.text !== '--') || (prev.kind === 'name' && REGEX_AFTER.has(prev.text));
      if (regexHere) {
        let j = i + 1;
        let inClass = false;
        let closed = false;
        while (j < text.length && text[j] !== '\n') {
          const ch = text[j];
          if (ch === '\\') j += 2;
          else if (ch === '[') (inClass = true), j++;
          else if (ch === ']') (inClass = false), j++;
          else if (ch === '/' && !inClass) {
            closed = true;
            j++;
            break;
          } else j++;
        }
        if (closed) {
          while (j < text.length && isNameChar(text, j)) j++;
          push('regex', i, j);
          i = j;
          continue;
        }
      }
    }
    const op = (PUNCT_START.has(c) ? JS_PUNCT.find((p) => text.startsWith(p, i)) : undefined) ?? c;
    push('punct', i, i + op.length);
    i += op.length;
  }
  return toks;
}

interface Brackets {
  /** For each open/close token, the index of its partner, or -1 when it has none. */
  match: number[];
  /** Brackets open before each token (its nesting depth). */
  depth: number[];
  /** For each token, the index of the innermost open token around it, or -1. */
  parent: number[];
  /** The open tokens still unclosed at the end, outermost first. */
  unclosed: number[];
}

function brackets(toks: readonly JsTok[]): Brackets {
  const match = new Array<number>(toks.length).fill(-1);
  const depth = new Array<number>(toks.length).fill(0);
  const parent = new Array<number>(toks.length).fill(-1);
  const stack: number[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  toks.forEach((t, i) => {
    depth[i] = stack.length;
    parent[i] = stack[stack.length - 1] ?? -1;
    if (t.kind === 'open') stack.push(i);
    else if (t.kind === 'close') {
      // Pop to the partner (an unmatched closer pops nothing).
      const want = pairs[t.text];
      let at = stack.length - 1;
      while (at >= 0 && toks[stack[at] as number]?.text !== want) at--;
      if (at < 0) return;
      const o = stack[at] as number;
      stack.length = at;
      match[o] = i;
      match[i] = o;
    }
  });
  return { match, depth, parent, unclosed: stack };
}

// ---- JavaScript / TypeScript: functions ------------------------------------------------------

interface JsFunction extends EnclosingFunction {
  /** Offset of the header's first token (`from` is earlier when a comment is above it). */
  header: number;
  /** Token index (in the prefix's tokens) of the body's `{`, or of the expression body's first token (tokens.length when none yet). */
  body: number;
  exprBody: boolean;
  /** Token index of `=>` for an arrow. */
  arrow: number;
  /** Whether the body is still open at the end of the prefix. */
  open: boolean;
}

const NOT_METHOD = new Set(['if', 'for', 'while', 'switch', 'catch', 'with', 'return', 'typeof', 'new', 'await', 'yield', 'super', 'import', 'function', 'do', 'else', 'try', 'finally', 'delete', 'void', 'throw', 'case', 'in', 'of', 'instanceof']);
const MODIFIERS = new Set(['static', 'async', 'get', 'set', 'public', 'private', 'protected', 'readonly', 'override', 'abstract', 'accessor', 'declare']);

function lineIndent(text: string, offset: number): number {
  const ls = text.lastIndexOf('\n', offset - 1) + 1;
  let col = 0;
  for (let j = ls; j < offset; j++) {
    const ch = text[j];
    if (ch === ' ') col++;
    else if (ch === '\t') col += 8 - (col % 8);
    else break;
  }
  return col;
}

/**
 * Where the comment directly above the header at `start` begins (a `/* … *\/` block, JSDoc
 * included, or a run of `//` lines, each starting its line; no blank line before the header),
 * or `start` when there is none. `after` is the end of the token before the header: the
 * comment must lie after it.
 */
function commentAbove(text: string, start: number, after: number): number {
  const lineStart = (at: number) => text.lastIndexOf('\n', at - 1) + 1;
  const blankBefore = (at: number) => /^[ \t]*$/.test(text.slice(lineStart(at), at));
  if (!blankBefore(start)) return start;
  let from = start;
  for (;;) {
    const ls = lineStart(from);
    if (ls === 0) return from;
    const prevStart = lineStart(ls - 1);
    const prevLine = text.slice(prevStart, ls - 1).replace(/\r$/, '');
    const trimmed = prevLine.trim();
    if (trimmed.startsWith('//')) {
      const at = prevStart + prevLine.indexOf('//');
      if (at < after) return from;
      from = at;
      continue;
    }
    if (trimmed.endsWith('*/')) {
      const close = prevStart + prevLine.lastIndexOf('*/');
      const open = text.lastIndexOf('/*', close - 1);
      if (open < 0 || open < after || !blankBefore(open) || text.slice(open + 2, close).includes('*/')) return from;
      from = open;
      continue;
    }
    return from;
  }
}

/** Every named function header in `text` with its body, in order. */
function jsFunctions(text: string): { fns: JsFunction[]; toks: JsTok[]; br: Brackets } {
  const toks = scanJs(text);
  const br = brackets(toks);
  const t = (i: number): JsTok | undefined => toks[i];
  const is = (i: number, s: string) => t(i)?.text === s && t(i)?.kind !== 'str';
  /** Skips `<…>` at i (generics); returns the index after it, or i when there is none. */
  const skipAngles = (i: number): number => {
    if (!is(i, '<')) return i;
    let d = 0;
    for (let j = i; j < toks.length; j++) {
      const x = toks[j] as JsTok;
      if (x.kind === 'open') {
        const m = br.match[j] as number;
        if (m < 0) return toks.length;
        j = m;
        continue;
      }
      if (x.text === '<') d++;
      else if (x.text === '>') d--;
      else if (x.text === '>>') d -= 2;
      else if (x.text === '>>>') d -= 3;
      else if (x.text === ';' || x.text === '{' || x.text === '=>') return i;
      if (d <= 0) return j + 1;
    }
    return toks.length;
  };
  /** From i, skips a type annotation (`: T`) up to a token in `stop` at this level; returns that token's index. */
  const skipType = (i: number, stop: (x: JsTok, prev: JsTok | undefined) => boolean): number => {
    let j = i;
    while (j < toks.length) {
      const x = toks[j] as JsTok;
      if (stop(x, t(j - 1))) return j;
      if (x.kind === 'open') {
        const m = br.match[j] as number;
        if (m < 0) return toks.length;
        j = m + 1;
        continue;
      }
      if (x.kind === 'close' || x.text === ';') return toks.length;
      j++;
    }
    return j;
  };
  /** After a parameter list's `)` at k: the body `{` of a function (return type skipped), or -1. */
  const bodyAfterParams = (k: number): number => {
    let j = k + 1;
    if (is(j, ':')) {
      // `{` is a body unless it is in type position (an object type: after `:`, `|`, `&`, `=>`, `<`, `,`).
      j = skipType(j + 1, (x, prev) => x.text === '{' && x.kind === 'open' && !(prev && [':', '|', '&', '=>', '<', ',', 'is', 'keyof', 'typeof'].includes(prev.text)));
    }
    return is(j, '{') && t(j)?.kind === 'open' ? j : -1;
  };
  /** After a parameter list's `)` at k of an arrow: the index of `=>`, or -1. */
  const arrowAfterParams = (k: number): number => {
    let j = k + 1;
    if (is(j, ':')) j = skipType(j + 1, (x) => x.text === '=>');
    return is(j, '=>') ? j : -1;
  };
  /** Walks back over `export`, `default`, `async`, `declare` in front of token i. */
  const headerStart = (i: number): number => {
    let s = i;
    while (s > 0 && ['async', 'export', 'default', 'declare'].includes(t(s - 1)?.text ?? '') && t(s - 1)?.kind === 'name') s--;
    return s;
  };
  const fns: JsFunction[] = [];
  const bodies = new Set<number>();
  const add = (name: string, startTok: number, body: number, arrow: number, exprBody: boolean) => {
    if (bodies.has(body)) return; // `const g = function f() {`: g, found first
    bodies.add(body);
    const start = (toks[startTok] as JsTok).start;
    const from = commentAbove(text, start, toks[startTok - 1]?.end ?? 0);
    fns.push({ name, from, header: start, indent: lineIndent(text, start), topLevel: br.depth[startTok] === 0, body, arrow, exprBody, open: false });
  };
  /** From i (after `=` and `async`): a function or arrow expression; adds it as `name`. */
  const functionValue = (name: string, startTok: number, i: number): void => {
    let j = i;
    if (is(j, 'async')) j++;
    if (is(j, 'function')) {
      j++;
      if (is(j, '*')) j++;
      if (t(j)?.kind === 'name') j++;
      j = skipAngles(j);
      if (!is(j, '(')) return;
      const k = br.match[j] as number;
      if (k < 0) return;
      const b = bodyAfterParams(k);
      if (b >= 0) add(name, startTok, b, -1, false);
      return;
    }
    let arrow = -1;
    if (t(j)?.kind === 'name' && is(j + 1, '=>')) arrow = j + 1;
    else {
      j = skipAngles(j);
      if (!is(j, '(')) return;
      const k = br.match[j] as number;
      if (k < 0) return;
      arrow = arrowAfterParams(k);
    }
    if (arrow < 0) return;
    const first = arrow + 1;
    if (is(first, '{') && t(first)?.kind === 'open') add(name, startTok, first, arrow, false);
    else add(name, startTok, first, arrow, true);
  };
  for (let i = 0; i < toks.length; i++) {
    const x = toks[i] as JsTok;
    if (x.kind !== 'name') continue;
    const prev = t(i - 1);
    if (prev && (prev.text === '.' || prev.text === '?.')) continue;
    if (x.text === 'function') {
      let j = i + 1;
      if (is(j, '*')) j++;
      const nameTok = t(j);
      if (nameTok?.kind !== 'name') continue; // anonymous
      j = skipAngles(j + 1);
      if (!is(j, '(')) continue;
      const k = br.match[j] as number;
      if (k < 0) continue;
      const b = bodyAfterParams(k);
      if (b >= 0) add(nameTok.text, headerStart(i), b, -1, false);
      continue;
    }
    if ((x.text === 'const' || x.text === 'let' || x.text === 'var') && t(i + 1)?.kind === 'name') {
      let j = i + 2;
      if (is(j, '!')) j++;
      if (is(j, ':')) j = skipType(j + 1, (y) => y.text === '=');
      if (!is(j, '=')) continue;
      functionValue((toks[i + 1] as JsTok).text, headerStart(i), j + 1);
      continue;
    }
    // Methods and class fields: only directly inside `{…}` (a class body or an object literal),
    // at the start of a member: after `{`, `;`, `,`, `}`, a modifier, `*`, or first on a line.
    if (br.depth[i] === 0 || NOT_METHOD.has(x.text)) continue;
    const container = br.parent[i] ?? -1;
    if (t(container)?.text !== '{') continue;
    const memberStart = !prev || prev.kind === 'open' || prev.kind === 'close' || prev.text === ';' || prev.text === ',' || prev.text === '*' || (prev.kind === 'name' && MODIFIERS.has(prev.text)) || x.lineFirst;
    if (!memberStart) continue;
    if (MODIFIERS.has(x.text) && t(i + 1)?.kind === 'name') continue; // `static foo(`: the name comes next
    let s = i;
    while (s > 0 && (MODIFIERS.has(t(s - 1)?.text ?? '') || t(s - 1)?.text === '*')) s--;
    let j = skipAngles(i + 1);
    if (is(j, '?') || is(j, '!')) j++;
    if (is(j, '(')) {
      // `name(…) {`: a method (a call followed by a block on the same statement is not valid code).
      const k = br.match[j] as number;
      if (k < 0) continue;
      const b = bodyAfterParams(k);
      if (b >= 0) add(x.text, s, b, -1, false);
    } else if (is(j, '=')) {
      functionValue(x.text, s, j + 1); // class field `name = (…) => {`
    } else if (is(j, ':')) {
      // `key: function (…) {` / `key: (…) =>` in an object literal, or a typed class field `name: T = …`.
      const eq = skipType(j + 1, (y) => y.text === '=' || y.text === ';');
      if (is(eq, '=')) functionValue(x.text, s, eq + 1);
      else functionValue(x.text, s, j + 1);
    }
  }
  for (const f of fns) f.open = bodyOpen(text, toks, br, f);
  return { fns, toks, br };
}

/** Whether f's body is still open at the end of the text its tokens came from. */
function bodyOpen(text: string, toks: readonly JsTok[], br: Brackets, f: JsFunction): boolean {
  if (!f.exprBody) return br.match[f.body] === -1;
  return exprBodyEnd(text, toks, br, f, 0) === undefined;
}

/**
 * Where an expression body (from token f.body, after `=>` at f.arrow) ends: the offset just
 * past its last character, or undefined when it runs to the end of the tokens. It ends
 * before a `,` or a closer at the arrow's level, after a `;` at that level, or before a line
 * that starts at the header's indentation or less. `minStart` (an offset) ignores earlier endings.
 */
function exprBodyEnd(text: string, toks: readonly JsTok[], br: Brackets, f: JsFunction, minStart: number): number | undefined {
  const level = br.depth[f.arrow] ?? 0;
  let last: JsTok | undefined;
  for (let j = f.body; j < toks.length; j++) {
    const x = toks[j] as JsTok;
    const d = br.depth[j] ?? 0;
    if (d < level || (x.kind === 'close' && d <= level)) return last ? last.end : x.start;
    if (d === level) {
      if (x.text === ';' && x.kind === 'punct' && x.start >= minStart) return x.end;
      if (x.text === ',' && x.kind === 'punct' && x.start >= minStart) return last ? last.end : x.start;
      if (j > f.body && x.lineFirst && x.start >= minStart && lineIndent(text, x.start) <= f.indent && x.kind !== 'punct' && x.kind !== 'close') return last ? last.end : x.start;
    }
    last = x;
  }
  return undefined;
}

function innermostOpen(fns: readonly JsFunction[]): JsFunction | undefined {
  let best: JsFunction | undefined;
  for (const f of fns) if (f.open && (!best || f.body >= best.body)) best = f;
  return best;
}

// ---- JavaScript / TypeScript: programs ---------------------------------------------------

const BUILTINS = new Set(builtinModules);
const isBuiltin = (spec: string) => spec.startsWith('node:') || BUILTINS.has(spec);

/** `{ a, b as c, type T }` → `{ a, b: c }` (undefined when nothing is left). */
function destructure(named: string): string | undefined {
  const parts = named
    .replace(/^\{|\}$/g, '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p && !/^type\s/.test(p))
    .map((p) => p.replace(/^([\w$]+)\s+as\s+([\w$]+)$/, '$1: $2'));
  return parts.length ? `{ ${parts.join(', ')} }` : undefined;
}

/**
 * The runnable part of a file's top-level imports (the text before the function): Node.js
 * built-ins only, as `require`. Exported for the tests.
 */
export function runnableJsImports(head: string): string {
  const out: { at: number; line: string }[] = [];
  const add = (at: number, line: string) => out.push({ at, line });
  // ES imports (one or several lines; the clause holds only names, braces, commas, `*`).
  const esImport = /^import[ \t]+(type[ \t]+)?([\w$\s,{}*]*?)[ \t\n]*from[ \t]*(['"])([^'"\n]+)\3[ \t]*;?/gm;
  for (let m = esImport.exec(head); m; m = esImport.exec(head)) {
    const [, typeOnly, clauseRaw, , spec] = m;
    if (typeOnly || !spec || !isBuiltin(spec)) continue;
    const clause = (clauseRaw ?? '').replace(/\s+/g, ' ').trim();
    const req = `require(${JSON.stringify(spec)})`;
    const star = /^\*\s*as\s+([\w$]+)$/.exec(clause);
    const def = /^([\w$]+)\s*(?:,\s*(\{.*\}|\*\s*as\s+[\w$]+))?$/.exec(clause);
    if (star) add(m.index, `const ${star[1]} = ${req};`);
    else if (clause.startsWith('{')) {
      const d = destructure(clause);
      if (d) add(m.index, `const ${d} = ${req};`);
    } else if (def) {
      add(m.index, `const ${def[1]} = ${req};`);
      const rest = def[2];
      if (rest?.startsWith('{')) {
        const d = destructure(rest);
        if (d) add(m.index, `const ${d} = ${def[1]};`);
      } else if (rest) add(m.index, `const ${rest.replace(/^\*\s*as\s+/, '')} = ${def[1]};`);
    }
  }
  // TypeScript `import x = require('fs')`.
  const tsImport = /^(?:export[ \t]+)?import[ \t]+([\w$]+)[ \t]*=[ \t]*require\([ \t]*(['"])([^'"\n]+)\2[ \t]*\)[ \t]*;?/gm;
  for (let m = tsImport.exec(head); m; m = tsImport.exec(head)) if (m[3] && isBuiltin(m[3])) add(m.index, `const ${m[1]} = require(${JSON.stringify(m[3])});`);
  // CommonJS `const x = require('fs')`, `const { a } = require('node:fs')`, `.promises` and the like.
  const cjs = /^(?:const|let|var)[ \t]+([\w$]+|\{[\w$\s,:]*\})[ \t]*=[ \t]*require\([ \t]*(['"])([^'"\n]+)\2[ \t]*\)(\.[\w$]+)?[ \t]*;?/gm;
  for (let m = cjs.exec(head); m; m = cjs.exec(head)) if (m[3] && isBuiltin(m[3])) add(m.index, `const ${m[1]?.replace(/\s+/g, ' ')} = require(${JSON.stringify(m[3])})${m[4] ?? ''};`);
  return out
    .sort((a, b) => a.at - b.at)
    .map((l) => l.line)
    .join('\n');
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/** Suffix lengths tried in turn: the function usually closes soon after the cursor, and scanning a prefix of the text finds the same tokens. */
const SUFFIX_STEPS = [2000, 16_000, Infinity];

function jsProgram(prefix: string, fn: EnclosingFunction, candidate: string, suffix: string): string | undefined {
  const head = prefix.slice(fn.from);
  const own = head + candidate;
  for (const step of SUFFIX_STEPS) {
    const more = suffix.slice(0, step);
    // The header found again, in the text from its start.
    const text = own + more;
    const { fns, toks, br } = jsFunctions(text);
    const f = fns.find((x) => x.from === 0 && x.name === fn.name && x.topLevel);
    if (!f) return undefined;
    let end: number | undefined;
    if (f.exprBody) end = exprBodyEnd(text, toks, br, f, 0);
    else {
      const close = br.match[f.body] as number;
      if (close >= 0) end = (toks[close] as JsTok).end;
    }
    if (end !== undefined && end <= head.length) return undefined; // closed before the cursor: not this function
    // Cut in the candidate, or up to the closer in the suffix.
    if (end !== undefined) return withImports(prefix, fn, text.slice(0, end), f.header);
    if (more.length === suffix.length) {
      // Neither the candidate nor the suffix closes it: close what is open, innermost first.
      const ownToks = scanJs(own);
      const firstOwn = f.exprBody ? f.arrow + 1 : f.body;
      const closers = brackets(ownToks)
        .unclosed.filter((o) => o >= firstOwn)
        .reverse()
        .map((o) => CLOSER[ownToks[o]?.text ?? ''] ?? '')
        .join('');
      return withImports(prefix, fn, `${own.replace(/\s+$/, '')}${closers ? `\n${closers}` : ''}`, f.header);
    }
  }
  return undefined;
}

/** The runnable imports, then the function's text with `export` / `export default` removed from its header. */
function withImports(prefix: string, fn: EnclosingFunction, text: string, header: number): string {
  const body = text.slice(0, header) + text.slice(header).replace(/^export\s+(?:default\s+)?/, '');
  const imports = runnableJsImports(prefix.slice(0, fn.from));
  return `${imports}${imports ? '\n\n' : ''}${body}\n`;
}

// ---- TypeScript: type stripping ---------------------------------------------------------------

type Amaro = typeof import('amaro');
let amaro: Amaro | null | undefined;
let amaroError: string | undefined;

function loadAmaro(): Amaro | null {
  if (amaro === undefined) {
    try {
      // Loaded on first use: its swc compiled to WebAssembly costs ~70 ms and some memory.
      amaro = require('amaro') as Amaro;
    } catch (e) {
      amaro = null;
      amaroError = e instanceof Error ? e.message : String(e);
    }
  }
  return amaro;
}

/** Whether `stripTypes` can work here (amaro loads); the reason when it cannot. */
export function typeStripper(): { ok: true } | { ok: false; reason: string } {
  return loadAmaro() ? { ok: true } : { ok: false, reason: `amaro did not load: ${amaroError ?? 'unknown error'}` };
}

interface SwcError {
  code?: string;
  message?: string;
  startLine?: number;
  startColumn?: number;
}

function swcError(e: unknown): Error {
  if (e instanceof Error) return e;
  const s = (e ?? {}) as SwcError;
  const where = s.startLine !== undefined ? ` (line ${s.startLine}${s.startColumn !== undefined ? `:${s.startColumn + 1}` : ''})` : '';
  const message = `${s.message ?? String(e)}${where}`;
  return s.code === 'UnsupportedSyntax' ? Object.assign(new SyntaxError(`unsupported TypeScript: ${message}`), { code: s.code }) : Object.assign(new SyntaxError(message), { code: s.code ?? 'InvalidSyntax' });
}

/**
 * TypeScript to JavaScript, types erased, with amaro (Node.js's own type stripper: swc
 * compiled to WebAssembly). Types are replaced by spaces, so lines and columns stay those of
 * the TypeScript. Syntax that needs code generated (`enum`, `namespace`, parameter
 * properties, `<T>x` assertions) is transformed instead (positions then move) unless
 * `stripOnly`. Throws a SyntaxError (message with the line) when the source does not parse.
 */
export function stripTypes(ts: string, opts: { stripOnly?: boolean } = {}): string {
  const a = loadAmaro();
  if (!a) throw new Error(`TypeScript type stripping is unavailable: ${amaroError ?? 'amaro did not load'}`);
  try {
    return a.transformSync(ts, { mode: 'strip-only' }).code;
  } catch (e) {
    const err = swcError(e);
    if ((err as { code?: string }).code !== 'UnsupportedSyntax' || opts.stripOnly) throw err;
  }
  try {
    return a.transformSync(ts, { mode: 'transform', sourceMap: false }).code;
  } catch (e) {
    throw swcError(e);
  }
}

const TEST_OPEN = '(async () => {\n';
const TEST_CLOSE = '\n})';

/**
 * A test body (statements run as the body of an async function: `await` and `return` allowed)
 * with its types stripped.
 */
export function stripTestTypes(ts: string): string {
  const out = stripTypes(`${TEST_OPEN}${ts}${TEST_CLOSE}`, { stripOnly: true });
  if (!out.startsWith(TEST_OPEN) || !out.endsWith(TEST_CLOSE)) throw new SyntaxError('type stripping changed the test wrapper');
  return out.slice(TEST_OPEN.length, out.length - TEST_CLOSE.length);
}
