/**
 * Tests synthesized at inference (CodeT style) through the real generators: the OpenAI-compatible
 * FIXTURE as the model server behind the real `openai` generator, and the `recorded` generator
 * over JSONL pools. The prompt sent, the asserts read back (deduplicated, counted, capped), and
 * what happens on an abort, an HTTP error, an unreachable server or a pool with no match.
 * JavaScript and TypeScript too, their asserts then run in the sandbox as the engine runs them.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { runJavaScriptTests, runTypeScriptTests } from '../../engine/src/exec/languages';
import { enclosingFunction } from '../../engine/src/exec/programs';
import { Generators } from '../../engine/src/generators';
import { collectGeneratedAsserts } from '../../engine/src/testsources/generated';
import { synthesizeTests, type SynthesizeInput } from '../../engine/src/testsources/synthesize';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { tempDir, waitFor } from '../helpers';

const STUB = `def has_close_elements(numbers: List[float], threshold: float) -> bool:
    """ Check if in given list of numbers, are any two numbers closer to each other than
    given threshold.
    >>> has_close_elements([1.0, 2.0, 3.0], 0.5)
    False
    """`;
const PREFIX = `from typing import List
import math

X = 3


${STUB}
    for i, a in enumerate(numbers):
        for b in numbers[i + 1:]:
            if abs(a - `;

/** What the model answers after `assert `, by choice index. */
const CONTINUATIONS = [
  'has_close_elements([1.0, 2.0, 3.0], 0.5) == False\nassert has_close_elements([1.0, 2.8, 3.0], 0.3) == True\n',
  'has_close_elements([1.0,2.0,3.0],0.5)==False  # the same, laid out otherwise\n',
  'has_close_elements([1.0, 2.0, 3.0], 0.5) == False\n\ndef test():\n    pass\n',
  '____ == ____\n',
  'has_close_elements([1.0, 2.0 == True\n',
  'other_function([1.0], 0.5) == 1\nassert other_function([], 0.5) == 0\n',
  '\n\n',
  "has_close_elements([], 1.0) == False, 'empty'\n",
  "has_close_elements([1.0, 2.8, 3.0], 0.3) == True\nassert has_close_elements([], 1.0) == False, 'empty'\n",
  'x = has_close_elements([1.0], 1.0)\nprint(x)\n',
];

const generators = new Generators();

function input(over: Partial<SynthesizeInput> = {}): SynthesizeInput {
  return {
    prefix: PREFIX,
    fn: { name: 'has_close_elements', from: PREFIX.indexOf('def has_close_elements') },
    languageId: 'python',
    samples: CONTINUATIONS.length,
    signal: AbortSignal.timeout(10_000),
    ...over,
  };
}

describe('synthesized tests through the openai generator and the fixture model server', () => {
  let fixture: Fixture;
  before(async () => {
    fixture = await startOpenAIFixture({ complete: (_b, i) => CONTINUATIONS[(i % 100) % CONTINUATIONS.length] as string });
  });
  after(() => fixture.close());

  test('the continuations are read back as deduplicated, counted asserts naming the function, the most frequent first', async () => {
    const from = fixture.requests.length;
    const r = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), input());
    assert.equal(r.problem, undefined);
    assert.deepEqual(r.tests, [
      { text: 'assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False', count: 3, firstSample: 0 },
      { text: 'assert has_close_elements([1.0, 2.8, 3.0], 0.3) == True', count: 2, firstSample: 0 },
      { text: "assert has_close_elements([], 1.0) == False, 'empty'", count: 2, firstSample: 7 },
    ]);
    // One request, with n, and the prompt that ends with the stub and `assert `.
    assert.equal(fixture.requests.length, from + 1);
    const body = fixture.requests[from];
    assert.ok(body);
    assert.equal(body.n, CONTINUATIONS.length);
    assert.equal(body.suffix, undefined, 'no fill-in-the-middle: the prompt is all there is');
    assert.equal(body.prompt, r.prompt);
    assert.equal(body.prompt, `from typing import List\nimport math\n\n\n${STUB}\n    pass\n\n# check the correctness of has_close_elements\nassert `);
    assert.ok(!body.prompt.includes('enumerate'), 'the body being typed is not sent');
  });

  test('at most maxTests asserts, and perSample asserts read from each continuation', async () => {
    const capped = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), input({ maxTests: 2 }));
    assert.deepEqual(
      capped.tests.map((t) => [t.text, t.count]),
      [
        ['assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False', 3],
        ['assert has_close_elements([1.0, 2.8, 3.0], 0.3) == True', 2],
      ],
    );
    const first = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), input({ perSample: 1 }));
    assert.deepEqual(
      first.tests.map((t) => [t.text, t.count]),
      [
        ['assert has_close_elements([1.0, 2.0, 3.0], 0.5) == False', 3],
        ["assert has_close_elements([], 1.0) == False, 'empty'", 1],
        ['assert has_close_elements([1.0, 2.8, 3.0], 0.3) == True', 1],
      ],
    );
  });

  test('no prompt (a Python document read as TypeScript, the header being typed): no request, no tests', async () => {
    const from = fixture.requests.length;
    const g = generators.get({ backend: 'openai', url: fixture.url });
    assert.deepEqual(await synthesizeTests(g, input({ languageId: 'typescript' })), { tests: [] });
    const typing = 'def f(a, b';
    assert.deepEqual(await synthesizeTests(g, input({ prefix: typing, fn: { name: 'f', from: 0 } })), { tests: [] });
    assert.deepEqual(await synthesizeTests(g, input({ samples: 0 })), { tests: [], prompt: (await synthesizeTests(g, input({ samples: 1 }))).prompt });
    assert.equal(fixture.requests.length, from + 1);
  });
});

// ---- JavaScript / TypeScript ----

const JS_PREFIX = `import fs from 'node:fs';

const LIMIT = 3;

/**
 * Adds two numbers.
 * @example add(1, 2) // 3
 */
function add(a, b) {
  return a`;
const JS_STUB = `/**
 * Adds two numbers.
 * @example add(1, 2) // 3
 */
function add(a, b) {
  throw new Error('todo');
}`;
/** What the model answers after `assert.deepStrictEqual(`, by choice index. */
const JS_CONTINUATIONS = [
  'add(1, 2), 3);\nassert.deepStrictEqual(add(-1, 1), 0);\n',
  'add(1,2),3)\nassert.strictEqual(add(2, 2), 4);\n', // the same first test, laid out otherwise
  'add(0.5, 0.25), 0.75);\n\nfunction test() {}\n',
  'add(a, b), 3);\nassert.ok(add(2, 3) === 5);\n', // names as arguments: dropped
  'sub(1, 2), -1);\nassert.deepStrictEqual(x.add(1, 2), 3);\n', // not the function
  'add(1, 2), 4);\n', // a wrong test, as models write
  "add('a', 'b'), 'ab');\n",
  '\n\n',
  'add(1, [2), 3);\n',
];

const TS_PREFIX = `import type { Config } from './config';

/** The mean of xs; 0 for an empty list. */
export function mean(xs: number[]): number {
  if (xs.length === 0) return 0;
  let s = 0;
  for (const x of xs) s +=`;
const TS_STUB = `/** The mean of xs; 0 for an empty list. */
export function mean(xs: number[]): number {
  throw new Error('todo');
}`;
const TS_CONTINUATIONS = [
  'mean([1, 2, 3]), 2);\nassert.strictEqual(mean([]), 0);\n',
  'mean([2, 4]), 3);\nassert.ok(mean([1, 2, 3]) === 2);\n',
  'mean([1, 2, 3] as number[]), 2);\n', // TypeScript syntax is not a literal: dropped
  'mean([0.5, 1.5]), 1.0);\n',
];

/** How the engine runs a model-written JavaScript/TypeScript test (execution.ts). */
const withAssert = (text: string) => `const assert = require('node:assert/strict');\n${text}`;

describe('synthesized JavaScript and TypeScript tests through the openai generator and the fixture model server, then run', () => {
  let fixture: Fixture;
  before(async () => {
    fixture = await startOpenAIFixture({
      complete: (b, i) => {
        const pool = b.prompt.includes('function mean') ? TS_CONTINUATIONS : JS_CONTINUATIONS;
        return pool[(i % 100) % pool.length] as string;
      },
    });
  });
  after(() => fixture.close());

  const jsInput = (prefix: string, languageId: string, samples: number): SynthesizeInput => {
    const fn = enclosingFunction(prefix, languageId);
    assert.ok(fn?.topLevel);
    return { prefix, fn, languageId, samples, signal: AbortSignal.timeout(10_000) };
  };

  test('JavaScript: the JSDoc stub and `assert.deepStrictEqual(` are sent; the asserts come back canonical and counted, and run', async () => {
    const from = fixture.requests.length;
    const r = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), jsInput(JS_PREFIX, 'javascript', JS_CONTINUATIONS.length));
    assert.equal(r.problem, undefined);
    assert.equal(fixture.requests.length, from + 1);
    const body = fixture.requests[from];
    assert.ok(body);
    assert.equal(body.n, JS_CONTINUATIONS.length);
    assert.equal(body.suffix, undefined);
    assert.equal(body.prompt, r.prompt);
    assert.equal(body.prompt, `${JS_STUB}\n\n// check the correctness of add\nassert.deepStrictEqual(`);
    assert.ok(!body.prompt.includes('import') && !body.prompt.includes('LIMIT'), 'the rest of the file is not sent');
    assert.deepEqual(r.tests, [
      { text: 'assert.deepStrictEqual(add(1, 2), 3);', count: 2, firstSample: 0 },
      { text: 'assert.deepStrictEqual(add(-1, 1), 0);', count: 1, firstSample: 0 },
      { text: 'assert.deepStrictEqual(add(2, 2), 4);', count: 1, firstSample: 1 },
      { text: 'assert.deepStrictEqual(add(0.5, 0.25), 0.75);', count: 1, firstSample: 2 },
      { text: 'assert.deepStrictEqual(add(2, 3), 5);', count: 1, firstSample: 3 },
      { text: 'assert.deepStrictEqual(add(1, 2), 4);', count: 1, firstSample: 5 },
      { text: "assert.deepStrictEqual(add('a', 'b'), 'ab');", count: 1, firstSample: 6 },
    ]);
    // They run as the engine runs them: every one passes on a right add, but the wrong test, which fails by its assertion.
    const run = await runJavaScriptTests('function add(a, b) { return a + b; }\n', r.tests.map((t) => withAssert(t.text)), { pool: null });
    assert.equal(run.syntaxError, undefined, JSON.stringify(run));
    assert.deepEqual(
      run.results.map((x) => x.passed),
      r.tests.map((t) => t.text !== 'assert.deepStrictEqual(add(1, 2), 4);'),
      JSON.stringify(run.results),
    );
    assert.match(run.results[5]?.error ?? '', /^AssertionError/);
    // Another candidate, numbers only, fails on the strings too: the tests tell the candidates apart.
    const numeric = await runJavaScriptTests('function add(a, b) { return Number(a) + Number(b); }\n', r.tests.map((t) => withAssert(t.text)), { pool: null });
    assert.deepEqual(numeric.results.map((x) => x.passed), [true, true, true, true, true, false, false], JSON.stringify(numeric.results));
    // perSample and maxTests as for Python.
    const capped = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), { ...jsInput(JS_PREFIX, 'javascript', JS_CONTINUATIONS.length), maxTests: 2, perSample: 1 });
    assert.deepEqual(
      capped.tests.map((t) => [t.text, t.count]),
      [
        ['assert.deepStrictEqual(add(1, 2), 3);', 2],
        ['assert.deepStrictEqual(add(0.5, 0.25), 0.75);', 1],
      ],
    );
  });

  test('TypeScript: the stub keeps the types; the asserts run through the TypeScript runner', async () => {
    const from = fixture.requests.length;
    const r = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), jsInput(TS_PREFIX, 'typescript', TS_CONTINUATIONS.length));
    assert.equal(r.problem, undefined);
    const body = fixture.requests[from];
    assert.ok(body);
    assert.equal(body.prompt, r.prompt);
    assert.equal(body.prompt, `${TS_STUB}\n\n// check the correctness of mean\nassert.deepStrictEqual(`);
    assert.deepEqual(r.tests, [
      { text: 'assert.deepStrictEqual(mean([1, 2, 3]), 2);', count: 2, firstSample: 0 },
      { text: 'assert.deepStrictEqual(mean([]), 0);', count: 1, firstSample: 0 },
      { text: 'assert.deepStrictEqual(mean([2, 4]), 3);', count: 1, firstSample: 1 },
      { text: 'assert.deepStrictEqual(mean([0.5, 1.5]), 1);', count: 1, firstSample: 3 },
    ]);
    const program = 'function mean(xs: number[]): number {\n  if (xs.length === 0) return 0;\n  let s = 0;\n  for (const x of xs) s += x;\n  return s / xs.length;\n}\n';
    const run = await runTypeScriptTests(program, r.tests.map((t) => withAssert(t.text)), { pool: null });
    assert.equal(run.syntaxError, undefined, JSON.stringify(run));
    assert.deepEqual(run.results.map((x) => x.passed), [true, true, true, true], JSON.stringify(run.results));
    // The typescriptreact id asks and reads the same.
    const tsx = await synthesizeTests(generators.get({ backend: 'openai', url: fixture.url }), jsInput(TS_PREFIX, 'typescriptreact', TS_CONTINUATIONS.length));
    assert.deepEqual(tsx.tests, r.tests);
    assert.equal(tsx.prompt, r.prompt);
  });

  test('JavaScript: a method or a nested function gives no prompt: no request, no tests', async () => {
    const from = fixture.requests.length;
    const g = generators.get({ backend: 'openai', url: fixture.url });
    const method = 'class Calc {\n  /** Adds. */\n  add(a, b) {\n    return';
    const m = enclosingFunction(method, 'javascript');
    assert.ok(m && !m.topLevel);
    assert.deepEqual(await synthesizeTests(g, { prefix: method, fn: m, languageId: 'javascript', samples: 4, signal: AbortSignal.timeout(10_000) }), { tests: [] });
    assert.equal(fixture.requests.length, from);
  });
});

describe('synthesized tests when the model server fails or the request is cancelled', () => {
  test('an abort while the request is in flight gives no tests, no problem, and does not throw', async () => {
    const slow = await startOpenAIFixture({ delayMs: 2000, complete: () => CONTINUATIONS[0] as string });
    try {
      const ac = new AbortController();
      const t0 = Date.now();
      const pending = synthesizeTests(generators.get({ backend: 'openai', url: slow.url }), input({ signal: ac.signal }));
      await waitFor('the request to reach the server', () => slow.requests.length === 1);
      ac.abort();
      const r = await pending;
      assert.deepEqual(r.tests, []);
      assert.equal(r.problem, undefined);
      assert.ok(r.prompt?.endsWith('assert '));
      assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
      // Already aborted: nothing is asked.
      const again = await synthesizeTests(generators.get({ backend: 'openai', url: slow.url }), input({ signal: AbortSignal.abort() }));
      assert.deepEqual(again.tests, []);
      assert.equal(slow.requests.length, 1);
    } finally {
      await slow.close();
    }
  });

  test('an HTTP 500 gives the problem and no tests', async () => {
    const failing = await startOpenAIFixture({ status: 500 });
    try {
      const r = await synthesizeTests(generators.get({ backend: 'openai', url: failing.url }), input());
      assert.deepEqual(r.tests, []);
      assert.equal(r.problem?.code, 'http');
      assert.match(r.problem?.message ?? '', /HTTP 500/);
      assert.equal(failing.requests.length, 1);
    } finally {
      await failing.close();
    }
  });

  test('an unreachable server gives the problem and no tests', async () => {
    const gone = await startOpenAIFixture();
    const url = gone.url;
    await gone.close();
    const r = await synthesizeTests(generators.get({ backend: 'openai', url }), input());
    assert.deepEqual(r.tests, []);
    assert.equal(r.problem?.code, 'unreachable');
  });
});

describe('synthesized tests through the recorded generator', () => {
  test('a pool with no entry for the test prompt gives no tests and no problem', async () => {
    const dir = tempDir('winnow-synth-');
    try {
      const pool = path.join(dir, 'pool.jsonl');
      // A completion pool: its prompts are documents up to the cursor, never a test prompt.
      fs.writeFileSync(pool, `${JSON.stringify({ task_id: 't', generation_prompt: `from typing import List\n\n\n${STUB}\n`, samples: ['    return False\n'] })}\n`);
      const r = await synthesizeTests(generators.get({ backend: 'recorded', recordedPool: pool }), input());
      assert.deepEqual(r.tests, []);
      assert.equal(r.problem, undefined);
      assert.ok(r.prompt);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  const pool = path.join(__dirname, '../../../shared/bench/humaneval/codegen16b_generated_tests.jsonl');
  test('a pool of recorded test continuations (CodeGen-16B, shared/bench) replays them: the same tests as the offline bench', { skip: !fs.existsSync(pool) && 'shared/bench not present' }, async () => {
    const line = fs.readFileSync(pool, 'utf8').split('\n').find((l) => l.includes('"HumanEval/0"'));
    assert.ok(line);
    const entry = JSON.parse(line) as { generation_prompt: string; samples: string[] };
    // The document: the stub as CodeT wrote it (no examples), with the body being typed.
    const doc = `${entry.generation_prompt.slice(0, entry.generation_prompt.indexOf('\n    pass\n'))}\n    for i in range(len(numbers)):\n        `;
    const r = await synthesizeTests(generators.get({ backend: 'recorded', recordedPool: pool }), {
      prefix: doc,
      fn: { name: 'has_close_elements', from: doc.indexOf('def ') },
      languageId: 'python',
      samples: entry.samples.length,
      maxTests: 1000,
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(r.problem, undefined);
    assert.equal(r.prompt, entry.generation_prompt);
    const bench = collectGeneratedAsserts(entry.samples, 'has_close_elements', { max: 1000 });
    assert.ok(bench.length > 5);
    // The recorded generator replays the samples shuffled: same tests and counts, ties may come in another order.
    const byCount = (xs: { text: string; count: number }[]) => xs.map((x) => `${x.count} ${x.text}`).sort();
    assert.deepEqual(byCount(r.tests), byCount(bench));
    const capped = await synthesizeTests(generators.get({ backend: 'recorded', recordedPool: pool }), { prefix: doc, fn: { name: 'has_close_elements', from: doc.indexOf('def ') }, languageId: 'python', samples: entry.samples.length, signal: AbortSignal.timeout(10_000) });
    assert.equal(capped.tests.length, Math.min(20, bench.length));
    assert.equal(capped.tests[0]?.count, bench[0]?.count);
  });
});
