/**
 * A protocol fuzzer for the engine (issue 10): malformed, oversized and mistyped messages over
 * a raw ZeroMQ DEALER, from a seeded generator (the same seed sends the same messages), with a
 * ping every `pingEvery` messages that must be answered. Reports what came back, the engine's
 * RSS before and after, and every log line that is not one escaped line.
 *
 * Paths the engine would write to (`export`) stay inside `sandboxDir`; no message asks for a
 * shutdown; model server URLs point at a closed local port. Used by
 * test/integration/fuzz.test.ts (small) and scripts/fuzz.mjs (full size).
 */

import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zmq from 'zeromq';
import { PROTOCOL_TAG, REQUEST_TYPES } from '../../engine/src/protocol';
import { mulberry32 } from '../../engine/src/random';

export interface FuzzOptions {
  endpoint: string;
  pid: number;
  dataDir: string;
  /** Folder the fuzzer may let the engine write into (export targets). */
  sandboxDir: string;
  messages: number;
  seed: number;
  /** Every this many messages a ping must be answered (default 500). */
  pingEvery?: number;
  /** A closed local port, for model server URLs. */
  closedPort: number;
  onProgress?: (sent: number) => void;
}

export interface FuzzReport {
  messages: number;
  replies: number;
  errorReplies: number;
  pingsAnswered: number;
  pingsMissed: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  rssPeakMiB: number;
  durationMs: number;
  alive: boolean;
  logLines: number;
  /** Log lines that are not `time level message` on one line, or hold control characters. */
  badLogLines: string[];
}

export function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Math.round(Number(m[1]) / 102.4) / 10 : 0;
  } catch {
    return 0;
  }
}

const TYPES = REQUEST_TYPES.filter((t) => t !== 'shutdown');

class Gen {
  readonly r: () => number;
  constructor(
    seed: number,
    private readonly o: FuzzOptions,
  ) {
    this.r = mulberry32(seed);
  }
  int(n: number): number {
    return Math.floor(this.r() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
  string(): string {
    const kind = this.int(8);
    if (kind === 0) return '';
    if (kind === 1) return this.bytes(this.int(64)).toString('latin1'); // control characters, odd bytes
    if (kind === 2) return 'x'.repeat(this.chance(0.01) ? 1_000_000 : this.int(5000)); // long
    if (kind === 3) return `line one\nline two\r\n2026-01-01T00:00:00.000Z error forged\u001b[31m`;
    if (kind === 4) return this.pick(['../../../etc/passwd', '/proc/self/mem', '/dev/zero', 'C:\\Windows', '\u0000', '%s%n', '${jndi:x}', '\u202e', '\ud800']);
    if (kind === 5) return String(this.r());
    return this.bytes(this.int(32)).toString('base64');
  }
  value(depth = 0): unknown {
    const kind = this.int(depth > 4 ? 6 : 9);
    switch (kind) {
      case 0:
        return null;
      case 1:
        return this.chance(0.5);
      case 2:
        return this.pick([0, -1, 1e308, -1e308, 2 ** 53 + 1, 0.5, 128, 600_001, Number.MAX_SAFE_INTEGER]);
      case 3:
      case 4:
      case 5:
        return this.string();
      case 6:
        // Now and then a long flat array; nested ones stay short (the message, not the fuzzer, is to be big).
        return depth === 0 && this.chance(0.05) ? Array.from({ length: 20_000 }, (_, i) => i) : Array.from({ length: this.int(5) }, () => this.value(depth + 1));
      default: {
        const o: Record<string, unknown> = {};
        for (let i = this.int(6); i > 0; i--) o[this.pick(['prefix', 'suffix', 'n', 'events', 'data', 'kind', '__proto__', 'constructor', 'limit', 'out', 'version', 'confirm', this.string().slice(0, 20)])] = this.value(depth + 1);
        return o;
      }
    }
  }
  /** A valid-looking body of a type, then mutated. */
  body(type: string): unknown {
    const url = `http://127.0.0.1:${this.o.closedPort}`;
    const event = () => ({ kind: this.pick(['shown', 'accepted', 'rejected', 'partially_accepted', 'survival', 'test_outcome', 'bogus']), requestId: this.string().slice(0, 40), candidateId: this.string().slice(0, 40), rank: this.int(10), time: Date.now(), ...(this.chance(0.3) ? { data: this.value(1) } : {}) });
    const templates: Record<string, () => Record<string, unknown>> = {
      ping: () => ({}),
      complete: () => ({
        prefix: this.chance(0.7) ? 'def f(x):\n    ' : this.string(),
        suffix: this.string(),
        languageId: this.pick(['python', 'typescript', 'javascript', 'rust', 'plaintext', this.string()]),
        filePath: this.string(),
        n: this.pick([1, 2, 8, 0, 129, -1, 2.5]),
        budgetMs: this.pick([50, 200, 0, -5, 700_000]),
        generator: this.chance(0.5) ? { backend: 'recorded', recordedPool: this.pick([path.join(this.o.sandboxDir, 'nope.jsonl'), this.string(), '/dev/zero']) } : { backend: this.pick(['openai', 'ollama', 'bogus']), url, model: this.string() },
        ...(this.chance(0.2) ? { execute: true } : {}),
        ...(this.chance(0.2) ? { rewardModel: { path: this.pick(['', this.string(), this.o.sandboxDir]), maxTokens: this.pick([16, 1024, 8, 100_000]) } } : {}),
        ...(this.chance(0.2) ? { dataset: { enabled: this.chance(0.5), maxSizeMB: this.pick([512, 0, -1, 1e9]) } } : {}),
        ...(this.chance(0.1) ? { relatedTests: this.value(1) } : {}),
      }),
      cancel: () => ({ id: this.string() }),
      event: () => ({ events: Array.from({ length: this.chance(0.02) ? 10_001 : this.int(5) }, event) }),
      status: () => (this.chance(0.3) ? { generator: { backend: 'openai', url } } : this.chance(0.3) ? { rewardModel: { path: this.string(), maxTokens: this.pick([16, 3, 1024]) } } : {}),
      events: () => ({ limit: this.pick([1, 100, 0, -1, 1e9, 'many']), ...(this.chance(0.3) ? { requestId: this.string() } : {}) }),
      triplets: () => ({ limit: this.pick([1, 10, 0, -3, 1e12]) }),
      export: () => ({ out: this.chance(0.8) ? path.join(this.o.sandboxDir, `e${this.int(5)}`, this.pick(['a.jsonl', '', '..', 'x/y.jsonl'])) : this.pick(['relative.jsonl', '', 42]) }),
      purge: () => ({ confirm: this.chance(0.1) }),
      train: () => ({ rounds: this.pick([0, 1, 11, -1, 'x']), ...(this.chance(0.5) ? { settings: this.value(1) } : {}) }),
      trainStatus: () => ({}),
      trainCancel: () => ({}),
      rankers: () => ({}),
      activate: () => ({ version: this.pick(['builtin-4', 'v1', '../../etc/passwd', '', this.string()]) }),
    };
    const base: Record<string, unknown> = (templates[type] ?? (() => ({})))();
    if (this.chance(0.3)) {
      const keys = Object.keys(base);
      if (keys.length > 0) {
        const k = this.pick(keys);
        if (this.chance(0.5)) delete base[k];
        else base[k] = this.value(1);
      }
    }
    if (this.chance(0.1)) base[this.string().slice(0, 16)] = this.value(1);
    return this.chance(0.05) ? this.value() : base;
  }
  /** The frames of one message. */
  frames(id: string): (Buffer | string)[] {
    const way = this.int(20);
    if (way === 0) return Array.from({ length: this.int(7) }, () => this.bytes(this.int(100)));
    if (way === 1) return ['winnow/0', 'ping', id, '{}'];
    if (way === 2) return [PROTOCOL_TAG, this.string().slice(0, 40), id, '{}'];
    if (way === 3) return [PROTOCOL_TAG, 'ping', this.chance(0.5) ? '' : 'i'.repeat(200), '{}'];
    if (way === 4) return [PROTOCOL_TAG, this.pick(TYPES), id, this.bytes(this.int(300))];
    if (way === 5) return [PROTOCOL_TAG, this.pick(TYPES), id, `${'['.repeat(50_000)}${']'.repeat(50_000)}`]; // deep JSON text
    if (way === 6) return [PROTOCOL_TAG, 'event', id, `{"events":[{"kind":"shown","requestId":"r","candidateId":"c","time":1,"data":${'{"x":'.repeat(20_000)}1${'}'.repeat(20_000)}}]}`];
    if (way === 7) return [PROTOCOL_TAG, this.pick(TYPES), id, JSON.stringify(this.value())];
    const type = this.pick(TYPES);
    let body: string;
    try {
      body = JSON.stringify(this.body(type)) ?? 'null';
    } catch {
      body = '{}';
    }
    return [PROTOCOL_TAG, type, id, body];
  }
}

/** Sends `messages` fuzzed messages; resolves with what happened. Never throws for the engine's answers. */
export async function fuzzEngine(o: FuzzOptions): Promise<FuzzReport> {
  const t0 = performance.now();
  const g = new Gen(o.seed, o);
  const sock = new zmq.Dealer({ linger: 0, sendHighWaterMark: 100_000, receiveHighWaterMark: 100_000 });
  sock.connect(o.endpoint);
  const rssBefore = rssMiB(o.pid);
  let peak = rssBefore;
  let replies = 0;
  let errorReplies = 0;
  const pings = new Map<string, (ok: boolean) => void>();
  let receiving = true;
  const receiveLoop = (async () => {
    for await (const frames of sock) {
      const [, kind, id] = frames.map((f) => f.toString());
      replies++;
      if (kind === 'error') errorReplies++;
      const waiter = id ? pings.get(id) : undefined;
      if (waiter && kind === 'reply') {
        pings.delete(id as string);
        waiter(true);
      }
      if (!receiving) break;
    }
  })().catch(() => undefined);
  let pingsAnswered = 0;
  let pingsMissed = 0;
  const ping = async (n: number) => {
    const id = `ping-${n}`;
    const answered = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        pings.delete(id);
        resolve(false);
      }, 10_000);
      pings.set(id, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
      void sock.send([PROTOCOL_TAG, 'ping', id, '{}']);
    });
    if (answered) pingsAnswered++;
    else pingsMissed++;
  };
  const every = o.pingEvery ?? 500;
  for (let i = 0; i < o.messages; i++) {
    await sock.send(g.frames(`f-${i}`));
    if ((i + 1) % every === 0) {
      await ping(i);
      peak = Math.max(peak, rssMiB(o.pid));
      o.onProgress?.(i + 1);
    }
  }
  await ping(o.messages);
  receiving = false;
  sock.close();
  await receiveLoop;
  const rssAfter = rssMiB(o.pid);
  let alive = false;
  try {
    process.kill(o.pid, 0);
    alive = true;
  } catch {
    alive = false;
  }
  const log = path.join(o.dataDir, 'logs', 'engine.log');
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n').filter((l) => l.length > 0) : [];
  // eslint-disable-next-line no-control-regex
  const bad = lines.filter((l) => !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (debug|info |warn |error) /.test(l) || /[\u0000-\u0008\u000a-\u001f\u007f]/.test(l));
  return {
    messages: o.messages,
    replies,
    errorReplies,
    pingsAnswered,
    pingsMissed,
    rssBeforeMiB: rssBefore,
    rssAfterMiB: rssAfter,
    rssPeakMiB: Math.max(peak, rssAfter),
    durationMs: Math.round(performance.now() - t0),
    alive,
    logLines: lines.length,
    badLogLines: bad.slice(0, 10),
  };
}
