// End-to-end: the first-run walkthrough in a real VS Code (code-server 4.100.3, VS Code
// 1.100.3) shown in Chromium. With the settings pointing at the test model server
// (test/fixtures/openaiServer.ts) and no file open (so nothing has activated Winnow yet), the
// walkthrough's "Test the connection" button starts Winnow and says it connected, naming the
// model the server lists.
//
// Run by scripts/e2e.mjs (setup, package, then `node --import tsx --test` on this file).
// The environment variables it reads are listed in test/e2e/harness.ts.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { E2E, boxAround, docShot, waitFor } from './harness';

const CONNECT_TIMEOUT_MS = 60_000; // activation, the language server, the engine, then the probe

let fixture: Fixture | undefined;
// The URL is filled in before start, once the fixture server has its port.
const settings: Record<string, unknown> = { 'winnow.generator.backend': 'openai' };
const e2e = new E2E({ name: 'walkthrough', files: { 'notes.txt': 'Winnow walkthrough test\n' }, settings });

/** The heading of a step's markdown page, rendered in a webview (an iframe in an iframe). */
function stepPage(title: string) {
  return e2e.page.frameLocator('iframe.webview.ready').frameLocator('#active-frame').locator('h1', { hasText: title });
}

describe('the "Get started with Winnow" walkthrough (code-server + Chromium)', { timeout: 300_000 }, () => {
  before(async () => {
    fixture = await startOpenAIFixture();
    settings['winnow.generator.url'] = fixture.url;
    await e2e.start();
  });
  after(async () => {
    await e2e.stop();
    await fixture?.close();
  });

  test('"Welcome: Open Walkthrough…" lists and opens it', async (t) => {
    await e2e.step(t, 'open', async () => {
      const p = e2e.page;
      await e2e.openWorkbench();
      await e2e.runCommand('Open Walkthrough');
      const row = p.locator('.quick-input-widget .monaco-list-row', { hasText: 'Get started with Winnow' });
      await row.first().waitFor({ timeout: 15_000 });
      await row.first().click();
      await p.locator('button.getting-started-step', { hasText: 'Pick your model server' }).first().waitFor({ timeout: 15_000 });
      await stepPage('Pick your model server').waitFor({ timeout: 15_000 });
      await e2e.screenshot('walkthrough');
    });
  });

  test('"Test the connection" connects and names the server\'s model', async (t) => {
    await e2e.step(t, 'test-connection', async () => {
      const p = e2e.page;
      const step = p.locator('button.getting-started-step', { hasText: 'Test the connection' }).first();
      await step.click();
      await waitFor('the step to expand', 10_000, async () => ((await step.getAttribute('aria-expanded')) === 'true' ? true : undefined));
      const button = p.locator('.getting-started-step.expanded .monaco-button', { hasText: 'Test Connection' }).first();
      await button.waitFor({ timeout: 10_000 });
      await stepPage('Test the connection').waitFor({ timeout: 15_000 });
      await e2e.screenshot('walkthrough-step');
      await button.click();
      const message = await waitFor('a notification saying whether Winnow connected', CONNECT_TIMEOUT_MS, async () =>
        (await e2e.notifications()).find((m) => /^Connected to |could not/i.test(m)),
      );
      console.log(`# notification: ${JSON.stringify(message)}`);
      // VS Code keeps a progress notification up a moment after it ends; bounded, for the screenshot only.
      await waitFor('the progress notification to close', 5000, async () =>
        (await e2e.notifications()).some((m) => /testing the connection/.test(m)) ? undefined : true,
      ).catch(() => undefined);
      await e2e.settledToasts();
      await e2e.screenshot('connected');
      // The README's picture: the walkthrough and what the connection test said (the editor area, without the explorer).
      await docShot(p, 'walkthrough', await boxAround(p, ['.part.editor'], 0));
      assert.ok(fixture);
      const url = fixture.url.replace(/[.]/g, '\\.');
      assert.match(message, new RegExp(`^Connected to ${url}: model fixture answered in \\d+ ms\\. Models listed: fixture\\.`));
      // The step completes on the `winnow.connected` context key the command sets.
      await waitFor('the step to be checked', 10_000, async () => ((await step.getAttribute('aria-checked')) === 'true' ? true : undefined));
    });
  });
});
