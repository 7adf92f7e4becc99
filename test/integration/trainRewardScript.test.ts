/**
 * scripts/reward-model/train_reward_model.py reads what `winnow export` writes. The training
 * itself (TRL, a GPU, model weights) cannot run here; its input does, with the real python3.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TripletRecord } from '../../engine/src/protocol';
import { ROOT, tempDir } from '../helpers';

const SCRIPT = path.join(ROOT, 'scripts/reward-model/train_reward_model.py');
const python = spawnSync('python3', ['--version']).status === 0;

test('train_reward_model.py: --help, and it reads the triplets `winnow export` writes, by split', { skip: !python && 'no python3' }, () => {
  const help = spawnSync('python3', [SCRIPT, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--data DATA --model MODEL --out OUT/);
  const dir = tempDir('winnow-rm-script-');
  try {
    const rec = (split: string, i: number): TripletRecord => ({
      prompt: `def f${i}(x):\n`, suffix: '', chosen: '    return x\n', rejected: '    pass\n', source: 'accepted_vs_shown', pairing: 'shown', weight: 1, split,
      language: 'python', file_path: '/w/f.py', request_id: `r${i}`, chosen_id: `r${i}:0`, rejected_id: `r${i}:1`, prompt_hash: 'h',
    });
    const file = path.join(dir, 'pairs.jsonl');
    fs.writeFileSync(file, `${[rec('train', 1), rec('train', 2), rec('validation', 3)].map((r) => JSON.stringify(r)).join('\n')}\n`);
    const code = `import importlib.util, json, sys\nspec = importlib.util.spec_from_file_location('t', ${JSON.stringify(SCRIPT)})\nm = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\ntr, va = m.read_triplets(sys.argv[1])\nprint(json.dumps([len(tr), len(va), sorted(tr[0])]))`;
    const r = spawnSync('python3', ['-c', code, file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), [2, 1, ['chosen', 'prompt', 'rejected']]);
    fs.writeFileSync(file, '{"prompt": "x"}\n');
    const bad = spawnSync('python3', ['-c', code, file], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /no string field 'chosen'; is this the output of `winnow export`\?/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
