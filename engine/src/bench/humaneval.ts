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
import { runPythonTests, type TestCase, type TestResult, type TestRunResult } from '../exec/languages';
import { WorkerPool } from '../exec/pool';
import { cleanSample, dedupKey } from '../postprocess';
import { runLearned, type LearnedFigures, type LearnOptions, type LearnTask, type SampleRun, type TestOutcome } from './learned';
import { mkdirp } from '../fsutil';

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
  /**
   * The cross-validated learned ranker (learned.ts): one cross-validation per seed, `rounds`
   * hard-negative rounds. Also labels the samples that the engine's post-processing cuts
   * differently from the CodeT cut (run once, cached like the rest) and cross-validates the
   * default family on the engine-post-processed candidates.
   */
  learned?: { seeds: number[]; rounds?: number; onProgress?: (line: string) => void; options?: Partial<Omit<LearnOptions, 'seeds' | 'rounds' | 'onProgress'>>; /** Sees the learning tasks (CodeT cut), for experiments and tests. */ tap?: (tasks: readonly LearnTask[]) => void };
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
  prompt: string; // the original HumanEval prompt (docstring examples included)
  generationPrompt: string;
  raw: string[]; // the raw samples
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
  /** The cross-validated learned ranker, when asked for (BenchInputs.learned). */
  learned?: LearnedResult;
}

export interface LearnedResult {
  /** On the bench's candidates (CodeT cut): both variants, both families. */
  codetCut: LearnedFigures;
  /** The engine's post-processing (postprocess.ts cleanSample) instead of the CodeT cut. */
  enginePostprocess: {
    /** Samples whose engine-post-processed text differs from the CodeT cut (beyond trailing blanks). */
    samplesCutDifferently: number;
    /** ... of which the engine's text is empty (the engine drops the sample). */
    droppedEmpty: number;
    /** Programs run for them (the rest from the cache). */
    executed: number;
    /** Of the differing non-empty samples: how many pass the hidden tests with each cut. */
    differingPassCodeT: number;
    differingPassEngine: number;
    /** Distinct candidates per task, summed: CodeT cut vs engine. */
    candidatesCodeT: number;
    candidatesEngine: number;
    /** Labelled with the engine's texts (each differing sample run against the hidden tests). */
    random: number;
    passAt100: number;
    figures: LearnedFigures;
  };
  /** Samples whose hidden test timed out or ended the process before a visible test ran (those tests count as failed: a small leak of the hidden run into the features). */
  hiddenEndedRun: number;
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
      prompt: p.prompt,
      generationPrompt: s.generation_prompt,
      raw: s.samples,
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
    mkdirp(dir);
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

function testsOf(task: TaskData): TestCase[] {
  return [
    { source: task.hidden, timeoutMs: HIDDEN_MS },
    ...task.examples.map((source) => ({ source, timeoutMs: EXAMPLE_MS })),
    ...task.generated.map((source) => ({ source, timeoutMs: GENERATED_MS })),
  ];
}

/**
 * Runs each task's programs (undefined: not run) against its tests, identical programs once,
 * through the cache. Results per task, in program order.
 */
async function labelPrograms(
  jobs: readonly { task: TaskData; programs: readonly (string | undefined)[] }[],
  cache: Cache,
  pool: WorkerPool,
  counts: { done: number; executed: number; cached: number },
  onProgress?: (done: number, total: number, executed: number) => void,
): Promise<Map<string, (TestRunResult | undefined)[]>> {
  const total = jobs.reduce((a, j) => a + j.programs.filter((x) => x !== undefined).length, 0);
  const out = new Map<string, (TestRunResult | undefined)[]>();
  await Promise.all(
    jobs.map(async ({ task, programs }) => {
      const tests = testsOf(task);
      const unique = new Map<string, Promise<TestRunResult>>();
      const results = await Promise.all(
        programs.map((program) => {
          if (program === undefined) return Promise.resolve(undefined);
          let p = unique.get(program);
          if (!p) {
            const key = keyOf(program, tests);
            const hit = cache.lookup(key);
            if (hit) {
              counts.cached++;
              p = Promise.resolve(hit);
            } else {
              p = runPythonTests(program, tests, { perTestMs: HIDDEN_MS, totalMs: CANDIDATE_MS, pool }).then((r) => {
                counts.executed++;
                cache.store(key, r);
                return r;
              });
            }
            unique.set(program, p);
          }
          return p.then((r) => {
            counts.done++;
            onProgress?.(counts.done, total, counts.executed);
            return r;
          });
        }),
      );
      out.set(task.taskId, results);
    }),
  );
  return out;
}

function outcomeOfRun(task: TaskData, r: TestRunResult): SampleOutcome {
  const at = (i: number) => r.results[i]?.passed === true;
  return {
    passed: at(0),
    examplesPassed: task.examples.map((_, i) => at(1 + i)),
    generatedPassed: task.generated.map((_, i) => at(1 + task.examples.length + i)),
    syntaxError: r.syntaxError !== undefined,
    timedOut: r.timedOut,
  };
}

/** One visible test's outcome for the learned ranker's features: a test that never ran failed, without an error of its own. */
function testOutcome(t: TestResult | undefined): TestOutcome {
  const ran = t !== undefined && t.skipped !== true;
  const passed = t?.passed === true;
  return { passed, timedOut: ran && t.timedOut === true, raised: ran && !passed && t.error !== undefined && !/^AssertionError/.test(t.error) };
}

/** What a ranker may see of a run (and its label): never the hidden test's own outcome beyond the label. */
export function sampleRunOf(examples: number, generated: number, r: TestRunResult): SampleRun {
  return {
    hidden: r.results[0]?.passed === true,
    syntaxError: r.syntaxError !== undefined,
    programError: r.programError !== undefined,
    programTimedOut: r.programError !== undefined && r.timedOut,
    examples: Array.from({ length: examples }, (_, i) => testOutcome(r.results[1 + i])),
    generated: Array.from({ length: generated }, (_, i) => testOutcome(r.results[1 + examples + i])),
  };
}

/** The bench's candidate text of a raw sample: the CodeT cut, trailing blanks trimmed (as the engine trims). */
function codetText(raw: string): string {
  return cutCodeT(raw).replace(/\s+$/, '');
}

export async function runBench(inputs: BenchInputs): Promise<{ result: BenchResult; picks: Picks[] }> {
  const t0 = Date.now();
  const tasks = loadTasks(inputs);
  const cache = new Cache(inputs.cacheDir);
  const pool = new WorkerPool();
  const total = tasks.reduce((a, t) => a + t.program.length, 0);
  const counts = { done: 0, executed: 0, cached: 0 };
  const outcomes = new Map<string, SampleOutcome[]>();
  let runs = new Map<string, (TestRunResult | undefined)[]>();
  /** Engine post-processing: per task, per sample, the engine's text and its run. */
  const engineSide = new Map<string, { text: string | undefined; run: TestRunResult | undefined; differs: boolean }[]>();
  const engineCounts = { done: 0, executed: 0, cached: 0 };
  try {
    runs = await labelPrograms(
      tasks.map((task) => ({ task, programs: task.program })),
      cache,
      pool,
      counts,
      inputs.onProgress,
    );
    for (const task of tasks) outcomes.set(task.taskId, (runs.get(task.taskId) ?? []).map((r) => outcomeOfRun(task, r as TestRunResult)));
    if (inputs.learned) {
      // The samples the engine's post-processing cuts differently get their own run.
      const jobs = tasks.map((task) => {
        const ctx = { prefix: task.prompt, suffix: '', languageId: 'python' };
        const texts = task.raw.map((raw) => {
          const e = cleanSample(raw, ctx);
          return e.trim().length === 0 ? undefined : e;
        });
        const differs = task.raw.map((raw, i) => texts[i] === undefined || dedupKey(texts[i] as string) !== dedupKey(codetText(raw)));
        const programs = texts.map((e, i) => (e !== undefined && differs[i] ? `${task.generationPrompt}${e}\n` : undefined));
        return { task, programs, texts, differs };
      });
      const extra = await labelPrograms(jobs, cache, pool, engineCounts);
      for (const j of jobs) {
        const mine = runs.get(j.task.taskId) ?? [];
        const theirs = extra.get(j.task.taskId) ?? [];
        engineSide.set(
          j.task.taskId,
          j.texts.map((text, i) => ({ text, differs: j.differs[i] === true, run: text === undefined ? undefined : j.differs[i] ? theirs[i] : mine[i] })),
        );
      }
    }
  } finally {
    cache.close();
    pool.close();
  }
  const { executed, cached } = counts;

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

  let learned: LearnedResult | undefined;
  if (inputs.learned) {
    const opts = { ...inputs.learned.options, seeds: inputs.learned.seeds, ...(inputs.learned.rounds !== undefined ? { rounds: inputs.learned.rounds } : {}), ...(inputs.learned.onProgress ? { onProgress: inputs.learned.onProgress } : {}) };
    const learnTask = (task: TaskData, texts: (string | undefined)[], rs: (TestRunResult | undefined)[]): LearnTask => ({
      taskId: task.taskId,
      prefix: task.prompt,
      texts,
      runs: rs.map((r) => (r ? sampleRunOf(task.examples.length, task.generated.length, r) : { hidden: false, syntaxError: false, programError: false, programTimedOut: false, examples: [], generated: [] })),
      exampleTexts: task.examples,
      generatedTexts: task.generated,
      generatedCounts: task.generatedCounts,
    });
    const codetTasks = tasks.map((task) => learnTask(task, task.raw.map(codetText), runs.get(task.taskId) ?? []));
    inputs.learned.tap?.(codetTasks);
    const codetCut = runLearned(codetTasks, opts);
    for (const p of codetCut.picks) picks.push(p);
    const engineTasks = tasks.map((task) => {
      const side = engineSide.get(task.taskId) ?? [];
      return learnTask(task, side.map((x) => x.text), side.map((x) => x.run));
    });
    const engine = runLearned(engineTasks, { ...opts, families: [codetCut.figures.defaultFamily] });
    for (const p of engine.picks) picks.push({ ...p, method: `postprocess:${p.method}` });
    let differing = 0;
    let dropped = 0;
    let passC = 0;
    let passE = 0;
    let random = 0;
    let any = 0;
    for (const [ti, task] of engineTasks.entries()) {
      const side = engineSide.get(task.taskId) ?? [];
      const codetRuns = codetTasks[ti]?.runs ?? [];
      side.forEach((x, i) => {
        if (!x.differs) return;
        differing++;
        if (x.text === undefined) dropped++;
        else {
          if (codetRuns[i]?.hidden) passC++;
          if (task.runs[i]?.hidden) passE++;
        }
      });
      const kept = task.runs.filter((_, i) => task.texts[i] !== undefined);
      random += kept.length > 0 ? kept.filter((r) => r.hidden).length / kept.length : 0;
      if (kept.some((r) => r.hidden)) any++;
    }
    const distinct = (ts: readonly LearnTask[]) => ts.reduce((a, t) => a + new Set(t.texts.flatMap((x) => (x === undefined ? [] : [dedupKey(x)]))).size, 0);
    let hiddenEndedRun = 0;
    for (const task of tasks) {
      for (const r of runs.get(task.taskId) ?? []) {
        const h = r?.results[0];
        if (r && h && !h.passed && (h.timedOut || r.crashed !== undefined) && r.results.slice(1).some((t) => t.skipped)) hiddenEndedRun++;
      }
    }
    learned = {
      codetCut: codetCut.figures,
      enginePostprocess: {
        samplesCutDifferently: differing,
        droppedEmpty: dropped,
        differingPassCodeT: passC,
        differingPassEngine: passE,
        candidatesCodeT: distinct(codetTasks),
        candidatesEngine: distinct(engineTasks),
        executed: engineCounts.executed,
        random: (100 * random) / Math.max(1, tasks.length),
        passAt100: (100 * any) / Math.max(1, tasks.length),
        figures: engine.figures,
      },
      hiddenEndedRun,
    };
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
    ...(learned ? { learned } : {}),
  };
  return { result, picks };
}
