// What every head reads: a batch of sequences whose steps are token ids (looked up in an embedding table) or
// real-valued feature vectors (e.g. one value per month, a 28-pixel image row), padded at the back, with a mask.
// Both kinds enter the recurrent layers the same way: one input projection for all steps, then the masked runner,
// so lengths work identically (outputs zero past a sequence's length, the final state its last real state).
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { Rng } from '../random.js';
import { embed } from '../layers/embedding.js';
import { dropout, stateMask, checkDropout, NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';
import { RecurrentLayer } from '../recurrent/recurrentLayer.js';
import { maskOutputs, finalState } from '../recurrent/rnn.js';
import { reversalIndex, permuteIds, permuteRows, joinFinals } from '../recurrent/bidirectional.js';
import { DEFAULT_CELL, type CellOptions } from '../recurrent/cell.js';
import { PAD } from '../data/text/vocabulary.js';

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

export interface ReaderOptions {
  /** Stacked recurrent layers; layer l > 0 reads the outputs of layer l − 1 (default 1). */
  layers: number;
  /** Each layer also reads the sequence backwards (within its length); outputs are [fwd | bwd] (default false). */
  bidirectional: boolean;
  /** Keep probabilities of layer inputs, outputs and state, applied in training only (default none). */
  dropout: DropoutOptions;
  /**
   * Token inputs: keep probability of each word type in a training batch — every occurrence of a dropped word reads
   * a zero embedding (Gal & Ghahramani, "A Theoretically Grounded Application of Dropout in Recurrent Neural
   * Networks", 2016, §4: embedding dropout), so the model cannot lean on a few telling words (default 1: none).
   */
  embeddingKeep: number;
}

export const DEFAULT_READER: ReaderOptions = { layers: 1, bidirectional: false, dropout: NO_DROPOUT, embeddingKeep: 1 };

/** Throws a RangeError naming the bad reader option. */
export function checkReaderOptions(o: ReaderOptions): void {
  if (!(Number.isInteger(o.layers) && o.layers >= 1)) throw new RangeError(`layers must be an integer ≥ 1, got ${o.layers}`);
  checkDropout(o.dropout);
  if (!(o.embeddingKeep > 0 && o.embeddingKeep <= 1)) throw new RangeError(`embeddingKeep must be a keep probability in (0, 1], got ${o.embeddingKeep}`);
}

/**
 * Embedding-dropout scales [T·B] for token ids [T·B]: one draw per distinct id, in order of first occurrence, so every
 * occurrence of a word shares it; kept words are scaled by 1/keep (inverted dropout).
 */
export function embeddingDropoutScales(ids: Int32Array, keep: number, rng: Rng): Float32Array {
  const drawn = new Map<number, number>();
  const scales = new Float32Array(ids.length);
  ids.forEach((id, i) => {
    let scale = drawn.get(id);
    if (scale === undefined) {
      scale = rng.next() < keep ? 1 / keep : 0;
      drawn.set(id, scale);
    }
    scales[i] = scale;
  });
  return scales;
}

export interface ReadSequence {
  /** [T, B, width] the top layer's outputs, zero at padding (width = directions·H). */
  outputs: tf.Tensor3D;
  /** [B, blocks·width] the top layer's state at each sequence's last real step (directions joined, as joinFinals). */
  final: tf.Tensor2D;
}

interface ReaderLayer {
  forward: RecurrentLayer;
  backward: RecurrentLayer | null;
}

/**
 * An input projection (embedding or feature) feeding a stack of recurrent layers, each optionally bidirectional,
 * with dropout between them: the heads' shared front end. Built from the encoder's parts (RecurrentLayer, the
 * masked runner, the within-length reversal and the seeded dropout masks), for token or feature inputs.
 */
export class SequenceReader {
  readonly layers: ReaderLayer[] = [];
  readonly options: ReaderOptions;

  constructor(
    private readonly params: Params, private readonly prefix: string, readonly input: InputSpec, readonly hiddenSize: number,
    cell: CellOptions = DEFAULT_CELL, options: Partial<ReaderOptions> = {},
  ) {
    this.options = { ...DEFAULT_READER, ...options };
    checkReaderOptions(this.options);
    const inputWidth = input.kind === 'tokens' ? input.embeddingSize : input.size;
    if (input.kind === 'tokens') params.create(`${prefix}/embedding`, [input.vocabSize, input.embeddingSize], { kind: 'normal', std: 1 });
    // Layer 0 keeps the one-layer reader's weight names (prefix/W …).
    for (let l = 0; l < this.options.layers; l++) {
      const name = l === 0 ? prefix : `${prefix}/layer${l}`;
      const width = l === 0 ? inputWidth : this.outputSize;
      this.layers.push({
        forward: new RecurrentLayer(params, name, width, hiddenSize, cell),
        backward: this.options.bidirectional ? new RecurrentLayer(params, `${name}/backward`, width, hiddenSize, cell) : null,
      });
    }
  }

  /** The bottom layer's forward direction (the whole reader of a one-layer, one-direction model). */
  get rnn(): RecurrentLayer {
    return this.layers[0]!.forward;
  }

  /** Width of the outputs: directions·H. */
  get outputSize(): number {
    return (this.options.bidirectional ? 2 : 1) * this.hiddenSize;
  }

  /** Width of the final state: directions·blocks·H. */
  get stateSize(): number {
    return (this.options.bidirectional ? 2 : 1) * this.rnn.stateSize;
  }

  /** The batch's inputs [T·B, E or F] (embeddings looked up, or the feature values). */
  private inputs(batch: SequenceBatch): tf.Tensor2D {
    if (this.input.kind === 'tokens') {
      if (batch.ids === undefined) throw new Error('SequenceReader: this model reads token ids, the batch has none');
      return embed(this.params.get(`${this.prefix}/embedding`) as tf.Tensor2D, batch.ids);
    }
    const F = this.input.size;
    if (batch.features === undefined) throw new Error('SequenceReader: this model reads feature vectors, the batch has none');
    if (batch.features.length !== batch.steps * batch.size * F) throw new Error(`SequenceReader: expected ${F} features per step, got ${batch.features.length / (batch.steps * batch.size)}`);
    return tf.tensor2d(batch.features, [batch.steps * batch.size, F]);
  }

  /** Input projections of all steps for the bottom forward layer, [T·B, gates·H]. */
  project(batch: SequenceBatch): tf.Tensor2D {
    return tf.tidy(() => this.bottomProjection(this.rnn, batch, null));
  }

  /** Projections of the raw inputs (no dropout) for a bottom-layer direction, reordered by `reversed` when given. */
  private bottomProjection(rnn: RecurrentLayer, batch: SequenceBatch, reversed: Int32Array | null): tf.Tensor2D {
    if (this.input.kind === 'tokens' && batch.ids !== undefined) {
      const ids = reversed === null ? batch.ids : permuteIds(batch.ids, reversed);
      return rnn.projectTokens(this.params.get(`${this.prefix}/embedding`) as tf.Tensor2D, ids);
    }
    const x = this.inputs(batch);
    return rnn.project(reversed === null ? x : permuteRows(x, reversed));
  }

  /**
   * Runs the stack over the batch. `state0` (default zeros) seeds the bottom forward layer (a language model
   * continuing a prompt); `rng` (training only) draws the dropout masks, null means no dropout.
   */
  read(batch: SequenceBatch, state0?: tf.Tensor2D, rng: Rng | null = null): ReadSequence {
    const { size: B, steps: T } = batch;
    const H = this.hiddenSize;
    const d = this.options.dropout;
    return tf.tidy(() => {
      const mask = tf.tensor1d(batch.mask);
      const shape = { steps: T, batch: B };
      const reversal = this.options.bidirectional ? reversalIndex(batch.mask, T, B) : null;
      const dropWords = rng !== null && this.input.kind === 'tokens' && batch.ids !== undefined && this.options.embeddingKeep < 1;
      const dropping = rng !== null && (d.inputKeep < 1 || dropWords);
      let x: tf.Tensor2D | null = null; // [T·B, width]
      if (dropping) {
        let inputs = this.inputs(batch);
        if (dropWords) inputs = tf.mul(inputs, tf.tensor2d(embeddingDropoutScales(batch.ids!, this.options.embeddingKeep, rng!), [T * B, 1]));
        x = dropout(inputs, d.inputKeep, rng);
      }
      let outputs: tf.Tensor3D | null = null;
      let final: tf.Tensor2D | null = null;
      this.layers.forEach((layer, l) => {
        const run = (rnn: RecurrentLayer, reversed: Int32Array | null, start: tf.Tensor2D | undefined) => {
          const xp = x === null ? this.bottomProjection(rnn, batch, reversed) : rnn.project(reversed === null ? x : permuteRows(x, reversed));
          return rnn.sequence(xp, start ?? tf.zeros([B, rnn.stateSize]), mask, shape, stateMask(rng, B, H, d.stateKeep));
        };
        const fwd = run(layer.forward, null, l === 0 ? state0 : undefined);
        let out = layer.forward.hidden(fwd);
        final = finalState(fwd);
        if (layer.backward !== null) {
          const bwd = run(layer.backward, reversal, undefined);
          const back = tf.reshape(permuteRows(tf.reshape(layer.backward.hidden(bwd), [T * B, H]) as tf.Tensor2D, reversal!), [T, B, H]);
          out = tf.concat([out, back], 2) as tf.Tensor3D;
          final = joinFinals(final, finalState(bwd), H);
        }
        out = maskOutputs(out, mask);
        if (rng !== null && d.outputKeep < 1) out = tf.reshape(dropout(tf.reshape(out, [T * B, this.outputSize]) as tf.Tensor2D, d.outputKeep, rng), [T, B, this.outputSize]);
        outputs = out;
        if (l + 1 < this.layers.length) x = dropout(tf.reshape(out, [T * B, this.outputSize]) as tf.Tensor2D, d.inputKeep, rng);
      });
      return { outputs: outputs!, final: final! };
    });
  }
}
