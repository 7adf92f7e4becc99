/**
 * The function the cursor is in and the program a candidate runs as (engine/src/exec/programs.ts),
 * for Python, JavaScript and TypeScript; then a few of those programs really run, in the
 * sandbox, against asserts. TypeScript runs on Node.js 20 too: the engine strips the types.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PythonAdapter, runJavaScriptTests, runPythonTests, runTypeScriptTests } from '../../engine/src/exec/languages';
import { enclosingFunction, programFor, runnableJsImports, stripTestTypes, stripTypes } from '../../engine/src/exec/programs';

const fnOf = (prefix: string, lang: string) => {
  const f = enclosingFunction(prefix, lang);
  return f && { name: f.name, topLevel: f.topLevel };
};

/** The program for a completion at `prefix|suffix` with `candidate` (the function must be found). */
function program(lang: string, prefix: string, candidate: string, suffix = ''): string {
  const fn = enclosingFunction(prefix, lang);
  assert.ok(fn, `no function in ${JSON.stringify(prefix)}`);
  const p = programFor(lang, prefix, fn, candidate, suffix);
  assert.ok(p !== undefined, 'no program');
  return p;
}

// ---- Python ----------------------------------------------------------------------------------

test('python: the innermost def whose body is open; methods and nested defs are not top-level', () => {
  const doc = 'import math\n\ndef area(r):\n    """Area.\n    >>> area(1)\n    3.14\n    """\n    ';
  assert.deepEqual(enclosingFunction(doc, 'python'), { name: 'area', from: 13, indent: 0, topLevel: true });
  assert.deepEqual(fnOf('class A:\n    def m(self):\n        ', 'python'), { name: 'm', topLevel: false });
  assert.deepEqual(fnOf('def outer(x):\n    def inner(y):\n        ', 'python'), { name: 'inner', topLevel: false });
  // A nested def that is closed again leaves the cursor in the outer function.
  assert.deepEqual(fnOf('def outer(x):\n    def helper(y):\n        return y\n    return ', 'python'), { name: 'outer', topLevel: true });
  // Past the end of the function: in none.
  assert.equal(enclosingFunction('def f(x):\n    return x\n\nx = ', 'python'), undefined);
  // A `def` inside a docstring is text; a signature over several lines is one header.
  assert.deepEqual(fnOf('def f(x):\n    """\ndef g(y):\n    """\n    return ', 'python'), { name: 'f', topLevel: true });
  assert.deepEqual(fnOf('async def f(\n    a,\n    b,\n):\n    ', 'python'), { name: 'f', topLevel: true });
  assert.equal(enclosingFunction('x = 1\n', 'python'), undefined);
  assert.equal(enclosingFunction('def f(x):\n    ', 'go'), undefined);
});

test('python: the program is the top-level imports and the function with the candidate as its body', () => {
  const prefix = 'import math\nfrom typing import (\n    List,\n)\nX = compute()\n\ndef area(r):\n    """>>> area(1)"""\n';
  assert.equal(program('python', prefix, '    return math.pi * r * r', '\n\nprint(1)\n'), 'import math\n\ndef area(r):\n    """>>> area(1)"""\n    return math.pi * r * r\n');
  const method = 'class A:\n    def m(self):\n        ';
  const fn = enclosingFunction(method, 'python');
  assert.ok(fn);
  assert.equal(programFor('python', method, fn, 'return 1', ''), undefined, 'a method is not run on its own');
});

// ---- JavaScript / TypeScript: finding the function ---------------------------------------------

test('js: function declarations, async, export, export default', () => {
  assert.deepEqual(enclosingFunction('function add(a, b) {\n  ', 'javascript'), { name: 'add', from: 0, indent: 0, topLevel: true });
  assert.deepEqual(fnOf('async function load(url) {\n  ', 'javascript'), { name: 'load', topLevel: true });
  assert.deepEqual(fnOf('export function add(a, b) {\n  ', 'javascript'), { name: 'add', topLevel: true });
  assert.deepEqual(fnOf('export default async function main() {\n  ', 'javascriptreact'), { name: 'main', topLevel: true });
  assert.deepEqual(fnOf('function* gen(n) {\n  ', 'javascript'), { name: 'gen', topLevel: true });
  assert.equal(enclosingFunction('export default function () {\n  ', 'javascript'), undefined, 'anonymous: nothing to call');
  // `from` takes the header's first token (export included) and the comment right above it.
  const jsdoc = "import x from './x';\n\n/**\n * add(1, 2) // => 3\n */\nexport function add(a, b) {\n  ";
  assert.equal(jsdoc.slice(enclosingFunction(jsdoc, 'javascript')?.from), '/**\n * add(1, 2) // => 3\n */\nexport function add(a, b) {\n  ');
  const lines = 'const k = 1;\n// double(2) => 4\n// double(3) => 6\nfunction double(n) {\n  ';
  assert.equal(lines.slice(enclosingFunction(lines, 'javascript')?.from), '// double(2) => 4\n// double(3) => 6\nfunction double(n) {\n  ');
  const spaced = '/** other */\n\nfunction f() {\n  ';
  assert.equal(spaced.slice(enclosingFunction(spaced, 'javascript')?.from), 'function f() {\n  ', 'a blank line separates the comment');
});

test('js/ts: arrow functions and function expressions bound by const/let/var', () => {
  assert.deepEqual(fnOf('const add = (a, b) => {\n  ', 'javascript'), { name: 'add', topLevel: true });
  assert.deepEqual(fnOf('export const add = async (a, b) => {\n  ', 'javascript'), { name: 'add', topLevel: true });
  assert.deepEqual(fnOf('let inc = x => {\n  ', 'javascript'), { name: 'inc', topLevel: true });
  assert.deepEqual(fnOf('var f = function (a) {\n  ', 'javascript'), { name: 'f', topLevel: true });
  assert.deepEqual(fnOf('const g = function named(a) {\n  ', 'javascript'), { name: 'g', topLevel: true });
  assert.deepEqual(fnOf('const sq = (x: number): number =>', 'typescript'), { name: 'sq', topLevel: true });
  assert.deepEqual(fnOf('const sq = (x: number): number =>\n  x * ', 'typescript'), { name: 'sq', topLevel: true });
  assert.equal(enclosingFunction('const sq = (x) => x * x;\n', 'javascript'), undefined, 'the expression ended');
  assert.equal(enclosingFunction('const sq = (x) => x * x\nconst y = ', 'javascript'), undefined, 'a new statement ended it');
  assert.deepEqual(fnOf('export const id = <T,>(x: T): { v: T } => {\n  ', 'typescriptreact'), { name: 'id', topLevel: true });
  assert.deepEqual(fnOf('const f: (x: number) => number = (x) => {\n  ', 'typescript'), { name: 'f', topLevel: true });
  assert.deepEqual(fnOf('function pair<A, B>(a: A, b: B): { a: A; b: B } {\n  ', 'typescript'), { name: 'pair', topLevel: true });
  assert.equal(enclosingFunction('const x = compute(1, 2);\n', 'javascript'), undefined);
});

test('js: methods and nested functions are found with topLevel false; anonymous callbacks are not functions', () => {
  assert.deepEqual(fnOf('class A {\n  constructor() {}\n  static async m(x) {\n    ', 'javascript'), { name: 'm', topLevel: false });
  assert.deepEqual(fnOf('class A {\n  handler = (e) => {\n    ', 'javascript'), { name: 'handler', topLevel: false });
  assert.deepEqual(fnOf('class A {\n  private get(x: number): number {\n    ', 'typescript'), { name: 'get', topLevel: false });
  assert.deepEqual(fnOf('const o = {\n  key: (a) => {\n    ', 'javascript'), { name: 'key', topLevel: false });
  assert.deepEqual(fnOf('const o = {\n  run(a) {\n    ', 'javascript'), { name: 'run', topLevel: false });
  assert.deepEqual(fnOf('function f(xs) {\n  function g(y) {\n    ', 'javascript'), { name: 'g', topLevel: false });
  assert.deepEqual(fnOf('function f(xs) {\n  const g = (y) => {\n    ', 'javascript'), { name: 'g', topLevel: false });
  // Inside an anonymous callback, the cursor is in the named function around it.
  assert.deepEqual(fnOf('function f(xs) {\n  return xs.map((x) => {\n    ', 'javascript'), { name: 'f', topLevel: true });
  // Once the method is closed the cursor is in the class body, in no function; after the class, in none.
  assert.equal(enclosingFunction('class A {\n  m() {\n    return 1;\n  }\n  ', 'javascript'), undefined);
  // Calls and control flow are not methods.
  assert.deepEqual(fnOf('function f(x) {\n  if (x) {\n    foo(x);\n    while (x) {\n      ', 'javascript'), { name: 'f', topLevel: true });
});

test('js: braces in strings, template literals, comments and regular expressions do not count', () => {
  const prefix = [
    'function f(s) {',
    "  const a = '}}';",
    '  const b = "{";',
    '  const c = `} ${s.replace(/[{}]/g, "}")} }`;',
    '  // }',
    '  /* } */',
    '  const r = /\\}+/;',
    '  if (s) {',
    '    ',
  ].join('\n');
  assert.deepEqual(fnOf(prefix, 'javascript'), { name: 'f', topLevel: true });
  assert.deepEqual(fnOf(`${prefix}return 1;\n  }\n}\nfunction g() {\n  `, 'javascript'), { name: 'g', topLevel: true });
  // Division is not a regular expression: `a / b / c` leaves the brace count alone.
  assert.deepEqual(fnOf('function f(a, b, c) {\n  const x = a / b / c; const y = { z: 1 };\n  ', 'javascript'), { name: 'f', topLevel: true });
});

// ---- JavaScript / TypeScript: programs ---------------------------------------------------------------

test('js: the program closes the function from the suffix, cuts a candidate that closes it, drops export', () => {
  const prefix = 'export function add(a, b) {\n  if (a) {\n    ';
  // The candidate ends before the closing braces: they come from the suffix, the rest of the suffix does not.
  assert.equal(program('javascript', prefix, 'return a + b;', '\n  }\n  return b; // }\n}\n\nfunction other() {}\n'), 'function add(a, b) {\n  if (a) {\n    return a + b;\n  }\n  return b; // }\n}\n');
  // The candidate closes the function itself: cut there, the suffix is not used.
  assert.equal(program('javascript', 'function add(a, b) {\n  ', 'return a + b;\n}\n\nconsole.log(add(1, 2));', '\n}\n'), 'function add(a, b) {\n  return a + b;\n}\n');
  // Nothing closes it (no suffix): the missing closers are added.
  assert.equal(program('javascript', 'function f(xs) {\n  return xs.map((x) => {\n    ', 'return x * 2'), 'function f(xs) {\n  return xs.map((x) => {\n    return x * 2\n})}\n');
  // export default; a brace in a string of the suffix does not close anything.
  assert.equal(program('javascript', 'export default function f() {\n  ', "return '}'", ';\n}\nx();\n'), "function f() {\n  return '}';\n}\n");
  // An expression-bodied arrow ends at its `;` or at the next statement.
  assert.equal(program('typescript', 'export const sq = (x: number): number =>', ' x * x', ';\nconst y = 2;\n'), 'const sq = (x: number): number => x * x;\n');
  assert.equal(program('javascript', 'const sq = (x) =>\n  ', 'x *', ' x\nconst y = 2;\n'), 'const sq = (x) =>\n  x * x\n');
  // A long rest of the body in the suffix (read in steps), braces in a string across a step's end.
  const long = `\n  const s = '${'{'.repeat(2500)}';\n  return s.length;\n}\nfunction next() {}\n`;
  assert.equal(program('javascript', 'function f() {\n  ', 'let x = 1;', long), `function f() {\n  let x = 1;${long.slice(0, long.indexOf('}\n') + 1)}\n`);
  // A method or a nested function has no program.
  const method = 'class A {\n  m() {\n    ';
  const fn = enclosingFunction(method, 'javascript');
  assert.ok(fn && !fn.topLevel);
  assert.equal(programFor('javascript', method, fn, 'return 1', '\n  }\n}\n'), undefined);
});

test('js: only Node.js built-in imports are kept, as require', () => {
  const head = [
    "import fs from 'node:fs';",
    "import * as path from 'path';",
    "import { join as j, type X, promisify } from 'node:util';",
    "import os, { EOL } from 'os';",
    'import {',
    '  createHash,',
    "} from 'node:crypto';",
    "import type { Stats } from 'node:fs';",
    "import lodash from 'lodash';",
    "import { helper } from './helper';",
    "import './side-effect';",
    "import cp = require('child_process');",
    "const assert = require('node:assert');",
    "const { readFile } = require('fs').promises;",
    "const local = require('./local');",
    '',
  ].join('\n');
  assert.equal(
    runnableJsImports(head),
    [
      'const fs = require("node:fs");',
      'const path = require("path");',
      'const { join: j, promisify } = require("node:util");',
      'const os = require("os");',
      'const { EOL } = os;',
      'const { createHash } = require("node:crypto");',
      'const cp = require("child_process");',
      'const assert = require("node:assert");',
      'const { readFile } = require("fs").promises;',
    ].join('\n'),
  );
  assert.equal(runnableJsImports("import React from 'react';\n"), '');
});

test('ts: types are stripped in the engine, positions kept; enums transformed; errors are SyntaxErrors', () => {
  const ts = 'function f<T extends number>(x: T): number {\n  return (x as number) * 2;\n}\n';
  const js = stripTypes(ts);
  assert.equal(js.length, ts.length);
  assert.equal(js.split('\n').length, ts.split('\n').length);
  assert.match(js, /^function f\s+\(x\s+\)\s+\{\n  return \(x\s+\) \* 2;\n\}\n$/);
  assert.match(stripTypes('function f() { enum E { A, B } return E.B }'), /return 1|E\.B/);
  assert.throws(() => stripTypes('function f(x: number { return x }'), SyntaxError);
  assert.throws(() => stripTypes('function f() { enum E { A } }', { stripOnly: true }), /unsupported TypeScript/);
  // Test bodies may await and return at their top level.
  assert.equal(stripTestTypes('const v: number = await f(2);\nreturn v as number;'), 'const v         = await f(2);\nreturn v          ;');
});

// ---- programs that run ------------------------------------------------------------------------

const RUN = { pool: null, perTestMs: 2000 } as const;

test('runs: a TypeScript function with annotations, generics and a cast passes; a wrong one fails', async () => {
  const prefix = [
    "import { strict as assert } from 'node:assert';",
    "import { helper } from './helper';",
    '',
    '/**',
    ' * twice(2) // => 4',
    ' */',
    'export function twice<T extends number>(x: T): number {',
    '  ',
  ].join('\n');
  const suffix = '\n}\n\nexport const other = helper(1);\n';
  const good = program('typescript', prefix, 'const n = x as number;\n  const out: Array<number> = [n, n];\n  return out.reduce((a: number, b: number) => a + b, 0);', suffix);
  const bad = program('typescript', prefix, 'return (x as number) + 1;', suffix);
  const tests = ['assert.deepStrictEqual(twice(2), 4)', 'const v: number = twice(5);\nassert.equal(v, 10)'];
  const ok = await runTypeScriptTests(good, tests, RUN);
  assert.equal(ok.syntaxError, undefined, ok.syntaxError);
  assert.equal(ok.programError, undefined, ok.programError);
  assert.deepEqual(ok.results.map((r) => r.passed), [true, true], JSON.stringify(ok.results));
  const no = await runTypeScriptTests(bad, tests, RUN);
  assert.deepEqual(no.results.map((r) => r.passed), [false, false]);
  assert.match(no.results[0]?.error ?? '', /AssertionError/);
});

test('runs: a TypeScript arrow function; a candidate that does not parse is a syntax error', async () => {
  const prefix = 'export const pick = <K extends string>(o: Record<K, number>, k: K): number =>';
  const good = program('typescript', prefix, ' o[k] ?? 0', ';\n');
  const r = await runTypeScriptTests(good, ['if (pick({ a: 1 } as Record<string, number>, "a") !== 1) throw new Error("no")'], RUN);
  assert.deepEqual(r.results.map((t) => t.passed), [true], JSON.stringify(r));
  const broken = await runTypeScriptTests(program('typescript', 'function f(x: number): number {\n  ', 'return x +;'), ['f(1)'], RUN);
  assert.match(broken.syntaxError ?? '', /SyntaxError/);
  assert.equal(broken.results[0]?.passed, false);
});

test('runs: a JavaScript function closed from the suffix, with a built-in import, called by the tests', async () => {
  const prefix = "import { createHash } from 'node:crypto';\nimport { db } from './db.js';\n\nexport async function digest(s) {\n  if (typeof s === 'string') {\n    ";
  const p = program('javascript', prefix, "return createHash('sha1').update(s).digest('hex').slice(0, 8);", '\n  }\n  return null;\n}\n\nexport default db;\n');
  const r = await runJavaScriptTests(p, ['const assert = require("node:assert");\nassert.strictEqual(await digest("abc"), "a9993e36")', 'if ((await digest(1)) !== null) throw new Error("not null")'], RUN);
  assert.deepEqual(r.results.map((t) => t.passed), [true, true], JSON.stringify(r));
  const arrow = program('javascript', 'const inc = (x) => {\n  ', 'return x + 1;', '\n};\n');
  const a = await runJavaScriptTests(arrow, ['require("node:assert").strictEqual(inc(1), 2)'], RUN);
  assert.deepEqual(a.results.map((t) => t.passed), [true], JSON.stringify(a));
});

test('runs: a Python program', async (t) => {
  if (!(await new PythonAdapter().available())) return t.skip('no Python 3 here');
  const prefix = 'import math\n\ndef area(r):\n    """>>> area(1)"""\n';
  const r = await runPythonTests(program('python', prefix, '    return round(math.pi * r * r, 2)'), ['assert area(1) == 3.14', 'assert area(2) == 1'], RUN);
  assert.deepEqual(r.results.map((x) => x.passed), [true, false]);
});
