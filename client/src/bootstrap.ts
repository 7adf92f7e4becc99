/**
 * Finds and checks everything the language server and the engine need before anything is
 * started: the two bundles inside the extension, the data folder, and a Node.js >= 20 whose
 * module ABI matches the engine's native modules, to run the engine with. Fails with a message a user can act on; never starts a shell.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as vscode from 'vscode';
import type { InitializationOptions } from '../../server/src/protocol';
import { config } from './config';
import { mkdirp } from '../../engine/src/fsutil';

export const MIN_NODE_MAJOR = 20;

export interface Bootstrap {
  /** The language server bundle (run by the LanguageClient over IPC). */
  serverModule: string;
  /** What the server gets as `initializationOptions`. */
  init: InitializationOptions;
  /** How the Node executable was chosen, for the log and the status menu. */
  nodeSource: 'setting' | 'PATH' | 'vscode';
  nodeVersion: string;
}

/** A bootstrap failure: the message is meant for the user as is. */
export class BootstrapError extends Error {
  override name = 'BootstrapError';
}

interface Log {
  info(message: string): void;
  warn(message: string): void;
}

export function bootstrap(context: vscode.ExtensionContext, log: Log): Bootstrap {
  const serverModule = context.asAbsolutePath(path.join('server', 'out', 'server.js'));
  const engineScript = context.asAbsolutePath(path.join('engine', 'out', 'cli.js'));
  for (const [what, file] of [
    ['language server', serverModule],
    ['engine', engineScript],
  ] as const) {
    if (!isFile(file)) {
      throw new BootstrapError(`Winnow's ${what} is missing (${file}). The extension is incomplete: reinstall it, or run \`npm run build\` in a development checkout.`);
    }
  }

  const dataDir = resolveDataDir(context);
  log.info(`data folder: ${dataDir}`);

  const node = resolveNode(log, engineAbi(engineScript));
  log.info(`engine runtime: ${node.path} (Node ${node.version}, from ${node.source})`);

  const engineEnv: Record<string, string> = { ...node.env };
  // InitializationOptions has no field for the ranker device; the engine reads WINNOW_DEVICE
  // (auto | cpu | cuda) from its environment when `serve` gets no --device.
  engineEnv.WINNOW_DEVICE = config.rankerDevice;

  return {
    serverModule,
    init: { dataDir, engineScript, nodePath: node.path, engineEnv },
    nodeSource: node.source,
    nodeVersion: node.version,
  };
}

/** `winnow.dataDir` (a leading `~` is expanded; must be absolute), else the global storage folder. Created when missing. */
export function resolveDataDir(context: vscode.ExtensionContext): string {
  const setting = config.dataDir;
  let dir: string;
  if (setting) {
    dir = expandHome(setting);
    if (!path.isAbsolute(dir)) {
      throw new BootstrapError(`winnow.dataDir must be an absolute path; it is "${setting}".`);
    }
  } else {
    dir = context.globalStorageUri.fsPath;
  }
  try {
    mkdirp(dir, 0o700); // private: it will hold recorded code (bounded: Node's recursive mkdir loops on some paths)
  } catch (err) {
    throw new BootstrapError(`Winnow cannot create its data folder ${dir}: ${errorMessage(err)}. Change winnow.dataDir.`);
  }
  return dir;
}

interface NodeChoice {
  path: string;
  version: string;
  source: Bootstrap['nodeSource'];
  env: Record<string, string>;
}

/**
 * The Node executable for the engine, in this order:
 * 1. `winnow.engine.nodePath` (an explicit choice: if it does not work, that is an error);
 * 2. `node` on PATH, when it runs and is >= 20;
 * 3. VS Code's own runtime (`process.execPath`) with `ELECTRON_RUN_AS_NODE=1`.
 */
export function resolveNode(log: Log, wantAbi?: string): NodeChoice {
  const tried: string[] = [];

  const setting = config.engineNodePath;
  if (setting) {
    const file = expandHome(setting);
    const checked = checkNode(file, wantAbi);
    if (!checked.ok) {
      throw new BootstrapError(`winnow.engine.nodePath (${setting}) cannot run the engine: ${checked.reason}. Point it at Node.js ${MIN_NODE_MAJOR} or newer${wantAbi ? ` with module ABI ${wantAbi} (the Node.js major version Winnow was built with)` : ''}, or clear it to use \`node\` from PATH.`);
    }
    return { path: file, version: checked.version, source: 'setting', env: {} };
  }

  for (const file of findOnPath('node')) {
    const checked = checkNode(file, wantAbi);
    if (checked.ok) return { path: file, version: checked.version, source: 'PATH', env: {} };
    log.warn(`skipping ${file}: ${checked.reason}`);
    tried.push(`${file} (${checked.reason})`);
  }
  if (tried.length === 0) tried.push('no `node` on PATH');

  // The extension host runs on VS Code's own Node (Electron's, or plain Node in a remote
  // server); the same binary runs scripts as Node when ELECTRON_RUN_AS_NODE is set.
  const own = process.versions.node;
  if (wantAbi && process.versions.modules !== wantAbi) {
    tried.push(`VS Code's runtime ${process.execPath} (module ABI ${process.versions.modules}, not ${wantAbi})`);
  } else if (majorOf(own) >= MIN_NODE_MAJOR) {
    return { path: process.execPath, version: `v${own}`, source: 'vscode', env: { ELECTRON_RUN_AS_NODE: '1' } };
  } else {
    tried.push(`VS Code's runtime ${process.execPath} (Node ${own})`);
  }

  throw new BootstrapError(
    `Winnow needs Node.js ${MIN_NODE_MAJOR} or newer to run its engine. Install it, or set winnow.engine.nodePath. Tried: ${tried.join('; ')}.`,
  );
}

type NodeCheck = { ok: true; version: string } | { ok: false; reason: string };

/**
 * Runs `file -p <version and module ABI>` (no shell, bounded) and checks the major version
 * and, when `wantAbi` is given, the native-module ABI: the engine's better-sqlite3 addon
 * loads only in a Node.js of the ABI it was built for.
 */
export function checkNode(file: string, wantAbi?: string): NodeCheck {
  if (!isFile(file)) return { ok: false, reason: 'not a file' };
  let out: string;
  try {
    out = execFileSync(file, ['-p', 'process.version + " " + process.versions.modules'], {
      encoding: 'utf8',
      timeout: 5000,
      windowsHide: true,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch (err) {
    return { ok: false, reason: `running it failed: ${errorMessage(err)}` };
  }
  const [version = '', abi = ''] = out.split(' ');
  const major = majorOf(version);
  if (Number.isNaN(major)) return { ok: false, reason: `unexpected output "${(out.split(/\r?\n/)[0] ?? '').slice(0, 80)}"` };
  if (major < MIN_NODE_MAJOR) return { ok: false, reason: `version ${version} is older than ${MIN_NODE_MAJOR}` };
  if (wantAbi && abi !== wantAbi) return { ok: false, reason: `Node.js ${version} has module ABI ${abi}; the engine's native modules were built for ABI ${wantAbi}` };
  return { ok: true, version };
}

/** The module ABI the engine's native modules were built for (engine/out/runtime.json, written by the build). */
export function engineAbi(engineScript: string): string | undefined {
  try {
    const r = JSON.parse(fs.readFileSync(path.join(path.dirname(engineScript), 'runtime.json'), 'utf8')) as { nodeAbi?: unknown };
    return typeof r.nodeAbi === 'string' ? r.nodeAbi : undefined;
  } catch {
    return undefined;
  }
}

/** Executable files named `name` in the PATH entries, in PATH order (PATHEXT on Windows). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string[] {
  const pathVar = env.PATH ?? env.Path ?? '';
  const win = platform === 'win32';
  const exts = win ? (env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e.toLowerCase() === '.exe' || e.toLowerCase() === '.com') : [''];
  const found: string[] = [];
  const seen = new Set<string>();
  for (const entry of pathVar.split(win ? ';' : ':')) {
    const dir = entry.replace(/^"(.*)"$/, '$1');
    if (!dir || !path.isAbsolute(dir)) continue; // relative PATH entries depend on the cwd: skip them
    for (const ext of exts) {
      const file = path.join(dir, name + ext);
      if (seen.has(file)) continue;
      seen.add(file);
      if (isExecutable(file, win)) found.push(file);
    }
  }
  return found;
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function isExecutable(file: string, win: boolean): boolean {
  if (!isFile(file)) return false;
  if (win) return true;
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function majorOf(version: string): number {
  const m = /^v?(\d+)\./.exec(version);
  return m?.[1] !== undefined ? Number(m[1]) : Number.NaN;
}

function expandHome(p: string): string {
  if (p === '~') return os.homedir();
  if (p.startsWith('~/') || p.startsWith('~\\')) return path.join(os.homedir(), p.slice(2));
  return p;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
