/** The store's migrations with the real SQLite: rows written by an older engine keep what they were. */
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';
import { nullLog } from '../../engine/src/log';
import { MIGRATIONS, Store } from '../../engine/src/store';
import { tempDir } from '../helpers';

test('migration 3: candidates stored before feature sets had ids keep the id of the set they were computed with', () => {
  const file = path.join(tempDir(), 'winnow.db');
  // A store as the engine of schema 2 left it.
  const old = new Database(file);
  old.exec(MIGRATIONS[0] as string);
  old.exec(MIGRATIONS[1] as string);
  old.pragma('user_version = 2');
  old.prepare(`INSERT INTO requests (id, time, file_path, language_id, prefix, suffix, n, backend, ranker_version, sampled, latency_ms) VALUES ('r', 1, '/a.py', 'python', 'def f():', '', 3, 'recorded', 'builtin-1', 3, 1)`).run();
  const cand = old.prepare('INSERT INTO candidates (id, request_id, rank, text, score, votes, features) VALUES (?, ?, ?, ?, 0, 1, ?)');
  cand.run('r:0', 'r', 0, 'return 1', Buffer.from(new Float32Array(19).fill(0.5).buffer));
  cand.run('r:1', 'r', 1, 'return 2', Buffer.from(new Float32Array(28).fill(0.25).buffer));
  cand.run('r:2', 'r', 2, 'return 3', null);
  old.prepare(`INSERT INTO events (time, received, kind, request_id, candidate_id) VALUES (1, 1, 'shown', 'r', 'r:0')`).run();
  old.close();

  const store = Store.open(file, nullLog);
  try {
    const { requests } = store.loadTripletInputs();
    const byId = new Map(requests[0]!.candidates.map((c) => [c.id, c]));
    assert.equal(byId.get('r:0')?.featureSet, 'fs-1');
    assert.equal(byId.get('r:0')?.features?.length, 19);
    assert.equal(byId.get('r:0')?.features?.[3], 0.5);
    assert.equal(byId.get('r:1')?.featureSet, 'fs-2');
    assert.equal(byId.get('r:1')?.features?.length, 28);
    assert.equal(byId.get('r:2')?.featureSet, undefined);
    assert.equal(byId.get('r:2')?.features, undefined);
    assert.equal(byId.get('r:1')?.votes, 1);
    // New rows record the set they are written with.
    store.recordRequest({ id: 'q', time: 2, filePath: '/b.py', languageId: 'python', prefix: 'x', suffix: '', n: 1, backend: 'recorded', rankerVersion: 'builtin-2', sampled: 1, latencyMs: 1, candidates: [{ id: 'q:0', rank: 0, text: 'y', score: 1, votes: 2, meanLogprob: -0.5, features: new Float32Array(28).fill(1), featureSet: 'fs-2' }] });
    assert.equal(store.updateCandidateFeatures([{ id: 'q:0', features: new Float32Array(28).fill(2), featureSet: 'fs-2' }]), 1);
  } finally {
    store.close();
  }
  const db = new Database(file, { readonly: true });
  const row = db.prepare("SELECT feature_set, features, mean_logprob FROM candidates WHERE id = 'q:0'").get() as { feature_set: string; features: Buffer; mean_logprob: number };
  db.close();
  assert.equal(row.feature_set, 'fs-2');
  assert.equal(new Float32Array(new Uint8Array(row.features).buffer)[0], 2);
  assert.equal(row.mean_logprob, -0.5);
});
