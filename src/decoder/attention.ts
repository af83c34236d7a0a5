// Luong's global attention (Luong et al. 2015), over the encoder outputs with source padding masked, computed for
// all decoder steps at once (the decoder state does not feed back through the context, so teacher-forced
// training needs no per-step attention):
//   score(s_t, e_i) = s_t · k_i   with k_i = e_i ('dot') or k_i = e_i W_a ('general', any encoder width)
//   a_t = softmax(score + maskBias);   c_t = Σ_i a_ti e_i;   h̃_t = tanh(W_c [c_t; s_t])
// The keys k are computed once per source batch (see Decoder.attentionKeys), not once per decoder step.
// Bahdanau's additive attention, which feeds the context back into the recurrence, is bahdanau.ts.
import * as tf from '@tensorflow/tfjs-core';
import { dense } from '../layers/dense.js';

/** 'dot' and 'general' (Luong), 'bahdanau' (additive, context fed into the decoder's input), 'none'. */
export type AttentionKind = 'dot' | 'general' | 'bahdanau' | 'none';
export const ATTENTION_KINDS: readonly AttentionKind[] = ['dot', 'general', 'bahdanau', 'none'];

export interface AttentionResult {
  /** [batch, T_tgt, H]: the attentional hidden state h̃. */
  attended: tf.Tensor3D;
  /** [batch, T_tgt, T_src]: attention weights (0 at source padding). */
  weights: tf.Tensor3D;
}

/**
 * states: [B, T_tgt, H]; memory: [B, T_src, M] (the values); keys: [B, T_src, H] (memory itself for 'dot');
 * maskBias: [B, 1, T_src]; Wc: [M + H, H].
 */
export function luongAttention(
  states: tf.Tensor3D,
  memory: tf.Tensor3D,
  keys: tf.Tensor3D,
  maskBias: tf.Tensor3D,
  Wc: tf.Tensor2D,
): AttentionResult {
  const [B, Tt, H] = states.shape;
  const M = memory.shape[2];
  const scores = tf.add(tf.matMul(states, keys, false, true), maskBias); // [B, T_tgt, T_src]
  const weights = tf.softmax(scores) as tf.Tensor3D;
  const context = tf.matMul(weights, memory); // [B, T_tgt, M]
  const joined = tf.reshape<tf.Rank.R2>(tf.concat([context, states], 2), [B * Tt, M + H]);
  const attended = tf.reshape<tf.Rank.R3>(tf.tanh(dense(joined, Wc, null)), [B, Tt, H]);
  return { attended, weights };
}

/** Luong's dot score: the keys are the encoder outputs themselves. states: [B, T_tgt, H]; memory: [B, T_src, H]. */
export function luongDotAttention(
  states: tf.Tensor3D,
  memory: tf.Tensor3D,
  maskBias: tf.Tensor3D,
  Wc: tf.Tensor2D,
): AttentionResult {
  return luongAttention(states, memory, memory, maskBias, Wc);
}
