// Masked softmax cross-entropy: the mean of −log p(target) over real (unmasked) target tokens, optionally averaged
// per sequence first, optionally against a label-smoothed target distribution.
//
// Built on tfjs's Softmax kernel rather than logSoftmax, which on wasm is 5–7× slower (it is composed of exp,
// sum, log and sub over the whole [tokens, vocab] matrix); the gradient is written out as (p − q)·w, with p − q
// from one toolkit kernel where those run.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';

/** The toolkit kernel for p − q (see softmaxMinusTarget). */
export const SOFTMAX_MINUS_TARGET = 'ToolkitSoftmaxMinusTarget';

/** Smallest probability whose log is taken, so that a float32 underflow gives a large finite loss, not ∞. */
const MIN_PROB = 1e-30;

/** How token losses are averaged: over all real tokens of the batch, or per sequence and then over sequences. */
export type LossAverage = 'token' | 'sequence';

export interface CrossEntropyOptions {
  /**
   * Label smoothing ε (default 0): the target distribution is (1 − ε)·onehot(y) + ε/V, every class (the reserved
   * ids included) getting ε/V, as in Szegedy et al. 2016 and TensorFlow's softmax_cross_entropy.
   */
  labelSmoothing: number;
  /** 'token' (default): Σ loss·mask / Σ mask. 'sequence': each sequence's mean over its real tokens, averaged over sequences. */
  average: LossAverage;
  /** Rows per sequence (rows are batch-major, b·steps + t); needed for average 'sequence'. */
  steps?: number;
}

export const DEFAULT_CROSS_ENTROPY_OPTIONS: CrossEntropyOptions = { labelSmoothing: 0, average: 'token' };

/**
 * Each row's weight in the mean. 'token': mask / max(Σ mask, 1), so an all-padding batch gives 0. 'sequence':
 * mask / (that sequence's real tokens · sequences with any), so every sequence counts the same whatever its length.
 */
export function lossWeights(mask: Float32Array, average: LossAverage, steps?: number): Float32Array {
  const N = mask.length;
  if (average === 'token') {
    let total = 0;
    for (let i = 0; i < N; i++) total += mask[i]!;
    return mask.map((m) => m / Math.max(total, 1));
  }
  if (steps === undefined || !(Number.isInteger(steps) && steps > 0) || N % steps !== 0) {
    throw new Error(`per-sequence averaging needs the rows per sequence (steps), got ${steps} for ${N} rows`);
  }
  const B = N / steps;
  const lengths = new Float64Array(B);
  for (let i = 0; i < N; i++) lengths[Math.floor(i / steps)]! += mask[i]!;
  const sequences = lengths.reduce((n, l) => n + (l > 0 ? 1 : 0), 0);
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    const l = lengths[Math.floor(i / steps)]!;
    if (l > 0) out[i] = mask[i]! / (l * sequences);
  }
  return out;
}

/** The kernel's body: out = p − q with q = (1 − ε)·onehot(targets) + ε/V, p and out [N, V]; targets as float ids. */
export function softmaxMinusTargetValues(
  p: Float32Array,
  targets: Float32Array,
  eps: number,
  N: number,
  V: number,
  out: Float32Array,
): void {
  if (eps === 0) out.set(p.subarray(0, N * V));
  else {
    const e = eps / V;
    for (let i = 0; i < N * V; i++) out[i] = p[i]! - e;
  }
  for (let i = 0; i < N; i++) out[i * V + targets[i]!]! -= 1 - eps;
}

registerJsKernel(SOFTMAX_MINUS_TARGET, ({ p, targets }, attrs, memory) => {
  const [N, V] = p!.shape as [number, number];
  return memory.run([p, targets], [[N, V]], ([pV, tV], [out]) =>
    softmaxMinusTargetValues(pV!, tV!, attrs['eps'] as number, N, V, out!),
  );
});

/**
 * ∂ℓ_i/∂x_i = p_i − q_i for every row, [N, V], before the rows' weights. Where the toolkit's kernels run, one
 * kernel: a copy of p and N subtractions when ε = 0 (tfjs's way, one-hot, cast and subtract, made three passes over
 * the largest tensor of a training step). Elsewhere composite ops, from a plain one-hot: wasm's OneHot kernel
 * ignores tfjs's offValue argument.
 */
function softmaxMinusTarget(p: tf.Tensor2D, targets: Int32Array, eps: number): tf.Tensor2D {
  if (hasJsKernel(SOFTMAX_MINUS_TARGET))
    return runJsKernel(SOFTMAX_MINUS_TARGET, { p, targets: tf.tensor1d(Float32Array.from(targets)) }, { eps })[0]!;
  const oneHot = tf.oneHot(tf.tensor1d(targets, 'int32'), p.shape[1]);
  return tf.sub(p, eps === 0 ? oneHot : tf.add(tf.mul(oneHot, 1 - eps), eps / p.shape[1]));
}

/**
 * logits: [N, V]; targets: N ids; mask: N weights (1 real, 0 padding). Returns the scalar loss Σ_i w_i·ℓ_i with w
 * from lossWeights and ℓ_i = −Σ_k q_ik log p_ik, q the (smoothed) target distribution.
 */
export function maskedCrossEntropy(
  logits: tf.Tensor2D,
  targets: Int32Array,
  mask: Float32Array,
  options: Partial<CrossEntropyOptions> = {},
): tf.Scalar {
  const { labelSmoothing: eps, average, steps } = { ...DEFAULT_CROSS_ENTROPY_OPTIONS, ...options };
  const [N, V] = logits.shape;
  if (targets.length !== N || mask.length !== N)
    throw new Error(`maskedCrossEntropy: ${N} rows but ${targets.length} targets and ${mask.length} mask entries`);
  if (!(eps >= 0 && eps < 1)) throw new RangeError(`label smoothing must be in [0, 1), got ${eps}`);
  const weights = lossWeights(mask, average, steps);
  const flatIndex = new Int32Array(N);
  for (let i = 0; i < N; i++) flatIndex[i] = i * V + targets[i]!;
  const f = tf.customGrad((...args) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const p = tf.softmax(x);
    const w = tf.tensor1d(weights);
    let rowLoss: tf.Tensor;
    if (eps === 0) {
      const picked = tf.gather(tf.reshape(p, [N * V]), tf.tensor1d(flatIndex, 'int32'));
      rowLoss = tf.neg(tf.log(tf.maximum(picked, MIN_PROB)));
    } else {
      // ℓ = log Z − (1 − ε)·x_y − ε·mean_k x_k. log Z = max x − log max p: the largest probability is at least 1/V,
      // so its log never underflows (−log p_y alone would, for a very unlikely target).
      const logZ = tf.sub(tf.max(x, 1), tf.log(tf.max(p, 1)));
      const xy = tf.gather(tf.reshape(x, [N * V]), tf.tensor1d(flatIndex, 'int32'));
      rowLoss = tf.sub(tf.sub(logZ, tf.mul(xy, 1 - eps)), tf.mul(tf.mean(x, 1), eps));
    }
    const value = tf.sum<tf.Scalar>(tf.mul(rowLoss, w));
    save([p, w]);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [ps, ws] = saved as [tf.Tensor2D, tf.Tensor1D];
        return [tf.mul(softmaxMinusTarget(ps, targets, eps), tf.reshape(tf.mul(ws, dy as tf.Scalar), [N, 1]))];
      },
    };
  });
  return f(logits) as tf.Scalar;
}
