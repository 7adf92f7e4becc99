/**
 * A tiny test runner for the extension host, where node:test is not available: tests run one
 * after another, each with a deadline; a test may skip itself with a reason. `runAll` throws
 * when any test failed, which is how @vscode/test-electron learns that the run failed.
 */

export interface TestCase {
  name: string;
  timeoutMs: number;
  fn: () => Promise<void> | void;
}

export class Skip extends Error {
  override name = 'Skip';
}

/** Marks the running test as skipped, with the reason printed in the summary. */
export function skip(reason: string): never {
  throw new Skip(reason);
}

export async function runAll(tests: readonly TestCase[]): Promise<void> {
  let passed = 0;
  const failed: string[] = [];
  const skipped: string[] = [];
  for (const t of tests) {
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        Promise.resolve().then(t.fn),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`timed out after ${t.timeoutMs} ms`)), t.timeoutMs);
        }),
      ]);
      passed++;
      console.log(`  ok    ${t.name} (${Date.now() - started} ms)`);
    } catch (err) {
      if (err instanceof Skip) {
        skipped.push(t.name);
        console.log(`  skip  ${t.name}: ${err.message}`);
      } else {
        failed.push(t.name);
        console.log(`  FAIL  ${t.name} (${Date.now() - started} ms)\n${indent(err instanceof Error ? (err.stack ?? err.message) : String(err))}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }
  console.log(`\n${passed} passed, ${failed.length} failed, ${skipped.length} skipped`);
  if (failed.length > 0) throw new Error(`${failed.length} test(s) failed: ${failed.join('; ')}`);
}

/**
 * Resolves once `cond` returns a truthy value, checking every `everyMs`, or rejects after
 * `timeoutMs` with `what` in the message. For conditions with no event to wait on.
 */
export async function waitFor<T>(what: string, cond: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs: number, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`gave up waiting ${timeoutMs} ms for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Resolves with the first event that matches, or rejects after `timeoutMs`. */
export function nextEvent<T>(what: string, event: (listener: (e: T) => unknown) => { dispose(): unknown }, match: (e: T) => boolean, timeoutMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`no ${what} within ${timeoutMs} ms`));
    }, timeoutMs);
    const sub = event((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    });
  });
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `        ${l}`)
    .join('\n');
}
