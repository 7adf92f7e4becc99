/** Small file-system helpers shared by the engine's modules. */
import * as fs from 'node:fs';

/**
 * Writes a file so that readers see the old or the new content, never half of it, and the
 * new content survives a crash once this returns (temp file, fsync, rename). Mode 0600.
 */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
  const fd = fs.openSync(tmp, 'w', 0o600);
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}
