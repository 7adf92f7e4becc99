/**
 * Builds the completion context the engine sees from a document and a cursor: prefix and
 * suffix windows, language id, file path. Pure: no LSP, no I/O.
 */

export const PREFIX_CHARS = 8000;
export const SUFFIX_CHARS = 2000;
/** Documents larger than this get no completions (generated or minified files). */
export const MAX_DOCUMENT_CHARS = 5 * 1024 * 1024;
/** A cursor line longer than this is almost surely minified or data, not code being typed. */
export const MAX_LINE_CHARS = 2000;

export interface CompletionContext {
  prefix: string;
  suffix: string;
  languageId: string;
  filePath: string;
}

export type ContextResult = { ok: true; context: CompletionContext } | { ok: false; reason: string };

/** Converts a document URI to a file path when it is a file URI; other schemes stay as they are. */
export function filePathOf(uri: string): string {
  if (!uri.startsWith('file://')) return uri;
  try {
    const url = new URL(uri);
    const p = decodeURIComponent(url.pathname);
    // file:///c%3A/x on Windows → c:/x
    return /^\/[a-zA-Z]:/.test(p) ? p.slice(1) : p;
  } catch {
    return uri;
  }
}

/** Cuts a window at a line boundary when one is near, so the model never sees half a line at the edge. */
function prefixWindow(text: string, offset: number): string {
  if (offset <= PREFIX_CHARS) return text.slice(0, offset);
  const start = offset - PREFIX_CHARS;
  const nl = text.indexOf('\n', start);
  return text.slice(nl >= 0 && nl < offset && nl - start < 200 ? nl + 1 : start, offset);
}

function suffixWindow(text: string, offset: number): string {
  const end = offset + SUFFIX_CHARS;
  if (end >= text.length) return text.slice(offset);
  const nl = text.lastIndexOf('\n', end);
  return text.slice(offset, nl > offset && end - nl < 200 ? nl : end);
}

export function buildContext(text: string, offset: number, languageId: string, uri: string): ContextResult {
  if (text.length > MAX_DOCUMENT_CHARS) return { ok: false, reason: `document has ${text.length} characters (limit ${MAX_DOCUMENT_CHARS})` };
  if (offset < 0 || offset > text.length) return { ok: false, reason: `cursor offset ${offset} outside the document` };
  const prefix = prefixWindow(text, offset);
  const suffix = suffixWindow(text, offset);
  if (prefix.includes('\u0000') || suffix.includes('\u0000')) return { ok: false, reason: 'document looks binary (NUL characters)' };
  const lineStart = text.lastIndexOf('\n', offset - 1) + 1;
  let lineEnd = text.indexOf('\n', offset);
  if (lineEnd < 0) lineEnd = text.length;
  if (lineEnd - lineStart > MAX_LINE_CHARS) return { ok: false, reason: `cursor line has more than ${MAX_LINE_CHARS} characters` };
  return { ok: true, context: { prefix, suffix, languageId, filePath: filePathOf(uri) } };
}
