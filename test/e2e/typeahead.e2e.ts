// End-to-end: type-ahead through a suggestion in a real VS Code (code-server 4.100.3, VS Code
// 1.100.3, Chromium) with the packaged VSIX and the recorded backend. Ghost text shows at the
// end of a HumanEval prompt; typing its first characters one key at a time, as a person does,
// keeps the rest of the same suggestion on screen, answered by the language server from its
// completion cache (its log says so) without a new request to the engine (the engine's count
// of completions does not move). Tab then accepts the whole suggestion, and the store holds one
// `shown` and one `accepted` for that candidate (the lists answered again while typing are the
// same suggestion, not new ones).
//
// Run: node scripts/e2e.mjs --no-setup [--no-package] test/e2e/typeahead.e2e.ts
// The task defaults to HumanEval/12 (a suggestion of several lines); WINNOW_E2E_TASK picks another.
// The environment variables it reads are listed in test/e2e/harness.ts.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { E2E, EVENTS_TIMEOUT_MS, boxAround, docShot, editorText, fullGhostText, poolEntry, sleep, waitFor, type PoolEntry } from './harness';

const entry: PoolEntry = poolEntry(process.env.WINNOW_E2E_TASK ?? 'HumanEval/12');
// Execution off: its one-time question (a notification) is not what this test is about.
// Quick suggestions off: with them on (VS Code's default), a typed key can open the word-based
// suggest widget (`None` for "n", the words of the file), and VS Code then hides any ghost text
// that does not extend the selected word until the widget closes, for every inline completion
// provider (`editor.inlineSuggest.suppressSuggestions` does not prevent it every time).
const e2e = new E2E({
  name: 'typeahead',
  files: { 'he.py': entry.generation_prompt },
  settings: { 'winnow.execution.enabled': 'off', 'editor.quickSuggestions': { other: 'off', comments: 'off', strings: 'off' } },
});
/** A person's pace: ~120 ms between keys (VS Code asks the provider again after each). */
const KEY_DELAY_MS = 120;
/** Characters that VS Code closes by itself ("(" → "()"), which would change the text after the cursor. */
const AUTO_CLOSED = /[([{'"`]/;
const TYPEAHEAD_LOG = /answered from the cache \(type-ahead, (\d+) characters typed\): (\d+) candidates, no engine request/;

/** The suggestion before any key: its whole text and the cursor line's part. */
let suggestion = '';
let lineGhost = '';
let completionsBefore: { served: number; stored: number } | undefined;
let typed = '';

/** A screenshot in the run's sequence (NN-name.png), also kept as test/e2e/out/typeahead/<name>.png. */
async function keepShot(name: string): Promise<void> {
  const file = await e2e.screenshot(name);
  if (file) fs.copyFileSync(file, path.join(e2e.outDir, `${name}.png`));
}

/** What the ghost text reads (as fullGhostText reads it) once the first `n` characters of `full` are typed. */
function restAfter(full: string, n: number): string {
  return full.slice(n).trim();
}

/** The top of the window down to a little below the suggestion, without the minimap: what the README shows. */
async function editorClip() {
  const p = e2e.page;
  const lines = await boxAround(p, ['.part.editor .monaco-editor .view-line'], 0);
  const minimap = await boxAround(p, ['.part.editor .monaco-editor .minimap'], 0).catch(() => undefined);
  return { x: 0, y: 0, width: (minimap?.x ?? 1300) - 8, height: lines.y + lines.height + 40 };
}

describe('type-ahead through a suggestion (code-server + Chromium)', { timeout: 300_000 }, () => {
  before(() => e2e.start());
  after(() => e2e.stop());

  test('ghost text shows at the end of the prompt', async (t) => {
    await e2e.step(t, 'ghost', async () => {
      const p = e2e.page;
      await e2e.openWorkbench();
      const firstWords = entry.generation_prompt.trim().split('\n')[0]!.trim();
      await e2e.openFile('he.py', firstWords);
      await e2e.waitForWinnow();
      await p.locator('.monaco-editor .view-lines').first().click();
      await p.keyboard.press('Control+End');
      const { ghost, ms, retries } = await e2e.typeIndentAndWaitForGhost();
      lineGhost = ghost.trim();
      // Until the engine's answer has settled on screen (VS Code may render the lines below a moment later).
      suggestion = await waitFor('the ghost text to settle', 5000, async () => {
        const a = await fullGhostText(p);
        await sleep(300);
        return a && a === (await fullGhostText(p)) ? a : undefined;
      });
      // No request in flight: the count the typed keys are compared with.
      completionsBefore = await waitFor('the engine to count the completion', 10_000, async () => {
        const a = e2e.engineCompletions();
        if (!a || a.served < 1) return undefined;
        await sleep(1000);
        const b = e2e.engineCompletions();
        return b && b.served === a.served ? b : undefined;
      }, 500);
      console.log(`# ghost text after ${ms} ms (${retries} retries): ${JSON.stringify(suggestion)}; engine: ${JSON.stringify(completionsBefore)}`);
      assert.ok(suggestion.startsWith(lineGhost), 'the whole ghost text starts with the cursor line\'s part');
      await keepShot('typeahead-before');
      await docShot(p, 'ghost-text', await editorClip());
    });
  });

  test('typing the start of the suggestion keeps the rest of it, from the cache, with no new engine request', async (t) => {
    await e2e.step(t, 'type-ahead', async () => {
      const p = e2e.page;
      // 5 to 8 characters, stopping before one that VS Code would close by itself.
      const stop = lineGhost.search(AUTO_CLOSED);
      typed = lineGhost.slice(0, Math.min(8, stop < 0 ? lineGhost.length - 1 : stop));
      assert.ok(typed.length >= 5, `at least 5 characters to type before an auto-closed one: ${JSON.stringify(lineGhost)}`);
      const logBefore = e2e.winnowLogLines(TYPEAHEAD_LOG).length;
      for (let i = 1; i <= typed.length; i++) {
        await p.keyboard.type(typed[i - 1]!, { delay: KEY_DELAY_MS });
        const want = restAfter(suggestion, i);
        const now = await waitFor(`the rest of the suggestion after ${JSON.stringify(typed.slice(0, i))}: ${JSON.stringify(want)}`, 5000, async () => {
          const g = await fullGhostText(p);
          return g === want ? g : undefined;
        }, 50);
        const text = await editorText(p);
        assert.ok(text.includes(`    ${typed.slice(0, i)}`), `the editor holds what was typed (${JSON.stringify(typed.slice(0, i))})`);
        console.log(`# typed ${JSON.stringify(typed.slice(0, i))}: ghost ${JSON.stringify(now.slice(0, 60))}`);
      }
      await keepShot('typeahead-typed');
      // The language server's log: answered from the cache as the keys came, up to the last one.
      const lines = await waitFor(`a type-ahead line for ${typed.length} characters in the language server's log`, 10_000, () => {
        const l = e2e.winnowLogLines(TYPEAHEAD_LOG).slice(logBefore);
        return l.some((x) => TYPEAHEAD_LOG.exec(x)?.[1] === String(typed.length)) ? l : undefined;
      }, 250);
      for (const l of lines) console.log(`# log: ${l.trim()}`);
      const counts = lines.map((l) => Number(TYPEAHEAD_LOG.exec(l)?.[1]));
      assert.ok(new Set(counts).size >= Math.min(3, typed.length), `answered from the cache for several keys (${counts.join(', ')})`);
      // Time for a request that would have gone to the engine (debounce, then the engine's answer).
      await sleep(1500);
      const after = e2e.engineCompletions();
      console.log(`# engine completions: before ${JSON.stringify(completionsBefore)}, after typing ${JSON.stringify(after)}`);
      assert.ok(completionsBefore && after);
      assert.equal(after.served, completionsBefore.served, 'no new completion request reached the engine');
      assert.equal(after.stored, completionsBefore.stored, 'no new completion was stored');
      assert.equal(await fullGhostText(p), restAfter(suggestion, typed.length), 'the same suggestion still shows');
    });
  });

  test('Tab accepts the whole suggestion; the store has one shown and one accepted for it', async (t) => {
    await e2e.step(t, 'accept', async () => {
      const p = e2e.page;
      await p.keyboard.press('Tab');
      const text = await waitFor(`the editor to hold ${JSON.stringify(suggestion)}`, 10_000, async () => {
        const t = await editorText(p);
        return t.includes(suggestion) && !(await fullGhostText(p)) ? t : undefined;
      });
      console.log(`# editor after Tab:\n${text.split('\n').map((l) => `#   ${l}`).join('\n')}`);
      await keepShot('typeahead-after');

      const events = await waitFor('an accepted event from `engine events --json`', EVENTS_TIMEOUT_MS, () => {
        const ev = e2e.engineEvents();
        return ev.some((e) => e.kind === 'accepted') ? ev : undefined;
      }, 1000);
      // A moment for anything that would follow (a second `shown` sent late).
      await sleep(1500);
      const all = e2e.engineEvents();
      const shown = all.filter((e) => e.kind === 'shown');
      const accepted = all.filter((e) => e.kind === 'accepted');
      console.log(`# events: ${all.map((e) => `${e.kind} ${e.candidateId ?? ''}`).join('; ')} (first read: ${events.length})`);
      console.log(`# accepted: ${JSON.stringify(accepted[0])}`);
      assert.equal(accepted.length, 1, 'one accepted event');
      const a = accepted[0]!;
      // Up to the acceptance (the cursor's new place after Tab is a new request, which may show something of its own).
      const shownBefore = shown.filter((e) => e.time <= a.time);
      assert.equal(shownBefore.length, 1, 'one shown event: the typed-ahead lists are the same suggestion');
      assert.equal(shownBefore[0]!.candidateId, a.candidateId, 'the accepted candidate is the one shown');
      assert.equal(shownBefore[0]!.requestId, a.requestId, 'from the same request');
      assert.equal(shown.filter((e) => e.requestId === a.requestId).length, 1, 'no second shown for that request');
      assert.ok(!all.some((e) => e.requestId === a.requestId && (e.kind === 'rejected' || e.kind === 'partially_accepted')), 'no rejection nor partial acceptance of it');
      console.log(`# engine completions after Tab: ${JSON.stringify(e2e.engineCompletions())} (a new request at the cursor's new place is expected)`);
    });
  });
});
