// End-to-end: feedback events captured in a real VS Code (code-server 4.100.3, VS Code 1.100.3,
// Chromium) and stored by the engine, read back with `winnow events --json`:
//   (a) Tab → accepted, then a survival check (fraction 1: nothing was edited)
//   (b) Ctrl+Right (Winnow's keybinding over VS Code's word acceptance) → partially_accepted
//       (how word), then Escape → rejected (dismissed) with the accepted characters
//   (c) Escape → rejected (dismissed)
//   (d) typing something else → rejected (typed_over)
//   (e) doing nothing → rejected (timeout)
//   (f) Alt+] (another candidate; no event says which), then Tab → accepted for the candidate
//       on screen, with a `shown` inferred from the acceptance when it was not the first
// and every shown suggestion has at most one terminal event (accepted or rejected), every
// terminal event a shown one.
//
// The recorded backend answers only when the text before the cursor ends with the pool
// entry's prompt (trailing blanks ignored), so each case has its own file holding the prompt.
// The undocumented setting `winnow.feedback.timings` shortens the 30 s timeout to 8 s and the
// survival checks (30 s, 2 min, 10 min) to one at 3 s.
//
// Run: node scripts/e2e.mjs --no-setup [--no-package] test/e2e/feedback.e2e.ts
// (the environment variables are listed in test/e2e/harness.ts).
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { E2E, EVENTS_TIMEOUT_MS, editorText, engineCli, fullGhostText, poolEntry, waitFor, type EngineEvent } from './harness';

const entry = poolEntry();
const TIMEOUT_MS = 8000;
const SURVIVAL_MS = 3000;
const CASES = ['fb_accept.py', 'fb_word.py', 'fb_escape.py', 'fb_typed.py', 'fb_timeout.py', 'fb_cycle.py'] as const;
const e2e = new E2E({
  name: 'feedback',
  files: Object.fromEntries(CASES.map((f) => [f, entry.generation_prompt])),
  settings: { 'winnow.feedback.timings': { timeoutMs: TIMEOUT_MS, survivalMs: [SURVIVAL_MS] } },
});
const firstWords = entry.generation_prompt.trim().split('\n')[0]!.trim();

/** Opens `file`, puts the cursor at its end, types the indentation, waits for ghost text; returns the time before typing. */
async function ghostIn(file: string): Promise<{ since: number; ghost: string }> {
  const p = e2e.page;
  await e2e.openFile(file, firstWords);
  await p.locator('.part.editor .monaco-editor .view-lines').first().click();
  await p.keyboard.press('Control+End');
  const since = Date.now();
  const { ghost, ms, retries } = await e2e.typeIndentAndWaitForGhost();
  console.log(`# ${file}: ghost text after ${ms} ms (${retries} retries): ${JSON.stringify(ghost.slice(0, 80))}`);
  return { since, ghost };
}

/** Polls the store until `pick` finds what it wants among the events since `since`. */
function eventsSince<T>(what: string, since: number, pick: (events: EngineEvent[]) => T | undefined, ms = EVENTS_TIMEOUT_MS): Promise<T> {
  return waitFor(what, ms, () => pick(e2e.engineEvents().filter((e) => e.time >= since)), 500);
}

const ghostLocator = () => e2e.page.locator('.monaco-editor .view-lines .ghost-text-decoration');

function shownFor(events: EngineEvent[], candidateId: string | undefined): EngineEvent | undefined {
  return events.find((e) => e.kind === 'shown' && e.candidateId === candidateId);
}

describe('feedback events from a real VS Code', { timeout: 420_000 }, () => {
  before(() => e2e.start());
  after(() => e2e.stop());

  test('the workbench loads and Winnow starts', async (t) => {
    await e2e.step(t, 'workbench', async () => {
      await e2e.openWorkbench();
      await e2e.openFile(CASES[0], firstWords);
      const { ready } = await e2e.waitForWinnow();
      console.log(`# status bar: ${JSON.stringify(ready)}`);
      await e2e.screenshot('workbench');
    });
  });

  test('(a) Tab → accepted, then survival (fraction 1)', async (t) => {
    await e2e.step(t, 'accept', async () => {
      const p = e2e.page;
      const { since } = await ghostIn('fb_accept.py');
      const whole = await fullGhostText(p);
      await e2e.screenshot('a-ghost');
      await p.keyboard.press('Tab');
      await waitFor('the accepted text in the editor', 10_000, async () => ((await editorText(p)).includes(whole.split('\n')[0]!.trim()) ? true : undefined));
      await e2e.screenshot('a-accepted');
      const accepted = await eventsSince('an accepted event', since, (ev) => ev.find((e) => e.kind === 'accepted'));
      const all = e2e.engineEvents();
      console.log(`# accepted: ${JSON.stringify(accepted)}`);
      assert.ok(shownFor(all, accepted.candidateId), 'the accepted candidate was shown');
      assert.equal(typeof accepted.data?.totalChars, 'number');
      const survival = await eventsSince(
        'a survival event for the accepted candidate',
        since,
        (ev) => ev.find((e) => e.kind === 'survival' && e.candidateId === accepted.candidateId),
        SURVIVAL_MS + EVENTS_TIMEOUT_MS,
      );
      console.log(`# survival: ${JSON.stringify(survival.data)}`);
      assert.equal(survival.data?.fraction, 1);
      assert.equal(survival.data?.acceptedChars, accepted.data?.totalChars);
      assert.equal(survival.data?.checkpointMs, SURVIVAL_MS);
      assert.ok(Number(survival.data?.afterMs) >= SURVIVAL_MS);
    });
  });

  test('(b) Ctrl+Right → partially_accepted (word); then Escape → rejected (dismissed)', async (t) => {
    await e2e.step(t, 'word', async () => {
      const p = e2e.page;
      const { since } = await ghostIn('fb_word.py');
      const before = await editorText(p);
      await e2e.screenshot('b-ghost');
      await p.keyboard.press('Control+ArrowRight');
      await waitFor('the first word in the document', 10_000, async () => ((await editorText(p)) !== before ? true : undefined));
      // The rest of the suggestion stays on screen.
      await waitFor('the rest of the ghost text', 10_000, async () => ((await ghostLocator().count()) > 0 ? true : undefined));
      await e2e.screenshot('b-word-accepted');
      await p.keyboard.press('Escape');
      await waitFor('the ghost text to go', 10_000, async () => ((await ghostLocator().count()) === 0 ? true : undefined));
      await e2e.screenshot('b-dismissed');
      const [partial, rejected] = await eventsSince('partially_accepted then rejected', since, (ev) => {
        const pa = ev.find((e) => e.kind === 'partially_accepted');
        const rj = pa && ev.find((e) => e.kind === 'rejected' && e.candidateId === pa.candidateId);
        return pa && rj ? ([pa, rj] as const) : undefined;
      });
      console.log(`# partially_accepted: ${JSON.stringify(partial.data)}; rejected: ${JSON.stringify(rejected.data)}`);
      assert.equal(partial.data?.how, 'word');
      const acceptedChars = Number(partial.data?.acceptedChars);
      assert.ok(acceptedChars > 0 && acceptedChars < Number(partial.data?.totalChars), JSON.stringify(partial.data));
      assert.equal(rejected.data?.reason, 'dismissed');
      assert.equal(rejected.data?.acceptedChars, acceptedChars);
      assert.ok(shownFor(e2e.engineEvents(), partial.candidateId), 'the partially accepted candidate was shown');
      // The accepted word is in the document.
      const line = (await editorText(p)).split('\n').find((l) => l.trim() && !before.split('\n').includes(l));
      console.log(`# line after the word acceptance: ${JSON.stringify(line)}`);
      assert.ok(line?.trim(), 'a word was inserted');
    });
  });

  test('(c) Escape → rejected (dismissed)', async (t) => {
    await e2e.step(t, 'escape', async () => {
      const p = e2e.page;
      const { since } = await ghostIn('fb_escape.py');
      await e2e.screenshot('c-ghost');
      await p.keyboard.press('Escape');
      await waitFor('the ghost text to go', 10_000, async () => ((await ghostLocator().count()) === 0 ? true : undefined));
      await e2e.screenshot('c-dismissed');
      const rejected = await eventsSince('a rejected event', since, (ev) => ev.find((e) => e.kind === 'rejected'));
      console.log(`# rejected: ${JSON.stringify(rejected.data)}`);
      assert.equal(rejected.data?.reason, 'dismissed');
      assert.equal(rejected.data?.acceptedChars, undefined);
      assert.ok(shownFor(e2e.engineEvents(), rejected.candidateId), 'the dismissed candidate was shown');
    });
  });

  test('(d) typing something else → rejected (typed_over)', async (t) => {
    await e2e.step(t, 'typed-over', async () => {
      const p = e2e.page;
      const { since, ghost } = await ghostIn('fb_typed.py');
      await e2e.screenshot('d-ghost');
      const first = ghost.trimStart()[0] ?? '';
      const other = first === 'Z' ? 'Q' : 'Z';
      await p.keyboard.type(other);
      await waitFor('the ghost text to go', 10_000, async () => ((await ghostLocator().count()) === 0 ? true : undefined));
      await e2e.screenshot('d-typed-over');
      const rejected = await eventsSince('a rejected event', since, (ev) => ev.find((e) => e.kind === 'rejected'));
      console.log(`# typed ${JSON.stringify(other)} over ${JSON.stringify(ghost.slice(0, 20))}: ${JSON.stringify(rejected.data)}`);
      assert.equal(rejected.data?.reason, 'typed_over');
      assert.ok(shownFor(e2e.engineEvents(), rejected.candidateId), 'the typed-over candidate was shown');
    });
  });

  test(`(e) no interaction for ${TIMEOUT_MS / 1000} s → rejected (timeout)`, async (t) => {
    await e2e.step(t, 'timeout', async () => {
      const { since } = await ghostIn('fb_timeout.py');
      await e2e.screenshot('e-ghost');
      const rejected = await eventsSince('a rejected event', since, (ev) => ev.find((e) => e.kind === 'rejected'), TIMEOUT_MS + EVENTS_TIMEOUT_MS);
      console.log(`# rejected after ${rejected.time - since} ms: ${JSON.stringify(rejected.data)}`);
      assert.equal(rejected.data?.reason, 'timeout');
      assert.ok(Number(rejected.data?.shownMs) >= TIMEOUT_MS);
    });
  });

  test('(f) Alt+] then Tab → accepted for the candidate on screen', async (t) => {
    await e2e.step(t, 'cycle', async () => {
      const p = e2e.page;
      const { since } = await ghostIn('fb_cycle.py');
      // Candidates are told apart by their first line (the lines below it render a moment later).
      const firstLine = (ghost: string) => ghost.split('\n')[0]!.trim();
      const first = await fullGhostText(p);
      await p.keyboard.press('Alt+BracketRight');
      const other = await waitFor('a different candidate after Alt+]', 10_000, async () => {
        const now = await fullGhostText(p);
        return now && firstLine(now) !== firstLine(first) ? now : undefined;
      });
      await e2e.screenshot('f-cycled');
      await p.keyboard.press('Tab');
      const line = other.split('\n')[0]!.trim();
      await waitFor(`the editor to contain ${JSON.stringify(line)}`, 10_000, async () => ((await editorText(p)).includes(line) ? true : undefined));
      await e2e.screenshot('f-accepted');
      const accepted = await eventsSince('an accepted event', since, (ev) => ev.find((e) => e.kind === 'accepted'));
      const shown = shownFor(e2e.engineEvents(), accepted.candidateId);
      console.log(`# Alt+] showed ${JSON.stringify(other.slice(0, 40))}; accepted ${accepted.candidateId} (rank ${accepted.rank}); its shown: ${JSON.stringify(shown?.data)}`);
      assert.ok(shown, 'the accepted candidate has a shown event');
      assert.ok(Number(accepted.rank) > 0, 'the accepted candidate is not the first of its list');
      assert.equal(shown.data?.inferred, true, 'its shown event was inferred from the acceptance');
    });
  });

  test('every shown suggestion has at most one terminal event, and every terminal event a shown one', async (t) => {
    await e2e.step(t, 'invariant', async () => {
      const events = e2e.engineEvents();
      const count = (kind: string) => events.filter((e) => e.kind === kind).length;
      console.log(
        `# ${events.length} events: ${['shown', 'accepted', 'partially_accepted', 'rejected', 'survival'].map((k) => `${count(k)} ${k}`).join(', ')}`,
      );
      const shown = new Set(events.filter((e) => e.kind === 'shown').map((e) => e.candidateId));
      const terminals = new Map<string, number>();
      for (const e of events) {
        if (e.kind !== 'accepted' && e.kind !== 'rejected') continue;
        assert.ok(shown.has(e.candidateId), `${e.kind} for ${e.candidateId} without a shown event`);
        terminals.set(e.candidateId!, (terminals.get(e.candidateId!) ?? 0) + 1);
      }
      for (const [id, n] of terminals) assert.equal(n, 1, `${id} has ${n} terminal events`);
      assert.equal(count('accepted'), 2);
      assert.deepEqual(
        events.filter((e) => e.kind === 'rejected').map((e) => e.data?.reason).sort(),
        ['dismissed', 'dismissed', 'timeout', 'typed_over'],
      );
    });
  });

  test('winnow triplets --json shows the triplets built from these events', async (t) => {
    await e2e.step(t, 'triplets', async () => {
      const r = spawnSync(process.execPath, [engineCli, 'triplets', '--json', '--limit', '100', '--data-dir', e2e.dirs.data], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout) as { stats: { triplets: number; bySource: Record<string, number> }; triplets: { source: string; chosen: string; rejected: string; chosen_id: string }[] };
      console.log(`# triplets: ${out.stats.triplets} by source ${JSON.stringify(out.stats.bySource)}`);
      assert.ok(out.stats.triplets > 0, 'triplets were built');
      const accepted = new Set(e2e.engineEvents().filter((e) => e.kind === 'accepted').map((e) => e.candidateId));
      assert.ok(out.triplets.some((x) => accepted.has(x.chosen_id)), 'an accepted candidate is a chosen one');
      for (const x of out.triplets) assert.notEqual(x.chosen.trim(), x.rejected.trim());
    });
  });
});
