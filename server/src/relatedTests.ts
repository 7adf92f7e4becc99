/**
 * The project's own tests for the function being written, when they can be found cheaply: test
 * files named by convention after the file being edited, read and cut to the lines that
 * mention the function, for the engine to turn into asserts (engine/src/testsources/project.ts).
 *
 * Cheap by construction: a fixed, small list of candidate paths is computed from the file's
 * name and folder (no directory is ever listed, let alone walked); the folders among them are
 * checked with one `stat` each, then the file names in the folders that exist. Conventions:
 *
 * - Python (`<stem>.py`; `__init__.py` counts as its package's name): `test_<stem>.py` and
 *   `<stem>_test.py` in the same folder, and in `tests/` and `test/` folders next to it and next
 *   to each of its ancestors up to the workspace root (at most {@link MAX_LEVELS} folders up, and
 *   always the root itself), mirroring the source's subfolders or flat (`src/pkg/m.py` ↔
 *   `tests/pkg/test_m.py` or `tests/test_m.py`, a leading `src/` or `lib/` dropped).
 * - JavaScript/TypeScript (`<stem>.<ext>`; `index.<ext>` counts as its folder's name), every
 *   extension of .js .ts .mjs .cjs .jsx .tsx: `<stem>.test.<ext>` and `<stem>.spec.<ext>` in the same
 *   folder; `__tests__/<stem>.<ext>` (also `.test.`/`.spec.`) next to it; and in `test/`,
 *   `tests/` and `__tests__/` folders next to each ancestor (the same bound), mirrored or flat:
 *   `<stem>.test.<ext>`, `<stem>.spec.<ext>` and the node:test style `<stem>.<ext>`. The
 *   source's own extension is tried first.
 *
 * Only paths inside a workspace root are considered; files over 1 MiB or holding NUL bytes
 * are skipped, as are unreadable ones (nothing here throws). The list found for a source file
 * is cached for a short time ({@link LIST_TTL_MS}), the text of each test file by (path, mtime,
 * size), so repeated completions in the same file cost a few `stat`s and no reads.
 *
 * Node only (fs, path); no LSP.
 */
import { promises as fsp, type Stats } from 'node:fs';
import * as path from 'node:path';
import { MAX_RELATED_TEST_CHARS, MAX_RELATED_TEST_FILES, type RelatedTestFile } from '../../engine/src/protocol';

export type { RelatedTestFile };

/** Test files larger than this are not read. */
export const MAX_TEST_FILE_BYTES = 1024 * 1024;
/** How long the list of test files found for a source file is trusted. */
export const LIST_TTL_MS = 10_000;
/** Folders looked at above the source's own folder (for `tests/` and `test/` folders). */
export const MAX_LEVELS = 5;
/** Most test files kept in a list (before cutting; at most MAX_RELATED_TEST_FILES are sent). */
const MAX_FOUND = 8;
const MAX_CACHED_LISTS = 256;
const MAX_CACHED_TEXTS = 64;

const JS_EXTS = ['.js', '.ts', '.mjs', '.cjs', '.jsx', '.tsx'] as const;
const JS_LANGUAGES = new Set(['javascript', 'typescript', 'javascriptreact', 'typescriptreact']);

type Family = 'python' | 'js';

function familyOf(languageId: string): Family | null {
  if (languageId === 'python') return 'python';
  return JS_LANGUAGES.has(languageId) ? 'js' : null;
}

/** The VS Code language id of a test file, from its extension. */
export function testLanguageOf(file: string): string | null {
  switch (path.extname(file).toLowerCase()) {
    case '.py':
      return 'python';
    case '.js':
    case '.mjs':
    case '.cjs':
      return 'javascript';
    case '.jsx':
      return 'javascriptreact';
    case '.ts':
    case '.mts':
    case '.cts':
      return 'typescript';
    case '.tsx':
      return 'typescriptreact';
    default:
      return null;
  }
}

export interface RelatedTestQuery {
  /** Absolute path of the file being edited. */
  filePath: string;
  /** Its VS Code language id; only Python and JavaScript/TypeScript (and their React forms) have conventions. */
  languageId: string;
  /** The function being written; when given, only the lines that mention it are kept (and files that never do are dropped). */
  functionName?: string | undefined;
  /** Workspace folder roots (absolute paths); nothing outside them is looked at. */
  workspaceRoots: readonly string[];
}

/** A folder to look in and the file names to try there. */
interface Group {
  dir: string;
  names: string[];
  /** The folder is known to exist (the source's own folder). */
  exists: boolean;
}

function isInside(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** The deepest workspace root holding `filePath`, if any. */
export function rootOf(filePath: string, roots: readonly string[]): string | undefined {
  let best: string | undefined;
  for (const r of roots) {
    if (!r || !path.isAbsolute(r)) continue;
    const root = path.resolve(r);
    if (isInside(root, filePath) && (best === undefined || root.length > best.length)) best = root;
  }
  return best;
}

/**
 * Where the tests of `filePath` may be, by convention, most likely first: folders with the file
 * names to try in each. Pure (no I/O); bounded (at most a few dozen folders).
 */
function candidateGroups(filePath: string, family: Family, root: string): Group[] {
  const dir = path.dirname(filePath);
  let stem = path.parse(filePath).name;
  if ((family === 'python' && stem === '__init__') || (family === 'js' && stem === 'index')) stem = path.basename(dir);
  if (!stem) return [];
  const groups: Group[] = [];
  const seen = new Set<string>();
  const add = (d: string, names: string[], exists = false) => {
    const key = path.resolve(d);
    if (seen.has(key) || !isInside(root, key)) return;
    seen.add(key);
    groups.push({ dir: key, names, exists });
  };
  const py = [`test_${stem}.py`, `${stem}_test.py`];
  // The source's own extension first, `.test.` before `.spec.`.
  const own = path.extname(filePath).toLowerCase();
  const exts = [...JS_EXTS.filter((e) => e === own), ...JS_EXTS.filter((e) => e !== own)];
  const jsTest = [...exts.map((e) => `${stem}.test${e}`), ...exts.map((e) => `${stem}.spec${e}`)];
  const jsAll = [...jsTest, ...exts.map((e) => `${stem}${e}`)];
  const testDirs = family === 'python' ? ['tests', 'test'] : ['test', 'tests', '__tests__'];
  const names = family === 'python' ? py : jsAll;

  add(dir, family === 'python' ? py : jsTest, true);
  if (family === 'js') add(path.join(dir, '__tests__'), jsAll);
  // The source's folder and its ancestors up to the root: flat and mirrored test folders.
  const levels: string[] = [];
  for (let level = dir, i = 0; i <= MAX_LEVELS && isInside(root, level); i++) {
    levels.push(level);
    if (level === root) break;
    const up = path.dirname(level);
    if (up === level) break;
    level = up;
  }
  // The root itself always counts, however deep the file is (where most projects keep `tests/`).
  if (!levels.includes(root)) levels.push(root);
  for (const level of levels) {
    const rel = path.relative(level, dir);
    const segs = rel === '' ? [] : rel.split(path.sep);
    // Most specific first: mirrored (`tests/src/pkg/`, `tests/pkg/`), then flat (`tests/`).
    const mirrors: string[] = [];
    if (segs.length > 0) mirrors.push(segs.join(path.sep));
    if (segs.length > 1 && (segs[0] === 'src' || segs[0] === 'lib')) mirrors.push(segs.slice(1).join(path.sep));
    mirrors.push('');
    for (const td of testDirs) for (const m of mirrors) add(path.join(level, td, m), names);
  }
  return groups;
}

async function statOrNull(p: string): Promise<Stats | null> {
  try {
    return await fsp.stat(p);
  } catch {
    return null;
  }
}

/** Keeps the lines that mention `name` (as a whole word), and import lines; empty when no line mentions it. */
export function cutToRelevant(text: string, languageId: string, name: string | undefined): string {
  const lines = text.replace(/^\uFEFF/, '').split('\n').map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
  if (!name) return lines.join('\n');
  const word = new RegExp(`(?<![\\p{L}\\p{N}_$])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?![\\p{L}\\p{N}_$])`, 'u');
  const importLine = languageId === 'python' ? /^\s*(?:import|from)\s/ : /^\s*import\b|\brequire\s*\(/;
  let mentions = false;
  const kept: string[] = [];
  const importWord = languageId === 'python' ? /import/ : /import|require/;
  for (const l of lines) {
    // Cheap substring checks first: most lines of a big test file mention neither.
    if (l.includes(name) && word.test(l)) {
      mentions = true;
      kept.push(l);
    } else if (importWord.test(l) && importLine.test(l)) kept.push(l);
  }
  return mentions ? kept.join('\n') : '';
}

/** At most `max` characters, cut at a line end when there is one. */
export function capText(text: string, max = MAX_RELATED_TEST_CHARS): string {
  if (text.length <= max) return text;
  const nl = text.lastIndexOf('\n', max);
  return nl > 0 ? text.slice(0, nl) : text.slice(0, max);
}

interface TextEntry {
  mtimeMs: number;
  size: number;
  /** Null: binary (NUL bytes), too large or unreadable. */
  text: string | null;
  /** Cut text by function name ('' key: no name). */
  cuts: Map<string, string>;
}

export interface FinderOptions {
  /** How long a list of found test files is trusted (default {@link LIST_TTL_MS}). */
  listTtlMs?: number;
  /** Largest test file read (default {@link MAX_TEST_FILE_BYTES}). */
  maxFileBytes?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * Finds and reads the related test files of a source file, with the caches described in the
 * module comment. One per server; `find` never throws.
 */
export class RelatedTestFinder {
  private readonly lists = new Map<string, { at: number; paths: string[] }>();
  private readonly texts = new Map<string, TextEntry>();
  private readonly ttl: number;
  private readonly maxBytes: number;
  private readonly now: () => number;

  constructor(opts: FinderOptions = {}) {
    this.ttl = opts.listTtlMs ?? LIST_TTL_MS;
    this.maxBytes = opts.maxFileBytes ?? MAX_TEST_FILE_BYTES;
    this.now = opts.now ?? Date.now;
  }

  /** Forgets everything (for example when workspace folders change). */
  clear(): void {
    this.lists.clear();
    this.texts.clear();
  }

  async find(q: RelatedTestQuery): Promise<RelatedTestFile[]> {
    try {
      return await this.findUnsafe(q);
    } catch {
      return [];
    }
  }

  /** The paths of the conventional test files that exist for `filePath` (cached for a short time). */
  async testPaths(filePath: string, languageId: string, workspaceRoots: readonly string[]): Promise<string[]> {
    const family = familyOf(languageId);
    if (!family || !path.isAbsolute(filePath)) return [];
    const source = path.resolve(filePath);
    const root = rootOf(source, workspaceRoots);
    if (!root) return [];
    const key = `${family}\u0000${root}\u0000${source}`;
    const cached = this.lists.get(key);
    if (cached && this.now() - cached.at < this.ttl) return cached.paths;
    const groups = candidateGroups(source, family, root);
    const dirOk = await Promise.all(groups.map(async (g) => g.exists || (await statOrNull(g.dir))?.isDirectory() === true));
    const files = groups.filter((_, i) => dirOk[i]).flatMap((g) => g.names.map((n) => path.join(g.dir, n)));
    const stats = await Promise.all(files.map((f) => (f === source ? Promise.resolve(null) : statOrNull(f))));
    const paths = files.filter((f, i) => stats[i]?.isFile() === true && testLanguageOf(f) !== null).slice(0, MAX_FOUND);
    this.lists.delete(key);
    this.lists.set(key, { at: this.now(), paths });
    if (this.lists.size > MAX_CACHED_LISTS) this.lists.delete(this.lists.keys().next().value as string);
    return paths;
  }

  private async findUnsafe(q: RelatedTestQuery): Promise<RelatedTestFile[]> {
    const paths = await this.testPaths(q.filePath, q.languageId, q.workspaceRoots);
    if (paths.length === 0) return [];
    const name = q.functionName ?? '';
    const texts = await Promise.all(paths.map((p) => this.cutText(p, name)));
    const out: RelatedTestFile[] = [];
    paths.forEach((p, i) => {
      const text = texts[i];
      const languageId = testLanguageOf(p);
      if (text && languageId && out.length < MAX_RELATED_TEST_FILES) out.push({ path: p, languageId, text });
    });
    return out;
  }

  /** The file's text cut for `name` and capped; '' when it is unusable or never mentions `name`. */
  private async cutText(file: string, name: string): Promise<string> {
    const entry = await this.read(file);
    if (!entry?.text) return '';
    let cut = entry.cuts.get(name);
    if (cut === undefined) {
      cut = capText(cutToRelevant(entry.text, testLanguageOf(file) ?? '', name || undefined));
      entry.cuts.set(name, cut);
      if (entry.cuts.size > 16) entry.cuts.delete(entry.cuts.keys().next().value as string);
    }
    return cut;
  }

  private async read(file: string): Promise<TextEntry | null> {
    const st = await statOrNull(file);
    if (!st?.isFile()) {
      this.texts.delete(file);
      return null;
    }
    const cached = this.texts.get(file);
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached;
    let text: string | null = null;
    if (st.size <= this.maxBytes) {
      try {
        const buf = await fsp.readFile(file);
        if (buf.length <= this.maxBytes && !buf.includes(0)) text = buf.toString('utf8');
      } catch {
        text = null;
      }
    }
    const entry: TextEntry = { mtimeMs: st.mtimeMs, size: st.size, text, cuts: new Map() };
    this.texts.delete(file);
    this.texts.set(file, entry);
    if (this.texts.size > MAX_CACHED_TEXTS) this.texts.delete(this.texts.keys().next().value as string);
    return entry;
  }
}

const defaultFinder = new RelatedTestFinder();

/**
 * The related test files of the file being edited, cut to what matters (see the module
 * comment). Never throws; [] when there are none, the language has no conventions, the file is
 * outside every workspace root, or `timeoutMs` passes first (the search then goes on in the
 * background and fills the caches for the next request).
 */
export async function findRelatedTests(q: RelatedTestQuery & { timeoutMs?: number }, finder: RelatedTestFinder = defaultFinder): Promise<RelatedTestFile[]> {
  const found = finder.find(q);
  if (q.timeoutMs === undefined) return found;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<RelatedTestFile[]>((resolve) => {
    timer = setTimeout(() => resolve([]), q.timeoutMs);
    timer.unref?.();
  });
  try {
    return await Promise.race([found, late]);
  } finally {
    clearTimeout(timer);
  }
}

const PY_DEF = /^[ \t]*(?:async[ \t]+)?def[ \t]+([\p{L}_][\p{L}\p{N}_]*)[ \t]*\(/gmu;
const JS_DEFS = [
  /\bfunction\b[ \t]*\*?[ \t]*([\p{L}_$][\p{L}\p{N}_$]*)[ \t]*(?:<[^>\n]*>)?[ \t]*\(/gu,
  /\b(?:const|let|var)[ \t]+([\p{L}_$][\p{L}\p{N}_$]*)[ \t]*(?::[^=\n]+)?=[ \t]*(?:async[ \t]*)?(?:function\b[^(\n]*\(|\(|[\p{L}_$][\p{L}\p{N}_$]*[ \t]*=>)/gu,
  /^[ \t]*(?:(?:public|private|protected|static|async|override|get|set)[ \t]+)*\*?([\p{L}_$][\p{L}\p{N}_$]*)[ \t]*(?:<[^>\n]*>)?\([^)\n]*\)[ \t]*(?::[^{\n]+)?\{/gmu,
];
const NOT_NAMES = new Set(['if', 'for', 'while', 'switch', 'catch', 'function', 'return', 'with', 'do', 'else', 'new', 'typeof', 'await', 'super', 'constructor']);

/**
 * The name of the function being written: the last definition before the cursor in `prefix`
 * (Python `def name(`; JavaScript/TypeScript `function name(`, `const name = (…) =>`,
 * `const name = x =>`, `const name = function (`, a method `name(…) {`). Undefined when none.
 */
export function functionNameAt(prefix: string, languageId: string): string | undefined {
  const family = familyOf(languageId);
  if (!family) return undefined;
  let best: { at: number; name: string } | undefined;
  for (const re of family === 'python' ? [PY_DEF] : JS_DEFS) {
    re.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = re.exec(prefix))) {
      const name = m[1] as string;
      if (!NOT_NAMES.has(name) && (best === undefined || m.index > best.at)) best = { at: m.index, name };
    }
  }
  return best?.name;
}
