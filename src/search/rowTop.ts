// Each row's best few tokens and its log-normaliser, for search: what beam search and greedy decoding read back from
// a step instead of the whole [rows, vocab] of log-probabilities.
//
// A step's log-prob of token v in row r is x[r, v] − logsumexp(x[r]) with x the logits, so the order within a row
// is the logits' order: a sentence's K best continuations are among its rows' K best logits each, and those, the
// row's logsumexp and its EOS logit are all the search needs. On wasm a toolkit kernel finds them in one pass over
// the logits where they lie in the heap, next to the backend's Softmax for the normaliser
// (logsumexp(x) = x_k − log p_k, k the row's largest logit, as in loss/logSoftmax.ts), and reads back (2K + 2)
// numbers a row instead of the vocabulary. Elsewhere tf.topk and tf.logSumExp do the same.
//
// Log-probs in, not logits, give the same answer: their logsumexp is 0 (to rounding).
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { argMaxRowsValues } from '../backend/wasm/kernels.js';
import { GO, EOS, PAD } from '../data/text/vocabulary.js';

export const ROW_TOP = 'ToolkitRowTop';

/** What `rowTop` reads back, per row r of the step. */
export interface RowTop {
  /** k logits per row, best first (−∞ where the row has fewer than k candidates): values[r·k + j]. */
  values: Float32Array;
  /** Their tokens (−1 where absent). */
  ids: Int32Array;
  /** logsumexp of the whole row: a token's log-prob is its logit minus this. */
  logNormaliser: Float32Array;
  /** The row's EOS logit (a forced end at the length limit scores it). */
  eos: Float32Array;
}

/**
 * The k best tokens of row `r` of `x` (width V) by logit into out[o … o+k−1], best first; ties go to the lower token.
 * PAD and GO are never candidates, nor EOS when `noEos`; −∞ and NaN never are. Returns how many were found.
 */
export function topOfRow(
  x: ArrayLike<number>,
  r: number,
  V: number,
  k: number,
  noEos: boolean,
  values: Float32Array,
  ids: Float32Array | Int32Array,
  o: number,
): number {
  let n = 0;
  let floor = -Infinity; // a value must beat this to enter: the k-th best so far once there are k
  const base = r * V;
  for (let v = 0; v < V; v++) {
    const value = x[base + v]!;
    if (!(value > floor)) continue;
    if (v === PAD || v === GO || (noEos && v === EOS)) continue;
    // Strict comparisons keep the earlier token ahead on ties.
    let i = n === k ? k - 1 : n++;
    while (i > 0 && values[o + i - 1]! < value) {
      values[o + i] = values[o + i - 1]!;
      ids[o + i] = ids[o + i - 1]!;
      i--;
    }
    values[o + i] = value;
    ids[o + i] = v;
    if (n === k) floor = values[o + k - 1]!;
  }
  for (let i = n; i < k; i++) {
    values[o + i] = -Infinity;
    ids[o + i] = -1;
  }
  return n;
}

/** Values a block of `blockMaxRows` spans (backend/wasm/simdKernels.ts). */
export const BLOCK = 32;

/**
 * topOfRow over whole blocks of BLOCK values whose maxima are given (`blockMax`, nb of them from `bo` on): a block
 * whose largest value cannot beat the k-th best so far is skipped, and the values after the last whole block are
 * scanned one by one. The same result as topOfRow, which compares every value with that k-th best: a block skipped
 * holds none that would have entered.
 */
export function topOfRowByBlocks(
  x: Float32Array,
  r: number,
  V: number,
  k: number,
  noEos: boolean,
  blockMax: Float32Array,
  bo: number,
  values: Float32Array,
  ids: Float32Array | Int32Array,
  o: number,
): number {
  let n = 0;
  let floor = -Infinity;
  const base = r * V;
  const nb = Math.floor(V / BLOCK);
  const scan = (from: number, to: number): void => {
    for (let v = from; v < to; v++) {
      const value = x[base + v]!;
      if (!(value > floor)) continue;
      if (v === PAD || v === GO || (noEos && v === EOS)) continue;
      let i = n === k ? k - 1 : n++;
      while (i > 0 && values[o + i - 1]! < value) {
        values[o + i] = values[o + i - 1]!;
        ids[o + i] = ids[o + i - 1]!;
        i--;
      }
      values[o + i] = value;
      ids[o + i] = v;
      if (n === k) floor = values[o + k - 1]!;
    }
  };
  for (let b = 0; b < nb; b++) if (blockMax[bo + b]! > floor) scan(b * BLOCK, (b + 1) * BLOCK);
  scan(nb * BLOCK, V);
  for (let i = n; i < k; i++) {
    values[o + i] = -Infinity;
    ids[o + i] = -1;
  }
  return n;
}

/** out[r] = logsumexp(x[r]) = x[r, m] − log p[r, m] for m the row's first largest logit, p = softmax(x). */
function logNormalisers(x: Float32Array, p: Float32Array, rows: number, V: number, out: Float32Array): void {
  const best = new Int32Array(rows);
  argMaxRowsValues(x, rows, V, best);
  for (let r = 0; r < rows; r++) {
    const m = r * V + best[r]!;
    out[r] = x[m]! - Math.log(p[m]!);
  }
}

registerJsKernel(ROW_TOP, ({ x, p }, attrs, memory) => {
  const [rows, V] = x!.shape as [number, number];
  const k = attrs['k'] as number;
  const noEos = attrs['noEos'] === 1;
  // Outputs: values [rows, k], ids [rows, k] (as floats: tokens are far below 2^24), [logNormaliser, eos] per row.
  const outShapes = [
    [rows, k],
    [rows, k],
    [rows, 2],
  ];
  const eosOf = (xs: Float32Array, r: number): number => (V > EOS ? xs[r * V + EOS]! : -Infinity);
  const simd = memory.simd;
  if (simd === undefined)
    return memory.run([x, p], outShapes, ([xV, pV], [values, ids, stats]) => {
      const lse = new Float32Array(rows);
      logNormalisers(xV!, pV!, rows, V, lse);
      for (let r = 0; r < rows; r++) {
        topOfRow(xV!, r, V, k, noEos, values!, ids!, r * k);
        stats![2 * r] = lse[r]!;
        stats![2 * r + 1] = eosOf(xV!, r);
      }
    });
  // With SIMD: the block maxima in one vector pass, then each row's scan visits only the blocks that can hold one of
  // its k best, and its first largest value (for the normaliser) is in the first block holding the row's maximum.
  const nb = Math.floor(V / BLOCK);
  return simd.run(
    [x, p],
    outShapes,
    ([xO, pO], [valuesO, idsO, statsO], [blocksO]) => {
      if (nb > 0) simd.kernels.blockMaxRows(xO!, rows, V, blocksO!);
      const xs = simd.f32(xO!, rows * V);
      const ps = simd.f32(pO!, rows * V);
      const blocks = simd.f32(blocksO!, Math.max(1, rows * nb));
      const [values, ids, stats] = [
        simd.f32(valuesO!, rows * k),
        simd.f32(idsO!, rows * k),
        simd.f32(statsO!, 2 * rows),
      ];
      for (let r = 0; r < rows; r++) {
        topOfRowByBlocks(xs, r, V, k, noEos, blocks, r * nb, values, ids, r * k);
        stats[2 * r] = logNormaliserOfRow(xs, ps, r, V, blocks, r * nb);
        stats[2 * r + 1] = eosOf(xs, r);
      }
    },
    [Math.max(1, rows * nb)],
  );
});

/** logsumexp of row r from its block maxima: x_m − log p_m at the row's first largest value m (NaN for a NaN row). */
function logNormaliserOfRow(
  x: Float32Array,
  p: Float32Array,
  r: number,
  V: number,
  blockMax: Float32Array,
  bo: number,
): number {
  const base = r * V;
  const nb = Math.floor(V / BLOCK);
  let max = -Infinity;
  for (let b = 0; b < nb; b++) if (blockMax[bo + b]! > max) max = blockMax[bo + b]!;
  for (let v = nb * BLOCK; v < V; v++) if (x[base + v]! > max) max = x[base + v]!;
  // A row of −∞ (or of NaNs beside −∞): softmax gave NaN, and so does the normaliser.
  let m = 0;
  const from = nb > 0 && max > -Infinity ? BLOCK * firstBlockReaching(blockMax, bo, nb, max) : 0;
  for (let v = from; v < V; v++)
    if (x[base + v] === max) {
      m = v;
      break;
    }
  return x[base + m]! - Math.log(p[base + m]!);
}

function firstBlockReaching(blockMax: Float32Array, bo: number, nb: number, max: number): number {
  for (let b = 0; b < nb; b++) if (blockMax[bo + b] === max) return b;
  return nb; // the maximum is in the tail
}

/**
 * Each row's k best tokens by logit (PAD, GO and, when `noEos`, EOS left out), its logsumexp and its EOS logit,
 * read back to the host. `logits` is left to the caller.
 */
export function rowTop(logits: tf.Tensor2D, k: number, noEos: boolean): RowTop {
  const rows = logits.shape[0];
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`rowTop: k must be a positive integer, got ${k}`);
  if (hasJsKernel(ROW_TOP)) {
    const outs = tf.tidy(() => runJsKernel(ROW_TOP, { x: logits, p: tf.softmax(logits) }, { k, noEos: noEos ? 1 : 0 }));
    // Read outside tf.tidy, which would walk every number of arrays handed back from it.
    const [values, ids, stats] = outs.map((t) => t.dataSync() as Float32Array);
    tf.dispose(outs);
    const logNormaliser = new Float32Array(rows);
    const eos = new Float32Array(rows);
    for (let r = 0; r < rows; r++) {
      logNormaliser[r] = stats![2 * r]!;
      eos[r] = stats![2 * r + 1]!;
    }
    return { values: values!, ids: Int32Array.from(ids!), logNormaliser, eos };
  }
  return rowTopByOps(logits, k, noEos);
}

/** `rowTop` from tf ops: what backends without the toolkit's kernels (a native one) run, fast there. */
export function rowTopByOps(logits: tf.Tensor2D, k: number, noEos: boolean): RowTop {
  const [rows, V] = logits.shape;
  return tf.tidy(() => {
    const barrier = new Float32Array(V);
    barrier[PAD] = barrier[GO] = -Infinity;
    if (noEos && V > EOS) barrier[EOS] = -Infinity;
    const width = Math.min(k, V);
    const top = tf.topk(tf.add(logits, tf.tensor1d(barrier)), width);
    const got = top.values.dataSync() as Float32Array;
    const gotIds = top.indices.dataSync() as Int32Array;
    const values = new Float32Array(rows * k).fill(-Infinity);
    const ids = new Int32Array(rows * k).fill(-1);
    for (let r = 0; r < rows; r++)
      for (let j = 0, n = 0; j < width; j++) {
        const value = got[r * width + j]!;
        if (!(value > -Infinity)) continue;
        values[r * k + n] = value;
        ids[r * k + n++] = gotIds[r * width + j]!;
      }
    const logNormaliser = tf.logSumExp(logits, 1).dataSync() as Float32Array;
    const eos =
      V > EOS
        ? (tf.reshape(tf.slice(logits, [0, EOS], [rows, 1]), [rows]).dataSync() as Float32Array)
        : new Float32Array(rows).fill(-Infinity);
    return { values, ids, logNormaliser: Float32Array.from(logNormaliser), eos: Float32Array.from(eos) };
  });
}
