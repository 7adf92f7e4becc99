// Runs the extension test suite (test/vscode/suite) in a real VS Code.
//
//   VSCODE_PATH=/path/to/code node test/vscode/runTests.mjs    a desktop VS Code you have (@vscode/test-electron)
//   WINNOW_VSCODE_DOWNLOAD=1 node test/vscode/runTests.mjs     let @vscode/test-electron download one
//   WINNOW_CODE_SERVER=1 node test/vscode/runTests.mjs         code-server + Chromium instead (no internet needed:
//                                                              scripts/e2e-setup.sh installs it; =DIR names another
//                                                              code-server package folder; WINNOW_CHROMIUM the browser)
//
// With none of these, it prints that it skipped and exits 0 (machines without internet cannot
// download VS Code). On Linux without a display, run the desktop modes under xvfb-run.
// WINNOW_RECORDED_POOL: the recorded pool for the completion round trip (default
// ../shared/bench/humaneval/codegen16b_samples.jsonl from the repository root).
// WINNOW_KEEP_TMP=1 keeps the temporary workspace, settings and data folder (kept anyway on failure).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

const vscodePath = process.env.VSCODE_PATH;
const codeServerDir = vscodePath
  ? undefined
  : process.env.WINNOW_CODE_SERVER === '1'
    ? path.join(root, '.e2e', 'code-server', 'node_modules', 'code-server')
    : process.env.WINNOW_CODE_SERVER || undefined;
if (!vscodePath && !codeServerDir && process.env.WINNOW_VSCODE_DOWNLOAD !== '1') {
  console.log('vscode extension tests SKIPPED: no VS Code build (set VSCODE_PATH=/path/to/code, or WINNOW_VSCODE_DOWNLOAD=1 where there is internet)');
  console.log('(or WINNOW_CODE_SERVER=1 to run them in code-server after scripts/e2e-setup.sh)');
  process.exit(0);
}
if (vscodePath && !fs.existsSync(vscodePath)) {
  console.error(`VSCODE_PATH=${vscodePath} does not exist`);
  process.exit(1);
}
if (!codeServerDir && process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
  console.warn('warning: no DISPLAY; VS Code will probably not start. Run under xvfb-run -a.');
}

// 1. The bundles under test: the extension, the server and the engine.
const build = spawnSync(process.execPath, [path.join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('build failed');
  process.exit(1);
}

// 2. The suite, bundled for the extension host (vscode is provided by the host).
const esbuild = await import('esbuild');
const suiteOut = path.join(root, 'test', 'out', 'vscode', 'suite', 'index.js');
await esbuild.build({
  entryPoints: [path.join(root, 'test', 'vscode', 'suite', 'index.ts')],
  outfile: suiteOut,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'inline',
  external: ['vscode'],
  logLevel: 'warning',
});

// 3. A throwaway workspace (one Python file: the first prompt of the pool), user settings and
// data folder, so the run neither reads nor touches the developer's own.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'winnow-vscode-'));
const workspace = path.join(tmp, 'workspace');
const userData = path.join(tmp, 'user-data');
const extensionsDir = path.join(tmp, 'extensions');
const dataDir = path.join(tmp, 'data');
const pidFile = path.join(tmp, 'engine.pid');
for (const d of [path.join(workspace, '.vscode'), path.join(userData, 'User'), extensionsDir, dataDir]) fs.mkdirSync(d, { recursive: true });

const poolPath = path.resolve(root, process.env.WINNOW_RECORDED_POOL ?? '../shared/bench/humaneval/codegen16b_samples.jsonl');
const pool = fs.existsSync(poolPath) ? poolPath : '';
if (!pool) console.warn(`warning: no recorded pool at ${poolPath}; the completion round trip will be skipped`);
let prompt = 'def add(a, b):\n    """Return the sum of a and b."""\n';
if (pool) {
  const first = fs.readFileSync(pool, 'utf8').split('\n', 1)[0];
  prompt = JSON.parse(first).generation_prompt;
}
const file = path.join(workspace, 'main.py');
fs.writeFileSync(file, prompt);

const writeJson = (p, v) => fs.writeFileSync(p, JSON.stringify(v, null, 2));
// Machine-scoped settings (winnow.dataDir) are only read from user settings.
writeJson(path.join(userData, 'User', 'settings.json'), {
  'winnow.dataDir': dataDir,
  'editor.inlineSuggest.enabled': true,
  'workbench.startupEditor': 'none',
  'security.workspace.trust.enabled': false,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
});
// Resource settings in the workspace, as a user would have them.
writeJson(path.join(workspace, '.vscode', 'settings.json'), {
  'winnow.generator.backend': 'recorded',
  'winnow.generator.recordedPool': pool,
});

// 4. Run. VS Code must not start as plain Node because of an inherited variable.
delete process.env.ELECTRON_RUN_AS_NODE;
const testEnv = {
  WINNOW_TEST_FILE: file,
  WINNOW_TEST_POOL: pool,
  WINNOW_TEST_DATA_DIR: dataDir,
  WINNOW_TEST_PIDFILE: pidFile,
};
let code = 1;
try {
  if (codeServerDir) {
    const { runInCodeServer } = await import('./codeServer.mjs');
    code = await runInCodeServer({
      root,
      codeServerDir,
      chromiumPath: process.env.WINNOW_CHROMIUM ?? '/usr/bin/chromium',
      workspace,
      userData,
      extensionsDir,
      suiteOut,
      env: testEnv,
    });
  } else {
    const { runTests } = await import('@vscode/test-electron');
    code = await runTests({
      ...(vscodePath ? { vscodeExecutablePath: vscodePath } : {}),
      extensionDevelopmentPath: root,
      extensionTestsPath: suiteOut,
      launchArgs: [workspace, '--disable-extensions', `--user-data-dir=${userData}`, `--extensions-dir=${extensionsDir}`],
      extensionTestsEnv: testEnv,
    });
  }
} catch (err) {
  console.error(`vscode extension tests failed: ${err instanceof Error ? err.message : String(err)}`);
  code = 1;
} finally {
  // The engine is a per-user process that outlives the window; stop the one this run started.
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    if (Number.isInteger(pid) && pid > 0) {
      process.kill(pid, 'SIGTERM');
      console.log(`stopped the test engine (pid ${pid})`);
    }
  } catch {
    // no pid written, or the engine already exited
  }
  if (process.env.WINNOW_KEEP_TMP === '1' || code !== 0) console.log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(code);
