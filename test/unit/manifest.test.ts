/**
 * Settings that act on what every window shares (the engine, its store, its rankers, its data
 * folder) are machine-scoped in the manifest: VS Code then takes them from the user's settings
 * only, never from a workspace's (an untrusted repository's .vscode/settings.json). Issue 10.
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
