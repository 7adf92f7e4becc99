// End-to-end: the packaged VSIX installed in a real VS Code (code-server 4.100.3, VS Code
// 1.100.3) shown in Chromium. Winnow serves an inline completion from the recorded
// backend, Tab accepts it, and the engine logs `shown` and `accepted`; a click on the status bar
// item opens Winnow's menu.
//
// Run by scripts/e2e.mjs (setup, package, then `node --import tsx --test` on this file).
// The environment variables it reads are listed in test/e2e/harness.ts.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { E2E, EVENTS_TIMEOUT_MS, GHOST_LINES_SELECTOR, boxAround, docShot, editorText, fullGhostText, poolEntry, waitFor, type PoolEntry } from './harness';

const entry: PoolEntry = poolEntry();
const e2e = new E2E({ name: 'inline', files: { 'he.py': entry.generation_prompt } });
const dirs = e2e.dirs;
const step = e2e.step.bind(e2e);
const screenshot = e2e.screenshot.bind(e2e);
const engineEvents = e2e.engineEvents.bind(e2e);
let ghostText = '';

describe('Winnow in VS Code (code-server + Chromium)', { timeout: 300_000 }, () => {
  before(() => e2e.start());
  after(() => e2e.stop());

  test('the workbench loads and opens he.py', async (t) => {
    await step(t, 'workbench', async () => {
      await e2e.openWorkbench();
      await screenshot('workbench');
      const firstWords = entry.generation_prompt.trim().split('\n')[0]!.trim();
      await e2e.openFile('he.py', firstWords);
      await screenshot('he-py-open');
    });
  });

  test('the status bar shows Winnow', async (t) => {
    await step(t, 'status-bar', async () => {
      const { first, ready } = await e2e.waitForWinnow();
      console.log(`# status bar: ${JSON.stringify(first)}`);
      console.log(`# status bar once started: ${JSON.stringify(ready)}`);
      await screenshot('status-bar');
    });
  });

  test('an inline completion shows as ghost text', async (t) => {
    await step(t, 'ghost-text', async () => {
      const p = e2e.page;
      await p.locator('.monaco-editor .view-lines').first().click();
      await p.keyboard.press('Control+End');
      // The prompt ends with a newline: the cursor is at column 1 of an empty line. Typing the
      // body's indentation triggers the inline completion the way a user does.
      const { ghost, ms, retries } = await e2e.typeIndentAndWaitForGhost();
      ghostText = ghost;
      // The suggestion's further lines, rendered below the cursor line.
      const more = (await p.evaluate(`[...document.querySelectorAll(${JSON.stringify(GHOST_LINES_SELECTOR)})].map((l) => l.textContent)`)) as string[];
      console.log(
        `# ghost text after ${ms} ms (${retries} retries): ${JSON.stringify(ghostText)}` +
          (more.length ? ` + ${more.length} more line(s): ${JSON.stringify(more.join('\n').replace(/\u00a0/g, ' ').slice(0, 300))}` : ''),
      );
      await screenshot('ghost-text');
    });
  });

  test('cycling (Alt+]) shows another candidate, and Alt+[ comes back', async (t) => {
    await step(t, 'cycle', async () => {
      const p = e2e.page;
      const first = await fullGhostText(p);
      await p.keyboard.press('Alt+BracketRight');
      const other = await waitFor('a different candidate after Alt+]', 10_000, async () => {
        const now = await fullGhostText(p);
        return now && now !== first ? now : undefined;
      });
      console.log(`# Alt+] showed: ${JSON.stringify(other.slice(0, 200))}`);
      await screenshot('cycled');
      await p.keyboard.press('Alt+BracketLeft');
      await waitFor('the first candidate again after Alt+[', 10_000, async () => ((await fullGhostText(p)) === first ? true : undefined));
    });
  });

  test('Tab accepts the ghost text into the document', async (t) => {
    await step(t, 'accept', async () => {
      const p = e2e.page;
      await p.keyboard.press('Tab');
      const want = ghostText.trim();
      const text = await waitFor(`the editor to contain ${JSON.stringify(want)}`, 10_000, async () => {
        const t = await editorText(p);
        return t.includes(want) ? t : undefined;
      });
      await screenshot('accepted');
      console.log(`# editor after Tab:\n${text.split('\n').map((l) => `#   ${l}`).join('\n')}`);
      assert.ok(text.includes(want));
    });
  });

  test('the engine logged shown and accepted events', async (t) => {
    await step(t, 'events', async () => {
      const events = await waitFor('an accepted event from `engine events --json`', EVENTS_TIMEOUT_MS, () => {
        const ev = engineEvents();
        return ev.some((e) => e.kind === 'accepted') ? ev : undefined;
      }, 1000);
      const shown = events.filter((e) => e.kind === 'shown');
      const accepted = events.filter((e) => e.kind === 'accepted');
      console.log(`# events: ${events.length} (${shown.length} shown, ${accepted.length} accepted); accepted: ${JSON.stringify(accepted[0])}`);
      assert.ok(shown.length > 0, 'a shown event');
      assert.ok(accepted.length > 0, 'an accepted event');
      const a = accepted[0]!;
      assert.ok(a.requestId, 'the accepted event has a requestId');
      assert.ok(
        shown.some((s) => s.requestId === a.requestId),
        'the accepted candidate was shown first (same requestId)',
      );
    });
  });

  test('a click on the status bar item opens the menu: the status, Open Dashboard, Get Started', async (t) => {
    await step(t, 'status-menu', async () => {
      const p = e2e.page;
      // VS Code gives a quick pick's list 40% of the window's height: a taller window shows the
      // whole menu (the list is virtual, only the rows on screen are in the page).
      const viewport = p.viewportSize();
      await p.setViewportSize({ width: viewport?.width ?? 1400, height: 1100 });
      try {
        await e2e.statusItem().first().click();
        const widget = p.locator('.quick-input-widget');
        await widget.locator('.quick-input-title', { hasText: 'Winnow' }).first().waitFor({ timeout: 15_000 });
        const rows = widget.locator('.monaco-list-row');
        const labels = await waitFor('the menu to list the status and the actions', 15_000, async () => {
          const texts = (await rows.allInnerTexts()).map((x) => x.replace(/\s+/g, ' ').trim());
          const want = [/^Engine: /, /^Open Dashboard/, /^Get Started/, /^Open Settings/];
          return want.every((re) => texts.some((x) => re.test(x))) ? texts : undefined;
        });
        console.log(`# status menu: ${JSON.stringify(labels)}`);
        await screenshot('status-menu');
        await docShot(p, 'status-menu', await boxAround(p, ['.quick-input-widget'], 8));
        await p.keyboard.press('Escape');
        await widget.waitFor({ state: 'hidden', timeout: 5000 });
      } finally {
        if (viewport) await p.setViewportSize(viewport);
      }
    });
  });

  test('kill -9 of the engine: the status bar says so and completions come back', async (t) => {
    await step(t, 'engine-crash', async () => {
      const p = e2e.page;
      const info = JSON.parse(fs.readFileSync(path.join(dirs.data, 'engine.json'), 'utf8')) as { pid: number };
      const item = p.locator('#workbench\\.parts\\.statusbar .statusbar-item').filter({ hasText: /Winnow/ });
      const killedAt = Date.now();
      process.kill(info.pid, 'SIGKILL');
      const restarting = await waitFor('the status bar to say the engine is restarting', 10_000, async () => {
        const text = (await item.first().innerText()).trim();
        return /restarting/i.test(text) ? text : undefined;
      }, 25);
      console.log(`# status bar after kill -9: ${JSON.stringify(restarting)} (${Date.now() - killedAt} ms)`);
      await screenshot('engine-restarting');
      await waitFor('the status bar to show Winnow ready again', 20_000, async () => {
        const text = (await item.first().innerText()).trim();
        return /Winnow (CPU|CUDA)/.test(text) ? text : undefined;
      }, 50);
      // Back to the bare prompt (undo the accepted text), then retype the indentation: the
      // recorded pool has samples only for the prompt itself.
      const accepted = ghostText.trim();
      await waitFor('the accepted text undone', 10_000, async () => {
        if (!(await editorText(p)).includes(accepted)) return true;
        await p.keyboard.press('Control+z');
        return undefined;
      }, 200);
      await p.keyboard.press('Control+End');
      const ghost = p.locator('.monaco-editor .view-lines .ghost-text-decoration');
      let retries = 0;
      await p.keyboard.press('Backspace');
      await p.keyboard.type(' ');
      await waitFor('ghost text after the restart', 20_000, async () => {
        if ((await ghost.count()) > 0 && (await ghost.allInnerTexts()).join('').trim()) return true;
        if (Date.now() - killedAt > 3000 * (retries + 1)) {
          retries++;
          await p.keyboard.press('Backspace');
          await p.keyboard.type(' ');
          await p.keyboard.press('Alt+Backslash');
        }
        return undefined;
      }, 50);
      console.log(`# ghost text again ${Date.now() - killedAt} ms after kill -9 (${retries} retries)`);
      await screenshot('after-restart');
      const now = JSON.parse(fs.readFileSync(path.join(dirs.data, 'engine.json'), 'utf8')) as { pid: number };
      assert.notEqual(now.pid, info.pid, 'a new engine serves');
    });
  });
});
