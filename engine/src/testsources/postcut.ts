/**
 * CodeT's cut of a raw sample into a function body (microsoft/CodeT `src/postprocess.py`, and
 * how `shared/bench/humaneval/codegen16b_labels.jsonl` was computed): everything from the first
 * line that starts a new top-level block is dropped. Applying CodeT's stop words one after the
 * other, as it does, is the same as cutting at the earliest of them.
 */

export const CODET_STOP_WORDS = ['\nclass', '\ndef', '\n#', '\nif', '\nprint'] as const;

export function cutCodeT(sample: string): string {
  let cut = sample.length;
  for (const stop of CODET_STOP_WORDS) {
    const at = sample.indexOf(stop);
    if (at >= 0 && at < cut) cut = at;
  }
  return sample.slice(0, cut);
}
