import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildTriplets,
  DEFAULT_WEIGHTS,
  levenshtein,
  promptHash,
  splitOf,
  type BuildOptions,
  type EventRow,
  type OutcomeRow,
  type RequestRow,
  type Triplet,
} from '../../engine/src/triplets';

// ---------------------------------------------------------------------------------------
// Helpers: a request's candidates are `${id}:${i}`, with distinct texts and, unless given,
// scores that fall with the index (candidate 0 is the ranker's favourite).

function req(id: string, texts: string[], opts: { scores?: number[]; prefix?: string; filePath?: string } = {}): RequestRow {
  return {
    id,
    time: 0,
    prefix: opts.prefix ?? `def f_${id}():\n`,
    suffix: '',
    languageId: 'python',
    filePath: opts.filePath ?? '/p/a.py',
    rankerVersion: 'builtin-1',
    candidates: texts.map((text, i) => ({ id: `${id}:${i}`, rank: i, text, score: opts.scores?.[i] ?? -i })),
  };
}

const texts = (n: number, stem = 'return x'): string[] => Array.from({ length: n }, (_, i) => `    ${stem} + ${i} * ${i + 1}\n`);

let clock = 0;
function ev(kind: EventRow['kind'], requestId: string, i: number, data: Record<string, unknown> | null = null, time = ++clock): EventRow {
  return { kind, requestId, candidateId: `${requestId}:${i}`, rank: i, time, data };
}

function outcome(requestId: string, i: number, passed: number, total: number, source = 'docstring'): OutcomeRow {
  return { requestId, candidateId: `${requestId}:${i}`, passed, total, source };
}

function pair(ts: readonly Triplet[], chosen: string, rejected: string): Triplet | undefined {
  return ts.find((t) => t.chosenId === chosen && t.rejectedId === rejected);
}

function build(requests: RequestRow[], events: EventRow[], outcomes: OutcomeRow[] = [], options?: BuildOptions) {
  return buildTriplets(requests, events, outcomes, options);
}

const close = (a: number | undefined, b: number): void => {
  assert.ok(a !== undefined && Math.abs(a - b) < 1e-9, `expected ${b}, got ${a}`);
};

// ---------------------------------------------------------------------------------------
// Sources.

test('accepted: over the shown ones (strong) and the never-shown ones (weaker)', () => {
  // Candidate 1 accepted after cycling past 0; 2 and 3 were returned but never shown.
  const r = req('a', texts(4), { scores: [1, 2, 0, -1] });
  const { triplets, stats } = build([r], [ev('shown', 'a', 0), ev('shown', 'a', 1), ev('accepted', 'a', 1)]);
  assert.equal(triplets.length, 3);
  const shown = pair(triplets, 'a:1', 'a:0');
  assert.equal(shown?.source, 'accepted_vs_shown');
  close(shown?.weight, DEFAULT_WEIGHTS.accepted_vs_shown);
  for (const x of ['a:2', 'a:3']) {
    const t = pair(triplets, 'a:1', x);
    assert.equal(t?.source, 'accepted_vs_unshown');
    close(t?.weight, DEFAULT_WEIGHTS.accepted_vs_unshown);
    assert.equal(t?.pairing, 'all');
  }
  assert.ok(DEFAULT_WEIGHTS.accepted_vs_unshown < DEFAULT_WEIGHTS.accepted_vs_shown);
  assert.deepEqual(stats.bySource, { accepted_vs_shown: 1, accepted_vs_unshown: 2 });
  assert.equal(stats.requests, 1);
  assert.equal(stats.events, 3);
  assert.equal(stats.triplets, 3);
  assert.equal(stats.train + stats.validation, 3);
  for (const t of triplets) {
    assert.equal(t.requestId, 'a');
    assert.equal(t.promptHash, promptHash(r.prefix, r.suffix, r.filePath));
    assert.ok(t.editDistance > 0);
  }
});

test('partial acceptance: weaker positive, scaled by the largest accepted share', () => {
  const r = req('p', texts(3), { scores: [3, 0, 1] });
  const events = [
    ev('shown', 'p', 0),
    ev('shown', 'p', 1),
    ev('partially_accepted', 'p', 0, { acceptedChars: 10, totalChars: 40, how: 'word' }),
    ev('partially_accepted', 'p', 0, { acceptedChars: 20, totalChars: 40, how: 'word' }),
  ];
  const { triplets } = build([r], events);
  close(pair(triplets, 'p:0', 'p:1')?.weight, DEFAULT_WEIGHTS.partial_vs_shown * 0.5);
  assert.equal(pair(triplets, 'p:0', 'p:1')?.source, 'partial_vs_shown');
  close(pair(triplets, 'p:0', 'p:2')?.weight, DEFAULT_WEIGHTS.partial_vs_unshown * 0.5);
  assert.equal(pair(triplets, 'p:0', 'p:2')?.source, 'partial_vs_unshown');
  assert.ok(DEFAULT_WEIGHTS.partial_vs_shown < DEFAULT_WEIGHTS.accepted_vs_shown);
  // A full acceptance outranks a partial one of the same candidate.
  const full = build([r], [...events, ev('accepted', 'p', 0)]).triplets;
  assert.equal(pair(full, 'p:0', 'p:1')?.source, 'accepted_vs_shown');
});

test('reject reasons weigh the negative: dismissed = typed over > cursor moved > timeout', () => {
  // Candidate 0 (top score) is accepted; the others are each rejected for one reason.
  const r = req('r', texts(5));
  const reasons = ['dismissed', 'typed_over', 'cursor_moved', 'timeout'];
  const events = [ev('accepted', 'r', 0), ...reasons.map((reason, k) => ev('rejected', 'r', k + 1, { reason }))];
  const { triplets } = build([r], events);
  const w = reasons.map((_, k) => pair(triplets, 'r:0', `r:${k + 1}`)?.weight ?? NaN);
  assert.deepEqual(
    triplets.map((t) => t.source),
    ['accepted_vs_shown', 'accepted_vs_shown', 'accepted_vs_shown', 'accepted_vs_shown'],
  );
  close(w[0], 1.0);
  close(w[1], 1.0);
  close(w[2], 0.6);
  close(w[3], 0.4);
  // Custom factors apply.
  const custom = build([r], events, [], { negativeFactors: { timeout: 0.1 } }).triplets;
  close(pair(custom, 'r:0', 'r:4')?.weight, 0.1);
});

test('rejections without a positive give no pair, unless the tests give a chosen one', () => {
  const r = req('n', texts(3));
  const events = [ev('shown', 'n', 0), ev('rejected', 'n', 0, { reason: 'dismissed' })];
  const none = build([r], events);
  assert.equal(none.triplets.length, 0);
  assert.equal(none.stats.skipped.request_without_pairs, 1);
  // Candidate 2 passes every test; the rejected one has no outcome: passing_vs_rejected.
  const withTests = build([r], events, [outcome('n', 2, 5, 5)]);
  assert.equal(withTests.triplets.length, 1);
  const t = withTests.triplets[0]!;
  assert.equal(t.chosenId, 'n:2');
  assert.equal(t.rejectedId, 'n:0');
  // The rejected one was scored above the chosen one: a hard negative.
  assert.equal(t.source, 'hard_negative');
  close(t.weight, DEFAULT_WEIGHTS.passing_vs_rejected * DEFAULT_WEIGHTS.hard_negative);
  // Scored below: the base source.
  const low = build([req('n', texts(3), { scores: [0, 1, 2] })], events, [outcome('n', 2, 5, 5)]).triplets[0];
  assert.equal(low?.source, 'passing_vs_rejected');
  close(low?.weight, DEFAULT_WEIGHTS.passing_vs_rejected);
});

// ---------------------------------------------------------------------------------------
// Survival.

test('survival: the latest check scales the positive; below the threshold it flips to a negative', () => {
  const r = req('s', texts(3));
  const base = [ev('shown', 's', 0), ev('accepted', 's', 0)];
  // Checks arrive out of order: the latest by afterMs (0.5) wins over the earlier 0.9.
  const scaled = build([r], [...base, ev('survival', 's', 0, { afterMs: 300_000, fraction: 0.5 }), ev('survival', 's', 0, { afterMs: 30_000, fraction: 0.9 })]);
  close(pair(scaled.triplets, 's:0', 's:1')?.weight, DEFAULT_WEIGHTS.accepted_vs_unshown * 0.5);
  // Exactly at the threshold it still counts (scaled).
  const edge = build([r], [...base, ev('survival', 's', 0, { afterMs: 1000, fraction: 0.3 })]);
  close(pair(edge.triplets, 's:0', 's:1')?.weight, DEFAULT_WEIGHTS.accepted_vs_unshown * 0.3);
  // Mostly deleted: no longer a positive.
  const dropped = build([r], [...base, ev('survival', 's', 0, { afterMs: 1000, fraction: 0.29 })]);
  assert.equal(dropped.triplets.length, 0);
  assert.equal(dropped.stats.skipped.positive_dropped_by_survival, 1);
  // ... and a negative: a candidate that passes the tests is now chosen over it.
  const flipped = build([r], [...base, ev('survival', 's', 0, { afterMs: 1000, fraction: 0.1 })], [outcome('s', 2, 3, 3)], {
    scores: new Map([['s:2', 10]]),
  });
  const t = pair(flipped.triplets, 's:2', 's:0');
  assert.equal(t?.source, 'passing_vs_rejected');
  close(t?.weight, DEFAULT_WEIGHTS.passing_vs_rejected);
  // ... and a partial acceptance of another candidate in the same request is chosen over it too.
  const partial = build([r], [...base, ev('survival', 's', 0, { afterMs: 1000, fraction: 0.1 }), ev('partially_accepted', 's', 1, { acceptedChars: 5, totalChars: 5, how: 'line' })], [], {
    scores: new Map([['s:1', 10]]),
  });
  assert.equal(pair(partial.triplets, 's:1', 's:0')?.source, 'partial_vs_shown');
  // A custom threshold.
  assert.equal(build([r], [...base, ev('survival', 's', 0, { afterMs: 1000, fraction: 0.5 })], [], { survivalDropBelow: 0.6 }).triplets.length, 0);
});

// ---------------------------------------------------------------------------------------
// Pass rates (AceCoder).

test('pass-rate pairs at the threshold boundaries', () => {
  const r = req('t', texts(2), { scores: [1, 0] });
  const run = (a: [number, number], b: [number, number], passRate?: BuildOptions['passRate']): Triplet[] =>
    build([r], [], [outcome('t', 0, ...a), outcome('t', 1, ...b)], { passRate }).triplets;
  // chosen ≥ 0.8, rejected ≤ 0.4, gap ≥ 0.4: all inclusive.
  const t = run([4, 5], [2, 5]);
  assert.equal(t.length, 1);
  assert.equal(t[0]?.source, 'pass_rate');
  assert.equal(t[0]?.chosenId, 't:0');
  close(t[0]?.weight, DEFAULT_WEIGHTS.pass_rate);
  assert.equal(run([79, 100], [0, 5]).length, 0, 'chosen just under 0.8');
  assert.equal(run([5, 5], [41, 100]).length, 0, 'rejected just over 0.4');
  // Direction follows the pass rates, not the input order.
  assert.equal(run([0, 5], [5, 5])[0]?.chosenId, 't:1');
  // The gap: 0.7 − 0.3 is 0.39999… in floating point and still meets 0.4.
  const loose = { chosenMin: 0.6, rejectedMax: 0.5, minGap: 0.4 };
  assert.equal(run([7, 10], [3, 10], loose).length, 1);
  assert.equal(run([7, 10], [31, 100], loose).length, 0);
  // Zero pass rates: kept by default, excluded with AceCoder's s_j > 0.
  assert.equal(run([5, 5], [0, 5]).length, 1);
  assert.equal(run([5, 5], [0, 5], { excludeZero: true }).length, 0);
  // Too few tests: the pass rate is unknown.
  assert.equal(run([2, 2], [0, 2], { minTests: 3 }).length, 0);
});

test('pass rates sum over test sources, the last row of a source wins, bad rows are skipped', () => {
  const r = req('u', texts(2), { scores: [1, 0] });
  const outcomes = [
    outcome('u', 0, 0, 4, 'synth'),
    outcome('u', 0, 4, 4, 'synth'), // replaces the first run of the same source
    outcome('u', 0, 4, 5, 'docstring'), // 8/9 overall
    outcome('u', 1, 1, 4, 'synth'),
    outcome('u', 1, 0, 1, 'docstring'), // 1/5 overall
    outcome('u', 1, 3, 0, 'broken'),
    outcome('zz', 0, 1, 1),
  ];
  const { triplets, stats } = build([r], [], outcomes);
  assert.equal(triplets.length, 1);
  assert.equal(triplets[0]?.chosenId, 'u:0');
  assert.equal(stats.skipped.bad_outcome, 1);
  assert.equal(stats.skipped.unknown_request, 1);
});

test('an accepted candidate that fails its tests is not a positive; tests can veto a behavioural pair', () => {
  const r = req('f', texts(3), { scores: [3, 2, 1] });
  const events = [ev('shown', 'f', 0), ev('accepted', 'f', 0)];
  const failing = build([r], events, [outcome('f', 0, 1, 5), outcome('f', 1, 5, 5)]);
  assert.equal(failing.stats.skipped.positive_fails_tests, 1);
  assert.ok(!failing.triplets.some((t) => t.chosenId === 'f:0'));
  // It still loses to the passing candidate on tests.
  assert.equal(pair(failing.triplets, 'f:1', 'f:0')?.source, 'hard_negative');
  // Accepted at 0.5, a negative at 1.0: the tests contradict the pair, which is dropped.
  const contra = build([r], events, [outcome('f', 0, 1, 2), outcome('f', 1, 2, 2)]);
  assert.equal(pair(contra.triplets, 'f:0', 'f:1'), undefined);
  assert.ok(pair(contra.triplets, 'f:0', 'f:2'));
  assert.equal(contra.stats.skipped.tests_contradict, 1);
});

// ---------------------------------------------------------------------------------------
// Hard negatives (RewardRanker).

test('hard negatives: a rejected or failing candidate scored above the chosen one', () => {
  // Candidate 2 accepted; 0 (rejected, scored higher) is hard; 1 (never shown, scored higher) is not.
  const r = req('h', texts(4), { scores: [5, 4, 3, 2] });
  const events = [ev('shown', 'h', 0), ev('rejected', 'h', 0, { reason: 'dismissed' }), ev('shown', 'h', 2), ev('accepted', 'h', 2)];
  const { triplets, stats } = build([r], events);
  const hard = pair(triplets, 'h:2', 'h:0');
  assert.equal(hard?.source, 'hard_negative');
  close(hard?.weight, DEFAULT_WEIGHTS.accepted_vs_shown * DEFAULT_WEIGHTS.hard_negative);
  assert.equal(pair(triplets, 'h:2', 'h:1')?.source, 'accepted_vs_unshown');
  assert.equal(pair(triplets, 'h:2', 'h:3')?.source, 'accepted_vs_unshown');
  assert.equal(stats.bySource.hard_negative, 1);
  // An unshown candidate that fails its tests and was scored higher is hard too.
  const withTests = build([r], events, [outcome('h', 1, 0, 3)]);
  assert.equal(pair(withTests.triplets, 'h:2', 'h:1')?.source, 'hard_negative');
  close(pair(withTests.triplets, 'h:2', 'h:1')?.weight, DEFAULT_WEIGHTS.accepted_vs_unshown * DEFAULT_WEIGHTS.hard_negative);
  // Pass-rate pairs: a failing candidate scored above the passing one.
  const tests = build([req('q', texts(2), { scores: [1, 2] })], [], [outcome('q', 0, 5, 5), outcome('q', 1, 0, 5)]);
  assert.equal(tests.triplets[0]?.source, 'hard_negative');
  close(tests.triplets[0]?.weight, DEFAULT_WEIGHTS.pass_rate * DEFAULT_WEIGHTS.hard_negative);
  // Re-scored with the current ranker: the rejected one is now below the chosen one.
  const rescored = build([r], events, [], { scores: new Map([['h:2', 9]]) });
  assert.equal(pair(rescored.triplets, 'h:2', 'h:0')?.source, 'accepted_vs_shown');
  // Ties are not hard.
  const tie = build([req('h', texts(4), { scores: [1, 1, 1, 1] })], events);
  assert.equal(pair(tie.triplets, 'h:2', 'h:0')?.source, 'accepted_vs_shown');
});

// ---------------------------------------------------------------------------------------
// Pairing strategies.

/** One accepted candidate (0) and 12 never-shown ones at increasing edit distances. */
function bigRequest(): RequestRow {
  const chosen = '    total = sum(x for x in xs if x % 2 == 0)\n    return total\n';
  const negatives = Array.from({ length: 12 }, (_, k) => chosen.slice(0, chosen.length - 2 * (k + 1)) + 'q'.repeat(k + 1));
  return req('b', [chosen, ...negatives], { scores: [10, ...negatives.map((_, k) => -k)] });
}

test('large pools keep the Levenshtein-nearest and seeded random negatives; small ones keep all', () => {
  const r = bigRequest();
  const events = [ev('shown', 'b', 0), ev('accepted', 'b', 0), ev('shown', 'b', 12), ev('rejected', 'b', 12, { reason: 'typed_over' })];
  const pairing = { allUpTo: 4, nearest: 2, random: 3 };
  const { triplets, stats } = build([r], events, [], { pairing, seed: 7 });
  // The shown, rejected negative is always kept; the 11 unshown ones are thinned to 2 + 3.
  assert.equal(pair(triplets, 'b:0', 'b:12')?.pairing, 'all');
  const nearest = triplets.filter((t) => t.pairing === 'nearest');
  const random = triplets.filter((t) => t.pairing === 'random');
  assert.deepEqual(
    nearest.map((t) => t.rejectedId),
    ['b:1', 'b:2'],
  );
  assert.equal(random.length, 3);
  for (const t of random) assert.ok(!['b:1', 'b:2', 'b:12'].includes(t.rejectedId));
  assert.equal(new Set(random.map((t) => t.rejectedId)).size, 3);
  assert.equal(triplets.length, 6);
  assert.equal(stats.skipped.sampled_out, 11 - 5);
  assert.deepEqual(stats.byPairing, { all: 1, nearest: 2, random: 3 });
  for (const t of triplets) assert.equal(t.editDistance, levenshtein(r.candidates[0]!.text, r.candidates.find((c) => c.id === t.rejectedId)!.text));
  // Deterministic for a seed; other seeds pick other random negatives.
  assert.deepEqual(build([r], events, [], { pairing, seed: 7 }).triplets, triplets);
  const picks = new Set<string>();
  for (let seed = 0; seed < 20; seed++) {
    picks.add(
      build([r], events, [], { pairing, seed })
        .triplets.filter((t) => t.pairing === 'random')
        .map((t) => t.rejectedId)
        .sort()
        .join(','),
    );
  }
  assert.ok(picks.size > 1, 'different seeds should be able to pick different negatives');
  // A pool at the limit is kept whole.
  const whole = build([r], events, [], { pairing: { allUpTo: 11, nearest: 2, random: 3 } });
  assert.equal(whole.triplets.length, 12);
  assert.ok(whole.triplets.every((t) => t.pairing === 'all'));
});

test('the same input always gives the same output', () => {
  const r = bigRequest();
  const events = [ev('accepted', 'b', 0)];
  const a = build([r], events, [], { pairing: { allUpTo: 2, nearest: 1, random: 2 } });
  const b = build([r], events, [], { pairing: { allUpTo: 2, nearest: 1, random: 2 } });
  assert.deepEqual(a, b);
});

// ---------------------------------------------------------------------------------------
// Identical texts, dedup, contradictions.

test('identical texts (after trimming) are never paired', () => {
  const r = req('i', ['    return a\n', '    return a', '  return b\n']);
  const { triplets, stats } = build([r], [ev('accepted', 'i', 0)]);
  assert.equal(pair(triplets, 'i:0', 'i:1'), undefined);
  assert.ok(pair(triplets, 'i:0', 'i:2'));
  assert.equal(stats.skipped.identical_text, 1);
  for (const t of triplets) assert.notEqual(t.editDistance, 0);
});

test('duplicates for the same prompt keep the heaviest; contradictions resolve by weight', () => {
  const t3 = texts(3);
  const same = { prefix: 'def same():\n', filePath: '/p/same.py' };
  const partial = req('d1', t3, same);
  const full = req('d2', t3, same);
  const events = [
    ev('partially_accepted', 'd1', 0, { acceptedChars: 1, totalChars: 2, how: 'word' }),
    ev('shown', 'd2', 0),
    ev('accepted', 'd2', 0),
  ];
  const { triplets, stats } = build([partial, full], events);
  assert.equal(triplets.length, 2);
  assert.ok(triplets.every((t) => t.requestId === 'd2' && t.source === 'accepted_vs_unshown'));
  assert.equal(stats.skipped.duplicate, 2);
  // Another prompt: no dedup.
  const other = req('d3', t3, { prefix: 'def other():\n' });
  assert.equal(build([partial, other], [...events.slice(0, 1), ev('accepted', 'd3', 0)]).triplets.length, 4);
  // The reverse preference for the same prompt: the heavier side wins, a tie drops both.
  const rev = req('d4', t3, same);
  const heavier = build([full, rev], [ev('accepted', 'd2', 0), ev('partially_accepted', 'd4', 1, { acceptedChars: 1, totalChars: 2, how: 'word' })]);
  assert.ok(pair(heavier.triplets, 'd2:0', 'd2:1'));
  assert.ok(!heavier.triplets.some((t) => t.chosenId === 'd4:1' && t.rejectedId === 'd4:0'));
  assert.equal(heavier.stats.skipped.contradicted, 1);
  const tie = build([full, rev], [ev('accepted', 'd2', 0), ev('accepted', 'd4', 1)]);
  assert.equal(pair(tie.triplets, 'd2:0', 'd2:1'), undefined);
  assert.equal(pair(tie.triplets, 'd4:1', 'd4:0'), undefined);
  assert.equal(tie.stats.skipped.contradicted, 2);
});

test('events for unknown requests or candidates and malformed data are counted, not fatal', () => {
  const r = req('k', texts(2));
  const events: EventRow[] = [
    ev('accepted', 'nope', 0),
    { kind: 'accepted', requestId: 'k', candidateId: 'k:9', rank: 9, time: 1, data: null },
    ev('partially_accepted', 'k', 0, { acceptedChars: 'x', totalChars: 3 }),
    ev('survival', 'k', 0, { afterMs: 5 }),
    ev('rejected', 'k', 1, null),
    ev('accepted', 'k', 0),
  ];
  const { triplets, stats } = build([r], events);
  assert.equal(stats.skipped.unknown_request, 1);
  assert.equal(stats.skipped.unknown_candidate, 1);
  assert.equal(stats.skipped.bad_event_data, 2);
  // A rejection without a reason counts like the weakest reason.
  close(pair(triplets, 'k:0', 'k:1')?.weight, 0.4);
});

// ---------------------------------------------------------------------------------------
// Split and hashing.

test('promptHash is stable, 16 hex digits, and sensitive to each part', () => {
  const h = promptHash('def f():\n', '\n', '/p/a.py');
  assert.match(h, /^[0-9a-f]{16}$/);
  assert.equal(h, promptHash('def f():\n', '\n', '/p/a.py'));
  assert.equal(h, '18436d210cc6e6a9');
  assert.notEqual(promptHash('ab', 'c'), promptHash('a', 'bc'));
  assert.notEqual(h, promptHash('def f():\n', '\n', '/p/b.py'));
  assert.equal(promptHash('x', 'y'), promptHash('x', 'y', ''));
});

test('the split is a stable function of the prompt hash, near the asked fraction', () => {
  let validation = 0;
  for (let i = 0; i < 10_000; i++) {
    const h = promptHash(`def f${i}():\n`, '');
    const side = splitOf(h, 0.1);
    assert.equal(splitOf(h, 0.1), side);
    if (side === 'validation') validation++;
  }
  assert.ok(validation > 850 && validation < 1150, `${validation} of 10000 in validation`);
  assert.equal(splitOf('abc', 0), 'train');
  assert.equal(splitOf('abc', 1), 'validation');
  // Requests of one prompt land on one side.
  const same = { prefix: 'def same():\n' };
  const rows = Array.from({ length: 20 }, (_, k) => req(`s${k}`, texts(2, `v${k}`), k % 2 === 0 ? same : {}));
  const { triplets } = build(
    rows,
    rows.map((r) => ev('accepted', r.id, 0)),
    [],
    { validationFraction: 0.5 },
  );
  for (const t of triplets) assert.equal(t.split, splitOf(t.promptHash, 0.5));
  const sides = new Set(triplets.filter((t) => Number(t.requestId.slice(1)) % 2 === 0).map((t) => t.split));
  assert.equal(sides.size, 1);
});

// ---------------------------------------------------------------------------------------
// Levenshtein.

function naive(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

test('levenshtein agrees with the textbook algorithm on random strings, short and long', () => {
  let s = 12345;
  const rand = (): number => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
  const alphabets = ['ab', 'abc', 'abcdefghij', ' \n\tdefx=():', 'aé😀z'];
  const str = (n: number, al: string): string => Array.from({ length: n }, () => al[Math.floor(rand() * al.length)]).join('');
  for (let k = 0; k < 1500; k++) {
    const al = alphabets[k % alphabets.length]!;
    const maxLen = [8, 40, 80, 200][k % 4]!;
    const a = str(Math.floor(rand() * maxLen), al);
    // Half the time b is an edit of a (shared prefix/suffix), else independent.
    const b = k % 2 === 0 ? str(Math.floor(rand() * maxLen), al) : a.slice(0, Math.floor(rand() * a.length)) + str(Math.floor(rand() * 5), al) + a.slice(Math.floor(rand() * a.length));
    const d = naive(a, b);
    assert.equal(levenshtein(a, b), d, `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    assert.equal(levenshtein(b, a), d);
    const max = Math.floor(rand() * (d + 3));
    assert.equal(levenshtein(a, b, max), d > max ? max + 1 : d, `max ${max}`);
  }
  assert.equal(levenshtein('', ''), 0);
  assert.equal(levenshtein('', 'abc'), 3);
  assert.equal(levenshtein('kitten', 'sitting'), 3);
  assert.equal(levenshtein('x'.repeat(100), 'y'.repeat(100)), 100);
  assert.equal(levenshtein('x'.repeat(100), 'x'.repeat(40), 10), 11);
  assert.equal(levenshtein('abc', 'abd', 0), 1);
});

test('levenshtein on 2 KB candidates is fast', () => {
  const a = Array.from({ length: 2000 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz (){}=\n'[(i * 7919) % 33]).join('');
  const b = Array.from({ length: 1800 }, (_, i) => 'abcdefghijklmnopqrstuvwxyz (){}=\n'[(i * 104729) % 33]).join('');
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) levenshtein(a, b);
  const per = (performance.now() - t0) / 50;
  assert.ok(per < 20, `${per.toFixed(2)} ms per 2 KB pair`);
});
