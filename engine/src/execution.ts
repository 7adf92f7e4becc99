/**
 * Execution at inference: run the candidates of one completion, in the sandbox, against the
 * tests found for the function being written, within what is left of the latency budget, and
 * turn the outcomes into ranker features (see ExecFeatures in features.ts).
 *
 * Tests come from three places:
 * - `docstring`: the examples in the docstring or comments above the cursor;
 * - `project`: literal asserts on the function in the project's own test files (found by the
 *   server by naming convention, sent as `relatedTests`);
 * - `synthesized`: asserts the generator wrote when asked (CodeT style). Model-written tests
 *   are often wrong, so they count only through agreement (CodeT's dual agreement: candidates
 *   grouped by the set of tests they pass, scored by tests passed × √group size), never by
 *   raw pass counts.
 * Docstring and project tests are "trusted": their pass fraction is a feature of its own.
 *
 * Runs that are not done when the reply leaves go on in the background; every outcome is
 * stored as a test outcome per source, which the triplet builder turns into pass-rate pairs.
 *
 * Only called when the server asked for it: a trusted workspace whose user allowed
 * execution (winnow.execution.enabled). Never runs anything otherwise.
 */
import { runJavaScriptTests, runPythonTests, runTypeScriptTests, type TestCase, type TestRunResult } from './exec/languages';
import { enclosingFunction, programFor } from './exec/programs';
import type { ExecFeatures } from './features';
import type { Candidate, ExecutionSummary, RelatedTestFile } from './protocol';
import { consensusSets } from './testsources/codet';
import { examplesToAsserts, extractExamples } from './testsources/docstring';
import type { GeneratedAssert } from './testsources/generated';
import { projectTestAsserts } from './testsources/project';

export type TestSource = 'docstring' | 'project' | 'synthesized';

export interface ExecutionInput {
  prefix: string;
  suffix: string;
  languageId: string;
  /** `votes`: how many raw samples the candidate stands for (CodeT counts samples in its groups); default 1. */
  candidates: readonly (Pick<Candidate, 'id' | 'text'> & { votes?: number })[];
  /** Time left for execution before the reply must go, in ms. */
  budgetMs: number;
  signal?: AbortSignal;
  relatedTests?: readonly RelatedTestFile[];
  /** Model-written tests, being generated alongside the candidates (waited for within the budget). */
  synthesized?: Promise<readonly GeneratedAssert[]>;
}

export interface CandidateOutcome {
  candidateId: string;
  /** Trusted tests (docstring + project) passed / run. */
  passed: number;
  total: number;
  /** Passed / run per source. */
  bySource: Partial<Record<TestSource, { passed: number; total: number }>>;
  error?: 'syntax' | 'timeout' | 'exception';
  /** Per model-written test, whether it passed (the agreement's input). */
  synthesizedPassed: boolean[];
  /** Raw samples it stands for. */
  votes: number;
}

export interface ExecutionResult {
  summary: ExecutionSummary;
  /** Outcomes of the runs that finished within the budget, by candidate id. */
  outcomes: Map<string, CandidateOutcome>;
  /** Ranker features of the candidates whose run finished within the budget, by candidate id. */
  features: Map<string, ExecFeatures>;
  /** Settles when every run has finished (those past the budget included). */
  all: Promise<CandidateOutcome[]>;
  /** The features every outcome implies, once all runs have finished (agreement among all of them). */
  allFeatures: Promise<Map<string, ExecFeatures>>;
}

const RUNNERS: Record<string, (program: string, tests: readonly TestCase[], opts: Parameters<typeof runPythonTests>[2]) => Promise<TestRunResult>> = {
  python: runPythonTests,
  javascript: runJavaScriptTests,
  javascriptreact: runJavaScriptTests,
  typescript: runTypeScriptTests,
  typescriptreact: runTypeScriptTests,
};

/** Runnable languages and the language their tests are written in (docstring.ts's). */
const TEST_LANGUAGE: Record<string, string> = { python: 'python', javascript: 'javascript', javascriptreact: 'javascript', typescript: 'typescript', typescriptreact: 'typescript' };

/** Most model-written tests run per request. */
export const MAX_SYNTHESIZED_TESTS = 20;
/** Most project tests run per request. */
export const MAX_PROJECT_TESTS = 20;

function outcomeOf(candidateId: string, votes: number, r: TestRunResult, sources: readonly TestSource[]): CandidateOutcome {
  const bySource: CandidateOutcome['bySource'] = {};
  const synthesizedPassed: boolean[] = [];
  let passed = 0;
  let total = 0;
  sources.forEach((source, i) => {
    const ok = r.results[i]?.passed === true;
    const s = (bySource[source] ??= { passed: 0, total: 0 });
    s.total++;
    if (ok) s.passed++;
    if (source === 'synthesized') synthesizedPassed.push(ok);
    else {
      total++;
      if (ok) passed++;
    }
  });
  // A failed assertion is a wrong answer, not an error; anything else raised is.
  const raised = r.results.some((t) => !t.passed && t.error !== undefined && !/^AssertionError/.test(t.error));
  const error = r.syntaxError !== undefined ? 'syntax' : r.timedOut ? 'timeout' : r.programError !== undefined || raised ? 'exception' : undefined;
  const all = passed === total && synthesizedPassed.every(Boolean);
  return { candidateId, passed, total, bySource, synthesizedPassed, votes, ...(error && !all ? { error } : {}) };
}

/**
 * The consensus sets of the finished outcomes over the model-written tests, as CodeT counts:
 * candidates weighed by the samples they stand for, tests by how often they were generated.
 */
function agreementSets(outcomes: readonly CandidateOutcome[], testWeights?: readonly number[]) {
  return consensusSets(
    outcomes.map((o) => o.synthesizedPassed),
    { candidateWeights: outcomes.map((o) => o.votes), ...(testWeights ? { testWeights } : {}) },
  );
}

/** Ranker features of the finished outcomes: agreement is computed among them (`testWeights`: per model-written test). */
export function executionFeatures(outcomes: readonly CandidateOutcome[], testWeights?: readonly number[]): Map<string, ExecFeatures> {
  const sets = agreementSets(outcomes, testWeights);
  const best = Math.max(0, ...sets.map((s) => s.score));
  const samples = outcomes.reduce((a, o) => a + o.votes, 0);
  const agreement = new Array<number>(outcomes.length).fill(0);
  const cluster = new Array<number>(outcomes.length).fill(0);
  const isBest = new Array<boolean>(outcomes.length).fill(false);
  for (const s of sets) {
    const size = s.candidates.reduce((a, c) => a + (outcomes[c]?.votes ?? 0), 0);
    for (const c of s.candidates) {
      agreement[c] = best > 0 ? s.score / best : 0;
      cluster[c] = samples > 0 ? size / samples : 0;
      isBest[c] = best > 0 && s.score === best;
    }
  }
  const hasSynthesized = outcomes.some((o) => o.synthesizedPassed.length > 0);
  return new Map(
    outcomes.map((o, i) => [
      o.candidateId,
      {
        trustedTotal: o.total,
        trustedPassed: o.passed,
        agreement: agreement[i] ?? 0,
        clusterFrac: hasSynthesized ? (cluster[i] ?? 0) : 0,
        agreementBest: isBest[i] === true,
        syntaxError: o.error === 'syntax',
        timedOut: o.error === 'timeout',
        exception: o.error === 'exception',
      },
    ]),
  );
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)).unref());

export async function executeCandidates(input: ExecutionInput): Promise<ExecutionResult> {
  const t0 = performance.now();
  const outcomes = new Map<string, CandidateOutcome>();
  const skipped = (why: string): ExecutionResult => ({
    summary: { tests: 0, ran: 0, passedAll: 0, background: 0, skipped: why },
    outcomes,
    features: new Map(),
    all: Promise.resolve([]),
    allFeatures: Promise.resolve(new Map()),
  });
  const run = RUNNERS[input.languageId];
  const testLanguage = TEST_LANGUAGE[input.languageId];
  if (!run || !testLanguage) return skipped(`running ${input.languageId} candidates is not supported (Python, JavaScript and TypeScript are)`);
  const fn = enclosingFunction(input.prefix, input.languageId);
  if (!fn) return skipped('the cursor is not in a function');
  if (!fn.topLevel) return skipped(`${fn.name}() is a method or a nested function: only top-level functions are run`);
  if (input.candidates.length === 0) return skipped('no candidates');

  const docstring = examplesToAsserts(extractExamples(input.prefix.slice(fn.from), fn.name, testLanguage), testLanguage);
  const project = input.relatedTests?.length ? projectTestAsserts(input.relatedTests, fn.name, input.languageId, MAX_PROJECT_TESTS) : [];
  // The model-written tests are waited for within the budget (they were asked for alongside the candidates).
  let synthesized: GeneratedAssert[] = [];
  if (input.synthesized) {
    const left = input.budgetMs - (performance.now() - t0);
    const got = await Promise.race([input.synthesized.catch(() => [] as readonly GeneratedAssert[]), sleep(left / 2).then(() => [] as readonly GeneratedAssert[])]);
    const trusted = new Set([...docstring, ...project]);
    synthesized = got.filter((g) => !trusted.has(g.text)).slice(0, MAX_SYNTHESIZED_TESTS);
  }
  const seen = new Set<string>();
  const tests: { source: TestSource; text: string; weight: number }[] = [];
  const add = (source: TestSource, text: string, weight: number) => {
    if (seen.has(text)) return;
    seen.add(text);
    tests.push({ source, text, weight });
  };
  for (const text of docstring) add('docstring', text, 1);
  for (const text of project) add('project', text, 1);
  for (const g of synthesized) add('synthesized', g.text, g.count);
  const synthesizedWeights = tests.filter((t) => t.source === 'synthesized').map((t) => t.weight);
  if (tests.length === 0) return skipped(`no tests for ${fn.name}(): no examples in its docstring, no project tests, no model-written tests`);
  const sources = tests.map((t) => t.source);
  // JavaScript asserts (assert.deepStrictEqual, ...) get node:assert/strict, local to each test.
  const prelude = testLanguage === 'python' ? '' : "const assert = require('node:assert/strict');\n";
  const cases: TestCase[] = tests.map((t) => ({ source: prelude + t.text, timeoutMs: t.source === 'synthesized' ? 500 : 1000 }));

  let containment: string[] = [];
  const runs = input.candidates.map((c) => {
    const program = programFor(input.languageId, input.prefix, fn, c.text, input.suffix);
    if (program === undefined) return Promise.reject(new Error(`no program for ${c.id}`));
    return run(program, cases, {
      perTestMs: 1000,
      programMs: 2000,
      totalMs: 5000,
      moduleName: 'winnow_candidate',
      ...(input.signal ? { signal: input.signal } : {}),
    }).then((r) => {
      containment = r.containment;
      const o = outcomeOf(c.id, c.votes ?? 1, r, sources);
      outcomes.set(c.id, o);
      return o;
    });
  });
  const all = Promise.allSettled(runs).then((rs) => rs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  // Wait for all, or for the budget, whichever comes first.
  await Promise.race([all, sleep(input.budgetMs - (performance.now() - t0))]);
  const finished = [...outcomes.values()];
  const count = (s: TestSource) => sources.filter((x) => x === s).length;
  return {
    summary: {
      tests: tests.length,
      bySource: { docstring: count('docstring'), project: count('project'), synthesized: count('synthesized') },
      ran: finished.length,
      passedAll: finished.filter((o) => o.total > 0 && o.passed === o.total).length,
      ...(count('synthesized') > 0 ? { largestAgreement: Math.max(0, ...agreementSets(finished, synthesizedWeights).filter((s) => s.score > 0).map((s) => s.candidates.length)) } : {}),
      background: input.candidates.length - finished.length,
      containment,
    },
    outcomes,
    features: executionFeatures(finished, synthesizedWeights),
    all,
    allFeatures: all.then((outs) => executionFeatures(outs, synthesizedWeights)),
  };
}
