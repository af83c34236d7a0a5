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
import { argMaxRowsValues } from '../backend/wasmKernels.js';

export const LOG_SOFTMAX_FROM_PROBS = 'ToolkitLogSoftmaxFromProbs';

/** out[r, j] = x[r, j] − x[r, k] + log p[r, k], k the first largest x of row r. */
export function logSoftmaxFromProbsValues(x: Float32Array, p: Float32Array, rows: number, width: number, out: Float32Array): void {
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
  return memory.run([x, p], [[rows, width]], ([xV, pV], [out]) => logSoftmaxFromProbsValues(xV!, pV!, rows, width, out!));
});

/** log softmax over the last axis of [rows, vocab] logits. Not differentiable: for decoding. */
export function logSoftmaxRows(logits: tf.Tensor2D): tf.Tensor2D {
  if (!hasJsKernel(LOG_SOFTMAX_FROM_PROBS)) return tf.logSoftmax(logits);
  return tf.tidy(() => runJsKernel(LOG_SOFTMAX_FROM_PROBS, { x: logits, p: tf.softmax(logits) }, {})[0]!);
}
