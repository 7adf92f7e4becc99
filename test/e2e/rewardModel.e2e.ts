// End-to-end: a reward model set in VS Code's settings (winnow.ranker.rewardModel) reaches the
// engine through the packaged VSIX, loads, scores the candidates of a completion, and the
// status bar shows its name and device; its tooltip shows the precision, the scoring time and
// how often it scored in time; `winnow status --json` says the same. The model is the tiny
// PLUMBING fixture with random weights (test/fixtures/reward-model/tiny).
//
// Run: node scripts/e2e.mjs --no-setup [--no-package] test/e2e/rewardModel.e2e.ts
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { E2E, childEnv, engineCli, poolEntry, repoRoot, waitFor } from './harness';

const entry = poolEntry();
const firstWords = entry.generation_prompt.trim().split('\n')[0]!.trim();
const TINY = path.join(repoRoot, 'test/fixtures/reward-model/tiny');
const e2e = new E2E({
  name: 'reward-model',
  files: { 'rm.py': entry.generation_prompt },
  settings: { 'winnow.ranker.rewardModel': TINY, 'winnow.ranker.rewardModelMaxTokens': 512, 'winnow.execution.enabled': 'off', 'winnow.training.auto': false },
});

interface CliStatus {
  rewardModel?: { state: string; name?: string; device?: string; precision?: string; maxTokens: number; p50Ms?: number; inTime: number; late: number };
}

function cliStatus(): CliStatus {
  const r = spawnSync(process.execPath, [engineCli, 'status', '--json', '--data-dir', e2e.dirs.data], { encoding: 'utf8', timeout: 30_000, env: childEnv() });
  if (r.status !== 0) throw new Error(`winnow status exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return JSON.parse(r.stdout) as CliStatus;
}

async function statusText(): Promise<string> {
  return (await e2e.statusItem().first().innerText()).trim();
}

describe('a reward model from the settings (code-server + Chromium)', { timeout: 300_000 }, () => {
  before(() => e2e.start());
  after(() => e2e.stop());

  test('completions are scored by it, and the status bar shows it', async (t) => {
    await e2e.step(t, 'reward-model', async () => {
      await e2e.openWorkbench();
      await e2e.openFile('rm.py', firstWords);
      await e2e.waitForWinnow();
      const p = e2e.page;
      await p.locator('.part.editor .monaco-editor .view-lines').first().click();
      await p.keyboard.press('Control+End');
      const first = await e2e.typeIndentAndWaitForGhost();
      console.log(`# ghost text after ${first.ms} ms: ${JSON.stringify(first.ghost.slice(0, 60))}`);
      // The first completion hands the setting to the engine, which loads the model in the
      // background; the next completions are scored. Ask for more until one is.
      const scored = await waitFor('a completion scored by the reward model', 60_000, async () => {
        await p.keyboard.press('Escape');
        await p.keyboard.press('Backspace');
        await p.keyboard.type(' ');
        const s = cliStatus().rewardModel;
        return s && s.state === 'ready' && s.inTime + s.late > 0 ? s : undefined;
      }, 2000);
      console.log(`# winnow status: ${JSON.stringify(scored)}`);
      assert.equal(scored.name, 'tiny');
      assert.equal(scored.device, 'cpu');
      assert.equal(scored.precision, 'fp32');
      assert.equal(scored.maxTokens, 512);
      assert.ok(scored.p50Ms !== undefined);
      // The status bar follows within a few seconds (the server reads the engine's status at most every 3 s).
      const text = await waitFor('RM tiny CPU in the status bar', 30_000, async () => {
        await p.keyboard.press('Escape');
        await p.keyboard.press('Backspace');
        await p.keyboard.type(' ');
        const now = await statusText();
        return now.includes('RM tiny CPU') ? now : undefined;
      }, 3000);
      console.log(`# status bar: ${JSON.stringify(text)}`);
      await e2e.screenshot('status-bar');
      await e2e.statusItem().first().hover();
      const tooltip = await waitFor('the tooltip', 10_000, async () => {
        const t2 = (await p.locator('.monaco-hover, .workbench-hover, .hover-contents').allInnerTexts()).join('\n').replace(/\u00a0/g, ' ');
        return /Reward model/.test(t2) ? t2 : undefined;
      });
      console.log(`# tooltip: ${JSON.stringify(tooltip.slice(0, 600))}`);
      assert.match(tooltip, /Reward model: tiny on CPU, fp32 \(slow on CPU: CUDA provider not installed.*\); scoring p50 [\d.]+ ms; \d+ of \d+ completions scored within the latency budget/);
      await e2e.screenshot('tooltip');
    });
  });
});
