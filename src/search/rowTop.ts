// Each row's best few tokens and its log-normaliser, for search: what beam search and greedy decoding read back from
// a step instead of the whole [rows, vocab] of log-probabilities.
//
// A step's log-prob of token v in row r is x[r, v] − logsumexp(x[r]) with x the logits, so the order within a row
// is the logits' order: a sentence's K best continuations are among its rows' K best logits each, and those, the
// row's logsumexp and its EOS logit are all the search needs. On wasm a toolkit kernel finds them where the logits
// lie in the heap: a SIMD pass gives every block of 32 logits its maximum, a second gathers each row's values from its
// K-th largest block maximum on (a bound below its K-th best) out of the blocks that reach it (rowCandidates in
// backend/wasm/rowKernels.ts), and the few it finds are ranked here (rankCandidates; topOfRowByBlocks is the same
// in JavaScript, for the rows whose candidates overflow). The normaliser is the row's largest logit m (the largest
// block maximum) plus log Σ exp(x − m), summed by one more SIMD pass (expSumRows; without SIMD, x_m − log p_m from
// the backend's Softmax, as in loss/logSoftmax.ts), and one read-back brings (2K + 2) numbers a row instead of the
// vocabulary. Elsewhere tf.topk and tf.logSumExp do the same.
//
// Log-probs in, not logits, give the same answer: their logsumexp is 0 (to rounding). An ensemble's averaged
// log-probs do not sum to one and are scores as they are: search asks rowTop not to normalise them
// (StepOutput.asScores).
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { argMaxRowsValues } from '../backend/wasm/kernels.js';
import { activeSimdKernels } from '../backend/wasm/binding.js';
import { BLOCK_WIDTH, candidateCapacity, rowMaxesFromBlocks } from '../backend/wasm/rowKernels.js';
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
 * The k best tokens of row `r` of `x` (width V) by logit into the list at `o` of `list`: their values at
 * list[o … o+k−1], best first, and their tokens (as floats: tokens lie far below 2^24) at list[o+k … o+2k−1]; ties
 * go to the lower token. PAD and GO are never candidates, nor EOS when `noEos`; −∞ and NaN never are. Returns how
 * many were found; the places after them hold −∞ and token −1.
 */
export function topOfRow(
  x: Float32Array,
  r: number,
  V: number,
  k: number,
  noEos: boolean,
  list: Float32Array,
  o: number,
): number {
  return padTop(scanInto(x, r * V, 0, V, k, noEos, list, o, 0), k, list, o);
}

/** Marks the list's places from n to k as empty (−∞, token −1); returns n. */
function padTop(n: number, k: number, list: Float32Array, o: number): number {
  for (let i = n; i < k; i++) {
    list[o + i] = -Infinity;
    list[o + k + i] = -1;
  }
  return n;
}

/** The widest k whose candidates the SIMD kernel gathers (room for 4k + 28 a row); wider ones are scanned here. */
export const CANDIDATES_UP_TO = 64;

/** Values a block of `blockMaxRows` spans (backend/wasm/rowKernels.ts). */
export const BLOCK = BLOCK_WIDTH;

/**
 * topOfRow over whole blocks of BLOCK values whose maxima are given (`blockMax`, nb of them from `bo` on). The k-th
 * largest block maximum t bounds the row's k-th best value from below (each of the k best blocks holds a value of
 * at least t), so only values ≥ t can enter: one pass over the blocks whose maximum reaches t, and the values after
 * the last whole block, compares each value with t and ranks the few that pass. On random logits of 1,000 tokens
 * about five blocks of 31 reach t and some k + 3 values pass, where ranking as it scans (the k best blocks first)
 * entered and shifted values at every turn of the first blocks, branches no predictor follows. When fewer than k
 * pass (a row with fewer than k blocks, −∞ among the k best maxima, or PAD, GO or a barred EOS among the values
 * that passed), the row is scanned whole. The result is topOfRow's either way.
 */
export function topOfRowByBlocks(
  x: Float32Array,
  r: number,
  V: number,
  k: number,
  noEos: boolean,
  blockMax: Float32Array,
  bo: number,
  list: Float32Array,
  o: number,
): number {
  const base = r * V;
  const nb = Math.floor(V / BLOCK);
  if (nb >= k) {
    // t: the k-th largest block maximum, by keeping the k largest in the list's value places, best first.
    let m = 0;
    for (let b = 0; b < nb; b++) {
      const value = blockMax[bo + b]!;
      if (m === k && !(value > list[o + k - 1]!)) continue;
      let i = m === k ? k - 1 : m++;
      while (i > 0 && list[o + i - 1]! < value) {
        list[o + i] = list[o + i - 1]!;
        i--;
      }
      list[o + i] = value;
    }
    const t = list[o + k - 1]!;
    if (t > -Infinity) {
      let n = 0;
      for (let b = 0; b < nb; b++)
        if (blockMax[bo + b]! >= t) n = scanInto(x, base, b * BLOCK, (b + 1) * BLOCK, k, noEos, list, o, n, t);
      n = scanInto(x, base, nb * BLOCK, V, k, noEos, list, o, n, t);
      if (n === k) return n;
    }
  }
  return topOfRow(x, r, V, k, noEos, list, o);
}

/**
 * Enters the values x[base + from … base + to − 1] of at least `lowest` into the best-first list at o (values, then
 * their tokens at o + k), which holds n (≤ k) so far; returns the new count. One list in one Float32Array, and x a
 * Float32Array too: the scan is the inner loop of every search step, and typed arrays of one kind keep its element
 * reads monomorphic. Only a value that reaches the list's floor goes on to `enter`.
 */
function scanInto(
  x: Float32Array,
  base: number,
  from: number,
  to: number,
  k: number,
  noEos: boolean,
  list: Float32Array,
  o: number,
  n: number,
  lowest = -Infinity,
): number {
  let floor = n === k ? list[o + k - 1]! : lowest;
  for (let v = from; v < to; v++) {
    const value = x[base + v]!;
    if (!(value >= floor)) continue;
    n = enter(value, v, k, noEos, list, o, n);
    if (n === k) floor = list[o + k - 1]!;
  }
  return n;
}

/**
 * Enters token v with `value` (at least the list's floor) into the best-first list at o holding n (≤ k), ranking
 * by value and then by the lower token: tokens arrive in increasing order, so in a full list a value equal to the
 * k-th does not enter. −∞, PAD, GO and (with noEos) EOS never enter. Returns the new count.
 */
function enter(value: number, v: number, k: number, noEos: boolean, list: Float32Array, o: number, n: number): number {
  if (n === k ? value === list[o + k - 1]! : value === -Infinity) return n;
  if (v === PAD || v === GO || (noEos && v === EOS)) return n;
  const t = o + k;
  let i = n === k ? k - 1 : n++;
  while (i > 0 && (list[o + i - 1]! < value || (list[o + i - 1] === value && list[t + i - 1]! > v))) {
    list[o + i] = list[o + i - 1]!;
    list[t + i] = list[t + i - 1]!;
    i--;
  }
  list[o + i] = value;
  list[t + i] = v;
  return n;
}

/**
 * topOfRowByBlocks from the candidates the SIMD kernel rowCandidates found for a row (`count` (value, token) pairs
 * from `c` in `cand`, in token order: every value from t on in the blocks that can hold the k best), ranked as the
 * scan ranks them. Returns how many entered; below k the caller scans the row whole, as topOfRowByBlocks does.
 */
function rankCandidates(
  cand: Float32Array,
  c: number,
  count: number,
  k: number,
  noEos: boolean,
  list: Float32Array,
  o: number,
): number {
  let n = 0;
  let floor = -Infinity;
  for (let i = 0; i < count; i++) {
    const value = cand[c + 2 * i]!;
    if (!(value >= floor)) continue;
    n = enter(value, cand[c + 2 * i + 1]!, k, noEos, list, o, n);
    if (n === k) floor = list[o + k - 1]!;
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
  // One output, so one read-back: per row k values, k ids (as floats: tokens are far below 2^24), logsumexp, EOS.
  const W = 2 * k + 2;
  const eosOf = (xs: Float32Array, r: number): number => (V > EOS ? xs[r * V + EOS]! : -Infinity);
  const simd = memory.simd;
  if (simd === undefined)
    return memory.run([x, p], [[rows, W]], ([xV, pV], [out]) => {
      const lse = new Float32Array(rows);
      if (pV !== undefined) logNormalisers(xV!, pV, rows, V, lse);
      for (let r = 0; r < rows; r++) {
        const o = r * W;
        topOfRow(xV!, r, V, k, noEos, out!, o);
        out![o + 2 * k] = lse[r]!;
        out![o + 2 * k + 1] = eosOf(xV!, r);
      }
    });
  // With SIMD: the block maxima in one vector pass, then each row's values that can be among its k best (from the
  // k-th largest block maximum on) gathered by a second (rowCandidates) and ranked here; its largest value is the
  // largest block maximum (or in the tail), and Σ exp(x − max) is one more vector pass (expSumRows), so that the
  // normaliser needs no Softmax. A row whose candidates overflow their room is scanned by blocks here instead.
  const nb = Math.floor(V / BLOCK);
  const normalise = attrs['normalise'] === 1;
  const cap = candidateCapacity(k);
  // Beams wider than CANDIDATES_UP_TO (rare) keep the JavaScript scan: their room would be megabytes of scratch.
  const byCandidates = nb >= k && k <= CANDIDATES_UP_TO;
  return simd.run(
    [x],
    [[rows, W]],
    ([xO], [outO], [blocksO, maxesO, sumsO, countsO, candO]) => {
      // Views taken once: nothing in the body allocates (simd.run made outputs and scratch before it).
      const xs = simd.f32(xO!, rows * V);
      const blocks = simd.f32(blocksO!, Math.max(1, rows * nb));
      const maxes = simd.f32(maxesO!, rows);
      const sums = simd.f32(sumsO!, rows);
      const counts = simd.i32(countsO!, rows);
      const cand = simd.f32(candO!, byCandidates ? rows * cap * 2 : 1);
      const out = simd.f32(outO!, rows * W);
      if (nb > 0) simd.kernels.blockMaxRows(xO!, rows, V, blocksO!);
      if (normalise) {
        rowMaxesFromBlocks(xs, blocks, rows, V, maxes);
        simd.kernels.expSumRows(xO!, rows, V, maxesO!, sumsO!);
      }
      if (byCandidates) simd.kernels.rowCandidates(xO!, rows, V, k, blocksO!, cap, countsO!, candO!);
      const tail = V & ~3;
      for (let r = 0; r < rows; r++) {
        const o = r * W;
        const count = byCandidates ? counts[r]! : -1;
        if (count > cap) topOfRowByBlocks(xs, r, V, k, noEos, blocks, r * nb, out, o);
        else if (count < 0 || rankCandidates(cand, r * cap * 2, count, k, noEos, out, o) < k)
          topOfRow(xs, r, V, k, noEos, out, o);
        let lse = 0;
        if (normalise) {
          let sum = sums[r]!;
          for (let v = tail; v < V; v++) sum += Math.exp(xs[r * V + v]! - maxes[r]!);
          lse = maxes[r]! + Math.log(sum);
        }
        out[o + 2 * k] = lse;
        out[o + 2 * k + 1] = eosOf(xs, r);
      }
    },
    [
      Math.max(1, rows * nb),
      Math.max(1, rows),
      Math.max(1, rows),
      Math.max(1, rows),
      byCandidates ? Math.max(1, rows * cap * 2) : 1,
    ],
  );
});

/**
 * Each row's k best tokens by logit (PAD, GO and, when `noEos`, EOS left out), its logsumexp and its EOS logit,
 * read back to the host. Without `normalise` the rows are scores as they are (an ensemble's averaged log-probs):
 * no softmax, and a normaliser of 0. `logits` is left to the caller.
 */
export function rowTop(logits: tf.Tensor2D, k: number, noEos: boolean, normalise = true): RowTop {
  const rows = logits.shape[0];
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`rowTop: k must be a positive integer, got ${k}`);
  if (hasJsKernel(ROW_TOP)) {
    // The SIMD kernels sum the normaliser themselves; without them the kernel takes it from a Softmax.
    const softmax = normalise && activeSimdKernels() === null;
    const attrs = { k, noEos: noEos ? 1 : 0, normalise: normalise ? 1 : 0 };
    const packed = tf.tidy(
      () => runJsKernel(ROW_TOP, { x: logits, p: softmax ? tf.softmax(logits) : null }, attrs)[0]!,
    );
    // Read outside tf.tidy, which would walk every number of an array handed back from it.
    let out: Float32Array;
    try {
      out = packed.dataSync() as Float32Array;
    } finally {
      packed.dispose();
    }
    const W = 2 * k + 2;
    const top: RowTop = {
      values: new Float32Array(rows * k),
      ids: new Int32Array(rows * k),
      logNormaliser: new Float32Array(rows),
      eos: new Float32Array(rows),
    };
    for (let r = 0; r < rows; r++) {
      const o = r * W;
      for (let j = 0; j < k; j++) {
        top.values[r * k + j] = out[o + j]!;
        top.ids[r * k + j] = out[o + k + j]!;
      }
      top.logNormaliser[r] = out[o + 2 * k]!;
      top.eos[r] = out[o + 2 * k + 1]!;
    }
    return top;
  }
  return rowTopByOps(logits, k, noEos, normalise);
}

/** `rowTop` from tf ops: what backends without the toolkit's kernels (a native one) run, fast there. */
export function rowTopByOps(logits: tf.Tensor2D, k: number, noEos: boolean, normalise = true): RowTop {
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
    const logNormaliser = normalise ? (tf.logSumExp(logits, 1).dataSync() as Float32Array) : new Float32Array(rows);
    const eos =
      V > EOS
        ? (tf.reshape(tf.slice(logits, [0, EOS], [rows, 1]), [rows]).dataSync() as Float32Array)
        : new Float32Array(rows).fill(-Infinity);
    return { values, ids, logNormaliser: Float32Array.from(logNormaliser), eos: Float32Array.from(eos) };
  });
}
