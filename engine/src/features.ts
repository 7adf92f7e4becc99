/**
 * Candidate features for the ranker: the ordered feature list, the featurizer that turns
 * candidates into a row-major float32 matrix [n, F], and the built-in ranker's hand-chosen
 * linear weights over those features.
 *
 * Everything here is pure and deterministic: the same candidates give the same bytes.
 * Features are cheap text heuristics (a few microseconds per candidate); what depends only
 * on the prefix or the suffix (bracket state at the cursor, "are we at the start of a
 * function body") is computed once per distinct prefix/suffix within a call.
 *
 * Changing FEATURE_NAMES (order included) invalidates every saved ranker: models record the
 * list they were trained on in their `winnow.features` metadata and the engine refuses a
 * model whose list differs.
 */

import { contextNames, undefinedNamesAt } from './names';
import type { RankerSpec } from './ranker/onnx';

export interface FeatureInput {
  text: string;
  /** Raw samples that collapsed into this candidate. */
  votes: number;
  /** Raw samples drawn for the request (the denominator of the vote share). */
  totalSamples: number;
  meanLogprob?: number;
  prefix: string;
  suffix: string;
  languageId: string;
  /** What running the candidate against tests showed; absent when it did not run (or not within the budget). */
  exec?: ExecFeatures;
}

/**
 * Execution outcomes of one candidate (see engine/src/execution.ts). Trusted tests are the
 * docstring's examples and the project's own tests; model-written tests are only used
 * through agreement (CodeT), never by raw pass counts.
 */
export interface ExecFeatures {
  /** Trusted tests run and passed. */
  trustedTotal: number;
  trustedPassed: number;
  /** CodeT dual-agreement score of its consensus set over the model-written tests, divided by the best set's score in the request: [0, 1]. */
  agreement: number;
  /** Size of its consensus set (candidates passing exactly the same model-written tests) over the candidates that ran: [0, 1]. */
  clusterFrac: number;
  /** In the consensus set with the best score (CodeT's pick), with a score above 0. */
  agreementBest: boolean;
  syntaxError: boolean;
  timedOut: boolean;
  /** Raised something other than a failed assertion. */
  exception: boolean;
}

/**
 * The features, in matrix column order. Ranges are given for the values featurize() emits.
 *
 * - vote_share          votes / totalSamples, in [0, 1]. Agreement among independent samples
 *                       is the strongest cheap signal of correctness (self-consistency).
 * - log_chars           log1p(characters).
 * - log_lines           log1p(non-blank lines).
 * - mean_logprob        the generator's mean token log-probability, clamped to [-10, 0];
 *                       0 when absent (see has_logprob).
 * - has_logprob         1 when mean_logprob was given, else 0; lets a model tell "absent"
 *                       from "very confident".
 * - bracket_mismatch    closing brackets that do not match the innermost open one (the
 *                       bracket stack is seeded with the brackets still open in the prefix),
 *                       capped at 3. Strings and comments are skipped.
 * - unclosed_brackets   brackets the candidate opens and leaves open, capped at 3.
 * - unterminated_string 1 when a one-line string literal runs into a line end, or the text
 *                       ends inside a string that the suffix's first line does not close.
 * - ends_mid_expression 1 when the last code character is an operator, an opening bracket,
 *                       `.`, `=`, `\` or a block-opening `:` (truncated or unfinished code).
 * - placeholder_only    1 when the candidate has no substantive line: only blanks, comments,
 *                       closing brackets, `pass`, `...`, `raise NotImplementedError`,
 *                       `todo!()`, `unimplemented!()` or a "not implemented" throw.
 * - todo_marker         1 when the text contains TODO, FIXME, XXX or a not-implemented marker.
 * - repeated_line_frac  share of substantive lines (6+ characters, trimmed) that repeat an
 *                       earlier line of the candidate, in [0, 1]; degenerate loops score high.
 * - in_function_body    1 when the prefix ends right after a function header (and its
 *                       docstring or comments): the candidate is a whole function body.
 * - missing_return      1 when in_function_body, the header suggests a value is returned
 *                       (not `-> None`, `void`, Go without results, Rust), and the
 *                       candidate has no `return` or `yield`.
 * - repeats_prefix_line 1 when the first substantive line of the candidate repeats one of
 *                       the last three non-blank lines of the prefix.
 * - duplicates_suffix   1 when the last non-blank line of the candidate equals the first
 *                       non-blank line of the suffix (indentation included): it re-types what
 *                       is already after the cursor.
 * - comment_frac        share of non-blank lines that are comments, in [0, 1].
 * - indent_mismatch     1 when the candidate indents with both tabs and spaces, or with a
 *                       character the prefix does not indent with.
 * - long_line           1 when a line is longer than 160 characters.
 *
 * Execution features (all 0 when the candidate was not run, or its run did not end within
 * the latency budget; see ExecFeatures):
 * - exec_ran            1 when it ran against at least one test within the budget.
 * - exec_pass_frac      trusted tests (docstring examples, project tests) passed / run.
 * - exec_all_passed     1 when it passed every trusted test (at least one).
 * - exec_agreement      CodeT dual agreement over model-written tests, normalized to [0, 1].
 * - exec_agreement_best 1 when in the consensus set with the best agreement (CodeT's pick).
 * - exec_cluster_frac   size of its agreement cluster / candidates that ran.
 * - exec_syntax_error   1 when the program did not compile.
 * - exec_timeout        1 when the program or a test ran out of time.
 * - exec_exception      1 when it raised something other than a failed assertion.
 *
 * - undefined_name      Python: 1 when the candidate uses a name that neither the context
 *                       (prefix and suffix), nor the candidate, nor the builtins define
 *                       (names.ts): a NameError when that line runs. 0 in other languages.
 *
 * Reward model features (both 0 when no reward model is set, or its score did not arrive
 * within the latency budget; see engine/src/reward/):
 * - reward_present      1 when the reward model scored the candidate in time.
 * - reward_z            its score standardized over the request's candidates,
 *                       (score − mean) / standard deviation, clamped to [−3, 3]; 0 when the
 *                       scores do not differ. Scale-free, so that a ranker weighs it the same
 *                       whatever range a model's logits have.
 */
export const FEATURE_NAMES = [
  'vote_share',
  'log_chars',
  'log_lines',
  'mean_logprob',
  'has_logprob',
  'bracket_mismatch',
  'unclosed_brackets',
  'unterminated_string',
  'ends_mid_expression',
  'placeholder_only',
  'todo_marker',
  'repeated_line_frac',
  'in_function_body',
  'missing_return',
  'repeats_prefix_line',
  'duplicates_suffix',
  'comment_frac',
  'indent_mismatch',
  'long_line',
  'exec_ran',
  'exec_pass_frac',
  'exec_all_passed',
  'exec_agreement',
  'exec_agreement_best',
  'exec_cluster_frac',
  'exec_syntax_error',
  'exec_timeout',
  'exec_exception',
  'undefined_name',
  'reward_present',
  'reward_z',
] as const;

export type FeatureName = (typeof FEATURE_NAMES)[number];
export const NUM_FEATURES = FEATURE_NAMES.length;

/**
 * Feature sets by id: every list of features this engine has ever computed, oldest first.
 * Each stored candidate row records the id of the set its features were computed with
 * (`candidates.feature_set`), and each ranker file the id it was trained on
 * (`winnow.featureSet`); a model is only fed rows of its own set, and training only reads rows
 * of the set it trains. Changing FEATURE_NAMES means adding a new id here and pointing
 * FEATURE_SET_ID at it (test/unit/features.test.ts fails otherwise): never a silent break.
 */
export const FEATURE_SETS: Readonly<Record<string, readonly string[]>> = {
  /** builtin-1: the text features. */
  'fs-1': ['vote_share', 'log_chars', 'log_lines', 'mean_logprob', 'has_logprob', 'bracket_mismatch', 'unclosed_brackets', 'unterminated_string', 'ends_mid_expression', 'placeholder_only', 'todo_marker', 'repeated_line_frac', 'in_function_body', 'missing_return', 'repeats_prefix_line', 'duplicates_suffix', 'comment_frac', 'indent_mismatch', 'long_line'],
  /** builtin-2: the text features and the execution outcomes. */
  'fs-2': FEATURE_NAMES.slice(0, 28),
  /** builtin-3: fs-2 and undefined_name. */
  'fs-3': FEATURE_NAMES.slice(0, 29),
  /** builtin-4: fs-3 and the reward model's score. */
  'fs-4': FEATURE_NAMES,
};

/** The feature set this engine computes. */
export const FEATURE_SET_ID = 'fs-4';

/** The id of a feature list, when it is a known set. */
export function featureSetOf(names: readonly string[]): string | undefined {
  for (const [id, set] of Object.entries(FEATURE_SETS)) if (set.length === names.length && set.every((n, i) => n === names[i])) return id;
  return undefined;
}

/** Features computed from the examples in the docstring (the bench's `ranker_no_docstring` leaves them out). */
export const DOCSTRING_FEATURES: readonly FeatureName[] = ['exec_pass_frac', 'exec_all_passed'];

const COL = Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, i])) as Record<FeatureName, number>;

// ---------------------------------------------------------------------------------------
// Language families (only what the lexer and the line classifier need).

interface LangSyntax {
  /** Line comment opener: '#', '//' or '--'. */
  line: string;
  /** Has C-style block comments. */
  block: boolean;
  /** Python-style ''' and """ strings. */
  tripleQuotes: boolean;
  /** Quote characters (char codes) that open strings; backtick strings may span lines. */
  quotes: number[];
  /** Character classes, see classTable. */
  table: Uint8Array;
}

const Q2 = 34; // "
const Q1 = 39; // '
const BT = 96; // `

const HASH_LANGS = new Set(['python', 'ruby', 'shellscript', 'perl', 'r', 'yaml', 'makefile', 'dockerfile', 'toml', 'powershell', 'elixir', 'julia', 'nim', 'coffeescript']);
const DASH_LANGS = new Set(['lua', 'sql', 'haskell']);
const BACKTICK_LANGS = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact', 'go', 'shellscript']);

const SYNTAX_CACHE = new Map<string, LangSyntax>();

function syntaxOf(languageId: string): LangSyntax {
  let syn = SYNTAX_CACHE.get(languageId);
  if (!syn) {
    syn = makeSyntax(languageId);
    if (SYNTAX_CACHE.size < 256) SYNTAX_CACHE.set(languageId, syn);
  }
  return syn;
}

function makeSyntax(languageId: string): LangSyntax {
  const hash = HASH_LANGS.has(languageId);
  const dash = DASH_LANGS.has(languageId);
  const quotes = languageId === 'rust' ? [Q2] : BACKTICK_LANGS.has(languageId) ? [Q2, Q1, BT] : [Q2, Q1];
  const base = { line: hash ? '#' : dash ? '--' : '//', block: !hash && !dash, tripleQuotes: languageId === 'python', quotes };
  return { ...base, table: classTable(base) };
}

// ---------------------------------------------------------------------------------------
// Lexer: tracks brackets outside strings and comments. Approximate by design.

interface LexState {
  /** Open brackets, innermost last (char codes of the openers). */
  stack: number[];
  /** Quote char code of the string we are in, 0 outside strings. */
  quote: number;
  /** The string is a triple-quoted one. */
  triple: boolean;
  /** Inside a C-style block comment. */
  blockComment: boolean;
}

interface LexStats {
  mismatches: number;
  /** Lowest stack depth reached (brackets of the prefix that the text closed). */
  minDepth: number;
  /** One-line strings cut by a line end. */
  brokenStrings: number;
}

const MAX_STACK = 64;

// Character classes for the lexer's fast path (ASCII only; everything else is plain text).
const K_OPEN = 1;
const K_CLOSE = 2;
const K_QUOTE = 3;
const K_COMMENT = 4; // first character of the line-comment opener
const K_SLASH = 5; // '/' that may open a block comment

function classTable(syn: Omit<LangSyntax, 'table'>): Uint8Array {
  const t = new Uint8Array(128);
  t[40] = t[91] = t[123] = K_OPEN;
  t[41] = t[93] = t[125] = K_CLOSE;
  for (const q of syn.quotes) t[q] = K_QUOTE;
  t[syn.line.charCodeAt(0)] = K_COMMENT;
  if (syn.block && syn.line !== '//') t[47] = K_SLASH;
  return t;
}

function lex(text: string, from: number, st: LexState, syn: LangSyntax, stats: LexStats | undefined): void {
  const n = text.length;
  const table = syn.table;
  const lc1 = syn.line.length > 1 ? syn.line.charCodeAt(1) : -1;
  const stack = st.stack;
  let quote = st.quote;
  let triple = st.triple;
  let blockComment = st.blockComment;
  let mismatches = 0;
  let minDepth = stack.length;
  let broken = 0;
  for (let i = from; i < n; i++) {
    const c = text.charCodeAt(i);
    if (blockComment) {
      const e = text.indexOf('*/', i);
      if (e < 0) break;
      blockComment = false;
      i = e + 1;
      continue;
    }
    if (quote !== 0) {
      if (c === 92) {
        i++; // escape
      } else if (c === quote) {
        if (!triple) quote = 0;
        else if (text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c) {
          quote = 0;
          triple = false;
          i += 2;
        }
      } else if (c === 10 && !triple && quote !== BT) {
        quote = 0; // a one-line string cannot span lines: recover at the line end
        broken++;
      }
      continue;
    }
    const k = c < 128 ? (table[c] as number) : 0;
    if (k === 0) continue;
    if (k === K_OPEN) {
      if (stack.length >= MAX_STACK) stack.shift();
      stack.push(c);
    } else if (k === K_CLOSE) {
      const top = stack.length > 0 ? stack[stack.length - 1] : -1;
      if (top === (c === 41 ? 40 : c - 2)) {
        stack.pop();
        if (stack.length < minDepth) minDepth = stack.length;
      } else if (top !== -1 || !syn.block || c !== 125) {
        // A '}' with nothing open may close a block opened before the prefix window.
        mismatches++;
      }
    } else if (k === K_QUOTE) {
      quote = c;
      if (syn.tripleQuotes && text.charCodeAt(i + 1) === c && text.charCodeAt(i + 2) === c) {
        triple = true;
        i += 2;
      }
    } else if (k === K_COMMENT && (lc1 === -1 || text.charCodeAt(i + 1) === lc1)) {
      const nl = text.indexOf('\n', i);
      if (nl < 0) break;
      i = nl;
    } else if ((k === K_SLASH || (k === K_COMMENT && c === 47)) && syn.block && text.charCodeAt(i + 1) === 42) {
      blockComment = true;
      i++;
    }
  }
  st.quote = quote;
  st.triple = triple;
  st.blockComment = blockComment;
  if (stats) {
    stats.mismatches += mismatches;
    stats.minDepth = Math.min(stats.minDepth, minDepth);
    stats.brokenStrings += broken;
  }
}

// ---------------------------------------------------------------------------------------
// What depends only on the prefix or the suffix.

interface PrefixInfo {
  syn: LangSyntax;
  /** Lexer state at the cursor. */
  state: LexState;
  inFunctionBody: boolean;
  expectsReturn: boolean;
  /** Last three non-blank lines, trimmed. */
  lastLines: string[];
  usesTabs: boolean;
  usesSpaces: boolean;
  /** The cursor is at the start of a line (the candidate's first line is a whole line). */
  atLineStart: boolean;
  /** Python: the names the prefix defines (null: a star import defines any); undefined in other languages. */
  pyNames: Set<string> | null | undefined;
}

interface SuffixInfo {
  firstLine: string;
  /** First non-blank line, trimEnd'ed. */
  firstNonBlank: string;
  /** The names the suffix defines, read as Python when a Python candidate first needs them. */
  pyNames?: Set<string> | null;
}

/** Only this much of the prefix is lexed (from a line start); the server windows it anyway. */
const PREFIX_LEX_WINDOW = 32_000;
const HEADER_WINDOW = 4_000;

function analyzePrefix(prefix: string, languageId: string): PrefixInfo {
  const syn = syntaxOf(languageId);
  const state: LexState = { stack: [], quote: 0, triple: false, blockComment: false };
  let start = 0;
  if (prefix.length > PREFIX_LEX_WINDOW) start = prefix.indexOf('\n', prefix.length - PREFIX_LEX_WINDOW) + 1;
  lex(prefix, start, state, syn, undefined);

  const lastLines: string[] = [];
  let usesTabs = false;
  let usesSpaces = false;
  let end = prefix.length;
  for (let k = 0; k < 50 && end > 0; k++) {
    const s = prefix.lastIndexOf('\n', end - 1) + 1;
    const line = prefix.slice(s, end);
    end = s - 1;
    const t = line.trim();
    if (t.length === 0) continue;
    if (lastLines.length < 3) lastLines.push(t);
    if (line.charCodeAt(0) === 9) usesTabs = true;
    else if (line.charCodeAt(0) === 32) usesSpaces = true;
  }

  const header = functionHeader(prefix.slice(-HEADER_WINDOW), languageId, syn);
  const pyNames = languageId === 'python' ? contextNames(prefix) : undefined;
  return { syn, state, inFunctionBody: header !== undefined, expectsReturn: header?.returns ?? false, lastLines, usesTabs, usesSpaces, atLineStart: prefix.length === 0 || prefix.endsWith('\n'), pyNames };
}

/** Strips trailing blank and comment-only lines. */
function stripTrailingComments(tail: string, syn: LangSyntax): string {
  for (;;) {
    tail = tail.trimEnd();
    const s = tail.lastIndexOf('\n') + 1;
    const last = tail.slice(s).trimStart();
    if (last.length > 0 && last.startsWith(syn.line)) tail = tail.slice(0, s);
    else return tail;
  }
}

const PY_DEF = /^[ \t]*(?:async[ \t]+)?def[ \t]+\w+[ \t]*(?:\[[^\]]*\])?[ \t]*\(/;
const BRACE_CONTROL = /^\s*(?:}\s*)?(?:if|else|for|while|switch|catch|try|do|finally|with|using|lock|foreach|unsafe|loop|match)\b/;

/**
 * When the prefix ends right after a function header (plus docstring/comments), says so and
 * whether the header suggests a returned value. Looks at the prefix's tail only.
 */
function functionHeader(tail: string, languageId: string, syn: LangSyntax): { returns: boolean } | undefined {
  tail = stripTrailingComments(tail, syn);
  if (languageId === 'python') {
    // Drop a trailing docstring.
    for (const q of ['"""', "'''"]) {
      if (tail.endsWith(q)) {
        const open = tail.lastIndexOf(q, tail.length - 4);
        if (open < 0) return undefined;
        tail = stripTrailingComments(tail.slice(0, open).replace(/[rRuUbBfF]{1,2}$/, ''), syn);
        break;
      }
    }
    if (!tail.endsWith(':')) return undefined;
    const d = tail.lastIndexOf('def ');
    if (d < 0) return undefined;
    const header = tail.slice(tail.lastIndexOf('\n', d) + 1);
    if (!PY_DEF.test(header) || header.length > 1000 || !parensBalanced(header)) return undefined;
    return { returns: !/->\s*None\s*:$/.test(header) };
  }
  if (!syn.block || !tail.endsWith('{')) return undefined;
  // The header may span lines: take the text since the previous ';', '}' or '{'.
  const s = Math.max(tail.lastIndexOf(';', tail.length - 2), tail.lastIndexOf('}', tail.length - 2), tail.lastIndexOf('{', tail.length - 2)) + 1;
  const header = tail.slice(s, -1).trim();
  if (header.length === 0 || header.length > 1000 || BRACE_CONTROL.test(header) || !header.includes('(') || !parensBalanced(header)) return undefined;
  if (/=>$/.test(header) || /\bfunction\b/.test(header)) {
    return { returns: !/\)\s*:\s*(?:void|Promise<void>|never)\s*(?:=>)?$/.test(header) };
  }
  if (languageId === 'go') {
    if (!/^func\b/.test(header)) return undefined;
    // Results follow the parameter list: `func (r T) f(a int) int {`.
    return { returns: !/\)\s*$/.test(header) };
  }
  if (languageId === 'rust') return /\bfn\s+\w+/.test(header) ? { returns: false } : undefined; // implicit returns
  if (/^(?:class|struct|interface|enum|namespace|impl|trait|object)\b/.test(header) || /\b(?:class|struct|interface|enum)\s+\w+/.test(header)) return undefined;
  // C-family method or function: `type name(args) [const] [throws X] {`.
  if (!/\w[\w<>[\]*&:?, ]*\s+[\w:~]+\s*\([^]*\)\s*(?:const|throws\s+[\w., ]+|override|noexcept)*\s*$/.test(header) && !/^\s*(?:async\s+)?\w+\s*\([^]*\)\s*(?::\s*[^{]+)?$/.test(header)) {
    return undefined;
  }
  return { returns: !/\bvoid\b/.test(header.slice(0, header.indexOf('('))) && !/\)\s*:\s*(?:void|Promise<void>)\s*$/.test(header) && !/\bconstructor\s*\(/.test(header) };
}

function parensBalanced(s: string): boolean {
  let d = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 40) d++;
    else if (c === 41 && --d < 0) return false;
  }
  return d === 0;
}

/** Whether a Python candidate uses a name that nothing defines (see names.ts). */
function usesUndefinedName(c: FeatureInput, fromPrefix: PrefixInfo['pyNames'], s: SuffixInfo): boolean {
  if (fromPrefix === undefined || fromPrefix === null) return false;
  if (s.pyNames === undefined) s.pyNames = contextNames(c.suffix);
  const fromSuffix = s.pyNames;
  if (fromSuffix === null) return false;
  return undefinedNamesAt(c.prefix, c.text, { has: (n) => fromPrefix.has(n) || fromSuffix.has(n) }).length > 0;
}

function analyzeSuffix(suffix: string): SuffixInfo {
  const nl = suffix.indexOf('\n');
  const firstLine = nl < 0 ? suffix : suffix.slice(0, nl);
  let firstNonBlank = '';
  let s = 0;
  for (let k = 0; k < 20 && s <= suffix.length; k++) {
    const e = suffix.indexOf('\n', s);
    const line = (e < 0 ? suffix.slice(s) : suffix.slice(s, e)).trimEnd();
    if (line.trim().length > 0) {
      firstNonBlank = line;
      break;
    }
    if (e < 0) break;
    s = e + 1;
  }
  return { firstLine, firstNonBlank };
}

// ---------------------------------------------------------------------------------------
// Per-candidate line classification.

const PLACEHOLDER_LINE = /^(?:pass|\.\.\.|raise\s+NotImplementedError\b.*|todo!\(.*\);?|unimplemented!\(.*\);?|throw\s+new\s+\w*Error\(\s*["'`](?:not\s+implemented|todo|unimplemented)[^]*\);?|return;?|[)\]};,\s]+)$/i;
const TODO_MARKER = /\b(?:TODO|FIXME|XXX)\b|NotImplemented|unimplemented!|todo!\(/;
const RETURN_WORD = /\b(?:return|yield)\b/;
const ABRUPT_END = new Set(['(', '[', '{', '=', '+', '-', '*', '/', '%', '&', '|', '^', '\\', '.', ':', '<']);
/** Code line endings that end in an ABRUPT_END character but are complete. */
const COMPLETE_END = /(?:\+\+|--|\*\/|\.\.\.|import\s+\*)$/;

function isComment(trimmed: string, syn: LangSyntax): boolean {
  if (trimmed.startsWith(syn.line)) return true;
  return syn.block && (trimmed.startsWith('/*') || trimmed.startsWith('*'));
}

/** Writes one candidate's features into `out` at `row * F`. */
function featurizeOne(c: FeatureInput, p: PrefixInfo, s: SuffixInfo, out: Float32Array, row: number): void {
  const o = row * NUM_FEATURES;
  const text = c.text;
  const syn = p.syn;

  // Lexer pass, continuing from the state at the cursor.
  const st: LexState = { stack: p.state.stack.slice(), quote: p.state.quote, triple: p.state.triple, blockComment: p.state.blockComment };
  const stats: LexStats = { mismatches: 0, minDepth: st.stack.length, brokenStrings: 0 };
  lex(text, 0, st, syn, stats);
  const endsInString = st.quote !== 0 && !s.firstLine.includes(String.fromCharCode(st.quote));

  // Line pass.
  let nonBlank = 0;
  let comments = 0;
  let substantive = 0;
  let repeatable = 0;
  let repeats = 0;
  let maxLen = 0;
  let tabs = false;
  let spaces = false;
  let firstSubstantive: string | undefined;
  let lastNonBlank = '';
  let lastCodeLine = '';
  const seen = new Set<string>();
  let start = 0;
  for (;;) {
    const nl = text.indexOf('\n', start);
    const line = nl < 0 ? text.slice(start) : text.slice(start, nl);
    if (line.length > maxLen) maxLen = line.length;
    const t = line.trim();
    if (t.length > 0) {
      nonBlank++;
      lastNonBlank = line.trimEnd();
      const lead = line.charCodeAt(0);
      if (lead === 9 && (start > 0 || p.atLineStart)) tabs = true;
      else if (lead === 32 && (start > 0 || p.atLineStart)) spaces = true; // mid-line, the first line's spaces are not indentation
      if (isComment(t, syn)) comments++;
      else {
        lastCodeLine = t;
        if (!PLACEHOLDER_LINE.test(t)) {
          substantive++;
          firstSubstantive ??= t;
          if (t.length >= 6) {
            repeatable++;
            if (seen.has(t)) repeats++;
            else seen.add(t);
          }
        }
      }
    }
    if (nl < 0) break;
    start = nl + 1;
  }

  const f = out;
  const total = c.totalSamples > 0 ? c.totalSamples : 1;
  f[o + COL.vote_share] = Math.min(1, Math.max(0, c.votes / total));
  f[o + COL.log_chars] = Math.log1p(text.length);
  f[o + COL.log_lines] = Math.log1p(nonBlank);
  const hasLp = c.meanLogprob !== undefined && Number.isFinite(c.meanLogprob);
  f[o + COL.mean_logprob] = hasLp ? Math.min(0, Math.max(-10, c.meanLogprob as number)) : 0;
  f[o + COL.has_logprob] = hasLp ? 1 : 0;
  f[o + COL.bracket_mismatch] = Math.min(3, stats.mismatches);
  f[o + COL.unclosed_brackets] = Math.min(3, st.stack.length - stats.minDepth);
  f[o + COL.unterminated_string] = stats.brokenStrings > 0 || endsInString ? 1 : 0;
  const lastChar = lastCodeLine.length > 0 ? lastCodeLine[lastCodeLine.length - 1] : undefined;
  f[o + COL.ends_mid_expression] = lastChar !== undefined && ABRUPT_END.has(lastChar) && !COMPLETE_END.test(lastCodeLine) ? 1 : 0;
  f[o + COL.placeholder_only] = substantive === 0 ? 1 : 0;
  f[o + COL.todo_marker] = TODO_MARKER.test(text) ? 1 : 0;
  f[o + COL.repeated_line_frac] = repeatable > 0 ? repeats / repeatable : 0;
  f[o + COL.in_function_body] = p.inFunctionBody ? 1 : 0;
  f[o + COL.missing_return] = p.expectsReturn && !RETURN_WORD.test(text) ? 1 : 0;
  f[o + COL.repeats_prefix_line] = firstSubstantive !== undefined && firstSubstantive.length >= 6 && p.lastLines.includes(firstSubstantive) ? 1 : 0;
  f[o + COL.duplicates_suffix] = lastNonBlank.length > 0 && lastNonBlank === s.firstNonBlank ? 1 : 0;
  f[o + COL.comment_frac] = nonBlank > 0 ? comments / nonBlank : 0;
  f[o + COL.indent_mismatch] = (tabs && spaces) || (tabs && p.usesSpaces && !p.usesTabs) || (spaces && p.usesTabs && !p.usesSpaces) ? 1 : 0;
  f[o + COL.long_line] = maxLen > 160 ? 1 : 0;
  f[o + COL.undefined_name] = usesUndefinedName(c, p.pyNames, s) ? 1 : 0;
  if (c.exec) writeExecFeatures(f, o, c.exec);
}

/**
 * Writes the execution columns of one row (at offset `o`) from an outcome. Also used when an
 * outcome arrives after the reply: the stored row then gets the features the outcome implies.
 */
export function writeExecFeatures(f: Float32Array, o: number, x: ExecFeatures): void {
  f[o + COL.exec_ran] = 1;
  f[o + COL.exec_pass_frac] = x.trustedTotal > 0 ? Math.min(1, Math.max(0, x.trustedPassed / x.trustedTotal)) : 0;
  f[o + COL.exec_all_passed] = x.trustedTotal > 0 && x.trustedPassed >= x.trustedTotal ? 1 : 0;
  f[o + COL.exec_agreement] = Math.min(1, Math.max(0, x.agreement));
  f[o + COL.exec_agreement_best] = x.agreementBest ? 1 : 0;
  f[o + COL.exec_cluster_frac] = Math.min(1, Math.max(0, x.clusterFrac));
  f[o + COL.exec_syntax_error] = x.syntaxError ? 1 : 0;
  f[o + COL.exec_timeout] = x.timedOut ? 1 : 0;
  f[o + COL.exec_exception] = x.exception ? 1 : 0;
}

/** A copy of a row-major feature matrix with every execution column 0: the rows as if nothing had run. */
export function withoutExecFeatures(f: Float32Array): Float32Array {
  const out = new Float32Array(f);
  const cols = FEATURE_NAMES.flatMap((name, i) => (name.startsWith('exec_') ? [i] : []));
  for (let o = 0; o < out.length; o += NUM_FEATURES) for (const c of cols) out[o + c] = 0;
  return out;
}

/** Featurizes candidates into a row-major [n, NUM_FEATURES] matrix. */
export function featurize(cands: readonly FeatureInput[]): Float32Array {
  const out = new Float32Array(cands.length * NUM_FEATURES);
  // Candidates of one request share a prefix and suffix (usually the very same string
  // objects): analyze each distinct one once, without hashing long strings per candidate.
  const prefixes = new Map<string, Map<string, PrefixInfo>>();
  const suffixes = new Map<string, SuffixInfo>();
  let lastPrefix: string | undefined;
  let lastLang: string | undefined;
  let lastSuffix: string | undefined;
  let p: PrefixInfo | undefined;
  let s: SuffixInfo | undefined;
  cands.forEach((c, row) => {
    if (p === undefined || c.prefix !== lastPrefix || c.languageId !== lastLang) {
      let byPrefix = prefixes.get(c.languageId);
      if (!byPrefix) prefixes.set(c.languageId, (byPrefix = new Map()));
      p = byPrefix.get(c.prefix);
      if (!p) byPrefix.set(c.prefix, (p = analyzePrefix(c.prefix, c.languageId)));
      lastPrefix = c.prefix;
      lastLang = c.languageId;
    }
    if (s === undefined || c.suffix !== lastSuffix) {
      s = suffixes.get(c.suffix);
      if (!s) suffixes.set(c.suffix, (s = analyzeSuffix(c.suffix)));
      lastSuffix = c.suffix;
    }
    featurizeOne(c, p, s, out, row);
  });
  return out;
}

/**
 * Stored rows of an older feature set that can be brought to this one by computing only the
 * columns the newer sets add, from the texts stored with them, so that feedback given before
 * an upgrade still trains the new ranker: fs-2 rows get `undefined_name` (from the stored
 * candidate text, prefix and suffix); fs-2 and fs-3 rows get the reward columns as absent
 * (0: no reward model scored them). The stored columns are kept as they are, never
 * recomputed. Returns undefined when `fromSet` cannot be upgraded (or a row is not of it).
 */
export function upgradeRows(fromSet: string, toSet: string, request: { prefix: string; suffix: string; languageId: string }, rows: readonly { text: string; features: Float32Array }[]): Float32Array[] | undefined {
  const from = FEATURE_SETS[fromSet];
  if ((fromSet !== 'fs-2' && fromSet !== 'fs-3') || toSet !== FEATURE_SET_ID || FEATURE_SET_ID !== 'fs-4' || !from || rows.some((r) => r.features.length !== from.length)) return undefined;
  const fromPrefix = fromSet === 'fs-2' && request.languageId === 'python' ? contextNames(request.prefix) : undefined;
  const s: SuffixInfo = { firstLine: '', firstNonBlank: '' };
  return rows.map((r) => {
    const out = new Float32Array(NUM_FEATURES);
    out.set(r.features);
    if (fromSet === 'fs-2') out[COL.undefined_name] = usesUndefinedName({ text: r.text, prefix: request.prefix, suffix: request.suffix, languageId: request.languageId, votes: 1, totalSamples: 1 }, fromPrefix, s) ? 1 : 0;
    return out;
  });
}

/**
 * Writes the reward columns of a request's rows (row-major [n, F], in place) from the reward
 * model's scores, one per row in the same order.
 */
export function writeRewardFeatures(f: Float32Array, scores: ArrayLike<number>): void {
  const n = scores.length;
  if (f.length !== n * NUM_FEATURES) throw new Error(`writeRewardFeatures: ${n} scores for ${f.length / NUM_FEATURES} rows`);
  let mean = 0;
  for (let i = 0; i < n; i++) mean += scores[i] as number;
  mean /= n || 1;
  let v = 0;
  for (let i = 0; i < n; i++) v += ((scores[i] as number) - mean) ** 2;
  const sd = Math.sqrt(v / (n || 1));
  for (let i = 0; i < n; i++) {
    const o = i * NUM_FEATURES;
    f[o + COL.reward_present] = 1;
    f[o + COL.reward_z] = sd > 1e-6 ? Math.min(3, Math.max(-3, ((scores[i] as number) - mean) / sd)) : 0;
  }
}

/** A copy of one row with the reward columns cleared (a score of another reward model than the one being trained with). */
export function withoutReward(row: Float32Array): Float32Array {
  const out = Float32Array.from(row);
  out[COL.reward_present] = 0;
  out[COL.reward_z] = 0;
  return out;
}

/** Whether a row (of the current set) has a reward model score. */
export function hasReward(row: Float32Array): boolean {
  return row[COL.reward_present] === 1;
}

// ---------------------------------------------------------------------------------------
// The built-in ranker: a linear score with hand-chosen weights, no normalization.

export const BUILTIN_VERSION = 'builtin-4';

/** Hand-chosen weights: agreement and likelihood up, signs of broken or unfinished code down. */
const BUILTIN_WEIGHTS: Record<FeatureName, number> = {
  vote_share: 4.0,
  log_chars: 0,
  log_lines: 0,
  mean_logprob: 1.0,
  has_logprob: 0,
  bracket_mismatch: -1.5,
  unclosed_brackets: -0.5,
  unterminated_string: -1.5,
  ends_mid_expression: -1.0,
  placeholder_only: -2.5,
  todo_marker: -0.5,
  repeated_line_frac: -2.0,
  in_function_body: 0,
  missing_return: -1.0,
  repeats_prefix_line: -1.0,
  duplicates_suffix: -1.0,
  comment_frac: -1.0,
  indent_mismatch: -0.5,
  long_line: -0.3,
  // Execution: passing every trusted test outweighs any sum of the other features (the text
  // features' spread is under 35), so such a candidate is ranked first, as the docstring
  // filter of `winnow bench` does; then CodeT's pick (the best consensus set over the
  // model-written tests) outweighs the text features' usual spread, and agreement orders the rest.
  exec_ran: 0,
  exec_pass_frac: 4.0,
  exec_all_passed: 60.0,
  exec_agreement: 3.0,
  exec_agreement_best: 10.0,
  exec_cluster_frac: 0,
  exec_syntax_error: -4.0,
  exec_timeout: -2.0,
  exec_exception: -2.0,
  // A NameError waiting to happen: on the HumanEval pool at N = 8 without execution, this
  // lifts top-1 by 1 to 2 points (BENCHMARKS.md, the simulated developer's last table).
  undefined_name: -2.0,
  // The reward model (when one is set): a guess, since Winnow cannot know how good the model
  // a user plugs in is; one standard deviation above the request's mean counts like a
  // quarter of the vote share. Training sets the real weight (docs/reward-model.md).
  reward_present: 0,
  reward_z: 1.0,
};

export const BUILTIN_SPEC: RankerSpec = {
  version: BUILTIN_VERSION,
  featureNames: [...FEATURE_NAMES],
  mean: FEATURE_NAMES.map(() => 0),
  std: FEATURE_NAMES.map(() => 1),
  layers: [{ weights: FEATURE_NAMES.map((n) => [BUILTIN_WEIGHTS[n]]), bias: [0], activation: 'none' }],
  metadata: { 'winnow.description': 'built-in hand-weighted linear ranker', 'winnow.featureSet': FEATURE_SET_ID, 'winnow.family': 'linear' },
};
