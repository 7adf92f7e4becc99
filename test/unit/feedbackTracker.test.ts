import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FeedbackParams, ItemRef } from '../../server/src/protocol';
import {
  FeedbackTracker,
  ghostVisible,
  levenshtein,
  looksLikePartialAccept,
  mapAnchor,
  mapRegion,
  survivalFraction,
  type ChangeReason,
  type TextChange,
  type TextReader,
  type TrackerOptions,
} from '../../client/src/feedback/tracker';

// ---- a fake editor: one or more documents, a cursor, a clock, and the events -------------

const PROMPT = 'def add(a, b):\n    ';
const A = 'return a + b\n';
const B = 'result = a + b\n    return result\n';

class Doc {
  constructor(
    public key: string,
    public text: string,
  ) {}
  edit(start: number, end: number, text: string): TextChange {
    this.text = this.text.slice(0, start) + text + this.text.slice(end);
    return { start, end, text };
  }
}

class Harness {
  readonly t: FeedbackTracker;
  readonly docs: Doc[] = [];
  readonly events: FeedbackParams[] = [];
  now = 1_000_000;
  cursor: number;
  doc: Doc;
  private seq = 0;
  readonly reader: TextReader = {
    text: (key, start, end) => {
      const d = this.docs.find((x) => x.key === key);
      return d?.text.slice(Math.max(0, start), Math.max(start, end));
    },
  };

  constructor(text = PROMPT, opts: Partial<TrackerOptions> = {}) {
    this.t = new FeedbackTracker(opts);
    this.doc = this.open('file:///a.py', text);
    this.cursor = text.length;
  }

  open(key: string, text: string): Doc {
    const d = new Doc(key, text);
    this.docs.push(d);
    return d;
  }

  push(events: FeedbackParams[]): FeedbackParams[] {
    this.events.push(...events);
    return events;
  }

  /** A list at the cursor (what the middleware hands over); returns the refs, best first. */
  list(texts: string[], opts: { displayable?: boolean; trigger?: 'automatic' | 'explicit'; doc?: Doc } = {}): ItemRef[] {
    const doc = opts.doc ?? this.doc;
    const requestId = `r${++this.seq}`;
    const refs = texts.map((_, i): ItemRef => ({ requestId, candidateId: `${requestId}:${i}`, rank: i, of: texts.length, rankerVersion: 'v1', latencyMs: 12 }));
    const lineStart = doc.text.lastIndexOf('\n', this.cursor - 1) + 1;
    this.push(
      this.t.list(
        {
          doc: doc.key,
          anchor: this.cursor,
          cursor: this.cursor,
          inIndent: doc.text.slice(lineStart, this.cursor).trim() === '',
          items: texts.map((text, i) => ({ ref: refs[i]!, text })),
          displayable: opts.displayable ?? true,
          trigger: opts.trigger ?? 'automatic',
        },
        this.now,
      ),
    );
    return refs;
  }

  /** An edit at [start, end) and, when `moveTo` is given, the selection event that follows it. */
  edit(start: number, end: number, text: string, moveTo?: number, reason?: ChangeReason): FeedbackParams[] {
    const out = this.push(this.t.change(this.doc.key, [this.doc.edit(start, end, text)], reason, this.now));
    if (moveTo !== undefined) out.push(...this.select(moveTo));
    return out;
  }

  /** Types `s` one character at a time at the cursor (each keystroke: a change, then the cursor moves). */
  type(s: string): FeedbackParams[] {
    const out: FeedbackParams[] = [];
    for (const ch of s) out.push(...this.edit(this.cursor, this.cursor, ch, this.cursor + ch.length));
    return out;
  }

  select(at: number, anchor = at): FeedbackParams[] {
    const moved = at !== this.cursor || anchor !== at;
    this.cursor = at;
    if (!moved) return [];
    return this.push(this.t.selection(this.doc.key, { start: Math.min(at, anchor), end: Math.max(at, anchor), active: at }, this.now));
  }

  /** Tab: VS Code replaces the item's range with its text, moves the cursor, then runs the command. */
  tab(ref: ItemRef, text: string, anchor: number): FeedbackParams[] {
    const typedEnd = this.cursor;
    const out = this.edit(anchor, typedEnd, text, anchor + text.length);
    out.push(...this.accept(ref));
    return out;
  }

  accept(ref: ItemRef): FeedbackParams[] {
    return this.push(this.t.accept(ref, this.reader, this.now));
  }

  /** Word / line acceptance through Winnow's command: the intent, the edit, the cursor. */
  partial(how: 'word' | 'line', text: string): FeedbackParams[] {
    this.t.intent(how, this.now);
    const out = this.edit(this.cursor, this.cursor, text, this.cursor + text.length);
    this.t.clearIntent();
    return out;
  }

  dismiss(): FeedbackParams[] {
    return this.push(this.t.dismiss(this.doc.key, this.now));
  }

  advance(ms: number): FeedbackParams[] {
    this.now += ms;
    return this.push(this.t.tick(this.reader, this.now));
  }

  kinds(events = this.events): string[] {
    return events.map((e) => {
      const d = e.data ?? {};
      const tag = e.kind === 'rejected' ? `:${String(d.reason)}` : e.kind === 'partially_accepted' ? `:${String(d.how)}` : '';
      return `${e.kind}${tag}@${e.item.candidateId}`;
    });
  }

  /** Shown and terminal events per candidate: every shown has at most one terminal, and terminals have a shown. */
  assertTerminals(): void {
    const terminal = new Map<string, number>();
    const shown = new Set<string>();
    for (const e of this.events) {
      if (e.kind === 'shown') {
        assert.ok(!shown.has(e.item.candidateId), `shown twice: ${e.item.candidateId}`);
        shown.add(e.item.candidateId);
      }
      if (e.kind === 'accepted' || e.kind === 'rejected') {
        assert.ok(shown.has(e.item.candidateId), `${e.kind} without shown: ${e.item.candidateId}`);
        terminal.set(e.item.candidateId, (terminal.get(e.item.candidateId) ?? 0) + 1);
      }
    }
    for (const [id, n] of terminal) assert.equal(n, 1, `${id} has ${n} terminal events`);
  }
}

const byKind = (h: Harness, kind: string): FeedbackParams[] => h.events.filter((e) => e.kind === kind);

// ---- pure helpers ---------------------------------------------------------------------------

describe('levenshtein and the survival fraction', () => {
  test('distances', () => {
    assert.equal(levenshtein('', ''), 0);
    assert.equal(levenshtein('abc', ''), 3);
    assert.equal(levenshtein('', 'abc'), 3);
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('flaw', 'lawn'), 2);
    assert.equal(levenshtein('return a + b', 'return a + b'), 0);
    assert.equal(levenshtein('ab', 'ba'), 2);
  });
  test('fraction is 1 − distance / accepted length, clamped to [0, 1]', () => {
    assert.equal(survivalFraction('return a + b', 'return a + b'), 1);
    assert.equal(survivalFraction('abcd', 'abed'), 0.75);
    assert.equal(survivalFraction('abcd', ''), 0);
    assert.equal(survivalFraction('ab', 'xyzw'), 0); // distance 4 > length 2
    assert.equal(survivalFraction('abcd', 'abcd'.repeat(10)), 0); // bound: twice as long or more
    assert.equal(survivalFraction('', 'x'), 1);
  });
  test('a 4 KB region is measured quickly', () => {
    const a = 'x = compute(a, b)\n'.repeat(230).slice(0, 4096);
    const b = a.replace(/compute/g, 'evaluate');
    const t0 = performance.now();
    const f = survivalFraction(a, b);
    assert.ok(f > 0 && f < 1, String(f));
    assert.ok(performance.now() - t0 < 2000);
  });
});

describe('region and anchor mapping', () => {
  const r = (start: number, end: number, c: TextChange) => mapRegion(start, end, c);
  test('changes before shift it; an insertion at its start counts as before', () => {
    assert.deepEqual(r(10, 20, { start: 0, end: 0, text: 'abc' }), { start: 13, end: 23 });
    assert.deepEqual(r(10, 20, { start: 10, end: 10, text: 'abc' }), { start: 13, end: 23 });
    assert.deepEqual(r(10, 20, { start: 2, end: 10, text: '' }), { start: 2, end: 12 });
  });
  test('changes after leave it; an insertion at its end counts as after', () => {
    assert.deepEqual(r(10, 20, { start: 20, end: 20, text: 'abc' }), { start: 10, end: 20 });
    assert.deepEqual(r(10, 20, { start: 25, end: 30, text: '' }), { start: 10, end: 20 });
    assert.deepEqual(r(10, 20, { start: 20, end: 22, text: 'x' }), { start: 10, end: 20 });
  });
  test('changes inside grow or shrink it; overlapping ones stretch it', () => {
    assert.deepEqual(r(10, 20, { start: 12, end: 12, text: 'abc' }), { start: 10, end: 23 });
    assert.deepEqual(r(10, 20, { start: 12, end: 18, text: '' }), { start: 10, end: 14 });
    assert.deepEqual(r(10, 20, { start: 5, end: 15, text: 'xy' }), { start: 5, end: 12 });
    assert.deepEqual(r(10, 20, { start: 15, end: 25, text: 'xy' }), { start: 10, end: 17 });
    assert.deepEqual(r(10, 20, { start: 0, end: 30, text: '' }), { start: 0, end: 0 });
    assert.deepEqual(r(10, 20, { start: 10, end: 20, text: 'new' }), { start: 10, end: 13 });
  });
  test('an insertion into an emptied region refills it (undo of the deletion)', () => {
    assert.deepEqual(r(10, 10, { start: 10, end: 10, text: 'back' }), { start: 10, end: 14 });
    assert.deepEqual(r(10, 10, { start: 3, end: 3, text: 'ab' }), { start: 12, end: 12 });
  });
  test('anchors', () => {
    assert.equal(mapAnchor(10, { start: 10, end: 10, text: 'ab' }), 10);
    assert.equal(mapAnchor(10, { start: 0, end: 2, text: '' }), 8);
    assert.equal(mapAnchor(10, { start: 5, end: 15, text: 'x' }), 5);
    assert.equal(mapAnchor(10, { start: 11, end: 15, text: 'x' }), 10);
  });
});

describe('ghost text visibility (VS Code 1.100 rules)', () => {
  test('typed text that is a prefix keeps it visible; all of it hides it', () => {
    assert.equal(ghostVisible('', 0, A, false), true);
    assert.equal(ghostVisible('ret', 3, A, false), true);
    assert.equal(ghostVisible('rex', 3, A, false), false);
    assert.equal(ghostVisible(A, A.length, A, false), false);
    assert.equal(ghostVisible('Ret', 3, A, false), false); // before the cursor: case-sensitive prefix
  });
  test('auto-closed pairs: the text after the cursor only has to be a subsequence', () => {
    assert.equal(ghostVisible('()', 1, '(x)', false), true);
    assert.equal(ghostVisible('()', 2, '(x)', false), false);
  });
  test('blanks are ignored when the suggestion starts in the indentation', () => {
    assert.equal(ghostVisible('  ', 2, 'return x', true), true);
    assert.equal(ghostVisible('  ', 2, 'return x', false), false);
    assert.equal(ghostVisible('  re', 4, 'return x', true), true);
  });
  test('the cursor must be on the line where the rest starts', () => {
    assert.equal(ghostVisible('x\n', 2, 'y\nz', false), false);
    assert.equal(ghostVisible('return a + b\n', 13, 'return a + b\n    pass', false), true);
  });
  test('what looks like a word or line acceptance rather than typing', () => {
    assert.equal(looksLikePartialAccept('r'), false);
    assert.equal(looksLikePartialAccept('return '), true);
    assert.equal(looksLikePartialAccept('()'), false);
    assert.equal(looksLikePartialAccept('""'), false);
    assert.equal(looksLikePartialAccept('\n    '), false);
    assert.equal(looksLikePartialAccept('a + b\n'), true);
  });
});

// ---- the state machine ----------------------------------------------------------------------

describe('shown', () => {
  test('the first item with text is shown when the list is displayable, once', () => {
    const h = new Harness();
    const [a] = h.list(['', A, B]);
    assert.deepEqual(h.kinds(), ['shown@r1:1']);
    assert.equal(h.events[0]!.item.rank, 1);
    assert.deepEqual(h.events[0]!.data, { trigger: 'automatic' });
    assert.ok(a);
    h.list([A], { displayable: false });
    assert.deepEqual(h.kinds(), ['shown@r1:1'], 'a list VS Code will not display (cursor moved, suggest widget) shows nothing');
  });
  test('an empty list hides (supersedes) the shown suggestion without a terminal event', () => {
    const h = new Harness();
    h.list([A]);
    h.list([]);
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    assert.equal(h.t.current, undefined);
    h.advance(60_000);
    assert.deepEqual(h.kinds(), ['shown@r1:0'], 'no timeout for a suggestion no longer on screen');
  });
});

describe('accepted (Tab) and survival', () => {
  test('Tab: the edit, the cursor, then the command: one accepted; survival at 30 s, 2 min and 10 min', () => {
    const h = new Harness(PROMPT + '\n\nprint(add(1, 2))\n');
    h.cursor = PROMPT.length;
    const anchor = h.cursor;
    const [a] = h.list([A, B]);
    h.tab(a!, A, anchor);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'accepted@r1:0']);
    assert.deepEqual(h.events[1]!.data, { totalChars: A.length });
    assert.equal(h.t.current, undefined);

    h.advance(29_999);
    assert.equal(byKind(h, 'survival').length, 0);
    h.advance(1);
    const s1 = byKind(h, 'survival');
    assert.equal(s1.length, 1);
    assert.deepEqual(s1[0]!.data, { afterMs: 30_000, fraction: 1, acceptedChars: A.length, checkpointMs: 30_000 });

    // Edits before the region move it; an edit inside changes it: "a + b" → "a - b".
    h.edit(0, 0, '# header\n');
    const plus = h.doc.text.indexOf('+');
    h.edit(plus, plus + 1, '-');
    h.advance(90_000);
    const s2 = byKind(h, 'survival');
    assert.equal(s2.length, 2);
    assert.equal(s2[1]!.data!.afterMs, 120_000);
    assert.equal(s2[1]!.data!.fraction, 1 - 1 / A.length);

    // Typing right after the accepted text is not part of it.
    const end = h.doc.text.indexOf('b\n') + 2;
    h.edit(end, end, 'x = 1\n');
    h.advance(480_000);
    const s3 = byKind(h, 'survival');
    assert.equal(s3.length, 3);
    assert.equal(s3[2]!.data!.fraction, 1 - 1 / A.length);
    assert.equal(h.t.pendingSurvival, 0);
    assert.equal(h.t.nextDue(), undefined);
    h.advance(3_600_000);
    assert.equal(byKind(h, 'survival').length, 3);
    h.assertTerminals();
  });

  test('deleting the accepted text gives fraction 0; an overdue checkpoint sends one event', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.tab(a!, A, anchor);
    h.edit(anchor, anchor + A.length, '');
    h.advance(700_000); // all three checkpoints are due at once (the machine slept)
    const s = byKind(h, 'survival');
    assert.equal(s.length, 1);
    assert.equal(s[0]!.data!.fraction, 0);
    assert.equal(s[0]!.data!.checkpointMs, 600_000);
  });

  test('Tab after typing part of it through', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    assert.deepEqual(h.type('ret'), []);
    h.tab(a!, A, anchor);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'accepted@r1:0']);
    h.advance(30_000);
    assert.equal(byKind(h, 'survival')[0]!.data!.fraction, 1);
  });

  test('type-ahead: the server answering the same suggestion again at its anchor keeps it (what was typed through still counts)', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A, B]);
    for (const ch of 'return a') {
      assert.deepEqual(h.type(ch), []);
      // What the language server's cache answers: the same refs, anchored where they were, the typed text in the range.
      h.push(
        h.t.list(
          { doc: h.doc.key, anchor, initial: h.doc.text.slice(anchor, h.cursor), cursor: h.cursor, inIndent: true, items: [{ ref: { ...a!, reused: 'typeahead' }, text: A }], displayable: true, trigger: 'automatic' },
          h.now,
        ),
      );
    }
    assert.equal(h.t.current?.ref.candidateId, a!.candidateId);
    h.type('X'); // diverges: the 8 characters typed through were kept
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:typed@r1:0', 'rejected:typed_over@r1:0']);
    assert.equal(byKind(h, 'partially_accepted')[0]!.data!.acceptedChars, 8);
  });

  test('a duplicate accept command is ignored; so is a dismiss after the end', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.tab(a!, A, anchor);
    h.accept(a!);
    h.dismiss();
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'accepted@r1:0']);
  });

  test('accepting another candidate of the list (cycled to with Alt+]): inferred shown, accepted; the first gets no terminal', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [, b] = h.list([A, B]);
    h.tab(b!, B, anchor);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'shown@r1:1', 'accepted@r1:1']);
    assert.deepEqual(h.events[1]!.data, { inferred: true });
    h.advance(30_000);
    const s = byKind(h, 'survival');
    assert.equal(s.length, 1);
    assert.equal(s[0]!.item.candidateId, 'r1:1');
    assert.equal(s[0]!.data!.fraction, 1);
    h.assertTerminals();
  });

  test('an accept command for an unknown item still gives shown (inferred) and accepted', () => {
    const h = new Harness();
    const ref: ItemRef = { requestId: 'zz', candidateId: 'zz:0', rank: 0, of: 1 };
    h.accept(ref);
    assert.deepEqual(h.kinds(), ['shown@zz:0', 'accepted@zz:0']);
    assert.equal(h.t.pendingSurvival, 0);
  });

  test('an accept edit that also rewrites text before the suggestion is still an acceptance', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    // The indentation before the suggestion replaced along with it (a wider edit than its range).
    h.edit(anchor - 4, anchor, '  ' + A, anchor - 2 + A.length);
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    h.accept(a!);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'accepted@r1:0']);
    h.advance(30_000);
    assert.equal(byKind(h, 'survival')[0]!.data!.fraction, 1);
    assert.equal(h.doc.text, PROMPT.slice(0, -4) + '  ' + A);
  });

  test('the accepted item is looked for near its place when no edit was seen', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.doc.edit(anchor, anchor, 'x' + A); // not reported to the tracker
    h.accept(a!);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'accepted@r1:0']);
    h.advance(30_000);
    assert.equal(byKind(h, 'survival')[0]!.data!.fraction, 1);
  });

  test("a sibling's whole text without its accept command is typed_over for the one shown", () => {
    const h = new Harness();
    h.list([A, B]);
    h.edit(h.cursor, h.cursor, B, h.cursor + B.length); // pasted, say
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    h.advance(1000);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:typed_over@r1:0']);
  });

  test('typed through to the end without Tab: accepted (how typed) after the grace period', () => {
    const h = new Harness();
    h.list(['abc()']);
    h.type('abc()');
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    h.advance(1000);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'accepted@r1:0']);
    assert.deepEqual(h.events[1]!.data, { totalChars: 5, how: 'typed' });
  });
});

describe('partially_accepted', () => {
  test('word acceptance through the command, then Escape: partial (word), rejected dismissed with acceptedChars', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.partial('word', 'return ');
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:word@r1:0']);
    assert.deepEqual(h.events[1]!.data, { acceptedChars: 7, totalChars: A.length, how: 'word' });
    // VS Code asks again after the partial accept and keeps this suggestion first: no new shown.
    h.list(['a + b\n']);
    assert.equal(h.t.current?.ref.candidateId, a!.candidateId);
    h.partial('word', 'a ');
    assert.equal(byKind(h, 'partially_accepted')[1]!.data!.acceptedChars, 9);
    h.dismiss();
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:word@r1:0', 'partially_accepted:word@r1:0', 'rejected:dismissed@r1:0']);
    assert.equal(h.events[3]!.data!.acceptedChars, 9);
    h.advance(30_000);
    const s = byKind(h, 'survival');
    assert.equal(s.length, 1);
    assert.deepEqual(s[0]!.data, { afterMs: 30_000, fraction: 1, acceptedChars: 9, checkpointMs: 30_000 });
    assert.equal(h.doc.text.slice(anchor), 'return a ');
    h.assertTerminals();
  });

  test('line acceptance, then Tab for the rest: partial (line), then accepted', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [b] = h.list([B]);
    h.partial('line', 'result = a + b\n');
    h.list([]); // VS Code's next request: the server has nothing; the suggestion is kept
    h.tab(b!, B, anchor);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:line@r1:0', 'accepted@r1:0']);
  });

  test('without the command (toolbar click), a multi-character continuation is recognized', () => {
    const h = new Harness();
    h.list([B]);
    h.edit(h.cursor, h.cursor, 'result ', h.cursor + 7);
    h.edit(h.cursor, h.cursor, '= a + b\n', h.cursor + 8);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:word@r1:0', 'partially_accepted:line@r1:0']);
  });

  test('auto-closed pairs and Enter with indentation are typing, not acceptance', () => {
    const h = new Harness();
    h.list(['(x)\n    y']);
    h.edit(h.cursor, h.cursor, '()', h.cursor + 1); // "(" auto-closed; the cursor between
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    h.edit(h.cursor, h.cursor, 'x', h.cursor + 1);
    h.select(h.cursor + 1); // over the ")" (VS Code types over the closing character)
    h.edit(h.cursor, h.cursor, '\n    ', h.cursor + 5);
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    assert.equal(h.t.current?.typed, '(x)\n    ');
  });

  test('typing through 3+ non-blank characters, then diverging: partial (typed), then rejected typed_over', () => {
    const h = new Harness();
    const anchor = h.cursor;
    h.list([A]);
    h.type('retu');
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    h.type('X');
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:typed@r1:0', 'rejected:typed_over@r1:0']);
    assert.deepEqual(h.events[1]!.data, { acceptedChars: 4, totalChars: A.length, how: 'typed' });
    assert.equal(h.events[2]!.data!.acceptedChars, 4);
    h.advance(30_000);
    const s = byKind(h, 'survival');
    assert.equal(s[0]!.data!.acceptedChars, 4);
    assert.equal(s[0]!.data!.fraction, 1, 'the typed-through part is still there (the X is after it)');
    assert.equal(h.doc.text.slice(anchor), 'retuX');
  });

  test('undo after a word acceptance keeps the suggestion (VS Code preserves it)', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.partial('word', 'return ');
    h.edit(anchor, anchor + 7, '', anchor, 'undo');
    h.list([B]);
    assert.equal(h.t.current?.ref.candidateId, a!.candidateId);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:word@r1:0']);
  });

  test('word acceptance of a candidate cycled to: switches to it', () => {
    const h = new Harness();
    h.list([A, B]);
    h.partial('word', 'result ');
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'shown@r1:1', 'partially_accepted:word@r1:1']);
    h.dismiss();
    assert.deepEqual(h.kinds().slice(-1), ['rejected:dismissed@r1:1']);
    h.assertTerminals();
  });
});

describe('rejected', () => {
  test('dismissed (Escape)', () => {
    const h = new Harness();
    h.list([A]);
    h.now += 1500;
    h.dismiss();
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:dismissed@r1:0']);
    assert.deepEqual(h.events[1]!.data, { reason: 'dismissed', shownMs: 1500 });
    assert.equal(h.t.current, undefined);
    h.dismiss();
    assert.equal(h.events.length, 2);
  });

  test('dismiss in another document than the suggestion is not ours', () => {
    const h = new Harness();
    h.list([A]);
    h.events.push(...h.t.dismiss('file:///other.py', h.now));
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
  });

  test('typed_over: a first character that does not continue it', () => {
    const h = new Harness();
    h.list([A]);
    h.type('x');
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:typed_over@r1:0']);
    assert.equal(h.events[1]!.data!.acceptedChars, undefined);
    assert.equal(h.t.pendingSurvival, 0);
  });

  test('typed_over: backspace before the suggestion', () => {
    const h = new Harness();
    h.list([A]);
    h.edit(h.cursor - 1, h.cursor, '', h.cursor - 1);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:typed_over@r1:0']);
  });

  test('blanks typed in the indentation do not reject it', () => {
    const h = new Harness('def f():\n');
    h.list(['    return 1']);
    h.type('  ');
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    assert.ok(h.t.current);
  });

  test('cursor_moved: an explicit move (arrow, click) not caused by an edit', () => {
    const h = new Harness();
    h.list([A]);
    h.type('r');
    h.select(h.cursor - 1);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:cursor_moved@r1:0']);
  });

  test('cursor_moved: a selection, another cursor, another editor, a closed document', () => {
    const h1 = new Harness();
    h1.list([A]);
    h1.select(h1.cursor, h1.cursor - 3);
    assert.deepEqual(h1.kinds(), ['shown@r1:0', 'rejected:cursor_moved@r1:0']);

    const h2 = new Harness();
    h2.list([A]);
    h2.events.push(...h2.t.selection(h2.doc.key, { start: h2.cursor, end: h2.cursor, active: h2.cursor, multiple: true }, h2.now));
    assert.deepEqual(h2.kinds(), ['shown@r1:0', 'rejected:cursor_moved@r1:0']);

    const h3 = new Harness();
    h3.list([A]);
    h3.events.push(...h3.t.editorChanged(h3.doc.key, h3.now));
    assert.equal(h3.events.length, 1, 'the same document keeps it');
    h3.events.push(...h3.t.editorChanged('file:///b.py', h3.now));
    assert.deepEqual(h3.kinds(), ['shown@r1:0', 'rejected:cursor_moved@r1:0']);
    assert.equal(h3.events[1]!.data!.detail, 'editor_changed');

    const h4 = new Harness();
    h4.list([A]);
    h4.events.push(...h4.t.documentClosed(h4.doc.key, h4.reader, h4.now));
    assert.deepEqual(h4.kinds(), ['shown@r1:0', 'rejected:cursor_moved@r1:0']);
    assert.equal(h4.events[1]!.data!.detail, 'document_closed');

    const h5 = new Harness();
    h5.list([A]);
    const other = h5.open('file:///b.py', 'x = ');
    h5.cursor = other.text.length;
    h5.list([B], { doc: other });
    assert.deepEqual(h5.kinds(), ['shown@r1:0', 'rejected:cursor_moved@r1:0', 'shown@r2:0']);
    assert.equal(h5.events[1]!.data!.detail, 'other_editor');
  });

  test('timeout: 30 s without interaction; typing through restarts the clock', () => {
    const h = new Harness();
    h.list([A]);
    assert.equal(h.t.nextDue(), h.now + 30_000);
    h.advance(20_000);
    h.type('r');
    h.advance(20_000);
    assert.deepEqual(h.kinds(), ['shown@r1:0']);
    h.advance(10_000);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:timeout@r1:0']);
    assert.equal(h.events[1]!.data!.shownMs, 50_000);
  });

  test('an accept command after the timeout is not a second terminal event', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.advance(30_000);
    h.tab(a!, A, anchor);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:timeout@r1:0']);
    h.assertTerminals();
  });

  test('a configurable timeout', () => {
    const h = new Harness(PROMPT, { timeoutMs: 2000 });
    h.list([A]);
    h.advance(2000);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'rejected:timeout@r1:0']);
  });
});

describe('superseded by a newer list', () => {
  test('while typing through it: no terminal event for the old one; the new one is shown', () => {
    const h = new Harness();
    h.list([A]);
    h.type('r');
    h.list(['eturn a + b\n']);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'shown@r2:0']);
    assert.equal(h.t.current?.ref.candidateId, 'r2:0');
  });

  test('after 3+ typed characters: the old one gets partial (typed) and survival checks', () => {
    const h = new Harness();
    h.list([A]);
    h.type('retu');
    h.list(['rn a + b\n']);
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'partially_accepted:typed@r1:0', 'shown@r2:0']);
    assert.equal(h.t.pendingSurvival, 1);
  });

  test('an explicit re-request at the same place (Alt+] or Alt+\\) shows its first item', () => {
    const h = new Harness();
    h.list([A, B]);
    h.list([A, B], { trigger: 'explicit' });
    assert.deepEqual(h.kinds(), ['shown@r1:0', 'shown@r2:0']);
    assert.deepEqual(h.events[1]!.data, { trigger: 'explicit' });
  });

  test('every shown suggestion has at most one terminal event through a long session', () => {
    const h = new Harness('def f(x):\n    ', { timeoutMs: 5000, survivalMs: [1000] });
    for (let round = 0; round < 20; round++) {
      const anchor = h.cursor;
      const [a, b] = h.list([`return x * ${round}\n`, `pass  # ${round}\n`]);
      switch (round % 6) {
        case 0:
          h.tab(a!, `return x * ${round}\n`, anchor);
          break;
        case 1:
          h.partial('word', 'return ');
          h.dismiss();
          break;
        case 2:
          h.type('q');
          break;
        case 3:
          h.advance(6000);
          break;
        case 4:
          h.tab(b!, `pass  # ${round}\n`, anchor);
          break;
        case 5:
          h.type('ret');
          h.select(0);
          break;
      }
      h.advance(1000);
      h.type('\n    ');
    }
    h.assertTerminals();
    // One shown per list, plus an inferred one for each accepted second candidate (rounds 4, 10, 16).
    assert.equal(byKind(h, 'shown').length, 20 + 3);
  });
});

describe('survival edge cases', () => {
  test('document closed before a check: one check from the last known text, flagged, then none', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.tab(a!, A, anchor);
    h.edit(anchor + 6, anchor + 6, 's'); // "returns"
    h.events.push(...h.t.documentClosed(h.doc.key, h.reader, h.now));
    h.doc.text = ''; // gone
    h.advance(30_000);
    const s = byKind(h, 'survival');
    assert.equal(s.length, 1);
    assert.equal(s[0]!.data!.documentClosed, true);
    assert.equal(s[0]!.data!.fraction, 1 - 1 / A.length);
    h.advance(600_000);
    assert.equal(byKind(h, 'survival').length, 1);
  });

  test('flush (deactivation) measures every pending region once, then nothing is due', () => {
    const h = new Harness();
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.tab(a!, A, anchor);
    h.now += 5000;
    h.events.push(...h.t.flush(h.reader, h.now));
    const s = byKind(h, 'survival');
    assert.deepEqual(s[0]!.data, { afterMs: 5000, fraction: 1, acceptedChars: A.length, checkpointMs: 30_000, flushed: true });
    assert.equal(h.t.nextDue(), undefined);
  });

  test('long acceptances are followed for their first maxRegionChars characters', () => {
    const long = 'x = 1\n'.repeat(100);
    const h = new Harness(PROMPT, { maxRegionChars: 60 });
    const anchor = h.cursor;
    const [a] = h.list([long]);
    h.tab(a!, long, anchor);
    h.advance(30_000);
    assert.deepEqual(byKind(h, 'survival')[0]!.data, { afterMs: 30_000, fraction: 1, acceptedChars: 60, checkpointMs: 30_000, truncated: true });
  });

  test('configurable checkpoints', () => {
    const h = new Harness(PROMPT, { survivalMs: [100, 200] });
    const anchor = h.cursor;
    const [a] = h.list([A]);
    h.tab(a!, A, anchor);
    h.advance(100);
    h.advance(100);
    assert.deepEqual(byKind(h, 'survival').map((e) => e.data!.checkpointMs), [100, 200]);
  });
});
