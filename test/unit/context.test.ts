import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildContext, filePathOf, MAX_LINE_CHARS, PREFIX_CHARS, SUFFIX_CHARS } from '../../server/src/context';

test('prefix and suffix split at the cursor', () => {
  const r = buildContext('abc\ndef', 5, 'python', 'file:///tmp/x.py');
  assert.ok(r.ok);
  assert.deepEqual(r.context, { prefix: 'abc\nd', suffix: 'ef', languageId: 'python', filePath: '/tmp/x.py' });
});

test('windows are bounded and start at a line boundary when one is near', () => {
  const line = 'x'.repeat(99) + '\n';
  const text = line.repeat(1000);
  const offset = 500 * line.length;
  const r = buildContext(text, offset, 'python', 'untitled:1');
  assert.ok(r.ok);
  assert.ok(r.context.prefix.length <= PREFIX_CHARS);
  assert.ok(r.context.prefix.startsWith('x'), 'starts at a line start');
  assert.ok(r.context.suffix.length <= SUFFIX_CHARS);
  assert.ok(text.slice(0, offset).endsWith(r.context.prefix));
  assert.ok(text.slice(offset).startsWith(r.context.suffix));
});

test('binary content, huge lines and out-of-range cursors are refused with a reason', () => {
  const bin = buildContext('abc\u0000def', 3, 'python', 'file:///b');
  assert.equal(bin.ok, false);
  assert.match(!bin.ok ? bin.reason : '', /binary/);
  const long = buildContext('x'.repeat(MAX_LINE_CHARS + 1), 1, 'javascript', 'file:///m.js');
  assert.equal(long.ok, false);
  assert.equal(buildContext('abc', 10, 'python', 'file:///x').ok, false);
});

test('file URIs become paths, other schemes stay', () => {
  assert.equal(filePathOf('file:///home/u/a%20b.py'), '/home/u/a b.py');
  assert.equal(filePathOf('file:///c%3A/x/y.ts'), 'c:/x/y.ts');
  assert.equal(filePathOf('untitled:Untitled-1'), 'untitled:Untitled-1');
});
