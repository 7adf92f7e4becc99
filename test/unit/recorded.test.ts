import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { alignToCursor, findEntry, loadPool, RecordedGenerator, seededPick } from '../../engine/src/generators/recorded';

const entry = { taskId: 't', prompt: 'def f():\n    """doc"""\n', promptTrimmed: 'def f():\n    """doc"""', samples: [] };

test('a sample is re-based onto the whitespace typed after the prompt', () => {
  const s = '    return 1\n';
  assert.equal(alignToCursor(entry, s, 'def f():\n    """doc"""\n'), '    return 1\n');
  assert.equal(alignToCursor(entry, s, 'def f():\n    """doc"""\n    '), 'return 1\n');
  assert.equal(alignToCursor(entry, s, 'def f():\n    """doc"""\n\n'), '    return 1\n');
  assert.equal(alignToCursor(entry, s, 'def f():\n    """doc"""\n\n    '), 'return 1\n');
  assert.equal(alignToCursor(entry, s, 'def f():\n    """doc"""'), '\n    return 1\n');
});

test('seeded picks are deterministic, distinct and bounded', () => {
  assert.deepEqual(seededPick(100, 8, 42), seededPick(100, 8, 42));
  assert.notDeepEqual(seededPick(100, 8, 42), seededPick(100, 8, 43));
  assert.equal(new Set(seededPick(100, 100, 1)).size, 100);
  assert.equal(seededPick(3, 8, 1).length, 3);
});

test('pool matching ignores trailing whitespace; bad pools give a clear error', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-pool-'));
  try {
    const pool = path.join(dir, 'pool.jsonl');
    fs.writeFileSync(pool, `${JSON.stringify({ task_id: 'a', generation_prompt: 'def a():\n', samples: ['    return 1\n', '    return 2\n'] })}\n`);
    const entries = loadPool(pool);
    assert.equal(findEntry(entries, '# file\ndef a():\n   \n')?.taskId, 'a');
    assert.equal(findEntry(entries, 'def b():\n'), undefined);
    const g = new RecordedGenerator({ backend: 'recorded', recordedPool: pool });
    const r = await g.sample({ prefix: 'def a():\n', suffix: '', languageId: 'python', n: 8, signal: AbortSignal.timeout(1000) });
    assert.equal(r.samples.length, 2);
    fs.writeFileSync(pool, 'not json\n');
    const bad = await g.sample({ prefix: 'def a():\n', suffix: '', languageId: 'python', n: 8, signal: AbortSignal.timeout(1000) });
    assert.equal(bad.problem?.code, 'config');
    assert.match(bad.problem?.message ?? '', /pool\.jsonl:1: not JSON/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the recorded pool in shared/bench matches its own generation prompts', () => {
  const pool = path.resolve(__dirname, '../../../shared/bench/humaneval/codegen16b_samples.jsonl');
  const entries = loadPool(pool);
  assert.equal(entries.length, 164);
  const first = fs.readFileSync(pool, 'utf8').split('\n')[0] ?? '';
  const e = JSON.parse(first) as { task_id: string; generation_prompt: string };
  assert.equal(findEntry(entries, e.generation_prompt)?.taskId, e.task_id);
});
