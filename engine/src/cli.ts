/**
 * `winnow` — the engine's command line (bundled to engine/out/cli.js).
 *
 *   winnow serve    --data-dir D [--endpoint E] [--device auto|cpu|cuda] [--idle-exit-min M] [--foreground]
 *   winnow complete --data-dir D --file F --line L --character C [--json] [generator flags]
 *   winnow status   --data-dir D [--json]
 *   winnow events   --data-dir D [--json] [--limit N]
 *   winnow triplets --data-dir D [--json] [--limit N]
 *   winnow insights --data-dir D [--json] [--days N]
 *   winnow export   --data-dir D --out FILE.jsonl
 *   winnow purge    --data-dir D --yes
 *   winnow bench    --problems P --samples S --tests T [--labels L] [--json] [--picks-out F] [--cache-dir D] [--limit N] [--seed N | --seeds A,B] [--rounds K]
 *   winnow train    --data-dir D [--rounds K] [--seed N] [--min-pairs N] [--margin P] [--json]
 *   winnow rankers  --data-dir D [--json]
 *   winnow activate VERSION --data-dir D [--json]
 *   winnow stop     --data-dir D
 *
 * Every command takes --data-dir (default: $WINNOW_DATA_DIR, else ~/.winnow).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { EngineClient, EngineDiedError } from './client';
import { paths, readEngineInfo } from './discovery';
import { runBench } from './bench/humaneval';
import { simulateUserCommand } from './bench/simulateCommand';
import { exportTriplets, listTriplets } from './dataset';
import { MAX_RANK } from './insights/queries';
import { runInsightsThread } from './insights/thread';
import type { InsightsReply } from './protocol';
import { AlreadyRunningError, Engine, ENGINE_VERSION } from './engine';
import { ensureEngine, EXIT_ALREADY_RUNNING, findEngine } from './launcher';
import { createFileLog } from './log';
import { activateCommand, describeProgress, describeSummary, describeVersions, rankersCommand, trainCommand } from './training/cliCommands';
import { runWorker } from './training/worker';
import { runRewardThread } from './reward/thread';
import { runDatasetThread } from './datasetThread';
import { DEFAULT_REWARD_MAX_TOKENS, type CompleteRequest, type GeneratorBackend, type GeneratorConfig, type RewardModelStatus } from './protocol';
import { Store } from './store';
import { mkdirp } from './fsutil';

const HELP = `winnow ${ENGINE_VERSION} — Winnow's engine: ranked local code completions

Usage: winnow <command> [options]

Commands:
  serve      run the engine in the foreground (normally started for you by the editor)
  complete   one completion request through the running engine (started if needed);
             prints the ranked candidates with scores
  status     the running engine's pid, protocol version, device, ranker, reward model and generator
  events     the feedback events in the store (shown, accepted, ...)
  triplets   build the (prompt, chosen, rejected) training triplets and print them
  insights   what the dashboard shows: completions, events, triplets, acceptance by
             language and rank, latency, execution (read from the store)
  export     write the triplets as JSONL (prompt, chosen, rejected + metadata), the layout
             reward-model trainers such as TRL's RewardTrainer read
  purge      delete everything in the store (needs --yes)
  bench      ranking quality on a recorded candidate pool (HumanEval): labels every
             candidate by running it in the sandbox, then pass@1 of each way of picking
  train      train a new ranker version from the feedback in the store (Bradley-Terry, with
             hard-negative rounds), through the running engine or directly on the data
             folder; it becomes active only if it beats the active one on held-out pairs
  rankers    the ranker versions kept, their held-out figures, and which is active
  activate   make VERSION the active ranker (roll back or forward); the engine switches hot
  stop       ask the running engine to stop

Options:
  --data-dir DIR        the data folder (default: $WINNOW_DATA_DIR, else ~/.winnow)
  --json                print JSON
  serve:    --endpoint E (default ipc://DATA_DIR/engine.sock), --device auto|cpu|cuda,
            --idle-exit-min M (stop after M idle minutes; 0 never; default 30), --foreground (log to stderr too)
  complete: --file F --line L --character C (1-based, as editors show them; clamped to the file)
            --backend openai|ollama|recorded --url U --model M --pool FILE.jsonl
            --n N (default 8) --budget-ms MS (default 10000)
            --reward-model DIR (an exported reward model folder; '' for none) --reward-max-tokens N (default 1024)
            generator and reward model flags default to the last configuration the engine used
  events:   --limit N (default 1000, newest last)
  triplets: --limit N (default 100)
  insights: --days N of history for acceptance and execution (default 30)
  export:   --out FILE (required)
  train:    --rounds K hard-negative rounds (default 2), --seed N (default 1),
            --min-pairs N held-out pairs the gate needs (default 50),
            --margin P points of held-out pairwise accuracy to beat the active ranker by (default 1)
  bench:    --problems problems.jsonl --samples codegen16b_samples.jsonl
            --tests codegen16b_generated_tests.jsonl [--labels codegen16b_labels.jsonl]
            [--json] [--picks-out FILE] [--cache-dir DIR (default DATA_DIR/bench-cache)] [--limit N tasks]
            [--seed N | --seeds 1,2,3 (default 1)] [--rounds K hard-negative rounds (default 2)]
            methods: random, codet, the docstring filters (then CodeT), pass@k; builtin (the built-in
            ranker on the engine's features); ranker and ranker_no_docstring (the learned ranker,
            5-fold cross-validated by task, no docstring features for the second; @roundK per round);
            postprocess:* (the same on the engine's post-processing instead of the CodeT cut)
            --simulate-user --problems P --samples S [--labels L] [--seeds 1,2,3] [--window 20] [--limit N tasks]
              [--execute] [--out FILE.json] [--svg-out FILE.svg]: a simulated developer teaching a real
              engine vs training off (--execute: the engine runs the docstring's examples)
The data commands (events, triplets, export, purge) go through the running engine when
there is one, and open the store directly otherwise; they never start an engine.
`;

function fail(message: string, code = 1): never {
  process.stderr.write(`winnow: ${message}\n`);
  process.exit(code);
}

function dataDirOf(v: string | undefined): string {
  return path.resolve(v ?? process.env.WINNOW_DATA_DIR ?? path.join(os.homedir(), '.winnow'));
}

const LANGUAGE_BY_EXT: Record<string, string> = {
  '.py': 'python', '.js': 'javascript', '.mjs': 'javascript', '.cjs': 'javascript', '.ts': 'typescript', '.tsx': 'typescriptreact',
  '.jsx': 'javascriptreact', '.go': 'go', '.rs': 'rust', '.java': 'java', '.c': 'c', '.h': 'c', '.cpp': 'cpp', '.cc': 'cpp',
  '.hpp': 'cpp', '.cs': 'csharp', '.php': 'php', '.rb': 'ruby', '.sh': 'shellscript', '.lua': 'lua', '.kt': 'kotlin', '.scala': 'scala', '.swift': 'swift',
};

/** What the engine bundle runs as when the engine starts it as a worker (argv[0]), not a user command. */
const INTERNAL_COMMANDS: Record<string, () => void> = {
  // a triplets or export job's worker thread
  'dataset-worker': runDatasetThread,
  // the dashboard queries' worker thread
  'insights-worker': runInsightsThread,
  // the reward model's worker thread
  'reward-worker': runRewardThread,
  // the training worker process (forked by the engine or `winnow train`)
  'train-worker': runWorker,
};

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (!command || command === 'help' || command === '--help' || command === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(HELP);
    return;
  }
  if (command === '--version') {
    process.stdout.write(`${ENGINE_VERSION}\n`);
    return;
  }
  // Internal: the engine's worker threads and its training worker process start the same bundle with these.
  const internal = Object.hasOwn(INTERNAL_COMMANDS, command) ? INTERNAL_COMMANDS[command] : undefined;
  if (internal) {
    internal();
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: command === 'activate',
      options: {
        'data-dir': { type: 'string' },
        json: { type: 'boolean' },
        endpoint: { type: 'string' },
        device: { type: 'string' },
        'idle-exit-min': { type: 'string' },
        foreground: { type: 'boolean' },
        file: { type: 'string' },
        line: { type: 'string' },
        character: { type: 'string' },
        backend: { type: 'string' },
        url: { type: 'string' },
        model: { type: 'string' },
        pool: { type: 'string' },
        n: { type: 'string' },
        'budget-ms': { type: 'string' },
        'reward-model': { type: 'string' },
        'reward-max-tokens': { type: 'string' },
        limit: { type: 'string' },
        out: { type: 'string' },
        yes: { type: 'boolean' },
        'max-db-pages': { type: 'string' },
        'reward-max-mb': { type: 'string' },
        problems: { type: 'string' },
        samples: { type: 'string' },
        tests: { type: 'string' },
        labels: { type: 'string' },
        'picks-out': { type: 'string' },
        'cache-dir': { type: 'string' },
        'store-memory-cap': { type: 'string' },
        rounds: { type: 'string' },
        seed: { type: 'string' },
        'min-pairs': { type: 'string' },
        margin: { type: 'string' },
        'train-idle-ms': { type: 'string' },
        'train-check-ms': { type: 'string' },
        'simulate-user': { type: 'boolean' },
        execute: { type: 'boolean' },
        seeds: { type: 'string' },
        window: { type: 'string' },
        'svg-out': { type: 'string' },
        days: { type: 'string' },
      },
    });
  } catch (e) {
    fail(`${(e as Error).message}\nRun 'winnow --help'.`, 2);
  }
  const v = parsed.values;
  const dataDir = dataDirOf(v['data-dir']);
  switch (command) {
    case 'serve':
      return serve(dataDir, v);
    case 'complete':
      return complete(dataDir, v);
    case 'status':
      return status(dataDir, Boolean(v.json));
    case 'events':
      return events(dataDir, Boolean(v.json), v.limit);
    case 'triplets':
      return triplets(dataDir, Boolean(v.json), v.limit);
    case 'insights':
      return insights(dataDir, Boolean(v.json), v.days);
    case 'export':
      return exportCommand(dataDir, v.out);
    case 'purge':
      return purge(dataDir, Boolean(v.yes));
    case 'bench':
      return bench(dataDir, v);
    case 'train':
      return train(dataDir, v);
    case 'rankers': {
      const r = await rankersCommand(dataDir).catch((e: Error) => fail(e.message));
      process.stdout.write(v.json ? `${JSON.stringify(r, null, 2)}\n` : `${describeVersions(r)}\n`);
      return;
    }
    case 'activate': {
      const version = parsed.positionals[0];
      if (!version || parsed.positionals.length > 1) fail('activate needs one VERSION (winnow rankers lists them)', 2);
      const r = await activateCommand(dataDir, version).catch((e: Error) => fail(e.message));
      process.stdout.write(v.json ? `${JSON.stringify(r)}\n` : `active: ${r.active} (was ${r.previous})\n`);
      return;
    }
    case 'stop':
      return stop(dataDir);
    default:
      fail(`unknown command '${command}'. Run 'winnow --help'.`, 2);
  }
}

async function serve(dataDir: string, v: Record<string, string | boolean | undefined>): Promise<void> {
  const device = (v.device as string | undefined) ?? process.env.WINNOW_DEVICE ?? 'auto';
  if (!['auto', 'cpu', 'cuda'].includes(device)) fail(`--device must be auto, cpu or cuda`, 2);
  const idleMin = Number(v['idle-exit-min'] ?? 30);
  if (!Number.isFinite(idleMin) || idleMin < 0) fail('--idle-exit-min must be a number of minutes', 2);
  mkdirp(dataDir, 0o700);
  const log = createFileLog(paths(dataDir).log, Boolean(v.foreground), process.env.WINNOW_LOG_LEVEL === 'debug' ? 'debug' : 'info');
  let engine: Engine;
  try {
    engine = await Engine.start({
      dataDir,
      ...(typeof v.endpoint === 'string' ? { endpoint: v.endpoint } : {}),
      device: device as 'auto' | 'cpu' | 'cuda',
      idleExitMs: idleMin * 60_000,
      log,
      // Test stand-ins (undocumented): a full disk, and a small memory cap for held records.
      ...(v['max-db-pages'] ? { maxDbPages: Number(v['max-db-pages']) } : {}),
      // TEST STAND-IN for a machine that cannot hold the model (not in the help).
      ...(v['reward-max-mb'] ? { rewardMaxBytes: Number(v['reward-max-mb']) * 1048576 } : {}),
      ...(v['store-memory-cap'] ? { storeMemoryCap: Number(v['store-memory-cap']) } : {}),
      // Background training timing (undocumented; for tests and `winnow bench --simulate-user`).
      ...(v['train-idle-ms'] ? { trainIdleMs: Number(v['train-idle-ms']) } : {}),
      ...(v['train-check-ms'] ? { trainCheckMs: Number(v['train-check-ms']) } : {}),
    });
  } catch (e) {
    if (e instanceof AlreadyRunningError) {
      log('info', e.message);
      fail(e.message, EXIT_ALREADY_RUNNING);
    }
    log('error', `start-up failed: ${(e as Error).stack ?? String(e)}`);
    fail(`start-up failed: ${(e as Error).message}`);
  }
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => void engine.stop(sig).then(() => process.exit(0)));
  }
  await engine.serve();
  process.exit(0);
}

function positionToOffset(text: string, line1: number, char1: number): { offset: number; note?: string } {
  const lines = text.split('\n');
  let note: string | undefined;
  let line = line1 - 1;
  if (line < 0 || line >= lines.length) {
    line = Math.min(Math.max(line, 0), lines.length - 1);
    note = `line ${line1} is outside the file (1..${lines.length}); using line ${line + 1}`;
  }
  const lineText = lines[line] ?? '';
  let ch = char1 - 1;
  if (ch < 0 || ch > lineText.length) {
    ch = Math.min(Math.max(ch, 0), lineText.length);
    note = `${note ? `${note}; ` : ''}character ${char1} is outside line ${line + 1} (1..${lineText.length + 1}); using ${ch + 1}`;
  }
  let offset = 0;
  for (let i = 0; i < line; i++) offset += (lines[i] ?? '').length + 1;
  return note ? { offset: offset + ch, note } : { offset: offset + ch };
}

async function complete(dataDir: string, v: Record<string, string | boolean | undefined>): Promise<void> {
  if (typeof v.file !== 'string' || typeof v.line !== 'string' || typeof v.character !== 'string') {
    fail('complete needs --file, --line and --character', 2);
  }
  const file = path.resolve(v.file);
  const lineNo = Number(v.line);
  const charNo = Number(v.character);
  if (!Number.isInteger(lineNo) || lineNo < 1) fail(`--line must be a line number (1 or more), got ${JSON.stringify(v.line)}`, 2);
  if (!Number.isInteger(charNo) || charNo < 1) fail(`--character must be a column number (1 or more), got ${JSON.stringify(v.character)}`, 2);
  let text: string;
  try {
    // Checked before reading: a huge file is refused without being read, a FIFO or device never read.
    const st = fs.statSync(file);
    if (!st.isFile()) fail(`${file} is not a regular file`);
    if (st.size > 10 * 1024 * 1024) fail(`${file} is larger than 10 MB`);
    const buf = fs.readFileSync(file);
    if (buf.includes(0)) fail(`${file} looks binary (it has NUL bytes)`);
    text = buf.toString('utf8').replace(/\r\n/g, '\n');
  } catch (e) {
    fail(`cannot read ${file}: ${(e as Error).message}`);
  }
  const { offset, note } = positionToOffset(text, lineNo, charNo);
  if (note) process.stderr.write(`winnow: note: ${note}\n`);
  const last = readLastGenerator(dataDir);
  const backend = (v.backend ?? last?.backend ?? (v.pool ? 'recorded' : 'openai')) as GeneratorBackend;
  if (!['openai', 'ollama', 'recorded'].includes(backend)) fail('--backend must be openai, ollama or recorded', 2);
  const same = last?.backend === backend ? last : undefined;
  const generator: GeneratorConfig = { backend };
  const url = (v.url as string | undefined) ?? same?.url;
  const model = (v.model as string | undefined) ?? same?.model;
  const pool = v.pool ? path.resolve(v.pool as string) : same?.recordedPool;
  if (url) generator.url = url;
  if (model) generator.model = model;
  if (pool) generator.recordedPool = pool;
  const n = Number(v.n ?? 8);
  const budgetMs = Number(v['budget-ms'] ?? 10_000);
  const request: CompleteRequest = {
    prefix: text.slice(Math.max(0, offset - 8000), offset),
    suffix: text.slice(offset, offset + 2000),
    languageId: LANGUAGE_BY_EXT[path.extname(file).toLowerCase()] ?? 'plaintext',
    filePath: file,
    n,
    budgetMs,
    generator,
  };
  if (v['reward-model'] !== undefined) {
    const maxTokens = Number(v['reward-max-tokens'] ?? DEFAULT_REWARD_MAX_TOKENS);
    if (!Number.isInteger(maxTokens) || maxTokens < 16 || maxTokens > 32768) fail('--reward-max-tokens must be an integer from 16 to 32768', 2);
    const dir = v['reward-model'] as string;
    request.rewardModel = { path: dir === '' ? '' : path.resolve(dir), maxTokens };
  }
  const info = await ensureEngine({ dataDir, nodePath: process.execPath, engineScript: __filename }).catch((e: Error) => fail(e.message));
  const client = new EngineClient(info.endpoint, { pid: info.pid });
  try {
    const reply = await client.request('complete', request, budgetMs + 5000);
    if (v.json) {
      process.stdout.write(`${JSON.stringify(reply, null, 2)}\n`);
    } else {
      process.stdout.write(
        `${reply.candidates.length} candidates from ${reply.sampled} samples · ranker ${reply.rankerVersion} on ${reply.device.toUpperCase()} · ` +
          `${reply.timings.totalMs.toFixed(1)} ms (generate ${reply.timings.generateMs.toFixed(1)}, rank ${reply.timings.rankMs.toFixed(1)})\n`,
      );
      if (reply.problem) process.stdout.write(`problem: ${reply.problem.message}\n`);
      for (const c of reply.candidates) {
        process.stdout.write(`\n#${c.rank + 1}  score ${c.score.toFixed(4)}  votes ${c.votes}  id ${c.id}\n`);
        process.stdout.write(`${c.text.replace(/^/gm, '  │ ')}\n`);
      }
    }
    if (reply.problem && reply.candidates.length === 0) process.exitCode = 1;
  } catch (e) {
    fail(describeFailure(e, dataDir));
  } finally {
    client.close();
  }
}

function describeReward(r: RewardModelStatus | undefined): string {
  if (!r || r.state === 'none') return 'none (winnow.ranker.rewardModel)';
  if (r.state === 'loading') return `${r.path}: loading`;
  if (r.state === 'failed') return `${r.path}: NOT loaded — ${r.problem ?? ''}`;
  const timing = r.p50Ms !== undefined ? `, scoring p50 ${r.p50Ms} ms (p90 ${r.p90Ms} ms), ${r.inTime} in time, ${r.late} late, ${r.skipped} skipped (busy)` : ', not used yet';
  return `${r.name} (${r.id}) on ${(r.device ?? 'cpu').toUpperCase()} ${r.precision}, ${r.modelMB} MB, up to ${r.maxTokens} tokens${timing}${r.device === 'cpu' ? ` — ${r.deviceReason}` : ''}`;
}

function readLastGenerator(dataDir: string): GeneratorConfig | undefined {
  try {
    return JSON.parse(fs.readFileSync(paths(dataDir).generatorState, 'utf8')) as GeneratorConfig;
  } catch {
    return undefined;
  }
}

async function status(dataDir: string, json: boolean): Promise<void> {
  const info = await findEngine(dataDir);
  if (!info) {
    const stale = readEngineInfo(dataDir);
    const out = { running: false, dataDir, ...(stale ? { staleInfo: stale } : {}) };
    process.stdout.write(json ? `${JSON.stringify(out, null, 2)}\n` : `no engine is running for ${dataDir}\n`);
    process.exitCode = 3;
    return;
  }
  const client = new EngineClient(info.endpoint, { pid: info.pid });
  try {
    const s = await client.request('status', {}, 5000);
    if (json) {
      process.stdout.write(`${JSON.stringify({ running: true, ...s }, null, 2)}\n`);
    } else {
      const g = s.generator;
      process.stdout.write(
        [
          `engine     pid ${s.pid}, version ${s.engineVersion}, protocol ${s.protocolVersion}, up ${Math.round(s.uptimeMs / 1000)} s, ${s.requestsServed} requests`,
          `endpoint   ${s.endpoint}`,
          `device     ${s.device.toUpperCase()} (${s.deviceReason})`,
          `ranker     ${s.rankerVersion}${s.training?.lastChange ? ` since ${new Date(s.training.lastChange.time).toISOString().slice(0, 19).replace('T', ' ')}: ${s.training.lastChange.reason}` : ''}${s.training?.running ? ' (a training is running)' : ''}`,
          `reward     ${describeReward(s.rewardModel)}`,
          ...(s.rankerNote ? [`note       ${s.rankerNote}`] : []),
          `generator  ${g ? `${g.backend}${g.url ? ` ${g.url}` : ''}: ${g.reachable ? 'reachable' : `NOT reachable — ${g.problem?.message ?? ''}`}` : 'none used yet'}`,
          `data       ${s.dataDir}`,
        ].join('\n') + '\n',
      );
    }
  } catch (e) {
    fail(describeFailure(e, dataDir));
  } finally {
    client.close();
  }
}

async function events(dataDir: string, json: boolean, limitText: string | undefined): Promise<void> {
  const limit = Number(limitText ?? 1000);
  if (!Number.isInteger(limit) || limit < 1) fail('--limit must be a positive integer', 2);
  const db = paths(dataDir).db;
  if (!storeExists(db)) {
    process.stdout.write(json ? `${JSON.stringify({ events: [] })}\n` : 'no events yet\n');
    return;
  }
  // Read straight from the store (WAL allows a reader beside the engine): works whether or
  // not an engine is running, and never starts one.
  const store = Store.open(db, () => undefined, { readonly: true });
  try {
    const list = store.listEvents({ limit });
    if (json) process.stdout.write(`${JSON.stringify({ events: list }, null, 2)}\n`);
    else for (const e of list) process.stdout.write(`${new Date(e.time).toISOString()}  ${e.kind.padEnd(18)} rank ${e.rank ?? '-'}  ${e.candidateId}\n`);
  } finally {
    store.close();
  }
}

/** `winnow insights`: the dashboard's figures, read straight from the store (works with or without an engine). */
async function insights(dataDir: string, json: boolean, daysText: string | undefined): Promise<void> {
  const days = Number(daysText ?? 30);
  if (!(days > 0) || days > 36500) fail('--days must be a positive number of days', 2);
  const db = paths(dataDir).db;
  if (!storeExists(db)) fail(`no store at ${db} yet`, 3);
  const store = Store.open(db, () => undefined, { readonly: true });
  let r: InsightsReply;
  try {
    r = store.insights({ since: Date.now() - days * 86_400_000, latest: json ? 500 : 200 });
  } finally {
    store.close();
  }
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}
`);
    return;
  }
  const pct = (a: number, b: number) => (b > 0 ? `${Math.round((100 * a) / b)}%` : '-');
  const a = r.acceptance;
  const sum = (xs: readonly number[]) => xs.reduce((x, y) => x + y, 0);
  const shown = sum(a.shown);
  const kept = sum(a.accepted) + sum(a.partial);
  const lat = r.latency.map((t) => t.totalMs).sort((x, y) => x - y);
  const q = (p: number) => (lat.length > 0 ? `${Math.round(lat[Math.min(lat.length - 1, Math.floor((p / 100) * lat.length))] ?? 0)} ms` : '-');
  process.stdout.write(
    [
      `completions ${r.totals.completions}`,
      `events      ${Object.entries(r.totals.events).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
      `triplets    ${Object.entries(r.totals.triplets).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}${r.totals.tripletsBuiltAt ? ` (built ${new Date(r.totals.tripletsBuiltAt).toISOString().slice(0, 16).replace('T', ' ')})` : ''}`,
      `last ${days} days: ${shown} suggestions shown, ${kept} kept (${pct(kept, shown)})`,
      ...a.byLanguage.map((l) => `  ${l.languageId.padEnd(16)} shown ${l.shown}, kept ${l.accepted + l.partial} (${pct(l.accepted + l.partial, l.shown)})`),
      `by rank     ${a.byRank.map((k) => `${k.rank === MAX_RANK ? `${k.rank}+` : k.rank}: kept ${k.accepted} of ${k.shown} shown`).join('; ') || '-'}`,
      `latency     last ${lat.length}: p50 ${q(50)}, p90 ${q(90)}`,
      `execution   ${r.execution.requests} completions ran candidates: ${r.execution.candidatesRan} ran, ${r.execution.candidatesPassed} passed, the pick changed ${r.execution.changedPick} times`,
      `(queries ${r.queryMs} ms)`,
    ].join('\n') + '\n',
  );
}

/**
 * Whether the store file is there (one look): a store that cannot be looked at (permissions)
 * or that is not a regular file (a folder, a FIFO) fails with why, before SQLite meets it.
 */
function storeExists(db: string): boolean {
  let st: fs.Stats;
  try {
    st = fs.statSync(db);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    fail(describeFailure(e));
  }
  if (!st.isFile()) fail(`the store ${db} is not a regular file (${st.isDirectory() ? 'a folder' : 'something else'}): move it away, and Winnow starts a fresh store`);
  return true;
}

/** Runs `viaEngine` against the running engine, or `direct` on the store when none runs. */
async function withStore<T>(dataDir: string, viaEngine: (c: EngineClient) => Promise<T>, direct: (s: Store) => T, readonly = false): Promise<T> {
  const info = await findEngine(dataDir);
  if (info) {
    const client = new EngineClient(info.endpoint, { pid: info.pid });
    try {
      return await viaEngine(client);
    } finally {
      client.close();
    }
  }
  const db = paths(dataDir).db;
  if (!storeExists(db) && readonly) fail(`no store at ${db} yet`, 3);
  mkdirp(dataDir, 0o700);
  const store = Store.open(db, createFileLog(paths(dataDir).log, false), readonly ? { readonly: true } : {});
  try {
    return direct(store);
  } finally {
    store.close();
  }
}

async function train(dataDir: string, v: Record<string, string | boolean | undefined>): Promise<void> {
  const int = (k: string, min: number, max: number): number | undefined => {
    if (v[k] === undefined) return undefined;
    const n = Number(v[k]);
    if (!Number.isInteger(n) || n < min || n > max) fail(`--${k} must be an integer from ${min} to ${max}`, 2);
    return n;
  };
  const rounds = int('rounds', 0, 10);
  const seed = int('seed', 0, 2 ** 31 - 1);
  const minPairs = int('min-pairs', 0, 10_000_000);
  const margin = v.margin === undefined ? undefined : Number(v.margin);
  if (margin !== undefined && !Number.isFinite(margin)) fail('--margin must be a number of points', 2);
  let lastLine = '';
  const summary = await trainCommand(dataDir, {
    ...(rounds !== undefined ? { rounds } : {}),
    ...(seed !== undefined ? { seed } : {}),
    settings: { ...(minPairs !== undefined ? { minPairs } : {}), ...(margin !== undefined ? { promotionMargin: margin } : {}) },
    onProgress: (p) => {
      if (v.json) return;
      const line = describeProgress(p);
      if (line !== lastLine) process.stderr.write(`${line}\n`);
      lastLine = line;
    },
  }).catch((e: Error) => fail(e.message));
  process.stdout.write(v.json ? `${JSON.stringify(summary, null, 2)}\n` : `${describeSummary(summary)}\n`);
  if (summary.outcome === 'failed') process.exitCode = 1;
}

async function triplets(dataDir: string, json: boolean, limitText: string | undefined): Promise<void> {
  const limit = Number(limitText ?? 100);
  if (!Number.isInteger(limit) || limit < 1) fail('--limit must be a positive integer', 2);
  const r = await withStore(
    dataDir,
    (c) => c.request('triplets', { limit }, 120_000),
    (s) => listTriplets(s, limit),
  ).catch((e: Error) => fail(e.message));
  if (json) {
    process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    return;
  }
  const st = r.stats;
  process.stdout.write(
    `${st.triplets} triplets (${st.train} train, ${st.validation} validation) from ${st.requests} requests and ${st.events} events in ${st.buildMs} ms\n` +
      `by source: ${Object.entries(st.bySource).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}\n`,
  );
  for (const t of r.triplets) {
    process.stdout.write(`\n[${t.source}/${t.pairing} w=${t.weight.toFixed(2)} ${t.split}] ${t.file_path}\n  chosen:   ${oneLine(t.chosen)}\n  rejected: ${oneLine(t.rejected)}\n`);
  }
}

function oneLine(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t.length > 100 ? `${t.slice(0, 97)}...` : t;
}

async function exportCommand(dataDir: string, out: string | undefined): Promise<void> {
  if (!out) fail('export needs --out FILE', 2);
  const file = path.resolve(out);
  const r = await withStore(
    dataDir,
    (c) => c.request('export', { out: file }, 300_000),
    (s) => exportTriplets(s, file),
  ).catch((e: Error) => fail(e.message));
  process.stdout.write(`wrote ${r.count} triplets to ${r.path}\n`);
}

async function purge(dataDir: string, yes: boolean): Promise<void> {
  if (!yes) fail(`purge deletes every completion, event and triplet stored in ${dataDir}; run it again with --yes to do so`, 2);
  if (!fs.existsSync(paths(dataDir).db)) {
    process.stdout.write('nothing to purge\n');
    return;
  }
  const r = await withStore(
    dataDir,
    (c) => c.request('purge', { confirm: true }, 120_000),
    (s) => s.purge(),
  ).catch((e: Error) => fail(e.message));
  process.stdout.write(`purged ${r.requests} requests and ${r.events} events\n`);
}

async function bench(dataDir: string, v: Record<string, string | boolean | undefined>): Promise<void> {
  if (v['simulate-user']) return simulateUserCommand(dataDir, v, __filename);
  for (const k of ['problems', 'samples', 'tests'] as const) {
    if (typeof v[k] !== 'string') fail(`bench needs --${k} FILE (see winnow --help)`, 2);
    if (!fs.existsSync(v[k] as string)) fail(`--${k}: no such file ${v[k] as string}`, 2);
  }
  const limit = v.limit === undefined ? undefined : Number(v.limit);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) fail('--limit must be a positive integer', 2);
  // The cross-validated learned ranker: --seed N (default 1) or --seeds 1,2,3; --rounds K hard-negative rounds (default 2).
  const seedText = typeof v.seeds === 'string' ? v.seeds : typeof v.seed === 'string' ? v.seed : '1';
  const seeds = seedText.split(',').map((x) => Number(x.trim()));
  if (seeds.length === 0 || !seeds.every((x) => Number.isInteger(x) && x >= 0 && x < 2 ** 31)) fail('--seed/--seeds must be integers from 0 to 2^31-1 (--seeds: comma-separated)', 2);
  const rounds = v.rounds === undefined ? 2 : Number(v.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 0 && rounds <= 10)) fail('--rounds must be an integer from 0 to 10', 2);
  const tty = process.stderr.isTTY;
  let lastShown = 0;
  const t0 = Date.now();
  const { result, picks } = await runBench({
    problems: path.resolve(v.problems as string),
    samples: path.resolve(v.samples as string),
    tests: path.resolve(v.tests as string),
    ...(typeof v.labels === 'string' ? { labels: path.resolve(v.labels) } : {}),
    cacheDir: path.resolve(typeof v['cache-dir'] === 'string' ? v['cache-dir'] : path.join(dataDir, 'bench-cache')),
    ...(limit ? { limit } : {}),
    learned: { seeds, rounds, ...(v.json ? {} : { onProgress: (line: string) => tty && process.stderr.write(`\r${line.padEnd(100)}`) }) },
    onProgress: (done, total, executed) => {
      const now = Date.now();
      if (done !== total && now - lastShown < (tty ? 250 : 10_000)) return;
      lastShown = now;
      const secs = (now - t0) / 1000;
      const eta = done > 0 ? Math.round((secs / done) * (total - done)) : 0;
      const line = `labelled ${done}/${total} candidates (${executed} executed, the rest from cache) · ${Math.round(secs)} s · about ${eta} s left`;
      process.stderr.write(tty ? `\r${line}   ` : `${line}\n`);
    },
  }).catch((e: Error) => fail(e.message));
  if (tty) process.stderr.write('\n');
  if (typeof v['picks-out'] === 'string') {
    const out = path.resolve(v['picks-out']);
    fs.writeFileSync(out, picks.map((p) => JSON.stringify({ task_id: p.taskId, method: p.method, ranking: p.ranking })).join('\n') + '\n');
    process.stderr.write(`wrote ${picks.length} rankings to ${out}\n`);
  }
  if (v.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  const p = result.pass1;
  const rows: [string, number][] = [
    ['a random sample', p.random],
    ['CodeT dual agreement with the model-written tests', p.codet],
    ['keep samples that pass the examples in the original docstring (every form Winnow reads)', p.docstringFilter],
    ['  the same, examples in the common forms only (no Input:/Output: blocks, f(x) = y lines)', p.commonFormsFilter],
    ['  the same, `>>>` doctest examples only', p.doctestFilter],
    ['docstring-example filter, then CodeT dual agreement', p.docstringFilterThenCodet],
    ['  the same, common forms only', p.commonFormsFilterThenCodet],
    ['  the same, `>>>` doctest examples only', p.doctestFilterThenCodet],
    ['best of 10 (pass@10)', p.passAt10],
    ['best of 100 (pass@100)', p.passAt100],
  ];
  process.stdout.write(`| method | pass@1 |\n| --- | ---: |\n${rows.map(([m, x]) => `| ${m} | ${x.toFixed(1)} |`).join('\n')}\n`);
  process.stdout.write(
    `\n${result.tasks} tasks, ${result.samples} candidates: ${result.executed} executed, ${result.cached} from cache, in ${(result.wallMs / 1000).toFixed(1)} s. ` +
      `Docstring examples found for ${result.examples.tasksWithExamples} tasks (${result.examples.totalExamples} in all); ${result.generatedTests.perTaskMean.toFixed(1)} model-written tests per task.\n`,
  );
  if (result.labelAgreement) {
    const a = result.labelAgreement;
    process.stdout.write(`Labels agree with the reference on ${a.agree}/${a.total} candidates (${(100 * a.fraction).toFixed(2)}%).\n`);
  }
  if (result.learned) {
    const L = result.learned.codetCut;
    const fmt = (x: { mean: number; min: number; max: number }) => (L.seeds.length > 1 ? `${x.mean.toFixed(1)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})` : x.mean.toFixed(1));
    const names: Record<string, string> = { all: 'ranker', noDocstring: 'ranker_no_docstring' };
    const rounds = Array.from({ length: L.rounds + 1 }, (_, r) => `round ${r}`);
    let out = `\nLearned ranker, ${L.folds}-fold cross-validation by task, seeds ${L.seeds.join(',')}: pass@1 per hard-negative round (mean (min–max) over seeds); held-out pairwise accuracy of the last round\n`;
    out += `| method | family | ${rounds.join(' | ')} | pairwise acc. |\n| --- | --- |${rounds.map(() => ' ---: |').join('')} ---: |\n`;
    for (const [variant, byFamily] of Object.entries(L.figures)) {
      for (const [family, rs] of Object.entries(byFamily)) {
        out += `| ${names[variant] ?? variant} | ${family}${family === L.defaultFamily ? ' (default)' : ''} | ${rs.map((r) => fmt(r.pass1)).join(' | ')} | ${fmt((rs[rs.length - 1] ?? rs[0])!.pairwiseAccuracy)} |\n`;
      }
    }
    out += `| builtin (no training) | linear | ${rounds.map(() => L.builtin.pass1.toFixed(1)).join(' | ')} | ${L.builtin.pairwiseAccuracy.toFixed(1)} |\n`;
    const e = result.learned.enginePostprocess;
    out +=
      `\nThe engine's post-processing cuts ${e.samplesCutDifferently} samples differently from the CodeT cut (${e.droppedEmpty} become empty); of the other ${e.samplesCutDifferently - e.droppedEmpty}, ${e.differingPassCodeT} pass with the CodeT cut and ${e.differingPassEngine} with the engine's. ` +
      `With the engine's candidates: random ${e.random.toFixed(1)}, pass@100 ${e.passAt100.toFixed(1)}, ranker ${fmt((e.figures.figures.all?.[e.figures.defaultFamily] ?? []).at(-1)?.pass1 ?? { mean: NaN, min: NaN, max: NaN })}, builtin ${e.figures.builtin.pass1.toFixed(1)}.\n`;
    process.stdout.write(out);
  }
}

async function stop(dataDir: string): Promise<void> {
  const info = await findEngine(dataDir);
  if (!info) {
    process.stdout.write(`no engine is running for ${dataDir}\n`);
    return;
  }
  const client = new EngineClient(info.endpoint, { pid: info.pid });
  try {
    await client.request('shutdown', {}, 5000);
    process.stdout.write(`stopped engine pid ${info.pid}\n`);
  } finally {
    client.close();
  }
}

// A closed pipe (`winnow complete ... | head -1`) ends the output quietly, not with a stack.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});
/**
 * What the CLI says when something it did not expect fails: the message a user can act on, not
 * a stack (WINNOW_DEBUG=1 adds it). SQLite's errors get what they mean for the store.
 */
function describeFailure(e: unknown, dataDir?: string): string {
  const err = e as Error & { code?: string };
  const code = typeof err?.code === 'string' ? err.code : '';
  let text = err?.message ?? String(e);
  if (err instanceof EngineDiedError) text = `${text}${dataDir ? `; see its log, ${paths(dataDir).log}` : ''}`;
  else if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) text = `the store is damaged (${code}: ${text}); the engine moves it aside and starts a fresh one at its next start (nothing is deleted)`;
  else if (/^SQLITE_(READONLY|CANTOPEN|PERM|AUTH)/.test(code) || code === 'EACCES' || code === 'EPERM' || code === 'EROFS') text = `the data folder cannot be used (${code}: ${text}): check that it exists and that you can read and write it`;
  else if (/^SQLITE_(FULL|IOERR)/.test(code) || code === 'ENOSPC') text = `the disk is full or failing (${code}: ${text})`;
  return process.env.WINNOW_DEBUG ? `${text}\n${err?.stack ?? ''}` : text;
}

main(process.argv.slice(2)).catch((e: unknown) => fail(describeFailure(e)));
