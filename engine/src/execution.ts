/**
 * Execution at inference: run the candidates of one completion against the examples in the
 * docstring above the cursor, in the sandbox, within what is left of the latency budget.
 * Candidates that pass every example are ranked first (stable by ranker score). Runs that
 * are not done when the reply leaves go on in the background; every outcome is stored as a
 * test outcome (source `docstring`), which the triplet builder turns into pass-rate pairs.
 *
 * Only called when the server asked for it: a trusted workspace whose user allowed
 * execution (winnow.execution.enabled). Never runs anything otherwise.
 */
import { runPythonTests, type TestRunResult } from './exec/languages';
import type { Candidate, ExecutionSummary } from './protocol';
import { examplesToAsserts, extractExamples } from './tests/docstring';

export interface ExecutionInput {
  prefix: string;
  suffix: string;
  languageId: string;
  candidates: readonly Candidate[];
  /** Time left for execution before the reply must go, in ms. */
  budgetMs: number;
  signal?: AbortSignal;
}

export interface CandidateOutcome {
  candidateId: string;
  passed: number;
  total: number;
  error?: 'syntax' | 'timeout' | 'exception';
}

export interface ExecutionResult {
  summary: ExecutionSummary;
  /** Outcomes of the runs that finished within the budget, by candidate id. */
  outcomes: Map<string, CandidateOutcome>;
  /** Settles when every run has finished (those past the budget included). */
  all: Promise<CandidateOutcome[]>;
}

/** The function whose body the cursor is in, and the text from its `def` on (its docstring). */
export function enclosingPythonFunction(prefix: string): { name: string; from: number; indent: number } | undefined {
  const re = /^([ \t]*)(?:async[ \t]+)?def[ \t]+([A-Za-z_]\w*)[ \t]*\(/gm;
  let last: { name: string; from: number; indent: number } | undefined;
  for (let m = re.exec(prefix); m; m = re.exec(prefix)) last = { name: m[2] ?? '', from: m.index, indent: (m[1] ?? '').length };
  return last;
}

/**
 * The program a candidate is run as: the file's top-level imports, then the function from
 * its `def` with the candidate as its body. The rest of the file is not run (its top level
 * could do anything, and the prefix window may start mid-block).
 */
export function pythonProgram(prefix: string, fnFrom: number, candidate: string): string {
  const imports = prefix
    .slice(0, fnFrom)
    .split('\n')
    .filter((l) => /^(import|from)\s+[\w.]+/.test(l) && !l.trimEnd().endsWith('('))
    .join('\n');
  return `${imports}${imports ? '\n\n' : ''}${prefix.slice(fnFrom)}${candidate}\n`;
}

function outcomeOf(candidateId: string, r: TestRunResult, total: number): CandidateOutcome {
  const passed = r.results.filter((t) => t.passed).length;
  // A failed assertion is a wrong answer, not an error; anything else raised is.
  const raised = r.results.some((t) => !t.passed && t.error !== undefined && !/^AssertionError/.test(t.error));
  const error = r.syntaxError !== undefined ? 'syntax' : r.timedOut ? 'timeout' : r.programError !== undefined || raised ? 'exception' : undefined;
  return { candidateId, passed, total, ...(error && passed < total ? { error } : {}) };
}

export async function executeCandidates(input: ExecutionInput): Promise<ExecutionResult> {
  const outcomes = new Map<string, CandidateOutcome>();
  const skipped = (why: string): ExecutionResult => ({
    summary: { tests: 0, ran: 0, passedAll: 0, background: 0, skipped: why },
    outcomes,
    all: Promise.resolve([]),
  });
  if (input.languageId !== 'python') return skipped(`running ${input.languageId} candidates is not supported yet (Python only)`);
  const fn = enclosingPythonFunction(input.prefix);
  if (!fn) return skipped('the cursor is not in a Python function');
  if (fn.indent > 0) return skipped(`${fn.name}() is a method or a nested function: only top-level functions are run`);
  const tests = examplesToAsserts(extractExamples(input.prefix.slice(fn.from), fn.name, 'python'), 'python');
  if (tests.length === 0) return skipped(`no examples in the docstring of ${fn.name}()`);
  if (input.candidates.length === 0) return skipped('no candidates');

  let containment: string[] = [];
  const runs = input.candidates.map((c) =>
    runPythonTests(pythonProgram(input.prefix, fn.from, c.text), tests, {
      perTestMs: 1000,
      programMs: 2000,
      totalMs: 5000,
      moduleName: 'winnow_candidate',
      ...(input.signal ? { signal: input.signal } : {}),
    }).then((r) => {
      containment = r.containment;
      const o = outcomeOf(c.id, r, tests.length);
      outcomes.set(c.id, o);
      return o;
    }),
  );
  const all = Promise.allSettled(runs).then((rs) => rs.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])));
  // Wait for all, or for the budget, whichever comes first.
  await Promise.race([all, new Promise((r) => setTimeout(r, Math.max(0, input.budgetMs)).unref())]);
  const ran = outcomes.size;
  return {
    summary: {
      tests: tests.length,
      ran,
      passedAll: [...outcomes.values()].filter((o) => o.passed === o.total).length,
      background: input.candidates.length - ran,
      containment,
    },
    outcomes,
    all,
  };
}

/**
 * Moves candidates that passed every test to the front, keeping the ranker's order within
 * each group; ranks are renumbered. Candidates without an outcome stay with the others.
 */
export function rerankByOutcome(candidates: readonly Candidate[], outcomes: ReadonlyMap<string, CandidateOutcome>): Candidate[] {
  const passing = (c: Candidate) => {
    const o = outcomes.get(c.id);
    return o !== undefined && o.total > 0 && o.passed === o.total;
  };
  return [...candidates.filter(passing), ...candidates.filter((c) => !passing(c))].map((c, rank) => {
    const o = outcomes.get(c.id);
    return { ...c, rank, ...(o ? { tests: { passed: o.passed, total: o.total, ...(o.error ? { error: o.error } : {}) } } : {}) };
  });
}
