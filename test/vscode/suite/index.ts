/**
 * The extension test suite, run inside VS Code's extension host by @vscode/test-electron
 * (see ../runTests.mjs, which prepares the workspace, the settings and the environment).
 *
 * What it checks, in order: the extension activates when a Python file opens; its commands are
 * registered; the status bar item opens the status menu; the settings' defaults are the ones
 * the manifest declares; the language server starts and the engine reports ready; and, with
 * the `recorded` generator backend, one completion round trip through VS Code itself: the
 * inline-suggest trigger reaches the server, the middleware logs `shown`, committing the ghost
 * text inserts it and the item's command logs `accepted`.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { WinnowApi } from '../../../client/src/api';
import { ACCEPT_COMMAND, type FeedbackParams, type StatusParams } from '../../../server/src/protocol';
import { nextEvent, runAll, skip, waitFor, type TestCase } from './runner';

const EXTENSION_ID = 'winnow-dev.winnow';

const env = {
  /** The Python file to open: the first prompt of the recorded pool, cursor goes at its end. */
  file: required('WINNOW_TEST_FILE'),
  /** The recorded pool the workspace settings point at; empty when there is none. */
  pool: process.env.WINNOW_TEST_POOL ?? '',
  /** The data folder set in the user settings. */
  dataDir: required('WINNOW_TEST_DATA_DIR'),
  /** Where to write the engine's pid, so the runner can stop it after the run. */
  pidFile: process.env.WINNOW_TEST_PIDFILE ?? '',
};

interface Manifest {
  contributes: {
    commands: { command: string }[];
    configuration: { properties: Record<string, { default?: unknown }> };
  };
}

let ext: vscode.Extension<WinnowApi | undefined> | undefined;
let api: WinnowApi | undefined;
let doc: vscode.TextDocument | undefined;

function theApi(): WinnowApi {
  assert.ok(api, 'the extension returned no API (did it activate?)');
  return api;
}

const tests: TestCase[] = [
  {
    name: 'activates when a Python file opens',
    timeoutMs: 60_000,
    fn: async () => {
      ext = vscode.extensions.getExtension<WinnowApi | undefined>(EXTENSION_ID);
      assert.ok(ext, `${EXTENSION_ID} is not installed in the extension host`);
      console.log(`    active before opening a Python file: ${ext.isActive}`);
      doc = await vscode.workspace.openTextDocument(vscode.Uri.file(env.file));
      assert.equal(doc.languageId, 'python');
      await vscode.window.showTextDocument(doc);
      const e = ext;
      // `isActive` turns true once `activate` has returned, which includes starting the server.
      await waitFor('the extension to activate', () => e.isActive, 45_000);
      api = e.exports;
      assert.ok(api, 'activate returned no API: it failed, see the "Winnow" output channel');
    },
  },
  {
    name: 'registers its commands',
    timeoutMs: 5_000,
    fn: async () => {
      assert.ok(ext);
      const manifest = ext.packageJSON as Manifest;
      const all = new Set(await vscode.commands.getCommands(true));
      const expected = [...manifest.contributes.commands.map((c) => c.command), ACCEPT_COMMAND];
      assert.ok(expected.length >= 5);
      for (const id of expected) assert.ok(all.has(id), `command ${id} is not registered`);
    },
  },
  {
    name: 'the status bar item opens the status menu',
    timeoutMs: 5_000,
    fn: async () => {
      const bar = theApi().statusBar();
      assert.equal(bar.command, 'winnow.showStatusMenu');
      assert.match(bar.text, /Winnow/);
      assert.ok((await vscode.commands.getCommands(true)).includes(bar.command));
    },
  },
  {
    name: 'settings defaults are as declared in the manifest',
    timeoutMs: 5_000,
    fn: () => {
      assert.ok(ext);
      const props = (ext.packageJSON as Manifest).contributes.configuration.properties;
      const keys = Object.keys(props);
      assert.ok(keys.length >= 12, `only ${keys.length} settings declared`);
      const cfg = vscode.workspace.getConfiguration();
      for (const key of keys) {
        const inspected = cfg.inspect(key);
        assert.ok(inspected, `setting ${key} is unknown to VS Code`);
        assert.deepEqual(inspected.defaultValue, props[key]?.default, `default of ${key}`);
      }
      // The run's own settings are in effect (runTests.mjs writes them).
      assert.equal(cfg.get('winnow.dataDir'), env.dataDir);
    },
  },
  {
    name: 'the language server runs and the engine reports ready',
    timeoutMs: 90_000,
    fn: async () => {
      const a = theApi();
      await waitFor('the language server to run', () => a.isRunning(), 30_000);
      if (a.status?.state !== 'ready') {
        await nextEvent<StatusParams>('winnow/status "ready"', a.onDidChangeStatus, (s) => s.state === 'ready', 60_000).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}; last status: ${JSON.stringify(a.status)}`);
        });
      }
      const status = await a.engineStatus();
      assert.equal(status.state, 'ready', JSON.stringify(status));
      assert.ok(status.engine, `no engine details: ${JSON.stringify(status)}`);
      assert.equal(status.engine.dataDir, env.dataDir);
      assert.match(a.statusBar().text, /^\$\((sparkle|warning)\) Winnow (CPU|CUDA)/);
      if (env.pidFile) fs.writeFileSync(env.pidFile, String(status.engine.pid));
    },
  },
  {
    name: 'an inline completion round trip: shown, then accepted',
    timeoutMs: 60_000,
    fn: async () => {
      if (!env.pool) skip('no recorded pool (set WINNOW_RECORDED_POOL)');
      const a = theApi();
      assert.ok(doc);
      const editor = await vscode.window.showTextDocument(doc);
      const before = doc.getText();
      const end = doc.positionAt(before.length);
      editor.selection = new vscode.Selection(end, end);

      const shown = nextEvent<FeedbackParams>('"shown" feedback', a.onDidSendFeedback, (f) => f.kind === 'shown', 30_000);
      await vscode.commands.executeCommand('editor.action.inlineSuggest.trigger');
      const first = await shown.catch((err: unknown) => {
        throw new Error(`${(err as Error).message}: the server returned no items; last status: ${JSON.stringify(a.status)}`);
      });
      assert.equal(first.item.rank, 0);
      assert.ok(first.item.of >= 1);

      const accepted = nextEvent<FeedbackParams>(
        '"accepted" feedback',
        a.onDidSendFeedback,
        (f) => f.kind === 'accepted' && f.item.requestId === first.item.requestId,
        20_000,
      );
      // The stable API has no signal for "ghost text is on screen", and the commit command is a
      // no-op until it is; so commit until the document changes, within a deadline.
      const d = doc;
      await waitFor(
        'committing the ghost text to change the document',
        async () => {
          await vscode.commands.executeCommand('editor.action.inlineSuggest.commit');
          return d.getText() !== before;
        },
        15_000,
        100,
      );
      const after = d.getText();
      const lineStart = d.offsetAt(new vscode.Position(end.line, 0));
      assert.ok(after.startsWith(before.slice(0, lineStart)), 'the completion changed lines above the cursor');
      assert.ok(after.length > before.length, 'the completion inserted nothing');
      const acc = await accepted;
      assert.equal(acc.item.requestId, first.item.requestId);
      console.log(`    accepted ${acc.item.candidateId} (rank ${acc.item.rank} of ${acc.item.of}), inserted ${after.length - before.length} characters`);
    },
  },
  {
    name: 'Export Dataset writes the triplets as JSONL; Purge Dataset empties the store',
    timeoutMs: 60_000,
    fn: async () => {
      if (!env.pool) skip('needs the completion round trip (no recorded pool)');
      const out = `${env.dataDir}/export/triplets.jsonl`;
      // With a path argument the command skips its save dialog (as it does for other extensions).
      await vscode.commands.executeCommand('winnow.exportDataset', out);
      await waitFor('the export file', () => fs.existsSync(out), 30_000);
      const lines = fs.readFileSync(out, 'utf8').split('\n').filter(Boolean);
      for (const line of lines) {
        const t = JSON.parse(line) as Record<string, unknown>;
        for (const k of ['prompt', 'chosen', 'rejected', 'source', 'weight', 'split']) assert.ok(k in t, `${k} in ${line.slice(0, 80)}`);
      }
      console.log(`    exported ${lines.length} triplets`);
      // `true` stands for the confirmation the modal asks a person for.
      await vscode.commands.executeCommand('winnow.purgeDataset', true);
      const status = await theApi().engineStatus();
      assert.ok(status.engine, JSON.stringify(status));
      const store = status.engine.store;
      assert.deepEqual([store?.requests, store?.events], [0, 0], 'the store is empty after the purge');
    },
  },
  {
    name: 'Run Tests links the test run to the accepted completion (test_outcome)',
    timeoutMs: 60_000,
    fn: async () => {
      if (!env.pool) skip('needs the completion round trip (no recorded pool)');
      const a = theApi();
      const cfg = vscode.workspace.getConfiguration('winnow');
      await cfg.update('tests.command', 'exit 3', vscode.ConfigurationTarget.Workspace);
      try {
        const outcome = nextEvent<FeedbackParams>('"test_outcome" feedback', a.onDidSendFeedback, (f) => f.kind === 'test_outcome', 45_000);
        await vscode.commands.executeCommand('winnow.runTests');
        const o = await outcome;
        assert.equal(o.data?.passed, false);
        assert.equal(o.data?.exitCode, 3);
        assert.equal(o.data?.source, 'winnow.runTests');
        console.log(`    test_outcome for ${o.item.candidateId}: ${JSON.stringify(o.data)}`);
      } finally {
        await cfg.update('tests.command', undefined, vscode.ConfigurationTarget.Workspace);
      }
    },
  },
];

export async function run(): Promise<void> {
  console.log('Winnow extension tests');
  await runAll(tests);
}

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests with test/vscode/runTests.mjs`);
  return v;
}
