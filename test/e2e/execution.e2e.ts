// End-to-end: execution at inference in a real VS Code (code-server 4.100.3, VS Code 1.100.3,
// Chromium) with the packaged VSIX. A Python function with doctest examples; the model server
// (the OpenAI-compatible FIXTURE, standing in for llama.cpp / vLLM) answers mostly a wrong body
// that agrees with itself, and sometimes the right one. Without execution the ranker's vote
// share would put the wrong one first; with `winnow.execution.enabled: on` (the workspace is
// trusted: trust prompts are off), the candidate that passes the examples is the ghost text,
// and the language server's log says how many candidates passed.
//
// Run: node scripts/e2e.mjs --no-setup [--no-package] test/e2e/execution.e2e.ts
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { E2E, fullGhostText, waitFor } from './harness';

const FILE = `def add(a, b):
    """Add two numbers.

    >>> add(1, 2)
    3
    >>> add(-1, 1)
    0
    """
`;
// A generous budget: on a loaded CI machine, eight sandboxed runs can take more than the default 1.5 s.
const settings: Record<string, unknown> = { 'winnow.execution.enabled': 'on', 'winnow.candidates': 8, 'winnow.latencyBudgetMs': 5000 };
const e2e = new E2E({ name: 'execution', files: { 'calc.py': FILE }, settings });
let fixture: Fixture | undefined;

describe('execution at inference in VS Code (code-server + Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    fixture = await startOpenAIFixture({
      complete: (body, i) => {
        // Asked for tests (CodeT style): one right, one wrong assert.
        if (body.prompt.includes('# check the correctness of add')) return i % 2 === 0 ? 'add(2, 3) == 5\n' : 'add(2, 2) == 0\n';
        // Candidates, 1 in 4 right, continuing the indentation already typed as a model does.
        const indent = /[ \t]+$/.test(body.prompt) ? '' : '    ';
        return `${indent}${i % 4 === 3 ? 'return a + b' : 'return a - b'}\n`;
      },
    });
    settings['winnow.generator.backend'] = 'openai';
    settings['winnow.generator.url'] = fixture.url;
    await e2e.start();
  });
  after(async () => {
    await e2e.stop();
    await fixture?.close();
  });

  test('the candidate that passes the docstring examples is the ghost text', async (t) => {
    await e2e.step(t, 'ghost', async () => {
      await e2e.openWorkbench();
      await e2e.openFile('calc.py', 'def add(a, b):');
      await e2e.waitForWinnow();
      const p = e2e.page;
      await p.locator('.monaco-editor .view-lines').first().click();
      await p.keyboard.press('Control+End');
      const { ghost, ms } = await e2e.typeIndentAndWaitForGhost();
      const full = await fullGhostText(p);
      console.log(`# ghost text after ${ms} ms: ${JSON.stringify(ghost)} (full: ${JSON.stringify(full)})`);
      await e2e.screenshot('ghost-passing-candidate');
      assert.match(full, /return a \+ b/);
      assert.ok(fixture && fixture.requests.some((r) => r.prompt.includes('# check the correctness of add')), 'tests were asked of the model');
    });
  });

  test("the language server's log says how many candidates passed", async (t) => {
    await e2e.step(t, 'log', async () => {
      const lines = await waitFor('an execution line in the Winnow log', 20_000, () => {
        const l = e2e.winnowLogLines(/execution: \d+ of \d+ candidates passed/);
        return l.length > 0 ? l : undefined;
      });
      console.log(`# ${lines[lines.length - 1]?.trim()}`);
      assert.match(lines[lines.length - 1] ?? '', /execution: 1 of 2 candidates passed the 2 docstring examples/);
    });
  });
});
