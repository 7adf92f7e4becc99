/** winnow.ranker.rewardModel* as the server normalizes them, and the engine's boundary check of them. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateComplete } from '../../engine/src/protocol';
import { DEFAULT_REWARD_MODEL_SETTINGS, rewardModelSettingsFrom } from '../../server/src/protocol';

test('reward model settings: defaults, trimming, clamping, wrong types', () => {
  assert.deepEqual(rewardModelSettingsFrom(undefined), DEFAULT_REWARD_MODEL_SETTINGS);
  assert.deepEqual(rewardModelSettingsFrom({ rewardModel: '  /models/rm  ', rewardModelMaxTokens: 512.4 }), { path: '/models/rm', maxTokens: 512 });
  assert.deepEqual(rewardModelSettingsFrom({ rewardModel: 42, rewardModelMaxTokens: 1e9 }), { path: '', maxTokens: 32768 });
  assert.deepEqual(rewardModelSettingsFrom({ rewardModelMaxTokens: 1 }), { path: '', maxTokens: 16 });
  assert.deepEqual(rewardModelSettingsFrom({ rewardModelMaxTokens: 'many' }), { path: '', maxTokens: 1024 });
});

test('the engine checks the reward model settings of a completion request', () => {
  const base = { prefix: '', suffix: '', languageId: 'python', filePath: '/f.py', n: 2, budgetMs: 100, generator: { backend: 'openai' } };
  assert.equal(validateComplete({ ...base, rewardModel: { path: '/m', maxTokens: 1024 } }), undefined);
  assert.equal(validateComplete({ ...base, rewardModel: { path: '', maxTokens: 1024 } }), undefined);
  assert.match(validateComplete({ ...base, rewardModel: { path: 3, maxTokens: 1024 } }) ?? '', /rewardModel\.path must be a string/);
  assert.match(validateComplete({ ...base, rewardModel: { path: '/m', maxTokens: 8 } }) ?? '', /rewardModel\.maxTokens must be an integer from 16 to 32768/);
  assert.match(validateComplete({ ...base, rewardModel: { path: '/m', maxTokens: 100.5 } }) ?? '', /maxTokens/);
});
