/**
 * The engine's log: one line per entry, `ISO-time level message`, to a file in the data
 * folder (rotated at 5 MB, one old file kept; only its owner can read it) and, when running in
 * the foreground, stderr.
 *
 * Messages quote what clients send (ids, paths, errors), so they are escaped: a line break or
 * another control character is written as `\n`, `\u001b`, ..., and one entry is always one
 * line; a client cannot forge log lines or terminal escapes. An entry is cut at 16 KiB.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mkdirp } from './fsutil';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: Level, message: string) => void;

const MAX_BYTES = 5 * 1024 * 1024;
const MAX_ENTRY_CHARS = 16 * 1024;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u2028\u2029]/g;

/** One log entry as one line: control characters escaped, cut at 16 KiB. */
export function escapeLogText(message: string): string {
  const cut = message.length > MAX_ENTRY_CHARS ? `${message.slice(0, MAX_ENTRY_CHARS)}… (${message.length - MAX_ENTRY_CHARS} more characters)` : message;
  return cut.replace(CONTROL, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export function createFileLog(file: string, alsoStderr: boolean, minLevel: Level = 'info'): LogFn {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  mkdirp(path.dirname(file), 0o700);
  let written = 0;
  try {
    fs.chmodSync(file, 0o600); // a log of an older version may be readable by others
    written = fs.statSync(file).size;
  } catch {
    written = 0;
  }
  return (level, message) => {
    if (order[level] < order[minLevel]) return;
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${escapeLogText(message)}\n`;
    if (alsoStderr) process.stderr.write(line);
    try {
      if (written > MAX_BYTES) {
        fs.renameSync(file, `${file}.1`);
        written = 0;
      }
      fs.appendFileSync(file, line, { mode: 0o600 });
      written += line.length;
    } catch {
      // A full disk must not take the engine down; stderr (if any) still has the line.
    }
  };
}

export const nullLog: LogFn = () => undefined;
