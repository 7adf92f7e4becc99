/** The worker pool: size, FIFO order, cancellation of queued and running tasks, close. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { machineParallelism, WorkerPool } from '../../engine/src/exec/pool';

/** A task that resolves when told to, recording when it started and whether it saw its signal abort. */
function gate(log: string[], name: string) {
  let open!: (v: string) => void;
  let sawAbort = false;
  const task = (signal: AbortSignal | undefined) =>
    new Promise<string>((resolve, reject) => {
      log.push(`start ${name}`);
      open = resolve;
      signal?.addEventListener('abort', () => {
        sawAbort = true;
        reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
      });
    });
  return { task, open: (v = name) => open(v), sawAbort: () => sawAbort };
}

const tick = () => new Promise((r) => setImmediate(r));

test('sized to the machine by default', () => {
  assert.equal(new WorkerPool().size, machineParallelism());
  assert.ok(machineParallelism() >= 1);
  assert.equal(new WorkerPool({ size: 0 }).size, 1);
});

test('runs at most `size` tasks at a time, the rest in FIFO order', async () => {
  const log: string[] = [];
  const pool = new WorkerPool({ size: 2 });
  const g = ['a', 'b', 'c', 'd'].map((n) => gate(log, n));
  const done = g.map((x) => pool.run(x.task));
  await tick();
  assert.deepEqual(log, ['start a', 'start b']);
  assert.equal(pool.active, 2);
  assert.equal(pool.queued, 2);
  g[1]?.open();
  await tick();
  assert.deepEqual(log, ['start a', 'start b', 'start c']);
  g[0]?.open();
  g[2]?.open();
  await tick();
  g[3]?.open();
  assert.deepEqual(await Promise.all(done), ['a', 'b', 'c', 'd']);
  assert.deepEqual(log, ['start a', 'start b', 'start c', 'start d']);
  assert.equal(pool.active, 0);
});

test('a task aborted while queued is dropped and never starts; a running one gets the abort', async () => {
  const log: string[] = [];
  const pool = new WorkerPool({ size: 1 });
  const ac = new AbortController();
  const running = gate(log, 'running');
  const queued = gate(log, 'queued');
  const other = gate(log, 'other');
  const p1 = pool.run(running.task, ac.signal);
  const p2 = pool.run(queued.task, ac.signal);
  const p3 = pool.run(other.task);
  await tick();
  ac.abort();
  await assert.rejects(p1, { name: 'AbortError' });
  await assert.rejects(p2, { name: 'AbortError' });
  assert.equal(running.sawAbort(), true);
  await tick();
  assert.deepEqual(log, ['start running', 'start other'], 'the queued task never started; the next one did');
  other.open();
  assert.equal(await p3, 'other');
});

test('an already aborted signal rejects at once; close() drops the queue and refuses new tasks', async () => {
  const pool = new WorkerPool({ size: 1 });
  await assert.rejects(pool.run(async () => 1, AbortSignal.abort()), { name: 'AbortError' });
  const log: string[] = [];
  const a = gate(log, 'a');
  const pa = pool.run(a.task);
  const pb = pool.run(async () => 'b');
  await tick();
  pool.close();
  await assert.rejects(pb, { name: 'AbortError' });
  a.open();
  assert.equal(await pa, 'a');
  await assert.rejects(pool.run(async () => 1), /closed/);
});

test('a task that throws synchronously frees its slot', async () => {
  const pool = new WorkerPool({ size: 1 });
  await assert.rejects(
    pool.run(() => {
      throw new Error('boom');
    }),
    /boom/,
  );
  assert.equal(await pool.run(async () => 'next'), 'next');
});
