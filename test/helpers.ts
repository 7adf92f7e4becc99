/** Shared test helpers: temp folders, engine processes, waiting on conditions (never fixed sleeps). */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { EngineClient } from '../engine/src/client';
import { isAlive, readEngineInfo, type EngineInfo } from '../engine/src/discovery';

export const ROOT = path.resolve(__dirname, '..');
export const ENGINE_SCRIPT = path.join(ROOT, 'engine/out/cli.js');
export const SERVER_SCRIPT = path.join(ROOT, 'server/out/server.js');
export const SHARED = path.resolve(ROOT, '..', 'shared');
export const POOL = process.env.WINNOW_RECORDED_POOL ?? path.join(SHARED, 'bench/humaneval/codegen16b_samples.jsonl');

export function tempDir(prefix = 'winnow-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Polls `check` every 20 ms until it returns a value other than undefined/false, or throws after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface RunningEngine {
  child: ChildProcess;
  info: EngineInfo;
  client: EngineClient;
  stop(): Promise<void>;
}

/** Starts `winnow serve` as a real process and waits until it answers. */
export async function startEngine(dataDir: string, extraArgs: string[] = []): Promise<RunningEngine> {
  const child = spawn(process.execPath, [ENGINE_SCRIPT, 'serve', '--data-dir', dataDir, '--device', 'cpu', ...extraArgs], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const info = await waitFor(`engine in ${dataDir} (stderr: ${stderr})`, () => {
    if (child.exitCode !== null) throw new Error(`engine exited with ${child.exitCode}: ${stderr}`);
    const i = readEngineInfo(dataDir);
    return i && i.pid === child.pid ? i : undefined;
  });
  const client = new EngineClient(info.endpoint);
  await client.request('ping', {}, 5000);
  return {
    child,
    info,
    client,
    async stop() {
      client.close();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

export function writeFile(dir: string, name: string, content: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Stops the engine serving `dataDir`, if one runs (asks it; kills it when it does not answer), and waits for it to exit. */
export async function stopEngineOf(dataDir: string): Promise<void> {
  const info = readEngineInfo(dataDir);
  if (!info || !isAlive(info.pid)) return;
  const c = new EngineClient(info.endpoint);
  await c.request('shutdown', {}, 5000).catch(() => process.kill(info.pid, 'SIGKILL'));
  c.close();
  await waitFor('engine exit', () => !isAlive(info.pid));
}
