import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { MAX_RELATED_TEST_CHARS, MAX_RELATED_TEST_FILES } from '../../engine/src/protocol';
import { capText, cutToRelevant, findRelatedTests, functionNameAt, RelatedTestFinder, rootOf } from '../../server/src/relatedTests';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-related-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

let n = 0;
/** A fresh workspace folder (inside a parent folder, so that "outside the root" can be tried). */
function workspace(files: Record<string, string | Buffer>): string {
  const root = path.join(tmp, `ws${n++}`, 'project');
  for (const [rel, content] of Object.entries(files)) {
    const p = path.join(root, rel);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
  return root;
}

const rel = (root: string, files: readonly { path: string }[]) => files.map((f) => path.relative(root, f.path).split(path.sep).join('/'));

test('Python: test_<stem>.py and <stem>_test.py next to the file, in tests/ and test/ up the tree, flat or mirrored', async () => {
  const t = 'from pkg.mathlib import add\n\ndef test_add():\n    assert add(1, 2) == 3\n';
  const root = workspace({
    'src/pkg/mathlib.py': 'def add(a, b):\n',
    'src/pkg/test_mathlib.py': t,
    'src/pkg/mathlib_test.py': t,
    'tests/pkg/test_mathlib.py': t,
    'tests/test_mathlib.py': t,
    'test/test_other.py': 'from pkg.mathlib import add\nassert add(1, 1) == 2\n',
  });
  fs.mkdirSync(path.join(root, '..', 'tests'), { recursive: true });
  fs.writeFileSync(path.join(root, '..', 'tests', 'test_mathlib.py'), t); // outside the workspace root
  const finder = new RelatedTestFinder();
  const q = { filePath: path.join(root, 'src/pkg/mathlib.py'), languageId: 'python', functionName: 'add', workspaceRoots: [root] };
  const found = await finder.find(q);
  assert.deepEqual(rel(root, found), ['src/pkg/test_mathlib.py', 'src/pkg/mathlib_test.py', 'tests/pkg/test_mathlib.py', 'tests/test_mathlib.py']);
  assert.ok(found.every((f) => f.languageId === 'python' && path.isAbsolute(f.path)));
  assert.equal(found[0]?.text, 'from pkg.mathlib import add\n    assert add(1, 2) == 3');
  // __init__.py is its package's name.
  const init = workspace({ 'pkg/__init__.py': '', 'tests/test_pkg.py': 'from pkg import f\nassert f() == 1\n' });
  assert.deepEqual(rel(init, await finder.find({ filePath: path.join(init, 'pkg/__init__.py'), languageId: 'python', workspaceRoots: [init] })), ['tests/test_pkg.py']);
});

test('JavaScript/TypeScript: .test/.spec next to the file, __tests__/, test(s)/ flat or mirrored, node:test style test/<stem>.js', async () => {
  const t = "import { sum } from '../src/util/math';\ntest('sum', () => expect(sum(1, 2)).toBe(3));\n";
  const root = workspace({
    'src/util/math.ts': 'export function sum(a: number, b: number) {',
    'src/util/math.test.ts': t,
    'src/util/math.spec.js': t,
    'src/util/__tests__/math.tsx': t,
    'test/util/math.spec.ts': t,
    'test/math.js': "const assert = require('node:assert');\nassert.equal(sum(1, 2), 3);\n",
    'tests/math.test.mjs': t,
    'src/util/other.test.ts': t,
  });
  const finder = new RelatedTestFinder();
  const filePath = path.join(root, 'src/util/math.ts');
  const all = await finder.testPaths(filePath, 'typescript', [root]);
  assert.deepEqual(rel(root, all.map((p) => ({ path: p }))), [
    'src/util/math.test.ts',
    'src/util/math.spec.js',
    'src/util/__tests__/math.tsx',
    'test/util/math.spec.ts',
    'test/math.js',
    'tests/math.test.mjs',
  ]);
  const found = await finder.find({ filePath, languageId: 'typescript', functionName: 'sum', workspaceRoots: [root] });
  assert.equal(found.length, MAX_RELATED_TEST_FILES);
  assert.deepEqual(
    found.map((f) => f.languageId),
    ['typescript', 'javascript', 'typescriptreact', 'typescript'],
  );
  // index.js is its folder's name; the source itself is never its own test.
  const idx = workspace({ 'lib/parse/index.js': 'function parse(s) {', 'test/parse.js': 'assert.equal(parse("1"), 1);\n', 'test/index.js': '' });
  assert.deepEqual(rel(idx, await finder.find({ filePath: path.join(idx, 'lib/parse/index.js'), languageId: 'javascript', workspaceRoots: [idx] })), ['test/parse.js']);
  const self = workspace({ 'test/x.js': 'function x() {\n  return x(1);\n}\n' });
  assert.deepEqual(await finder.find({ filePath: path.join(self, 'test/x.js'), languageId: 'javascript', workspaceRoots: [self] }), []);
});

test('only inside a workspace root: files outside every root, relative paths and other languages give nothing', async () => {
  const root = workspace({ 'a/m.py': '', 'a/test_m.py': 'assert f(1) == 1\n', 'a/m.go': '', 'a/m_test.go': 'f(1)\n' });
  const finder = new RelatedTestFinder();
  const filePath = path.join(root, 'a/m.py');
  assert.equal((await finder.find({ filePath, languageId: 'python', workspaceRoots: [root] })).length, 1);
  assert.deepEqual(await finder.find({ filePath, languageId: 'python', workspaceRoots: [path.join(root, 'b')] }), []);
  assert.deepEqual(await finder.find({ filePath, languageId: 'python', workspaceRoots: [] }), []);
  assert.deepEqual(await finder.find({ filePath: 'a/m.py', languageId: 'python', workspaceRoots: [root] }), []);
  assert.deepEqual(await finder.find({ filePath: 'untitled:Untitled-1', languageId: 'python', workspaceRoots: [root] }), []);
  assert.deepEqual(await finder.find({ filePath: path.join(root, 'a/m.go'), languageId: 'go', workspaceRoots: [root] }), []);
  // The workspace root bounds the walk up: a root at `a/` does not see `<project>/tests/`.
  const nested = workspace({ 'a/b/m.py': '', 'a/tests/test_m.py': 'assert f(1) == 1\n', 'tests/test_m.py': 'assert f(2) == 2\n' });
  const inner = await finder.find({ filePath: path.join(nested, 'a/b/m.py'), languageId: 'python', workspaceRoots: [path.join(nested, 'a')] });
  assert.deepEqual(rel(nested, inner), ['a/tests/test_m.py']);
  assert.equal(rootOf(path.join(nested, 'a/b/m.py'), [nested, path.join(nested, 'a'), 'relative']), path.join(nested, 'a'), 'the deepest root holding the file');
});

test('binary files (NUL bytes), files over 1 MiB and unreadable files are skipped', async () => {
  const root = workspace({
    'm.py': '',
    'test_m.py': Buffer.from('assert f(1) == 1\n\u0000\u0001', 'latin1'),
    'm_test.py': `assert f(1) == 1\n${'#'.repeat(1024 * 1024)}\n`,
    'tests/test_m.py': 'assert f(2) == 2\n',
  });
  const unreadable = path.join(root, 'test/test_m.py');
  fs.mkdirSync(path.dirname(unreadable));
  fs.writeFileSync(unreadable, 'assert f(3) == 3\n');
  fs.chmodSync(unreadable, 0o000);
  const canRead = (() => {
    try {
      fs.readFileSync(unreadable);
      return true; // root ignores permissions
    } catch {
      return false;
    }
  })();
  const found = await new RelatedTestFinder().find({ filePath: path.join(root, 'm.py'), languageId: 'python', functionName: 'f', workspaceRoots: [root] });
  assert.deepEqual(rel(root, found), canRead ? ['tests/test_m.py', 'test/test_m.py'] : ['tests/test_m.py']);
  fs.chmodSync(unreadable, 0o644);
});

test('the list is cached for a short time; file text is cached by (path, mtime, size)', async () => {
  const root = workspace({ 'm.py': '', 'test_m.py': 'assert f(1) == 1\n' });
  let now = 1_000_000;
  const finder = new RelatedTestFinder({ now: () => now });
  const q = { filePath: path.join(root, 'm.py'), languageId: 'python', functionName: 'f', workspaceRoots: [root] };
  const file = path.join(root, 'test_m.py');
  const mtime = 1_700_000_000; // whole seconds, so that it can be set back exactly
  fs.utimesSync(file, mtime, mtime);
  assert.equal((await finder.find(q)).length, 1);
  // A new test file is seen once the list expires.
  fs.writeFileSync(path.join(root, 'm_test.py'), 'assert f(2) == 2\n');
  assert.equal((await finder.find(q)).length, 1, 'list still cached');
  now += 10_001;
  assert.equal((await finder.find(q)).length, 2, 'list refreshed after the TTL');
  // Same mtime and size: the cached text is used (nothing re-read).
  fs.writeFileSync(file, 'assert f(9) == 9\n');
  fs.utimesSync(file, mtime, mtime);
  assert.equal((await finder.find(q))[0]?.text, 'assert f(1) == 1', 'cached by (path, mtime, size)');
  // A new mtime: read again.
  fs.utimesSync(file, mtime, mtime + 5);
  assert.equal((await finder.find(q))[0]?.text, 'assert f(9) == 9', 'invalidated by the mtime');
  // A deleted file is dropped at once, even while the list is cached.
  fs.rmSync(file);
  assert.deepEqual(rel(root, await finder.find(q)), ['m_test.py']);
});

test('cut to the lines that mention the function (and imports); files that never mention it are dropped; capped', async () => {
  const py = [
    'import pytest',
    'from m import f, g',
    '',
    'def test_f():',
    '    assert f(1) == 1',
    '    assert g(1) == 2',
    '    assert ff(1) == 3',
    '    assert f_(1) == 3',
    '    x = obj.f',
  ].join('\n');
  assert.equal(cutToRelevant(py, 'python', 'f'), ['import pytest', 'from m import f, g', '    assert f(1) == 1', '    x = obj.f'].join('\n'));
  assert.equal(cutToRelevant(py, 'python', undefined), py);
  assert.equal(cutToRelevant('import x\nassert g(1) == 2\n', 'python', 'f'), '', 'no mention: nothing');
  const js = "import assert from 'node:assert/strict';\nconst { $f } = require('./m');\ntest('x', () => {\n  assert.equal($f(1), 1);\n});\r\n";
  assert.equal(cutToRelevant(js, 'javascript', '$f'), "import assert from 'node:assert/strict';\nconst { $f } = require('./m');\n  assert.equal($f(1), 1);");
  assert.equal(capText('ab\ncd', 4), 'ab');
  assert.equal(capText('a\nb\nc', 3), 'a\nb');
  assert.equal(capText('abcdef', 3), 'abc');

  const big = `from m import f\n${'assert f(1) == 1  # padding padding padding\n'.repeat(4000)}`;
  const root = workspace({ 'm.py': '', 'test_m.py': big, 'm_test.py': 'from m import g\nassert g(1) == 1\n' });
  const found = await findRelatedTests({ filePath: path.join(root, 'm.py'), languageId: 'python', functionName: 'f', workspaceRoots: [root] });
  assert.deepEqual(rel(root, found), ['test_m.py'], 'm_test.py never mentions f');
  assert.ok(big.length > MAX_RELATED_TEST_CHARS);
  assert.ok((found[0]?.text.length ?? 0) <= MAX_RELATED_TEST_CHARS);
  assert.ok(found[0]?.text.endsWith('# padding padding padding'), 'cut at a line end');
  // Without a function name the whole file is sent (capped).
  const whole = await findRelatedTests({ filePath: path.join(root, 'm.py'), languageId: 'python', workspaceRoots: [root] });
  assert.deepEqual(rel(root, whole), ['test_m.py', 'm_test.py']);
});

test('a warm lookup is fast', async () => {
  const root = workspace({ 'src/a/b/m.ts': '', 'src/a/b/m.test.ts': 'expect(f(1)).toBe(1);\n' });
  const finder = new RelatedTestFinder();
  const q = { filePath: path.join(root, 'src/a/b/m.ts'), languageId: 'typescript', functionName: 'f', workspaceRoots: [root] };
  assert.equal((await findRelatedTests(q, finder)).length, 1);
  const t0 = performance.now();
  for (let i = 0; i < 20; i++) assert.equal((await findRelatedTests({ ...q, timeoutMs: 1000 }, finder)).length, 1);
  const perCall = (performance.now() - t0) / 20;
  assert.ok(perCall < 5, `warm lookup took ${perCall.toFixed(2)} ms`);
});

test('a search slower than timeoutMs answers [] (and is left to finish)', async () => {
  let finished = false;
  class Slow extends RelatedTestFinder {
    override find(): Promise<{ path: string; languageId: string; text: string }[]> {
      return new Promise((resolve) =>
        setTimeout(() => {
          finished = true;
          resolve([{ path: '/w/test_m.py', languageId: 'python', text: 'assert f(1) == 1' }]);
        }, 100),
      );
    }
  }
  const q = { filePath: '/w/m.py', languageId: 'python', workspaceRoots: ['/w'] };
  assert.deepEqual(await findRelatedTests({ ...q, timeoutMs: 5 }, new Slow()), []);
  assert.equal(finished, false);
  assert.equal((await findRelatedTests(q, new Slow())).length, 1, 'no timeout: waits');
});

test('functionNameAt: the last definition before the cursor', () => {
  assert.equal(functionNameAt('def a():\n    pass\n\nasync def b(x):\n    ', 'python'), 'b');
  assert.equal(functionNameAt('class C:\n    def method(self):\n        ', 'python'), 'method');
  assert.equal(functionNameAt('x = 1\n', 'python'), undefined);
  assert.equal(functionNameAt('function a() {}\nexport function b(x) {\n  ', 'javascript'), 'b');
  assert.equal(functionNameAt('const a = (x) => {\n  ', 'typescript'), 'a');
  assert.equal(functionNameAt('const a = async x => {\n  ', 'javascript'), 'a');
  assert.equal(functionNameAt('export const a: Fn = function (x) {\n  ', 'typescript'), 'a');
  assert.equal(functionNameAt('function f<T>(x: T): T {\n  ', 'typescriptreact'), 'f');
  assert.equal(functionNameAt('class C {\n  async load(id: string): Promise<void> {\n    if (id) {\n      ', 'typescript'), 'load');
  assert.equal(functionNameAt('function f() {\n  for (const x of y) {\n    while (x) {\n', 'javascript'), 'f');
  assert.equal(functionNameAt('def f(): pass', 'go'), undefined);
});
