import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cleanSample, dedupKey, postprocess, stopAtSuffix } from '../../engine/src/postprocess';

// Golden files: test/fixtures/postprocess/*.txt hold a document with a ║ cursor marker, a raw
// sample, and the expected candidate.
const dir = path.join(__dirname, '../fixtures/postprocess');
for (const name of fs.readdirSync(dir).filter((f) => f.endsWith('.txt'))) {
  test(`post-processing golden: ${name}`, () => {
    const text = fs.readFileSync(path.join(dir, name), 'utf8');
    const languageId = /^language: (\S+)/.exec(text)?.[1] ?? 'plaintext';
    const section = (title: string) => {
      const start = text.indexOf(`=== ${title}`);
      const bodyStart = text.indexOf('\n', start) + 1;
      const next = text.indexOf('\n=== ', bodyStart - 1);
      return text.slice(bodyStart, next === -1 ? text.length : next).replace(/\n$/, '');
    };
    const doc = section('document');
    const cursor = doc.indexOf('║');
    assert.ok(cursor >= 0, 'fixture has a cursor marker');
    const ctx = { prefix: doc.slice(0, cursor), suffix: doc.slice(cursor + 1), languageId };
    assert.equal(cleanSample(section('raw sample'), ctx), section('expected'));
  });
}

test('duplicates merge and count votes; empty samples are dropped', () => {
  const ctx = { prefix: 'def f():\n', suffix: '', languageId: 'python' };
  const out = postprocess(
    [
      { text: '    return 1\n', meanLogprob: -1 },
      { text: '    return 2' },
      { text: '    return 1   \n\n', meanLogprob: -3 },
      { text: '   \n\n' },
      { text: '' },
    ],
    ctx,
  );
  assert.equal(out.length, 2);
  assert.deepEqual(
    out.map((c) => [c.text, c.votes, c.firstSample]),
    [
      ['    return 1', 2, 0],
      ['    return 2', 1, 1],
    ],
  );
  assert.equal(out[0]?.meanLogprob, -2);
  assert.equal(out[1]?.meanLogprob, undefined);
});

test('mean log-probability is dropped when some duplicates had none', () => {
  const out = postprocess([{ text: 'x', meanLogprob: -1 }, { text: 'x' }], { prefix: '', suffix: '', languageId: 'python' });
  assert.equal(out[0]?.votes, 2);
  assert.equal(out[0]?.meanLogprob, undefined);
});

test('CRLF samples are normalized', () => {
  assert.equal(cleanSample('a = 1\r\nb = 2\r\n', { prefix: '', suffix: '', languageId: 'python' }), 'a = 1\nb = 2');
});

test('stopAtSuffix ignores one-character suffix lines but trims a repeated closer on the cursor line', () => {
  assert.equal(stopAtSuffix('foo\n}\nbar', '\n}'), 'foo\n}\nbar');
  assert.equal(stopAtSuffix('x])', '])'), 'x');
});

test('dedupKey ignores trailing spaces and blank lines only', () => {
  assert.equal(dedupKey('a  \nb\n\n'), 'a\nb');
  assert.notEqual(dedupKey(' a'), dedupKey('a'));
});

test('very long samples are capped at MAX_LINES lines', () => {
  const raw = Array.from({ length: 500 }, (_, i) => `    x${i} = ${i}`).join('\n');
  const out = cleanSample(raw, { prefix: 'def f():\n', suffix: '', languageId: 'python' });
  assert.equal(out.split('\n').length, 80);
});
