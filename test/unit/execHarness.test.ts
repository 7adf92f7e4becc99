/** Reading the harness's report out of a run's stdout, including runs that were killed mid-way. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseHarnessOutput } from '../../engine/src/exec/languages';

const N = '@@winnow-abc@@';
const ok = { timedOut: false, exitCode: 0, signal: null, outputTruncated: false };

test('the final line wins; stray output (even with a look-alike prefix) is ignored', () => {
  const out = ['hello', '@@winnow-xyz@@R {"results":[{"passed":true}]}', `${N}T {"i":0,"passed":false}`, `${N}R {"results":[{"passed":true},{"passed":false,"error":"AssertionError"}]}`, ''].join('\n');
  const r = parseHarnessOutput(out, N, 2, ok);
  assert.deepEqual(r.results, [{ passed: true }, { passed: false, error: 'AssertionError' }]);
  assert.equal(r.crashed, undefined);
});

test('syntax and program errors come through', () => {
  const r = parseHarnessOutput(`${N}R {"results":[{"passed":false,"error":"syntax error"}],"syntaxError":"SyntaxError: invalid syntax (program.py, line 3)"}\n`, N, 1, ok);
  assert.match(r.syntaxError ?? '', /line 3/);
  const p = parseHarnessOutput(`${N}R {"results":[{"passed":false,"error":"program raised NameError: x"}],"programError":"NameError: x"}\n`, N, 1, ok);
  assert.equal(p.programError, 'NameError: x');
});

test('killed at the wall-clock limit: finished tests keep their results, the running one timed out, the rest not run', () => {
  const out = `${N}T {"i":0,"passed":true}\n${N}T {"i":1,"passed":false,"error":"AssertionError"}\n`;
  const r = parseHarnessOutput(out, N, 4, { ...ok, timedOut: true, exitCode: null, signal: 'SIGKILL' });
  assert.deepEqual(r.results[0], { passed: true });
  assert.deepEqual(r.results[1], { passed: false, error: 'AssertionError' });
  assert.equal(r.results[2]?.timedOut, true);
  assert.equal(r.results[3]?.skipped, true);
  assert.equal(r.crashed, 'wall-clock limit');
});

test('a process that ended before its first test reports a program error; a cut last line is ignored', () => {
  const r = parseHarnessOutput(`${N}T {"i":0,"pas`, N, 2, { ...ok, exitCode: null, signal: 'SIGKILL', outputTruncated: true });
  assert.equal(r.programError, 'the process ended: output limit exceeded');
  assert.match(r.results[0]?.error ?? '', /output limit/);
  assert.equal(r.results[1]?.skipped, true);
});

test('a final line with a non-zero exit still says why the process ended', () => {
  const r = parseHarnessOutput(`${N}R {"results":[{"passed":false,"timedOut":true}]}\n`, N, 1, { ...ok, exitCode: 3 });
  assert.equal(r.crashed, 'exited with code 3');
  assert.equal(r.results[0]?.timedOut, true);
});
