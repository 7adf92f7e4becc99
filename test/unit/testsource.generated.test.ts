import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertsFromContinuation, collectGeneratedAsserts, JS_ASSERT_OPENER, jsAssertsFromContinuation, parseGeneratedAsserts } from '../../engine/src/testsources/generated';

test('a continuation of `assert ` is read back as one-line asserts naming the entry point', () => {
  const raw = [
    'f(1) == 2',
    'assert f(2) == 4, "doubles"',
    'assert  f( [1,',
    '          2] )==[2, 4]   # lists too',
    'assert g(1) == 1',
    'assert x.f(1) == 1',
    'assert ____ == f(3)',
    '',
    'def test():',
    '    assert f(5) == 10',
    'if __name__ == "__main__": print(f(1))',
    'assert f(6) == 12; assert f(7) == 14',
  ].join('\n');
  assert.deepEqual(assertsFromContinuation(raw, 'f'), [
    'assert f(1) == 2',
    'assert f(2) == 4, "doubles"',
    'assert f([1, 2])==[2, 4]',
    'assert ____ == f(3)',
    'assert f(5) == 10',
    'assert f(6) == 12',
    'assert f(7) == 14',
  ]);
});

test('broken asserts are dropped, and do not swallow the next ones', () => {
  const raw = [
    '', // `assert ` then a newline: a syntax error
    '    f(0) == 0',
    'assert f(1) ==',
    'assert f(2) = 4',
    'assert f(3) == 6 7',
    'assert f(4) == "8',
    'assert f(5) == 10, "a", "b"',
    'assert f(6 == [12,',
    'assert f(7) == 14',
    'assert f(8) == 16 and',
    'assert f(9) == return',
    'assert f(10) === 20',
    'assert f(11) => 22',
    'assert f(12) == (24',
  ].join('\n');
  assert.deepEqual(assertsFromContinuation(raw, 'f'), ['assert f(7) == 14']);
});

test('valid Python the check must not reject', () => {
  const ok = [
    'f(-1) == -2',
    'f(*[1, 2]) == 3',
    'f(x=1, y=[2]) is None',
    'not f(0)',
    "f('a' 'b') == 'ab'",
    'f(1)[0:2] == [1, 2]',
    'f(1).real == 1.0',
    'all(f(i) > 0 for i in range(3))',
    'f(lambda x: x * 2)(3) == 6',
    "f({'a': 1, **{'b': 2}}) == {'a': 1, 'b': 2}",
    'f(2) if True else f(3)',
    'abs(f(0.1) - 0.2) < 1e-9',
    "f(1) == 1, f'f(1) was {f(1)}'",
  ];
  for (const e of ok) assert.deepEqual(assertsFromContinuation(e, 'f'), [`assert ${e}`], e);
});

test('dedup ignores layout, counts every generation, keeps the first 5 of each continuation', () => {
  const samples = [
    'f(1) == 1\nassert f(2) == 2',
    'f(2)==2\nassert f(3) == 3',
    'f( 2 ) == 2',
    'f(1) == 1\nassert f(9) == 9\nassert f(9) == 9\nassert f(9) == 9\nassert f(9) == 9\nassert f(4) == 4',
  ];
  assert.deepEqual(
    collectGeneratedAsserts(samples, 'f').map((g) => [g.text, g.count, g.firstSample]),
    [
      ['assert f(9) == 9', 4, 3],
      ['assert f(2) == 2', 3, 0],
      ['assert f(1) == 1', 2, 0],
      ['assert f(3) == 3', 1, 1],
    ],
  );
  assert.deepEqual(parseGeneratedAsserts(samples, 'f', { max: 2 }), ['assert f(9) == 9', 'assert f(2) == 2']);
  assert.deepEqual(parseGeneratedAsserts(samples, 'f', { perSample: 1 }), ['assert f(1) == 1', 'assert f(2)==2']);
  assert.deepEqual(parseGeneratedAsserts([], 'f'), []);
});

// ---- JavaScript / TypeScript: continuations of `assert.deepStrictEqual(` ----

test('JavaScript: the opener and its continuation, then every assert statement in the forms read, in one canonical text', () => {
  assert.equal(JS_ASSERT_OPENER, 'assert.deepStrictEqual(');
  const raw = [
    'add(1, 2), 3);', // the opener's own statement
    'assert.deepStrictEqual(add(1.0,2), 3.0)', // no semicolon; numbers as JavaScript prints them
    'assert.strictEqual(add("a", "b"), "ab");', // primitive: strictEqual is deepStrictEqual
    'assert.equal(add(0x10, 0), 16);', // node:assert/strict: equal is strictEqual
    'assert.deepEqual(add([1], [2]), [1, 2]);', // ... and deepEqual deepStrictEqual
    'assert.ok(add(2, 2) === 4);',
    'assert(5 === add(2, 3), "five");', // either order; the message is dropped
    'assert.ok(!add(0, 0));',
    'assert.ok(add(1, 0), \'truthy\');',
    'assert.deepStrictEqual(',
    '  add([1,], {a: -1, "b": [2,3]}),',
    '  [1,2,],',
    ');', // spread over lines, trailing commas
    'assert.deepStrictEqual(await add(1, 1), 2); // an async function',
    "it('adds', () => { assert.deepStrictEqual(add(9, 9), 18); });", // inside a callback
    "test('x', () => assert.deepStrictEqual(add(8, 8), 16));", // an arrow's body
    'assert.deepStrictEqual(add(-1, - 1), 1 - -3)',
    'assert.deepStrictEqual(add(new Set([1]), null), new Map())',
    'assert.deepStrictEqual(add(`t`, "it\'s"), \'x\\ty\')', // strings with a quote or a backslash kept as written
  ].join('\n');
  assert.deepEqual(jsAssertsFromContinuation(raw, 'add'), [
    'assert.deepStrictEqual(add(1, 2), 3);',
    'assert.deepStrictEqual(add(1, 2), 3);',
    "assert.deepStrictEqual(add('a', 'b'), 'ab');",
    'assert.deepStrictEqual(add(16, 0), 16);',
    'assert.deepStrictEqual(add([1], [2]), [1, 2]);',
    'assert.deepStrictEqual(add(2, 2), 4);',
    'assert.deepStrictEqual(add(2, 3), 5);',
    'assert.ok(!add(0, 0));',
    'assert.ok(add(1, 0));',
    "assert.deepStrictEqual(add([1], {a: -1, 'b': [2, 3]}), [1, 2]);",
    'assert.deepStrictEqual(await add(1, 1), 2);',
    'assert.deepStrictEqual(add(9, 9), 18);',
    'assert.deepStrictEqual(add(8, 8), 16);',
    'assert.deepStrictEqual(add(-1, -1), 1 - -3);',
    'assert.deepStrictEqual(add(new Set([1]), null), new Map());',
    'assert.deepStrictEqual(add(`t`, "it\'s"), \'x\\ty\');',
  ]);
  // The language-aware entry reads the same (TypeScript and the React ids alike); Python is the default.
  for (const languageId of ['javascript', 'typescript', 'javascriptreact', 'typescriptreact']) {
    assert.deepEqual(assertsFromContinuation(raw, 'add', languageId), jsAssertsFromContinuation(raw, 'add'), languageId);
  }
  assert.deepEqual(assertsFromContinuation('add(1, 2) == 3', 'add'), ['assert add(1, 2) == 3']);
  assert.deepEqual(assertsFromContinuation('add(1, 2), 3);', 'add', 'go'), []);
  assert.deepEqual(collectGeneratedAsserts(['add(1, 2), 3);'], 'add', { languageId: 'rust' }), []);
});

test('JavaScript: garbage, other names, non-literals and other forms are dropped, and do not swallow the next asserts', () => {
  const raw = [
    'add(1, 2, 3);', // the opener's statement never closes: a `;` inside
    'assert.deepStrictEqual(x.add(1, 2), 3);', // not the function itself
    'assert.deepStrictEqual(sub(1, 2), -1);', // another function
    'assert.deepStrictEqual(add(x, 2), 3);', // a name among the arguments
    'assert.deepStrictEqual(add(1, 2), y);', // a name as the expected value
    'assert.deepStrictEqual(add(1, 2).length, 3);', // something after the call
    'assert.deepStrictEqual(add(add(1, 1), 2), 4);', // a call among the arguments
    'assert.deepStrictEqual(add(1, 2), add(2, 1));', // no literal side
    'assert.deepStrictEqual(add(`${a}`, 1), 1);', // an interpolating template
    'assert.deepStrictEqual(add(1 as number, 2), 3);', // TypeScript syntax is not a literal
    'assert.strictEqual(add([1], [2]), [1, 2]);', // identity on an array: never equal
    'assert.ok(add([1], [2]) === [1, 2]);',
    'assert.ok(add(1, 2) == 3);', // loose comparisons and others
    'assert.ok(add(1, 2) !== 4);',
    'assert.ok(add(1, 2) === 3 && add(2, 2) === 4);',
    'assert.notStrictEqual(add(1, 2), 4);', // other methods
    'assert.throws(() => add());',
    'assert.constructor(add(1, 2), 3);', // not a method of assert read (nor a property of every object)
    'assert.deepStrictEqual(add(1, 2), 3, 4, 5);', // too many arguments
    'assert.deepStrictEqual(add(1, 2));',
    'assert.deepStrictEqual(add(1, 2), 3).then(done);', // not a statement of its own
    'x = assert.deepStrictEqual(add(1, 2), 3);',
    "assert.deepStrictEqual(add('a, 1), 1);", // an unterminated string
    'assert.deepStrictEqual(add(1, [2), 3);', // brackets that do not match
    'assert.deepStrictEqual(add(5, 5), 10', // left open: the next line's assert is not swallowed
    'assert.deepStrictEqual(add(6, 6), 12);',
    'console.log(add(1, 2));',
    'function check() { return add(1, 2) === 3; }',
    'assert.deepStrictEqual(add(7, 7), 14);',
  ].join('\n');
  assert.deepEqual(jsAssertsFromContinuation(raw, 'add'), ['assert.deepStrictEqual(add(6, 6), 12);', 'assert.deepStrictEqual(add(7, 7), 14);']);
  assert.deepEqual(jsAssertsFromContinuation('', 'add'), []);
  assert.deepEqual(jsAssertsFromContinuation('\n\n', 'add'), []);
  assert.deepEqual(jsAssertsFromContinuation('add(1, 2), 3);\r\nassert.ok(add(0, 1) === 1);\r\n', 'add'), ['assert.deepStrictEqual(add(1, 2), 3);', 'assert.deepStrictEqual(add(0, 1), 1);']);
});

test('JavaScript: duplicates written differently count together, the first perSample of each continuation, the most frequent first', () => {
  const samples = [
    'add(1, 2), 3);\nassert.deepStrictEqual(add(2, 2), 4);',
    'add(2,2),4)\nassert.strictEqual(add(3, 3), 6);',
    '3, add(1, 2));', // reversed
    'add(1,2), 3.0);\nassert.ok(add(9, 9) === 18);\nassert(add(9, 9) === 18);\nassert.strictEqual(add(9, 9), 18);\nassert.deepStrictEqual(add(9, 9), 18);\nassert.deepStrictEqual(add(4, 4), 8);',
    'garbage',
    'x.add(1, 2), 3);',
  ];
  const opts = { languageId: 'javascript' };
  assert.deepEqual(
    collectGeneratedAsserts(samples, 'add', opts).map((g) => [g.text, g.count, g.firstSample]),
    [
      ['assert.deepStrictEqual(add(9, 9), 18);', 4, 3],
      ['assert.deepStrictEqual(add(1, 2), 3);', 3, 0],
      ['assert.deepStrictEqual(add(2, 2), 4);', 2, 0],
      ['assert.deepStrictEqual(add(3, 3), 6);', 1, 1],
    ],
  );
  assert.deepEqual(parseGeneratedAsserts(samples, 'add', { ...opts, max: 2 }), ['assert.deepStrictEqual(add(9, 9), 18);', 'assert.deepStrictEqual(add(1, 2), 3);']);
  assert.deepEqual(
    collectGeneratedAsserts(samples, 'add', { ...opts, perSample: 1 }).map((g) => [g.text, g.count]),
    [
      ['assert.deepStrictEqual(add(1, 2), 3);', 3],
      ['assert.deepStrictEqual(add(2, 2), 4);', 1],
    ],
  );
  assert.deepEqual(collectGeneratedAsserts(samples, 'add', { languageId: 'typescript' }), collectGeneratedAsserts(samples, 'add', opts));
  // Read as Python (the default), the same continuations give nothing.
  assert.deepEqual(parseGeneratedAsserts(samples, 'add'), []);
});

// Regression guard on the real CodeGen-16B generated tests (../shared/bench, outside the repository).
const bench = path.join(__dirname, '../../../shared/bench/humaneval');
const haveBench = fs.existsSync(path.join(bench, 'codegen16b_generated_tests.jsonl'));

test(
  'HumanEval generated tests: 6993 distinct asserts with the defaults (7693 uncapped, 8719 generations), none for 10 problems',
  { skip: !haveBench && 'shared/bench not present' },
  () => {
    const read = (f: string) =>
      fs
        .readFileSync(path.join(bench, f), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const entry = new Map(read('problems.jsonl').map((p) => [p.task_id as string, p.entry_point as string]));
    let capped = 0;
    let all = 0;
    let generations = 0;
    let empty = 0;
    for (const t of read('codegen16b_generated_tests.jsonl')) {
      const ep = entry.get(t.task_id as string) ?? '';
      const samples = t.samples as string[];
      capped += parseGeneratedAsserts(samples, ep).length;
      const every = collectGeneratedAsserts(samples, ep, { max: Infinity });
      all += every.length;
      generations += every.reduce((a, g) => a + g.count, 0);
      if (every.length === 0) empty++;
      for (const g of every) assert.ok(!g.text.includes('\n') && g.text.startsWith('assert ') && g.text.includes(ep), g.text);
    }
    assert.deepEqual({ capped, all, generations, empty }, { capped: 6993, all: 7693, generations: 8719, empty: 10 });
  },
);
