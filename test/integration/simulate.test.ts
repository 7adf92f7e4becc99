/**
 * `winnow bench --simulate-user` on a few HumanEval tasks: two real engine processes (one
 * learning in the background, one with training off) fed the same stream through the protocol,
 * verdicts from the recorded labels and the real sandbox, through the library and the CLI.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { runSimulation, type SimulateOptions } from '../../engine/src/bench/simulate';
import { ENGINE_SCRIPT, POOL, tempDir } from '../helpers';

const dir = tempDir('winnow-simulate-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));
const bench = path.dirname(POOL);
const problems = path.join(bench, 'problems.jsonl');
const labels = path.join(bench, 'codegen16b_labels.jsonl');

test('a simulated developer teaches one engine while the other keeps the built-in ranker', { timeout: 240_000 }, async () => {
  const o: SimulateOptions = {
    problems,
    samples: POOL,
    labels,
    engineScript: ENGINE_SCRIPT,
    seeds: [1],
    limit: 16,
    window: 4,
    n: 8,
    maxCycles: 3,
    // Every training promotes (no gate), so that the learning engine serves its own versions.
    training: { auto: true, minNewTriplets: 4, minPairs: 0, promotionMargin: -100, keepVersions: 50, rounds: 1 },
    trainIdleMs: 200,
    trainCheckMs: 100,
    trainWaitMs: 60_000,
    cacheDir: path.join(dir, 'cache'),
    workDir: path.join(dir, 'work'),
    keepWorkDir: true,
  };
  const r = await runSimulation(o);
  assert.equal(r.tasks, 16);
  assert.equal(r.passSize, 8);
  assert.equal(r.arrivalsPerSeed, 24);
  assert.equal(r.execute, false);
  assert.equal(r.windows.length, 6);
  const learning = r.runs.find((x) => x.mode === 'learning')!;
  const off = r.runs.find((x) => x.mode === 'off')!;
  // The same stream, arrival by arrival.
  assert.deepEqual(
    learning.arrivals.map((a) => a.taskId),
    off.arrivals.map((a) => a.taskId),
  );
  // Pass 3 holds tasks neither engine saw.
  const seen = new Set(learning.arrivals.filter((a) => a.pass < 3).map((a) => a.taskId));
  assert.ok(learning.arrivals.filter((a) => a.pass === 3).every((a) => !seen.has(a.taskId)));
  // Training off: the built-in ranker throughout, no training, no version.
  assert.ok(off.arrivals.every((a) => a.rankerVersion === 'builtin-4'));
  assert.deepEqual(off.trainings, []);
  assert.deepEqual(off.rankers.map((v) => v.version), ['builtin-4']);
  // Learning: background trainings happened, were promoted, and served later arrivals.
  assert.ok(learning.trainings.some((t) => t.outcome === 'promoted'), JSON.stringify(learning.trainings));
  assert.ok(learning.arrivals.some((a) => a.rankerVersion !== 'builtin-4'));
  assert.notEqual(learning.rankers.find((v) => v.active)?.version, 'builtin-4');
  // Every version the learning engine made is in the record, mid-window trainings included.
  const recorded = new Set(learning.trainings.flatMap((t) => (t.version ? [t.version] : [])));
  for (const v of learning.rankers) if (!v.builtin) assert.ok(recorded.has(v.version), `${v.version} was trained but not recorded: ${JSON.stringify(learning.trainings)}`);
  // Before any training both engines rank alike.
  assert.deepEqual(
    learning.arrivals.slice(0, 4).map((a) => a.acceptedRank),
    off.arrivals.slice(0, 4).map((a) => a.acceptedRank),
  );
  // Figures agree with the arrivals.
  const top1 = (xs: typeof off.arrivals) => (100 * xs.filter((a) => a.top1).length) / xs.length;
  assert.equal(r.lastThird.off, top1(off.arrivals.filter((a) => a.pass === 3)));
  assert.equal(r.lastThird.learning, top1(learning.arrivals.filter((a) => a.pass === 3)));
  assert.equal(r.lastThird.gain, r.lastThird.learning - r.lastThird.off);
  for (const a of [...learning.arrivals, ...off.arrivals]) {
    assert.ok(a.acceptedRank < 4, 'the developer looks at 1 + 3 candidates at most');
    assert.equal(a.top1, a.acceptedRank === 0);
    if (a.acceptedRank >= 0) assert.ok(a.anyPasses);
  }
  assert.ok(r.judged.fromLabels > 0);
  // The store holds what the developer did: the feedback of every arrival.
  const ev = spawnSync(process.execPath, [ENGINE_SCRIPT, 'events', '--json', '--limit', '10000', '--data-dir', path.join(dir, 'work', 'seed1-off')], { encoding: 'utf8' });
  assert.equal(ev.status, 0, ev.stderr);
  const list = (JSON.parse(ev.stdout) as { events: { kind: string; requestId: string }[] }).events;
  assert.equal(new Set(list.map((e) => e.requestId)).size, off.arrivals.filter((a) => a.candidates > 0).length);
  assert.equal(list.filter((e) => e.kind === 'accepted').length, off.arrivals.filter((a) => a.acceptedRank >= 0).length);
  assert.equal(list.filter((e) => e.kind === 'rejected').length, off.arrivals.filter((a) => a.acceptedRank < 0 && a.candidates > 0).length);
});

test('winnow bench --simulate-user: the table, the JSON and the SVG; bad options refused', { timeout: 240_000 }, () => {
  const svg = path.join(dir, 'sim.svg');
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [ENGINE_SCRIPT, 'bench', '--simulate-user', '--problems', problems, '--samples', POOL, '--labels', labels, '--data-dir', path.join(dir, 'cli'), ...args], {
      encoding: 'utf8',
      timeout: 200_000,
    });
  const r = run('--limit', '8', '--window', '4', '--seeds', '2', '--svg-out', svg);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /\| window \| arrivals \| pass \| top-1 learning \| top-1 off/);
  assert.match(r.stdout, /Goal \(last third, learning ≥ off \+ 5 points\): (met|missed)/);
  assert.match(fs.readFileSync(svg, 'utf8'), /^<svg[^>]*>[\s\S]*no execution[\s\S]*<\/svg>$/);
  const j = run('--limit', '8', '--window', '4', '--seeds', '2', '--json');
  assert.equal(j.status, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { arrivalsPerSeed: number; seeds: number[]; runs: { arrivals: number }[] };
  assert.equal(parsed.arrivalsPerSeed, 12);
  assert.deepEqual(parsed.seeds, [2]);
  assert.ok(parsed.runs.every((x) => x.arrivals === 12));
  const bad = run('--seeds', 'x');
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--seeds must be/);
  const badMargin = run('--margin', 'lots');
  assert.equal(badMargin.status, 2);
  assert.match(badMargin.stderr, /--margin must be/);
});
