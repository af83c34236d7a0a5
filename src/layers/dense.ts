// y = x·W + b with a hand-written gradient. Its products with a transposed operand go through `product`: on
// OpenBLAS (src/backend/blasKernels.ts) the transpose is a flag of sgemm and costs nothing, while on the wasm
// backend's own kernels a matMul with transposeA/transposeB leaves XNNPACK's fast path and runs ~10× slower than an
// explicit transpose followed by a plain product.
import * as tf from '@tensorflow/tfjs-core';
import { blasInUse } from '../backend/blasKernels.js';

/**
 * op(a)·op(b) for 2-D a and b, op transposing where asked: with the flags when the products run on a BLAS, through
 * an explicit transpose otherwise (see above). The same product either way.
 */
export function product(a: tf.Tensor2D, b: tf.Tensor2D, transposeA = false, transposeB = false): tf.Tensor2D {
  if (blasInUse(tf.backend()) !== null) return tf.matMul(a, b, transposeA, transposeB);
  return tf.tidy(() => tf.matMul(transposeA ? tf.transpose(a) : a, transposeB ? tf.transpose(b) : b));
}

/** The fused product's attributes for a plain x·W + b. */
const LINEAR = { transposeA: false, transposeB: false, activation: 'linear', leakyreluAlpha: 0.2 };

/** x: [N, in]; W: [in, out]; b: [out] or null. Returns [N, out]. */
export function dense(x: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D | null): tf.Tensor2D {
  // No tape (decoding, evaluation): the same product without customGrad's bookkeeping, once per decoding step.
  if (!tf.engine().isTapeOn()) {
    if (b === null) return tf.matMul(x, W);
    // On a BLAS the fused kernel takes 2-D operands as they are (backend/blasKernels.ts): calling it directly skips
    // tf.fused.matMul's reshapes to 3-D and its customGrad, ~40 µs a call (64 × 128 × 1,000: 183 → 140 µs).
    if (blasInUse(tf.backend()) !== null)
      return tf.engine().runKernel(tf._FusedMatMul, { a: x, b: W, bias: b }, LINEAR);
    return tf.fused.matMul({ a: x, b: W, bias: b }) as tf.Tensor2D;
  }
  // Inputs the backward pass reads are saved: the forward may run inside a tidy that disposes them.
  if (b === null) {
    const f = tf.customGrad((...args) => {
      const [xi, Wi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
      save([xi, Wi]);
      return {
        value: tf.matMul(xi, Wi),
        gradFunc: (dy, saved) => {
          const [xs, Ws] = saved as [tf.Tensor2D, tf.Tensor2D];
          return [product(dy as tf.Tensor2D, Ws, false, true), product(xs, dy as tf.Tensor2D, true)];
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
        return [product(g, Ws, false, true), product(xs, g, true), sumRows(g)];
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
