// The training loss of every head that predicts tokens: the output projection and the masked cross-entropy, either
// over the full vocabulary or sampled (sampled softmax for large vocabularies). Evaluation always uses the full one.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { dense } from '../layers/dense.js';
import { maskedCrossEntropy } from './crossEntropy.js';
import { sampledSoftmaxLoss, DEFAULT_SAMPLED_SOFTMAX_OPTIONS } from './sampledSoftmax.js';

export interface SequenceLossOptions {
  /** 'full' softmax (default) or 'sampled' softmax (training only; evaluation always uses the full softmax). */
  softmax: 'full' | 'sampled';
  /** Candidates per batch for sampled softmax (default 512). */
  numSampled: number;
}

export const DEFAULT_SEQUENCE_LOSS: SequenceLossOptions = { softmax: 'full', numSampled: DEFAULT_SAMPLED_SOFTMAX_OPTIONS.numSampled };

/**
 * top: [N, H] output-layer inputs; W: [H, V], b: [V]; targets, mask: N entries. `rng` draws the sampled
 * candidates (required for sampled softmax). `training` false always gives the full softmax.
 */
export function sequenceLoss(
  top: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, targets: Int32Array, mask: Float32Array,
  options: Partial<SequenceLossOptions>, context: { training: boolean; rng?: Rng },
): tf.Scalar {
  const o = { ...DEFAULT_SEQUENCE_LOSS, ...options };
  if (context.training && o.softmax === 'sampled' && o.numSampled < W.shape[1]) {
    if (context.rng === undefined) throw new Error('sequenceLoss: sampled softmax needs an rng');
    return sampledSoftmaxLoss(top, W, b, targets, mask, { numSampled: o.numSampled, rng: context.rng });
  }
  return maskedCrossEntropy(dense(top, W, b), targets, mask);
}
