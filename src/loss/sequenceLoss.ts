// The training loss of every head that predicts tokens: the output projection and the masked cross-entropy, either
// over the full vocabulary or sampled (sampled softmax for large vocabularies). Evaluation always uses the full one.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { dense } from '../layers/dense.js';
import { maskedCrossEntropy, type LossAverage } from './crossEntropy.js';
import { sampledSoftmaxLoss, DEFAULT_SAMPLED_SOFTMAX_OPTIONS } from './sampledSoftmax.js';

export interface SequenceLossOptions {
  /** 'full' softmax (default) or 'sampled' softmax (training only; evaluation always uses the full softmax). */
  softmax: 'full' | 'sampled';
  /** Candidates per batch for sampled softmax (default 512, as TensorFlow's translation tutorial). */
  numSampled: number;
  /** Label smoothing ε for the full softmax (default 0; training only). Sampled softmax has none, as TensorFlow's. */
  labelSmoothing: number;
  /** 'token' (default): mean over the batch's real target tokens; 'sequence': per-sequence means, averaged. */
  average: LossAverage;
  /**
   * Rows per sequence of this batch (rows are batch-major): needed by average 'sequence'. Set per batch by the code
   * that knows the layout (the model), never in a config file.
   */
  steps?: number;
}

export const DEFAULT_SEQUENCE_LOSS: Omit<SequenceLossOptions, 'steps'> = {
  softmax: 'full',
  numSampled: DEFAULT_SAMPLED_SOFTMAX_OPTIONS.numSampled,
  labelSmoothing: 0,
  average: 'token',
};

/** Checks options a user gave (config file, flags); returns a problem or null. */
export function sequenceLossProblem(o: Partial<SequenceLossOptions>): string | null {
  if (o.softmax !== undefined && o.softmax !== 'full' && o.softmax !== 'sampled')
    return `softmax must be "full" or "sampled", got ${JSON.stringify(o.softmax)}`;
  if (o.numSampled !== undefined && !(Number.isInteger(o.numSampled) && o.numSampled > 0))
    return `numSampled must be a positive integer, got ${o.numSampled}`;
  if (o.labelSmoothing !== undefined && !(o.labelSmoothing >= 0 && o.labelSmoothing < 1))
    return `labelSmoothing must be in [0, 1), got ${o.labelSmoothing}`;
  if (o.average !== undefined && o.average !== 'token' && o.average !== 'sequence')
    return `average must be "token" or "sequence", got ${JSON.stringify(o.average)}`;
  if (o.softmax === 'sampled' && (o.labelSmoothing ?? 0) > 0)
    return 'label smoothing is not available with sampled softmax (the sampled loss sees only the candidates)';
  return null;
}

/**
 * top: [N, H] output-layer inputs; W: [H, V], b: [V]; targets, mask: N entries. `rng` draws the sampled
 * candidates (required for sampled softmax). `training` false always gives the plain full-softmax loss (no label
 * smoothing), which is what evaluation and perplexity need; the averaging still follows `options`.
 */
export function sequenceLoss(
  top: tf.Tensor2D,
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  targets: Int32Array,
  mask: Float32Array,
  options: Partial<SequenceLossOptions>,
  context: { training: boolean; rng?: Rng },
): tf.Scalar {
  const o = { ...DEFAULT_SEQUENCE_LOSS, ...options };
  const averaging = { average: o.average, ...(o.steps !== undefined ? { steps: o.steps } : {}) };
  if (context.training && o.softmax === 'sampled' && o.numSampled < W.shape[1]) {
    if (context.rng === undefined) throw new Error('sequenceLoss: sampled softmax needs an rng');
    if (o.labelSmoothing > 0) throw new Error('sequenceLoss: label smoothing is not available with sampled softmax');
    return sampledSoftmaxLoss(top, W, b, targets, mask, { numSampled: o.numSampled, rng: context.rng, ...averaging });
  }
  return maskedCrossEntropy(dense(top, W, b), targets, mask, {
    labelSmoothing: context.training ? o.labelSmoothing : 0,
    ...averaging,
  });
}
