// What every head reads: a batch of sequences whose steps are token ids (looked up in an embedding table) or
// real-valued feature vectors (e.g. one value per month, a 28-pixel image row), padded at the back, with a mask.
// Both kinds enter the recurrent layer the same way: one input projection for all steps, then the masked runner,
// so lengths work identically (outputs zero past a sequence's length, the final state its last real state).
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import { dense } from '../layers/dense.js';
import { RecurrentLayer } from '../encoder/recurrentLayer.js';
import { maskOutputs, finalState } from '../encoder/rnn.js';
import { DEFAULT_CELL, type CellOptions } from '../encoder/cell.js';
import { PAD } from '../data/vocabulary.js';

export type InputSpec =
  /** Token ids with a trained embedding table. */
  | { kind: 'tokens'; vocabSize: number; embeddingSize: number }
  /** `size` real values per step. */
  | { kind: 'features'; size: number };

export interface SequenceBatch {
  size: number;
  /** Padded steps T. */
  steps: number;
  /** [T·B] token ids, time-major (token inputs). */
  ids?: Int32Array;
  /** [T·B·F] feature values, time-major, F per step (feature inputs). */
  features?: Float32Array;
  /** [T·B] 1 at real steps, 0 at padding. */
  mask: Float32Array;
  lengths: Int32Array;
}

/** Token sequences → a back-padded batch of at least `minSteps` steps. */
export function tokenBatch(sequences: readonly (readonly number[])[], minSteps = 1): SequenceBatch {
  const B = sequences.length;
  const T = Math.max(minSteps, ...sequences.map((s) => s.length));
  const ids = new Int32Array(T * B).fill(PAD);
  const mask = new Float32Array(T * B);
  const lengths = new Int32Array(B);
  sequences.forEach((s, b) => {
    lengths[b] = s.length;
    s.forEach((id, t) => {
      ids[t * B + b] = id;
      mask[t * B + b] = 1;
    });
  });
  return { size: B, steps: T, ids, mask, lengths };
}

/** Feature sequences (each [length·F], step-major) → a back-padded batch. */
export function featureBatch(sequences: readonly Float32Array[], featureSize: number, minSteps = 1): SequenceBatch {
  const B = sequences.length;
  const F = featureSize;
  sequences.forEach((s, b) => {
    if (s.length % F !== 0) throw new RangeError(`sequence ${b} has ${s.length} values, not a multiple of ${F} features per step`);
  });
  const T = Math.max(minSteps, ...sequences.map((s) => s.length / F));
  const features = new Float32Array(T * B * F);
  const mask = new Float32Array(T * B);
  const lengths = new Int32Array(B);
  sequences.forEach((s, b) => {
    const n = s.length / F;
    lengths[b] = n;
    for (let t = 0; t < n; t++) {
      features.set(s.subarray(t * F, (t + 1) * F), (t * B + b) * F);
      mask[t * B + b] = 1;
    }
  });
  return { size: B, steps: T, features, mask, lengths };
}

export interface ReadSequence {
  /** [T, B, H] outputs, zero at padding. */
  outputs: tf.Tensor3D;
  /** [B, state] each sequence's state at its last real step. */
  final: tf.Tensor2D;
}

/** An input projection (embedding or feature) feeding one recurrent layer; the heads' shared front end. */
export class SequenceReader {
  readonly rnn: RecurrentLayer;

  constructor(private readonly params: Params, private readonly prefix: string, readonly input: InputSpec, hiddenSize: number, cell: CellOptions = DEFAULT_CELL) {
    const inputWidth = input.kind === 'tokens' ? input.embeddingSize : input.size;
    if (input.kind === 'tokens') params.create(`${prefix}/embedding`, [input.vocabSize, input.embeddingSize], { kind: 'normal', std: 1 });
    this.rnn = new RecurrentLayer(params, prefix, inputWidth, hiddenSize, cell);
  }

  /** Input projections of all steps, [T·B, gates·H]. */
  project(batch: SequenceBatch): tf.Tensor2D {
    if (this.input.kind === 'tokens') {
      if (batch.ids === undefined) throw new Error('SequenceReader: this model reads token ids, the batch has none');
      return this.rnn.projectTokens(this.params.get(`${this.prefix}/embedding`) as tf.Tensor2D, batch.ids);
    }
    const F = this.input.size;
    if (batch.features === undefined) throw new Error('SequenceReader: this model reads feature vectors, the batch has none');
    if (batch.features.length !== batch.steps * batch.size * F) throw new Error(`SequenceReader: expected ${F} features per step, got ${batch.features.length / (batch.steps * batch.size)}`);
    return tf.tidy(() => dense(tf.tensor2d(batch.features!, [batch.steps * batch.size, F]), this.params.get(`${this.prefix}/W`) as tf.Tensor2D, this.params.get(`${this.prefix}/b`) as tf.Tensor1D));
  }

  /** Runs the layer over the batch from `state0` (default zeros). */
  read(batch: SequenceBatch, state0?: tf.Tensor2D): ReadSequence {
    const { size: B, steps: T } = batch;
    const mask = tf.tensor1d(batch.mask);
    const states = this.rnn.sequence(this.project(batch), state0 ?? tf.zeros([B, this.rnn.stateSize]), mask, { steps: T, batch: B });
    return { outputs: maskOutputs(this.rnn.hidden(states), mask), final: finalState(states) };
  }
}
