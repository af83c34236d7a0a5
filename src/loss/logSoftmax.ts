// Log-probabilities of each row of logits, for search (no gradient): what beam search and sampling score with.
//
// tfjs's logSoftmax is a composite (max, subtract, exp, sum, log, subtract) and its Exp kernel costs ~7 ns an
// element on wasm, against ~2 for the Softmax kernel. Here the backend's Softmax does the exponentials, and one
// pass per row turns probabilities back into logs without a log per element:
//
//   log p_j = x_j − logsumexp(x),  logsumexp(x) = x_k − log p_k  for any k,
//
// with k the row's largest logit, whose p_k ≥ 1/V never underflows. Backends without the toolkit's JS kernels use
// tf.logSoftmax, fast there.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { argMaxRowsValues } from '../backend/wasm/kernels.js';

export const LOG_SOFTMAX_FROM_PROBS = 'ToolkitLogSoftmaxFromProbs';

/** out[r, j] = x[r, j] − x[r, k] + log p[r, k], k the first largest x of row r. */
export function logSoftmaxFromProbsValues(
  x: Float32Array,
  p: Float32Array,
  rows: number,
  width: number,
  out: Float32Array,
): void {
  const best = new Int32Array(rows);
  argMaxRowsValues(x, rows, width, best);
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    const k = o + best[r]!;
    const shift = Math.log(p[k]!) - x[k]!;
    for (let j = o; j < o + width; j++) out[j] = x[j]! + shift;
  }
}

registerJsKernel(LOG_SOFTMAX_FROM_PROBS, ({ x, p }, _attrs, memory) => {
  const [rows, width] = x!.shape as [number, number];
  const simd = memory.simd;
  if (simd === undefined)
    return memory.run([x, p], [[rows, width]], ([xV, pV], [out]) =>
      logSoftmaxFromProbsValues(xV!, pV!, rows, width, out!),
    );
  // The same with the two passes over the row in SIMD: the row maxima, then x + shift; the logs (one a row) here.
  return simd.run(
    [x, p],
    [[rows, width]],
    ([xO, pO], [outO], [bestO, shiftO]) => {
      simd.kernels.argMaxRows(xO!, rows, width, bestO!);
      const best = simd.i32(bestO!, rows);
      const xs = simd.f32(xO!, rows * width);
      const ps = simd.f32(pO!, rows * width);
      const shifts = simd.f32(shiftO!, rows);
      for (let r = 0; r < rows; r++) {
        // −1: a row holding a NaN; its first largest value as the JavaScript loop finds it.
        if (best[r] === -1)
          argMaxRowsValues(xs.subarray(r * width, (r + 1) * width), 1, width, best.subarray(r, r + 1));
        const k = r * width + best[r]!;
        shifts[r] = Math.log(ps[k]!) - xs[k]!;
      }
      simd.kernels.addRows(xO!, shiftO!, rows, width, outO!);
    },
    [rows, rows],
  );
});

/** log softmax over the last axis of [rows, vocab] logits. Not differentiable: for decoding. */
export function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  if (!hasJsKernel(LOG_SOFTMAX_FROM_PROBS)) return tf.logSoftmax(logits);
  return tf.tidy(() => runJsKernel(LOG_SOFTMAX_FROM_PROBS, { x: logits, p: tf.softmax(logits) }, {})[0]!);
}
