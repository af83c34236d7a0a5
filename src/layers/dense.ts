// y = x·W + b with a hand-written gradient whose matMuls are plain (no transpose flags): on wasm a matMul with
// transposeA/transposeB leaves XNNPACK's fast path and runs ~10× slower, while an explicit transpose is cheap.
import * as tf from '@tensorflow/tfjs-core';

/** x: [N, in]; W: [in, out]; b: [out] or null. Returns [N, out]. */
export function dense(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  // No tape (decoding, evaluation): the same product without customGrad's bookkeeping, once per decoding step.
  if (!tf.engine().isTapeOn())
    return b === null ? tf.matMul(x, W) : (tf.fused.matMul({ a: x, b: W, bias: b }) as tf.Tensor2D);
  // Inputs the backward pass reads are saved: the forward may run inside a tidy that disposes them.
  if (b === null) {
    const f = tf.customGrad((...args) => {
      const [xi, Wi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
      save([xi, Wi]);
      return {
        value: tf.matMul(xi, Wi),
        gradFunc: (dy, saved) => {
          const [xs, Ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          return [tf.matMul(dy, tf.transpose(Ws)), tf.matMul(tf.transpose(xs), dy)];
        },
      };
    });
    return f(x, W) as tf.Tensor2D;
  }
  const f = tf.customGrad((...args) => {
    const [xi, Wi, bi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xi, Wi]);
    return {
      value: tf.fused.matMul({ a: xi, b: Wi, bias: bi }),
      gradFunc: (dy, saved) => {
        const [xs, Ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const g = dy as tf.Tensor2D;
        return [tf.matMul(g, tf.transpose(Ws)), tf.matMul(tf.transpose(xs), g), sumRows(g)];
      },
    };
  });
  return f(x, W, b) as tf.Tensor2D;
}

/** Σ over rows of g [N, out] as a [1, N]·[N, out] product: wasm's Sum over axis 0 transposes first and is ~30× slower. */
export function sumRows(g: tf.Tensor2D): tf.Tensor1D {
  const [N, out] = g.shape;
  return tf.reshape(tf.matMul(tf.ones([1, N]), g), [out]);
}
