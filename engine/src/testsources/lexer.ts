/**
 * A small tokenizer and expression recognizer for Python and JavaScript/TypeScript snippets:
 * enough to find where a call or a literal ends inside prose (docstrings, comments), to
 * check that an example only uses literals, and to give model-written asserts a light
 * syntactic check. Pure functions, no I/O; nothing is ever evaluated.
 */

export type Lang = 'python' | 'js';

export type TokKind = 'name' | 'number' | 'string' | 'op' | 'open' | 'close' | 'nl' | 'comment' | 'error' | 'eof';

export interface Tok {
  kind: TokKind;
  text: string;
  start: number;
  end: number;
}

export const langOf = (languageId: string): Lang => (languageId === 'python' ? 'python' : 'js');

const PY_OPS = ['**=', '//=', '>>=', '<<=', '...', '->', ':=', '**', '//', '==', '!=', '<=', '>=', '<<', '>>', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '@='];
const JS_OPS = ['>>>=', '===', '!==', '**=', '...', '>>>', '<<=', '>>=', '&&=', '||=', '??=', '=>', '==', '!=', '<=', '>=', '**', '&&', '||', '??', '?.', '<<', '>>', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^='];
const SINGLE_OPS = '+-*/%@&|^~<>,:;.=!?';
const NAME_START = /[\p{L}_$]/u;
const NAME_PART = /[\p{L}\p{N}_$]/u;
const PY_STRING_PREFIX = /^(?:[rRuUbBfF]|[rR][bBfF]|[bBfF][rR])(?=['"])/;

/** Reads one token at `pos`, skipping spaces and tabs (not newlines). */
export function lexAt(text: string, pos: number, lang: Lang): Tok {
  let i = pos;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\f' || text[i] === '\r')) i++;
  if (i >= text.length) return { kind: 'eof', text: '', start: i, end: i };
  const c = text[i] as string;
  const tok = (kind: TokKind, end: number): Tok => ({ kind, text: text.slice(i, end), start: i, end });
  if (c === '\n') return tok('nl', i + 1);
  // A backslash at the end of a line joins it with the next (both languages allow it in strings only, Python anywhere).
  if (c === '\\' && text[i + 1] === '\n' && lang === 'python') return lexAt(text, i + 2, lang);
  if (lang === 'python' && c === '#') return tok('comment', lineEnd(text, i));
  if (lang === 'js' && c === '/' && text[i + 1] === '/') return tok('comment', lineEnd(text, i));
  if (lang === 'js' && c === '/' && text[i + 1] === '*') {
    const close = text.indexOf('*/', i + 2);
    return close < 0 ? tok('error', text.length) : tok('comment', close + 2);
  }
  if (lang === 'python') {
    const prefix = PY_STRING_PREFIX.exec(text.slice(i, i + 3));
    if (prefix) return readString(text, i, i + prefix[0].length, lang);
  }
  if (c === '"' || c === "'" || (c === '`' && lang === 'js')) return readString(text, i, i, lang);
  if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(text[i + 1] ?? ''))) return tok('number', readNumber(text, i, lang));
  if (NAME_START.test(c) && !(c === '$' && lang === 'python')) {
    let j = i + 1;
    while (j < text.length && NAME_PART.test(text[j] as string) && !(text[j] === '$' && lang === 'python')) j++;
    return tok('name', j);
  }
  if (c === '(' || c === '[' || c === '{') return tok('open', i + 1);
  if (c === ')' || c === ']' || c === '}') return tok('close', i + 1);
  for (const op of lang === 'python' ? PY_OPS : JS_OPS) if (text.startsWith(op, i)) return tok('op', i + op.length);
  if (SINGLE_OPS.includes(c)) return tok('op', i + 1);
  return tok('error', i + 1);
}

function lineEnd(text: string, i: number): number {
  const nl = text.indexOf('\n', i);
  return nl < 0 ? text.length : nl;
}

function readString(text: string, start: number, quoteAt: number, lang: Lang): Tok {
  const q = text[quoteAt] as string;
  const triple = lang === 'python' && text.startsWith(q.repeat(3), quoteAt);
  let j = quoteAt + (triple ? 3 : 1);
  while (j < text.length) {
    const ch = text[j];
    if (ch === '\\') {
      j += 2;
      continue;
    }
    if (triple ? text.startsWith(q.repeat(3), j) : ch === q) {
      const end = j + (triple ? 3 : 1);
      return { kind: 'string', text: text.slice(start, end), start, end };
    }
    if (ch === '\n' && !triple && q !== '`') break;
    j++;
  }
  return { kind: 'error', text: text.slice(start, j), start, end: j };
}

function readNumber(text: string, i: number, lang: Lang): number {
  const rest = text.slice(i);
  const m =
    /^0[xX][0-9a-fA-F_]+n?|^0[bB][01_]+n?|^0[oO][0-7_]+n?/.exec(rest) ??
    (lang === 'python'
      ? /^(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?[jJ]?/.exec(rest)
      : /^(?:[0-9][0-9_]*\.?[0-9_]*|\.[0-9][0-9_]*)(?:[eE][+-]?[0-9_]+)?n?/.exec(rest));
  return i + (m ? m[0].length : 1);
}

const CLOSER: Record<string, string> = { '(': ')', '[': ']', '{': '}' };

/**
 * From an opening bracket at `open`, returns the index just past its matching closer, with
 * strings and comments skipped and newlines allowed; -1 when unbalanced or a string is broken.
 */
export function matchBracket(text: string, open: number, lang: Lang): number {
  const stack: string[] = [];
  let pos = open;
  for (;;) {
    const t = lexAt(text, pos, lang);
    if (t.kind === 'eof' || t.kind === 'error') return -1;
    if (t.kind === 'open') stack.push(CLOSER[t.text] as string);
    else if (t.kind === 'close') {
      if (stack.pop() !== t.text) return -1;
      if (stack.length === 0) return t.end;
    } else if (stack.length === 0) return -1;
    pos = t.end;
  }
}

/** Every token of `text` (newlines and comments included); null when a string is unterminated or a character is unknown. */
export function tokenize(text: string, lang: Lang): Tok[] | null {
  const out: Tok[] = [];
  let pos = 0;
  for (;;) {
    const t = lexAt(text, pos, lang);
    if (t.kind === 'eof') return out;
    if (t.kind === 'error') return null;
    out.push(t);
    pos = t.end;
  }
}

/** Brackets balanced and properly nested. */
export function bracketsBalanced(toks: readonly Tok[]): boolean {
  const stack: string[] = [];
  for (const t of toks) {
    if (t.kind === 'open') stack.push(CLOSER[t.text] as string);
    else if (t.kind === 'close' && stack.pop() !== t.text) return false;
  }
  return stack.length === 0;
}

/**
 * One-line form of an expression: comments dropped, every run of whitespace outside strings
 * (newlines included) becomes one space, and none is kept just inside brackets. Null when the
 * text does not tokenize.
 */
export function oneLine(text: string, lang: Lang): string | null {
  const toks = tokenize(text, lang);
  if (!toks) return null;
  let out = '';
  let prev: Tok | undefined;
  for (const t of toks) {
    if (t.kind === 'nl' || t.kind === 'comment') continue;
    if (prev && t.start > prev.end && prev.kind !== 'open' && t.kind !== 'close' && t.text !== ',') out += ' ';
    out += t.text;
    prev = t;
  }
  return out;
}

/** Key for deduplicating expressions: tokens joined by one space (layout ignored). */
export function tokenKey(text: string, lang: Lang): string | null {
  const toks = tokenize(text, lang);
  if (!toks) return null;
  return toks
    .filter((t) => t.kind !== 'nl' && t.kind !== 'comment')
    .map((t) => t.text)
    .join(' ');
}

// ---------------------------------------------------------------------------------------------
// Literal expressions: what a docstring may give as an argument or an expected value.

const PY_CONSTANTS = new Set(['True', 'False', 'None']);
const JS_CONSTANTS = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity']);
/** Constructors allowed inside a literal: `float('inf')`, `set()`, `new Set([1])` and the like. */
const PY_LITERAL_CALLS = new Set(['set', 'frozenset', 'tuple', 'list', 'dict', 'float', 'int', 'str', 'complex', 'bytes', 'bytearray', 'range']);
const JS_LITERAL_CALLS = new Set(['Set', 'Map', 'Array', 'Number', 'String', 'BigInt', 'Symbol', 'Date']);

export interface ParsedExpr {
  /** Index just past the expression. */
  end: number;
  /** The kind of the last atom read: a number's trailing dot may be punctuation. */
  lastTok: Tok;
  /** A lone number (with an optional sign): what a float tolerance applies to. */
  isNumber: boolean;
}

class LiteralParser {
  private depth = 0;
  last: Tok | undefined;
  atoms = 0;
  onlyNumber = true;

  constructor(
    private readonly text: string,
    public pos: number,
    private readonly lang: Lang,
    private readonly maxPos: number,
  ) {}

  /** Next significant token; newlines (and comments) are skipped inside brackets only. */
  peek(): Tok {
    let p = this.pos;
    for (;;) {
      const t = lexAt(this.text, p, this.lang);
      if (t.end > this.maxPos && t.kind !== 'eof') return { kind: 'eof', text: '', start: p, end: p };
      if (this.depth > 0 && (t.kind === 'nl' || t.kind === 'comment')) {
        p = t.end;
        continue;
      }
      return t;
    }
  }

  take(): Tok {
    const t = this.peek();
    this.pos = t.end;
    this.last = t;
    return t;
  }

  expr(): boolean {
    if (!this.unary()) return false;
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && BINOPS[this.lang].has(t.text)) {
        const save = this.pos;
        const saveLast = this.last;
        this.take();
        this.onlyNumber = false;
        if (!this.unary()) {
          this.pos = save;
          this.last = saveLast;
          return true;
        }
        continue;
      }
      return true;
    }
  }

  private unary(): boolean {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '-' || t.text === '+' || (t.text === '~' && this.lang === 'python'))) {
      this.take();
      return this.unary();
    }
    if (this.lang === 'js' && t.kind === 'name' && t.text === 'new') {
      this.take();
      this.onlyNumber = false;
      const name = this.take();
      if (name.kind !== 'name' || !JS_LITERAL_CALLS.has(name.text)) return false;
      return this.peek().text === '(' ? this.group('(') : true;
    }
    return this.atom();
  }

  private atom(): boolean {
    const t = this.take();
    this.atoms++;
    if (t.kind === 'number') return true;
    this.onlyNumber = false;
    if (t.kind === 'string') {
      if (this.lang === 'python' && /^[a-zA-Z]*[fF]/.test(t.text)) return false; // f-strings interpolate names
      if (this.lang === 'js' && t.text.startsWith('`') && t.text.includes('${')) return false;
      // Adjacent string literals concatenate (Python).
      while (this.lang === 'python' && this.peek().kind === 'string') this.take();
      return true;
    }
    if (t.kind === 'name') {
      if ((this.lang === 'python' ? PY_CONSTANTS : JS_CONSTANTS).has(t.text)) return true;
      if ((this.lang === 'python' ? PY_LITERAL_CALLS : JS_LITERAL_CALLS).has(t.text) && this.peek().text === '(') return this.group('(');
      return false;
    }
    if (t.kind === 'open') return this.groupBody(t.text);
    return false;
  }

  private group(open: string): boolean {
    const t = this.take();
    return t.text === open && this.groupBody(open);
  }

  /** After an opening bracket: comma-separated items (dict items in braces), then the closer. */
  private groupBody(open: string): boolean {
    const close = CLOSER[open] as string;
    this.depth++;
    for (;;) {
      if (this.peek().text === close) break;
      if (open === '{') {
        if (this.lang === 'js' && (this.peek().kind === 'name' || this.peek().kind === 'string' || this.peek().kind === 'number')) {
          // Object key: a bare name, a string or a number, then ':'.
          this.take();
          if (this.take().text !== ':') return false;
          if (!this.expr()) return false;
        } else {
          if (!this.expr()) return false;
          if (this.peek().text === ':') {
            this.take();
            if (!this.expr()) return false;
          }
        }
      } else if (!this.expr()) return false;
      const sep = this.peek();
      if (sep.text === ',') {
        this.take();
        continue;
      }
      if (sep.text === close) break;
      return false;
    }
    this.take();
    this.depth--;
    return true;
  }
}

const BINOPS: Record<Lang, Set<string>> = {
  python: new Set(['+', '-', '*', '/', '//', '%', '**', '@']),
  js: new Set(['+', '-', '*', '/', '%', '**']),
};

/**
 * Reads a literal expression (numbers, strings, constants, lists/tuples/dicts/sets of them,
 * arithmetic on them, a few constructors) starting at `pos`; no free names, no calls of
 * anything else. Returns where it ends, or null. It may span lines only inside brackets.
 */
export function parseLiteral(text: string, pos: number, lang: Lang, maxPos = text.length): ParsedExpr | null {
  const p = new LiteralParser(text, pos, lang, maxPos);
  if (!p.expr() || !p.last) return null;
  return { end: p.pos, lastTok: p.last, isNumber: p.onlyNumber && p.atoms === 1 };
}

/** The whole of `text` is one literal expression. */
export function isLiteral(text: string, lang: Lang): boolean {
  const r = parseLiteral(text, 0, lang);
  return r !== null && lexAt(text, r.end, lang).kind === 'eof';
}

// ---------------------------------------------------------------------------------------------
// Names an example's call may use.

const PY_KEYWORDS = new Set(['and', 'or', 'not', 'in', 'is', 'if', 'else', 'for', 'lambda', 'True', 'False', 'None']);
const JS_KEYWORDS = new Set(['true', 'false', 'null', 'undefined', 'NaN', 'Infinity', 'new', 'typeof', 'void', 'in', 'of', 'instanceof']);
const PY_BUILTINS = new Set([
  'abs', 'all', 'any', 'bool', 'bytes', 'chr', 'complex', 'dict', 'divmod', 'enumerate', 'filter', 'float', 'frozenset', 'int',
  'isinstance', 'len', 'list', 'map', 'max', 'min', 'ord', 'pow', 'range', 'repr', 'reversed', 'round', 'set', 'sorted', 'str',
  'sum', 'tuple', 'type', 'zip',
]);
const JS_BUILTINS = new Set(['Math', 'JSON', 'Number', 'String', 'Array', 'Object', 'Boolean', 'Set', 'Map', 'BigInt', 'Date', 'Symbol', 'parseInt', 'parseFloat']);

export interface NameCheck {
  /** Every name is the entry point, a builtin, a constant, an attribute, a keyword argument or a bound variable. */
  closed: boolean;
  /** The entry point is called (`ep(`, not `x.ep(`). */
  callsEntry: boolean;
}

/** Checks the names used by an expression (an example's call, a model-written assert). */
export function checkNames(text: string, entryPoint: string, lang: Lang, extraAllowed: ReadonlySet<string> = new Set()): NameCheck | null {
  const toks = tokenize(text, lang);
  if (!toks) return null;
  const sig = toks.filter((t) => t.kind !== 'nl' && t.kind !== 'comment');
  const bound = new Set<string>();
  // Comprehension targets (`for x, y in`), lambda parameters (`lambda a, b:`), arrow parameters.
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Tok;
    if (lang === 'python' && (t.text === 'for' || t.text === 'lambda') && t.kind === 'name') {
      const stop = t.text === 'for' ? 'in' : ':';
      for (let j = i + 1; j < sig.length && (sig[j] as Tok).text !== stop; j++) if ((sig[j] as Tok).kind === 'name') bound.add((sig[j] as Tok).text);
    }
    if (lang === 'js' && t.text === '=>') {
      const prev = sig[i - 1];
      if (prev?.kind === 'name') bound.add(prev.text);
      else if (prev?.text === ')') {
        for (let j = i - 2, d = 0; j >= 0; j--) {
          const u = sig[j] as Tok;
          if (u.text === ')') d++;
          if (u.text === '(') {
            if (d === 0) break;
            d--;
          }
          if (u.kind === 'name') bound.add(u.text);
        }
      }
    }
  }
  let closed = true;
  let callsEntry = false;
  const keywords = lang === 'python' ? PY_KEYWORDS : JS_KEYWORDS;
  const builtins = lang === 'python' ? PY_BUILTINS : JS_BUILTINS;
  let depth = 0;
  for (let i = 0; i < sig.length; i++) {
    const t = sig[i] as Tok;
    if (t.kind === 'open') depth++;
    if (t.kind === 'close') depth--;
    if (t.kind !== 'name') continue;
    const prev = sig[i - 1];
    const next = sig[i + 1];
    const isAttr = prev?.text === '.' || prev?.text === '?.';
    if (t.text === entryPoint && !isAttr && next?.text === '(') callsEntry = true;
    if (isAttr || t.text === entryPoint || keywords.has(t.text) || builtins.has(t.text) || bound.has(t.text) || extraAllowed.has(t.text)) continue;
    // Keyword argument `f(x=1)` (Python) or object key `{a: 1}` (JS).
    if (depth > 0 && lang === 'python' && next?.text === '=') continue;
    if (depth > 0 && lang === 'js' && next?.text === ':' && (prev?.text === '{' || prev?.text === ',')) continue;
    closed = false;
  }
  return { closed, callsEntry };
}
