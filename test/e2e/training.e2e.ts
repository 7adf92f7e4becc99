// End-to-end: the ranker learns, from the editor, in a real VS Code (code-server 4.100.3,
// VS Code 1.100.3, Chromium) with the packaged VSIX and the recorded backend:
//   - the data folder is seeded beforehand through the engine's protocol (./seed.ts: a few
//     hundred recorded completions and a simulated developer who accepts the longest
//     candidate), so that the promotion gate (its defaults: 50 held-out pairs, +1 point) can pass;
//   - in the editor, one suggestion is accepted (Tab) and one rejected (Escape);
//   - "Winnow: Retrain Ranker" from the command palette shows its progress notification, then
//     the summary (promoted, accuracy before and after, triplets by source, why);
//   - the status bar shows the new version, its tooltip when and why it changed;
//   - "Winnow: Roll Back Ranker" lists the versions and goes back to the built-in one.
// `winnow.training.auto` is off so that no background training races the one asked for.
//
// Run: node scripts/e2e.mjs --no-setup [--no-package] test/e2e/training.e2e.ts
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { E2E, EVENTS_TIMEOUT_MS, childEnv, editorText, engineCli, fullGhostText, poolEntry, poolPath, taskId, waitFor, type EngineEvent } from './harness';
import { seedFeedback } from './seed';

const entry = poolEntry();
const firstWords = entry.generation_prompt.trim().split('\n')[0]!.trim();
const SEED_REQUESTS = 800;
const TRAIN_TIMEOUT_MS = 120_000;
const e2e = new E2E({
  name: 'training',
  files: { 'tr_accept.py': entry.generation_prompt, 'tr_reject.py': entry.generation_prompt },
  // Execution off: its one-time question would cover the notifications.
  settings: { 'winnow.training.auto': false, 'winnow.training.rounds': 2, 'winnow.execution.enabled': 'off' },
});

interface CliRankers {
  active: string;
  versions: { version: string; active: boolean }[];
}

function cliJson<T>(...args: string[]): T {
  const r = spawnSync(process.execPath, [engineCli, ...args, '--json', '--data-dir', e2e.dirs.data], { encoding: 'utf8', timeout: 30_000, env: childEnv() });
  if (r.status !== 0) throw new Error(`winnow ${args.join(' ')} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return JSON.parse(r.stdout) as T;
}

async function ghostIn(file: string): Promise<number> {
  const p = e2e.page;
  await e2e.openFile(file, firstWords);
  await p.locator('.part.editor .monaco-editor .view-lines').first().click();
  await p.keyboard.press('Control+End');
  const since = Date.now();
  const { ghost, ms } = await e2e.typeIndentAndWaitForGhost();
  console.log(`# ${file}: ghost text after ${ms} ms: ${JSON.stringify(ghost.slice(0, 60))}`);
  return since;
}

function eventSince(what: string, since: number, pick: (e: EngineEvent) => boolean): Promise<EngineEvent> {
  return waitFor(what, EVENTS_TIMEOUT_MS, () => e2e.engineEvents().find((e) => e.time >= since && pick(e)), 500);
}

async function statusText(): Promise<string> {
  return (await e2e.statusItem().first().innerText()).trim();
}

describe('the ranker learns, from the editor (code-server + Chromium)', { timeout: 480_000 }, () => {
  before(async () => {
    fs.mkdirSync(e2e.dirs.data, { recursive: true });
    const t0 = Date.now();
    const seeded = await seedFeedback(e2e.dirs.data, poolPath, SEED_REQUESTS, taskId);
    console.log(`# seeded ${seeded.requests} completions and ${seeded.events} feedback events in ${Date.now() - t0} ms`);
    await e2e.start();
  });
  after(() => e2e.stop());

  test('the workbench loads; the status bar shows the built-in ranker', async (t) => {
    await e2e.step(t, 'workbench', async () => {
      await e2e.openWorkbench();
      await e2e.openFile('tr_accept.py', firstWords);
      const { ready } = await e2e.waitForWinnow();
      console.log(`# status bar: ${JSON.stringify(ready)}`);
      await waitFor('builtin-4 in the status bar', 30_000, async () => ((await statusText()).includes('builtin-4') ? true : undefined));
      await e2e.screenshot('workbench');
    });
  });

  test('a suggestion accepted (Tab) and one rejected (Escape) in the editor reach the store', async (t) => {
    await e2e.step(t, 'feedback', async () => {
      const p = e2e.page;
      let since = await ghostIn('tr_accept.py');
      const whole = await fullGhostText(p);
      await p.keyboard.press('Tab');
      await waitFor('the accepted text in the editor', 10_000, async () => ((await editorText(p)).includes(whole.split('\n')[0]!.trim()) ? true : undefined));
      const accepted = await eventSince('an accepted event', since, (e) => e.kind === 'accepted');
      await e2e.screenshot('accepted');
      since = await ghostIn('tr_reject.py');
      await p.keyboard.press('Escape');
      const rejected = await eventSince('a rejected event', since, (e) => e.kind === 'rejected');
      console.log(`# accepted ${accepted.candidateId}; rejected ${rejected.candidateId} (${String(rejected.data?.reason)})`);
      assert.equal(rejected.data?.reason, 'dismissed');
    });
  });

  test('"Winnow: Retrain Ranker" shows its progress, then the summary; the status bar shows the new version', async (t) => {
    await e2e.step(t, 'retrain', async () => {
      const p = e2e.page;
      await e2e.runCommand('Winnow: Retrain Ranker');
      // The progress notification, with a line of progress once the first status is read.
      const progress = await waitFor(
        'the progress notification',
        30_000,
        async () => (await e2e.notifications()).find((n) => /retraining the ranker/.test(n) && /round \d of 3/.test(n)),
        100,
      );
      await e2e.screenshot('retrain-progress');
      console.log(`# progress: ${JSON.stringify(progress)}`);
      assert.match(progress, /^Winnow: retraining the ranker: (loading triplets|training|mining hard negatives|evaluating on held-out pairs|saving the new version) · round [1-3] of 3/);
      // The training takes seconds here; a line with an epoch is shown when a poll lands in one (not guaranteed, so not asserted).
      const epoch = await waitFor('a progress line with an epoch', 10_000, async () => (await e2e.notifications()).find((n) => /epoch \d+ of \d+/.test(n)), 100).catch(() => undefined);
      if (epoch) await e2e.screenshot('retrain-progress-epoch');
      console.log(`# progress with an epoch: ${JSON.stringify(epoch ?? '(none seen)')}`);

      const summary = await waitFor('the training summary', TRAIN_TIMEOUT_MS, async () => (await e2e.notifications()).find((n) => /^Winnow (promoted|kept|did not train)|training failed/.test(n)), 100);
      await e2e.settledToasts();
      await e2e.screenshot('retrain-summary');
      console.log(`# summary: ${JSON.stringify(summary)}`);
      assert.match(summary, /^Winnow promoted ranker v1; it ranks your completions now\./);
      const acc = /Held-out pairwise accuracy: builtin-4 \(active\) (\d+\.\d)% → v1 (\d+\.\d)% \(\+\d+\.\d points?, (\d+) pairs\)/.exec(summary);
      assert.ok(acc, `accuracy before and after in ${summary}`);
      assert.ok(Number(acc[2]) > Number(acc[1]), 'the new version is better on the held-out pairs');
      assert.ok(Number(acc[3]) >= 50, 'the gate had at least winnow.training.minPairs held-out pairs');
      assert.match(summary, /Trained on \d+ triplets \(accepted vs shown \d+/);
      assert.match(summary, /Why: Held-out pairwise accuracy .* margin 1\)/);

      const bar = await waitFor('v1 in the status bar', 15_000, async () => {
        const text = await statusText();
        return /\bv1\b/.test(text) ? text : undefined;
      });
      console.log(`# status bar: ${JSON.stringify(bar)}`);
      assert.match(bar, /Winnow (CPU|CUDA) · v1/);
      // The tooltip says when and why the ranker changed.
      await e2e.statusItem().first().hover();
      const hover = p.locator('.monaco-hover, .workbench-hover').filter({ hasText: 'Ranker changed' });
      const tip = await waitFor('the status bar tooltip', 15_000, async () => ((await hover.count()) > 0 ? (await hover.first().innerText()).replace(/\s+/g, ' ') : undefined));
      await e2e.screenshot('status-tooltip');
      console.log(`# tooltip: ${JSON.stringify(tip)}`);
      assert.match(tip, /Ranker: v1/);
      assert.match(tip, /Ranker changed: v1 since .* \(just now\): promoted: held-out pairwise accuracy/);
      await p.keyboard.press('Escape');

      const rankers = cliJson<CliRankers>('rankers');
      assert.equal(rankers.active, 'v1');
    });
  });

  test('Cancel on the progress notification stops a training; nothing changes', async (t) => {
    await e2e.step(t, 'cancel', async () => {
      const p = e2e.page;
      await p.locator('.part.editor .monaco-editor .view-lines').first().click();
      await e2e.runCommand('Winnow: Retrain Ranker');
      const toast = p.locator('.notifications-toasts .notification-toast').filter({ hasText: 'retraining the ranker' });
      // A training here takes a few seconds (three rounds); Cancel is clicked as soon as it shows.
      await toast.getByRole('button', { name: 'Cancel' }).click({ timeout: 30_000 });
      const message = await waitFor('the cancellation message', 30_000, async () => (await e2e.notifications()).find((n) => /training cancelled|had already ended/.test(n)), 100);
      await e2e.settledToasts();
      await e2e.screenshot('retrain-cancelled');
      console.log(`# ${JSON.stringify(message)}`);
      assert.equal(message, 'Winnow: training cancelled; nothing changed.');
      const rankers = cliJson<CliRankers>('rankers');
      assert.equal(rankers.active, 'v1');
      assert.deepEqual(rankers.versions.map((v) => v.version).sort(), ['builtin-4', 'v1'], 'no new version was written');
      assert.match(await statusText(), /· v1$/);
    });
  });

  test('"Winnow: Roll Back Ranker" lists the versions and goes back to builtin-4', async (t) => {
    await e2e.step(t, 'roll-back', async () => {
      const p = e2e.page;
      // Out of the way: the summary toast of the previous step.
      await p.locator('.part.editor .monaco-editor .view-lines').first().click();
      await e2e.runCommand('Winnow: Roll Back Ranker');
      const rows = p.locator('.quick-input-widget .monaco-list-row');
      await waitFor('the ranker versions in the quick pick', 15_000, async () => ((await rows.filter({ hasText: 'builtin-4' }).count()) > 0 ? true : undefined));
      const listed = (await rows.allInnerTexts()).map((r) => r.replace(/\s+/g, ' ').trim());
      await e2e.screenshot('roll-back-pick');
      console.log(`# quick pick: ${JSON.stringify(listed)}`);
      const v1 = listed.find((r) => r.startsWith('v1'));
      assert.ok(v1, 'v1 is listed');
      assert.match(v1, /active · held-out accuracy \d+\.\d% · \d+ pairs · created just now/);
      assert.match(v1, /promoted: held-out pairwise accuracy/);
      assert.ok(listed.some((r) => r.startsWith('builtin-4') && /built-in/.test(r)), 'builtin-4 is listed');
      // Click the built-in version's row (its detail is unique to it).
      await rows.filter({ hasText: 'The ranker Winnow ships with' }).first().click();
      const message = await waitFor('the activation message', 30_000, async () => (await e2e.notifications()).find((n) => /now ranks with builtin-4/.test(n)));
      await waitFor('builtin-4 in the status bar', 15_000, async () => ((await statusText()).includes('builtin-4') ? true : undefined));
      await e2e.settledToasts();
      await e2e.screenshot('rolled-back');
      console.log(`# ${JSON.stringify(message)}; status bar: ${JSON.stringify(await statusText())}`);
      assert.match(message, /Winnow now ranks with builtin-4 \(was v1\)\./);
      const rankers = cliJson<CliRankers>('rankers');
      assert.equal(rankers.active, 'builtin-4');
      assert.ok(rankers.versions.some((v) => v.version === 'v1'), 'v1 stays on disk, to roll forward again');
    });
  });
});
