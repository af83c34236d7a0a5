// Small pieces every cell's step uses: scalar activations for the fused JS kernels, and the rows of one time step
// in a time-major [time·batch, width] tensor for the composite versions.
import * as tf from '@tensorflow/tfjs-core';

export function sigmoid(x: number): number {
  return 1 / (1 + Math.exp(-x));
}

/** tanh through one exp: V8's Math.tanh costs about 2.5 Math.exp calls. Saturates cleanly for large |x|. */
export function tanh(x: number): number {
  return 1 - 2 / (1 + Math.exp(2 * x));
}

/** Rows [t·B, (t+1)·B) of a time-major [time·batch, width] tensor: step t. */
export function rowsAt(x: tf.Tensor2D, t: number, B: number): tf.Tensor2D {
  return tf.slice(x, [t * B, 0], [B, x.shape[1]]);
}
