// Small pieces every cell's step uses: scalar activations for the fused JS kernels, and the rows of one time step
// in a time-major [time·batch, width] tensor for the composite versions.
import * as tf from '@tensorflow/tfjs-core';

// exp(x) = 2^(k/32) · e^f with k = round(32·x·log2 e) and |f| ≤ ln2/64: a table of 2^(k/32) and a cubic for e^f.
// Relative error below 1e-9 (float32 rounding is 6e-8), about 4× faster than V8's Math.exp, whose calls (and
// Math.round's) dominated the fused step kernels. Arguments are clamped to [−87, 88], where float32 ends anyway.
const EXP_STEPS = 32;
const EXP_OFFSET = 127 * EXP_STEPS;
const EXP_TABLE = new Float64Array(255 * EXP_STEPS + 1).map((_, i) => Math.pow(2, (i - EXP_OFFSET) / EXP_STEPS));
const EXP_SCALE = EXP_STEPS * Math.LOG2E;
// ln2/32 split in two so that k·LN2_HI is exact (Cody and Waite).
const LN2_HI = 0.693145751953125 / EXP_STEPS;
const LN2_LO = 1.4286068202862268e-6 / EXP_STEPS;

/** e^x to float32 accuracy (see above); NaN stays NaN. */
export function exp(x: number): number {
  if (x > 88) x = 88;
  else if (x < -87) x = -87;
  // | 0 truncates toward zero; the offset keeps the argument positive, so this rounds to nearest.
  const k = ((x * EXP_SCALE + (EXP_OFFSET + 0.5)) | 0) - EXP_OFFSET;
  const f = x - k * LN2_HI - k * LN2_LO;
  return (1 + f * (1 + f * (0.5 + f * (1 / 6)))) * EXP_TABLE[k + EXP_OFFSET]!;
}

export function sigmoid(x: number): number {
  return 1 / (1 + exp(-x));
}

/** tanh through one exp: V8's Math.tanh costs about 2.5 Math.exp calls. Saturates cleanly for large |x|. */
export function tanh(x: number): number {
  return 1 - 2 / (1 + exp(2 * x));
}

/** Rows [t·B, (t+1)·B) of a time-major [time·batch, width] tensor: step t. */
export function rowsAt(x: tf.Tensor2D, t: number, B: number): tf.Tensor2D {
  return tf.slice(x, [t * B, 0], [B, x.shape[1]]);
}
