// End-to-end: "Winnow: Open Dashboard" in a real VS Code (code-server 4.100.3, VS Code 1.100.3,
// Chromium) with the packaged VSIX, on a data folder seeded beforehand through the engine's
// protocol (./seed.ts):
//   - the command palette opens the panel; the page (a webview: nested iframes) draws its
//     charts (canvases with a size and drawn pixels, each with role img, a label and a table);
//   - the totals on the page are the `winnow` CLI's numbers for the same store;
//   - no Content-Security-Policy violation is reported;
//   - the page's Retrain button trains (the table then lists v1), Roll Back… opens the pick;
//   - triplets built by `winnow triplets` show with the CLI's counts;
//   - a theme change redraws the charts; requests stop while the panel is hidden or closed.
// `winnow.training.auto` is off so that no background training races the one asked for.
//
// Run: node scripts/e2e.mjs --no-setup [--no-package] test/e2e/dashboard.e2e.ts
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame } from 'playwright-core';
import { E2E, boxAround, childEnv, docShot, engineCli, poolPath, sleep, taskId, waitFor, type EngineEvent } from './harness';
import { seedFeedback } from './seed';

const SEED_REQUESTS = 300;
// The LSP trace is logged at trace level: code-server's --log (see ./harness.ts).
process.env.WINNOW_E2E_LOG ??= 'trace';
const e2e = new E2E({
  name: 'dashboard',
  files: { 'notes.txt': 'Winnow dashboard\n' },
  // The LSP trace shows each `winnow/dashboard` request in the language server's log.
  settings: { 'winnow.training.auto': false, 'winnow.execution.enabled': 'off', 'workbench.colorTheme': 'Default Dark Modern', 'winnow.trace.server': 'messages' },
});
const cspErrors: string[] = [];
let seededRequests = 0;

function cliJson<T>(...args: string[]): T {
  const r = spawnSync(process.execPath, [engineCli, ...args, '--json', '--data-dir', e2e.dirs.data], { encoding: 'utf8', timeout: 30_000, env: childEnv() });
  if (r.status !== 0) throw new Error(`winnow ${args.join(' ')} exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
  return JSON.parse(r.stdout) as T;
}

/**
 * Runs a command from the palette once the palette lists it: until the extension host has
 * registered Winnow's manifest the palette does not, and an open query is not filtered again.
 */
async function runWinnowCommand(title: string): Promise<void> {
  await waitFor(`"${title}" in the command palette`, 60_000, async () => {
    try {
      await e2e.runCommand(title);
      return true;
    } catch {
      await e2e.page.keyboard.press('Escape');
      return undefined;
    }
  }, 1000);
}

/** The webview frame holding the dashboard page (VS Code nests it in two iframes). */
function dashboardFrame(): Promise<Frame> {
  return waitFor('the dashboard page in a webview frame', 60_000, async () => {
    for (const f of e2e.page.frames()) {
      if ((await f.locator('main#dashboard').count().catch(() => 0)) > 0) return f;
    }
    return undefined;
  });
}

async function value(f: Frame, testId: string): Promise<number> {
  const v = await f.locator(`[data-testid="${testId}"]`).getAttribute('data-value', { timeout: 5000 });
  return Number(v);
}

interface DrawnChart {
  id: string;
  width: number;
  /** Pixels drawn (not transparent), and a checksum of all of them (it changes with the colours). */
  drawn: number;
  checksum: number;
  label: string;
}

/** The visible charts, as drawn. */
async function drawnCharts(f: Frame): Promise<DrawnChart[]> {
  // A string, not a function: this project compiles the tests without the DOM library.
  return (await f.evaluate(`[...document.querySelectorAll('canvas')]
    .filter((c) => c.offsetParent !== null)
    .map((c) => {
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let drawn = 0;
      let checksum = 0;
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] !== 0) drawn++;
        checksum = (checksum * 31 + px[i] + 7 * px[i + 1] + 13 * px[i + 2]) % 1000000007;
      }
      return { id: c.dataset.testid, width: c.getBoundingClientRect().width, drawn, checksum, label: c.getAttribute('aria-label') ?? '' };
    })`)) as DrawnChart[];
}

/** Scrolls the page so that the section starts at the top. */
async function scrollTo(f: Frame, sectionId: string): Promise<void> {
  await f.evaluate(`document.getElementById(${JSON.stringify(sectionId)}).scrollIntoView()`);
}

/** `winnow/dashboard` requests sent so far, from the LSP trace. */
function dashboardRequests(): number {
  return e2e.winnowLogLines(/Sending request 'winnow\/dashboard/).length;
}

/** Asserts that no `winnow/dashboard` request is sent for a while (after one in flight has had time to show). */
async function assertNoPolling(what: string): Promise<void> {
  await sleep(2000);
  const before = dashboardRequests();
  await sleep(7000);
  assert.equal(dashboardRequests(), before, `no dashboard request ${what}`);
}

describe('the dashboard (code-server + Chromium)', { timeout: 480_000 }, () => {
  before(async () => {
    fs.mkdirSync(e2e.dirs.data, { recursive: true });
    const t0 = Date.now();
    const seeded = await seedFeedback(e2e.dirs.data, poolPath, SEED_REQUESTS, taskId);
    console.log(`# seeded ${seeded.requests} completions and ${seeded.events} feedback events in ${Date.now() - t0} ms`);
    seededRequests = seeded.requests;
    await e2e.start();
    e2e.page.on('console', (m) => {
      if (/Content[- ]Security[- ]Policy|Refused to (load|apply|execute)/i.test(m.text())) cspErrors.push(m.text());
    });
  });
  after(() => e2e.stop());

  test('"Winnow: Open Dashboard" opens the page; its charts are drawn; its totals are the CLI\'s', async (t) => {
    await e2e.step(t, 'open', async () => {
      await e2e.openWorkbench();
      await runWinnowCommand('Winnow: Open Dashboard');
      await e2e.page.locator('.tab', { hasText: 'Winnow Dashboard' }).first().waitFor({ timeout: 30_000 });
      const f = await dashboardFrame();
      // The figures come once the engine (started by the extension) answers.
      await waitFor('the totals on the page', 90_000, async () => ((await f.locator('[data-testid="total-completions"]').count()) > 0 ? true : undefined), 500);
      await waitFor('the engine ready (no banner)', 30_000, async () => ((await f.locator('[data-testid="banner"]').isHidden()) ? true : undefined), 500);
      await e2e.screenshot('dashboard');
      await e2e.page.screenshot({ path: path.join(e2e.outDir, 'dashboard.png') });

      const status = cliJson<{ running: boolean; store: { requests: number; events: number } }>('status');
      const events = cliJson<{ events: EngineEvent[] }>('events', '--limit', '1000000').events;
      const byKind = new Map<string, number>();
      for (const e of events) byKind.set(e.kind, (byKind.get(e.kind) ?? 0) + 1);
      const page = { completions: await value(f, 'total-completions'), events: await value(f, 'total-events') };
      console.log(`# page: ${JSON.stringify(page)}; CLI: ${JSON.stringify(status.store)}, by kind ${JSON.stringify(Object.fromEntries(byKind))}`);
      assert.equal(page.completions, status.store.requests, 'completions = the store\'s requests');
      assert.ok(page.completions >= seededRequests, 'the seeded completions are counted');
      assert.equal(page.events, status.store.events, 'events = the store\'s events');
      assert.equal(events.length, status.store.events);
      for (const [kind, n] of byKind) assert.equal(await value(f, `total-events-${kind.replace(/_/g, '-')}`), n, kind);

      const charts = await drawnCharts(f);
      console.log(`# charts: ${JSON.stringify(charts.map(({ id, width, drawn }) => ({ id, width, drawn })))}`);
      for (const id of ['chart-completions', 'chart-events', 'chart-acceptance', 'chart-languages', 'chart-ranks', 'chart-latency']) {
        const c = charts.find((x) => x.id === id);
        assert.ok(c, `${id} is shown`);
        assert.ok(c.width > 100, `${id} has a width (${c.width})`);
        assert.ok(c.drawn > 500, `${id} has drawn pixels (${c.drawn})`);
        assert.ok(c.label.length > 20, `${id} has an accessible summary`);
      }
      // The README's picture: the top of the page, its charts drawn (the editor area, without the explorer).
      await docShot(e2e.page, 'dashboard', await boxAround(e2e.page, ['.part.editor'], 0));
      // Every canvas has role img and a data table beside it; the buttons are buttons.
      assert.equal(await f.locator('canvas:not([role="img"])').count(), 0);
      assert.equal(await f.locator('figure.chart details table').count(), await f.locator('figure.chart canvas').count());
      assert.equal(await f.getByRole('button', { name: 'Retrain Ranker' }).count(), 1);
      assert.equal(await f.locator('[aria-live="polite"]').count(), 1);
      assert.match((await f.locator('[data-testid="device"]').innerText()).trim(), /^(CPU|CUDA) — /);

      for (const s of ['acceptance', 'rankers', 'latency']) {
        await scrollTo(f, s);
        await e2e.screenshot(`dashboard-${s}`);
      }
      // The page's own policy is the strict one (the webview's console, watched above, would report a violation).
      const csp = String(await f.evaluate(`document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.content ?? ''`));
      const directives = new Map(csp.split(/;\s*/).map((d) => [d.split(' ')[0], d.split(' ').slice(1).join(' ')] as const));
      assert.deepEqual([...directives.keys()], ['default-src', 'img-src', 'style-src', 'script-src', 'font-src'], csp);
      assert.equal(directives.get('default-src'), "'none'");
      assert.match(directives.get('script-src') ?? '', /^'nonce-[A-Za-z0-9+/=]{16,}'$/, 'scripts by nonce only');
      assert.doesNotMatch(csp, /unsafe/);
      assert.deepEqual(cspErrors, [], 'no Content-Security-Policy violation');
    });
  });

  test('a theme change draws the charts again in the new colours', async (t) => {
    await e2e.step(t, 'theme', async () => {
      const f = await dashboardFrame();
      const before = (await drawnCharts(f)).find((c) => c.id === 'chart-completions');
      assert.ok(before);
      await e2e.runCommand('Preferences: Toggle between Light/Dark Themes');
      const after = await waitFor('the completions chart drawn again', 15_000, async () => {
        const c = (await drawnCharts(f)).find((x) => x.id === 'chart-completions');
        return c && c.checksum !== before.checksum ? c : undefined;
      }, 250);
      assert.ok(after.drawn > 500);
      await e2e.screenshot('dashboard-light');
      await e2e.runCommand('Preferences: Toggle between Light/Dark Themes');
      await waitFor('the dark colours back', 15_000, async () => ((await drawnCharts(f)).find((x) => x.id === 'chart-completions')?.checksum === before.checksum ? true : undefined), 250);
    });
  });

  test('Retrain on the page trains a new version, which the versions table then lists; Roll Back… opens the pick', async (t) => {
    await e2e.step(t, 'retrain', async () => {
      const f = await dashboardFrame();
      await scrollTo(f, 'rankers');
      await f.getByRole('button', { name: 'Retrain Ranker' }).click();
      const summary = await waitFor('the training summary', 120_000, async () => (await e2e.notifications()).find((n) => /^Winnow (promoted|kept|did not train)|training failed/.test(n)), 250);
      console.log(`# summary: ${JSON.stringify(summary)}`);
      const row = f.locator('[data-testid="rankers-table"] tbody tr', { hasText: 'v1' });
      await waitFor('v1 in the versions table', 15_000, async () => ((await row.count()) > 0 ? true : undefined), 250);
      const text = (await row.first().innerText()).replace(/\s+/g, ' ');
      console.log(`# v1 row: ${JSON.stringify(text)}; live region: ${JSON.stringify(await f.locator('[data-testid="live"]').innerText())}`);
      assert.match(text, /^v1 just now [\d,]+ \d+\.\d% on [\d,]+ pairs/);
      // `winnow triplets` builds and stores the triplets (through the running engine): the page then shows the same counts.
      const built = cliJson<{ stats: { triplets: number; bySource: Record<string, number> } }>('triplets', '--limit', '1').stats;
      await waitFor('the triplets on the page', 15_000, async () => ((await value(f, 'total-triplets').catch(() => -1)) === built.triplets ? true : undefined), 250);
      for (const [source, n] of Object.entries(built.bySource)) assert.equal(await value(f, `total-triplets-${source.replace(/_/g, '-')}`), n, source);
      assert.ok(await f.locator('[data-testid="chart-triplets"]').isVisible());
      console.log(`# triplets: ${JSON.stringify(built)}`);
      await e2e.settledToasts();
      await e2e.screenshot('dashboard-retrained');

      await f.getByRole('button', { name: 'Roll Back…' }).click();
      const rows = e2e.page.locator('.quick-input-widget .monaco-list-row');
      await waitFor('the ranker versions in the quick pick', 15_000, async () => ((await rows.filter({ hasText: 'builtin-4' }).count()) > 0 ? true : undefined));
      await e2e.screenshot('dashboard-roll-back-pick');
      await e2e.page.keyboard.press('Escape');
      assert.deepEqual(cspErrors, [], 'no Content-Security-Policy violation');
    });
  });

  test('it polls only while visible: not while another editor hides it, nor once closed', async (t) => {
    await e2e.step(t, 'polling', async () => {
      const p = e2e.page;
      const n0 = dashboardRequests();
      await waitFor('polling while visible', 15_000, () => (dashboardRequests() >= n0 + 2 ? true : undefined), 500);
      await e2e.openFile('notes.txt', 'Winnow dashboard');
      await assertNoPolling('while hidden behind another editor');
      const n1 = dashboardRequests();
      await p.locator('.tab', { hasText: 'Winnow Dashboard' }).first().click();
      await waitFor('polling again once shown', 15_000, () => (dashboardRequests() > n1 ? true : undefined), 500);
      await dashboardFrame();
      await p.locator('.tab', { hasText: 'Winnow Dashboard' }).first().locator('.codicon-close').click();
      await waitFor('the panel closed', 10_000, async () => ((await p.locator('.tab', { hasText: 'Winnow Dashboard' }).count()) === 0 ? true : undefined));
      await assertNoPolling('once closed');
      console.log(`# dashboard requests: ${dashboardRequests()}`);
    });
  });
});
