/**
 * The JavaScript (and TypeScript) test harness, written into each run folder as `harness.js`
 * and run with `node harness.js`. TypeScript normally arrives stripped of its types by the
 * engine (a program that did not parse there comes as `syntaxError`, a test as its
 * `compileError`); with `typescript: true` the harness strips with Node's
 * `module.stripTypeScriptTypes` itself (Node 22.13+).
 *
 * Same request and output protocol as the Python harness (see ./python.ts). The program runs
 * once as a classic script in the main realm (`vm.runInThisContext`, so its top-level
 * declarations are visible to the tests; `require`, `module` and `exports` are provided; ES
 * module `import`/`export` syntax is not supported). Each test runs as the body of its own
 * async function (its declarations stay local to it; `await` works), under its own time
 * limit: synchronous code is interrupted by V8 (the `timeout` option), asynchronous code is
 * raced against a timer (a runaway microtask loop is left to the run's wall-clock limit).
 * console output is captured per test.
 */
export const JAVASCRIPT_HARNESS = String.raw`'use strict';
const fs = require('node:fs');
const vm = require('node:vm');
const path = require('node:path');
const { Console } = require('node:console');
const { Writable } = require('node:stream');

const req = JSON.parse(fs.readFileSync(0, 'utf8'));
const nonce = req.nonce;
const outChars = req.outputChars || 2000;
const tStart = Date.now();
const deadline = req.budgetMs ? tStart + req.budgetMs : undefined;
const tests = req.tests || [];
const results = new Array(tests.length).fill(null);
const final = { results };
const writeOut = fs.writeSync.bind(fs, 1);
const exit = process.exit.bind(process);
const emit = (kind, obj) => writeOut(nonce + kind + ' ' + JSON.stringify(obj) + '\n');
const fmt = (e) => {
  let s;
  try {
    s = e instanceof Error ? (e.name || 'Error') + (e.message ? ': ' + e.message : '') : 'thrown: ' + String(e);
  } catch {
    s = '<unprintable>';
  }
  return s.slice(0, 500);
};

let strip = (s) => s;
if (req.typescript) {
  const m = require('node:module');
  if (typeof m.stripTypeScriptTypes !== 'function') {
    final.syntaxError = 'TypeScript needs Node.js with module.stripTypeScriptTypes (22.13 or newer)';
    tests.forEach((_, i) => (results[i] = { passed: false, error: 'syntax error' }));
    emit('R', final);
    exit(0);
  }
  strip = (s) => m.stripTypeScriptTypes(s, { mode: 'strip' });
}

function capture() {
  let text = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      if (text.length < outChars) text += String(chunk).slice(0, outChars - text.length);
      cb();
    },
  });
  return { console: new Console({ stdout: sink, stderr: sink }), value: () => text };
}

const realConsole = globalThis.console;
const filename = path.resolve(req.filename || 'program.js');
globalThis.require = require;
globalThis.module = { exports: {}, filename, id: '.', loaded: false, children: [], paths: [] };
globalThis.exports = globalThis.module.exports;
globalThis.__filename = filename;
globalThis.__dirname = path.dirname(filename);

// Errors the program raises later (timers, rejected promises nobody awaits) must not end the harness.
process.on('uncaughtException', () => undefined);
process.on('unhandledRejection', () => undefined);

const remaining = () => (deadline === undefined ? undefined : deadline - Date.now());

async function run(source, name, ms, wrapAsync) {
  const cap = capture();
  globalThis.console = cap.console;
  let err;
  let timedOut = false;
  const budget = Math.max(1, Math.floor(ms));
  try {
    const t0 = Date.now();
    const value = vm.runInThisContext(source, { filename: name, timeout: budget, displayErrors: false });
    if (wrapAsync && value && typeof value.then === 'function') {
      let timer;
      const left = Math.max(1, budget - (Date.now() - t0));
      const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(Object.assign(new Error('timed out'), { winnowTimeout: true })), left)));
      try {
        await Promise.race([value, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
  } catch (e) {
    if (e && (e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' || e.winnowTimeout)) timedOut = true;
    else err = fmt(e);
  } finally {
    globalThis.console = realConsole;
  }
  return { err, timedOut, printed: cap.value() };
}

(async () => {
  let program = req.program || '';
  try {
    if (req.syntaxError) throw Object.assign(new Error(), { winnowMessage: String(req.syntaxError) });
    program = strip(program);
    new vm.Script(program, { filename });
  } catch (e) {
    final.syntaxError = e && e.winnowMessage ? e.winnowMessage.slice(0, 500) : fmt(e);
    tests.forEach((_, i) => (results[i] = { passed: false, error: 'syntax error' }));
    emit('R', final);
    exit(0);
  }
  const rem0 = remaining();
  const programMs = req.programMs || 3000;
  const p = await run(program, filename, rem0 === undefined ? programMs : Math.min(programMs, rem0), false);
  if (p.timedOut || p.err !== undefined) {
    final.programError = p.timedOut ? 'timed out' : p.err;
    tests.forEach((_, i) => (results[i] = p.timedOut ? { passed: false, timedOut: true, error: 'program timed out' } : { passed: false, error: 'program raised ' + p.err }));
    emit('R', final);
    exit(0);
  }
  for (let i = 0; i < tests.length; i++) {
    const rem = remaining();
    if (rem !== undefined && rem <= 0) {
      results[i] = { passed: false, skipped: true, timedOut: true, error: 'not run: time budget spent' };
      continue;
    }
    const t = tests[i];
    let body;
    try {
      if (t.compileError) throw Object.assign(new Error(), { winnowMessage: String(t.compileError) });
      body = '(async () => {\n' + strip(t.source) + '\n})()';
      new vm.Script(body, { filename: '<test ' + i + '>' });
    } catch (e) {
      results[i] = { passed: false, error: 'test does not compile: ' + (e && e.winnowMessage ? e.winnowMessage.slice(0, 500) : fmt(e)) };
      emit('T', { ...results[i], i });
      continue;
    }
    const ms = rem === undefined ? t.timeoutMs || 3000 : Math.min(t.timeoutMs || 3000, rem);
    const r = await run(body, '<test ' + i + '>', ms, true);
    const res = { passed: r.err === undefined && !r.timedOut };
    if (r.timedOut) {
      res.timedOut = true;
      res.error = 'timed out';
    } else if (r.err !== undefined) res.error = r.err;
    if (r.printed) res.stdout = r.printed;
    results[i] = res;
    emit('T', { ...res, i });
  }
  emit('R', final);
  exit(0);
})().catch((e) => {
  final.programError = 'harness: ' + fmt(e);
  emit('R', final);
  exit(4);
});
`;
