import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertsFromContinuation, collectGeneratedAsserts, parseGeneratedAsserts } from '../../engine/src/tests/generated';

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
