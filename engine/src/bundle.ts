import * as path from 'node:path';

/**
 * The engine bundle (engine/out/cli.js), which the engine's worker processes and threads run
 * with an argument naming their role (`train-worker`, `reward-worker`, `dataset-worker`).
 * Bundled, every module's __filename is the bundle; run from sources (tests), the built one.
 */
export function engineBundle(): string {
  return __filename.endsWith('.js') ? __filename : path.resolve(__dirname, '../out/cli.js');
}
