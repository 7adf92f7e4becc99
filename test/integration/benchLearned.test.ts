/**
 * `winnow bench` with the cross-validated learned ranker, end to end through the CLI (real
 * sandboxed python3), on a tiny HumanEval-shaped pool written here: the learned methods are
 * reported and their picks written, folds never leak, and a rerun from the cache gives the
 * same picks.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ENGINE_SCRIPT, tempDir } from '../helpers';

const dir = tempDir('winnow-bench-learned-');
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const TASKS = 6;
const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

function writePool(): { problems: string; samples: string; tests: string } {
  const problems: unknown[] = [];
  const samples: unknown[] = [];
  const tests: unknown[] = [];
  for (let t = 0; t < TASKS; t++) {
    const name = `add${t}`;
    const stub = `def ${name}(x):\n    """Add ${t + 1} to x.\n`;
    const prompt = `${stub}    >>> ${name}(1)\n    ${t + 2}\n    """\n`;
    const generationPrompt = `${stub}    """\n`;
    problems.push({ task_id: `Toy/${t}`, prompt, entry_point: name, canonical_solution: `    return x + ${t + 1}\n`, test: `def check(candidate):\n    assert candidate(3) == ${t + 4}\n    assert candidate(0) == ${t + 1}\n` });
    const right = `    return x + ${t + 1}\n`;
    const bodies = [right, right, `    return ${t + 1} + x\n`, `    return x + ${t}\n`, `    return x * ${t + 1}\n`, `    return x + ${t + 1} if x else 0\n`, `    pass\n`, `    return (x +\n`];
    samples.push({ task_id: `Toy/${t}`, generation_prompt: generationPrompt, samples: bodies.map((b, i) => (i % 3 === 0 ? `${b}\n\ndef helper():\n    pass\n` : b)) });
    tests.push({ task_id: `Toy/${t}`, generation_prompt: `${generationPrompt}# check the correctness of ${name}\nassert `, samples: [`${name}(1) == ${t + 2}`, `${name}(0) == ${t + 1}\nassert ${name}(2) == ${t + 3}`, `${name}(5) == ${t + 6}`, `${name}(1) == ${t + 1}`] });
  }
  const files = { problems: path.join(dir, 'problems.jsonl'), samples: path.join(dir, 'samples.jsonl'), tests: path.join(dir, 'tests.jsonl') };
  fs.writeFileSync(files.problems, jsonl(problems));
  fs.writeFileSync(files.samples, jsonl(samples));
  fs.writeFileSync(files.tests, jsonl(tests));
  return files;
}

function bench(files: ReturnType<typeof writePool>, picks: string, extra: string[] = []) {
  const r = spawnSync(process.execPath, [ENGINE_SCRIPT, 'bench', '--problems', files.problems, '--samples', files.samples, '--tests', files.tests, '--json', '--picks-out', picks, '--cache-dir', path.join(dir, 'cache'), '--seed', '3', '--rounds', '1', ...extra], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test('winnow bench: learned methods cross-validated by task, picks written, deterministic for a seed', () => {
  const files = writePool();
  const first = path.join(dir, 'picks-1.jsonl');
  const a = bench(files, first);
  const L = a.learned.codetCut;
  assert.equal(L.tasks, TASKS);
  assert.equal(L.folds, 5);
  assert.deepEqual(L.seeds, [3]);
  assert.equal(L.checks.foldsDisjoint, true);
  assert.equal(L.checks.testTaskInTraining, 0);
  assert.equal(L.checks.foldSizes.reduce((x: number, y: number) => x + y, 0), TASKS);
  for (const variant of ['all', 'noDocstring']) {
    for (const family of ['linear', 'mlp']) {
      const rounds = L.figures[variant][family];
      assert.equal(rounds.length, 2);
      for (const r of rounds) assert.ok(r.pass1.mean >= 0 && r.pass1.mean <= 100, `${variant} ${family}: ${r.pass1.mean}`);
    }
  }
  assert.ok(L.builtin.pass1 >= 0 && L.builtin.pass1 <= 100);
  // The engine's post-processing cuts the samples that run into a second `def` the same way: nothing to rerun.
  assert.equal(a.learned.enginePostprocess.droppedEmpty, 0);
  const picks = fs.readFileSync(first, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { task_id: string; method: string; ranking: number[] });
  const methods = new Set(picks.map((p) => p.method));
  for (const m of ['random', 'codet', 'builtin', 'ranker', 'ranker@round0', 'ranker@round1', 'ranker_no_docstring', 'ranker_no_docstring@round1', 'postprocess:ranker']) assert.ok(methods.has(m), `picks for ${m}`);
  for (const p of picks.filter((x) => x.method === 'ranker')) assert.deepEqual([...p.ranking].sort((x, y) => x - y), [0, 1, 2, 3, 4, 5, 6, 7]);

  // From the cache, the same seed: the same figures and picks.
  const second = path.join(dir, 'picks-2.jsonl');
  const b = bench(files, second);
  assert.equal(b.executed, 0);
  assert.deepEqual(fs.readFileSync(second, 'utf8'), fs.readFileSync(first, 'utf8'));
  const strip = (x: unknown) => JSON.stringify(x, (k, v) => (k === 'trainMsPerFold' || k === 'wallMs' ? undefined : v));
  assert.equal(strip(b.learned), strip(a.learned));
});
