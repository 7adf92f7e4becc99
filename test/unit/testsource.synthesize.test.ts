import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { enclosingFunction } from '../../engine/src/exec/programs';
import { testPrompt, topLevelImports } from '../../engine/src/testsources/synthesize';

/** The function `name` as the completion pipeline finds it: the start of its (last) `def` line. */
function fnAt(prefix: string, name: string): { name: string; from: number } {
  const re = new RegExp(`^[ \\t]*(?:async[ \\t]+)?def[ \\t]+${name}\\b`, 'gm');
  let from = -1;
  for (let m = re.exec(prefix); m; m = re.exec(prefix)) from = m.index;
  assert.ok(from >= 0, `no def ${name}`);
  return { name, from };
}

const tail = (name: string, indent = '    ') => `\n${indent}pass\n\n# check the correctness of ${name}\nassert `;

test('docstring with examples: imports, header and docstring as written, then pass, the comment and `assert `', () => {
  const prefix = [
    'from typing import List',
    '',
    '',
    'def has_close_elements(numbers: List[float], threshold: float) -> bool:',
    '    """ Check if in given list of numbers, are any two numbers closer to each other than',
    '    given threshold.',
    '    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)',
    '    False',
    '    """',
    '    ',
  ].join('\n');
  assert.equal(
    testPrompt(prefix, fnAt(prefix, 'has_close_elements'), 'python'),
    [
      'from typing import List',
      '',
      '',
      'def has_close_elements(numbers: List[float], threshold: float) -> bool:',
      '    """ Check if in given list of numbers, are any two numbers closer to each other than',
      '    given threshold.',
      '    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)',
      '    False',
      '    """',
      '    pass',
      '',
      '# check the correctness of has_close_elements',
      'assert ',
    ].join('\n'),
  );
});

test('the body already partly typed after the docstring is cut', () => {
  const prefix = [
    'import math',
    '',
    'def hyp(a: float, b: float) -> float:',
    "    '''The hypotenuse.'''",
    '    # squares first',
    '    s = a * a + b * b',
    '    if s > 0:',
    '        return math.sq',
  ].join('\n');
  assert.equal(testPrompt(prefix, fnAt(prefix, 'hyp'), 'python'), `import math\n\n\ndef hyp(a: float, b: float) -> float:\n    '''The hypotenuse.'''${tail('hyp')}`);
});

test('header only: right after the colon, on the blank body line, or with the body started', () => {
  const header = 'def double(x):';
  const want = `${header}${tail('double')}`;
  for (const prefix of [header, `${header}\n`, `${header}\n    `, `${header}\n\n    return x +`, `${header}  # doubles x\n    return`]) {
    const got = testPrompt(prefix, fnAt(prefix, 'double'), 'python');
    if (prefix.includes('# doubles')) assert.equal(got, `${header}  # doubles x${tail('double')}`);
    else assert.equal(got, want, JSON.stringify(prefix));
  }
  // A one-line body on the header line is left out.
  const oneLiner = 'def double(x): return 2 * x';
  assert.equal(testPrompt(oneLiner, fnAt(oneLiner, 'double'), 'python'), want);
});

test('header comments are kept (no docstring); comments after the docstring are the body', () => {
  const prefix = ['def clamp(x, lo, hi):', '    # Returns x limited to [lo, hi].', '    # clamp(5, 0, 3) == 3', '', '    if x < lo:', '        return lo', '    '].join('\n');
  assert.equal(testPrompt(prefix, fnAt(prefix, 'clamp'), 'python'), `def clamp(x, lo, hi):\n    # Returns x limited to [lo, hi].\n    # clamp(5, 0, 3) == 3${tail('clamp')}`);
  const after = ['def clamp(x, lo, hi):', '    """Limit x."""', '    # first the low bound', '    '].join('\n');
  assert.equal(testPrompt(after, fnAt(after, 'clamp'), 'python'), `def clamp(x, lo, hi):\n    """Limit x."""${tail('clamp')}`);
});

test('local imports before the docstring stay with the header; an import being typed does not', () => {
  const prefix = ['def area(r):', '    import math, cmath  # both', '    from fractions import Fraction as F', '    """Circle area."""', '    import ', ''].join('\n');
  assert.equal(
    testPrompt(prefix, fnAt(prefix, 'area'), 'python'),
    `def area(r):\n    import math, cmath  # both\n    from fractions import Fraction as F\n    """Circle area."""${tail('area')}`,
  );
  const typing = 'def area(r):\n    import ma';
  assert.equal(testPrompt(typing, fnAt(typing, 'area'), 'python'), `def area(r):${tail('area')}`);
});

test('async def, multi-line signatures, annotations with brackets and colons', () => {
  const asyncPrefix = 'import asyncio\n\nasync def fetch_all(urls: list[str]) -> dict[str, int]:\n    """Fetch every URL."""\n    async with';
  assert.equal(
    testPrompt(asyncPrefix, fnAt(asyncPrefix, 'fetch_all'), 'python'),
    `import asyncio\n\n\nasync def fetch_all(urls: list[str]) -> dict[str, int]:\n    """Fetch every URL."""${tail('fetch_all')}`,
  );
  const multi = [
    'def merge(a: Dict[str, int] = {"k": 1},',
    '          key=lambda x: x,  # how to sort',
    '          *, reverse: bool = False) -> Tuple[int, ...]:',
    '    r"""Merge a into itself (raw docstring: \\d)."""',
    '    out = []',
  ].join('\n');
  assert.equal(
    testPrompt(multi, fnAt(multi, 'merge'), 'python'),
    [
      'def merge(a: Dict[str, int] = {"k": 1},',
      '          key=lambda x: x,  # how to sort',
      '          *, reverse: bool = False) -> Tuple[int, ...]:',
      '    r"""Merge a into itself (raw docstring: \\d)."""',
    ].join('\n') + tail('merge'),
  );
});

test('imports: top-level only, before the function, multi-line ones whole', () => {
  const prefix = [
    '#!/usr/bin/env python3',
    'from __future__ import annotations',
    '"""Module docstring: import this and that."""',
    'import os, sys',
    'from collections import (',
    '    Counter,  # counts',
    '    deque,',
    ')',
    'from . import sibling',
    'import numpy as \\',
    '    np',
    'try:',
    '    import ujson as json',
    'except ImportError:',
    '    import json',
    'X = 1',
    'if TYPE_CHECKING:',
    '    from typing import Sequence',
    '',
    'def top(xs):',
    '    """Most common."""',
    '    import heapq',
    '    ',
  ].join('\n');
  const fn = fnAt(prefix, 'top');
  assert.deepEqual(topLevelImports(prefix, fn.from), [
    'from __future__ import annotations',
    'import os, sys',
    'from collections import (\n    Counter,  # counts\n    deque,\n)',
    'from . import sibling',
    'import numpy as \\\n    np',
  ]);
  assert.equal(
    testPrompt(prefix, fn, 'python'),
    'from __future__ import annotations\nimport os, sys\nfrom collections import (\n    Counter,  # counts\n    deque,\n)\nfrom . import sibling\nimport numpy as \\\n    np\n\n\ndef top(xs):\n    """Most common."""' +
      tail('top'),
  );
  // An import cut by the start of the context window, or never closed, is left out.
  assert.deepEqual(topLevelImports('from a import (\n    b,\n'), []);
  assert.deepEqual(topLevelImports('mport os\nimport re\n'), ['import re']);
});

test('nested functions are dedented to the top level; methods give no prompt', () => {
  const nested = ['def outer():', '    def inner(n):', '        """Square n."""', '        return n'].join('\n');
  assert.equal(testPrompt(nested, fnAt(nested, 'inner'), 'python'), `def inner(n):\n    """Square n."""${tail('inner')}`);
  const method = ['class Stack:', '    def push(self, x):', '        """Push x."""', '        '].join('\n');
  assert.equal(testPrompt(method, fnAt(method, 'push'), 'python'), undefined);
  const classMethod = ['class Stack:', '    @classmethod', '    def empty(cls):', '        """An empty stack."""', '        '].join('\n');
  assert.equal(testPrompt(classMethod, fnAt(classMethod, 'empty'), 'python'), undefined);
});

test('tabs and CRLF', () => {
  const tabs = 'def f(x):\n\t"""Tab-indented."""\n\treturn';
  assert.equal(testPrompt(tabs, fnAt(tabs, 'f'), 'python'), `def f(x):\n\t"""Tab-indented."""${tail('f', '\t')}`);
  const crlf = 'import re\r\n\r\ndef f(x):\r\n    """CRLF."""\r\n    return';
  assert.equal(testPrompt(crlf, fnAt(crlf, 'f'), 'python'), `import re\n\n\ndef f(x):\n    """CRLF."""${tail('f')}`);
});

test('no prompt while the header or the docstring is being typed, for a wrong fn, or for languages other than Python, JavaScript and TypeScript', () => {
  const none = (prefix: string, fn = fnAt(prefix, 'f'), languageId = 'python') => assert.equal(testPrompt(prefix, fn, languageId), undefined, JSON.stringify(prefix));
  none('def f(a, b');
  none('def f(a, b) -> Li');
  none('def f(a, b)\n    return');
  none('def f(x):\n    """Doubles x.\n\n    >>> f(2)\n    4');
  none("def f(x):\n    'unterminated");
  none('def f(x):\n    """Doubles."""', { name: 'g', from: 0 });
  none('x = 1\ndef f(x):\n    """Doubles."""', { name: 'f', from: 0 });
  none('def f(x):\n    """Doubles."""', { name: 'f', from: 99 });
  none('def f(x):\n    """Doubles."""', { name: 'f', from: 2 });
  none('def f(x):\n    """Doubles."""\n    ', fnAt('def f(x):\n    """Doubles."""\n    ', 'f'), 'go');
  none('def f(x):\n    """Doubles."""\n    ', fnAt('def f(x):\n    """Doubles."""\n    ', 'f'), 'plaintext');
});

// ---- JavaScript / TypeScript ----

/** The function as the completion pipeline finds it (`enclosingFunction`). */
function jsFn(prefix: string, languageId = 'javascript'): { name: string; from: number } {
  const fn = enclosingFunction(prefix, languageId);
  assert.ok(fn, `no function in ${JSON.stringify(prefix)}`);
  return { name: fn.name, from: fn.from };
}

const jsTail = (name: string, indent = '  ', close = '}') => `\n${indent}throw new Error('todo');\n${close}\n\n// check the correctness of ${name}\nassert.deepStrictEqual(`;

test('JavaScript: the JSDoc and header as written, a stub body that throws, the comment and `assert.deepStrictEqual(`; imports and the body being typed left out', () => {
  const prefix = [
    "import fs from 'node:fs';",
    "const { join } = require('node:path');",
    '',
    'const LIMIT = 3;',
    '',
    '/**',
    ' * Adds two numbers.',
    ' * @example add(1, 2) // 3',
    ' */',
    'function add(a, b) {',
    '  const s = a +',
  ].join('\n');
  assert.equal(
    testPrompt(prefix, jsFn(prefix), 'javascript'),
    [
      '/**',
      ' * Adds two numbers.',
      ' * @example add(1, 2) // 3',
      ' */',
      'function add(a, b) {',
      "  throw new Error('todo');",
      '}',
      '',
      '// check the correctness of add',
      'assert.deepStrictEqual(',
    ].join('\n'),
  );
  // Right after the `{`, on the blank body line, with the body started: the same prompt; `//` lines above count as the comment.
  for (const body of ['', '\n', '\n  ', '\n\n  return a', ' return a']) {
    const p = `// Adds a and b.\n// add(2, 2) === 4\nfunction add(a, b) {${body}`;
    assert.equal(testPrompt(p, jsFn(p), 'javascript'), `// Adds a and b.\n// add(2, 2) === 4\nfunction add(a, b) {${jsTail('add')}`, JSON.stringify(body));
  }
  // No comment: the header alone.
  const bare = 'function add(a, b) {\n  return';
  assert.equal(testPrompt(bare, jsFn(bare), 'javascript'), `function add(a, b) {${jsTail('add')}`);
});

test("JavaScript: comments that open the body are kept (their indentation sets the stub's); code after them is the body", () => {
  const prefix = ['function clamp(x, lo, hi) { // limits x', '    // to [lo, hi]', '    /* clamp(5, 0, 3) === 3 */', '', '    if (x < lo) return lo;', '    '].join('\n');
  assert.equal(
    testPrompt(prefix, jsFn(prefix), 'javascript'),
    `function clamp(x, lo, hi) { // limits x\n    // to [lo, hi]\n    /* clamp(5, 0, 3) === 3 */${jsTail('clamp', '    ')}`,
  );
  // A block comment still being typed is not kept.
  const open = 'function clamp(x, lo, hi) {\n  /* limits x to';
  assert.equal(testPrompt(open, jsFn(open), 'javascript'), `function clamp(x, lo, hi) {${jsTail('clamp')}`);
  // Tabs, CRLF.
  const tabs = '/** Tabs. */\r\nfunction f(x) {\r\n\t// the body\r\n\treturn';
  assert.equal(testPrompt(tabs, jsFn(tabs), 'javascript'), `/** Tabs. */\nfunction f(x) {\n\t// the body${jsTail('f', '\t')}`);
});

test('TypeScript: types kept as written (generics, object return types), export kept; arrows and function expressions end with `};`', () => {
  const decl = [
    "import type { Point } from './geometry';",
    '',
    '/** The point halfway between a and b. */',
    'export function midpoint<T extends { x: number }>(a: T, b: T): { x: number; y: number } {',
    '  const x = (a.x + b.x) /',
  ].join('\n');
  assert.equal(
    testPrompt(decl, jsFn(decl, 'typescript'), 'typescript'),
    `/** The point halfway between a and b. */\nexport function midpoint<T extends { x: number }>(a: T, b: T): { x: number; y: number } {${jsTail('midpoint')}`,
  );
  const arrow = '/** Doubles x. */\nexport const double = async (x: number): Promise<number> => x *';
  assert.equal(testPrompt(arrow, jsFn(arrow, 'typescript'), 'typescript'), `/** Doubles x. */\nexport const double = async (x: number): Promise<number> => {${jsTail('double', '  ', '};')}`);
  const braced = 'const sum: (xs: number[]) => number = (xs) => {\n  let s = 0;';
  assert.equal(testPrompt(braced, jsFn(braced, 'typescript'), 'typescript'), `const sum: (xs: number[]) => number = (xs) => {${jsTail('sum', '  ', '};')}`);
  const oneParam = 'let inc = x => {\n  return x';
  assert.equal(testPrompt(oneParam, jsFn(oneParam), 'javascript'), `let inc = x => {${jsTail('inc', '  ', '};')}`);
  const fnExpr = 'var sq = function square(x) {\n  return';
  assert.equal(testPrompt(fnExpr, jsFn(fnExpr), 'javascript'), `var sq = function square(x) {${jsTail('sq', '  ', '};')}`);
  const gen = 'export default async function* walk(dir: string): AsyncGenerator<string> {\n  yield';
  assert.equal(testPrompt(gen, jsFn(gen, 'typescript'), 'typescript'), `export default async function* walk(dir: string): AsyncGenerator<string> {${jsTail('walk')}`);
  // The React ids read the same.
  const jsx = '/** Title case. */\nfunction title(s) {\n  return <h1>';
  assert.equal(testPrompt(jsx, jsFn(jsx, 'javascriptreact'), 'javascriptreact'), `/** Title case. */\nfunction title(s) {${jsTail('title')}`);
  assert.equal(testPrompt(decl, jsFn(decl, 'typescriptreact'), 'typescriptreact'), testPrompt(decl, jsFn(decl, 'typescript'), 'typescript'));
});

test('JavaScript/TypeScript: no prompt for a method, a nested function, a header being typed, or a fn that is not the function the cursor is in', () => {
  const none = (prefix: string, fn: { name: string; from: number }, languageId = 'javascript') => assert.equal(testPrompt(prefix, fn, languageId), undefined, JSON.stringify(prefix));
  const method = 'class Stack {\n  /** Push x. */\n  push(x) {\n    ';
  none(method, jsFn(method));
  const field = 'class Stack {\n  push = (x) => {\n    ';
  none(field, jsFn(field));
  const objectMethod = 'const api = {\n  get(id) {\n    return';
  none(objectMethod, jsFn(objectMethod));
  const nested = 'function outer() {\n  function inner(n) {\n    return n';
  none(nested, jsFn(nested));
  const nestedArrow = 'function outer() {\n  const inner = (n) => {\n    return n';
  none(nestedArrow, jsFn(nestedArrow));
  none('function f(a, b', { name: 'f', from: 0 });
  none('function f(a, b): Pro', { name: 'f', from: 0 }, 'typescript');
  none('function f(x) { return x; }\n', { name: 'f', from: 0 }); // closed: the cursor is not in it
  const open = '/** Doubles x. */\nfunction f(x) {\n  ';
  none(open, { name: 'g', from: 0 });
  none(open, { name: 'f', from: open.indexOf('function') }); // not where enclosingFunction starts it
  none(open, { name: 'f', from: 999 });
  none(open, { name: 'f', from: -1 });
  none(open, jsFn(open), 'python');
});

// The recorded CodeGen-16B test continuations (../shared/bench, outside the repository): for
// every task whose file is only imports and the function, the prompt built from a document
// holding the stub is byte for byte CodeT's `generation_prompt` (up to leading blank lines).
const bench = path.join(__dirname, '../../../shared/bench/humaneval');
const haveBench = fs.existsSync(path.join(bench, 'codegen16b_generated_tests.jsonl'));

test('the prompt matches CodeT\'s layout on the recorded HumanEval test prompts', { skip: !haveBench && 'shared/bench not present' }, () => {
  const lines = fs.readFileSync(path.join(bench, 'codegen16b_generated_tests.jsonl'), 'utf8').split('\n').filter((l) => l.trim());
  let compared = 0;
  for (const line of lines) {
    const { task_id: taskId, generation_prompt: gp } = JSON.parse(line) as { task_id: string; generation_prompt: string };
    const m = /\n    pass\n\n# check the correctness of (\w+)\nassert $/.exec(gp);
    assert.ok(m, taskId);
    const name = m[1] as string;
    const stub = gp.slice(0, m.index);
    const fn = fnAt(stub, name);
    const before = stub.slice(0, fn.from);
    const onlyImports = before.split('\n').every((l) => l.trim() === '' || /^(import|from)\s/.test(l));
    for (const body of ['\n', '\n    result = []\n    for x in ']) {
      const got = testPrompt(stub + body, fn, 'python');
      assert.ok(got?.endsWith(gp.slice(fn.from)), `${taskId}: ${JSON.stringify(got)}`);
      if (onlyImports) assert.equal(got, gp.replace(/^\n+/, ''), taskId);
    }
    if (onlyImports) compared++;
  }
  assert.ok(compared >= 100, `compared ${compared}`);
  console.log(`${compared} of ${lines.length} recorded prompts compared byte for byte`);
});
