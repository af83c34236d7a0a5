// Embedding lookup: rows of a [vocab, dim] table. On wasm, tf.gather and its gradient run on the row-copy and
// scatter-add kernels registered in backend/wasm/kernels.ts.
import * as tf from '@tensorflow/tfjs-core';
import { dense } from './dense.js';

/** ids: Int32Array of any layout; returns [ids.length, dim] in the same order. */
export function embed(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  return tf.tidy(() => tf.gather(table, tf.tensor1d(ids, 'int32')));
}

/**
 * The distinct ids in the order they first appear, and each id's place among them: ids[i] = rows[places[i]]. Null
 * when an id lies outside [0, vocab) (the gather then reports it).
 */
export function distinctIds(ids: Int32Array, vocab: number): { rows: Int32Array; places: Int32Array } | null {
  const place = new Int32Array(vocab).fill(-1);
  const rows: number[] = [];
  const places = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i]!;
    if (!(id >= 0 && id < vocab)) return null;
    if (place[id] === -1) place[id] = rows.push(id) - 1;
    places[i] = place[id]!;
  }
  return { rows: Int32Array.from(rows), places };
}

/**
 * embed(table, ids)·W + b, projecting each distinct id once: gather(E)·W = gather(E_U·W) with E_U the rows of the
 * distinct ids U. A batch repeats its tokens (a training batch of 1,280 target tokens holds a few hundred distinct
 * words, and a character or digit vocabulary is all there), so the [ids, dim]×[dim, out] product and its two
 * backward products shrink to |U| rows; both gathers and their gradients' scatters are row copies. With no repeat
 * the ids' rows are projected as they are; with every row of the table present, the table itself.
 */
export function embedProject(table: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, ids: Int32Array): tf.Tensor2D {
  return tf.tidy(() => {
    const vocab = table.shape[0];
    const distinct = distinctIds(ids, vocab);
    if (distinct === null || distinct.rows.length === ids.length) return dense(embed(table, ids), W, b);
    if (distinct.rows.length === vocab) return tf.gather(dense(table, W, b), tf.tensor1d(ids, 'int32'));
    return tf.gather(dense(embed(table, distinct.rows), W, b), tf.tensor1d(distinct.places, 'int32'));
  });
}
