/**
 * Tests from the docstring or comment above the cursor: the examples a developer wrote for the
 * function being completed, turned into asserts. Pure functions, no I/O, nothing evaluated.
 *
 * Where the text comes from (`prompt` is the document before the cursor):
 * - Python: the docstring of the last `def <entryPoint>(` in the prompt (the first triple-quoted
 *   string of its body, even after other statements; to the end of the prompt when the cursor
 *   is still inside it), the `#` comment block just above the `def` (decorators skipped) and one
 *   at the start of the body.
 * - JavaScript/TypeScript: the comment just above the last declaration of the entry point
 *   (`function f(`, `const f = (…) =>`, `const f = x =>`, `f(…) {` as a method), a JSDoc block or
 *   a run of `//` lines, and a comment at the start of its body.
 * - When the entry point has no definition in the prompt: the last docstring or comment in it.
 *
 * Forms understood (only examples that call the entry point are kept, and only when their
 * arguments and expected values are literals: no free names):
 * - doctest: `>>> f(x)` with `...` continuation lines, then the expected output up to a blank
 *   line or the next `>>>` (several lines are joined); no output means `None`; a `>>> f(x) == y`
 *   line without output (a common HumanEval slip) is read as `f(x) == y`; `>>> print(f(x))`
 *   compares `str(f(x))` with the printed text; tracebacks are skipped.
 * - informal, anywhere in a line: `f(x) == y`, `===`, `==>`, `=>`, `->`, `-->`, `➞`, `→`, `=`,
 *   `returns y`, `should return y`, `should be y`, `# returns y`, `# => y`, `// => y`; chains such as
 *   `f(x) == 1 + 9 = 10` keep the last value; `true`/`false`/`null` become Python's constants.
 * - "For x = …, y = … the output should be …" (also "the result should be", "should return").
 * - "Input: … Output: …" blocks (named or positional inputs, also one `name : value` a line),
 *   and a parameter assignment line (`arr = [...]`) followed by `return …` in the same paragraph;
 *   inputs are mapped onto the signature's parameters by name, else by position when the counts
 *   agree.
 * - JSDoc `@example` sections: `f(x) // => y`, `f(x) // returns y`, `f(x); // y`, a `// => y` on
 *   the next line, and the informal forms.
 * - test-framework calls: `assertEqual(f(x), y)`, `assert.deepStrictEqual(f(x), y)`,
 *   `expect(f(x)).toBe(y)` / `.toEqual(y)`.
 *
 * A run of consecutive lines that also defines the function by a recurrence (`fib(n) -> fib(n-1)
 * + …`: a call with a free name, and the function applied to `name ± …` on the right) is a definition of a
 * sequence, not a list of examples: the literal lines of that run are dropped too (HumanEval's
 * `fib4`, `fibfib`, `tri`).
 *
 * `Example.call` and `Example.expected` are single-line source expressions in the document's
 * language; `line` is the 1-based line of the prompt where the example starts.
 */

import { bracketsBalanced, checkNames, isLiteral, langOf, lexAt, matchBracket, oneLine, parseLiteral, tokenize, type Lang, type Tok } from './lexer';

export type DocLanguage = 'python' | 'javascript' | 'typescript';

export interface Example {
  call: string;
  expected: string;
  source: 'doctest' | 'informal' | 'jsdoc';
  /**
   * How it was written: `doctest` (`>>>` and the output below), `operator` (`f(x) == y`,
   * `➞`, `=>`, `->`, `→`), `prose` ("should return", "returns", "the output is"), `framework`
   * (`assertEqual(f(x), y)`, `expect(f(x)).toBe(y)`), `assignment` (`f(x) = y`), `sentence`
   * ("For x = …, the output should be …"), `block` (`Input:` / `Output:` lines, `param =`
   * paragraphs). `winnow bench` reports a figure without the last two and `assignment`.
   */
  form: ExampleForm;
  line: number;
}

export type ExampleForm = 'doctest' | 'operator' | 'prose' | 'framework' | 'assignment' | 'sentence' | 'block';

/** The forms most readers of docstring examples understand (see Example.form). */
export const COMMON_FORMS: readonly ExampleForm[] = ['doctest', 'operator', 'prose', 'framework', 'sentence'];

export interface Param {
  /** Null for a destructured parameter. */
  name: string | null;
  optional: boolean;
}

interface VLine {
  text: string;
  /** 1-based line of the prompt. */
  line: number;
}

interface Region {
  kind: 'docstring' | 'comment' | 'jsdoc';
  lines: VLine[];
  /** Not closed before the cursor: its last lines are still being typed. */
  open?: boolean;
}

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

// ---------------------------------------------------------------------------------------------
// Regions

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return starts;
}

function lineAt(starts: readonly number[], offset: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((starts[mid] as number) <= offset) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const indentOf = (l: string): number => l.length - l.trimStart().length;

/** Text between an opening triple quote at `open` and its closer (or the end of the prompt). */
function docstringRegion(prompt: string, starts: readonly number[], open: number, quote: string): Region {
  const bodyStart = open + quote.length;
  const close = prompt.indexOf(quote, bodyStart);
  const body = prompt.slice(bodyStart, close < 0 ? prompt.length : close);
  const first = lineAt(starts, bodyStart);
  return { kind: 'docstring', lines: body.split('\n').map((text, i) => ({ text, line: first + i + 1 })), open: close < 0 };
}

function commentLinesRegion(lines: readonly string[], from: number, to: number, marker: RegExp): Region {
  const out: VLine[] = [];
  for (let i = from; i <= to; i++) out.push({ text: (lines[i] ?? '').replace(marker, ''), line: i + 1 });
  return { kind: 'comment', lines: out };
}

function blockCommentRegion(lines: readonly string[], from: number, to: number): Region {
  const jsdoc = (lines[from] ?? '').trimStart().startsWith('/**');
  const out: VLine[] = [];
  for (let i = from; i <= to; i++) {
    let t = lines[i] ?? '';
    if (i === from) t = t.replace(/^\s*\/\*\*?/, '');
    if (i === to) t = t.replace(/\*\/.*$/, '');
    else if (i !== from) t = t.replace(/^\s*\* ?/, '');
    if (i === to && i !== from) t = t.replace(/^\s*\* ?/, '');
    out.push({ text: t, line: i + 1 });
  }
  return { kind: jsdoc ? 'jsdoc' : 'comment', lines: out };
}

/** The comment block that ends on line `end` (0-based), if that line ends one. */
function commentEndingAt(lines: readonly string[], end: number, lang: Lang): Region | null {
  const t = (lines[end] ?? '').trim();
  if (lang === 'python' && t.startsWith('#')) {
    let from = end;
    while (from > 0 && (lines[from - 1] ?? '').trim().startsWith('#')) from--;
    return commentLinesRegion(lines, from, end, /^\s*# ?/);
  }
  if (lang === 'js' && t.startsWith('//')) {
    let from = end;
    while (from > 0 && (lines[from - 1] ?? '').trim().startsWith('//')) from--;
    return commentLinesRegion(lines, from, end, /^\s*\/\/ ?/);
  }
  if (lang === 'js' && t.endsWith('*/')) {
    let from = end;
    while (from >= 0 && !(lines[from] ?? '').includes('/*')) from--;
    if (from < 0) return null;
    return blockCommentRegion(lines, from, end);
  }
  return null;
}

/** The comment just above line `declLine`, skipping decorators. */
function commentAbove(lines: readonly string[], declLine: number, lang: Lang): Region | null {
  let end = declLine - 1;
  while (end >= 0 && /^\s*@/.test(lines[end] ?? '')) end--;
  return end >= 0 ? commentEndingAt(lines, end, lang) : null;
}

/** A comment starting on line `from` (0-based) or after blank lines. */
function commentStartingAt(lines: readonly string[], from: number, lang: Lang): Region | null {
  let i = from;
  while (i < lines.length && (lines[i] ?? '').trim() === '') i++;
  const t = (lines[i] ?? '').trim();
  const marker = lang === 'python' ? '#' : '//';
  if (t.startsWith(marker)) {
    let to = i;
    while (to + 1 < lines.length && (lines[to + 1] ?? '').trim().startsWith(marker)) to++;
    return commentLinesRegion(lines, i, to, lang === 'python' ? /^\s*# ?/ : /^\s*\/\/ ?/);
  }
  if (lang === 'js' && t.startsWith('/*')) {
    let to = i;
    while (to < lines.length && !(lines[to] ?? '').includes('*/')) to++;
    return blockCommentRegion(lines, i, Math.min(to, lines.length - 1));
  }
  return null;
}

/** Parameters of a parenthesized list `(a, b=1, *args)` whose '(' is at `open`. */
function parseParams(text: string, open: number, lang: Lang): Param[] | null {
  const close = matchBracket(text, open, lang);
  if (close < 0) return null;
  const inner = text.slice(open + 1, close - 1);
  const pieces: string[] = [];
  let depth = 0;
  let cur = '';
  const toks = tokenize(inner, lang);
  if (!toks) return null;
  let last = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    if (t.kind === 'close') depth--;
    if (t.kind === 'op' && t.text === ',' && depth === 0) {
      cur += inner.slice(last, t.start);
      pieces.push(cur);
      cur = '';
      last = t.end;
    }
  }
  cur += inner.slice(last);
  if (cur.trim() !== '') pieces.push(cur);
  const params: Param[] = [];
  for (const raw of pieces) {
    const p = raw.trim().replace(/^#.*$/gm, '').trim();
    if (p === '' || p === '/' || p === '*') continue;
    if (/^\*/.test(p) || /^\.\.\./.test(p)) break; // varargs: no more positional names
    const name = /^([\p{L}_$][\p{L}\p{N}_$]*)/u.exec(p)?.[1] ?? null;
    const optional = /=/.test(p.replace(/==|=>|!=|<=|>=/g, '')) || (lang === 'js' && /^[\p{L}_$][\p{L}\p{N}_$]*\?/u.test(p));
    params.push({ name, optional });
  }
  if (lang === 'python' && (params[0]?.name === 'self' || params[0]?.name === 'cls')) params.shift();
  return params;
}

interface Located {
  regions: Region[];
  params: Param[] | null;
}

function locatePython(prompt: string, ep: string): Located {
  const lines = prompt.split('\n');
  const starts = lineStarts(prompt);
  const defRe = new RegExp(`^([ \\t]*)(?:async[ \\t]+)?def[ \\t]+${escapeRe(ep)}[ \\t]*\\(`, 'gm');
  let m: RegExpExecArray | null;
  let last: RegExpExecArray | null = null;
  while ((m = defRe.exec(prompt))) last = m;
  if (!last) return { regions: fallbackRegions(prompt, 'python'), params: null };
  const defLine = lineAt(starts, last.index);
  const defIndent = (last[1] ?? '').length;
  const open = last.index + last[0].length - 1;
  const params = parseParams(prompt, open, 'python');
  const close = matchBracket(prompt, open, 'python');
  const regions: Region[] = [];
  const above = commentAbove(lines, defLine, 'python');
  if (above) regions.push(above);
  // The header ends at the ':' after the parameters (a return annotation may come first).
  let headerEnd = defLine;
  if (close > 0) {
    const colon = prompt.indexOf(':', close);
    headerEnd = lineAt(starts, colon < 0 ? close : colon);
  }
  const bodyComment = commentStartingAt(lines, headerEnd + 1, 'python');
  if (bodyComment) regions.push(bodyComment);
  for (let i = headerEnd + 1; i < lines.length; i++) {
    const l = lines[i] ?? '';
    if (l.trim() === '') continue;
    if (indentOf(l) <= defIndent) break;
    const q = /^[ \t]*(?:[rRuU])?("""|''')/.exec(l);
    if (q) {
      regions.push(docstringRegion(prompt, starts, (starts[i] as number) + q[0].length - 3, q[1] as string));
      break;
    }
  }
  return { regions, params };
}

function locateJs(prompt: string, ep: string): Located {
  const lines = prompt.split('\n');
  const starts = lineStarts(prompt);
  const e = escapeRe(ep);
  const patterns = [
    new RegExp(`\\bfunction\\b[ \\t]*\\*?[ \\t]*${e}[ \\t]*(?:<[^>\\n]*>)?[ \\t]*\\(`, 'g'),
    new RegExp(`\\b(?:const|let|var)[ \\t]+${e}[ \\t]*(?::[^=\\n]+)?=[ \\t]*(?:async[ \\t]*)?(?:function\\b[^(\\n]*)?\\(`, 'g'),
    new RegExp(`^[ \\t]*(?:(?:public|private|protected|static|async|export|default|override)[ \\t]+)*${e}[ \\t]*(?:<[^>\\n]*>)?\\(`, 'gm'),
  ];
  let best: { index: number; open: number } | null = null;
  for (const re of patterns) {
    let m: RegExpExecArray | null;
    while ((m = re.exec(prompt))) {
      const open = m.index + m[0].length - 1;
      if (!best || m.index > best.index) best = { index: m.index, open };
    }
  }
  let params: Param[] | null = null;
  let declIndex = -1;
  let close = -1;
  if (best) {
    params = parseParams(prompt, best.open, 'js');
    declIndex = best.index;
    close = matchBracket(prompt, best.open, 'js');
  }
  const arrow = new RegExp(`\\b(?:const|let|var)[ \\t]+${e}[ \\t]*(?::[^=\\n]+)?=[ \\t]*(?:async[ \\t]+)?([\\p{L}_$][\\p{L}\\p{N}_$]*)[ \\t]*=>`, 'gu');
  let am: RegExpExecArray | null;
  while ((am = arrow.exec(prompt))) {
    if (am.index > declIndex) {
      declIndex = am.index;
      params = [{ name: am[1] as string, optional: false }];
      close = am.index + am[0].length;
    }
  }
  if (declIndex < 0) return { regions: fallbackRegions(prompt, 'js'), params: null };
  const declLine = lineAt(starts, declIndex);
  const regions: Region[] = [];
  const above = commentAbove(lines, declLine, 'js');
  if (above) regions.push(above);
  if (close > 0) {
    const brace = prompt.indexOf('{', close);
    if (brace >= 0) {
      const bodyComment = commentStartingAt(lines, lineAt(starts, brace) + 1, 'js');
      if (bodyComment) regions.push(bodyComment);
    }
  }
  return { regions, params };
}

/** No definition of the entry point: the docstring or comment that ends last before the cursor. */
function fallbackRegions(prompt: string, lang: Lang): Region[] {
  const starts = lineStarts(prompt);
  const lines = prompt.split('\n');
  let pos = 0;
  let best: { end: number; region: Region } | null = null;
  for (;;) {
    const t: Tok = lexAt(prompt, pos, lang);
    if (t.kind === 'eof') break;
    const triple = /^[rRuUbB]?("""|''')/.exec(t.text);
    if (lang === 'python' && (t.kind === 'string' || t.kind === 'error') && triple) {
      const open = t.start + triple[0].length - 3;
      best = { end: t.end, region: docstringRegion(prompt, starts, open, triple[1] as string) };
    } else if (t.kind === 'comment' || (t.kind === 'error' && t.text.startsWith('/*'))) {
      const endLine = lineAt(starts, Math.max(t.start, t.end - 1));
      const r = t.text.startsWith('/*') ? blockCommentRegion(lines, lineAt(starts, t.start), endLine) : commentEndingAt(lines, endLine, lang);
      if (r) best = { end: t.end, region: r };
    }
    pos = t.end > pos ? t.end : pos + 1;
  }
  return best ? [best.region] : [];
}

// ---------------------------------------------------------------------------------------------
// Examples

interface Ctx {
  ep: string;
  lang: Lang;
  params: Param[] | null;
}

interface Raw {
  call: string;
  expected: string;
  source: Example['source'];
  form: ExampleForm;
  line: number;
  /** Index of the region line, for the recurrence filter (informal examples only). */
  vline?: number;
}

/** Maps Python-flavoured or JS-flavoured constants written in the other style. */
function normalizeConstant(text: string, lang: Lang): string {
  const t = text.trim();
  if (lang === 'python') {
    const m: Record<string, string> = { true: 'True', false: 'False', null: 'None', TRUE: 'True', FALSE: 'False' };
    return m[t] ?? t;
  }
  const m: Record<string, string> = { True: 'true', False: 'false', None: 'null' };
  return m[t] ?? t;
}

/**
 * Reads an expected value at `pos`: a literal, with the constants of the other language
 * accepted, `16.` read as `16` (sentence punctuation), and `a = b = c` chains resolved to the
 * last value. The character right after it must not glue to it (a letter, a quote, a bracket).
 */
function readExpected(text: string, pos: number, lang: Lang): { value: string; end: number } | null {
  let p = pos;
  while (text[p] === ' ' || text[p] === '\t') p++;
  const word = /^(true|false|null|TRUE|FALSE|True|False|None)\b/.exec(text.slice(p));
  let value: string;
  let end: number;
  if (word && !isLiteral(word[1] as string, lang)) {
    value = normalizeConstant(word[1] as string, lang);
    end = p + (word[1] as string).length;
  } else {
    const r = parseLiteral(text, p, lang);
    if (!r) return null;
    end = r.end;
    if (r.lastTok.kind === 'number' && r.lastTok.text.endsWith('.') && r.lastTok.end === end) end -= 1;
    const one = oneLine(text.slice(p, end), lang);
    if (one === null) return null;
    value = one;
  }
  const chain = /^[ \t]*=(?![=>])[ \t]*/.exec(text.slice(end));
  if (chain) {
    const next = readExpected(text, end + chain[0].length, lang);
    if (next) return next;
  }
  const after = text[end] ?? '';
  if (/[\p{L}\p{N}_'"`([{]/u.test(after)) return null;
  return { value, end };
}

const CMP_OPS = new Set(['==', '===']);

/** Splits `lhs == rhs` at a top-level comparison; null when there is none. */
function splitComparison(text: string, lang: Lang): [string, string] | null {
  const toks = tokenize(text, lang);
  if (!toks) return null;
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && t.kind === 'op' && CMP_OPS.has(t.text)) return [text.slice(0, t.start).trim(), text.slice(t.end).trim()];
  }
  return null;
}

function callIsUsable(call: string, ctx: Ctx): boolean {
  const toks = tokenize(call, ctx.lang);
  if (!toks || !bracketsBalanced(toks) || toks[toks.length - 1]?.kind === 'op') return false;
  const names = checkNames(call, ctx.ep, ctx.lang);
  return names !== null && names.closed && names.callsEntry;
}

function stripBullet(s: string): string {
  return s.replace(/^\s*(?:[*\-•]|\d+[.)])\s+/, '').trim();
}

function doctests(region: Region, ctx: Ctx, consumed: boolean[], out: Raw[]): void {
  const { lines } = region;
  for (let i = 0; i < lines.length; i++) {
    const head = (lines[i] as VLine).text.trimStart();
    if (!head.startsWith('>>>')) continue;
    const startLine = (lines[i] as VLine).line;
    const stmtLines = [head.slice(3).replace(/^ /, '')];
    consumed[i] = true;
    let j = i + 1;
    while (j < lines.length && /^\s*\.\.\.(?: |$)/.test((lines[j] as VLine).text)) {
      stmtLines.push((lines[j] as VLine).text.trimStart().slice(3).replace(/^ /, ''));
      consumed[j++] = true;
    }
    const outLines: string[] = [];
    while (j < lines.length) {
      const t = (lines[j] as VLine).text.trim();
      if (t === '' || t.startsWith('>>>')) break;
      outLines.push(t);
      consumed[j++] = true;
    }
    i = j - 1;
    const stmt = oneLine(stmtLines.join('\n'), ctx.lang);
    if (stmt === null || stmt === '') continue;
    const output = outLines.join('\n');
    const push = (call: string, expected: string) => {
      if (callIsUsable(call, ctx) && isLiteral(expected, ctx.lang)) out.push({ call, expected, source: 'doctest', form: 'doctest', line: startLine });
    };
    if (output === '') {
      // The last statement of a docstring still being typed: its output is not written yet.
      if (region.open && j >= lines.length) continue;
      const cmp = splitComparison(stmt, ctx.lang);
      if (cmp) {
        const e = readExpected(cmp[1], 0, ctx.lang);
        if (e && e.end >= cmp[1].trimEnd().length) push(cmp[0], e.value);
        continue;
      }
      // `>>> f(x) [1, 2]`: the expected value written on the call's line.
      const call = new RegExp(`^${escapeRe(ctx.ep)}\\s*\\(`).exec(stmt);
      if (call) {
        const end = matchBracket(stmt, call[0].length - 1, ctx.lang);
        const rest = end > 0 ? stmt.slice(end) : '';
        if (end > 0 && /^\s+\S/.test(rest) && isLiteral(rest.trim(), ctx.lang)) {
          push(stmt.slice(0, end), oneLine(rest.trim(), ctx.lang) ?? rest.trim());
          continue;
        }
      }
      push(stmt, 'None');
      continue;
    }
    if (/^Traceback \(most recent call last\)/.test(output)) continue;
    const printed = /^print\((.*)\)$/.exec(stmt);
    if (printed && matchBracket(stmt, 5, ctx.lang) === stmt.length && !splitTopLevelComma(printed[1] as string, ctx.lang)) {
      push(`str(${printed[1] as string})`, JSON.stringify(output));
      continue;
    }
    const expected = oneLine(output, ctx.lang);
    if (expected === null) continue;
    const cmp = splitComparison(stmt, ctx.lang);
    if (cmp && expected === 'True' && isLiteral(cmp[1], ctx.lang)) {
      push(cmp[0], oneLine(cmp[1], ctx.lang) ?? cmp[1]);
      continue;
    }
    push(stmt, expected);
  }
}

function splitTopLevelComma(text: string, lang: Lang): boolean {
  const toks = tokenize(text, lang);
  if (!toks) return true;
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && t.text === ',') return true;
  }
  return false;
}

const SEPARATOR = new RegExp(
  [
    '^[ \\t]*;?[ \\t]*(?:#|\\/\\/)[ \\t]*(?:=+>|-+>|→|➞|⇒|returns?\\b|should\\s+(?:return|be)\\b|outputs?\\b|==|=)[ \\t]*:?',
    '^[ \\t]*(?:={2,3}>?|=>|-{1,2}>|~>|➞|→|⇒|=(?![=>]))',
    '^[ \\t]*,?[ \\t]*(?:should|will|would|must)\\s+(?:return|be|give|output|evaluate\\s+to)\\b[ \\t]*:?',
    '^[ \\t]*(?:returns?|gives|outputs?|evaluates\\s+to)\\b[ \\t]*:?',
    '^[ \\t]*,?[ \\t]*(?:the\\s+)?(?:output|result|answer)\\s+(?:should\\s+be|will\\s+be|would\\s+be|is)\\b[ \\t]*:?',
  ].join('|'),
);
/** In a JSDoc `@example`: a bare comment after the call holds the value (`f(1) // 2`), possibly on the next line. */
const JSDOC_BARE = /^[ \t]*;?\s*\/\/[ \t]*(?:=+>|-+>|→|➞|returns?\b|:)?[ \t]*/;

function informal(region: Region, ctx: Ctx, consumed: readonly boolean[], out: Raw[]): void {
  const { lines } = region;
  // Lines inside JSDoc @example sections.
  const inExample = lines.map(() => false);
  if (region.kind === 'jsdoc') {
    let on = false;
    lines.forEach((l, i) => {
      const t = l.text.trim();
      if (t.startsWith('@')) on = t.startsWith('@example');
      inExample[i] = on;
    });
  }
  const vt = lines.map((l, i) => (consumed[i] ? ' '.repeat(l.text.length) : l.text.replace(/^(\s*)@example\b/, '$1        '))).join('\n');
  const starts = lineStarts(vt);
  const callRe = new RegExp(`(?<![\\p{L}\\p{N}_$.])${escapeRe(ctx.ep)}\\s*\\(`, 'gu');
  const definitionLines = new Set<number>();
  const found: Raw[] = [];
  let m: RegExpExecArray | null;
  while ((m = callRe.exec(vt))) {
    const start = m.index;
    const end = matchBracket(vt, start + m[0].length - 1, ctx.lang);
    if (end < 0) continue;
    const vline = lineAt(starts, start);
    const jsdoc = inExample[vline] === true;
    const call = oneLine(vt.slice(start, end), ctx.lang);
    if (call === null) continue;
    const before = vt.slice(starts[vline] as number, start);
    let expected: { value: string; end: number } | null = null;
    let form: ExampleForm = 'framework';
    // Test-framework wrappers around the call.
    if (/\bexpect\(\s*$/.test(before)) {
      const w = /^\s*\)\s*\.\s*(?:toBe|toEqual|toStrictEqual)\(\s*/.exec(vt.slice(end));
      if (w) expected = readExpected(vt, end + w[0].length, ctx.lang);
    } else if (/\bassert(?:\.\w+|\w*Equals?)\(\s*$/i.test(before)) {
      const w = /^\s*,\s*/.exec(vt.slice(end));
      if (w) expected = readExpected(vt, end + w[0].length, ctx.lang);
    } else {
      let after = end;
      if (/\bconsole\.log\(\s*$/.test(before)) {
        const c = /^\s*\)/.exec(vt.slice(end));
        if (c) after += c[0].length;
      }
      const rest = vt.slice(after);
      const sep = SEPARATOR.exec(rest) ?? (jsdoc && ctx.lang === 'js' ? JSDOC_BARE.exec(rest) : null);
      if (!sep) continue;
      if (!callIsUsable(call, ctx)) {
        // A recurrence such as `fib(n) = fib(n-1) + fib(n-2)` (a free name, the function applied
        // to arithmetic on a name on the right): a definition, not an example.
        const names = checkNames(call, ctx.ep, ctx.lang);
        const restOfLine = rest.slice(0, rest.indexOf('\n') < 0 ? rest.length : rest.indexOf('\n')).slice(sep[0].length);
        const recurrence = new RegExp(`(?<![\\p{L}\\p{N}_$.])${escapeRe(ctx.ep)}\\s*\\(\\s*[\\p{L}_$][\\p{L}\\p{N}_$]*\\s*[-+*/]`, 'u');
        if (names && !names.closed && recurrence.test(restOfLine)) definitionLines.add(vline);
        continue;
      }
      let p = after + sep[0].length;
      // The value may start on the next line ("should\n return 15", "// => 2" below the call).
      const nl = /^[ \t]*\n[ \t]*/.exec(vt.slice(p));
      if (nl && /\S/.test(sep[0].replace(/^[\s;]+/, ''))) p += nl[0].length;
      expected = readExpected(vt, p, ctx.lang);
      const word = sep[0].replace(/^[\s;,]*(?:#|\/\/)?\s*/, '').trim();
      form = /^=$/.test(word) ? 'assignment' : /^[\p{L}]/u.test(word) ? 'prose' : 'operator';
    }
    if (!expected || !callIsUsable(call, ctx)) continue;
    found.push({ call, expected: expected.value, source: jsdoc ? 'jsdoc' : 'informal', form, line: (lines[vline] as VLine).line, vline });
  }
  // Drop the literal lines of a run of lines that also holds a recurrence definition.
  const vlines = vt.split('\n');
  const hasCall = vlines.map((l) => new RegExp(`(?<![\\p{L}\\p{N}_$.])${escapeRe(ctx.ep)}\\s*\\(`, 'u').test(l));
  const inDefinitionRun = (v: number): boolean => {
    for (let i = v; i >= 0 && hasCall[i]; i--) if (definitionLines.has(i)) return true;
    for (let i = v; i < vlines.length && hasCall[i]; i++) if (definitionLines.has(i)) return true;
    return false;
  };
  for (const r of found) if (r.vline === undefined || !inDefinitionRun(r.vline)) out.push(r);
}

// --- "For x = 1, y = 2 the output should be 3", "Input: … Output: …" ----------------------------

interface Inputs {
  names: (string | null)[];
  values: string[];
  line: number;
}

const NAME = /^[\p{L}_$][\p{L}\p{N}_$]*/u;

/** `a = 1, b = [2] and c: 3` at `pos`: the assignments and where they end (before a trailing comma). */
function readAssignments(text: string, pos: number, lang: Lang, sep: RegExp = /^[ \t]*(?:=(?!=)|:)[ \t]*/): { names: string[]; values: string[]; end: number } | null {
  const names: string[] = [];
  const values: string[] = [];
  let p = pos;
  let end = pos;
  for (;;) {
    while (text[p] === ' ' || text[p] === '\t') p++;
    const n = NAME.exec(text.slice(p));
    if (!n) break;
    const s = sep.exec(text.slice(p + n[0].length));
    if (!s) break;
    const v = parseLiteral(text, p + n[0].length + s[0].length, lang);
    if (!v) break;
    const after = text[v.end] ?? '';
    if (/[\p{L}\p{N}_'"`]/u.test(after)) break;
    names.push(n[0]);
    values.push(oneLine(text.slice(p + n[0].length + s[0].length, v.end), lang) ?? '');
    end = v.end;
    const c = /^[ \t]*(?:,|\band\b)[ \t]*/.exec(text.slice(v.end));
    if (!c) break;
    p = v.end + c[0].length;
  }
  return names.length > 0 ? { names, values, end } : null;
}

/** Comma-separated literals filling the rest of the text (`Input: [1, 2], 3`). */
function readBareValues(text: string, lang: Lang): string[] | null {
  const values: string[] = [];
  let p = 0;
  for (;;) {
    const v = parseLiteral(text, p, lang);
    if (!v) return null;
    values.push(oneLine(text.slice(p, v.end), lang) ?? '');
    const rest = text.slice(v.end);
    if (/^\s*$/.test(rest)) return values;
    const c = /^\s*,\s*/.exec(rest);
    if (!c) return null;
    p = v.end + c[0].length;
  }
}

/** Arranges named or positional inputs into a call, following the signature. */
function buildCall(ctx: Ctx, inputs: Inputs): string | null {
  const { names, values } = inputs;
  const params = ctx.params;
  if (values.length === 0) return null;
  const positional = (vals: readonly string[]) => `${ctx.ep}(${vals.join(', ')})`;
  if (!params) return names.every((n) => n === null) ? positional(values) : null;
  const paramNames = params.map((p) => p.name);
  const allNamed = names.every((n) => n !== null && paramNames.includes(n)) && new Set(names).size === names.length;
  if (allNamed) {
    const byName = new Map(names.map((n, i) => [n as string, values[i] as string]));
    const required = params.filter((p) => !p.optional);
    if (!required.every((p) => p.name !== null && byName.has(p.name))) return null;
    const args: string[] = [];
    let keywords = false;
    for (const p of params) {
      const v = p.name === null ? undefined : byName.get(p.name);
      if (v === undefined) {
        keywords = true;
        continue;
      }
      if (keywords) {
        if (ctx.lang !== 'python') return null;
        args.push(`${p.name as string}=${v}`);
      } else args.push(v);
    }
    return positional(args);
  }
  // Positional: between the required and all parameters, any given name at its own position.
  const required = params.filter((p) => !p.optional).length;
  if (values.length >= required && values.length <= params.length && names.every((n, i) => n === null || !paramNames.includes(n) || paramNames[i] === n)) return positional(values);
  return null;
}

function inputOutput(region: Region, ctx: Ctx, consumed: readonly boolean[], out: Raw[]): void {
  const { lines } = region;
  const texts = lines.map((l, i) => (consumed[i] ? '' : l.text));
  const emit = (inputs: Inputs, expected: string, form: ExampleForm) => {
    const call = buildCall(ctx, inputs);
    if (call && callIsUsable(call, ctx)) out.push({ call, expected, source: 'informal', form, line: inputs.line });
  };
  // "For x = …, the output should be …", possibly continued on the next lines of the paragraph.
  texts.forEach((text, i) => {
    const forRe = /\bfor\s+(?:input\s+)?(?!examples?\b|instance\b)(?=[\p{L}_$][\p{L}\p{N}_$]*\s*(?:=(?!=)|:))/giu;
    let m: RegExpExecArray | null;
    while ((m = forRe.exec(text))) {
      const a = readAssignments(text, m.index + m[0].length, ctx.lang);
      if (!a) continue;
      let para = text.slice(a.end);
      for (let j = i + 1; j < texts.length && (texts[j] as string).trim() !== '' && !/\bfor\s/i.test(texts[j] as string); j++) para += '\n' + (texts[j] as string);
      const marker =
        /(?:\b(?:the\s+)?(?:output|result|answer|return(?:ed)?\s+value)\s+(?:should\s+be|will\s+be|would\s+be|is)\b|\bshould\s+return\b|\breturns?\b|=>|->|➞|==)[ \t]*:?/i.exec(para);
      if (!marker) continue;
      const e = readExpected(para, marker.index + marker[0].length, ctx.lang);
      if (e) emit({ names: a.names, values: a.values, line: (lines[i] as VLine).line }, e.value, 'sentence');
    }
  });
  // Input/Output blocks and `param = value` ... `return value` paragraphs.
  let pending: Inputs | null = null;
  let collecting = false;
  const paramNames = new Set((ctx.params ?? []).map((p) => p.name).filter((n): n is string => n !== null));
  for (let i = 0; i < texts.length; i++) {
    const raw = texts[i] as string;
    const t = stripBullet(raw);
    const line = (lines[i] as VLine).line;
    if (t === '') {
      pending = null;
      collecting = false;
      continue;
    }
    if (/^(?:for\s+)?examples?\b[^:]*:?$/i.test(t) && t.length < 40) {
      pending = null;
      collecting = false;
      continue;
    }
    const input = /^inputs?\s*:\s*(.*)$/i.exec(t);
    if (input) {
      const rest = (input[1] as string).trim();
      collecting = false;
      if (rest === '') {
        pending = { names: [], values: [], line };
        collecting = true;
        continue;
      }
      const a = readAssignments(rest, 0, ctx.lang);
      if (a && /^\s*$/.test(rest.slice(a.end))) pending = { names: a.names, values: a.values, line };
      else {
        const bare = readBareValues(rest, ctx.lang);
        pending = bare ? { names: bare.map(() => null), values: bare, line } : null;
      }
      continue;
    }
    const output = /^(?:outputs?|expected(?:\s+output)?|return\s*=|returns?)\s*:?\s*(.*)$/i.exec(t);
    if (output && pending && pending.values.length > 0) {
      let rest = output[1] as string;
      if (rest.trim() === '' && i + 1 < texts.length) rest = stripBullet(texts[++i] as string);
      const e = readExpected(rest, 0, ctx.lang);
      if (e) emit(pending, e.value, 'block');
      pending = null;
      collecting = false;
      continue;
    }
    const assign = readAssignments(t, 0, ctx.lang);
    const whole = assign !== null && /^\s*[,;.]?\s*$/.test(t.slice(assign.end));
    if (collecting && whole && pending) {
      pending.names.push(...assign.names);
      pending.values.push(...assign.values);
      continue;
    }
    collecting = false;
    const eqOnly = readAssignments(t, 0, ctx.lang, /^[ \t]*=(?!=)[ \t]*/);
    if (eqOnly && /^\s*[,;.]?\s*$/.test(t.slice(eqOnly.end)) && eqOnly.names.every((n) => paramNames.has(n))) {
      if (!pending) pending = { names: [], values: [], line };
      pending.names.push(...eqOnly.names);
      pending.values.push(...eqOnly.values);
    }
  }
}

/**
 * Examples for `entryPoint` from the docstring or comment attached to it in `prompt` (the text
 * before the cursor). See the module comment for the forms understood.
 */
export function extractExamples(prompt: string, entryPoint: string, languageId: DocLanguage | string): Example[] {
  const lang = langOf(languageId);
  const text = prompt.replace(/\r\n?/g, '\n');
  const located = lang === 'python' ? locatePython(text, entryPoint) : locateJs(text, entryPoint);
  const ctx: Ctx = { ep: entryPoint, lang, params: located.params };
  const raws: Raw[] = [];
  for (const region of located.regions) {
    const consumed = region.lines.map(() => false);
    if (lang === 'python') doctests(region, ctx, consumed, raws);
    informal(region, ctx, consumed, raws);
    inputOutput(region, ctx, consumed, raws);
  }
  const seen = new Set<string>();
  const out: Example[] = [];
  for (const r of raws.sort((a, b) => a.line - b.line)) {
    const key = `${r.call}\u0000${r.expected}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ call: r.call, expected: r.expected, source: r.source, form: r.form, line: r.line });
  }
  return out;
}

export interface AssertOptions {
  /**
   * Off by default: expected values are compared exactly (`==` in Python, deep strict equality
   * in JavaScript), as HumanEval's harness and doctest do. When set, an expected value that is a
   * lone float literal (`0.5`, `-1.25e3`) is compared with this absolute tolerance instead.
   */
  floatTolerance?: number;
}

function needsParens(expr: string, lang: Lang): boolean {
  const toks = tokenize(expr, lang);
  if (!toks) return true;
  let depth = 0;
  for (const t of toks) {
    if (t.kind === 'open') depth++;
    else if (t.kind === 'close') depth--;
    else if (depth === 0 && ((t.kind === 'op' && t.text !== '.' && t.text !== '?.') || (t.kind === 'name' && /^(?:not|and|or|in|is|if|else|lambda|await|typeof|new|instanceof)$/.test(t.text)))) return true;
  }
  return false;
}

function isFloatLiteral(expr: string, lang: Lang): boolean {
  const r = parseLiteral(expr, 0, lang);
  return r !== null && r.isNumber && lexAt(expr, r.end, lang).kind === 'eof' && /^[-+]?(?:\d[\d_]*\.\d*|\.\d+|\d[\d_]*(?:\.\d*)?[eE][-+]?\d+)$/.test(expr.replace(/\s+/g, ''));
}

/**
 * One assert statement per example. Python: `assert <call> == <expected>` (the call in
 * parentheses when it is more than a call); JavaScript/TypeScript:
 * `assert.deepStrictEqual(<call>, <expected>);`, for a harness that binds `assert` to
 * `node:assert`. See `AssertOptions.floatTolerance` for floats.
 */
export function examplesToAsserts(examples: readonly Pick<Example, 'call' | 'expected'>[], languageId: DocLanguage | string, opts: AssertOptions = {}): string[] {
  const lang = langOf(languageId);
  const tol = opts.floatTolerance;
  return examples.map((ex) => {
    const float = tol !== undefined && isFloatLiteral(ex.expected, lang);
    if (lang === 'python') {
      if (float) return `assert abs((${ex.call}) - (${ex.expected})) <= ${tol}`;
      return `assert ${needsParens(ex.call, lang) ? `(${ex.call})` : ex.call} == ${ex.expected}`;
    }
    if (float) return `assert.ok(Math.abs((${ex.call}) - (${ex.expected})) <= ${tol});`;
    return `assert.deepStrictEqual(${ex.call}, ${ex.expected});`;
  });
}
