/**
 * What happened to each inline suggestion, worked out from what the stable VS Code API lets an
 * extension see: the lists the provider returned, document changes, selection changes, the
 * accept command, and Winnow's own wrappers of the word / line / hide commands. Pure: no `vscode`
 * import; positions are document offsets (UTF-16 code units, as `TextDocument.offsetAt`), and
 * every method takes the current time, so the whole state machine is unit tested with a fake
 * clock (test/unit/feedbackTracker.test.ts). The VS Code side is ./vscodeAdapter.ts.
 *
 * docs/feedback-events.md is the contract: how each event is detected, its data, and what
 * cannot be observed. In short, per shown suggestion:
 *
 *   shown ─┬─ typed through (visible, continuing) ──┐
 *          ├─ word / line accepted → partially_accepted (how word|line) ─┤ (loops)
 *          ├─ Tab → accepted                         (terminal; survival checks follow)
 *          ├─ Escape → rejected dismissed            (terminal)
 *          ├─ diverging edit → rejected typed_over   (terminal)
 *          ├─ cursor moved / other editor → rejected cursor_moved (terminal)
 *          ├─ no interaction for timeoutMs → rejected timeout     (terminal)
 *          └─ replaced by a newer list while continuing → no terminal event ("superseded")
 *
 * Before a rejection or a supersession, a suggestion the user typed through by at least
 * {@link TrackerOptions.typedMinChars} non-blank characters gets `partially_accepted` (how typed).
 * A suggestion with any accepted text gets `survival` checks.
 */
import type { FeedbackParams, ItemRef } from '../../../server/src/protocol';

/** A document change: the range [start, end) of the document before it is replaced by `text`. */
export interface TextChange {
  start: number;
  end: number;
  text: string;
}

export type ChangeReason = 'undo' | 'redo' | undefined;

/** The primary selection: [start, end), and where the cursor is (one of the two ends). */
export interface SelectionOffsets {
  start: number;
  end: number;
  active: number;
  /** There are several cursors (VS Code hides ghost text on the explicit change that adds one). */
  multiple?: boolean;
}

export interface CandidateInput {
  ref: ItemRef;
  /** The item's insert text, with the document's line endings. */
  text: string;
}

/** A list of inline completion items that VS Code applied (not cancelled, not stale). */
export interface ListInput {
  /** Document key (its URI as a string). */
  doc: string;
  /** Offset where the items' range starts. */
  anchor: number;
  /** Document text already in the items' range (the range is empty for Winnow's server). */
  initial?: string;
  /** Offset of the cursor when the list was asked for. */
  cursor: number;
  /** Only blanks precede the anchor on its line (VS Code is lenient with indentation there). */
  inIndent: boolean;
  /** Best first, as the server ranked them. */
  items: readonly CandidateInput[];
  /**
   * VS Code will display the first item: the request was for the focused editor, whose single
   * cursor is still at the request's position with nothing selected, and not for the suggest
   * widget's selected entry.
   */
  displayable: boolean;
  trigger: 'automatic' | 'explicit';
}

/** Reads document text (for survival checks and for finding an accepted item's text). */
export interface TextReader {
  /** Text of [start, end) in `doc`, clamped to the document; undefined when the document is not open. */
  text(doc: string, start: number, end: number): string | undefined;
}

export interface TrackerOptions {
  /** A shown suggestion with no interaction for this long is rejected with reason `timeout`. */
  timeoutMs: number;
  /** When to measure survival, counted from the acceptance. */
  survivalMs: readonly number[];
  /** Typing through counts as `partially_accepted` (how `typed`) from this many non-blank characters. */
  typedMinChars: number;
  /** Longest accepted text followed for survival (longer acceptances are followed for their start). */
  maxRegionChars: number;
  /**
   * How long a region that now holds a candidate's full text waits for VS Code's accept command
   * (which follows the edit at once when Tab did it) before it counts as typed through to the end.
   */
  completeGraceMs: number;
  /** Recent lists remembered per document (to find the text of a candidate that gets accepted). */
  maxListsPerDoc: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  timeoutMs: 30_000,
  survivalMs: [30_000, 120_000, 600_000],
  typedMinChars: 3,
  maxRegionChars: 4096,
  completeGraceMs: 1000,
  maxListsPerDoc: 8,
};

type Emitted = FeedbackParams;
type RejectReason = 'dismissed' | 'typed_over' | 'cursor_moved' | 'timeout';
type Detail = 'editor_changed' | 'document_closed' | 'other_editor';

interface KnownList {
  doc: string;
  anchor: number;
  inIndent: boolean;
  items: Known[];
}

interface Known {
  ref: ItemRef;
  text: string;
  list: KnownList;
}

/** The suggestion believed to be on screen. */
interface Active {
  doc: string;
  cand: Known;
  /** Offset where the suggestion starts (follows edits before it). */
  start: number;
  /** Document text in [start, start + typed.length): what the user has of it so far. */
  typed: string;
  inIndent: boolean;
  cursor: number;
  shownAt: number;
  lastActivity: number;
  /** Non-blank characters the user typed that matched (typing through). */
  typedChars: number;
  /** Characters of the suggestion accepted by word / line acceptance (cumulative prefix length). */
  acceptedChars: number;
  /** VS Code keeps this suggestion when the next list arrives (after a partial accept, undo, redo). */
  preserveNext: boolean;
  /** A document change touched the suggestion since the last selection event. */
  editedSinceSelection: boolean;
  /** The document now holds this candidate's whole text from `start`; waiting for the accept command. */
  complete?: { cand: Known; at: number; start: number };
}

interface Region {
  doc: string;
  ref: ItemRef;
  start: number;
  end: number;
  text: string;
  truncated: boolean;
  startedAt: number;
  pending: number[];
  /** Last known text of the region, taken when its document closed. */
  closedText?: string;
}

/** Whether a new list shows the active suggestion again: the same candidate first, at the same anchor, in the same document. */
function continues(s: Active, input: ListInput): boolean {
  const first = input.items.find((i) => i.text.length > 0);
  return input.displayable && s.doc === input.doc && s.start === input.anchor && first?.ref.candidateId === s.cand.ref.candidateId && first.text === s.cand.text;
}

/** A set that forgets its oldest entries past `max`. */
class BoundedSet {
  private readonly set = new Set<string>();
  constructor(private readonly max: number) {}
  has(k: string): boolean {
    return this.set.has(k);
  }
  add(k: string): void {
    this.set.delete(k);
    this.set.add(k);
    if (this.set.size > this.max) {
      const oldest = this.set.values().next().value;
      if (oldest !== undefined) this.set.delete(oldest);
    }
  }
}

export class FeedbackTracker {
  private opts: TrackerOptions;
  private active: Active | undefined;
  private readonly lists = new Map<string, KnownList[]>();
  private readonly byCandidate = new Map<string, Known>();
  private regions: Region[] = [];
  private readonly shown = new BoundedSet(4096);
  private readonly ended = new BoundedSet(4096);
  private intentHow: { how: 'word' | 'line'; at: number } | undefined;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.opts = { ...DEFAULT_TRACKER_OPTIONS, ...options };
  }

  setOptions(options: Partial<TrackerOptions>): void {
    this.opts = { ...DEFAULT_TRACKER_OPTIONS, ...options };
  }

  get options(): Readonly<TrackerOptions> {
    return this.opts;
  }

  /** Whether events in `doc` can matter (lets the adapter skip converting changes elsewhere). */
  interestedIn(doc: string): boolean {
    return this.active?.doc === doc || this.lists.has(doc) || this.regions.some((r) => r.doc === doc);
  }

  /** The candidate believed to be on screen, for logs and tests. */
  get current(): { ref: ItemRef; typed: string; text: string } | undefined {
    const a = this.active;
    return a && { ref: a.cand.ref, typed: a.typed, text: a.cand.text };
  }

  /** Pending survival checks, for logs and tests. */
  get pendingSurvival(): number {
    return this.regions.length;
  }

  // ---- inputs --------------------------------------------------------------------------

  /** VS Code applied a list from the provider (possibly empty: that hides what was shown). */
  list(input: ListInput, now: number): Emitted[] {
    const out: Emitted[] = [];
    const known = input.items.length > 0 ? this.remember(input) : undefined;
    const s = this.active;
    if (s) {
      if (s.complete) this.resolveComplete(out, now);
      else if (s.doc !== input.doc) this.end(out, now, 'cursor_moved', 'other_editor');
      else if (s.preserveNext && ghostVisible(s.typed, s.cursor - s.start, s.cand.text, s.inIndent)) {
        // VS Code puts the suggestion it shows first in the new list (after a partial accept,
        // an undo or a redo), so it stays on screen.
        s.preserveNext = false;
        return out;
      } else if (continues(s, input) && ghostVisible(s.typed, s.cursor - s.start, s.cand.text, s.inIndent)) {
        // The server answered the same suggestion again as the user typed into it (type-ahead,
        // anchored where it was): the same suggestion stays on screen.
        return out;
      } else this.end(out, now, undefined);
    }
    if (!known || !input.displayable) return out;
    const first = known.items.find((k) => k.text.length > 0);
    if (!first) return out;
    const initial = input.initial ?? '';
    if (!ghostVisible(initial, input.cursor - input.anchor, first.text, input.inIndent)) return out;
    this.active = {
      doc: input.doc,
      cand: first,
      start: input.anchor,
      typed: initial,
      inIndent: input.inIndent,
      cursor: input.cursor,
      shownAt: now,
      lastActivity: now,
      typedChars: 0,
      acceptedChars: 0,
      preserveNext: false,
      editedSinceSelection: false,
    };
    this.emitShown(out, first.ref, now, { trigger: input.trigger });
    return out;
  }

  /** The document changed (`changes` in the order VS Code lists them, each against the text left by the previous one). */
  change(doc: string, changes: readonly TextChange[], reason: ChangeReason, now: number): Emitted[] {
    const out: Emitted[] = [];
    for (const c of changes) {
      const s = this.active;
      if (s && s.doc === doc) {
        if (s.complete) this.resolveComplete(out, now);
        else this.activeChange(s, c, reason, now, out);
      }
      this.shiftLists(doc, c);
      this.shiftRegions(doc, c);
    }
    return out;
  }

  /** The primary selection of the focused editor changed (only events for the focused editor). */
  selection(doc: string, sel: SelectionOffsets, now: number): Emitted[] {
    const out: Emitted[] = [];
    const s = this.active;
    if (!s) return out;
    if (s.doc !== doc) {
      this.end(out, now, 'cursor_moved', 'editor_changed');
      return out;
    }
    if (s.complete) return out; // Tab moves the cursor to the end of the text before the command runs
    const empty = sel.start === sel.end && !sel.multiple;
    const k = sel.active - s.start;
    const edited = s.editedSinceSelection;
    s.editedSinceSelection = false;
    if (empty && (sel.active === s.cursor || (edited && sel.active === s.start + s.typed.length))) {
      s.cursor = sel.active;
      return out;
    }
    if (!edited && empty && sel.active === s.cursor + 1 && k <= s.typed.length && /[)\]}'"`>]/.test(s.typed.charAt(k - 1)) && ghostVisible(s.typed, k, s.cand.text, s.inIndent)) {
      // Typing a closing character over the one auto-closing put there moves the cursor
      // without an edit; VS Code keeps the ghost text.
      s.cursor = sel.active;
      return out;
    }
    if (edited) {
      // The cursor moved because of the edit; the edit decides.
      if (empty && ghostVisible(s.typed, k, s.cand.text, s.inIndent)) {
        s.cursor = sel.active;
        return out;
      }
      this.end(out, now, 'typed_over');
      return out;
    }
    // VS Code hides ghost text on any explicit cursor move (keyboard, mouse, API).
    this.end(out, now, 'cursor_moved');
    return out;
  }

  /** The focused editor now shows `doc` (undefined: no text editor has focus). */
  editorChanged(doc: string | undefined, now: number): Emitted[] {
    const out: Emitted[] = [];
    const s = this.active;
    if (s && s.doc !== doc) {
      if (s.complete) this.resolveComplete(out, now);
      else this.end(out, now, 'cursor_moved', 'editor_changed');
    }
    return out;
  }

  /** `doc` was closed; `reader` still reads its last text. */
  documentClosed(doc: string, reader: TextReader, now: number): Emitted[] {
    const out: Emitted[] = [];
    const s = this.active;
    if (s && s.doc === doc) {
      if (s.complete) this.resolveComplete(out, now);
      else this.end(out, now, 'cursor_moved', 'document_closed');
    }
    for (const r of this.regions) {
      if (r.doc === doc && r.closedText === undefined) r.closedText = reader.text(doc, r.start, r.end) ?? '';
    }
    for (const l of this.lists.get(doc) ?? []) this.forget(l);
    this.lists.delete(doc);
    return out;
  }

  /** Winnow's word / line acceptance command is about to run the built-in one. */
  intent(how: 'word' | 'line', now: number): void {
    this.intentHow = { how, at: now };
  }

  clearIntent(): void {
    this.intentHow = undefined;
  }

  /** Escape (Winnow's keybinding, only while ghost text is visible in `doc`). */
  dismiss(doc: string | undefined, now: number): Emitted[] {
    const out: Emitted[] = [];
    const s = this.active;
    if (!s || (doc !== undefined && s.doc !== doc)) return out;
    if (s.complete) this.resolveComplete(out, now);
    else this.end(out, now, 'dismissed');
    return out;
  }

  /** VS Code ran the accept command of the item `ref` (Tab, or the last word of a word acceptance). */
  accept(ref: ItemRef, reader: TextReader, now: number): Emitted[] {
    const out: Emitted[] = [];
    const id = ref.candidateId;
    if (this.ended.has(id)) return out; // already ended (a duplicate command)
    const s = this.active;
    if (s?.complete && s.complete.cand.ref.candidateId === id) {
      const { cand, start } = s.complete;
      this.active = undefined;
      if (cand !== s.cand) this.supersede(s, out, now); // the user had cycled to a sibling
      this.emitShown(out, ref, now, { inferred: true });
      this.emitAccepted(out, ref, now, cand.text);
      this.startSurvival(s.doc, ref, start, start + cand.text.length, cand.text, now);
      return out;
    }
    if (s && s.cand.ref.candidateId === id) {
      // Accepted without the edit having been recognized (for example VS Code replaced more
      // than the suggestion's range): find the text where the suggestion was.
      this.active = undefined;
      this.emitAccepted(out, ref, now, s.cand.text);
      const at = locate(reader, s.doc, s.start, s.cand.text);
      if (at !== undefined) this.startSurvival(s.doc, ref, at, at + s.cand.text.length, s.cand.text, now);
      return out;
    }
    if (s) {
      // Another candidate than the one believed shown: the user cycled to it (Alt+] / Alt+[).
      if (s.complete) this.resolveComplete(out, now);
      else {
        this.active = undefined;
        this.supersede(s, out, now);
      }
    }
    this.emitShown(out, ref, now, { inferred: true });
    const known = this.byCandidate.get(id);
    this.emitAccepted(out, ref, now, known?.text);
    if (known) {
      const at = locate(reader, known.list.doc, known.list.anchor, known.text);
      if (at !== undefined) this.startSurvival(known.list.doc, ref, at, at + known.text.length, known.text, now);
    }
    return out;
  }

  /** Timeouts, the accept command's grace period, and due survival checks. */
  tick(reader: TextReader, now: number): Emitted[] {
    const out: Emitted[] = [];
    const s = this.active;
    if (s?.complete && now - s.complete.at >= this.opts.completeGraceMs) this.resolveComplete(out, now);
    else if (s && !s.complete && now - s.lastActivity >= this.opts.timeoutMs) this.end(out, now, 'timeout');
    for (const r of this.regions) {
      let due: number | undefined;
      while (r.pending.length > 0 && r.startedAt + r.pending[0]! <= now) due = r.pending.shift();
      if (due === undefined) continue;
      this.measure(out, r, reader, now, { checkpointMs: due });
      if (r.closedText !== undefined) r.pending = []; // nothing more can change
    }
    this.regions = this.regions.filter((r) => r.pending.length > 0);
    return out;
  }

  /** The time of the next thing {@link tick} has to do, if any. */
  nextDue(): number | undefined {
    let next: number | undefined;
    const at = (t: number): void => {
      if (next === undefined || t < next) next = t;
    };
    const s = this.active;
    if (s?.complete) at(s.complete.at + this.opts.completeGraceMs);
    else if (s) at(s.lastActivity + this.opts.timeoutMs);
    for (const r of this.regions) if (r.pending.length > 0) at(r.startedAt + r.pending[0]!);
    return next;
  }

  /** Deactivation: one last survival measurement of every pending region, then forget them. */
  flush(reader: TextReader, now: number): Emitted[] {
    const out: Emitted[] = [];
    for (const r of this.regions) this.measure(out, r, reader, now, { checkpointMs: r.pending[0], flushed: true });
    this.regions = [];
    return out;
  }

  // ---- the active suggestion -----------------------------------------------------------

  private activeChange(s: Active, c: TextChange, reason: ChangeReason, now: number, out: Emitted[]): void {
    const end = s.start + s.typed.length;
    const delta = c.text.length - (c.end - c.start);
    if (c.end < s.start) {
      // Before the suggestion (another cursor, another extension): it moves along.
      s.start += delta;
      s.cursor += delta;
      return;
    }
    if (c.start > end || (c.start === end && c.end > end)) return; // after it
    if (c.start < s.start || c.end > end) {
      // Straddles its start or its end: not a continuation, unless it brings a candidate's
      // whole text (an accept that also rewrote text around it); the accept command will tell.
      const whole = c.text.length > 0 ? [s.cand, ...s.cand.list.items].find((k) => k.text.length > 0 && c.text.includes(k.text)) : undefined;
      if (whole) {
        s.typed = whole.text;
        s.start = c.start + c.text.lastIndexOf(whole.text);
        s.complete = { cand: whole, at: now, start: s.start };
        this.takeIntent(now);
        return;
      }
      this.end(out, now, 'typed_over');
      return;
    }
    const f = s.cand.text;
    const typed = s.typed.slice(0, c.start - s.start) + c.text + s.typed.slice(c.end - s.start);
    const kEnd = c.start - s.start + c.text.length;
    const intent = this.takeIntent(now);
    if (typed === f) {
      s.typed = typed;
      s.cursor = s.start + kEnd;
      s.complete = { cand: s.cand, at: now, start: s.start };
      return;
    }
    const visible = ghostVisible(typed, kEnd, f, s.inIndent) || (c.text.length >= 2 && ghostVisible(typed, kEnd - 1, f, s.inIndent));
    if (visible) {
      const appended = c.start === c.end && c.start === end;
      const how = intent ?? (appended && f.startsWith(typed) && looksLikePartialAccept(c.text) ? (c.text.endsWith('\n') ? 'line' : 'word') : undefined);
      s.typed = typed;
      s.cursor = s.start + kEnd;
      s.lastActivity = now;
      s.editedSinceSelection = true;
      if (how) {
        s.acceptedChars = Math.max(s.acceptedChars, commonPrefix(typed, f));
        s.preserveNext = true;
        out.push(this.event('partially_accepted', s.cand.ref, now, { acceptedChars: s.acceptedChars, totalChars: f.length, how }));
      } else {
        s.preserveNext = reason === 'undo' || reason === 'redo';
        if (c.text.length > 0 && f.startsWith(typed)) s.typedChars += nonBlank(c.text);
        s.typedChars = Math.min(s.typedChars, nonBlank(typed.slice(0, commonPrefix(typed, f))));
      }
      return;
    }
    // Not a continuation of the suggestion believed shown; maybe of a sibling the user cycled to.
    const siblings = s.cand.list.items.filter((k) => k !== s.cand && k.list.anchor === s.start);
    const whole = siblings.find((k) => k.text === typed);
    if (whole) {
      s.typed = typed;
      s.cursor = s.start + kEnd;
      s.complete = { cand: whole, at: now, start: s.start };
      return;
    }
    const partOf = intent && typed.length > 0 ? siblings.find((k) => k.text.startsWith(typed)) : undefined;
    if (partOf && intent) {
      this.active = undefined;
      this.supersede(s, out, now);
      this.active = {
        ...s,
        cand: partOf,
        typed,
        cursor: s.start + kEnd,
        lastActivity: now,
        typedChars: 0,
        acceptedChars: commonPrefix(typed, partOf.text),
        preserveNext: true,
        editedSinceSelection: true,
        complete: undefined,
      };
      this.emitShown(out, partOf.ref, now, { inferred: true });
      out.push(this.event('partially_accepted', partOf.ref, now, { acceptedChars: this.active.acceptedChars, totalChars: partOf.text.length, how: intent }));
      return;
    }
    this.end(out, now, 'typed_over');
  }

  private takeIntent(now: number): 'word' | 'line' | undefined {
    const i = this.intentHow;
    this.intentHow = undefined;
    return i && now - i.at < 5000 ? i.how : undefined;
  }

  /** Ends the active suggestion: `reason` gives it its terminal event; undefined: superseded (none). */
  private end(out: Emitted[], now: number, reason: RejectReason | undefined, detail?: Detail): void {
    const s = this.active;
    if (!s) return;
    this.active = undefined;
    const accepted = this.finish(s, out, now);
    if (!reason) return;
    this.ended.add(s.cand.ref.candidateId);
    out.push(
      this.event('rejected', s.cand.ref, now, {
        reason,
        ...(detail ? { detail } : {}),
        ...(accepted > 0 ? { acceptedChars: accepted } : {}),
        shownMs: now - s.shownAt,
      }),
    );
  }

  /** A suggestion replaced on screen before the user finished with it: no terminal event. */
  private supersede(s: Active, out: Emitted[], now: number): void {
    this.finish(s, out, now);
  }

  /**
   * What a suggestion that ends without a full acceptance leaves: `partially_accepted` (typed)
   * when the user typed enough of it, and survival checks of the accepted part. Returns the
   * accepted length.
   */
  private finish(s: Active, out: Emitted[], now: number): number {
    const f = s.cand.text;
    const prefix = commonPrefix(s.typed, f);
    let accepted = s.acceptedChars;
    if (s.typedChars >= this.opts.typedMinChars && prefix > accepted) {
      accepted = prefix;
      out.push(this.event('partially_accepted', s.cand.ref, now, { acceptedChars: accepted, totalChars: f.length, how: 'typed' }));
    }
    if (accepted > 0) {
      // The document holds `typed` from s.start. Follow the accepted part when it is intact,
      // else all of `typed` (the user already changed some of what was accepted).
      const len = prefix >= accepted ? accepted : s.typed.length;
      this.startSurvival(s.doc, s.cand.ref, s.start, s.start + len, f.slice(0, accepted), now);
    }
    return accepted;
  }

  /** The region holds a candidate's full text but no accept command came: typed (or pasted) to the end. */
  private resolveComplete(out: Emitted[], now: number): void {
    const s = this.active;
    if (!s?.complete) return;
    this.active = undefined;
    const cand = s.complete.cand;
    if (cand !== s.cand) {
      // Exactly a sibling's text, without its command: not what was shown.
      s.complete = undefined;
      this.active = s;
      this.end(out, now, 'typed_over');
      return;
    }
    this.emitAccepted(out, cand.ref, now, cand.text, { how: 'typed' });
    this.startSurvival(s.doc, cand.ref, s.complete.start, s.complete.start + cand.text.length, cand.text, now);
  }

  // ---- events --------------------------------------------------------------------------

  private event(kind: FeedbackParams['kind'], item: ItemRef, time: number, data?: Record<string, unknown>): Emitted {
    return data ? { kind, item, time, data } : { kind, item, time };
  }

  private emitShown(out: Emitted[], ref: ItemRef, now: number, data: Record<string, unknown>): void {
    if (this.shown.has(ref.candidateId)) return;
    this.shown.add(ref.candidateId);
    out.push(this.event('shown', ref, now, data));
  }

  private emitAccepted(out: Emitted[], ref: ItemRef, now: number, text: string | undefined, extra: Record<string, unknown> = {}): void {
    this.ended.add(ref.candidateId);
    out.push(this.event('accepted', ref, now, { ...(text !== undefined ? { totalChars: text.length } : {}), ...extra }));
  }

  // ---- survival ------------------------------------------------------------------------

  /** Follows [start, end) of `doc`, which holds the accepted `text`, for survival checks. */
  private startSurvival(doc: string, ref: ItemRef, start: number, end: number, text: string, now: number): void {
    if (text.length === 0 || this.opts.survivalMs.length === 0) return;
    const max = this.opts.maxRegionChars;
    const truncated = text.length > max;
    const t = truncated ? text.slice(0, max) : text;
    this.regions.push({
      doc,
      ref,
      start,
      end: truncated ? Math.min(end, start + max) : end,
      text: t,
      truncated,
      startedAt: now,
      pending: [...this.opts.survivalMs].sort((a, b) => a - b),
    });
  }

  private measure(out: Emitted[], r: Region, reader: TextReader, now: number, extra: { checkpointMs: number | undefined; flushed?: boolean }): void {
    const closed = r.closedText !== undefined;
    const len = r.end - r.start;
    let fraction: number;
    if (len >= 2 * r.text.length) {
      fraction = 0; // the edit distance is at least the length difference
    } else {
      const now_ = closed ? r.closedText : reader.text(r.doc, r.start, r.end);
      if (now_ === undefined) return;
      fraction = survivalFraction(r.text, now_);
    }
    out.push(
      this.event('survival', r.ref, now, {
        afterMs: now - r.startedAt,
        fraction,
        acceptedChars: r.text.length,
        ...(extra.checkpointMs !== undefined ? { checkpointMs: extra.checkpointMs } : {}),
        ...(r.truncated ? { truncated: true } : {}),
        ...(closed ? { documentClosed: true } : {}),
        ...(extra.flushed ? { flushed: true } : {}),
      }),
    );
  }

  private shiftRegions(doc: string, c: TextChange): void {
    for (const r of this.regions) {
      if (r.doc !== doc || r.closedText !== undefined) continue;
      const next = mapRegion(r.start, r.end, c);
      r.start = next.start;
      r.end = next.end;
    }
  }

  // ---- known lists ---------------------------------------------------------------------

  private remember(input: ListInput): KnownList {
    const list: KnownList = { doc: input.doc, anchor: input.anchor, inIndent: input.inIndent, items: [] };
    for (const it of input.items) {
      const k: Known = { ref: it.ref, text: it.text, list };
      list.items.push(k);
      this.byCandidate.set(it.ref.candidateId, k);
    }
    const lists = this.lists.get(input.doc) ?? [];
    lists.push(list);
    while (lists.length > this.opts.maxListsPerDoc) {
      const old = lists.shift();
      if (old && old !== this.active?.cand.list) this.forget(old);
    }
    this.lists.set(input.doc, lists);
    return list;
  }

  private forget(list: KnownList): void {
    for (const k of list.items) if (this.byCandidate.get(k.ref.candidateId) === k) this.byCandidate.delete(k.ref.candidateId);
  }

  private shiftLists(doc: string, c: TextChange): void {
    for (const l of this.lists.get(doc) ?? []) l.anchor = mapAnchor(l.anchor, c);
  }
}

// ---- pure helpers (exported for the tests) ----------------------------------------------

/** Length of the common prefix of `a` and `b`. */
export function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function nonBlank(s: string): number {
  let n = 0;
  for (const ch of s) if (!/\s/.test(ch)) n++;
  return n;
}

/** `word` is a subsequence of `of`, ignoring case (VS Code's `matchesSubString`). */
function isSubsequence(word: string, of: string): boolean {
  const w = word.toLowerCase();
  const o = of.toLowerCase();
  let j = 0;
  for (let i = 0; i < o.length && j < w.length; i++) if (o[i] === w[j]) j++;
  return j === w.length;
}

/**
 * Whether VS Code (1.100) still shows suggestion `text` when the document holds `typed` in its
 * range and the cursor is `k` characters into it: after the common prefix, the text before the
 * cursor must be a prefix of the suggestion and the text after it a subsequence of the rest;
 * blanks are ignored when the suggestion starts in the line's indentation; the cursor must be
 * on the line where the visible part starts; nothing left to show means not visible.
 */
export function ghostVisible(typed: string, k: number, text: string, inIndent: boolean): boolean {
  if (k < 0 || k > typed.length) return false;
  const p = commonPrefix(typed, text);
  if (p === typed.length && p === text.length) return false;
  const orig = typed.slice(p);
  const rest = text.slice(p);
  if (k < p && typed.slice(k, p).includes('\n')) return false;
  const idx = Math.max(0, k - p);
  let ob = orig.slice(0, idx);
  let oa = orig.slice(idx);
  let fb = rest.slice(0, idx);
  let fa = rest.slice(idx);
  if (ob.includes('\n')) return false;
  if (inIndent && /^[ \t]*$/.test(typed.slice(0, p))) {
    ob = ob.trimStart();
    if (ob.length === 0) oa = oa.trimStart();
    fb = fb.trimStart();
    if (fb.length === 0) fa = fa.trimStart();
  }
  return fb.startsWith(ob) && isSubsequence(oa, fa);
}

/**
 * Whether an insertion of `text` that continues the suggestion looks like a word or line
 * acceptance rather than typing: two or more characters, but not an auto-closed pair (`()`,
 * `""`, ...) nor a new line with its auto-indentation (what Enter inserts).
 */
export function looksLikePartialAccept(text: string): boolean {
  if (text.length < 2) return false;
  if (/^(\(\)|\[\]|\{\}|''|""|``|<>)$/.test(text)) return false;
  if (/^\r?\n[ \t]*$/.test(text)) return false;
  return true;
}

/** Where an anchor (a point between characters) goes through a change. Insertions at it stay after it. */
export function mapAnchor(anchor: number, c: TextChange): number {
  if (c.start >= anchor) return anchor;
  if (c.end <= anchor) return anchor + c.text.length - (c.end - c.start);
  return c.start; // the change swallowed the anchor
}

/**
 * How a region [start, end) follows a change: moved by changes before it (an insertion at its
 * start counts as before), untouched by changes after it (an insertion at its end counts as
 * after), and stretched over a change that overlaps it (the change's new text becomes part of it).
 */
export function mapRegion(start: number, end: number, c: TextChange): { start: number; end: number } {
  const delta = c.text.length - (c.end - c.start);
  const isInsert = c.start === c.end;
  // An insertion into a region that was emptied refills it (an undo of its deletion, typically).
  if (start === end && isInsert && c.start === start) return { start, end: start + c.text.length };
  if (c.end < start || (c.end === start && (isInsert || c.start < start))) return { start: start + delta, end: end + delta };
  if (c.start > end || (c.start === end && (isInsert || c.end > end))) return { start, end };
  return { start: Math.min(start, c.start), end: Math.max(end, c.end) + delta };
}

/** Levenshtein distance (insert, delete, substitute: 1 each), two rows. */
export function levenshtein(a: string, b: string): number {
  if (a === b) return 0;
  if (a.length === 0) return b.length;
  if (b.length === 0) return a.length;
  if (a.length > b.length) [a, b] = [b, a];
  let prev = new Array<number>(a.length + 1);
  let cur = new Array<number>(a.length + 1);
  for (let i = 0; i <= a.length; i++) prev[i] = i;
  for (let j = 1; j <= b.length; j++) {
    cur[0] = j;
    const bj = b.charCodeAt(j - 1);
    for (let i = 1; i <= a.length; i++) {
      const cost = a.charCodeAt(i - 1) === bj ? 0 : 1;
      cur[i] = Math.min(prev[i]! + 1, cur[i - 1]! + 1, prev[i - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[a.length]!;
}

/** 1 − levenshtein(accepted, now) / |accepted|, clamped to [0, 1]. */
export function survivalFraction(accepted: string, now: string): number {
  if (accepted.length === 0) return 1;
  if (now.length >= 2 * accepted.length) return 0;
  const d = levenshtein(accepted, now);
  return Math.min(1, Math.max(0, 1 - d / accepted.length));
}

/** Where `text` is in `doc` near `near`: exactly there, else the closest match within one length of it. */
function locate(reader: TextReader, doc: string, near: number, text: string): number | undefined {
  if (text.length === 0) return undefined;
  if (reader.text(doc, near, near + text.length) === text) return near;
  const from = Math.max(0, near - text.length);
  const around = reader.text(doc, from, near + 2 * text.length);
  if (around === undefined) return undefined;
  let best: number | undefined;
  for (let i = around.indexOf(text); i >= 0; i = around.indexOf(text, i + 1)) {
    const at = from + i;
    if (best === undefined || Math.abs(at - near) < Math.abs(best - near)) best = at;
  }
  return best;
}
