// Dropout as TensorFlow's DropoutWrapper (the RNN tutorials' deep stacks): keep probabilities (1 = off) for a recurrent layer's inputs, outputs and
// state. Masks are drawn in JavaScript from the project's seeded Rng and uploaded, never from tf.random*, so that
// the same seed gives the same masks on every backend and a resumed run (restored Rng state) continues the stream.
// Kept units are scaled by 1/keep (inverted dropout), so evaluation needs no rescaling.
import * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import { ModelConfigError } from '../model/configChecks.js';

export interface DropoutOptions {
  /** Keep probability of each recurrent layer's inputs (embeddings, or the layer below's outputs); default 1. */
  inputKeep: number;
  /** Keep probability of each recurrent layer's outputs (what the next layer, attention and the output layer read); default 1. */
  outputKeep: number;
  /**
   * Keep probability of the recurrent state where it enters the recurrent product h·U (variational dropout, Gal &
   * Ghahramani 2016): one mask per sequence and layer, held fixed across time; the carried state itself (the GRU's
   * z⊙h path, the LSTM's cell) is not dropped. Default 1.
   */
  stateKeep: number;
}

export const NO_DROPOUT: DropoutOptions = { inputKeep: 1, outputKeep: 1, stateKeep: 1 };

export class DropoutError extends ModelConfigError {
  override name = 'DropoutError';
}

/** Throws unless every keep probability is in (0, 1]. */
export function checkDropout(d: DropoutOptions): void {
  for (const [k, v] of Object.entries(d)) {
    if (!(typeof v === 'number' && v > 0 && v <= 1))
      throw new DropoutError(`dropout.${k} must be a keep probability in (0, 1], got ${v}`);
  }
}

/** A [rows, cols] mask of 0 and 1/keep, each entry kept with probability `keep`, drawn row by row from rng. */
export function dropoutMask(rng: Rng, rows: number, cols: number, keep: number): tf.Tensor2D {
  const values = new Float32Array(rows * cols);
  const scale = 1 / keep;
  for (let i = 0; i < values.length; i++) values[i] = rng.next() < keep ? scale : 0;
  return tf.tensor2d(values, [rows, cols]);
}

/** x ⊙ mask with a fresh mask for x [N, D]; x itself when rng is null (not training) or keep is 1. */
export function dropout(x: tf.Tensor2D, keep: number, rng: Rng | null): tf.Tensor2D {
  if (rng === null || keep >= 1) return x;
  return tf.tidy(() => tf.mul(x, dropoutMask(rng, x.shape[0], x.shape[1], keep)));
}

/** The state mask [batch, units] for one layer and direction, or null when there is none. */
export function stateMask(rng: Rng | null, batch: number, units: number, keep: number): tf.Tensor2D | null {
  return rng === null || keep >= 1 ? null : dropoutMask(rng, batch, units, keep);
}
