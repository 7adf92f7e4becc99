/**
 * The engine as a real process, over the real ZeroMQ (tcp and ipc), with the real
 * onnxruntime-node ranker and the real SQLite store; the model server is the
 * OpenAI-compatible FIXTURE in test/fixtures.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import * as zmq from 'zeromq';
import { CancelledError } from '../../engine/src/client';
import { ProtocolError, PROTOCOL_TAG, PROTOCOL_VERSION, type CompleteRequest } from '../../engine/src/protocol';
import { startOpenAIFixture, type Fixture } from '../fixtures/openaiServer';
import { closedPort, ENGINE_SCRIPT, POOL, startEngine, tempDir, waitFor, type RunningEngine } from '../helpers';

const request = (generator: CompleteRequest['generator'], over: Partial<CompleteRequest> = {}): CompleteRequest => ({
  prefix: 'def double(x):\n    """Return x doubled."""\n',
  suffix: '',
  languageId: 'python',
  filePath: '/tmp/double.py',
  n: 8,
  budgetMs: 5000,
  generator,
  ...over,
});

for (const transport of ['tcp', 'ipc'] as const) {
  describe(`engine over ${transport}`, () => {
    let dir: string;
    let engine: RunningEngine;
    let fixture: Fixture;

    before(async () => {
      dir = tempDir();
      fixture = await startOpenAIFixture({ logprobs: true, complete: (_b, i) => (i % 3 === 0 ? '    return x * 2\n\n\ndef other():\n    pass\n' : `    return x + x  # ${i % 2}\n`) });
      const endpoint = transport === 'tcp' ? 'tcp://127.0.0.1:*' : `ipc://${path.join(dir, 'e.sock')}`;
      engine = await startEngine(path.join(dir, 'data'), ['--endpoint', endpoint]);
    });

    after(async () => {
      await engine.stop();
      await fixture.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('ping and status report pid, protocol, device and ranker', async () => {
      assert.ok(engine.info.endpoint.startsWith(`${transport}://`));
      const s = await engine.client.request('status', {}, 5000);
      assert.equal(s.pid, engine.child.pid);
      assert.equal(s.protocolVersion, PROTOCOL_VERSION);
      assert.equal(s.device, 'cpu');
      assert.match(s.deviceReason, /CPU/);
      assert.equal(s.rankerVersion, 'builtin-4');
    });

    test('complete: N samples, post-processed, deduplicated, ranked best first, stored', async () => {
      const r = await engine.client.request('complete', request({ backend: 'openai', url: fixture.url, model: 'fixture' }, { suffix: '\n\nprint(double(2))\n' }), 10_000);
      const last = fixture.requests.at(-1);
      assert.equal(last?.n, 8);
      assert.equal(last?.suffix, '\n\nprint(double(2))\n', 'fill-in-the-middle suffix forwarded');
      assert.equal(last?.model, 'fixture');
      assert.equal(r.sampled, 8);
      assert.ok(r.candidates.length >= 2 && r.candidates.length <= 3, `got ${r.candidates.length}`);
      for (const c of r.candidates) {
        assert.ok(!c.text.includes('def other'), 'cut at the end of the block');
        assert.ok(c.id.startsWith(`${r.requestId}:`));
        assert.equal(typeof c.meanLogprob, 'number', 'log-probabilities kept');
      }
      assert.deepEqual(r.candidates.map((c) => c.rank), r.candidates.map((_, i) => i));
      for (let i = 1; i < r.candidates.length; i++) assert.ok((r.candidates[i - 1]?.score ?? 0) >= (r.candidates[i]?.score ?? 0));
      assert.equal(r.candidates.reduce((a, c) => a + c.votes, 0), 8);
      assert.equal(r.problem, undefined);
    });

    test('a server that ignores n gets parallel requests instead', async () => {
      fixture.options.ignoreN = true;
      try {
        const before = fixture.requests.length;
        const r = await engine.client.request('complete', request({ backend: 'openai', url: `${fixture.url}/v1/` }, { n: 4 }), 10_000);
        assert.equal(r.sampled, 4);
        assert.equal(fixture.requests.length - before, 1 + 3);
      } finally {
        fixture.options.ignoreN = false;
      }
    });

    test('an unreachable model server gives a clear problem quickly, not an error', async () => {
      const url = `http://127.0.0.1:${await closedPort()}`;
      const t0 = Date.now();
      const r = await engine.client.request('complete', request({ backend: 'openai', url }), 10_000);
      assert.equal(r.candidates.length, 0);
      assert.equal(r.problem?.code, 'unreachable');
      assert.match(r.problem?.message ?? '', /Cannot reach the model server at http:\/\/127\.0\.0\.1:\d+ \(connection refused\)/);
      assert.ok(Date.now() - t0 < 3000);
      const s = await engine.client.request('status', { generator: { backend: 'openai', url } }, 5000);
      assert.equal(s.generator?.reachable, false);
    });

    test('an HTTP error from the model server is reported with its status', async () => {
      fixture.options.status = 500;
      try {
        const r = await engine.client.request('complete', request({ backend: 'openai', url: fixture.url }), 10_000);
        assert.equal(r.problem?.code, 'http');
        assert.match(r.problem?.message ?? '', /HTTP 500/);
      } finally {
        fixture.options.status = undefined;
      }
    });

    test('recorded backend replays the HumanEval pool', async () => {
      const first = JSON.parse(fs.readFileSync(POOL, 'utf8').split('\n')[0] ?? '{}') as { generation_prompt: string };
      const r = await engine.client.request('complete', request({ backend: 'recorded', recordedPool: POOL }, { prefix: first.generation_prompt, n: 8 }), 10_000);
      assert.equal(r.sampled, 8);
      assert.ok(r.candidates.length > 0);
      const again = await engine.client.request('complete', request({ backend: 'recorded', recordedPool: POOL }, { prefix: first.generation_prompt, n: 8 }), 10_000);
      assert.deepEqual(again.candidates.map((c) => c.text), r.candidates.map((c) => c.text), 'seeded: same samples, same order');
    });

    test('malformed frames are logged and dropped; the engine keeps serving', async () => {
      const raw = new zmq.Dealer({ linger: 0 });
      raw.connect(engine.info.endpoint);
      try {
        await raw.send(['just one frame']);
        await raw.send([PROTOCOL_TAG, 'ping', 'bad-json', '{nope']);
        await raw.send(['winnow/0', 'ping', 'old', '{}']);
        await raw.send([PROTOCOL_TAG, 'launch-missiles', 'unknown', '{}']);
        await raw.send([PROTOCOL_TAG, 'complete', 'invalid', JSON.stringify({ prefix: 1 })]);
        const replies: string[] = [];
        for (let i = 0; i < 4; i++) {
          const [, kind, id, body] = await raw.receive();
          replies.push(`${id?.toString()}:${kind?.toString()}:${(JSON.parse(body?.toString() ?? '{}') as { code: string }).code}`);
        }
        assert.deepEqual(replies.sort(), ['bad-json:error:bad_request', 'invalid:error:bad_request', 'old:error:unsupported_version', 'unknown:error:bad_request']);
      } finally {
        raw.close();
      }
      const pong = await engine.client.request('ping', {}, 5000);
      assert.equal(pong.pong, true);
      await assert.rejects(engine.client.request('complete', { nope: true } as never, 5000), (e: unknown) => e instanceof ProtocolError && e.code === 'bad_request');
    });

    test('events are stored and listed, by the protocol and by the CLI', async () => {
      const r = await engine.client.request('complete', request({ backend: 'openai', url: fixture.url }), 10_000);
      const c = r.candidates[0];
      assert.ok(c);
      const time = Date.now();
      const stored = await engine.client.request(
        'event',
        { events: [{ kind: 'shown', requestId: r.requestId, candidateId: c.id, rank: 0, time }, { kind: 'accepted', requestId: r.requestId, candidateId: c.id, rank: 0, time }] },
        5000,
      );
      assert.equal(stored.stored, 2);
      const listed = await engine.client.request('events', { requestId: r.requestId }, 5000);
      assert.deepEqual(listed.events.map((e) => e.kind), ['shown', 'accepted']);
      const cli = spawnSync(process.execPath, [ENGINE_SCRIPT, 'events', '--json', '--data-dir', path.join(dir, 'data')], { encoding: 'utf8' });
      assert.equal(cli.status, 0, cli.stderr);
      const events = (JSON.parse(cli.stdout) as { events: { kind: string; candidateId: string }[] }).events;
      assert.ok(events.some((e) => e.kind === 'accepted' && e.candidateId === c.id));
    });

    test('a cancelled completion is abandoned by the engine and nothing of it is stored', async () => {
      fixture.options.delayMs = 2000;
      try {
        const before = (await engine.client.request('status', {}, 5000)).store.requests;
        const controller = new AbortController();
        const seen = fixture.requests.length;
        const pending = engine.client.request('complete', request({ backend: 'openai', url: fixture.url }, { prefix: 'def cancel_me():\n' }), 10_000, controller.signal);
        await waitFor('the engine to be generating', () => fixture.requests.length > seen);
        const t0 = Date.now();
        controller.abort();
        await assert.rejects(pending, (e: unknown) => e instanceof CancelledError);
        assert.ok(Date.now() - t0 < 500, 'the client is released at once');
        // The engine is free again (a completion goes through while the cancelled one would
        // still be waiting for the slow model server), and stored nothing of the cancelled one.
        fixture.options.delayMs = 0;
        await engine.client.request('complete', request({ backend: 'openai', url: fixture.url }), 10_000);
        // Writes are queued in order: once the second request is in the store, the cancelled
        // one (which ended first) would be too, had it been stored.
        const after = await waitFor('the second request stored', async () => {
          const st = await engine.client.request('status', {}, 5000);
          return st.store.requests > before ? st : undefined;
        });
        assert.equal(after.store.requests, before + 1, 'only the second request is stored');
      } finally {
        fixture.options.delayMs = 0;
      }
    });

    test('concurrent requests from one client are all answered, matched by id', async () => {
      const replies = await Promise.all(Array.from({ length: 20 }, () => engine.client.request('ping', {}, 5000)));
      assert.equal(replies.length, 20);
    });
  });
}
