// The backward direction of a bidirectional encoder reads each sequence reversed *within its own length*: with
// front-padded sources (<pad> <pad> milk drink I) the real tokens sit at the end of each column, so reversing the
// whole column would put the padding first for some sequences and not others. Instead each column's real positions
// are mirrored onto themselves and padding stays where it is; the same mask then serves both directions, and the
// runner's padding semantics (state carried through padding) hold for the reversed run too.
//
// The reordering is a row permutation of the time-major [T·B, ·] layout: one gather, whose gradient is the gather
// by the inverse permutation (here the permutation is its own inverse), cheaper than the generic scatter-add.
import * as tf from '@tensorflow/tfjs-core';

/**
 * For a time-major mask [T·B] (1 = real), the row each row reads in the reversed layout: the k-th real position
 * of column b takes the (n−1−k)-th, padding rows keep their own. An involution.
 */
export function reversalIndex(mask: ArrayLike<number>, steps: number, batch: number): Int32Array {
  const index = new Int32Array(steps * batch);
  for (let i = 0; i < index.length; i++) index[i] = i;
  const real: number[] = [];
  for (let b = 0; b < batch; b++) {
    real.length = 0;
    for (let t = 0; t < steps; t++) if (mask[t * batch + b]! > 0) real.push(t * batch + b);
    for (let k = 0; k < real.length; k++) index[real[k]!] = real[real.length - 1 - k]!;
  }
  return index;
}

/** ids reordered by `index` (out[i] = ids[index[i]]): token ids need no tensor. */
export function permuteIds(ids: Int32Array, index: Int32Array): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = ids[index[i]!]!;
  return out;
}

/** Rows of x [N, D] reordered by the permutation `index` (out[i] = x[index[i]]), with the inverse gather as gradient. */
export function permuteRows(x: tf.Tensor2D, index: Int32Array): tf.Tensor2D {
  const inverse = new Int32Array(index.length);
  for (let i = 0; i < index.length; i++) inverse[index[i]!] = i;
  const f = tf.customGrad((...args) => {
    const [xi] = args as [tf.Tensor2D];
    return {
      value: tf.gather(xi, tf.tensor1d(index, 'int32')),
      gradFunc: (dy) => [tf.gather(dy as tf.Tensor2D, tf.tensor1d(inverse, 'int32'))],
    };
  });
  return f(x) as tf.Tensor2D;
}

/**
 * A bidirectional layer's final state from its two directions' finals [B, blocks·H] each: [h_fwd | h_bwd] for a
 * one-block state, [h_fwd | h_bwd | c_fwd | c_bwd] for an LSTM, so that the joined state is again [h | c].
 */
export function joinFinals(forward: tf.Tensor2D, backward: tf.Tensor2D, units: number): tf.Tensor2D {
  if (forward.shape[1] === units) return tf.concat([forward, backward], 1);
  return tf.tidy(() => {
    const B = forward.shape[0];
    const part = (s: tf.Tensor2D, block: number) => tf.slice(s, [0, block * units], [B, units]);
    return tf.concat([part(forward, 0), part(backward, 0), part(forward, 1), part(backward, 1)], 1);
  });
}
