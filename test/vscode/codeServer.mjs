// Runs the extension test suite in code-server (VS Code's server build, shown in Chromium and
// driven by playwright-core) instead of a downloaded desktop VS Code: the way to run it on
// machines without internet, where code-server comes from the npm registry (see
// scripts/e2e-setup.sh and shared/VSCODE-E2E.md). The extension and the suite are loaded the way
// @vscode/test-web does it: the workbench URL's `payload` names extensionDevelopmentPath and
// extensionTestsPath. The remote extension host forwards the suite's console output to the
// page, where the summary line ("N passed, M failed, K skipped") gives the result.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

const SUMMARY = /(\d+) passed, (\d+) failed, (\d+) skipped/;

/** @returns {Promise<number>} the exit code: 0 when every test passed */
export async function runInCodeServer({ root, codeServerDir, chromiumPath, workspace, userData, extensionsDir, suiteOut, env, timeoutMs = 300_000 }) {
  const entry = path.join(codeServerDir, 'out', 'node', 'entry.js');
  if (!fs.existsSync(entry)) throw new Error(`no code-server at ${codeServerDir} (run scripts/e2e-setup.sh)`);
  if (!fs.existsSync(chromiumPath)) throw new Error(`no Chromium at ${chromiumPath} (set WINNOW_CHROMIUM)`);
  const { chromium } = await import('playwright-core');

  // In a remote window, machine-scoped settings (winnow.dataDir) come from the machine's settings.
  const user = path.join(userData, 'User', 'settings.json');
  fs.mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  fs.copyFileSync(user, path.join(userData, 'Machine', 'settings.json'));

  const port = await freePort();
  const authority = `127.0.0.1:${port}`;
  const logFile = path.join(path.dirname(userData), 'code-server.log');
  const log = fs.createWriteStream(logFile);
  const server = spawn(
    process.execPath,
    [entry, '--auth', 'none', '--bind-addr', authority, '--extensions-dir', extensionsDir, '--user-data-dir', userData,
      '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', workspace],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  const consoleLines = [];
  let printing = false;
  let browser;
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`code-server did not start within 60 s (log: ${logFile})`)), 60_000);
      server.once('exit', (code) => reject(new Error(`code-server exited with ${code} (log: ${logFile})`)));
      server.stdout.on('data', (d) => {
        if (String(d).includes('HTTP server listening')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    browser = await chromium.launch({
      executablePath: chromiumPath,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    const page = await browser.newPage();
    const summary = new Promise((resolve) => {
      page.on('console', (m) => {
        const text = m.text().replace(/^%c\s*\w+\s*color:\s*#\w+\s*/, '');
        consoleLines.push(text);
        // Everything from the suite's first line to its summary (stack traces included).
        if (text.startsWith('Winnow extension tests')) printing = true;
        if (printing) console.log(text);
        const s = SUMMARY.exec(text);
        if (s) resolve({ passed: Number(s[1]), failed: Number(s[2]) });
      });
    });
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${authority}${root}`],
      ['extensionTestsPath', `vscode-remote://${authority}${suiteOut}`],
    ];
    await page.goto(`http://${authority}/?folder=${encodeURIComponent(workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    let timer;
    const result = await Promise.race([summary, new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)))]);
    clearTimeout(timer);
    if (!result) {
      console.error(`no test summary within ${timeoutMs / 1000} s; the page's last console lines:\n${consoleLines.slice(-40).join('\n')}`);
      return 1;
    }
    return result.failed === 0 && result.passed > 0 ? 0 : 1;
  } finally {
    await browser?.close().catch(() => undefined);
    server.kill('SIGTERM');
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
