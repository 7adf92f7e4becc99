/**
 * `winnow bench`: ranking quality on recorded candidate pools (HumanEval + CodeGen-16B
 * samples from shared/bench). Every candidate is labelled by running it, in the sandboxed
 * runner, against the problem's hidden tests; in the same run it is also checked against the
 * examples in the original docstring and the model-written tests. Then pass@1 of several
 * ways of picking one candidate is reported (ties count as a uniform pick among the tied).
 *
 * Results are cached by content hash (program + tests + runner version) in SQLite, so a
 * rerun only executes what changed.
 */
import Database from 'better-sqlite3';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { dualAgreement, passAt1OfRanking, passAtK } from '../testsources/codet';
import { COMMON_FORMS, examplesToAsserts, extractExamples } from '../testsources/docstring';
import { collectGeneratedAsserts } from '../testsources/generated';
import { cutCodeT } from '../testsources/postcut';
import { runPythonTests, type TestCase, type TestRunResult } from '../exec/languages';
import { WorkerPool } from '../exec/pool';

export const RUNNER_VERSION = 'bench-2';

/** Per-test time limits: the hidden tests get the 3 s of the reference labels; examples and model-written tests are small inputs. */
const HIDDEN_MS = 3000;
const EXAMPLE_MS = 500;
const GENERATED_MS = 300;
/** Everything for one candidate; tests that would start past it count as failed. */
const CANDIDATE_MS = 6000;

export interface BenchInputs {
  problems: string;
  samples: string;
  tests: string;
  /** Optional reference labels (codegen16b_labels.jsonl) to check the runner against. */
  labels?: string;
  cacheDir: string;
  /** Only the first N tasks (for quick runs). */
  limit?: number;
  seed?: number;
  onProgress?: (done: number, total: number, executed: number) => void;
}

interface Problem {
  task_id: string;
  prompt: string;
  entry_point: string;
  test: string;
}

interface TaskData {
  taskId: string;
  entryPoint: string;
  program: string[]; // per sample: generation_prompt + cut sample
  hidden: string; // the hidden test + check(entry_point)
  examples: string[]; // docstring-example asserts
  exampleIsDoctest: boolean[]; // whether each came from a `>>>` line (the rest: informal forms)
  exampleIsCommon: boolean[]; // whether each is written in one of the common forms (COMMON_FORMS)
  generated: string[]; // model-written asserts
  generatedCounts: number[]; // how often each was generated (CodeT weighs tests by it)
}

export interface SampleOutcome {
  passed: boolean; // hidden tests
  examplesPassed: boolean[]; // per docstring example
  generatedPassed: boolean[]; // per generated assert
  syntaxError: boolean;
  timedOut: boolean;
}

export interface MethodFigures {
  random: number;
  /** Keep the candidates that pass every docstring example (all forms: doctest and informal). */
  docstringFilter: number;
  /** The same with only the `>>>` doctest examples. */
  doctestFilter: number;
  /** The same with the examples written in the common forms (COMMON_FORMS: no `Input:`/`Output:` blocks, `f(x) = y` lines, `param =` paragraphs). */
  commonFormsFilter: number;
  codet: number;
  docstringFilterThenCodet: number;
  doctestFilterThenCodet: number;
  commonFormsFilterThenCodet: number;
  passAt10: number;
  passAt100: number;
}

export interface BenchResult {
  tasks: number;
  samples: number;
  pass1: MethodFigures;
  /** Runner labels against the reference labels, when given. */
  labelAgreement?: { agree: number; total: number; fraction: number; disagreements: { taskId: string; sample: number; ours: boolean; reference: boolean }[] };
  examples: { tasksWithExamples: number; totalExamples: number };
  generatedTests: { perTaskMean: number };
  executed: number;
  cached: number;
  wallMs: number;
  /** Per task: correct samples, tests found, and pass@1 of each method. */
  perTask: { taskId: string; correct: number; examples: number; generated: number; pass1: Record<string, number> }[];
}

export interface Picks {
  taskId: string;
  method: string;
  ranking: number[];
}

function readJsonl<T>(file: string): T[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l, i) => {
      try {
        return JSON.parse(l) as T;
      } catch (e) {
        throw new Error(`${file}:${i + 1}: not JSON (${(e as Error).message})`);
      }
    });
}

function loadTasks(inputs: BenchInputs): TaskData[] {
  const problems = new Map(readJsonl<Problem>(inputs.problems).map((p) => [p.task_id, p]));
  const tests = new Map(readJsonl<{ task_id: string; samples: string[] }>(inputs.tests).map((t) => [t.task_id, t.samples]));
  const out: TaskData[] = [];
  for (const s of readJsonl<{ task_id: string; generation_prompt: string; samples: string[] }>(inputs.samples)) {
    const p = problems.get(s.task_id);
    if (!p) throw new Error(`${inputs.samples}: task ${s.task_id} is not in ${inputs.problems}`);
    out.push({
      taskId: s.task_id,
      entryPoint: p.entry_point,
      program: s.samples.map((x) => s.generation_prompt + cutCodeT(x)),
      hidden: `${p.test}\ncheck(${p.entry_point})\n`,
      ...(() => {
        const ex = extractExamples(p.prompt, p.entry_point, 'python');
        return { examples: examplesToAsserts(ex, 'python'), exampleIsDoctest: ex.map((e) => e.source === 'doctest'), exampleIsCommon: ex.map((e) => COMMON_FORMS.includes(e.form)) };
      })(),
      ...(() => {
        const g = collectGeneratedAsserts(tests.get(s.task_id) ?? [], p.entry_point);
        return { generated: g.map((x) => x.text), generatedCounts: g.map((x) => x.count) };
      })(),
    });
    if (inputs.limit && out.length >= inputs.limit) break;
  }
  return out;
}

class Cache {
  private readonly db: Database.Database;
  private readonly get: Database.Statement;
  private readonly put: Database.Statement;

  constructor(dir: string) {
    fs.mkdirSync(dir, { recursive: true });
    this.db = new Database(path.join(dir, 'bench-cache.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS results (key TEXT PRIMARY KEY, value TEXT NOT NULL)');
    this.get = this.db.prepare('SELECT value FROM results WHERE key = ?');
    this.put = this.db.prepare('INSERT OR REPLACE INTO results (key, value) VALUES (?, ?)');
  }

  lookup(key: string): TestRunResult | undefined {
    const row = this.get.get(key) as { value: string } | undefined;
    return row ? (JSON.parse(row.value) as TestRunResult) : undefined;
  }

  store(key: string, value: TestRunResult): void {
    this.put.run(key, JSON.stringify(value));
  }

  close(): void {
    this.db.close();
  }
}

function keyOf(program: string, tests: readonly TestCase[]): string {
  const h = crypto.createHash('sha256').update(RUNNER_VERSION).update('\0').update(program);
  for (const t of tests) h.update('\0').update(String(t.timeoutMs ?? '')).update(':').update(t.source);
  return h.digest('hex');
}

/** Mean over tasks of the expected accuracy of the top-scored pick (uniform among ties). */
function meanPass1(tasks: readonly { scores: number[]; labels: boolean[] }[]): number {
  return (100 * tasks.reduce((a, t) => a + passAt1OfRanking(t.scores, t.labels), 0)) / Math.max(1, tasks.length);
}

/** Ranking: indices best first, ties by sample order (the uniform pick is in the figure). */
function rankingOf(scores: readonly number[]): number[] {
  return scores.map((s, i) => ({ s, i })).sort((a, b) => b.s - a.s || a.i - b.i).map((x) => x.i);
}

export async function runBench(inputs: BenchInputs): Promise<{ result: BenchResult; picks: Picks[] }> {
  const t0 = Date.now();
  const tasks = loadTasks(inputs);
  const cache = new Cache(inputs.cacheDir);
  const pool = new WorkerPool();
  const total = tasks.reduce((a, t) => a + t.program.length, 0);
  let done = 0;
  let executed = 0;
  let cached = 0;
  const outcomes = new Map<string, SampleOutcome[]>();
  try {
    await Promise.all(
      tasks.map(async (task) => {
        const tests: TestCase[] = [
          { source: task.hidden, timeoutMs: HIDDEN_MS },
          ...task.examples.map((source) => ({ source, timeoutMs: EXAMPLE_MS })),
          ...task.generated.map((source) => ({ source, timeoutMs: GENERATED_MS })),
        ];
        // Identical programs run once.
        const unique = new Map<string, Promise<TestRunResult>>();
        const results = await Promise.all(
          task.program.map((program) => {
            let p = unique.get(program);
            if (!p) {
              const key = keyOf(program, tests);
              const hit = cache.lookup(key);
              if (hit) {
                cached++;
                p = Promise.resolve(hit);
              } else {
                p = runPythonTests(program, tests, { perTestMs: HIDDEN_MS, totalMs: CANDIDATE_MS, pool }).then((r) => {
                  executed++;
                  cache.store(key, r);
                  return r;
                });
              }
              unique.set(program, p);
            }
            return p.then((r) => {
              done++;
              inputs.onProgress?.(done, total, executed);
              return r;
            });
          }),
        );
        outcomes.set(
          task.taskId,
          results.map((r) => {
            const at = (i: number) => r.results[i]?.passed === true;
            return {
              passed: at(0),
              examplesPassed: task.examples.map((_, i) => at(1 + i)),
              generatedPassed: task.generated.map((_, i) => at(1 + task.examples.length + i)),
              syntaxError: r.syntaxError !== undefined,
              timedOut: r.timedOut,
            };
          }),
        );
      }),
    );
  } finally {
    cache.close();
    pool.close();
  }

  const picks: Picks[] = [];
  const per = { random: [], docstringFilter: [], doctestFilter: [], commonFormsFilter: [], codet: [], docstringFilterThenCodet: [], doctestFilterThenCodet: [], commonFormsFilterThenCodet: [] } as Record<keyof Omit<MethodFigures, 'passAt10' | 'passAt100'>, { scores: number[]; labels: boolean[] }[]>;
  let at10 = 0;
  let at100 = 0;
  const perTask: BenchResult['perTask'] = [];
  for (const task of tasks) {
    const o = outcomes.get(task.taskId) ?? [];
    const labels = o.map((x) => x.passed);
    const n = labels.length;
    const c = labels.filter(Boolean).length;
    at10 += passAtK(n, c, Math.min(10, n));
    at100 += passAtK(n, c, Math.min(100, n));
    const random = labels.map(() => 0);
    const agreement = { testWeights: task.generatedCounts };
    const codet = dualAgreement(o.map((x) => x.generatedPassed), agreement);
    // Docstring filter: candidates passing every example score 1 (none passes: all tie).
    const filter = (use: (i: number) => boolean) =>
      o.map((x) => {
        const mine = x.examplesPassed.filter((_, i) => use(i));
        return mine.length > 0 && mine.every(Boolean) ? 1 : 0;
      });
    // Filter, then CodeT among the survivors only (their own consensus groups); when none
    // passes the examples, CodeT over all.
    const thenCodet = (kept01: number[]) => {
      const kept = kept01.flatMap((v, i) => (v === 1 ? [i] : []));
      if (kept.length === 0) return codet;
      const sub = dualAgreement(kept.map((i) => o[i]?.generatedPassed ?? []), agreement);
      const scores = labels.map(() => Number.NEGATIVE_INFINITY);
      kept.forEach((i, j) => (scores[i] = sub[j] ?? 0));
      return scores;
    };
    const passesExamples = filter(() => true);
    const passesDoctests = filter((i) => task.exampleIsDoctest[i] === true);
    const passesCommon = filter((i) => task.exampleIsCommon[i] === true);
    const methods = {
      random,
      docstringFilter: passesExamples,
      doctestFilter: passesDoctests,
      commonFormsFilter: passesCommon,
      codet,
      docstringFilterThenCodet: thenCodet(passesExamples),
      doctestFilterThenCodet: thenCodet(passesDoctests),
      commonFormsFilterThenCodet: thenCodet(passesCommon),
    };
    const taskFigures: Record<string, number> = {};
    for (const [name, scores] of Object.entries(methods) as [keyof typeof methods, number[]][]) {
      per[name].push({ scores, labels });
      taskFigures[name] = Math.round(1000 * passAt1OfRanking(scores, labels)) / 10;
      picks.push({ taskId: task.taskId, method: name, ranking: rankingOf(scores) });
    }
    perTask.push({ taskId: task.taskId, correct: c, examples: task.examples.length, generated: task.generated.length, pass1: taskFigures });
  }

  let labelAgreement: BenchResult['labelAgreement'];
  if (inputs.labels) {
    const ref = new Map(readJsonl<{ task_id: string; passed: boolean[] }>(inputs.labels).map((l) => [l.task_id, l.passed]));
    let agree = 0;
    let n = 0;
    const disagreements: { taskId: string; sample: number; ours: boolean; reference: boolean }[] = [];
    for (const task of tasks) {
      const r = ref.get(task.taskId);
      const o = outcomes.get(task.taskId) ?? [];
      if (!r) continue;
      o.forEach((x, i) => {
        if (r[i] === undefined) return;
        n++;
        if (x.passed === r[i]) agree++;
        else disagreements.push({ taskId: task.taskId, sample: i, ours: x.passed, reference: r[i] === true });
      });
    }
    labelAgreement = { agree, total: n, fraction: n > 0 ? agree / n : 0, disagreements };
  }

  const result: BenchResult = {
    tasks: tasks.length,
    samples: total,
    pass1: {
      random: meanPass1(per.random),
      docstringFilter: meanPass1(per.docstringFilter),
      doctestFilter: meanPass1(per.doctestFilter),
      commonFormsFilter: meanPass1(per.commonFormsFilter),
      codet: meanPass1(per.codet),
      docstringFilterThenCodet: meanPass1(per.docstringFilterThenCodet),
      doctestFilterThenCodet: meanPass1(per.doctestFilterThenCodet),
      commonFormsFilterThenCodet: meanPass1(per.commonFormsFilterThenCodet),
      passAt10: (100 * at10) / Math.max(1, tasks.length),
      passAt100: (100 * at100) / Math.max(1, tasks.length),
    },
    ...(labelAgreement ? { labelAgreement } : {}),
    examples: { tasksWithExamples: tasks.filter((t) => t.examples.length > 0).length, totalExamples: tasks.reduce((a, t) => a + t.examples.length, 0) },
    generatedTests: { perTaskMean: tasks.reduce((a, t) => a + t.generated.length, 0) / Math.max(1, tasks.length) },
    executed,
    cached,
    wallMs: Date.now() - t0,
    perTask,
  };
  return { result, picks };
}
