// Sampled softmax loss (Jean et al. 2015), as TensorFlow's tf.nn.sampled_softmax_loss: a training-time stand-in for the
// full softmax cross-entropy whose cost grows with the number of sampled candidates, not with the vocabulary.
//
// Each row scores only its true class and numSampled candidates drawn log-uniformly (shared by the batch), each logit
// less log Q (its expected count among the draws), and takes the softmax cross-entropy with the true class first.
// The loss is for training only: it is not an unbiased estimate of the full loss (see the test for how they relate).
// Evaluation and decoding keep the full softmax (maskedCrossEntropy over dense(h, W, b)).
//
// The gradient is written by hand, like dense's and maskedCrossEntropy's: every matMul is plain (no transpose flags,
// which leave wasm's fast path), and W and b receive gradient only in their true and sampled columns.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { logUniformCandidates } from './candidateSampler.js';
import { sumRows, product } from '../layers/dense.js';
import { lossWeights, type LossAverage } from './crossEntropy.js';

export interface SampledSoftmaxOptions {
  /** Candidates drawn per batch (default 512, as TensorFlow's seq2seq tutorial). */
  numSampled: number;
  /** Draw distinct candidates, without replacement (default true, as TensorFlow). */
  unique: boolean;
  /** Drop a sampled candidate from the rows whose true label it is (default true, as TensorFlow). */
  removeAccidentalHits: boolean;
  /** The generator candidates are drawn from: the same state gives the same candidates. */
  rng: Rng;
  /** 'token' (default) or 'sequence' averaging, as maskedCrossEntropy. */
  average: LossAverage;
  /** Rows per sequence (batch-major rows), needed for average 'sequence'. */
  steps?: number;
}

export const DEFAULT_SAMPLED_SOFTMAX_OPTIONS: Omit<SampledSoftmaxOptions, 'rng' | 'steps'> = {
  numSampled: 512,
  unique: true,
  removeAccidentalHits: true,
  average: 'token',
};

/** Smallest probability whose log is taken, so that a float32 underflow gives a large finite loss, not ∞. */
const MIN_PROB = 1e-30;
/** Added to the logit of an accidental hit: its softmax weight becomes exactly 0. */
const HIT_LOGIT = -1e9;

/**
 * hidden: [N, H]; W: [H, V] and b: [V], the output projection; targets: N ids; mask: N weights (1 real, 0 padding).
 * Returns the scalar sampled-softmax loss averaged over real tokens (or per sequence), weighted as maskedCrossEntropy
 * (lossWeights). Gradients flow to hidden, W and b.
 */
export function sampledSoftmaxLoss(
  hidden: tf.Tensor2D,
  W: tf.Tensor2D,
  b: tf.Tensor1D,
  targets: Int32Array,
  mask: Float32Array,
  options: Partial<SampledSoftmaxOptions> & { rng: Rng },
): tf.Scalar {
  const { numSampled, unique, removeAccidentalHits, rng, average, steps } = {
    ...DEFAULT_SAMPLED_SOFTMAX_OPTIONS,
    ...options,
  };
  const [N, H] = hidden.shape;
  const V = W.shape[1];
  if (W.shape[0] !== H || b.shape[0] !== V)
    throw new Error(`sampledSoftmaxLoss: hidden [${hidden.shape}], W [${W.shape}] and b [${b.shape}] do not fit`);
  if (targets.length !== N || mask.length !== N)
    throw new Error(`sampledSoftmaxLoss: ${N} rows but ${targets.length} targets and ${mask.length} mask entries`);
  for (const t of targets)
    if (!(t >= 0 && t < V)) throw new RangeError(`sampledSoftmaxLoss: target ${t} is not in [0, ${V - 1}]`);

  const c = logUniformCandidates(targets, { vocabSize: V, numSampled, unique }, rng);
  const m = numSampled;
  const weights = lossWeights(mask, average, steps);
  // Columns of W and b each row reads: the N true labels, then the m candidates.
  const ids = new Int32Array(N + m);
  ids.set(targets);
  ids.set(c.sampled, N);
  // W is [H, V] row-major: column id of row d is element d·V + id. Through these flat indices, GatherNd reads the
  // columns ~4× faster on wasm than tf.gather on axis 1, and ScatterNd writes W's gradient ~2× faster than summing
  // rows into a [V, H] Wᵀ gradient and transposing it (V = 32,000, H = 512).
  const flatIds = new Int32Array(H * (N + m));
  for (let d = 0; d < H; d++) for (let j = 0; j < N + m; j++) flatIds[d * (N + m) + j] = d * V + ids[j]!;
  const logQTrue = Float32Array.from(c.trueExpectedCount, Math.log);
  const logQSampled = Float32Array.from(c.sampledExpectedCount, Math.log);
  let hits: Float32Array | null = null;
  if (removeAccidentalHits) {
    for (let i = 0; i < N; i++)
      for (let j = 0; j < m; j++) {
        if (c.sampled[j] !== targets[i]) continue;
        hits ??= new Float32Array(N * m);
        hits[i * m + j] = HIT_LOGIT;
      }
  }

  const f = tf.customGrad((...args) => {
    const [h, Wi, bi, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const idsT = tf.tensor1d(ids, 'int32');
    const flatIdsT = tf.tensor2d(flatIds, [H * (N + m), 1], 'int32');
    const cols = tf.reshape(tf.gatherND(tf.reshape(Wi, [H * V]), flatIdsT), [H, N + m]); // [H, N+m]
    const colsT = tf.transpose(cols); // [N+m, H]
    const trueW = tf.slice(colsT, [0, 0], [N, H]); // [N, H]: row i is W[:, y_i]
    const sampledW = tf.slice(cols, [0, N], [H, m]); // [H, m]
    const sampledWT = tf.slice(colsT, [N, 0], [m, H]); // [m, H]
    const bc = tf.gather(bi, idsT);
    const trueLogit = tf.add(
      tf.sum(tf.mul(h, trueW), 1, true),
      tf.reshape(tf.sub(tf.slice(bc, 0, N), tf.tensor1d(logQTrue)), [N, 1]),
    ); // [N, 1]
    let sampledLogits: tf.Tensor = tf.fused.matMul({
      a: h,
      b: sampledW,
      bias: tf.sub(tf.slice(bc, N, m), tf.tensor1d(logQSampled)),
    }); // [N, m]
    if (hits !== null) sampledLogits = tf.add(sampledLogits, tf.tensor2d(hits, [N, m]));
    const p = tf.softmax(tf.concat([trueLogit, sampledLogits], 1)); // [N, 1+m]: the true class first
    const w = tf.tensor2d(weights, [N, 1]);
    const value = tf.neg(tf.sum(tf.mul(tf.log(tf.maximum(tf.slice(p, [0, 0], [N, 1]), MIN_PROB)), w))) as tf.Scalar;
    save([h, trueW, sampledWT, p, w, flatIdsT]);
    return {
      value,
      gradFunc: (dy, saved) => {
        const [hs, trueWs, sampledWTs, ps, ws, flatIdsTs] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
        ];
        // ∂loss/∂logits = (p − onehot(0))·w·dy; accidental hits have p = 0 and so no gradient.
        const wd = tf.mul(ws, dy); // [N, 1]
        const g = tf.mul(ps, wd); // [N, 1+m]
        const gTrue = tf.sub(tf.slice(g, [0, 0], [N, 1]), wd); // [N, 1]
        const gSampled = tf.slice(g, [0, 1], [N, m]) as tf.Tensor2D; // [N, m]
        const dh = tf.add(tf.mul(gTrue, trueWs), tf.matMul(gSampled, sampledWTs)); // [N, H]
        // Gradients of the N+m columns read, summed back into W where they came from (ScatterNd adds repeated
        // indices: a label may repeat or be sampled too).
        const colGrads = tf.concat([tf.transpose(tf.mul(gTrue, hs)), product(hs, gSampled, true)], 1); // [H, N+m]
        const dW = tf.reshape(tf.scatterND(flatIdsTs, tf.reshape(colGrads, [H * (N + m)]), [H * V]), [H, V]);
        const biasGrads = tf.concat([tf.reshape(gTrue, [N]), sumRows(gSampled)]); // [N+m]
        const db = tf.unsortedSegmentSum(biasGrads, tf.tensor1d(ids, 'int32'), V); // [V]
        return [dh, dW, db];
      },
    };
  });
  return f(hidden, W, b) as tf.Scalar;
}
