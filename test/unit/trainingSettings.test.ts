import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { DEFAULT_TRAINING, validateTrainingSettings } from '../../engine/src/protocol';
import { DEFAULT_SETTINGS, DEFAULT_TRAINING_SETTINGS, settingsFrom, trainingSettingsFrom, type TrainingSettings } from '../../server/src/protocol';
import { engineTrainingSettings } from '../../server/src/training';

test('training settings: defaults are the engine defaults', () => {
  assert.deepEqual(DEFAULT_TRAINING_SETTINGS, DEFAULT_TRAINING);
  assert.deepEqual(trainingSettingsFrom(undefined), DEFAULT_TRAINING_SETTINGS);
  assert.deepEqual(trainingSettingsFrom(null), DEFAULT_TRAINING_SETTINGS);
  assert.deepEqual(trainingSettingsFrom('auto'), DEFAULT_TRAINING_SETTINGS);
  assert.deepEqual(settingsFrom(undefined).training, DEFAULT_TRAINING_SETTINGS);
  assert.deepEqual(DEFAULT_SETTINGS.training, DEFAULT_TRAINING_SETTINGS);
});

test('training settings: values are taken, wrong types fall back, numbers are clamped into what the engine accepts', () => {
  assert.deepEqual(trainingSettingsFrom({ auto: false, minNewTriplets: 20, minPairs: 0, promotionMargin: -2.5, keepVersions: 3, rounds: 0 }), {
    auto: false,
    minNewTriplets: 20,
    minPairs: 0,
    promotionMargin: -2.5,
    keepVersions: 3,
    rounds: 0,
  });
  const odd = trainingSettingsFrom({ auto: 'yes', minNewTriplets: 0, minPairs: -5, promotionMargin: 500, keepVersions: 1, rounds: 99 });
  assert.deepEqual(odd, { auto: true, minNewTriplets: 1, minPairs: 0, promotionMargin: 100, keepVersions: 2, rounds: 10 });
  const typed = trainingSettingsFrom({ minNewTriplets: '200', minPairs: Number.NaN, promotionMargin: Infinity, keepVersions: null, rounds: 2.6 });
  assert.deepEqual(typed, { ...DEFAULT_TRAINING_SETTINGS, rounds: 3 });
  assert.equal(trainingSettingsFrom({ minPairs: 12.4 }).minPairs, 12, 'counts are whole numbers');
  assert.equal(trainingSettingsFrom({ promotionMargin: 0.5 }).promotionMargin, 0.5, 'the margin may be fractional');
  // Whatever the user typed, the engine accepts the result.
  for (const raw of [undefined, odd, typed, { keepVersions: -1e9, minNewTriplets: 1e12 }]) {
    assert.equal(validateTrainingSettings(engineTrainingSettings(trainingSettingsFrom(raw))), undefined, JSON.stringify(raw));
  }
});

test('training settings: settingsFrom reads them nested or as flat keys of the winnow section', () => {
  assert.equal(settingsFrom({ training: { auto: false, rounds: 4 } }).training.auto, false);
  assert.equal(settingsFrom({ training: { auto: false, rounds: 4 } }).training.rounds, 4);
  const flat = settingsFrom({ 'training.auto': false, 'training.minPairs': 7, 'training.keepVersions': 5000 }).training;
  assert.deepEqual(flat, { ...DEFAULT_TRAINING_SETTINGS, auto: false, minPairs: 7, keepVersions: 1000 });
  // Other winnow keys are not read as training settings.
  assert.deepEqual(settingsFrom({ enabled: false, candidates: 3 }).training, DEFAULT_TRAINING_SETTINGS);
});

test('training settings: package.json declares each one, machine-scoped, with the same default and range', () => {
  const manifest = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as {
    contributes: { configuration: { properties: Record<string, { default?: unknown; scope?: string; minimum?: number; maximum?: number; description?: string }> } };
  };
  const props = manifest.contributes.configuration.properties;
  for (const [key, value] of Object.entries(DEFAULT_TRAINING_SETTINGS) as [keyof TrainingSettings, number | boolean][]) {
    const p = props[`winnow.training.${key}`];
    assert.ok(p, `winnow.training.${key} is declared`);
    assert.equal(p.default, value, `default of winnow.training.${key}`);
    assert.equal(p.scope, 'machine', `winnow.training.${key} is machine-scoped (workspace settings must not reach the shared engine)`);
    assert.ok((p.description ?? '').length > 40, `winnow.training.${key} has a description`);
    if (typeof value === 'number') {
      assert.ok(p.minimum !== undefined && p.maximum !== undefined, `winnow.training.${key} declares its range`);
      // The declared bounds are what normalization clamps to.
      assert.equal(trainingSettingsFrom({ [key]: p.minimum - 1 })[key], p.minimum);
      assert.equal(trainingSettingsFrom({ [key]: p.maximum + 1 })[key], p.maximum);
    }
  }
});
