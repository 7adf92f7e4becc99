import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeReply,
  decodeRequest,
  encodeError,
  encodeReply,
  encodeRequest,
  MAX_BODY_BYTES,
  PROTOCOL_TAG,
  validateComplete,
  validateEvents,
  type CompleteReply,
} from '../../engine/src/protocol';
import { executionLine } from '../../server/src/executionLog';
import { settingsFrom, DEFAULT_SETTINGS } from '../../server/src/protocol';

const b = (s: string) => Buffer.from(s);

test('request round trip', () => {
  const frames = encodeRequest('ping', 'id-1', {});
  const d = decodeRequest(frames);
  assert.deepEqual(d, { ok: true, value: { type: 'ping', id: 'id-1', body: {} } });
});

test('reply and error round trip', () => {
  assert.deepEqual(decodeReply(encodeReply('7', { x: 1 })), { id: '7', ok: true, body: { x: 1 } });
  assert.deepEqual(decodeReply(encodeError('8', { code: 'bad_request', message: 'no' })), {
    id: '8',
    ok: false,
    error: { code: 'bad_request', message: 'no' },
  });
  assert.equal(decodeReply([b('x')]), undefined);
  assert.equal(decodeReply([b(PROTOCOL_TAG), b('reply'), b('1'), b('{not json')]), undefined);
});

test('malformed requests decode to errors, never throw', () => {
  const cases: Buffer[][] = [
    [],
    [b('garbage')],
    [b('winnow/99'), b('ping'), b('1'), b('{}')],
    [b('http/1.1'), b('ping'), b('1'), b('{}')],
    [b(PROTOCOL_TAG), b('explode'), b('2'), b('{}')],
    [b(PROTOCOL_TAG), b('ping'), b('3'), b('{oops')],
    [b(PROTOCOL_TAG), b('ping'), b('4'), b('[1,2]')],
    [b(PROTOCOL_TAG), b('ping'), b(''), b('{}')],
    [b(PROTOCOL_TAG), b('ping'), b('5'), Buffer.alloc(MAX_BODY_BYTES + 1, 0x20)],
    [b(PROTOCOL_TAG), b('ping'), b('6'), Buffer.from([0xff, 0xfe, 0x00])],
  ];
  for (const frames of cases) {
    const d = decodeRequest(frames);
    assert.equal(d.ok, false, `should reject ${frames.map((f) => f.toString('utf8').slice(0, 20)).join('|')}`);
  }
  const v = decodeRequest([b('winnow/99'), b('ping'), b('1'), b('{}')]);
  assert.ok(!v.ok && v.error.code === 'unsupported_version' && v.id === '1');
});

test('complete and event bodies are validated at the boundary', () => {
  const good = { prefix: 'a', suffix: '', languageId: 'python', filePath: '/x.py', n: 8, budgetMs: 1000, generator: { backend: 'recorded' } };
  assert.equal(validateComplete(good), undefined);
  assert.match(validateComplete({ ...good, n: 0 }) ?? '', /n must be/);
  assert.match(validateComplete({ ...good, prefix: 3 }) ?? '', /prefix/);
  assert.match(validateComplete({ ...good, generator: { backend: 'gpt' } }) ?? '', /backend/);
  assert.match(validateComplete({ ...good, generator: { backend: 'openai', temperature: 'hot' } }) ?? '', /temperature/);
  assert.equal(validateEvents({ events: [{ kind: 'accepted', requestId: 'r', candidateId: 'r:0', time: 1 }] }), undefined);
  assert.match(validateEvents({ events: [{ kind: 'liked', requestId: 'r', candidateId: 'c', time: 1 }] }) ?? '', /kind/);
  assert.match(validateEvents({}) ?? '', /array/);
});

test('settings are normalized at the boundary: defaults, clamping, nested or flat keys', () => {
  assert.deepEqual(settingsFrom(undefined), DEFAULT_SETTINGS);
  const s = settingsFrom({ candidates: 1000, latencyBudgetMs: 'fast', generator: { backend: 'ollama', url: 'http://h:1' }, 'generator.model': 'm' });
  assert.equal(s.candidates, 64);
  assert.equal(s.latencyBudgetMs, DEFAULT_SETTINGS.latencyBudgetMs);
  assert.equal(s.generator.backend, 'ollama');
  assert.equal(s.generator.url, 'http://h:1');
  assert.equal(s.generator.model, 'm');
  assert.equal(settingsFrom({ generator: { backend: 'nope' } }).generator.backend, 'openai');
  assert.equal(settingsFrom({ execution: { enabled: 'on', synthesizeTests: 99 } }).synthesizeTests, 20);
  assert.equal(settingsFrom({ 'execution.synthesizeTests': 0 }).synthesizeTests, 0);
  assert.equal(settingsFrom({ execution: { synthesizeTests: 'many' } }).synthesizeTests, DEFAULT_SETTINGS.synthesizeTests);
});

test('the execution log line says how many candidates passed, and where the tests came from', () => {
  const cands = [{}, {}, {}] as CompleteReply['candidates'];
  assert.equal(
    executionLine({ candidates: cands, execution: { tests: 2, bySource: { docstring: 2, project: 0, synthesized: 0 }, ran: 3, passedAll: 1, background: 0, containment: ['bubblewrap'] } }),
    'execution: 1 of 3 candidates passed the 2 docstring examples (3 ran in time; sandbox: bubblewrap)',
  );
  assert.equal(
    executionLine({ candidates: cands, execution: { tests: 6, bySource: { docstring: 1, project: 2, synthesized: 3 }, ran: 2, passedAll: 0, background: 1, largestAgreement: 2 } }),
    'execution: 0 of 3 candidates passed the 1 docstring example and 2 project tests; 3 model-written tests, largest group of candidates agreeing on them: 2 (2 ran in time, 1 finishing in the background; sandbox: none)',
  );
  assert.equal(
    executionLine({ candidates: cands, execution: { tests: 4, bySource: { docstring: 0, project: 0, synthesized: 4 }, ran: 3, passedAll: 0, background: 0, largestAgreement: 3 } }),
    'execution: no docstring examples or project tests for 3 candidates; 4 model-written tests, largest group of candidates agreeing on them: 3 (3 ran in time; sandbox: none)',
  );
  assert.equal(executionLine({ candidates: cands, execution: { tests: 0, ran: 0, passedAll: 0, background: 0, skipped: 'no candidates' } }), 'execution: no candidates');
  // Short, for the status bar's tooltip: no label, no run details.
  assert.equal(
    executionLine({ candidates: cands, execution: { tests: 2, bySource: { docstring: 2, project: 0, synthesized: 0 }, ran: 3, passedAll: 1, background: 0, containment: ['bubblewrap'] } }, { short: true }),
    '1 of 3 candidates passed the 2 docstring examples',
  );
});

test('completion requests: related tests and synthesized-test counts are checked at the edge', () => {
  const base = { prefix: '', suffix: '', languageId: 'python', filePath: '/a.py', n: 1, budgetMs: 100, generator: { backend: 'recorded', recordedPool: '/p.jsonl' } };
  assert.equal(validateComplete({ ...base, synthesizeTests: 4, relatedTests: [{ path: '/t/test_a.py', languageId: 'python', text: 'assert f(1) == 2' }] }), undefined);
  assert.match(validateComplete({ ...base, synthesizeTests: 100 }) ?? '', /synthesizeTests/);
  assert.match(validateComplete({ ...base, relatedTests: [{ path: 1 }] }) ?? '', /relatedTests\[0\]/);
  assert.match(validateComplete({ ...base, relatedTests: Array.from({ length: 9 }, () => ({ path: '/x', languageId: 'python', text: '' })) }) ?? '', /at most/);
  assert.match(validateComplete({ ...base, relatedTests: [{ path: '/x', languageId: 'python', text: 'x'.repeat(70_000) }] }) ?? '', /longer than/);
});
