/**
 * The server's hang watchdog (issue 10: an engine stuck in a loop, with its process alive,
 * answered nothing and was never replaced). Fault injected for real: the engine process is
 * stopped with SIGSTOP; the server's EngineHost must find it stuck, kill it, and start a
 * new engine that answers. Real processes, real ZeroMQ.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isAlive } from '../../engine/src/discovery';
import { EngineHost } from '../../server/src/engineHost';
import type { StatusParams } from '../../server/src/protocol';
import { ENGINE_SCRIPT, tempDir, waitFor } from '../helpers';

test('an engine that stops answering while its process lives is killed and replaced', { skip: process.platform === 'win32' && 'no SIGSTOP' }, async () => {
  const dir = tempDir('winnow-watchdog-');
  const statuses: StatusParams[] = [];
  const logs: string[] = [];
  const host = new EngineHost({
    dataDir: path.join(dir, 'data'),
    nodePath: process.execPath,
    engineScript: ENGINE_SCRIPT,
    serveArgs: ['--device', 'cpu'],
    onStatus: (s) => statuses.push(s),
    log: (m) => logs.push(m),
    pingEveryMs: 200,
    pingTimeoutMs: 200,
    hungAfter: 3,
  });
  let first: number | undefined;
  let second: number | undefined;
  try {
    await host.start();
    assert.equal(host.state, 'ready');
    first = host.enginePid as number;
    process.kill(first, 'SIGSTOP');
    second = await waitFor('a new engine', () => (host.state === 'ready' && host.enginePid !== undefined && host.enginePid !== first ? host.enginePid : undefined), 20_000);
    await waitFor('the stuck engine gone', () => !isAlive(first as number), 5000);
    assert.ok((await host.request('ping', {}, 2000)) !== undefined);
    assert.ok(logs.some((l) => /answered no ping for 3 checks in a row: it is stuck; killing it/.test(l)), logs.join('\n'));
    assert.ok(statuses.some((s) => s.state === 'restarting' && /stopped answering and was stopped; restarting it/.test(s.message ?? '')), JSON.stringify(statuses));
  } finally {
    host.dispose();
    for (const pid of [first, second]) {
      if (pid && isAlive(pid)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
