import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Debouncer } from '../../server/src/debounce';

test('a newer request for the same document supersedes the older one at once', async () => {
  const d = new Debouncer();
  const first = d.enter('doc', 10_000, () => false);
  const second = d.enter('doc', 0, () => false);
  assert.equal(await first.ready, false);
  assert.equal(first.superseded, true);
  assert.equal(await second.ready, true);
  assert.equal(second.superseded, false);
});

test('different documents do not interfere; cancellation is honoured', async () => {
  const d = new Debouncer();
  const a = d.enter('a', 0, () => false);
  const b = d.enter('b', 0, () => true);
  assert.equal(await a.ready, true);
  assert.equal(await b.ready, false);
});

test('a superseded request is aborted through its signal, the newest is not', async () => {
  const d = new Debouncer();
  const first = d.enter('doc', 0, () => false);
  assert.equal(await first.ready, true);
  assert.equal(first.signal.aborted, false);
  const second = d.enter('doc', 0, () => false);
  assert.equal(first.signal.aborted, true, 'the older one is cancelled even after its debounce');
  assert.equal(second.signal.aborted, false);
  d.forget('doc');
  assert.equal(second.signal.aborted, true);
});
