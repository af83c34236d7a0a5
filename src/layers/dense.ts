// y = x·W + b with a hand-written gradient whose matMuls are plain (no transpose flags): on wasm a matMul with
// transposeA/transposeB leaves XNNPACK's fast path and runs ~10× slower, while an explicit transpose is cheap.
import * as tf from '@tensorflow/tfjs-core';

/** x: [N, in]; W: [in, out]; b: [out] or null. Returns [N, out]. */
export function dense(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  if (b === null) {
    const f = tf.customGrad((...args) => {
      const [xi, Wi] = args as [tf.Tensor2D, tf.Tensor2D];
      return {
        value: tf.matMul(xi, Wi),
        gradFunc: (dy) => [tf.matMul(dy as tf.Tensor2D, tf.transpose(Wi)), tf.matMul(tf.transpose(xi), dy as tf.Tensor2D)],
      };
    });
    return f(x, W) as tf.Tensor2D;
  }
  const f = tf.customGrad((...args) => {
    const [xi, Wi, bi] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    return {
      value: tf.fused.matMul({ a: xi, b: Wi, bias: bi }),
      gradFunc: (dy) => {
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(Wi)), tf.matMul(tf.transpose(xi), g), tf.sum(g, 0)];
      },
    };
  });
  return f(x, W, b) as tf.Tensor2D;
}
