/**
 * The dashboard's pure parts: rates, the latency histogram, labels and summaries
 * (media/dashboard/model.ts), the page's messages and its Content-Security-Policy
 * (client/src/dashboard/), against hand-made cases and the sample reply in
 * test/fixtures/dashboard-sample.json.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { contentSecurityPolicy, dashboardHtml } from '../../client/src/dashboard/html';
import { isPageMessage } from '../../client/src/dashboard/messages';
import type { DashboardResult, DashboardTiming, RankersResult } from '../../server/src/protocol';
import * as m from '../../media/dashboard/model';

const sample = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'fixtures', 'dashboard-sample.json'), 'utf8')) as DashboardResult;
const insights = sample.insights!;

const timing = (generateMs: number, over: Partial<DashboardTiming> = {}): DashboardTiming => ({
  requestId: 'r',
  time: 0,
  totalMs: generateMs + (over.executeMs ?? 0) + (over.scoreMs ?? 0),
  generateMs,
  executeMs: 0,
  scoreMs: 0,
  n: 8,
  nAsked: 8,
  trigger: 'auto',
  ...over,
});

test('acceptance per bucket is (accepted + partial) / shown, and no rate where nothing was shown', () => {
  assert.deepEqual(m.acceptanceRates({ shown: [10, 0, 4], accepted: [2, 0, 1], partial: [1, 0, 1] }), [0.3, null, 0.5]);
  assert.deepEqual(m.overallAcceptance({ shown: [10, 0, 4], accepted: [2, 0, 1], partial: [1, 0, 1] }), { label: 'all', shown: 14, kept: 5, rate: 5 / 14 });
  assert.equal(m.overallAcceptance({ shown: [], accepted: [], partial: [] }).rate, null);
  for (const r of m.acceptanceRates(insights.acceptance)) assert.ok(r === null || (r >= 0 && r <= 1), String(r));
});

test('languages: most shown first, kept = accepted + partial', () => {
  const rows = m.languageRates([
    { languageId: 'go', shown: 5, accepted: 1, partial: 0 },
    { languageId: 'python', shown: 50, accepted: 10, partial: 5 },
    { languageId: 'rust', shown: 0, accepted: 0, partial: 0 },
  ]);
  assert.deepEqual(
    rows.map((r) => [r.label, r.kept, r.rate]),
    [
      ['python', 15, 0.3],
      ['go', 1, 0.2],
      ['rust', 0, null],
    ],
  );
});

test('ranks: how often the first pick was kept, and the share of each rank', () => {
  const { rows, firstPick } = m.rankRates([
    { rank: 1, shown: 20, accepted: 5 },
    { rank: 0, shown: 100, accepted: 15 },
  ]);
  assert.equal(firstPick, 0.75);
  assert.deepEqual(
    rows.map((r) => [r.rank, r.rate, r.share]),
    [
      [0, 0.15, 0.75],
      [1, 0.25, 0.25],
    ],
  );
  assert.equal(m.rankRates([]).firstPick, null);
  assert.equal(m.rankRates([{ rank: 2, shown: 3, accepted: 1 }]).firstPick, 0, 'nothing kept at rank 0');
});

test('niceStep and quantile', () => {
  assert.deepEqual([0, 0.3, 1, 1.2, 7, 12, 30, 60, 101].map(m.niceStep), [1, 1, 1, 2, 10, 20, 50, 100, 200]);
  assert.equal(m.quantile([], 0.5), 0);
  assert.equal(m.quantile([1, 2, 3, 4], 0.5), 2);
  assert.equal(m.quantile([1, 2, 3, 4], 0.9), 4);
});

test('latency histogram: round bins from 0, every completion in one bin, means per part', () => {
  const ts = [timing(5), timing(15, { scoreMs: 5, hopMs: 2 }), timing(18, { executeMs: 10, hopMs: 4 }), timing(95)];
  const h = m.latencyHistogram(ts, 10);
  assert.equal(h.width, 10);
  assert.equal(h.bins.length, 10, '0–100 ms in bins of 10');
  assert.deepEqual(h.bins.map((b) => b.count), [1, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
  assert.ok(h.bins.every((b, i) => b.from === 10 * i && b.to === 10 * (i + 1)));
  // 15 + 5 + 2 = 22 ms and 18 + 10 + 4 = 32 ms: the hop counts in the total.
  const b2 = h.bins[2]!;
  assert.deepEqual(b2.mean, { generate: 15, execute: 0, score: 5, hop: 2 });
  assert.equal(h.bins[0]!.mean.hop, 0, 'no hop measured: mean 0');
  assert.equal(h.n, 4);
  assert.equal(h.max, 95);
});

test('latency histogram: far outliers go to one open bin after the 95th percentile', () => {
  const ts = [...Array.from({ length: 40 }, (_, i) => timing(100 + i * 5)), timing(30_000)];
  const h = m.latencyHistogram(ts);
  const open = h.bins.at(-1)!;
  assert.equal(open.to, Infinity);
  assert.equal(open.count, 1);
  assert.ok(h.bins.length <= 17, String(h.bins.length));
  assert.equal(m.sum(h.bins.map((b) => b.count)), ts.length);
  assert.match(m.binLabel(open), /^[\d,]+ ms and more$/);
  // Without outliers no open bin.
  assert.ok(m.latencyHistogram(ts.slice(0, 40)).bins.every((b) => b.to !== Infinity));
});

test('latency histogram of the sample: all completions binned; bars split in proportion to the mean parts', () => {
  const h = m.latencyHistogram(insights.latency);
  assert.equal(m.sum(h.bins.map((b) => b.count)), insights.latency.length);
  for (const b of h.bins) {
    const parts = m.stackedParts(b);
    assert.ok(Math.abs(m.sum(Object.values(parts)) - b.count) < 1e-9, 'the stack is as high as the count');
    if (b.count > 0) assert.ok(Math.abs(parts.generate / b.count - b.mean.generate / m.sum(Object.values(b.mean))) < 1e-9);
  }
  assert.deepEqual(m.stackedParts({ from: 0, to: 1, count: 3, mean: { generate: 0, execute: 0, score: 0, hop: 0 } }), { generate: 3, execute: 0, score: 0, hop: 0 });
});

test('the budget line: its place on the bins, or none past them', () => {
  const h = m.latencyHistogram([timing(5), timing(95)], 10);
  assert.equal(m.budgetPosition(h, 50), 5);
  assert.equal(m.budgetPosition(h, 100), 10);
  assert.equal(m.budgetPosition(h, 1500), undefined);
  assert.match(m.latencySummary(h, [timing(5), timing(95)], 50), /median 5\.0 ms, .* 1 over the 50 ms budget\.$/);
  assert.equal(m.latencySummary(m.latencyHistogram([]), [], 50), 'No completions timed yet.');
});

test('N used per trigger', () => {
  const n = m.nUsed([timing(1, { n: 4, nAsked: 8 }), timing(1, { n: 6, nAsked: 8 }), timing(1, { n: 12, nAsked: 16, trigger: 'manual' })]);
  assert.deepEqual(n, [
    { trigger: 'auto', completions: 2, meanN: 5, meanAsked: 8 },
    { trigger: 'manual', completions: 1, meanN: 12, meanAsked: 16 },
  ]);
  assert.match(m.samplingText(sample.sampling), /takes about 55 ms per candidate plus 182 ms per request \(fitted on 64 requests\)\. The last completion asked for 8 of 8 candidates\.$/);
  assert.match(m.samplingText(undefined), /No generator speed measured yet/);
});

test('labels and summaries', () => {
  const day = 86_400_000;
  const t0 = Date.UTC(2026, 4, 3);
  assert.deepEqual(m.bucketLabels([t0, t0 + day], day, 'UTC'), ['May 3', 'May 4']);
  assert.deepEqual(m.bucketLabels([t0 + 14 * 3_600_000], 3_600_000, 'UTC'), ['May 3, 14:00']);
  assert.deepEqual([day, 3_600_000, 3 * 3_600_000, 900_000].map(m.bucketUnit), ['day', 'hour', '3 h', '15 min']);
  assert.equal(m.seriesSummary('completions', [1, 5, 2], ['a', 'b', 'c'], 'day'), '8 completions over the last 3 days; most on b (5).');
  assert.equal(m.seriesSummary('completions', [0, 0], ['a', 'b'], 'day'), 'No completions in the last 2 days.');
  assert.deepEqual([0.42, 7, 1250, 12_500].map(m.ms), ['0.4 ms', '7.0 ms', '1,250 ms', '12.5 s']);
  assert.equal(m.count(1261), '1,261');
});

test('the banner says why the figures are missing, as a sentence', () => {
  assert.equal(m.bannerText(sample), undefined);
  assert.equal(
    m.bannerText({ state: 'restarting', message: 'the engine stopped answering; restarting it' }),
    'The engine is restarting: the engine stopped answering; restarting it. The dashboard updates when it answers.',
  );
  assert.equal(m.bannerText({ state: 'down' }), 'The engine is down. The dashboard updates when it answers.');
  assert.equal(m.bannerText({ state: 'ready', message: 'insights: timed out.' }), 'The engine is ready: insights: timed out. The dashboard updates when it answers.');
  assert.equal(m.bannerText({ ...sample, message: 'rankers: timed out' }), 'rankers: timed out.');
});

test('ranker rows: newest first, built-in last, pairs from the train split, decision and active', () => {
  const now = Date.UTC(2026, 4, 20);
  const r: RankersResult = {
    active: 'v2',
    versions: [
      { version: 'builtin-4', active: false, builtin: true, featureSet: 'fs-4', family: 'builtin', createdAt: 0 },
      {
        version: 'v2',
        active: true,
        builtin: false,
        featureSet: 'fs-4',
        family: 'mlp',
        createdAt: now - 3 * 3_600_000,
        triplets: { accepted_vs_shown: { train: 300, validation: 50 }, pass_rate: { train: 20, validation: 5 } },
        heldOut: { pairs: 55, accuracy: 0.712, activeVersion: 'v1', activeAccuracy: 0.684 },
        decision: { promoted: true, reason: 'promoted: held-out pairwise accuracy 0.712 vs 0.684' },
      },
      { version: 'v1', active: false, builtin: false, featureSet: 'fs-4', family: 'mlp', createdAt: now - 86_400_000 * 2 },
    ],
  };
  const rows = m.rankerRows(r, now);
  assert.deepEqual(
    rows.map((x) => [x.version, x.active, x.pairs, x.created]),
    [
      ['v2', true, 320, '3 h ago'],
      ['v1', false, undefined, '2 days ago'],
      ['builtin-4', false, undefined, 'ships with Winnow'],
    ],
  );
  assert.equal(rows[0]!.heldOut, '71.2% on 55 pairs (v1: 68.4%)');
  assert.equal(rows[0]!.decision, 'promoted: held-out pairwise accuracy 0.712 vs 0.684');
  assert.equal(rows[1]!.heldOut, 'not measured');
  // The sample: the active version is marked, pairs summed over sources.
  const sampleRows = m.rankerRows(sample.rankers!, sample.time);
  assert.deepEqual(sampleRows.filter((x) => x.active).map((x) => x.version), [sample.rankers!.active]);
  assert.equal(sampleRows[0]!.pairs, 2150 + 260 + 190);
});

test('the sample reply is consistent: series as long as the buckets, totals at least the window', () => {
  const n = insights.buckets.length;
  for (const s of [insights.growth.completions, ...Object.values(insights.growth.events), ...Object.values(insights.growth.triplets), insights.acceptance.shown]) assert.equal(s?.length, n);
  assert.ok(insights.totals.completions >= m.sum(insights.growth.completions));
});

test('messages from the page: only the known types', () => {
  for (const ok of [{ type: 'ready' }, { type: 'retrain' }, { type: 'rollBack' }]) assert.ok(isPageMessage(ok), JSON.stringify(ok));
  for (const bad of [undefined, null, 'ready', 1, {}, { type: 'eval' }, { type: ['ready'] }, { type: 'toString' }]) assert.ok(!isPageMessage(bad), JSON.stringify(bad));
});

test('the page: a strict CSP with the nonce, nothing inline', () => {
  const r = { cspSource: 'https://x.vscode-cdn.net', script: 'https://x.vscode-cdn.net/media/out/dashboard.js', style: 'https://x.vscode-cdn.net/media/dashboard/dashboard.css', nonce: 'abc+/=' };
  const csp = contentSecurityPolicy(r);
  assert.equal(csp, "default-src 'none'; img-src https://x.vscode-cdn.net data:; style-src https://x.vscode-cdn.net; script-src 'nonce-abc+/='; font-src https://x.vscode-cdn.net");
  assert.doesNotMatch(csp, /unsafe/);
  const html = dashboardHtml(r);
  assert.ok(html.includes(`<script nonce="abc+/=" src="${r.script}"></script>`));
  assert.equal(html.match(/<script/g)?.length, 1, 'one script, by nonce');
  assert.doesNotMatch(html, /style=|<style/);
});
