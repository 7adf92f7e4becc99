import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUT_MEMORY, fitLine, PACE_HEADROOM, PACE_WINDOW, SamplePacer } from '../../engine/src/generators/pacing';

test('latency-aware N: with nothing measured, the window asks for all it wants', () => {
  const p = new SamplePacer();
  assert.deepEqual(p.choose('g', 8, 1400).n, 8);
  assert.match(p.choose('g', 8, 1400).reason, /no answer times/);
});

test('latency-aware N: the fit separates overhead from time per candidate', () => {
  const f = fitLine([
    { n: 2, ms: 300 },
    { n: 4, ms: 500 },
    { n: 8, ms: 900 },
  ]);
  assert.ok(Math.abs(f.overheadMs - 100) < 1e-6);
  assert.ok(Math.abs(f.perSampleMs - 100) < 1e-6);
  assert.equal(f.observations, 3);
});

test('latency-aware N: answers at one N only are taken as all per-candidate time (never over-asks)', () => {
  const f = fitLine([
    { n: 8, ms: 800 },
    { n: 8, ms: 820 },
  ]);
  assert.equal(f.overheadMs, 0);
  assert.ok(Math.abs(f.perSampleMs - 101.25) < 1e-6);
});

test('latency-aware N: noisy answers never give a negative overhead or per-candidate time', () => {
  const flat = fitLine([
    { n: 2, ms: 500 },
    { n: 8, ms: 480 },
  ]);
  assert.equal(flat.perSampleMs, 0);
  assert.equal(flat.overheadMs, 490);
  const steep = fitLine([
    { n: 1, ms: 50 },
    { n: 2, ms: 300 },
  ]);
  assert.equal(steep.overheadMs, 0);
  assert.ok(steep.perSampleMs > 0);
});

test('latency-aware N: a fast server gets every candidate, a slow one as many as fit', () => {
  const p = new SamplePacer();
  for (let i = 0; i < 5; i++) p.observe('fast', 8, 80, false);
  assert.equal(p.choose('fast', 8, 1400).n, 8);
  // 100 ms overhead + 150 ms a candidate: (1400 × 0.85 − 100) / 150 = 7.27 → 7.
  p.observe('slow', 2, 400, false);
  p.observe('slow', 4, 700, false);
  const c = p.choose('slow', 16, 1400);
  assert.equal(c.n, Math.floor((1400 * PACE_HEADROOM - 100) / 150));
  assert.match(c.reason, /100 ms \+ 150\.0 ms per candidate: 7 of 16/);
});

test('latency-aware N: at least one candidate, even when none fits', () => {
  const p = new SamplePacer();
  p.observe('glacial', 1, 5000, true);
  const c = p.choose('glacial', 8, 1400);
  assert.equal(c.n, 1);
  assert.match(c.reason, /even 1 may not/);
});

test('latency-aware N: an answer cut by the budget counts as slower than the budget, so N drops', () => {
  const p = new SamplePacer();
  p.observe('g', 8, 1400, true); // cut: counts 1750 ms
  const c = p.choose('g', 8, 1400);
  assert.equal(c.n, Math.floor((1400 * PACE_HEADROOM) / (1750 / 8)));
  assert.ok(c.n < 8);
});

test('latency-aware N: generators are learned apart, and only the last answers count', () => {
  const p = new SamplePacer();
  for (let i = 0; i < PACE_WINDOW; i++) p.observe('a', 4, 2000, false);
  p.observe('b', 4, 40, false);
  assert.equal(p.choose('b', 8, 1400).n, 8);
  assert.equal(p.choose('a', 8, 1400).n, 2);
  // The server got faster (another model): after a window of fast answers, the slow ones are forgotten.
  for (let i = 0; i < PACE_WINDOW; i++) p.observe('a', 4, 100, false);
  assert.equal(p.fit('a')?.observations, PACE_WINDOW);
  assert.equal(p.choose('a', 8, 1400).n, 8);
});

test('latency-aware N: nonsense observations are ignored', () => {
  const p = new SamplePacer();
  p.observe('g', 0, 100, false);
  p.observe('g', 4, Number.NaN, false);
  p.observe('g', 4, -5, false);
  assert.equal(p.fit('g'), undefined);
});

test('latency-aware N: a server whose fixed time alone exceeds the budget gets 1, not all (flat fit)', () => {
  const p = new SamplePacer();
  for (const n of [8, 5, 1]) p.observe('g', n, 1480, true);
  const c = p.choose('g', 8, 1445);
  assert.equal(c.n, 1);
  assert.match(c.reason, /even 1 may not/);
});

test('latency-aware N: a cut answer keeps the next requests below its N; answers in time at two Ns are fitted alone', () => {
  const p = new SamplePacer();
  // 300 ms + 400 ms a candidate, budget 1445 ms: 2 fit (1100 ms), 3 do not (1500 ms).
  p.observe('cpu', 8, 1480, true);
  p.observe('cpu', 1, 700, false);
  p.observe('cpu', 3, 1480, true);
  assert.equal(p.choose('cpu', 8, 1445).n, 2);
  p.observe('cpu', 2, 1100, false);
  const fit = p.fit('cpu');
  assert.ok(fit && Math.abs(fit.overheadMs - 300) < 1e-6 && Math.abs(fit.perSampleMs - 400) < 1e-6, JSON.stringify(fit));
  const c = p.choose('cpu', 8, 1445);
  assert.equal(c.n, 2);
  // Once the cut answers are older than CUT_MEMORY answers, only the fit decides.
  for (let i = 0; i < CUT_MEMORY; i++) p.observe('cpu', 2, 1100, false);
  assert.equal(p.choose('cpu', 8, 1445).n, 2);
});
