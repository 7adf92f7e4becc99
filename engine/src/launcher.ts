/**
 * Finds the user's running engine for a data folder, or starts one. Used by the language
 * server and the CLI. Several starters may race: the engine's exclusive lock decides who
 * serves, and every starter ends up talking to that one engine.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EngineClient } from './client';
import { isAlive, paths, readEngineInfo, type EngineInfo } from './discovery';
import { PROTOCOL_VERSION } from './protocol';
import { mkdirp } from './fsutil';

/** Exit code of `serve` when another engine already owns the data folder. */
export const EXIT_ALREADY_RUNNING = 3;

export interface LaunchOptions {
  dataDir: string;
  /** Node executable that runs the engine. */
  nodePath: string;
  /** The engine bundle (engine/out/cli.js). */
  engineScript: string;
  /** Extra arguments for `serve` (for example `--device cpu`). */
  serveArgs?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for a new engine to answer; default 20 s. */
  timeoutMs?: number;
  log?: (message: string) => void;
}

/** Pings the engine described by `info`; true when it answers in time with our protocol. */
export async function ping(info: EngineInfo, timeoutMs = 1500): Promise<boolean> {
  if (!isAlive(info.pid)) return false;
  const client = new EngineClient(info.endpoint);
  try {
    const r = await client.request('ping', {}, timeoutMs);
    return r.pong && r.protocolVersion === PROTOCOL_VERSION && r.pid === info.pid;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

/** Returns the running engine's info when one answers. */
export async function findEngine(dataDir: string): Promise<EngineInfo | undefined> {
  const info = readEngineInfo(dataDir);
  if (info && (await ping(info))) return info;
  return undefined;
}

export async function ensureEngine(opts: LaunchOptions): Promise<EngineInfo> {
  const running = await findEngine(opts.dataDir);
  if (running) return running;
  mkdirp(opts.dataDir, 0o700);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const args = [opts.engineScript, 'serve', '--data-dir', opts.dataDir, ...(opts.serveArgs ?? [])];
  opts.log?.(`starting engine: ${opts.nodePath} ${args.join(' ')}`);
  // The engine logs to its own file; its stderr goes to a second file so that a crash before
  // the log is open (a native module that does not load, say) still leaves a trace.
  const stderrFile = paths(opts.dataDir).stderr;
  mkdirp(path.dirname(stderrFile), 0o700);
  const stderrFd = fs.openSync(stderrFile, 'a', 0o600);
  const child = spawn(opts.nodePath, args, {
    detached: true, // the engine outlives the window that started it: it is shared
    stdio: ['ignore', 'ignore', stderrFd],
    env: { ...process.env, ...opts.env },
    windowsHide: true,
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  let spawnError: Error | undefined;
  child.on('exit', (code, signal) => (exit = { code, signal }));
  child.on('error', (e) => (spawnError = e));
  child.unref();
  fs.closeSync(stderrFd);

  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (spawnError) throw new Error(`could not start the engine with ${opts.nodePath}: ${spawnError.message}`);
    const info = readEngineInfo(opts.dataDir);
    if (info && (info.pid === child.pid || exit?.code === EXIT_ALREADY_RUNNING || !isAlive(child.pid ?? -1))) {
      if (await ping(info)) return info;
    }
    if (exit && exit.code !== EXIT_ALREADY_RUNNING) {
      throw new Error(`the engine exited during start-up (${exit.signal ?? `code ${String(exit.code)}`}).\n${tailOfLog(opts.dataDir)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the engine did not become ready within ${timeoutMs} ms.\n${tailOfLog(opts.dataDir)}`);
}

/** The last lines of the engine log and of its stderr, for error messages. */
export function tailOfLog(dataDir: string, lines = 15): string {
  const parts: string[] = [];
  for (const file of [paths(dataDir).log, paths(dataDir).stderr]) {
    let text = '';
    try {
      text = fs.readFileSync(file, 'utf8').trimEnd();
    } catch {
      continue;
    }
    if (text) parts.push(`${file}, last lines:\n${text.split('\n').slice(-lines).join('\n')}`);
  }
  const all = parts.join('\n');
  if (/NODE_MODULE_VERSION|ERR_DLOPEN_FAILED/.test(all)) {
    parts.push(
      'Hint: a native module of the engine was built for another Node.js version than the one running it. ' +
        'Set winnow.engine.nodePath to a Node.js 20 or newer (the one Winnow was built with).',
    );
  }
  return parts.length > 0 ? parts.join('\n') : `No engine log at ${paths(dataDir).log}.`;
}
