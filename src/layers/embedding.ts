// Embedding lookup: rows of a [vocab, dim] table. On wasm, tf.gather and its gradient run on the row-copy and
// scatter-add kernels registered in backend/wasm/kernels.ts.
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.js';

/** ids: Int32Array of any layout; returns [ids.length, dim] in the same order. */
export function embed(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  return tf.tidy(() => tf.gather(table, tf.tensor1d(ids, 'int32')));
}

/**
 * embed(table, ids)·W + b, computed in whichever order costs less. gather(E)·W = gather(E·W): when the vocabulary
 * has fewer rows than there are ids (characters, digits, small vocabularies), projecting the table once and
 * gathering projected rows replaces an [ids, dim]×[dim, out] product (and its two backward products) by a
 * [vocab, dim]×[dim, out] one.
 */
export function embedProject(table: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, ids: Int32Array): tf.Tensor2D {
  return tf.tidy(() => {
    if (table.shape[0] < ids.length) return tf.gather(dense(table, W, b), tf.tensor1d(ids, 'int32'));
    return dense(embed(table, ids), W, b);
  });
}
