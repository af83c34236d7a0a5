// Embedding lookup: rows of a [vocab, dim] table. On wasm, tf.gather and its gradient run on the row-copy and
// scatter-add kernels registered in backend/wasmKernels.ts.
import * as tf from '@tensorflow/tfjs-core';

/** ids: Int32Array of any layout; returns [ids.length, dim] in the same order. */
export function embed(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  return tf.tidy(() => tf.gather(table, tf.tensor1d(ids, 'int32')));
}
