// What a search keeps of the attention each output token was written with, for <unk> replacement and alignments:
// per token the source token it attended to most, and the weights only when asked. Only what is kept is copied out
// of each step's read-back, so a long search holds a few numbers a token, not views that pin every step's whole
// [rows, memory length] buffer.

/** What a search keeps of each hypothesis' attention (Hypothesis.alignment, Hypothesis.attention). */
export interface KeepAttention {
  /**
   * Per sentence of the batch, the memory step of each of its source tokens, in token order (sourcePositions): the
   * alignment and the weights kept are over these tokens.
   */
  columns: readonly (readonly number[])[];
  /** Also keep the weights over the source tokens (Hypothesis.attention), not only the most attended (default false). */
  weights?: boolean;
}

/** The first j with the largest row[columns[j]] (row[j] without columns). */
export function argMax(row: ArrayLike<number>, columns?: readonly number[]): number {
  const n = columns === undefined ? row.length : columns.length;
  let best = 0;
  let max = row[columns === undefined ? 0 : columns[0]!]!;
  for (let j = 1; j < n; j++) {
    const x = row[columns === undefined ? j : columns[j]!]!;
    if (x > max) [best, max] = [j, x];
  }
  return best;
}

/** What is kept of one row's attention at one step: the most attended source token, and its weights when asked. */
export interface AttentionStep {
  best: number;
  weights?: Float32Array;
}

/**
 * Row r of a step's attention read-back A (`width` memory steps a row), over a sentence's source tokens (`columns`):
 * the first most attended token, and with `weights` a copy of the row's weights in token order.
 */
export function attentionStep(
  A: Float32Array,
  width: number,
  r: number,
  columns: readonly number[],
  weights: boolean,
): AttentionStep {
  const row = A.subarray(r * width, (r + 1) * width);
  const best = argMax(row, columns);
  if (!weights) return { best };
  return { best, weights: Float32Array.from(columns, (c) => row[c]!) };
}
