/**
 * Execution at inference, with a real engine process, the real sandboxed runner (real
 * python3) and the OpenAI-compatible FIXTURE as the model server: candidates that pass the
 * docstring's examples are ranked first, outcomes are stored, and nothing runs unless asked.
 */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { paths } from '../../engine/src/discovery';
import type { CompleteRequest } from '../../engine/src/protocol';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { startEngine, tempDir, waitFor, type RunningEngine } from '../helpers';

const PREFIX = `import math


def add(a, b):
    """Add two numbers.

    >>> add(1, 2)
    3
    >>> add(-1, 1)
    0
    """
`;

describe('execution at inference', () => {
  let dir: string;
  let fixture: Fixture;
  let engine: RunningEngine;
  const request = (execute: boolean): CompleteRequest => ({
    prefix: PREFIX,
    suffix: '',
    languageId: 'python',
    filePath: '/work/demo/add.py',
    n: 5,
    budgetMs: 8000,
    generator: { backend: 'openai', url: fixture.url },
    execute,
  });

  before(async () => {
    dir = tempDir();
    // Most samples are wrong (and agree with each other), one is right.
    fixture = await startOpenAIFixture({ complete: (_b, i) => (i % 5 === 4 ? '    return a + b\n' : '    return a - b\n') });
    engine = await startEngine(dir);
  });

  after(async () => {
    await engine.stop();
    await fixture.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('without execute, the ranker alone decides (the majority answer first)', async () => {
    const r = await engine.client.request('complete', request(false), 20_000);
    assert.equal(r.execution, undefined);
    assert.equal(r.candidates[0]?.text, '    return a - b');
    assert.equal(r.candidates[0]?.tests, undefined);
  });

  test('with execute, the candidate that passes the docstring examples is ranked first', async () => {
    const r = await engine.client.request('complete', request(true), 20_000);
    assert.ok(r.execution, 'an execution summary');
    assert.equal(r.execution.tests, 2);
    assert.equal(r.execution.passedAll, 1);
    assert.equal(r.candidates[0]?.text, '    return a + b');
    assert.deepEqual(r.candidates[0]?.tests, { passed: 2, total: 2 });
    assert.deepEqual(r.candidates[1]?.tests, { passed: 0, total: 2 });
    assert.deepEqual(r.candidates.map((c) => c.rank), [0, 1]);
    const rows = await waitFor('test outcomes stored', () => {
      const db = new Database(paths(dir).db, { readonly: true });
      try {
        const got = db.prepare('SELECT candidate_id, source, passed, total FROM test_outcomes WHERE request_id = ?').all(r.requestId) as { source: string; passed: number; total: number }[];
        return got.length === 2 ? got : undefined;
      } finally {
        db.close();
      }
    });
    assert.deepEqual(rows.map((x) => [x.source, x.passed, x.total]).sort(), [['docstring', 0, 2], ['docstring', 2, 2]]);
  });
});
