/** Unit tests of the featurizer (engine/src/features.ts): shape, determinism, and each feature on targeted inputs. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createHash } from 'node:crypto';
import { BUILTIN_SPEC, BUILTIN_VERSION, FEATURE_NAMES, FEATURE_SET_ID, FEATURE_SETS, NUM_FEATURES, featureSetOf, featurize, upgradeRows, writeRewardFeatures, type FeatureInput, type FeatureName } from '../../engine/src/features';

const PY_PREFIX = 'from typing import List\n\n\ndef count_up(n: int) -> List[int]:\n    """Return [0, 1, ..., n-1]. Don\'t (ever) return None."""\n';

function input(text: string, over: Partial<FeatureInput> = {}): FeatureInput {
  return { text, votes: 1, totalSamples: 8, prefix: PY_PREFIX, suffix: '', languageId: 'python', ...over };
}

/** Features of one candidate, by name. */
function feats(text: string, over: Partial<FeatureInput> = {}): Record<FeatureName, number> {
  const row = featurize([input(text, over)]);
  return Object.fromEntries(FEATURE_NAMES.map((n, i) => [n, row[i] as number])) as Record<FeatureName, number>;
}

test('feature list: unique names, matching count, built-in spec covers it', () => {
  assert.equal(new Set(FEATURE_NAMES).size, FEATURE_NAMES.length);
  assert.equal(NUM_FEATURES, FEATURE_NAMES.length);
  assert.equal(BUILTIN_SPEC.version, BUILTIN_VERSION);
  assert.equal(BUILTIN_VERSION, 'builtin-4');
  assert.deepEqual(BUILTIN_SPEC.featureNames, [...FEATURE_NAMES]);
  assert.equal(BUILTIN_SPEC.layers.length, 1);
  assert.equal(BUILTIN_SPEC.layers[0]?.weights.length, NUM_FEATURES);
  assert.deepEqual(BUILTIN_SPEC.layers[0]?.bias, [0]);
});

test('feature sets: each id names one list for good; FEATURE_NAMES is the current id', () => {
  // A feature set id never changes meaning: changing FEATURE_NAMES needs a new id in FEATURE_SETS
  // (and its line here), so that stored rows and trained models of the old set are never misread.
  const recorded: Record<string, string> = { 'fs-1': '83f52b6e90885263', 'fs-2': '6163e83d85413f42', 'fs-3': 'f25e8c255d0180f8', 'fs-4': '4d4953b6a53c6ea3' };
  for (const [id, names] of Object.entries(FEATURE_SETS)) {
    assert.equal(createHash('sha256').update(names.join(',')).digest('hex').slice(0, 16), recorded[id], `feature set ${id} changed: give the new list a new id`);
  }
  assert.deepEqual([...(FEATURE_SETS[FEATURE_SET_ID] ?? [])], [...FEATURE_NAMES]);
  assert.equal(featureSetOf(FEATURE_NAMES), FEATURE_SET_ID);
  assert.equal(featureSetOf(FEATURE_NAMES.slice(0, 19)), 'fs-1');
  assert.equal(featureSetOf(FEATURE_NAMES.slice(0, 28)), 'fs-2');
  assert.equal(featureSetOf(FEATURE_NAMES.slice(0, 29)), 'fs-3');
  assert.equal(FEATURE_SET_ID, 'fs-4');
  assert.equal(featureSetOf(['vote_share']), undefined);
  assert.equal(BUILTIN_SPEC.metadata?.['winnow.featureSet'], FEATURE_SET_ID);
});

test('featurize: row-major [n, F], empty input, deterministic', () => {
  assert.equal(featurize([]).length, 0);
  const cands = [input('    return list(range(n))\n', { votes: 5 }), input('    pass\n'), input('    x = [\n')];
  const a = featurize(cands);
  const b = featurize(cands.map((c) => ({ ...c })));
  assert.equal(a.length, 3 * NUM_FEATURES);
  assert.deepEqual(a, b);
  // Row order follows input order: a row alone equals its slice of the batch.
  assert.deepEqual(featurize([cands[1] as FeatureInput]), a.subarray(NUM_FEATURES, 2 * NUM_FEATURES));
  assert.ok(a.every((v) => Number.isFinite(v)));
});

test('vote share, lengths, log-probability and its flag', () => {
  const text = '    a = 1\n\n    return [a]\n';
  const f = feats(text, { votes: 6, totalSamples: 8, meanLogprob: -0.25 });
  assert.equal(f.vote_share, 0.75);
  assert.ok(Math.abs(f.log_chars - Math.log1p(text.length)) < 1e-6);
  assert.ok(Math.abs(f.log_lines - Math.log1p(2)) < 1e-6);
  assert.equal(f.mean_logprob, -0.25);
  assert.equal(f.has_logprob, 1);
  const g = feats('    return []\n', { votes: 3, totalSamples: 0 });
  assert.equal(g.vote_share, 1, 'clamped, no division by zero');
  assert.equal(g.mean_logprob, 0);
  assert.equal(g.has_logprob, 0);
  assert.equal(feats('    return []\n', { meanLogprob: -50 }).mean_logprob, -10);
  assert.equal(feats('    return []\n', { meanLogprob: Number.NaN }).has_logprob, 0);
});

test('brackets: mismatches and unclosed, seeded from the prefix, strings and comments skipped', () => {
  assert.equal(feats('    return [i for i in range(n)]\n').bracket_mismatch, 0);
  assert.equal(feats('    return [i for i in range(n)))\n').bracket_mismatch, 2);
  assert.equal(feats('    return (1, [2)]\n').bracket_mismatch, 1, "')' against '['; then ']' closes '['");
  assert.equal(feats('    return list(range(n)\n').unclosed_brackets, 1);
  assert.equal(feats('    return ")(" + "[" # ) ] {\n').bracket_mismatch, 0);
  // Completing inside an open call of the prefix: closing it is fine.
  const mid = { prefix: 'def f(n):\n    return max(n, ', languageId: 'python' };
  assert.equal(feats('0)\n', mid).bracket_mismatch, 0);
  assert.equal(feats('0)\n', mid).unclosed_brackets, 0);
  assert.equal(feats('0]\n', mid).bracket_mismatch, 1);
  // The docstring in the prefix (apostrophe and parentheses inside) does not leave state behind.
  assert.equal(feats('    return [x]\n').unterminated_string, 0);
  // Brace languages: a lone '}' may close a block opened before the prefix window.
  const ts = { prefix: '  const x = 1;\n', languageId: 'typescript' };
  assert.equal(feats('  return x;\n}\n', ts).bracket_mismatch, 0);
  assert.equal(feats('  return x);\n', ts).bracket_mismatch, 1);
  assert.equal(feats('  /* ( [ */ return x; // {\n', ts).unclosed_brackets, 0);
});

test('unterminated strings, but not when the suffix closes the string', () => {
  assert.equal(feats('    return "abc\n').unterminated_string, 1);
  assert.equal(feats('    s = "a\n    return s\n').unterminated_string, 1);
  assert.equal(feats('    return "a\\"b"\n').unterminated_string, 0);
  assert.equal(feats('    return """multi\n    line"""\n').unterminated_string, 0);
  const inString = { prefix: 'def f():\n    print("hel', suffix: '")\n' };
  assert.equal(feats('lo world', inString).unterminated_string, 0);
  assert.equal(feats('lo world', { ...inString, suffix: '\n' }).unterminated_string, 1);
  // JS template literals may span lines.
  assert.equal(feats('  return `a\nb`;\n', { prefix: 'function f() {\n', languageId: 'javascript' }).unterminated_string, 0);
});

test('ends mid-expression', () => {
  assert.equal(feats('    total = n +').ends_mid_expression, 1);
  assert.equal(feats('    for i in range(n):').ends_mid_expression, 1);
  assert.equal(feats('    return foo(').ends_mid_expression, 1);
  assert.equal(feats('    return n\n').ends_mid_expression, 0);
  assert.equal(feats('    return n\n    # next:\n').ends_mid_expression, 0, 'comment lines are ignored');
  assert.equal(feats('  i++\n', { prefix: 'function f() {\n', languageId: 'javascript' }).ends_mid_expression, 0);
});

test('placeholder-only bodies and TODO markers', () => {
  for (const body of ['    pass\n', '    ...\n', '    raise NotImplementedError\n', '    raise NotImplementedError("later")\n', '    # TODO\n    pass\n', '\n\n']) {
    assert.equal(feats(body).placeholder_only, 1, JSON.stringify(body));
  }
  assert.equal(feats('    return list(range(n))\n').placeholder_only, 0);
  const ts = { prefix: 'function f(): number {\n', languageId: 'typescript' };
  assert.equal(feats('  throw new Error("Not implemented");\n}\n', ts).placeholder_only, 1);
  assert.equal(feats('  throw new Error("bad input");\n}\n', ts).placeholder_only, 0);
  assert.equal(feats('  todo!()\n}\n', { prefix: 'fn f() -> u32 {\n', languageId: 'rust' }).placeholder_only, 1);
  assert.equal(feats('    # TODO: handle n < 0\n    return list(range(n))\n').todo_marker, 1);
  assert.equal(feats('    return list(range(n))\n').todo_marker, 0);
});

test('repeated lines (degenerate loops)', () => {
  const loop = '    x = x + 1\n'.repeat(6);
  assert.ok(Math.abs(feats(loop).repeated_line_frac - 5 / 6) < 1e-6);
  assert.equal(feats('    a = f(1)\n    b = f(2)\n    return a + b\n').repeated_line_frac, 0);
  assert.equal(feats('    if a:\n        x\n    if b:\n        x\n').repeated_line_frac, 0, 'short lines do not count');
});

test('function bodies and missing returns across languages', () => {
  const body = feats('    print(n)\n');
  assert.equal(body.in_function_body, 1);
  assert.equal(body.missing_return, 1);
  assert.equal(feats('    return list(range(n))\n').missing_return, 0);
  assert.equal(feats('    for i in range(n):\n        yield i\n').missing_return, 0);
  // `-> None` expects no value.
  const none = { prefix: 'def log(msg: str) -> None:\n    # write it\n' };
  assert.equal(feats('    print(msg)\n', none).in_function_body, 1);
  assert.equal(feats('    print(msg)\n', none).missing_return, 0);
  // Not at a function start.
  const mid = { prefix: 'x = 1\nfor i in range(3):\n' };
  assert.equal(feats('    print(i)\n', mid).in_function_body, 0);
  assert.equal(feats('    print(i)\n', mid).missing_return, 0);
  // Multi-line Python header.
  assert.equal(feats('    pass\n', { prefix: 'def f(\n    a: int,\n    b: int,\n) -> int:\n' }).in_function_body, 1);

  const cases: [string, string, boolean, boolean][] = [
    ['typescript', 'export function add(a: number, b: number): number {\n', true, true],
    ['typescript', 'function log(m: string): void {\n', true, false],
    ['typescript', 'const add = (a: number, b: number) => {\n', true, true],
    ['typescript', 'class A {\n  size(): number {\n', true, true],
    ['typescript', 'if (x > 0) {\n', false, false],
    ['javascript', 'items.forEach((x) => {\n', false, false],
    ['go', 'func Add(a, b int) int {\n', true, true],
    ['go', 'func (s *Server) Close() {\n', true, false],
    ['rust', 'fn add(a: u32, b: u32) -> u32 {\n', true, false],
    ['java', 'public static int add(int a, int b) {\n', true, true],
    ['java', 'public void run() throws IOException {\n', true, false],
    ['java', 'public class Foo {\n', false, false],
    ['c', 'int main(int argc, char **argv) {\n', true, true],
    ['cpp', 'for (int i = 0; i < n; i++) {\n', false, false],
  ];
  for (const [languageId, prefix, inBody, expects] of cases) {
    const f = feats('  x = 1;\n', { prefix, languageId });
    assert.equal(f.in_function_body, inBody ? 1 : 0, `${languageId}: ${prefix.trim()} in_function_body`);
    assert.equal(f.missing_return, expects ? 1 : 0, `${languageId}: ${prefix.trim()} missing_return`);
  }
});

test('repeats of the prefix and of the suffix', () => {
  const prefix = 'def f(items):\n    total = compute(items)\n';
  assert.equal(feats('    total = compute(items)\n    return total\n', { prefix }).repeats_prefix_line, 1);
  assert.equal(feats('    return compute(items)\n', { prefix }).repeats_prefix_line, 0);
  const ts = { prefix: 'function f() {\n  const a = 1;\n', suffix: '  return a;\n}\n', languageId: 'typescript' };
  assert.equal(feats('  const b = 2;\n  return a;\n', ts).duplicates_suffix, 1);
  assert.equal(feats('  const b = a + 1;\n', ts).duplicates_suffix, 0);
  // Indentation counts: a nested block's '}' is not the function's '}'.
  const close = { prefix: 'function f(a) {\n  if (a) {\n', suffix: '\n}\n', languageId: 'javascript' };
  assert.equal(feats('    g();\n  }\n', close).duplicates_suffix, 0);
  assert.equal(feats('    g();\n  }\n}\n', close).duplicates_suffix, 1);
});

test('comments, indentation, long lines', () => {
  assert.equal(feats('    # step one\n    # step two\n    return 1\n    # end\n').comment_frac, 0.75);
  assert.equal(feats('    ' + '#'.repeat(150)).comment_frac, 1);
  assert.equal(feats('    ' + '#'.repeat(150)).placeholder_only, 1);
  assert.equal(feats('    x = 1\n\treturn x\n').indent_mismatch, 1, 'tabs and spaces mixed');
  assert.equal(feats('\tx = 1\n\treturn x\n').indent_mismatch, 1, 'tabs where the prefix uses spaces');
  assert.equal(feats('    x = 1\n    return x\n').indent_mismatch, 0);
  // Mid-line, the first line's leading spaces are not indentation.
  assert.equal(feats(' 1\n\treturn x\n', { prefix: 'def f():\n\tx =' }).indent_mismatch, 0);
  assert.equal(feats(`    return "${'a'.repeat(170)}"\n`).long_line, 1);
  assert.equal(feats('    return 1\n').long_line, 0);
});

test('built-in weights rank a plausible body above broken ones', () => {
  const cands = [
    input('    return list(range(n))\n', { votes: 3 }),
    input('    pass\n', { votes: 3 }),
    input('    return list(range(n)\n', { votes: 1 }),
    input('    x = x + 1\n'.repeat(8), { votes: 1 }),
    input('    ' + '#'.repeat(150), { votes: 3 }),
  ];
  const x = featurize(cands);
  const w = BUILTIN_SPEC.layers[0]?.weights.map((r) => r[0] as number) ?? [];
  const scores = cands.map((_, i) => w.reduce((s, wj, j) => s + wj * (x[i * NUM_FEATURES + j] as number), 0));
  const best = scores.indexOf(Math.max(...scores));
  assert.equal(best, 0, `scores ${scores.map((s) => s.toFixed(2)).join(', ')}`);
});

test('execution features: zero when the candidate did not run, clamped values when it did', () => {
  const none = feats('    return list(range(n))\n');
  for (const n of FEATURE_NAMES.filter((x) => x.startsWith('exec_'))) assert.equal(none[n], 0, n);
  const ran = feats('    return list(range(n))\n', { exec: { trustedTotal: 4, trustedPassed: 3, agreement: 0.5, clusterFrac: 0.25, agreementBest: true, syntaxError: false, timedOut: true, exception: false } });
  assert.equal(ran.exec_ran, 1);
  assert.equal(ran.exec_pass_frac, 0.75);
  assert.equal(ran.exec_all_passed, 0);
  assert.equal(ran.exec_agreement, 0.5);
  assert.equal(ran.exec_cluster_frac, 0.25);
  assert.equal(ran.exec_agreement_best, 1);
  assert.equal(ran.exec_timeout, 1);
  assert.equal(ran.exec_syntax_error, 0);
  const all = feats('    return 1\n', { exec: { trustedTotal: 2, trustedPassed: 2, agreement: 7, clusterFrac: -1, agreementBest: false, syntaxError: false, timedOut: false, exception: false } });
  assert.equal(all.exec_all_passed, 1);
  assert.equal(all.exec_agreement, 1, 'clamped to [0, 1]');
  assert.equal(all.exec_cluster_frac, 0, 'clamped to [0, 1]');
  // Only model-written tests: no trusted pass fraction, no "all passed".
  const gen = feats('    return 1\n', { exec: { trustedTotal: 0, trustedPassed: 0, agreement: 1, clusterFrac: 1, agreementBest: true, syntaxError: false, timedOut: false, exception: false } });
  assert.equal(gen.exec_pass_frac, 0);
  assert.equal(gen.exec_all_passed, 0);
});

test('built-in weights: passing every trusted test outranks anything else, then agreement orders', () => {
  const w = BUILTIN_SPEC.layers[0]?.weights.map((r) => r[0] as number) ?? [];
  const score = (c: FeatureInput) => {
    const x = featurize([c]);
    return w.reduce((s, wj, j) => s + wj * (x[j] as number), 0);
  };
  const ok = { trustedTotal: 3, trustedPassed: 3, agreement: 0, clusterFrac: 0, agreementBest: false, syntaxError: false, timedOut: false, exception: false };
  const fail = { ...ok, trustedPassed: 2, agreement: 1, clusterFrac: 1, agreementBest: true };
  // The worst text a passing candidate could have against the best a failing one could have.
  const passingButUgly = input(`    # TODO\n    x = (\n    ${'#'.repeat(170)}\n    x = x + 1\n    x = x + 1\n\t  y = '\n`, { votes: 0, meanLogprob: -10, exec: ok });
  const failingButPretty = input('    return list(range(n))\n', { votes: 8, meanLogprob: 0, exec: fail });
  assert.ok(score(passingButUgly) > score(failingButPretty), `${score(passingButUgly)} vs ${score(failingButPretty)}`);
  const agreeing = input('    return list(range(n))\n', { exec: { ...ok, trustedTotal: 0, trustedPassed: 0, agreement: 1, clusterFrac: 0.5, agreementBest: true } });
  const lonely = input('    return list(range(n))\n', { exec: { ...ok, trustedTotal: 0, trustedPassed: 0, agreement: 0.2, clusterFrac: 0.1 } });
  assert.ok(score(agreeing) > score(lonely));
  // CodeT's pick outranks the sample majority (vote share) that the tests do not back.
  const pick = input('    return list(range(n))\n', { votes: 1, exec: { ...ok, trustedTotal: 0, trustedPassed: 0, agreement: 1, clusterFrac: 0.25, agreementBest: true } });
  const majority = input('    return list(range(n))\n', { votes: 8, meanLogprob: 0, exec: { ...ok, trustedTotal: 0, trustedPassed: 0, agreement: 0.99, clusterFrac: 0.75 } });
  assert.ok(score(pick) > score(majority));
  const broken = input('    return list(range(n))\n', { exec: { ...ok, trustedTotal: 0, trustedPassed: 0, syntaxError: true } });
  assert.ok(score(broken) < score(input('    return list(range(n))\n')), 'a syntax error costs');
});

test('undefined_name: a Python candidate calling what nothing defines; the suffix and the cursor line count', () => {
  assert.equal(feats('    return [i for i in range(n) if is_prime(i)]\n').undefined_name, 1);
  assert.equal(feats('    return list(range(n))\n').undefined_name, 0);
  assert.equal(feats('    return [i for i in range(n) if is_prime(i)]\n', { suffix: '\n\ndef is_prime(k):\n    return k > 1\n' }).undefined_name, 0);
  // The cursor mid-word: `li` + `st(range(n))` reads as `list(range(n))`; `st` alone is never a use.
  assert.equal(feats('st(range(n))\n', { prefix: `${PY_PREFIX}    return li` }).undefined_name, 0);
  assert.equal(feats('    return helper(n)\n', { prefix: `from helpers import *\n${PY_PREFIX}` }).undefined_name, 0);
  // Other languages: never.
  assert.equal(feats('  return isPrime(n);\n', { languageId: 'javascript', prefix: 'function f(n) {\n' }).undefined_name, 0);
  // The built-in ranker ranks it below the same text without the unknown name.
  const spec = BUILTIN_SPEC.layers[0]?.weights ?? [];
  assert.ok((spec[FEATURE_NAMES.indexOf('undefined_name')]?.[0] ?? 0) < 0);
});

test('stored fs-2 and fs-3 rows upgrade to fs-4: the stored columns kept, undefined_name computed from the stored texts (fs-2), no reward score', () => {
  const request = { prefix: PY_PREFIX, suffix: '', languageId: 'python' };
  const texts = ['    return [i for i in range(n) if is_prime(i)]\n', '    return list(range(n))\n'];
  const stored = texts.map((text, i) => ({ text, features: new Float32Array(28).fill(i + 0.5) }));
  const up = upgradeRows('fs-2', 'fs-4', request, stored);
  assert.ok(up);
  assert.deepEqual(up.map((r) => r.length), [NUM_FEATURES, NUM_FEATURES]);
  assert.deepEqual([...(up[0] as Float32Array).subarray(0, 28)], [...(stored[0]?.features ?? [])]);
  const col = FEATURE_NAMES.indexOf('undefined_name');
  assert.deepEqual(up.map((r) => r[col]), [1, 0]);
  // The same as featurize computes for that column.
  assert.deepEqual(up.map((r) => r[col]), texts.map((t) => feats(t).undefined_name));
  const present = FEATURE_NAMES.indexOf('reward_present');
  const z = FEATURE_NAMES.indexOf('reward_z');
  assert.deepEqual(up.map((r) => [r[present], r[z]]), [[0, 0], [0, 0]]);
  // fs-3 rows: their 29 columns as stored, the reward columns absent.
  const fs3 = upgradeRows('fs-3', 'fs-4', request, [{ text: 'x', features: new Float32Array(29).fill(2) }]);
  assert.deepEqual([...(fs3?.[0] ?? [])], [...new Array(29).fill(2), 0, 0]);
  // What cannot be upgraded: fs-1 rows, rows of the wrong length, another target.
  assert.equal(upgradeRows('fs-1', 'fs-4', request, [{ text: 'x', features: new Float32Array(19) }]), undefined);
  assert.equal(upgradeRows('fs-2', 'fs-4', request, [{ text: 'x', features: new Float32Array(19) }]), undefined);
  assert.equal(upgradeRows('fs-2', 'fs-3', request, stored), undefined);
});

test('reward features: scores standardized over the request, clamped; equal scores give 0; the built-in ranker weighs them', () => {
  const rows = featurize([input('    return 1\n'), input('    return 2\n'), input('    return 3\n')]);
  const present = FEATURE_NAMES.indexOf('reward_present');
  const z = FEATURE_NAMES.indexOf('reward_z');
  const at = (r: number, c: number) => rows[r * NUM_FEATURES + c] as number;
  assert.deepEqual([0, 1, 2].map((r) => [at(r, present), at(r, z)]), [[0, 0], [0, 0], [0, 0]], 'absent until a reward model scores');
  writeRewardFeatures(rows, [1, 2, 3]);
  const sd = Math.sqrt(2 / 3);
  [0, 1, 2].forEach((r) => {
    assert.equal(at(r, present), 1);
    assert.ok(Math.abs(at(r, z) - (r - 1) / sd) < 1e-6);
  });
  writeRewardFeatures(rows, [5, 5, 5]);
  assert.deepEqual([0, 1, 2].map((r) => at(r, z)), [0, 0, 0]);
  const many = featurize(Array.from({ length: 20 }, () => input('x')));
  writeRewardFeatures(many, [1000, ...new Array(19).fill(0)]);
  assert.equal(many[z], 3, 'clamped to 3');
  assert.throws(() => writeRewardFeatures(rows, [1, 2]), /2 scores for 3 rows/);
  const w = BUILTIN_SPEC.layers[0]?.weights ?? [];
  assert.ok((w[z]?.[0] ?? 0) > 0);
  assert.equal(w[present]?.[0], 0);
});
