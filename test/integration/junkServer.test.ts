/**
 * A model server that answers junk (issue 10: an OpenAI-compatible server answering junk JSON
 * gave 0 candidates and no problem message). Real engine process; the "server" is a plain
 * node:http server in this test answering what a broken or hostile one would.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type { CompleteRequest } from '../../engine/src/protocol';
import { startEngine, tempDir, type RunningEngine } from '../helpers';

const ANSWERS: Record<string, (res: http.ServerResponse) => void> = {
  '/html': (res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>It works!</html>'),
  '/object': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"hello":"world"}'),
  '/array': (res) => res.writeHead(200, { 'content-type': 'application/json' }).end('[1,2,3]'),
  '/huge': (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(1 << 20, 0x20);
    let sent = 0;
    const more = () => {
      while (sent < 40 && res.write(chunk)) sent++;
      if (sent < 40) res.once('drain', more);
      else res.end();
    };
    more();
  },
};

let server: http.Server;
let base = '';
let dir: string;
let engine: RunningEngine;

before(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    const key = (req.url ?? '').split('/v1/')[0]?.replace(/\/api\/generate$/, '') ?? '';
    (ANSWERS[key] ?? ((r: http.ServerResponse) => r.writeHead(404).end()))(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = tempDir('winnow-junk-');
  engine = await startEngine(path.join(dir, 'data'));
});

after(async () => {
  await engine.stop();
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

const req = (backend: 'openai' | 'ollama', url: string): CompleteRequest => ({ prefix: 'def f():\n', suffix: '', languageId: 'python', filePath: '/w/f.py', n: 2, budgetMs: 8000, generator: { backend, url, model: 'm' } });

for (const [what, p, message] of [
  ['not JSON', '/html', /answered with something that is not JSON \("<html>It works!<\/html>"\): is winnow\.generator\.url the right server\?/],
  ['JSON without choices', '/object', /answered without a "choices" list .*hello.*: is it an OpenAI-compatible \/v1\/completions server\?/],
  ['a JSON array', '/array', /answered JSON that is not an OpenAI completions answer \("\[1,2,3\]"\)/],
  ['40 MB', '/huge', /answered more than 32 MB/],
] as const) {
  test(`an OpenAI-compatible server answering ${what}: no candidates, and a problem that says why`, async () => {
    const r = await engine.client.request('complete', req('openai', `${base}${p}`), 20_000);
    assert.equal(r.candidates.length, 0);
    assert.equal(r.problem?.code, 'http');
    assert.match(r.problem?.message ?? '', message);
  });
}

test('an Ollama server answering JSON without a response: a problem that says why', async () => {
  const r = await engine.client.request('complete', req('ollama', `${base}/object`), 20_000);
  assert.equal(r.candidates.length, 0);
  assert.equal(r.problem?.code, 'http');
  assert.match(r.problem?.message ?? '', /answered without a "response" text/);
});
