/**
 * The language server's completion cache, manual trigger, dashboard and connection test, with
 * the real server bundle, the real engine and the fixture model server. What counts as "no new
 * request" is the model server's own request log and the engine's store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DashboardRequest, TestConnectionRequest, type DashboardResult, type ItemRef, type TestConnectionResult } from '../../server/src/protocol';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { closedPort, stopEngineOf, tempDir, waitFor } from '../helpers';
import { startServer, type TestServer } from '../lspClient';

const DOC = 'file:///work/demo/greet.py';
const TEXT = 'def greet(name):\n    ';

function settingsFor(url: string, extra: Record<string, unknown> = {}) {
  return { generator: { backend: 'openai', url, model: 'fixture' }, candidates: 4, candidatesManual: 12, latencyBudgetMs: 4000, debounceMs: 0, ...extra };
}

const refOf = (item: { command?: { arguments?: unknown[] } }) => item.command?.arguments?.[0] as ItemRef;

describe('language server: type-ahead cache, manual trigger, dashboard, connection test', () => {
  let dir: string;
  let fixture: Fixture;
  let server: TestServer;

  before(async () => {
    dir = tempDir();
    fixture = await startOpenAIFixture({ model: 'fixture-coder', complete: (_b, i) => (i % 2 === 0 ? 'return "Hello, " + name\n' : 'print(name)\n') });
    server = await startServer(dir, settingsFor(fixture.url));
    await server.waitForStatus('ready', (s) => s.state === 'ready');
    await server.open(DOC, 'python', TEXT);
  });

  after(async () => {
    await server.close();
    await stopEngineOf(dir);
    await fixture.close();
  });

  test('typing through a suggestion is answered from the cache: the rest of the same candidate, no request to the engine', async () => {
    const first = await server.complete(DOC, 1, 4);
    assert.equal(first.length, 2);
    const shown = first[0]!;
    const text = String(shown.insertText);
    const asked = fixture.requests.length;
    // Type the suggestion's first characters, one at a time.
    for (let k = 1; k <= 6; k++) {
      await server.change(DOC, TEXT + text.slice(0, k));
      const items = await server.complete(DOC, 1, 4 + k);
      assert.ok(items.length >= 1, `after ${k} characters`);
      assert.equal(String(items[0]!.insertText), text, 'the same candidate');
      assert.deepEqual(items[0]!.range, { start: { line: 1, character: 4 }, end: { line: 1, character: 4 + k } }, 'anchored where it was shown');
      assert.equal(refOf(items[0]!).candidateId, refOf(shown).candidateId);
      assert.equal(refOf(items[0]!).reused, 'typeahead');
    }
    assert.equal(fixture.requests.length, asked, 'no new request reached the model server');
    assert.ok(server.logs.some((l) => /answered from the cache \(type-ahead, 6 characters typed\)/.test(l)));
    // Diverging from every candidate asks the engine again.
    await server.change(DOC, `${TEXT}xyz`);
    const fresh = await server.complete(DOC, 1, 7);
    assert.ok(fresh.length > 0);
    assert.equal(refOf(fresh[0]!).reused, undefined);
    assert.equal(fixture.requests.length, asked + 1);
    // Back where it was: the same context as a recent request reuses its candidates.
    await server.change(DOC, TEXT);
    const again = await server.complete(DOC, 1, 4);
    assert.equal(refOf(again[0]!).reused, 'recent');
    assert.equal(refOf(again[0]!).requestId, refOf(shown).requestId);
    assert.equal(fixture.requests.length, asked + 1);
  });

  test('Trigger Inline Suggestion (and Alt+] cycling) asks the engine for more candidates (winnow.candidatesManual); the ones on screen keep their place', async () => {
    const onScreen = await server.complete(DOC, 1, 4); // the same context as before: from the cache
    assert.equal(refOf(onScreen[0]!).reused, 'recent');
    const asked = fixture.requests.length;
    const items = await server.complete(DOC, 1, 4, { manual: true });
    assert.equal(fixture.requests.length, asked + 1, 'a manual request goes to the engine');
    assert.equal(fixture.requests.at(-1)?.n, 12);
    // The suggestions already shown come first, same ids, same order (so cycling goes on from the one shown); new texts follow.
    assert.deepEqual(
      items.slice(0, onScreen.length).map((i) => [String(i.insertText), refOf(i).candidateId]),
      onScreen.map((i) => [String(i.insertText), refOf(i).candidateId]),
    );
    assert.equal(new Set(items.map((i) => String(i.insertText))).size, items.length, 'no text twice');
    const after = await server.complete(DOC, 1, 4);
    assert.equal(fixture.requests.length, asked + 1, 'the automatic one after it reuses its candidates');
    assert.equal(refOf(after[0]!).candidateId, refOf(onScreen[0]!).candidateId);
  });

  test('a settings change empties the cache', async () => {
    server.settings = settingsFor(fixture.url, { candidates: 3 });
    const asked = fixture.requests.length;
    await waitFor('the new settings', async () => {
      await server.complete(DOC, 1, 4);
      return fixture.requests.length > asked;
    });
    assert.equal(fixture.requests.at(-1)?.n, 3);
  });

  test('winnow/dashboard: the engine figures, ranker versions and cache counts in one reply', async () => {
    const d = (await server.conn.sendRequest(DashboardRequest, {})) as DashboardResult;
    assert.equal(d.state, 'ready');
    assert.equal(d.message, undefined);
    assert.ok(d.insights && d.engine && d.rankers && d.training);
    assert.equal(d.insights.totals.completions, d.engine.store?.requests);
    assert.ok(d.insights.totals.completions >= 3);
    assert.ok(d.cache.typeahead >= 6 && d.cache.recent >= 2 && d.cache.engine >= 3, JSON.stringify(d.cache));
    assert.deepEqual(d.settings, { latencyBudgetMs: 4000, candidates: 3, manualCandidates: 12 });
    // This window measured the hop of its own requests.
    assert.ok(d.insights.latency.some((t) => typeof t.hopMs === 'number' && t.hopMs >= 0));
    assert.ok(d.insights.latency.some((t) => t.trigger === 'manual' && t.nAsked === 12));
    assert.equal(d.sampling?.backend, 'openai');
    assert.ok(d.rankers.versions.some((v) => v.active));
  });

  test('a model server too slow for even one candidate is reported once, with what to change', async () => {
    const slow = await startOpenAIFixture({ delayMs: 1500 });
    const from = server.statuses.length;
    try {
      server.settings = settingsFor(slow.url, { latencyBudgetMs: 600 });
      const problem = await waitFor(
        'the too_slow problem',
        async () => {
          await server.complete(DOC, 1, 4);
          return server.statuses.slice(from).find((st) => st.problem?.code === 'too_slow')?.problem;
        },
        20_000,
      );
      assert.match(problem.message, /did not answer even one candidate within the latency budget \(600 ms\): raise winnow\.latencyBudgetMs/);
      assert.equal(slow.requests.at(-1)?.n, 1, 'latency-aware N came down to one');
    } finally {
      server.settings = settingsFor(fixture.url);
      await slow.close();
    }
  });

  test('winnow/testConnection: the model the server lists and a sample; an unreachable server says so', async () => {
    const ok = (await server.conn.sendRequest(TestConnectionRequest, {})) as TestConnectionResult;
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.equal(ok.model, 'fixture');
    assert.deepEqual(ok.models, ['fixture-coder']);
    assert.ok((ok.sampleMs ?? -1) >= 0);
    server.settings = settingsFor(`http://127.0.0.1:${await closedPort()}`);
    const down = (await server.conn.sendRequest(TestConnectionRequest, {})) as TestConnectionResult;
    assert.equal(down.ok, false);
    assert.equal(down.problem?.code, 'unreachable');
    assert.match(down.problem?.message ?? '', /Cannot reach the model server/);
    server.settings = settingsFor(fixture.url);
  });
});
