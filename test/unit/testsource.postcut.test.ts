import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { CODET_STOP_WORDS, cutCodeT } from '../../engine/src/testsources/postcut';

test("CodeT's cut: at the first line starting with class, def, #, if or print", () => {
  assert.deepEqual([...CODET_STOP_WORDS], ['\nclass', '\ndef', '\n#', '\nif', '\nprint']);
  assert.equal(cutCodeT('    return x + 1\n\n\ndef main():\n    pass\n'), '    return x + 1\n\n');
  assert.equal(cutCodeT('    return 1\nprint(f())\nclass A: pass'), '    return 1', 'the earliest stop word wins');
  assert.equal(cutCodeT('    if x:\n        return 1\n    return 2\n# done'), '    if x:\n        return 1\n    return 2');
  assert.equal(cutCodeT('    return 1\n\nif __name__ == "__main__":\n    main()'), '    return 1\n');
  assert.equal(cutCodeT('    return 1\nifx = 2'), '    return 1', 'a prefix match, as in CodeT');
  assert.equal(cutCodeT('    return [x for x in xs]\n'), '    return [x for x in xs]\n');
  assert.equal(cutCodeT(''), '');
});

const samplesPath = path.join(__dirname, '../../../shared/bench/humaneval/codegen16b_samples.jsonl');

test('HumanEval samples: 12408 distinct candidates of 16400 after the cut', { skip: !fs.existsSync(samplesPath) && 'shared/bench not present' }, () => {
  const tasks = fs
    .readFileSync(samplesPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { samples: string[] });
  const all = tasks.reduce((a, t) => a + t.samples.length, 0);
  const distinct = tasks.reduce((a, t) => a + new Set(t.samples.map(cutCodeT)).size, 0);
  assert.deepEqual({ all, distinct }, { all: 16400, distinct: 12408 });
});
