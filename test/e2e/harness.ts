// Shared by the end-to-end tests (test/e2e/*.e2e.ts): the packaged VSIX installed in a real
// VS Code (code-server 4.100.3, VS Code 1.100.3) shown in Chromium, with the recorded backend.
//
// Environment:
//   WINNOW_RECORDED_POOL   JSONL pool (default: <repo>/../shared/bench/humaneval/codegen16b_samples.jsonl)
//   WINNOW_E2E_TASK        task of the pool written to the workspace files (default HumanEval/23)
//   WINNOW_E2E_VSIX        the VSIX to install (default: the newest winnow-*.vsix in the repo root)
//   WINNOW_E2E_CODE_SERVER code-server package folder (default: .e2e/code-server/node_modules/code-server)
//   WINNOW_E2E_CHROMIUM    browser executable (default /usr/bin/chromium)
//   WINNOW_E2E_OUT         screenshots folder (default test/e2e/out); each test file writes to a subfolder
//   WINNOW_E2E_SETTINGS    JSON object merged into User/settings.json (e.g. {"winnow.trace.server": "verbose"})
//   WINNOW_E2E_LOG         code-server's --log level (trace shows the LSP traffic in the Winnow logs)
//   WINNOW_E2E_KEEP=1      keep the temp folders (they are always kept when a step fails)
//   WINNOW_E2E_DOCS=1      also write the README's screenshots to docs/images (see docShot; npm run screenshots)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

export const repoRoot = path.resolve(__dirname, '..', '..');
export const poolPath =
  process.env.WINNOW_RECORDED_POOL ?? path.join(path.dirname(repoRoot), 'shared', 'bench', 'humaneval', 'codegen16b_samples.jsonl');
export const taskId = process.env.WINNOW_E2E_TASK ?? 'HumanEval/23';
const codeServerDir = process.env.WINNOW_E2E_CODE_SERVER ?? path.join(repoRoot, '.e2e', 'code-server', 'node_modules', 'code-server');
const chromiumPath = process.env.WINNOW_E2E_CHROMIUM ?? '/usr/bin/chromium';
const outRoot = process.env.WINNOW_E2E_OUT ?? path.join(repoRoot, 'test', 'e2e', 'out');
export const engineCli = path.join(repoRoot, 'engine', 'out', 'cli.js');

export const GHOST_TIMEOUT_MS = 45_000; // the first request also starts the engine
export const EVENTS_TIMEOUT_MS = 30_000;

export interface PoolEntry {
  task_id: string;
  generation_prompt: string;
  samples: string[];
}

export interface EngineEvent {
  id?: number;
  time: number;
  kind: string;
  requestId?: string;
  candidateId?: string;
  rank?: number;
  data?: Record<string, unknown> | null;
  [k: string]: unknown;
}

/** A child environment without the test runner's own variables. */
export function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  return env;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` until it returns a value other than undefined, or throws after `ms`. */
export async function waitFor<T>(what: string, ms: number, check: () => Promise<T | undefined> | T | undefined, everyMs = 250): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    }
    await sleep(everyMs);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function httpStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 2000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

function tail(file: string, lines = 60): string {
  try {
    const all = fs.readFileSync(file, 'utf8').split('\n');
    return all.slice(-lines).join('\n');
  } catch (e) {
    return `(cannot read ${file}: ${String(e)})`;
  }
}

function filesUnder(dir: string, pick: (f: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (pick(p)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

function findVsix(): string {
  if (process.env.WINNOW_E2E_VSIX) return path.resolve(process.env.WINNOW_E2E_VSIX);
  const found = fs
    .readdirSync(repoRoot)
    .filter((f) => /^winnow-.*\.vsix$/.test(f))
    .map((f) => path.join(repoRoot, f))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!found[0]) throw new Error(`no winnow-*.vsix in ${repoRoot}: run npm run package`);
  return found[0];
}

/** The pool's entry for `id` (default: WINNOW_E2E_TASK, else HumanEval/23). */
export function poolEntry(id = taskId): PoolEntry {
  if (!fs.existsSync(poolPath)) throw new Error(`recorded pool not found: ${poolPath} (set WINNOW_RECORDED_POOL)`);
  for (const line of fs.readFileSync(poolPath, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const e = JSON.parse(line) as PoolEntry;
    if (e.task_id === id) return e;
  }
  throw new Error(`${id} is not in ${poolPath}`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function killGroup(child: ChildProcess | undefined): Promise<void> {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
  const t = setTimeout(() => {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 5000);
  await exited;
  clearTimeout(t);
  try {
    process.kill(-pid, 'SIGKILL'); // stragglers of the group (extension host, language server)
  } catch {
    // none left
  }
}

/** Whether `pid` is an engine serving `dataDir` (checked on Linux, where /proc says). */
function isEngineOf(pid: number, dataDir: string): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(dataDir);
  } catch {
    return process.platform !== 'linux';
  }
}

export interface E2EOptions {
  /** Names the screenshots subfolder (test/e2e/out/<name>). */
  name: string;
  /** Workspace files: name → content. */
  files: Record<string, string>;
  /** Extra User/settings.json entries (WINNOW_E2E_SETTINGS still applies on top). */
  settings?: Record<string, unknown>;
}

/** One code-server + Chromium session with Winnow's VSIX installed, and the steps' bookkeeping. */
export class E2E {
  readonly tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-e2e-'));
  readonly dirs = {
    userData: path.join(this.tmp, 'user-data'),
    extensions: path.join(this.tmp, 'extensions'),
    workspace: path.join(this.tmp, 'workspace'),
    data: path.join(this.tmp, 'winnow-data'),
  };
  readonly outDir: string;
  private readonly codeServerLog = path.join(this.tmp, 'code-server.log');
  private codeServer: ChildProcess | undefined;
  private browser: Browser | undefined;
  private pageOrNone: Page | undefined;
  private lastScreenshot: string | undefined;
  private shot = 0;
  failed = false;
  baseUrl = '';

  constructor(private readonly opts: E2EOptions) {
    this.outDir = path.join(outRoot, opts.name);
    // Last resort if the runner is interrupted: no code-server left behind.
    process.on('exit', () => {
      const cs = this.codeServer;
      if (cs?.pid && cs.exitCode === null) {
        try {
          process.kill(-cs.pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }

  get page(): Page {
    if (!this.pageOrNone) throw new Error('the browser page is not open');
    return this.pageOrNone;
  }

  private codeServerEntry(): string {
    return path.join(codeServerDir, 'out', 'node', 'entry.js');
  }

  private codeServerArgs(): string[] {
    return [
      '--config',
      path.join(this.tmp, 'code-server.yaml'),
      '--extensions-dir',
      this.dirs.extensions,
      '--user-data-dir',
      this.dirs.userData,
      '--disable-telemetry',
      '--disable-update-check',
      ...(process.env.WINNOW_E2E_LOG ? ['--log', process.env.WINNOW_E2E_LOG] : []),
    ];
  }

  /** Installs the VSIX, writes the settings and the workspace, starts code-server and the browser. */
  async start(): Promise<void> {
    try {
      await this.doStart();
    } catch (e) {
      this.failed = true;
      this.dumpDiagnostics();
      throw e;
    }
  }

  private async doStart(): Promise<void> {
    const dirs = this.dirs;
    for (const d of Object.values(dirs)) fs.mkdirSync(d, { recursive: true });
    if (!fs.existsSync(this.codeServerEntry())) throw new Error(`code-server not found at ${codeServerDir}: run scripts/e2e-setup.sh`);

    // Install the real VSIX into the extensions folder.
    const vsix = findVsix();
    console.log(`# installing ${path.relative(repoRoot, vsix)} (${(fs.statSync(vsix).size / 1048576).toFixed(1)} MiB)`);
    const install = spawnSync(process.execPath, [this.codeServerEntry(), ...this.codeServerArgs(), '--install-extension', vsix], {
      encoding: 'utf8',
      timeout: 120_000,
      env: childEnv(),
    });
    if (install.status !== 0 || !/successfully installed/i.test(install.stdout + install.stderr)) {
      throw new Error(`--install-extension failed (${install.status ?? install.signal}):\n${install.stdout}\n${install.stderr}`);
    }

    fs.mkdirSync(path.join(dirs.userData, 'User'), { recursive: true });
    fs.writeFileSync(
      path.join(dirs.userData, 'User', 'settings.json'),
      JSON.stringify(
        {
          'security.workspace.trust.enabled': false,
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'extensions.ignoreRecommendations': true,
          'telemetry.telemetryLevel': 'off',
          'git.enabled': false,
          'editor.inlineSuggest.enabled': true,
          // The README's screenshots (docShot) are dark; code-server's default is Light Modern.
          'workbench.colorTheme': 'Default Dark Modern',
          'winnow.generator.backend': 'recorded',
          'winnow.generator.recordedPool': poolPath,
          'winnow.dataDir': dirs.data,
          ...this.opts.settings,
          ...(JSON.parse(process.env.WINNOW_E2E_SETTINGS ?? '{}') as Record<string, unknown>),
        },
        null,
        2,
      ),
    );
    // VS Code 1.100 binds no key to "Trigger Inline Suggestion": bind Alt+\\ for the retries.
    fs.writeFileSync(
      path.join(dirs.userData, 'User', 'keybindings.json'),
      JSON.stringify([{ key: 'alt+\\', command: 'editor.action.inlineSuggest.trigger', when: 'editorTextFocus && !editorReadonly' }], null, 2),
    );
    for (const [name, text] of Object.entries(this.opts.files)) fs.writeFileSync(path.join(dirs.workspace, name), text);

    const port = await freePort();
    this.baseUrl = `http://127.0.0.1:${port}`;
    const log = fs.openSync(this.codeServerLog, 'a');
    const cs = spawn(
      process.execPath,
      [this.codeServerEntry(), ...this.codeServerArgs(), '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, dirs.workspace],
      { stdio: ['ignore', log, log], detached: true, env: childEnv() },
    );
    this.codeServer = cs;
    fs.closeSync(log);
    const exited = new Promise<never>((_, reject) =>
      cs.once('exit', (code, signal) => reject(new Error(`code-server exited early (${code ?? signal}):\n${tail(this.codeServerLog)}`))),
    );
    exited.catch(() => undefined);
    await Promise.race([
      exited,
      waitFor('code-server to answer /healthz', 60_000, async () => ((await httpStatus(`${this.baseUrl}/healthz`)) === 200 ? true : undefined)),
    ]);

    this.browser = await chromium.launch({
      executablePath: chromiumPath,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    const context = await this.browser.newContext({ viewport: { width: 1400, height: 900 } });
    this.pageOrNone = await context.newPage();
  }

  /** Closes the browser, code-server and the engine; removes the temp folders unless a step failed. */
  async stop(): Promise<void> {
    await this.browser?.close().catch(() => undefined);
    await killGroup(this.codeServer);
    await this.stopEngine();
    if (!this.failed && !process.env.WINNOW_E2E_KEEP) fs.rmSync(this.tmp, { recursive: true, force: true });
    else console.log(`# temp folders kept in ${this.tmp}`);
  }

  private async stopEngine(): Promise<void> {
    const dirs = this.dirs;
    if (fs.existsSync(engineCli)) {
      spawnSync(process.execPath, [engineCli, 'stop', '--data-dir', dirs.data], { timeout: 15_000, stdio: 'ignore', env: childEnv() });
    }
    // Whatever is left: the pid in engine.json ({pid, endpoint, ...}) or engine.lock (the pid).
    let pid: number | undefined;
    try {
      pid = (JSON.parse(fs.readFileSync(path.join(dirs.data, 'engine.json'), 'utf8')) as { pid?: number }).pid;
    } catch {
      pid = Number.parseInt(fs.existsSync(path.join(dirs.data, 'engine.lock')) ? fs.readFileSync(path.join(dirs.data, 'engine.lock'), 'utf8') : '', 10);
    }
    if (!pid || Number.isNaN(pid) || !isAlive(pid) || !isEngineOf(pid, dirs.data)) return;
    process.kill(pid, 'SIGTERM');
    const deadline = Date.now() + 5000;
    while (isAlive(pid) && Date.now() < deadline) await sleep(100);
    if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  }

  /** Writes test/e2e/out/<test>/NN-<name>.png (numbered in order); returns its path, or undefined if none was taken. */
  async screenshot(name: string): Promise<string | undefined> {
    if (!this.pageOrNone) return undefined;
    // Screenshots of an earlier run would mix with this one's.
    if (this.shot === 0) fs.rmSync(this.outDir, { recursive: true, force: true });
    fs.mkdirSync(this.outDir, { recursive: true });
    const file = path.join(this.outDir, `${String(++this.shot).padStart(2, '0')}-${name}.png`);
    try {
      await this.pageOrNone.screenshot({ path: file, timeout: 10_000 });
      this.lastScreenshot = file;
      return file;
    } catch {
      // a screenshot is a diagnostic; never the failure itself
      return undefined;
    }
  }

  /** Runs one step; skips it after an earlier failure; on failure, leaves a screenshot and the logs. */
  async step(t: TestContext, name: string, body: () => Promise<void>): Promise<void> {
    if (this.failed) {
      t.skip('an earlier step failed');
      return;
    }
    try {
      await body();
    } catch (e) {
      this.failed = true;
      await this.screenshot(`FAILED-${name}`);
      this.dumpDiagnostics();
      throw e;
    }
  }

  /** Lines of Winnow's output channels (the extension's and the language server's logs) that match `re`. */
  winnowLogLines(re: RegExp): string[] {
    const files = filesUnder(path.join(this.dirs.userData, 'logs'), (f) => f.endsWith('.log') && /winnow/i.test(path.basename(f)));
    return files.flatMap((f) => {
      try {
        return fs.readFileSync(f, 'utf8').split('\n').filter((l) => re.test(l));
      } catch {
        return [];
      }
    });
  }

  dumpDiagnostics(): void {
    const parts = [`==== code-server log (${this.codeServerLog}) ====`, tail(this.codeServerLog, 80)];
    // The extension host's log, Winnow's output channels, and the engine's own logs.
    const logs = [
      ...filesUnder(
        path.join(this.dirs.userData, 'logs'),
        (f) => f.endsWith('.log') && (/winnow/i.test(path.basename(f)) || /^(remote)?exthost\.log$/.test(path.basename(f))),
      ),
      ...filesUnder(this.dirs.data, (f) => f.endsWith('.log')),
    ];
    for (const f of logs) parts.push(`==== ${f} ====`, tail(f, 40));
    parts.push(`==== last screenshot: ${this.lastScreenshot ?? '(none)'} ====`, `==== temp folders kept in ${this.tmp} ====`);
    console.error(parts.join('\n'));
  }

  /** The engine's store, through `winnow events --json`. */
  engineEvents(): EngineEvent[] {
    const r = spawnSync(process.execPath, [engineCli, 'events', '--json', '--data-dir', this.dirs.data], {
      encoding: 'utf8',
      timeout: 15_000,
      env: childEnv(),
    });
    if (r.status !== 0) throw new Error(`engine events exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
    const parsed = JSON.parse(r.stdout) as { events?: EngineEvent[] };
    return parsed.events ?? [];
  }

  /**
   * Completion requests the engine has answered since it started (`winnow status --json`:
   * requestsServed) and has stored in all (store.requests). Undefined while no engine runs.
   */
  engineCompletions(): { served: number; stored: number } | undefined {
    const r = spawnSync(process.execPath, [engineCli, 'status', '--json', '--data-dir', this.dirs.data], {
      encoding: 'utf8',
      timeout: 15_000,
      env: childEnv(),
    });
    if (r.status !== 0) throw new Error(`engine status exited with ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().slice(0, 500)}`);
    const s = JSON.parse(r.stdout) as { running?: boolean; requestsServed?: number; store?: { requests?: number } };
    if (!s.running || s.requestsServed === undefined) return undefined;
    return { served: s.requestsServed, stored: s.store?.requests ?? 0 };
  }

  /** Loads the workbench with the workspace folder open. */
  async openWorkbench(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/?folder=${encodeURIComponent(this.dirs.workspace)}`);
    await this.page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  }

  /** Opens a workspace file from the explorer and waits for `firstWords` in the editor. */
  async openFile(name: string, firstWords: string): Promise<void> {
    const p = this.page;
    const item = p.locator('.explorer-folders-view .monaco-list-row', { hasText: name });
    await item.first().waitFor({ timeout: 30_000 });
    await item.first().click();
    await waitFor(`${name} in the editor (${firstWords})`, 30_000, async () => {
      const tab = p.locator('.tabs-container .tab.active', { hasText: name });
      return (await tab.count()) > 0 && (await editorText(p)).includes(firstWords) ? true : undefined;
    });
  }

  /**
   * Runs a command from the command palette as a person does: F1, its title, Enter (Ctrl+P
   * and Ctrl+Shift+P are the browser's). Waits for the palette to list the command first.
   */
  async runCommand(title: string): Promise<void> {
    const p = this.page;
    await p.keyboard.press('F1');
    const input = p.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill(`>${title}`);
    await p.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 10_000 });
    await p.keyboard.press('Enter');
  }

  /** The messages of the notification toasts on screen (a progress notification's is its title, then its progress line). */
  async notifications(): Promise<string[]> {
    const messages = this.page.locator('.notifications-toasts .notification-toast .notification-list-item-message');
    return (await messages.allInnerTexts()).map((t) => t.replace(/\u00a0/g, ' ').replace(/\s+/g, ' ').trim());
  }

  /** Waits (bounded, not fatal: it only makes screenshots readable) until the toasts on screen have faded in. */
  async settledToasts(): Promise<void> {
    const toasts = this.page.locator('.notifications-toasts .notification-toast');
    await waitFor('the notifications to fade in', 5000, async () => {
      const n = await toasts.count();
      return n > 0 && (await this.page.locator('.notifications-toasts .notification-toast.notification-fade-in-done').count()) === n ? true : undefined;
    }, 100).catch(() => undefined);
  }

  /** The Winnow status bar item. */
  statusItem() {
    return this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').filter({ hasText: /Winnow/ });
  }

  /** Waits for Winnow's status bar item, then (bounded, not fatal) until it no longer says it is starting. */
  async waitForWinnow(): Promise<{ first: string; ready: string }> {
    const item = this.statusItem();
    const first = await waitFor('a Winnow status bar item', 30_000, async () =>
      (await item.count()) > 0 ? (await item.first().innerText()).trim() : undefined,
    );
    // Typing before the language client has registered its provider gets no request at
    // all (VS Code asks the providers it has on each keystroke), so wait until Winnow no
    // longer says it is starting; bounded, and not fatal: the ghost text step retries.
    const ready = await waitFor('Winnow to finish starting', 30_000, async () => {
      const now = (await item.first().innerText()).trim();
      return /starting/i.test(now) ? undefined : now;
    }).catch((e: Error) => `(still starting: ${e.message})`);
    return { first, ready };
  }

  /**
   * With the cursor at the end of a prompt that ends with a newline, types the body's
   * indentation (the recorded backend ignores trailing whitespace), which triggers the inline
   * completion the way a user does, and waits for ghost text. Returns the cursor line's ghost
   * text and how long it took.
   */
  async typeIndentAndWaitForGhost(timeoutMs = GHOST_TIMEOUT_MS): Promise<{ ghost: string; ms: number; retries: number }> {
    const p = this.page;
    await p.keyboard.type('    ');
    const ghost = p.locator('.monaco-editor .view-lines .ghost-text-decoration');
    const start = Date.now();
    let retries = 0;
    const text = await waitFor('.ghost-text-decoration', timeoutMs, async () => {
      if ((await ghost.count()) > 0) {
        // The line's ghost text may be split into several spans (one per token).
        const t = (await ghost.allInnerTexts()).join('').replace(/\u00a0/g, ' ');
        if (t.trim()) return t;
      }
      // No ghost text yet (the first request may have raced the extension's start): every
      // 5 s, retype the last space (VS Code does not repeat a request for an unchanged
      // document and position) and ask with "Trigger Inline Suggestion" (Alt+\).
      if (Date.now() - start > 5000 * (retries + 1)) {
        retries++;
        await p.keyboard.press('Backspace');
        await p.keyboard.type(' ');
        await p.keyboard.press('Alt+Backslash');
      }
      return undefined;
    });
    return { ghost: text, ms: Date.now() - start, retries };
  }
}

export interface Clip {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Where the README's screenshots go (docShot). */
export const docsImagesDir = path.join(repoRoot, 'docs', 'images');

/**
 * With WINNOW_E2E_DOCS=1 (npm run screenshots): writes the page as it is now, or the `clip`
 * of it, to docs/images/<name>.png, the README's pictures, so that they show what the tests
 * saw. Otherwise does nothing. A failure to write is the step's failure: the run is for them.
 */
export async function docShot(page: Page, name: string, clip?: Clip): Promise<void> {
  if (process.env.WINNOW_E2E_DOCS !== '1') return;
  fs.mkdirSync(docsImagesDir, { recursive: true });
  const file = path.join(docsImagesDir, `${name}.png`);
  await page.screenshot({ path: file, timeout: 10_000, ...(clip ? { clip: clampClip(page, clip) } : {}) });
  console.log(`# docs: wrote ${path.relative(repoRoot, file)}`);
}

/** The clip inside the viewport, in whole pixels. */
function clampClip(page: Page, c: Clip): Clip {
  const v = page.viewportSize() ?? { width: 1400, height: 900 };
  const x = Math.max(0, Math.floor(c.x));
  const y = Math.max(0, Math.floor(c.y));
  return { x, y, width: Math.min(v.width - x, Math.ceil(c.width)), height: Math.min(v.height - y, Math.ceil(c.height)) };
}

/** The box around the elements `selectors` match (the visible ones, each), with `pad` pixels around. */
export async function boxAround(page: Page, selectors: string[], pad = 8): Promise<Clip> {
  const boxes: Clip[] = [];
  for (const sel of selectors) {
    for (const l of await page.locator(sel).all()) {
      const b = await l.boundingBox();
      if (b && b.width > 0 && b.height > 0) boxes.push(b);
    }
  }
  if (boxes.length === 0) throw new Error(`nothing visible matches ${selectors.join(', ')}`);
  const x0 = Math.min(...boxes.map((b) => b.x)) - pad;
  const y0 = Math.min(...boxes.map((b) => b.y)) - pad;
  const x1 = Math.max(...boxes.map((b) => b.x + b.width)) + pad;
  const y1 = Math.max(...boxes.map((b) => b.y + b.height)) + pad;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

/**
 * The lines of a suggestion below the cursor line: VS Code 1.100 renders them in a view zone
 * (`.view-zones .suggest-preview-text .view-line`, each token a `span.ghost-text`); older
 * versions in a `.ghost-text` block.
 */
export const GHOST_LINES_SELECTOR = '.monaco-editor .suggest-preview-text .view-line, .monaco-editor .ghost-text .view-line';

/**
 * The whole ghost text: the cursor line's part plus the lines rendered below it, read from the
 * focused editor only (editors of other tabs may still hold an old suggestion's lines).
 */
export async function fullGhostText(p: Page): Promise<string> {
  // A string, not a function: this project compiles without the DOM library.
  const parts = (await p.evaluate(`(() => {
    const editor = document.querySelector('.monaco-editor.focused') ?? document.querySelector('.monaco-editor .view-lines .ghost-text-decoration')?.closest('.monaco-editor');
    if (!editor) return [];
    const inline = [...editor.querySelectorAll('.view-lines .ghost-text-decoration')].map((e) => e.textContent ?? '').join('');
    const more = [...editor.querySelectorAll(${JSON.stringify(GHOST_LINES_SELECTOR.replace(/\.monaco-editor /g, ''))})].map((l) => l.textContent ?? '');
    return [inline, ...more];
  })()`)) as string[];
  return parts.join('\n').replace(/\u00a0/g, ' ').trim();
}

/**
 * The text of the editor's rendered lines, top to bottom, without ghost text (the first
 * line of a suggestion is injected into the line it belongs to), with non-breaking
 * spaces as spaces. Only visible lines are rendered.
 */
export async function editorText(p: Page): Promise<string> {
  // A string, not a function: this project compiles without the DOM library.
  const text = await p.evaluate(`(() => {
    const root = document.querySelector('.part.editor .monaco-editor .view-lines') ?? document.querySelector('.monaco-editor .view-lines');
    if (!root) return '';
    const lines = [...root.querySelectorAll('.view-line')].map((line) => {
      const copy = line.cloneNode(true);
      copy.querySelectorAll('[class*="ghost-text"]').forEach((g) => g.remove());
      return { top: parseFloat(line.style.top) || 0, text: copy.textContent };
    });
    return lines.sort((a, b) => a.top - b.top).map((l) => l.text).join('\\n');
  })()`);
  return String(text).replace(/\u00a0/g, ' ');
}
