/** The first-run walkthrough's presets and texts (client/src/setupText.ts). */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import type { TestConnectionResult } from '../../server/src/protocol';
import {
  BACKEND_PRESETS,
  CANDIDATE_PRESETS,
  backendSettings,
  candidateLabel,
  connectionText,
  presetOf,
  urlProblem,
  type BackendPreset,
} from '../../client/src/setupText';

function preset(id: BackendPreset['id']): BackendPreset {
  const p = BACKEND_PRESETS.find((x) => x.id === id);
  assert.ok(p, id);
  return p;
}

test('each server preset writes its backend and usual URL', () => {
  const want: Record<string, [string, string]> = {
    llamacpp: ['openai', 'http://127.0.0.1:8080'],
    ollama: ['ollama', 'http://127.0.0.1:11434'],
    vllm: ['openai', 'http://127.0.0.1:8000'],
    lmstudio: ['openai', 'http://127.0.0.1:1234'],
  };
  for (const [id, [backend, url]] of Object.entries(want)) {
    assert.deepEqual(backendSettings(preset(id as BackendPreset['id']), {}), { 'generator.backend': backend, 'generator.url': url }, id);
  }
});

test('the URL typed wins over the preset; a model is written only where the server needs one', () => {
  assert.deepEqual(backendSettings(preset('vllm'), { url: ' http://gpu-box:9000/ ', model: ' Qwen/Qwen2.5-Coder-7B ' }), {
    'generator.backend': 'openai',
    'generator.url': 'http://gpu-box:9000',
    'generator.model': 'Qwen/Qwen2.5-Coder-7B',
  });
  assert.deepEqual(backendSettings(preset('llamacpp'), { model: 'ignored' }), { 'generator.backend': 'openai', 'generator.url': 'http://127.0.0.1:8080' });
  assert.deepEqual(backendSettings(preset('ollama'), { model: '  ' }), { 'generator.backend': 'ollama', 'generator.url': 'http://127.0.0.1:11434' });
  for (const id of ['ollama', 'vllm', 'lmstudio'] as const) assert.equal(preset(id).needsModel, true, id);
});

test('the recorded demo writes the pool and no URL', () => {
  assert.deepEqual(backendSettings(preset('recorded'), { recordedPool: '/data/pool.jsonl', url: 'http://x' }), {
    'generator.backend': 'recorded',
    'generator.recordedPool': '/data/pool.jsonl',
  });
});

test('the current settings map back to their preset by backend and port', () => {
  assert.equal(presetOf('openai', 'http://127.0.0.1:8080')?.id, 'llamacpp');
  assert.equal(presetOf('openai', 'http://localhost:8000/v1')?.id, 'vllm');
  assert.equal(presetOf('ollama', 'http://127.0.0.1:11434')?.id, 'ollama');
  assert.equal(presetOf('openai', 'http://127.0.0.1:11434'), undefined, 'Ollama through /v1 is not the native preset');
  assert.equal(presetOf('recorded', '')?.id, 'recorded');
  assert.equal(presetOf('openai', 'not a url'), undefined);
});

test('URL validation', () => {
  assert.equal(urlProblem('http://127.0.0.1:8080'), undefined);
  assert.equal(urlProblem('https://models.lan/v1'), undefined);
  assert.match(urlProblem('127.0.0.1:8080') ?? '', /http/);
  assert.match(urlProblem('ftp://x') ?? '', /http/);
  assert.match(urlProblem('') ?? '', /URL/);
});

test('candidate presets: Balanced is the manifest default', () => {
  const props = (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, { default?: unknown }> } } })
    .contributes.configuration.properties;
  const balanced = CANDIDATE_PRESETS.find((p) => p.name === 'Balanced');
  assert.equal(balanced?.candidates, props['winnow.candidates']?.default);
  assert.equal(balanced?.latencyBudgetMs, props['winnow.latencyBudgetMs']?.default);
  assert.deepEqual(
    CANDIDATE_PRESETS.map(candidateLabel),
    ['Fast: 4 candidates, 800 ms', 'Balanced: 8 candidates, 1500 ms', 'Thorough: 16 candidates, 3000 ms'],
  );
});

test('the connection test message', () => {
  const ok: TestConnectionResult = { ok: true, backend: 'openai', url: 'http://127.0.0.1:8080', models: ['fixture'], model: 'fixture', sampleMs: 123.4, sample: 'x' };
  assert.equal(connectionText(ok), 'Connected to http://127.0.0.1:8080: model fixture answered in 123 ms. Models listed: fixture.');
  const many = { ...ok, models: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], model: undefined, sampleMs: undefined };
  assert.equal(connectionText(many), 'Connected to http://127.0.0.1:8080: it answered. Models listed: a, b, c, d, e and 2 more.');
  assert.equal(
    connectionText({ ok: false, backend: 'ollama', url: 'http://127.0.0.1:11434', models: [], problem: { code: 'unreachable', message: 'connection refused' } }),
    'Winnow could not use http://127.0.0.1:11434: connection refused',
  );
  const pool = 'pool.jsonl (164 recorded tasks)';
  assert.equal(connectionText({ ok: true, backend: 'recorded', models: [pool], model: pool, sampleMs: 2 }), `Connected to the recorded pool ${pool}: it answered in 2 ms.`);
});
