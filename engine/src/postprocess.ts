/**
 * Post-processing of raw samples into candidates: cut each sample at the end of the block
 * it started, stop where it starts repeating the text after the cursor, trim, drop empty
 * ones, and merge duplicates (counting them: how many samples agree is a ranking signal).
 * Pure functions, no I/O.
 */

export interface RawSample {
  text: string;
  meanLogprob?: number;
}

export interface PostContext {
  prefix: string;
  suffix: string;
  languageId: string;
}

export interface ProcessedCandidate {
  text: string;
  /** Number of raw samples that produced this text. */
  votes: number;
  /** Mean of the samples' mean log-probabilities, when all of them had one. */
  meanLogprob?: number;
  /** Index of the first raw sample that produced it. */
  firstSample: number;
}

export const MAX_LINES = 80;

const INDENT_LANGUAGES = new Set(['python', 'yaml', 'coffeescript', 'nim', 'haskell', 'fsharp']);

function indentOf(line: string): number {
  let n = 0;
  for (const ch of line) {
    if (ch === ' ') n += 1;
    else if (ch === '\t') n += 4;
    else break;
  }
  return n;
}

const isBlank = (line: string): boolean => line.trim().length === 0;
const isClosersOnly = (line: string): boolean => /^[\s)\]}>;,]+$/.test(line) && /[)\]}]/.test(line);

/**
 * Cuts a completion at the end of the block it is in. Indentation drives it: the block's
 * indentation is that of the completion's first non-blank line (in absolute columns, with
 * the text before the cursor on its line counted), and the block ends at the first later
 * non-blank line indented less. A line of closing brackets that ends the block is kept when
 * the suffix does not already close it. At the top level (indentation 0), the block ends at
 * the first top-level line after an indented one (a second definition).
 */
export function cutAtBlockEnd(text: string, ctx: PostContext): string {
  const lines = text.split('\n');
  const cursorLine = ctx.prefix.slice(ctx.prefix.lastIndexOf('\n') + 1);
  const cursorCol = indentOf(cursorLine) === cursorLine.length ? cursorLine.length : -1; // -1: mid-line
  let base = -1;
  let sawIndented = false;
  const indentLang = INDENT_LANGUAGES.has(ctx.languageId);
  for (let i = 0; i < lines.length && i < MAX_LINES; i++) {
    const line = lines[i] ?? '';
    if (isBlank(line)) continue;
    // Absolute indentation of this line in the document.
    const abs = i === 0 ? (cursorCol >= 0 ? cursorCol + indentOf(line) : indentOf(cursorLine)) : indentOf(line);
    if (base < 0) {
      base = abs;
      continue;
    }
    if (abs < base) {
      if (!indentLang && isClosersOnly(line) && !ctx.suffix.trimStart().startsWith(line.trim().charAt(0))) {
        return lines.slice(0, i + 1).join('\n');
      }
      return lines.slice(0, i).join('\n');
    }
    if (base === 0) {
      if (abs > 0) sawIndented = true;
      else if (sawIndented && indentLang) return lines.slice(0, i).join('\n');
    }
  }
  return lines.slice(0, MAX_LINES).join('\n');
}

/**
 * Stops a completion where it repeats the text after the cursor: at a line equal to the
 * suffix's first non-blank line, and drops a tail that the rest of the cursor's line
 * already has (for example a closing parenthesis).
 */
export function stopAtSuffix(text: string, suffix: string): string {
  let out = text;
  const firstSuffixLine = suffix.split('\n').find((l) => !isBlank(l))?.trim();
  if (firstSuffixLine && firstSuffixLine.length >= 2) {
    const lines = out.split('\n');
    // Line 0 continues the cursor's line; a repeat is a later line equal to the suffix's first.
    const at = lines.findIndex((l, i) => i > 0 && l.trim() === firstSuffixLine);
    if (at > 0) out = lines.slice(0, at).join('\n');
  }
  const restOfLine = suffix.slice(0, suffix.indexOf('\n') === -1 ? suffix.length : suffix.indexOf('\n')).trimEnd();
  if (restOfLine.trim().length > 0) {
    const trimmed = out.trimEnd();
    if (trimmed.endsWith(restOfLine.trim())) out = trimmed.slice(0, trimmed.length - restOfLine.trim().length);
  }
  return out;
}

/** Normal form used to merge duplicates: trailing spaces per line and trailing blank lines ignored. */
export function dedupKey(text: string): string {
  return text
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .replace(/\n+$/, '');
}

export function cleanSample(raw: string, ctx: PostContext): string {
  const normalized = raw.replace(/\r\n/g, '\n');
  const cut = stopAtSuffix(cutAtBlockEnd(normalized, ctx), ctx.suffix);
  return cut.replace(/\s+$/, '');
}

export function postprocess(samples: readonly RawSample[], ctx: PostContext): ProcessedCandidate[] {
  const byKey = new Map<string, ProcessedCandidate & { logprobs: number[]; allHaveLogprob: boolean }>();
  samples.forEach((s, i) => {
    const text = cleanSample(s.text, ctx);
    if (text.trim().length === 0) return;
    const key = dedupKey(text);
    const seen = byKey.get(key);
    if (seen) {
      seen.votes += 1;
      if (s.meanLogprob === undefined) seen.allHaveLogprob = false;
      else seen.logprobs.push(s.meanLogprob);
      return;
    }
    byKey.set(key, {
      text,
      votes: 1,
      firstSample: i,
      logprobs: s.meanLogprob === undefined ? [] : [s.meanLogprob],
      allHaveLogprob: s.meanLogprob !== undefined,
    });
  });
  return [...byKey.values()].map(({ logprobs, allHaveLogprob, ...c }) =>
    allHaveLogprob && logprobs.length > 0 ? { ...c, meanLogprob: logprobs.reduce((a, b) => a + b, 0) / logprobs.length } : c,
  );
}
