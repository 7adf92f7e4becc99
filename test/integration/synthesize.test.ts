/**
 * Tests synthesized at inference (CodeT style) through the real generators: the OpenAI-compatible
 * FIXTURE as the model server behind the real `openai` generator, and the `recorded` generator
 * over JSONL pools. The prompt sent, the asserts read back (deduplicated, counted, capped), and
 * what happens on an abort, an HTTP error, an unreachable server or a pool with no match.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Generators } from '../../engine/src/generators';
import { collectGeneratedAsserts } from '../../engine/src/tests/generated';
import { synthesizeTests, type SynthesizeInput } from '../../engine/src/tests/synthesize';
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

  test('no prompt (not Python, a method, the header being typed): no request, no tests', async () => {
    const from = fixture.requests.length;
    const g = generators.get({ backend: 'openai', url: fixture.url });
    assert.deepEqual(await synthesizeTests(g, input({ languageId: 'typescript' })), { tests: [] });
    const typing = 'def f(a, b';
    assert.deepEqual(await synthesizeTests(g, input({ prefix: typing, fn: { name: 'f', from: 0 } })), { tests: [] });
    assert.deepEqual(await synthesizeTests(g, input({ samples: 0 })), { tests: [], prompt: (await synthesizeTests(g, input({ samples: 1 }))).prompt });
    assert.equal(fixture.requests.length, from + 1);
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
