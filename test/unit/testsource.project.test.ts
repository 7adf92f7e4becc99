import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RelatedTestFile } from '../../engine/src/protocol';
import { extractExamples, examplesToAsserts } from '../../engine/src/testsources/docstring';
import { projectTestAsserts } from '../../engine/src/testsources/project';

const file = (path: string, languageId: string, text: string): RelatedTestFile => ({ path, languageId, text });

test('pytest: literal asserts kept as they are, `literal == f(x)` turned round, messages dropped', () => {
  const text = `from mathlib import add
import pytest

def test_add():
    assert add(1, 2) == 3
    assert 5 == add(2, 3), "reversed"
    assert add(1, y=2) == 3
    assert add(1, 2) != 4
    assert len(add([1], [2])) == 2
    assert add(  # spread over lines
        4, 5) == 9
    assert add(0.1, 0.2) == pytest.approx(0.3)
    assert add(True, False) is True
`;
  assert.deepEqual(projectTestAsserts([file('/w/tests/test_mathlib.py', 'python', text)], 'add', 'python'), [
    'assert add(1, 2) == 3',
    'assert add(2, 3) == 5',
    'assert add(1, y=2) == 3',
    'assert add(1, 2) != 4',
    'assert len(add([1], [2])) == 2',
    'assert add(4, 5) == 9',
    'assert abs(add(0.1, 0.2) - (0.3)) <= max(1e-6 * abs(0.3), 1e-12)',
    'assert add(True, False) is True',
  ]);
});

test('the equality form matches the docstring asserts (so the engine deduplicates them)', () => {
  const doc = examplesToAsserts(extractExamples('def add(a, b):\n    """\n    >>> add(1, 2)\n    3\n    """\n', 'add', 'python'), 'python');
  // Both keep the source's spacing inside the call (lexer.oneLine), and only that.
  const proj = projectTestAsserts([file('/w/test_m.py', 'python', 'assert add(1, 2)==3\n')], 'add', 'python');
  assert.deepEqual(proj, doc);
  const jsDoc = examplesToAsserts(extractExamples('/** add(1, 2) // => 3 */\nfunction add(a, b) {', 'add', 'javascript'), 'javascript');
  assert.deepEqual(projectTestAsserts([file('/w/m.test.js', 'javascript', 'expect(add(1, 2)).toBe(3);')], 'add', 'javascript'), jsDoc);
});

test('unittest: each assertion method with its own meaning', () => {
  const text = `import unittest
from mathlib import add

class AddTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(add(1, 2), 3)
        self.assertEqual(7, add(3, 4), msg="reversed")
        self.assertEqual(add(1, 2), 3, "duplicate with a message")
        self.assertNotEqual(add(1, 2), 4)
        self.assertTrue(add(1, 1) == 2)
        self.assertFalse(add(0, 0))
        self.assertIsNone(add(None, None))
        self.assertIn(add(1, 1), [2, 3])
        self.assertGreaterEqual(add(2, 2), 4)
        self.assertLess(add(1, 1), 3)
        self.assertIsInstance(add(1, 2), int)
        self.assertAlmostEqual(add(0.1, 0.2), 0.3)
        self.assertAlmostEqual(add(0.1, 0.2), 0.3, places=3)
        self.assertRaises(TypeError, add, 1)
        self.assertCountEqual(add([1], [2]), [2, 1])
`;
  assert.deepEqual(projectTestAsserts([file('/w/test_mathlib.py', 'python', text)], 'add', 'python'), [
    'assert add(1, 2) == 3',
    'assert add(3, 4) == 7',
    'assert add(1, 2) != 4',
    'assert add(1, 1) == 2',
    'assert not add(0, 0)',
    'assert add(None, None) is None',
    'assert add(1, 1) in [2, 3]',
    'assert add(2, 2) >= 4',
    'assert add(1, 1) < 3',
    'assert isinstance(add(1, 2), int)',
    'assert round(abs(add(0.1, 0.2) - 0.3), 7) == 0',
  ]);
});

test('jest/vitest: matchers become node:assert statements; .not and unknown matchers are dropped', () => {
  const text = `import { add } from '../src/add';
describe('add', () => {
  it('adds', () => expect(add(1, 2)).toBe(3));
  test('objects', () => {
    expect(add([1], [2])).toEqual([1, 2]);
    expect(add({ a: 1 }, { b: 2 })).toStrictEqual({ a: 1, b: 2 });
    expect(add(1, 2)).not.toBe(4);
    expect(add(0.1, 0.2)).toBeCloseTo(0.3);
    expect(add(0.1, 0.2)).toBeCloseTo(0.3, 5);
    expect(add(1, 2)).toBeGreaterThan(2);
    expect(add([1], [2])).toHaveLength(2);
    expect(add([1], [2])).toContain(2);
    expect(add(null, null)).toBeNull();
    expect(add(0, 0)).toBeFalsy();
    expect(add('a', 'b')).toMatchSnapshot();
  });
});
`;
  assert.deepEqual(projectTestAsserts([file('/w/add.test.ts', 'typescript', text)], 'add', 'typescript'), [
    'assert.deepStrictEqual(add(1, 2), 3);',
    'assert.deepStrictEqual(add([1], [2]), [1, 2]);',
    'assert.deepStrictEqual(add({a: 1}, {b: 2}), {a: 1, b: 2});',
    'assert.ok(Math.abs(add(0.1, 0.2) - 0.3) < 5e-3);',
    'assert.ok(Math.abs(add(0.1, 0.2) - 0.3) < 5e-6);',
    'assert.ok(add(1, 2) > 2);',
    'assert.strictEqual(add([1], [2]).length, 2);',
    'assert.ok(add([1], [2]).includes(2));',
    'assert.strictEqual(add(null, null), null);',
    'assert.ok(!add(0, 0));',
  ]);
});

test('node:test with node:assert/strict: loose names mean the strict methods', () => {
  const text = `import assert from 'node:assert/strict';
import { test } from 'node:test';
import { add } from '../lib/add.js';

test('add', () => {
  assert.equal(add(1, 2), 3);
  assert.deepEqual(add([1], [2]), [1, 2]);
  assert.strictEqual(add(2, 2), 4);
  assert.notEqual(add(1, 2), 4);
  assert.ok(add(1, 1) === 2);
  assert(add(1, 1), 'message');
  assert.throws(() => add());
});
`;
  assert.deepEqual(projectTestAsserts([file('/w/test/add.js', 'javascript', text)], 'add', 'javascript'), [
    'assert.deepStrictEqual(add(1, 2), 3);',
    'assert.deepStrictEqual(add([1], [2]), [1, 2]);',
    'assert.deepStrictEqual(add(2, 2), 4);',
    'assert.notStrictEqual(add(1, 2), 4);',
    'assert.ok(add(1, 1) === 2);',
    'assert.ok(add(1, 1));',
  ]);
});

test('legacy node:assert: loose equality stays loose', () => {
  const text = `const assert = require('assert');
const { add } = require('./add');
assert.equal(add(1, 2), 3);
assert.notEqual(add(1, 2), 4);
assert.deepEqual(add(1, 2), 3);
assert.deepEqual(add([1], [2]), [1, 2]);
assert.notDeepEqual(add([1], [2]), [2, 1]);
`;
  assert.deepEqual(projectTestAsserts([file('/w/add.spec.js', 'javascript', text)], 'add', 'javascript'), [
    'assert.ok(add(1, 2) == 3);',
    'assert.ok(add(1, 2) != 4);',
    'assert.deepStrictEqual(add([1], [2]), [1, 2]);',
  ]);
});

test('asserts that need fixtures, locals or other functions are dropped', () => {
  const py = `from m import add
def test_add(numbers):
    result = add(1, 2)
    assert result == 3
    assert add(numbers, 2) == 3
    assert add(1, 2) == expected
    assert obj.add(1, 2) == 3
    assert add(1, 2) == helper(3)
    assert add(f"{x}", 2) == 3
    # assert add(9, 9) == 18
    s = "assert add(7, 7) == 14"
    assert (y := add(1, 2)) == 3
    assert add(1, 2) == 3
`;
  assert.deepEqual(projectTestAsserts([file('/w/test_m.py', 'python', py)], 'add', 'python'), ['assert add(1, 2) == 3']);
  const js = `const expected = 3;
expect(add(x, 2)).toBe(3);
expect(add(1, 2)).toBe(expected);
expect(obj.add(1, 2)).toBe(3);
expect(add(1 as number, 2)).toBe(3);
expect(add(\`\${a}\`, 2)).toBe(3);
// expect(add(9, 9)).toBe(18);
assert.equal(add(a, 2), 3);
expect(other(1)).toBe(1);
expect(add(1, 2)).toBe(3);
`;
  assert.deepEqual(projectTestAsserts([file('/w/m.test.ts', 'typescript', js)], 'add', 'typescript'), ['assert.deepStrictEqual(add(1, 2), 3);']);
});

test('files of the other language are ignored; unknown languages give nothing', () => {
  const files = [file('/w/test_m.py', 'python', 'assert add(1, 2) == 3\n'), file('/w/m.test.js', 'javascript', 'expect(add(2, 2)).toBe(4);\n')];
  assert.deepEqual(projectTestAsserts(files, 'add', 'python'), ['assert add(1, 2) == 3']);
  assert.deepEqual(projectTestAsserts(files, 'add', 'typescriptreact'), ['assert.deepStrictEqual(add(2, 2), 4);']);
  assert.deepEqual(projectTestAsserts([file('/w/m.test.tsx', 'typescriptreact', 'expect(add(2, 2)).toBe(4);\n')], 'add', 'javascript'), ['assert.deepStrictEqual(add(2, 2), 4);']);
  assert.deepEqual(projectTestAsserts(files, 'add', 'go'), []);
  assert.deepEqual(projectTestAsserts([file('/w/x_test.go', 'go', 'assert add(1, 2) == 3\n')], 'add', 'python'), []);
  // Malformed entries off the wire are skipped.
  const junk = [null, { path: '/w/a.py', languageId: 'python' }, { path: '/w/b.py', languageId: 7, text: 'assert add(1, 2) == 3' }] as unknown as RelatedTestFile[];
  assert.deepEqual(projectTestAsserts([...junk, files[0] as RelatedTestFile], 'add', 'python'), ['assert add(1, 2) == 3']);
  assert.deepEqual(projectTestAsserts({} as unknown as RelatedTestFile[], 'add', 'python'), []);
});

test('deduplicated across files, in file order, capped', () => {
  const lines = Array.from({ length: 30 }, (_, i) => `    assert add(${i}, 1) == ${i + 1}`).join('\n');
  const a = file('/w/test_m.py', 'python', `def test_a():\n${lines}\n`);
  const b = file('/w/tests/test_m.py', 'python', 'def test_b():\n    assert add(0, 1) == 1\n    assert add(100, 1) == 101\n');
  const all = projectTestAsserts([a, b], 'add', 'python', 100);
  assert.equal(all.length, 31);
  assert.equal(new Set(all).size, all.length);
  assert.equal(all[0], 'assert add(0, 1) == 1');
  assert.equal(all[30], 'assert add(100, 1) == 101');
  assert.equal(projectTestAsserts([a, b], 'add', 'python').length, 20, 'default cap');
  assert.deepEqual(projectTestAsserts([b, b], 'add', 'python', 5), ['assert add(0, 1) == 1', 'assert add(100, 1) == 101']);
  assert.deepEqual(projectTestAsserts([a], 'add', 'python', 0), []);
});

test('CRLF line ends and a window of cut lines read the same', () => {
  const text = 'from m import add\r\n    assert add(1, 2) == 3\r\n        self.assertEqual(add(2, 2), 4)\r\n';
  assert.deepEqual(projectTestAsserts([file('/w/test_m.py', 'python', text)], 'add', 'python'), ['assert add(1, 2) == 3', 'assert add(2, 2) == 4']);
});
