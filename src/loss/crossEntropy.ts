// Masked softmax cross-entropy: the mean of −log p(target) over real (unmasked) target tokens.
//
// Built on tfjs's Softmax kernel rather than logSoftmax, which on wasm is 5–7× slower (it is composed of exp,
// sum, log and sub over the whole [tokens, vocab] matrix); the gradient is written out as (p − onehot)·w.
import * as tf from '@tensorflow/tfjs-core';

/** Smallest probability whose log is taken, so that a float32 underflow gives a large finite loss, not ∞. */
const MIN_PROB = 1e-30;

/**
 * logits: [N, V]; targets: N ids; mask: N weights (1 real, 0 padding). Returns the scalar mean loss over real tokens
 * (the sum of nll·mask divided by the sum of the mask, or by 1 when that is below 1, so an all-padding batch gives 0).
 */
export function maskedCrossEntropy(logits: tf.Tensor2D, targets: Int32Array, mask: Float32Array): tf.Scalar {
  const [N, V] = logits.shape;
  if (targets.length !== N || mask.length !== N) throw new Error(`maskedCrossEntropy: ${N} rows but ${targets.length} targets and ${mask.length} mask entries`);
  let denominator = 0;
  for (let i = 0; i < N; i++) denominator += mask[i]!;
  const weights = mask.map((m) => m / Math.max(denominator, 1));
  const flatIndex = new Int32Array(N);
  for (let i = 0; i < N; i++) flatIndex[i] = i * V + targets[i]!;
  const f = tf.customGrad((...args) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const p = tf.softmax(x);
    const w = tf.tensor1d(weights);
    const picked = tf.gather(tf.reshape(p, [N * V]), tf.tensor1d(flatIndex, 'int32'));
    const value = tf.neg(tf.sum(tf.mul(tf.log(tf.maximum(picked, MIN_PROB)), w))) as tf.Scalar;
    save([p, w]);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [ps, ws] = saved as [tf.Tensor2D, tf.Tensor1D];
        const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), V);
        return [tf.mul(tf.mul(tf.sub(ps, oneHot), tf.reshape(ws, [N, 1])), dy as tf.Scalar)];
      },
    };
  });
  return f(logits) as tf.Scalar;
}
