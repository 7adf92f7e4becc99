/**
 * The completion cache: answers without asking the engine when the answer is already known.
 *
 * - Type-ahead: the user typed the first characters of a shown suggestion (nothing else in the
 *   document changed). The candidates that still match are answered again, anchored where they
 *   were (their range covers what was typed), so VS Code keeps showing the rest of the same
 *   suggestion and the feedback stays on the same candidate.
 * - Recent: the document before and after the cursor is what it was for a recent request (the
 *   user deleted what they typed, or came back): its candidates are answered again.
 *
 * Pure: entries hold the document's text before and after the anchor, compared as strings
 * (one memcmp per entry, at most {@link MAX_ENTRIES}); nothing older than {@link TTL_MS} is used.
 */

export interface CachedCandidate<R> {
  text: string;
  /** What the item carries (its ids), given back as is. */
  ref: R;
}

export interface CacheHit<R> {
  kind: 'typeahead' | 'recent';
  /** Offset the items' range starts at (the anchor of the original request). */
  anchor: number;
  /** What the user typed since the anchor ('' for `recent`). */
  typed: string;
  /** The candidates that still match, in their ranked order. */
  candidates: CachedCandidate<R>[];
}

interface Entry<R> {
  uri: string;
  anchor: number;
  before: string;
  after: string;
  candidates: CachedCandidate<R>[];
  time: number;
}

export const MAX_ENTRIES = 16;
export const TTL_MS = 5 * 60_000;
/** Most characters typed ahead that are still looked up (a longer run is a new request anyway). */
const MAX_TYPED = 2000;

export class CompletionCache<R> {
  private entries: Entry<R>[] = [];

  /** Remembers the candidates answered for `uri` with the cursor at `offset` of `text`. */
  remember(uri: string, text: string, offset: number, candidates: readonly CachedCandidate<R>[], now: number): void {
    if (candidates.length === 0) return;
    const before = text.slice(0, offset);
    const after = text.slice(offset);
    this.entries = this.entries.filter((e) => !(e.uri === uri && e.anchor === offset && e.before === before && e.after === after));
    this.entries.push({ uri, anchor: offset, before, after, candidates: [...candidates], time: now });
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
  }

  /** The cached answer for the cursor at `offset` of `text`, newest entry first; undefined: ask the engine. */
  lookup(uri: string, text: string, offset: number, now: number): CacheHit<R> | undefined {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i] as Entry<R>;
      if (e.uri !== uri || now - e.time > TTL_MS) continue;
      const typedLength = offset - e.anchor;
      if (typedLength < 0 || typedLength > MAX_TYPED) continue;
      if (text.length - offset !== e.after.length || !text.endsWith(e.after) || !text.startsWith(e.before)) continue;
      const typed = text.slice(e.anchor, offset);
      // Candidates that continue what was typed (and still have something to show).
      const candidates = e.candidates.filter((c) => c.text.length > typed.length && c.text.startsWith(typed));
      if (candidates.length === 0) continue;
      return { kind: typed.length === 0 ? 'recent' : 'typeahead', anchor: e.anchor, typed, candidates };
    }
    return undefined;
  }

  /** Forgets everything (the settings changed: another model server, another N). */
  clear(): void {
    this.entries = [];
  }

  /** Drops what is known of a document (closed). */
  forget(uri: string): void {
    this.entries = this.entries.filter((e) => e.uri !== uri);
  }
}
