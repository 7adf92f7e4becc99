import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CompletionCache, MAX_ENTRIES, TTL_MS } from '../../server/src/completionCache';

const BEFORE = 'def f(x):\n    ';
const AFTER = '\n\nprint(f(2))\n';
const DOC = BEFORE + AFTER;
const at = BEFORE.length;
const cands = [
  { text: 'return x * 2', ref: 'a' },
  { text: 'return x + x', ref: 'b' },
  { text: 'pass', ref: 'c' },
];

test('type-ahead: the candidates that continue what was typed, anchored at the original cursor', () => {
  const c = new CompletionCache<string>();
  c.remember('u', DOC, at, cands, 0);
  const typed = `${BEFORE}return x ${AFTER}`;
  const hit = c.lookup('u', typed, at + 'return x '.length, 10);
  assert.deepEqual(hit && { kind: hit.kind, anchor: hit.anchor, typed: hit.typed, refs: hit.candidates.map((x) => x.ref) }, { kind: 'typeahead', anchor: at, typed: 'return x ', refs: ['a', 'b'] });
  assert.deepEqual(
    c.lookup('u', `${BEFORE}return x *${AFTER}`, at + 10, 10)?.candidates.map((x) => x.ref),
    ['a'],
  );
});

test('recent: the same context again reuses every candidate', () => {
  const c = new CompletionCache<string>();
  c.remember('u', DOC, at, cands, 0);
  const hit = c.lookup('u', DOC, at, 10);
  assert.equal(hit?.kind, 'recent');
  assert.equal(hit?.candidates.length, 3);
});

test('no hit: a divergence, a whole candidate typed, another document, an edit elsewhere, an old entry, a cursor before the anchor', () => {
  const c = new CompletionCache<string>();
  c.remember('u', DOC, at, cands, 0);
  assert.equal(c.lookup('u', `${BEFORE}retz${AFTER}`, at + 4, 10), undefined, 'diverged');
  assert.equal(c.lookup('u', `${BEFORE}pass${AFTER}`, at + 4, 10), undefined, 'nothing left to show');
  assert.equal(c.lookup('v', DOC, at, 10), undefined, 'another document');
  assert.equal(c.lookup('u', `# x\n${BEFORE}ret${AFTER}`, at + 7, 10), undefined, 'an edit above');
  assert.equal(c.lookup('u', `${BEFORE}ret${AFTER}!`, at + 3, 10), undefined, 'an edit below');
  assert.equal(c.lookup('u', DOC, at - 1, 10), undefined, 'cursor before the anchor');
  assert.equal(c.lookup('u', DOC, at, TTL_MS + 1), undefined, 'too old');
});

test('bounded, newest first; clear and forget', () => {
  const c = new CompletionCache<string>();
  for (let i = 0; i < MAX_ENTRIES + 5; i++) c.remember('u', `${i}${DOC}`, at + String(i).length, [{ text: 'x', ref: `r${i}` }], 0);
  assert.equal(c.lookup('u', `0${DOC}`, at + 1, 1), undefined, 'the oldest entries are dropped');
  assert.equal(c.lookup('u', `${MAX_ENTRIES + 4}${DOC}`, at + 2, 1)?.candidates[0]?.ref, `r${MAX_ENTRIES + 4}`);
  c.remember('u', DOC, at, [{ text: 'one', ref: 'old' }], 0);
  c.remember('u', DOC, at, [{ text: 'two', ref: 'new' }], 1);
  assert.equal(c.lookup('u', DOC, at, 2)?.candidates[0]?.ref, 'new');
  c.forget('u');
  assert.equal(c.lookup('u', DOC, at, 2), undefined);
  c.remember('u', DOC, at, cands, 0);
  c.clear();
  assert.equal(c.lookup('u', DOC, at, 2), undefined);
});
