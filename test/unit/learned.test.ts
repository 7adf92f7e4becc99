/** Unit tests of the cross-validated learned ranker of `winnow bench` (engine/src/bench/learned.ts), on synthetic outcomes. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assignFolds, buildTaskCands, runLearned, type LearnedFigures, type LearnTask, type SampleRun, type TestOutcome } from '../../engine/src/bench/learned';
import { mulberry32 } from '../../engine/src/random';

const PREFIX = (name: string) => `def ${name}(x):\n    """Add one.\n\n    >>> ${name}(1)\n    2\n    """\n`;
const ok = (passed: boolean): TestOutcome => ({ passed, timedOut: false, raised: false });

/**
 * Synthetic tasks: `samples` samples each, drawn from 6 distinct texts per task; a text is
 * correct with a task-dependent chance; correct texts pass the docstring example and most
 * model-written tests, wrong ones fail some (and sometimes the example too).
 */
function syntheticTasks(n: number, samples = 20, seed = 3): LearnTask[] {
  const rand = mulberry32(seed);
  return Array.from({ length: n }, (_, t) => {
    const name = `f${t}`;
    const texts = Array.from({ length: 6 }, (_, k) => `    return x + ${k === 0 ? 1 : k + 1}${' '.repeat(k)}\n` + (k % 2 ? '    # note\n' : ''));
    const correct = texts.map((_, k) => k === 0 || (k === 1 && t % 3 === 0));
    const gen = 4;
    const pick = Array.from({ length: samples }, () => Math.min(5, Math.floor(rand() * rand() * 7)));
    const runs: SampleRun[] = pick.map((k) => {
      const c = correct[k] === true;
      return {
        hidden: c,
        syntaxError: false,
        programError: false,
        programTimedOut: false,
        examples: [ok(c || rand() < 0.3)],
        generated: Array.from({ length: gen }, (_, g) => ok(c ? g < 3 : (g + k) % 3 === 0)),
      };
    });
    return {
      taskId: `T/${t}`,
      prefix: PREFIX(name),
      texts: pick.map((k) => texts[k] as string),
      runs,
      exampleTexts: [`assert ${name}(1) == 2`],
      generatedTexts: Array.from({ length: gen }, (_, g) => `assert ${name}(${g}) == ${g + 1}`),
      generatedCounts: [3, 2, 1, 1],
    };
  });
}

/** Figures without the wall-clock ones. */
function timeless(f: LearnedFigures): unknown {
  return JSON.parse(JSON.stringify(f, (k, v) => (k === 'trainMsPerFold' || k === 'wallMs' ? undefined : v)));
}

const OPTS = { folds: 3, rounds: 1, families: ['linear'] as const };

test('folds: every task in exactly one fold, sizes within one, seeded, independent of input order', () => {
  const ids = Array.from({ length: 23 }, (_, i) => `HumanEval/${i}`);
  const a = assignFolds(ids, 5, 1);
  assert.equal(a.length, 23);
  const sizes = [0, 1, 2, 3, 4].map((f) => a.filter((x) => x === f).length);
  assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `sizes ${sizes}`);
  assert.deepEqual(assignFolds(ids, 5, 1), a);
  assert.notDeepEqual(assignFolds(ids, 5, 2), a);
  const reversed = assignFolds([...ids].reverse(), 5, 1).reverse();
  assert.deepEqual(reversed, a);
});

test('candidates: samples deduplicated as the engine merges them, votes counted, dropped samples never candidates', () => {
  const [t] = syntheticTasks(1, 12);
  const task = t as LearnTask;
  task.texts[0] = `${task.texts[1] as string}  \n\n`; // trailing blanks: the same candidate
  task.runs[0] = { ...(task.runs[1] as SampleRun) };
  task.texts[2] = undefined;
  const tc = buildTaskCands(task);
  assert.equal(tc.sampleCand[0], tc.sampleCand[1]);
  assert.equal(tc.sampleCand[2], -1);
  assert.equal(tc.cands.reduce((a, c) => a + c.votes, 0), 11);
  assert.equal(new Set(task.texts.filter((x) => x !== undefined).map((x) => (x as string).replace(/\s+$/, ''))).size, tc.cands.length);
});

test('cross-validation: no test-fold task is trained or early-stopped on; deterministic for a seed; picks for every method', () => {
  const tasks = syntheticTasks(12);
  const a = runLearned(tasks, { ...OPTS, seeds: [7] });
  assert.equal(a.figures.checks.testTaskInTraining, 0);
  assert.equal(a.figures.checks.foldsDisjoint, true);
  assert.deepEqual(a.figures.checks.foldSizes, [4, 4, 4]);
  assert.ok(a.figures.checks.earlyStopTasksPerFold.every((n) => n >= 1));
  const b = runLearned(tasks, { ...OPTS, seeds: [7] });
  assert.deepEqual(timeless(b.figures), timeless(a.figures));
  assert.deepEqual(b.picks, a.picks);
  const methods = new Set(a.picks.map((p) => p.method));
  for (const m of ['ranker', 'ranker@round0', 'ranker@round1', 'ranker_no_docstring', 'ranker_no_docstring@round0', 'ranker_no_docstring@round1', 'builtin', 'builtin_no_docstring']) {
    assert.ok(methods.has(m), `picks for ${m}`);
    assert.equal(a.picks.filter((p) => p.method === m).length, 12);
  }
  for (const p of a.picks) assert.deepEqual([...p.ranking].sort((x, y) => x - y), Array.from({ length: 20 }, (_, i) => i));
  // The last round's picks are `ranker`.
  const byTask = (m: string) => a.picks.filter((p) => p.method === m).map((p) => p.ranking);
  assert.deepEqual(byTask('ranker'), byTask('ranker@round1'));
  const f = a.figures.figures.all?.linear;
  assert.equal(f?.length, 2);
  assert.ok((f?.[0]?.pass1.mean ?? -1) >= 0 && (f?.[0]?.pass1.mean ?? 101) <= 100);
  // Another seed: other folds.
  const c = runLearned(tasks, { ...OPTS, seeds: [8] });
  assert.notDeepEqual(timeless(c.figures), timeless(a.figures));
});

test("cross-validation: a fold's labels never reach the models that score it", () => {
  const tasks = syntheticTasks(12);
  const seed = 5;
  const folds = assignFolds(tasks.map((t) => t.taskId), 3, seed);
  const flip = (inFold: boolean) => tasks.map((t, i) => ((folds[i] === 0) === inFold ? { ...t, runs: t.runs.map((r) => ({ ...r, hidden: !r.hidden })) } : t));
  const fold0 = new Set(tasks.flatMap((t, i) => (folds[i] === 0 ? [t.taskId] : [])));
  const picksOfFold0 = (r: ReturnType<typeof runLearned>) => r.picks.filter((p) => p.method.startsWith('ranker') && fold0.has(p.taskId));
  const a = runLearned(tasks, { ...OPTS, seeds: [seed] });
  // Every label of fold 0 flipped: the models that score fold 0 never saw them, so its picks stay.
  assert.deepEqual(picksOfFold0(runLearned(flip(true), { ...OPTS, seeds: [seed] })), picksOfFold0(a));
  // The other folds' labels flipped: those models learn the opposite, and fold 0's picks change (the check above is not vacuous).
  assert.notDeepEqual(picksOfFold0(runLearned(flip(false), { ...OPTS, seeds: [seed] })), picksOfFold0(a));
});

test('ranker_no_docstring: nothing computed from the docstring examples', () => {
  const tasks = syntheticTasks(12);
  const inverted = tasks.map((t) => ({ ...t, runs: t.runs.map((r) => ({ ...r, examples: r.examples.map((e) => ({ ...e, passed: !e.passed, raised: !e.passed })) })) }));
  // The rows: `all` changes with the examples' outcomes, `noDocstring` does not.
  const x = buildTaskCands(tasks[0] as LearnTask);
  const y = buildTaskCands(inverted[0] as LearnTask);
  assert.deepEqual(y.rows.noDocstring, x.rows.noDocstring);
  assert.notDeepEqual(y.rows.all, x.rows.all);
  // Nor without any example at all.
  const none = buildTaskCands({ ...(tasks[0] as LearnTask), exampleTexts: [], runs: (tasks[0] as LearnTask).runs.map((r) => ({ ...r, examples: [] })) });
  assert.deepEqual(none.rows.noDocstring, x.rows.noDocstring);
  // So are its picks and figures.
  const a = runLearned(tasks, { ...OPTS, seeds: [2] });
  const b = runLearned(inverted, { ...OPTS, seeds: [2] });
  const only = (r: typeof a) => r.picks.filter((p) => p.method.startsWith('ranker_no_docstring') || p.method === 'builtin_no_docstring');
  assert.deepEqual(only(b), only(a));
  const noDoc = (r: typeof a) => (r.figures.figures.noDocstring?.linear ?? []).map((q) => [q.pass1.mean, q.pairwiseAccuracy.mean]);
  assert.deepEqual(noDoc(b), noDoc(a));
  assert.deepEqual(b.figures.builtinNoDocstring, a.figures.builtinNoDocstring);
});

test('seeds: mean, min and max over seeds', () => {
  const tasks = syntheticTasks(9);
  const r = runLearned(tasks, { ...OPTS, rounds: 0, seeds: [1, 2, 3] });
  const s = r.figures.figures.all?.linear?.[0]?.pass1;
  assert.ok(s);
  assert.equal(s.values.length, 3);
  assert.ok(s.min <= s.mean && s.mean <= s.max);
  assert.ok(Math.abs(s.mean - s.values.reduce((a, b) => a + b, 0) / 3) < 1e-9);
  // Picks are the first seed's.
  const one = runLearned(tasks, { ...OPTS, rounds: 0, seeds: [1] });
  assert.deepEqual(r.picks, one.picks);
});
