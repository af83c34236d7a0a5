// Bahdanau's additive attention (Bahdanau et al. 2015), one decoder step at a time:
//   score(q, e_i) = v · tanh(e_i W_k + q W_q);   a = softmax(score + maskBias);   c = Σ_i a_i e_i
// The query q is the decoder's previous state, and the context c enters the decoder's next recurrent input, so
// training runs the decoder step by step (decoder.ts).
//
// Speed on wasm, where tanh costs 3–5× a sigmoid: tanh(x) = 2σ(2x) − 1, so v·tanh(x) = (2v)·σ(2x) − Σv, and the
// constant Σv cancels in the softmax. The keys are therefore precomputed once per source batch as 2·e W_k
// (`bahdanauKeys`), and a step costs one broadcast add, one sigmoid and three plain matMuls over [B, T_src, A].
// The gradient is written out (customGrad) so that every matMul takes wasm's fast, untransposed path.
import * as tf from '@tensorflow/tfjs-core';
import { dense, product } from '../layers/dense.js';

/** The step's keys from encoder outputs [B, T_src, M] and W_k [M, A]: 2·e W_k, [B, T_src, A] (see above). */
export function bahdanauKeys(memory: tf.Tensor3D, Wk: tf.Tensor2D): tf.Tensor3D {
  const [B, T, M] = memory.shape;
  return tf.tidy(() =>
    tf.reshape<tf.Rank.R3>(tf.mul(dense(tf.reshape<tf.Rank.R2>(memory, [B * T, M]), Wk, null), 2), [B, T, Wk.shape[1]]),
  );
}

export interface BahdanauStep {
  /** [B, M]: the context Σ_i a_i e_i. */
  context: tf.Tensor2D;
  /** [B, T_src]: the attention weights (0 at source padding). */
  weights: tf.Tensor2D;
}

/**
 * One attention step. query: [B, H]; Wq: [H, A]; v: [A, 1]; keys: [B, T_src, A] from `bahdanauKeys`;
 * memory: [B, T_src, M]; maskBias: [B, 1, T_src]. Differentiable in query, Wq, v, keys and memory.
 */
export function bahdanauAttention(
  query: tf.Tensor2D,
  Wq: tf.Tensor2D,
  v: tf.Tensor2D,
  keys: tf.Tensor3D,
  memory: tf.Tensor3D,
  maskBias: tf.Tensor3D,
): BahdanauStep {
  const [B, T, M] = memory.shape;
  const A = Wq.shape[1];
  const f = tf.customGrad((...args) => {
    const [q, Wqi, vi, K, E, save] = args as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor3D,
      tf.Tensor3D,
      tf.GradSaveFunc,
    ];
    const qp = tf.mul(tf.matMul(q, Wqi), 2); // [B, A]
    const S = tf.reshape(tf.sigmoid(tf.add(K, tf.reshape(qp, [B, 1, A]))), [B * T, A]); // σ(2x), [B·T, A]
    const scores = tf.add(tf.reshape(tf.matMul(S, tf.mul(vi, 2)), [B, T]), tf.reshape(maskBias, [B, T]));
    const a = tf.softmax(scores) as tf.Tensor2D; // [B, T]
    const c = tf.reshape(tf.matMul(tf.reshape(a, [B, 1, T]), E), [B, M]);
    save([q, Wqi, vi, E, S, a]);
    return {
      value: tf.concat([c, a], 1), // [B, M + T]: one output, split below
      gradFunc: (dy, saved) => {
        const [qs, Wqs, vs, Es, Ss, as] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor3D,
          tf.Tensor2D,
          tf.Tensor2D,
        ];
        const g = dy as tf.Tensor2D;
        const dc = tf.slice(g, [0, 0], [B, M]);
        // ∂a: through the context (e_i · dc), plus whatever reached the returned weights.
        const da = tf.add(tf.reshape(tf.matMul(Es, tf.reshape(dc, [B, M, 1])), [B, T]), tf.slice(g, [0, M], [B, T]));
        const ds = tf.mul(as, tf.sub(da, tf.sum(tf.mul(as, da), 1, true))); // softmax backward, [B, T]
        const dsCol = tf.reshape(ds, [B * T, 1]);
        const dv = tf.mul(tf.transpose(tf.matMul(tf.reshape(ds, [1, B * T]), Ss)), 2); // [A, 1]
        const dPre = tf.mul(tf.matMul(dsCol, tf.mul(tf.transpose(vs), 2)), tf.mul(Ss, tf.sub(1, Ss))); // ∂ before σ, [B·T, A]
        const dK = tf.reshape(dPre, [B, T, A]);
        const dqp = tf.mul(tf.sum(dK, 1), 2); // [B, A]
        const dq = product(dqp as tf.Tensor2D, Wqs, false, true);
        const dWq = product(qs, dqp as tf.Tensor2D, true);
        const dE = tf.mul(tf.reshape(as, [B, T, 1]), tf.reshape(dc, [B, 1, M]));
        return [dq, dWq, dv, dK, dE];
      },
    };
  });
  const joined = f(query, Wq, v, keys, memory) as tf.Tensor2D;
  return { context: tf.slice(joined, [0, 0], [B, M]), weights: tf.slice(joined, [0, M], [B, T]) };
}
