/**
 * Chaos soak (issue 10): traffic goes on (completions and feedback events, as windows send
 * them) while the engine and the language server are killed with SIGKILL at random points:
 * mid-write (plain traffic), mid-swap (an activation in flight), mid-training, mid-export.
 * The language server is the real bundle (test/lspClient.ts); its EngineHost restarts a dead
 * engine, and a killed server is started again, as VS Code's client does.
 *
 * After each kill: the time until a completion succeeds again (recovery), and SQLite's
 * `PRAGMA integrity_check` on the store. At the end: every event the engine acknowledged is
 * in the store (acknowledged means committed; lost must be 0).
 *
 * Used by test/integration/chaos.test.ts (a few kills) and bench/chaos.bench.ts (30 minutes).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { EngineClient } from '../../engine/src/client';
import { isAlive, readEngineInfo } from '../../engine/src/discovery';
import type { CompleteRequest, FeedbackEvent } from '../../engine/src/protocol';
import { mulberry32 } from '../../engine/src/random';
import { startServer, type TestServer } from '../lspClient';

export interface SoakOptions {
  dir: string;
  pool: string;
  durationMs: number;
  /** Time between kills, ms (each one at a random point in [0.5, 1.5] × this). */
  killEveryMs: number;
  seed: number;
  onKill?: (k: KillRecord) => void;
}

export interface KillRecord {
  target: 'engine' | 'server';
  during: 'traffic' | 'activate' | 'train' | 'export';
  recoveryMs: number;
  integrity: string;
}

export interface SoakReport {
  durationMs: number;
  kills: KillRecord[];
  recoveryP50Ms: number;
  recoveryP99Ms: number;
  recoveryMaxMs: number;
  completions: number;
  completionFailures: number;
  eventsAcked: number;
  eventsLost: number;
  integrityFailures: number;
}

const pct = (s: number[], p: number) => (s.length === 0 ? 0 : (s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number));

export async function runSoak(o: SoakOptions): Promise<SoakReport> {
  const r = mulberry32(o.seed);
  const data = path.join(o.dir, 'data');
  const prompts = fs.readFileSync(o.pool, 'utf8').split('\n').filter((l) => l.trim()).map((l) => (JSON.parse(l) as { generation_prompt: string }).generation_prompt);
  const settings = { generator: { backend: 'recorded', recordedPool: o.pool }, candidates: 4, latencyBudgetMs: 3000, debounceMs: 0, execution: { enabled: 'off' }, training: { auto: false } };
  let server: TestServer = await startServer(data, settings);
  await server.waitForStatus('ready', (s) => s.state === 'ready', 30_000);

  // Traffic: a client of its own (as a window's server has), reconnecting to whichever engine runs.
  let client: EngineClient | undefined;
  let clientPid: number | undefined;
  const connect = (): EngineClient | undefined => {
    const info = readEngineInfo(data);
    if (!info || !isAlive(info.pid)) return undefined;
    if (client && clientPid === info.pid) return client;
    client?.close();
    client = new EngineClient(info.endpoint, { pid: info.pid });
    clientPid = info.pid;
    return client;
  };
  const acked = new Set<number>();
  let eventTime = 1;
  let completions = 0;
  let completionFailures = 0;
  const oneCompletion = async (): Promise<boolean> => {
    const c = connect();
    if (!c) return false;
    const i = completions + completionFailures;
    const req: CompleteRequest = { prefix: prompts[i % prompts.length] as string, suffix: '', languageId: 'python', filePath: `/soak/f${i % 20}.py`, n: 4, budgetMs: 2000, generator: { backend: 'recorded', recordedPool: o.pool, seed: i } };
    try {
      const reply = await c.request('complete', req, 5000);
      completions++;
      if (reply.candidates.length === 0) return true;
      // Each event carries a unique time: the key to find it in the store at the end.
      const events: FeedbackEvent[] = reply.candidates.map((cand) => ({ kind: 'shown', requestId: reply.requestId, candidateId: cand.id, rank: cand.rank, time: eventTime++ }));
      const ack = await c.request('event', { events }, 5000);
      if (ack.stored === events.length) for (const e of events) acked.add(e.time);
      return true;
    } catch {
      completionFailures++;
      return false;
    }
  };
  let running = true;
  const traffic = (async () => {
    while (running) {
      await oneCompletion();
      await new Promise((res) => setTimeout(res, 20));
    }
  })();

  const integrity = (): string => {
    try {
      const db = new Database(path.join(data, 'winnow.db'), { readonly: true, fileMustExist: true });
      try {
        return String(db.pragma('integrity_check', { simple: true }));
      } finally {
        db.close();
      }
    } catch (e) {
      return `cannot open: ${(e as Error).message}`;
    }
  };

  const kills: KillRecord[] = [];
  const engineKillTimes: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < o.durationMs) {
    await new Promise((res) => setTimeout(res, o.killEveryMs * (0.5 + r())));
    // The server restarts a dead engine at most 5 times in 3 minutes (past that a crash-looping
    // engine stays down until the user restarts it, by design): keep engine kills under that.
    const now = performance.now();
    const recentEngineKills = engineKillTimes.filter((t) => now - t < 180_000).length;
    const target: KillRecord['target'] = r() < 0.25 || recentEngineKills >= 4 ? 'server' : 'engine';
    if (target === 'engine') engineKillTimes.push(now);
    const during: KillRecord['during'] = target === 'server' ? 'traffic' : (['traffic', 'activate', 'train', 'export'] as const)[Math.floor(r() * 4)] ?? 'traffic';
    const info = readEngineInfo(data);
    if (!info || !isAlive(info.pid)) continue;
    const side = new EngineClient(info.endpoint, { pid: info.pid });
    // Start the operation the kill lands in, then kill after a random few milliseconds.
    if (during === 'activate') void side.request('activate', { version: 'builtin-4' }, 5000).catch(() => undefined);
    if (during === 'train') void side.request('train', { rounds: 1 }, 5000).catch(() => undefined);
    if (during === 'export') void side.request('export', { out: path.join(o.dir, `export-${kills.length}.jsonl`) }, 30_000).catch(() => undefined);
    await new Promise((res) => setTimeout(res, Math.floor(r() * 30)));
    const killedAt = performance.now();
    if (target === 'engine') {
      process.kill(info.pid, 'SIGKILL');
    } else {
      server.child.kill('SIGKILL');
      await new Promise((res) => (server.child.exitCode === null && server.child.signalCode === null ? server.child.once('exit', res) : res(undefined)));
      server = await startServer(data, settings); // VS Code starts the language server again
    }
    side.close();
    // Recovered: a completion succeeds again.
    let ok = false;
    for (let k = 0; k < 600 && !ok; k++) {
      ok = await oneCompletion();
      if (!ok) await new Promise((res) => setTimeout(res, 50));
    }
    const rec: KillRecord = { target, during, recoveryMs: ok ? Math.round(performance.now() - killedAt) : -1, integrity: integrity() };
    kills.push(rec);
    o.onKill?.(rec);
  }
  running = false;
  await traffic;
  client?.close();
  await server.close();
  // Stop whatever engine is left, then count.
  const last = readEngineInfo(data);
  if (last && isAlive(last.pid)) {
    process.kill(last.pid, 'SIGTERM');
    for (let k = 0; k < 100 && isAlive(last.pid); k++) await new Promise((res) => setTimeout(res, 50));
  }
  const db = new Database(path.join(data, 'winnow.db'), { readonly: true });
  const stored = new Set((db.prepare('SELECT time FROM events').all() as { time: number }[]).map((x) => x.time));
  db.close();
  let lost = 0;
  for (const t of acked) if (!stored.has(t)) lost++;
  const rec = kills.map((k) => k.recoveryMs).filter((x) => x >= 0).sort((a, b) => a - b);
  return {
    durationMs: Math.round(performance.now() - t0),
    kills,
    recoveryP50Ms: pct(rec, 50),
    recoveryP99Ms: pct(rec, 99),
    recoveryMaxMs: rec.at(-1) ?? 0,
    completions,
    completionFailures,
    eventsAcked: acked.size,
    eventsLost: lost,
    integrityFailures: kills.filter((k) => k.integrity !== 'ok').length,
  };
}
