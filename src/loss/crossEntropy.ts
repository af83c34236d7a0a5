// Masked softmax cross-entropy: the mean of −log p(target) over real (unmasked) target tokens, optionally averaged
// per sequence first, optionally against a label-smoothed target distribution.
//
// Where the toolkit's kernels run and there is no label smoothing, one kernel computes each row's loss
// logsumexp(x) − x_y and the gradient w·(softmax(x) − onehot(y)) at once, in three passes over the logits (the
// rows' maxima, Σ exp(x − max), and the scaled exponentials; SIMD on wasm); the backward pass only scales it by
// the loss's upstream gradient. Elsewhere (and with smoothing) the loss is built on tfjs's Softmax kernel rather than
// logSoftmax, which on wasm is 5–7× slower (it is composed of exp, sum, log and sub over the whole [tokens, vocab]
// matrix), and the gradient is written out as (p − q)·w, with p − q from one toolkit kernel where those run.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { BLOCK_WIDTH, rowMaxesFromBlocks } from '../backend/wasm/rowKernels.js';

/** The toolkit kernel for p − q (see softmaxMinusTarget). */
export const SOFTMAX_MINUS_TARGET = 'ToolkitSoftmaxMinusTarget';
/** The toolkit kernel for the rows' losses and the weighted gradient together (see softmaxCrossEntropyValues). */
export const SOFTMAX_CROSS_ENTROPY = 'ToolkitSoftmaxCrossEntropy';

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
 * The fused kernel's body, x [N, V] logits, targets and weights N each: loss[i] = logsumexp(x_i) − x_i[y_i] and
 * grad[i] = w_i·(softmax(x_i) − onehot(y_i)). exp(x − max) is computed once per value, in float32 as the backend's
 * Softmax does; the sums are float64. A row holding a NaN gives NaN.
 */
export function softmaxCrossEntropyValues(
  x: Float32Array,
  targets: Float32Array,
  weights: Float32Array,
  N: number,
  V: number,
  loss: Float32Array,
  grad: Float32Array,
): void {
  for (let i = 0; i < N; i++) {
    const o = i * V;
    let max = -Infinity;
    for (let v = o; v < o + V; v++) max = x[v]! > max || Number.isNaN(x[v]!) ? x[v]! : max;
    let sum = 0;
    for (let v = o; v < o + V; v++) sum += grad[v] = Math.exp(x[v]! - max);
    const y = o + targets[i]!;
    loss[i] = max + Math.log(sum) - x[y]!;
    const scale = weights[i]! / sum;
    for (let v = o; v < o + V; v++) grad[v]! *= scale;
    grad[y]! -= weights[i]!;
  }
}

registerJsKernel(SOFTMAX_CROSS_ENTROPY, ({ x, targets, weights }, _attrs, memory) => {
  const [N, V] = x!.shape as [number, number];
  const simd = memory.simd;
  if (simd === undefined)
    return memory.run([x, targets, weights], [[N], [N, V]], ([xV, tV, wV], [loss, grad]) =>
      softmaxCrossEntropyValues(xV!, tV!, wV!, N, V, loss!, grad!),
    );
  // In SIMD: the maxima of blocks of 32 values, exp(x − max) with each row's sum, and the scaling. Here: each row's
  // largest value from its blocks' and its last values, the values after the last whole vector, the logs and the
  // target terms. A NaN, left out of the maxima, still makes its row's sum NaN.
  const nb = Math.floor(V / BLOCK_WIDTH);
  return simd.run(
    [x, targets, weights],
    [[N], [N, V]],
    ([xO, tO, wO], [lossO, gradO], [blockO, maxO, sumO, scaleO]) => {
      if (nb > 0) simd.kernels.blockMaxRows(xO!, N, V, blockO!);
      const xs = simd.f32(xO!, N * V);
      const maxes = simd.f32(maxO!, N);
      rowMaxesFromBlocks(xs, simd.f32(blockO!, N * nb), N, V, maxes);
      simd.kernels.expRows(xO!, N, V, maxO!, gradO!, sumO!);
      const [ts, ws, loss] = [simd.f32(tO!, N), simd.f32(wO!, N), simd.f32(lossO!, N)];
      const [sums, scales] = [simd.f32(sumO!, N), simd.f32(scaleO!, N)];
      const grad = simd.f32(gradO!, N * V);
      const tail = V & ~3;
      for (let i = 0; i < N; i++) {
        let sum = sums[i]!;
        for (let v = i * V + tail; v < (i + 1) * V; v++) sum += grad[v] = Math.exp(xs[v]! - maxes[i]!);
        loss[i] = maxes[i]! + Math.log(sum) - xs[i * V + ts[i]!]!;
        scales[i] = ws[i]! / sum;
      }
      simd.kernels.scaleRows(gradO!, scaleO!, N, V, gradO!);
      for (let i = 0; i < N; i++) grad[i * V + ts[i]!]! -= ws[i]!;
    },
    [Math.max(1, N * nb), Math.max(1, N), Math.max(1, N), Math.max(1, N)],
  );
});

/** The fused loss (SOFTMAX_CROSS_ENTROPY): Σ_i w_i·ℓ_i, its gradient kept from the forward pass. */
function fusedCrossEntropy(logits: tf.Tensor2D, targets: Int32Array, weights: Float32Array): tf.Scalar {
  const f = tf.customGrad((...args) => {
    const [x, save] = args as [tf.Tensor2D, tf.GradSaveFunc];
    const w = tf.tensor1d(weights);
    const [rowLoss, grad] = runJsKernel(
      SOFTMAX_CROSS_ENTROPY,
      { x, targets: tf.tensor1d(Float32Array.from(targets)), weights: w },
      {},
    );
    save([grad!]);
    return {
      value: tf.sum<tf.Scalar>(tf.mul(rowLoss!, w)),
      // The upstream gradient of a training loss is 1: then the kept gradient as it is (a clone shares its buffer).
      gradFunc: (dy, [g]) => [dy.dataSync()[0] === 1 ? tf.clone(g!) : tf.mul(g!, dy)],
    };
  });
  return f(logits) as tf.Scalar;
}

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
  for (let i = 0; i < N; i++)
    if (!(targets[i]! >= 0 && targets[i]! < V))
      throw new RangeError(`maskedCrossEntropy: target ${targets[i]} of row ${i} is not in [0, ${V})`);
  if (eps === 0 && hasJsKernel(SOFTMAX_CROSS_ENTROPY)) return fusedCrossEntropy(logits, targets, weights);
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
