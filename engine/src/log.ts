/**
 * The engine's log: one line per entry, `ISO-time level message`, to a file in the data
 * folder (rotated at 5 MB, one old file kept) and, when running in the foreground, stderr.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type Level = 'debug' | 'info' | 'warn' | 'error';
export type LogFn = (level: Level, message: string) => void;

const MAX_BYTES = 5 * 1024 * 1024;

export function createFileLog(file: string, alsoStderr: boolean, minLevel: Level = 'info'): LogFn {
  const order: Record<Level, number> = { debug: 0, info: 1, warn: 2, error: 3 };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  let written = 0;
  try {
    written = fs.statSync(file).size;
  } catch {
    written = 0;
  }
  return (level, message) => {
    if (order[level] < order[minLevel]) return;
    const line = `${new Date().toISOString()} ${level.padEnd(5)} ${message}\n`;
    if (alsoStderr) process.stderr.write(line);
    try {
      if (written > MAX_BYTES) {
        fs.renameSync(file, `${file}.1`);
        written = 0;
      }
      fs.appendFileSync(file, line);
      written += line.length;
    } catch {
      // A full disk must not take the engine down; stderr (if any) still has the line.
    }
  };
}

export const nullLog: LogFn = () => undefined;
