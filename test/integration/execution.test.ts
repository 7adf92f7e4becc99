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
import { FEATURE_NAMES, FEATURE_SET_ID } from '../../engine/src/features';
import type { CompleteRequest } from '../../engine/src/protocol';
import { startOpenAIFixture, type Fixture, type FixtureOptions } from '../fixtures/openaiServer';
import { startEngine, tempDir, waitFor, type RunningEngine } from '../helpers';

/** An engine in a fresh data folder and a model server answering `complete`, for the enclosing describe. */
function engineWithModel(complete: NonNullable<FixtureOptions['complete']>): { dir: string; fixture: Fixture; engine: RunningEngine } {
  const ctx = {} as { dir: string; fixture: Fixture; engine: RunningEngine };
  before(async () => {
    ctx.dir = tempDir();
    ctx.fixture = await startOpenAIFixture({ complete });
    ctx.engine = await startEngine(ctx.dir);
  });
  after(async () => {
    await ctx.engine.stop();
    await ctx.fixture.close();
    fs.rmSync(ctx.dir, { recursive: true, force: true });
  });
  return ctx;
}

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

  test('project tests for the function count as trusted tests, and are stored as such', async () => {
    const r = await engine.client.request(
      'complete',
      { ...request(true), relatedTests: [{ path: '/work/demo/tests/test_add.py', languageId: 'python', text: 'from add import add\n\ndef test_add():\n    assert add(2, 2) == 4\n    assert add(x, 1) == 2\n' }] },
      20_000,
    );
    assert.deepEqual(r.execution?.bySource, { docstring: 2, project: 1, synthesized: 0 });
    assert.equal(r.candidates[0]?.text, '    return a + b');
    assert.deepEqual(r.candidates[0]?.tests, { passed: 3, total: 3 });
    const rows = await waitFor('project outcomes stored', () => {
      const db = new Database(paths(dir).db, { readonly: true });
      try {
        const got = db.prepare("SELECT passed, total FROM test_outcomes WHERE request_id = ? AND source = 'project'").all(r.requestId) as { passed: number; total: number }[];
        return got.length === 2 ? got : undefined;
      } finally {
        db.close();
      }
    });
    assert.deepEqual(rows.map((x) => [x.passed, x.total]).sort(), [[0, 1], [1, 1]]);
  });
});

describe('execution at inference with model-written tests (CodeT agreement)', () => {
  // No examples in the docstring: only the model-written tests can tell the candidates apart.
  const prefix = 'def mul(a, b):\n    """Multiply two numbers."""\n';
  const ctx = engineWithModel((body, i) => {
    // Tests: three right, one wrong (that a + b happens to pass, with mul(2, 2) == 4).
    if (body.prompt.includes('# check the correctness of mul')) return ['mul(2, 3) == 6\n', 'mul(1, 5) == 5\n', 'mul(2, 2) == 4\n', 'mul(2, 3) == 5\n'][i % 4] as string;
    // Candidates: a wrong majority (a + b), a right minority written two ways.
    return ['    return a + b\n', '    return a + b\n', '    return a + b\n', '    return a * b\n', '    return b * a\n'][i % 5] as string;
  });

  test('the candidates the tests agree on are ranked first; the tests were asked of the same model', async () => {
    const r = await ctx.engine.client.request(
      'complete',
      { prefix, suffix: '', languageId: 'python', filePath: '/work/demo/mul.py', n: 5, budgetMs: 8000, generator: { backend: 'openai', url: ctx.fixture.url }, execute: true, synthesizeTests: 4 },
      20_000,
    );
    const asked = ctx.fixture.requests.find((b) => b.prompt.includes('# check the correctness of mul'));
    assert.ok(asked, 'a test-writing request reached the model server');
    assert.ok(asked.prompt.endsWith('assert '), asked.prompt);
    assert.deepEqual(r.execution?.bySource, { docstring: 0, project: 0, synthesized: 4 });
    assert.equal(r.execution?.largestAgreement, 2, 'a * b and b * a pass the same three tests');
    assert.deepEqual(new Set(r.candidates.slice(0, 2).map((c) => c.text)), new Set(['    return a * b', '    return b * a']));
    assert.equal(r.candidates[2]?.text, '    return a + b');
    assert.equal(r.candidates[0]?.tests?.agreement, 1);
    assert.ok((r.candidates[2]?.tests?.agreement ?? 1) < 1);
    const rows = await waitFor('synthesized outcomes stored', () => {
      const db = new Database(paths(ctx.dir).db, { readonly: true });
      try {
        const got = db.prepare("SELECT passed, total FROM test_outcomes WHERE request_id = ? AND source = 'synthesized'").all(r.requestId) as { passed: number; total: number }[];
        return got.length === 3 ? got : undefined;
      } finally {
        db.close();
      }
    });
    assert.deepEqual(rows.map((x) => [x.passed, x.total]).sort(), [[2, 4], [3, 4], [3, 4]]);
  });

  test('without synthesizeTests, nothing but the candidates is asked of the model', async () => {
    const before = ctx.fixture.requests.length;
    const r = await ctx.engine.client.request(
      'complete',
      { prefix, suffix: '', languageId: 'python', filePath: '/work/demo/mul.py', n: 5, budgetMs: 8000, generator: { backend: 'openai', url: ctx.fixture.url }, execute: true },
      20_000,
    );
    assert.equal(ctx.fixture.requests.length - before, 1);
    assert.match(r.execution?.skipped ?? '', /no tests for mul\(\)/);
  });
});


describe('execution at inference: TypeScript', () => {
  const prefix = `import * as fs from 'node:fs';
import { helper } from './helper';

/**
 * Sums a list.
 * @example total([1, 2, 3]) // => 6
 * @example total([]) // => 0
 */
export function total(xs: number[]): number {
`;

  const ctx = engineWithModel((body, i) =>
    // Asked for tests: the model continues `assert.deepStrictEqual(` (a right test and a wrong one).
    body.prompt.includes('// check the correctness of total')
      ? i % 2 === 0
        ? 'total([4, 5]), 9);\n'
        : 'total([4, 5]), 20);\n'
      : i % 3 === 2
        ? '  return xs.reduce((a: number, b: number) => a + b, 0);\n}\n'
        : '  return xs.length as number;\n}\n',
  );

  test('a typed candidate that passes the JSDoc examples is ranked first (types stripped in the engine)', async () => {
    const r = await ctx.engine.client.request(
      'complete',
      { prefix, suffix: '\n\nexport const other = 1;\n', languageId: 'typescript', filePath: '/work/demo/total.ts', n: 3, budgetMs: 8000, generator: { backend: 'openai', url: ctx.fixture.url }, execute: true },
      20_000,
    );
    assert.equal(r.execution?.skipped, undefined, r.execution?.skipped);
    assert.deepEqual(r.execution?.bySource, { docstring: 2, project: 0, synthesized: 0 });
    assert.match(r.candidates[0]?.text ?? '', /reduce/);
    assert.deepEqual(r.candidates[0]?.tests, { passed: 2, total: 2 });
    assert.deepEqual(r.candidates[1]?.tests, { passed: 1, total: 2 }, 'xs.length is right for [] only');
  });

  test('model-written TypeScript tests are asked for and run; the right candidate is the one they agree on', async () => {
    const r = await ctx.engine.client.request(
      'complete',
      { prefix, suffix: '', languageId: 'typescript', filePath: '/work/demo/total.ts', n: 3, budgetMs: 8000, generator: { backend: 'openai', url: ctx.fixture.url }, execute: true, synthesizeTests: 2 },
      20_000,
    );
    const asked = ctx.fixture.requests.find((b) => b.prompt.includes('// check the correctness of total'));
    assert.ok(asked?.prompt.endsWith('assert.deepStrictEqual('), asked?.prompt);
    assert.deepEqual(r.execution?.bySource, { docstring: 2, project: 0, synthesized: 2 });
    assert.match(r.candidates[0]?.text ?? '', /reduce/);
    assert.equal(r.candidates[0]?.tests?.agreement, 1);
  });
});

describe('execution at inference: runs past the latency budget', () => {
  // The right body is slow (0.4 s a call, 2 examples); the wrong one is fast.
  const ctx = engineWithModel((_b, i) => (i % 2 === 0 ? '    import time\n    time.sleep(0.4)\n    return a + b\n' : '    return a - b\n'));

  test('the reply does not wait for a run past the budget; it finishes in the background and its outcome is stored', async () => {
    const r = await ctx.engine.client.request(
      'complete',
      { prefix: PREFIX, suffix: '', languageId: 'python', filePath: '/work/demo/add.py', n: 2, budgetMs: 500, generator: { backend: 'openai', url: ctx.fixture.url }, execute: true },
      20_000,
    );
    // The slow one cannot finish in time (0.8 s of sleeping against a 0.5 s budget); whether the
    // fast one did depends on the machine's load.
    assert.ok((r.execution?.background ?? 0) >= 1, JSON.stringify(r.execution));
    const slow = r.candidates.find((c) => c.text.includes('sleep'));
    assert.ok(slow, 'the slow candidate is still offered');
    assert.equal(slow.tests, undefined, 'no outcome yet when the reply left');
    const row = await waitFor('the background outcome stored', () => {
      const db = new Database(paths(ctx.dir).db, { readonly: true });
      try {
        return db.prepare("SELECT passed, total FROM test_outcomes WHERE candidate_id = ? AND source = 'docstring'").get(slow.id) as { passed: number; total: number } | undefined;
      } finally {
        db.close();
      }
    });
    assert.deepEqual({ ...row }, { passed: 2, total: 2 });
    // Its stored feature row gets what the outcome implies (no exec_ran = 0 beside a pass-rate label).
    const ran = FEATURE_NAMES.indexOf('exec_ran');
    const allPassed = FEATURE_NAMES.indexOf('exec_all_passed');
    const features = await waitFor('the late features stored', () => {
      const db = new Database(paths(ctx.dir).db, { readonly: true });
      try {
        const c = db.prepare('SELECT features, feature_set FROM candidates WHERE id = ?').get(slow.id) as { features: Buffer; feature_set: string } | undefined;
        if (!c) return undefined;
        const f = new Float32Array(new Uint8Array(c.features).buffer);
        return f[ran] === 1 ? { f, set: c.feature_set } : undefined;
      } finally {
        db.close();
      }
    });
    assert.equal(features.set, FEATURE_SET_ID);
    assert.equal(features.f[allPassed], 1);
  });
});
