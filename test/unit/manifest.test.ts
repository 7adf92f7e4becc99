/**
 * Settings that act on what every window shares (the engine, its store, its rankers, its data
 * folder) are machine-scoped in the manifest: VS Code then takes them from the user's settings
 * only, never from a workspace's (an untrusted repository's .vscode/settings.json). Issue 10.
 * Also: every contributed command is in the client's command table, the walkthrough's pages
 * exist and link only to contributed commands, and the icon is a 128×128 PNG.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..');
const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { scope?: string }> } } };

test('settings acting on shared, user-level state are machine-scoped', () => {
  const props = manifest.contributes.configuration.properties;
  const shared = Object.keys(props).filter((k) => /^winnow\.(dataDir|engine\.|ranker\.|training\.|dataset\.maxSizeMB$)/.test(k));
  assert.ok(shared.length >= 12, shared.join(', '));
  for (const k of shared) assert.equal(props[k]?.scope, 'machine', `${k} must be machine-scoped`);
});

test("in an untrusted workspace, the workspace's own values of the settings that send code somewhere, read files or run commands are ignored", () => {
  const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { capabilities: { untrustedWorkspaces: { supported: string; restrictedConfigurations?: string[] } } };
  const restricted = new Set(m.capabilities.untrustedWorkspaces.restrictedConfigurations ?? []);
  // An untrusted repository's .vscode/settings.json must not point completions (the user's code) at a server of its choosing.
  for (const k of ['winnow.generator.url', 'winnow.generator.backend', 'winnow.generator.recordedPool', 'winnow.execution.enabled', 'winnow.tests.command']) assert.ok(restricted.has(k), `${k} must be a restricted configuration`);
  for (const k of restricted) assert.ok(manifest.contributes.configuration.properties[k], `${k} is a declared setting`);
});

interface Walkthrough {
  id: string;
  steps: { id: string; title: string; description: string; media: { markdown?: string; image?: string }; completionEvents?: string[] }[];
}
const contributes = (manifest as unknown as { contributes: { commands: { command: string }[]; walkthroughs?: Walkthrough[] } }).contributes;
const contributed = new Set(contributes.commands.map((c) => c.command));

/**
 * The command ids client/src/extension.ts registers: the keys of its COMMANDS table, string
 * literals or constants (`[setup.TEST_CONNECTION_COMMAND]`) resolved from the client's and the
 * server protocol's `const X = 'winnow.…'` declarations.
 */
function registeredCommands(): Set<string> {
  const sources = [path.join(ROOT, 'server', 'src', 'protocol.ts')];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts')) sources.push(p);
    }
  };
  walk(path.join(ROOT, 'client', 'src'));
  const constants = new Map<string, string>();
  for (const f of sources) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/\bconst\s+(\w+)\s*=\s*'(winnow\.[\w.]+)'/g)) constants.set(m[1]!, m[2]!);
  }
  const ext = fs.readFileSync(path.join(ROOT, 'client', 'src', 'extension.ts'), 'utf8');
  const start = ext.indexOf('const COMMANDS');
  assert.ok(start >= 0, 'extension.ts has a COMMANDS table');
  const table = ext.slice(start, ext.indexOf('\n};', start));
  const ids = new Set<string>();
  for (const m of table.matchAll(/^\s*(?:'([^']+)'|\[(?:\w+\.)?(\w+)\])\s*:/gm)) {
    const id = m[1] ?? constants.get(m[2]!);
    assert.ok(id, `command table key ${m[0].trim()} does not resolve to a command id`);
    ids.add(id);
  }
  return ids;
}

test('every contributed command is registered in the client command table', () => {
  const registered = registeredCommands();
  assert.ok(registered.size >= contributed.size, [...registered].join(', '));
  for (const c of contributed) assert.ok(registered.has(c), `${c} is contributed but not in client/src/extension.ts COMMANDS`);
});

test('the walkthrough: every step has its markdown page, and every command it names is contributed', () => {
  const walkthrough = contributes.walkthroughs?.find((w) => w.id === 'winnow.gettingStarted');
  assert.ok(walkthrough, 'the winnow.gettingStarted walkthrough');
  assert.ok(walkthrough.steps.length >= 6);
  const registered = registeredCommands();
  for (const step of walkthrough.steps) {
    const md = step.media.markdown;
    assert.ok(md, `step ${step.id} has a markdown page`);
    const file = path.join(ROOT, md);
    assert.ok(fs.existsSync(file), `${md} (step ${step.id}) exists`);
    assert.ok(step.completionEvents?.length, `step ${step.id} has completionEvents`);
    const links = [...`${step.description}\n${fs.readFileSync(file, 'utf8')}`.matchAll(/\(command:([\w.]+)/g)].map((m) => m[1]!);
    for (const id of links) assert.ok(contributed.has(id), `${id} (linked from step ${step.id}) is a contributed command`);
    for (const ev of step.completionEvents ?? []) {
      if (ev.startsWith('onCommand:')) assert.ok(registered.has(ev.slice('onCommand:'.length)), `${ev} (step ${step.id}) names a registered command`);
    }
  }
});

test('the icon is a 128×128 PNG', () => {
  const m = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { icon?: string };
  assert.equal(m.icon, 'media/icon.png');
  const png = fs.readFileSync(path.join(ROOT, m.icon));
  assert.equal(png.subarray(1, 4).toString('ascii'), 'PNG');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [128, 128]);
});
