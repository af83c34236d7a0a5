// Luong's dot-product attention ("global attention, dot score", Luong et al. 2015), over the encoder outputs with
// source padding masked, computed for all decoder steps at once (the decoder state does not feed back through the
// context, so teacher-forced training needs no per-step attention):
//   score(s_t, e_i) = s_t · e_i;   a_t = softmax(score + maskBias);   c_t = Σ_i a_ti e_i
//   h̃_t = tanh(W_c [c_t; s_t])
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../layers/dense.js';

export interface AttentionResult {
  /** [batch, T_tgt, H]: the attentional hidden state h̃. */
  attended: tf.Tensor3D;
  /** [batch, T_tgt, T_src]: attention weights (0 at source padding). */
  weights: tf.Tensor3D;
}

/** states: [B, T_tgt, H]; memory: [B, T_src, H]; maskBias: [B, 1, T_src]; Wc: [2H, H]. */
export function luongDotAttention(states: tf.Tensor3D, memory: tf.Tensor3D, maskBias: tf.Tensor3D, Wc: tf.Tensor2D): AttentionResult {
  const [B, Tt, H] = states.shape;
  const scores = tf.add(tf.matMul(states, memory, false, true), maskBias); // [B, T_tgt, T_src]
  const weights = tf.softmax(scores) as tf.Tensor3D;
  const context = tf.matMul(weights, memory); // [B, T_tgt, H]
  const joined = tf.reshape(tf.concat([context, states], 2), [B * Tt, 2 * H]) as tf.Tensor2D;
  const attended = tf.reshape(tf.tanh(dense(joined, Wc, null)), [B, Tt, H]) as tf.Tensor3D;
  return { attended, weights };
}
