// What every head reads: a batch of sequences whose steps are token ids (looked up in an embedding table) or
// real-valued feature vectors (e.g. one value per month, a 28-pixel image row), padded at the back, with a mask.
// Both kinds enter the recurrent layers the same way: one input projection for all steps, then the masked runner,
// so lengths work identically (outputs zero past a sequence's length, the final state its last real state).
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { Rng } from '../random.js';
import { embed } from '../layers/embedding.js';
import { checkDropout, NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';
import type { RecurrentLayer } from '../recurrent/recurrentLayer.js';
import { RecurrentStack, projectInput, MAX_LAYERS, type StackLayer, type StackInput } from '../recurrent/stack.js';
import { DEFAULT_CELL, cellProblem, type CellOptions } from '../recurrent/cell.js';
import { ModelConfigError, oneOfProblem, refuseProblems, wholeNumberProblem } from '../model/configChecks.js';
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
    if (s.length % F !== 0)
      throw new RangeError(`sequence ${b} has ${s.length} values, not a multiple of ${F} features per step`);
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

/** Throws a ModelConfigError naming the bad reader option. */
export function checkReaderOptions(o: ReaderOptions): void {
  refuseProblems(wholeNumberProblem('layers', o.layers, 1, MAX_LAYERS));
  checkDropout(o.dropout);
  if (!(o.embeddingKeep > 0 && o.embeddingKeep <= 1))
    throw new ModelConfigError(`embeddingKeep must be a keep probability in (0, 1], got ${o.embeddingKeep}`);
}

/** Throws a ModelConfigError naming the first field of a reader's input, width or cell out of range. */
export function checkReaderShape(input: InputSpec, hiddenSize: number, cell: CellOptions): void {
  refuseProblems(
    input.kind === 'tokens' ? wholeNumberProblem('vocabSize', input.vocabSize) : null,
    input.kind === 'tokens' ? wholeNumberProblem('embeddingSize', input.embeddingSize) : null,
    input.kind === 'features' ? wholeNumberProblem('inputSize', input.size) : null,
    oneOfProblem('input.kind', input.kind, ['tokens', 'features']),
    wholeNumberProblem('hiddenSize', hiddenSize),
    cellProblem(cell),
  );
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

/**
 * An input projection (embedding or feature) feeding a stack of recurrent layers, each optionally bidirectional,
 * with dropout between them: the heads' shared front end. The encoder's RecurrentStack (the masked runner, the
 * within-length reversal and the seeded dropout masks), for token or feature inputs.
 */
export class SequenceReader {
  readonly stack: RecurrentStack;
  readonly layers: readonly StackLayer[];
  readonly options: ReaderOptions;

  constructor(
    private readonly params: Params,
    private readonly prefix: string,
    readonly input: InputSpec,
    readonly hiddenSize: number,
    cell: CellOptions = DEFAULT_CELL,
    options: Partial<ReaderOptions> = {},
  ) {
    this.options = { ...DEFAULT_READER, ...options };
    checkReaderShape(input, hiddenSize, cell);
    checkReaderOptions(this.options);
    const inputWidth = input.kind === 'tokens' ? input.embeddingSize : input.size;
    if (input.kind === 'tokens')
      params.create(`${prefix}/embedding`, [input.vocabSize, input.embeddingSize], { kind: 'normal', std: 1 });
    // Layer 0 keeps the one-layer reader's weight names (prefix/W …): see RecurrentStack.
    const { layers, bidirectional, dropout } = this.options;
    this.stack = new RecurrentStack(params, prefix, inputWidth, hiddenSize, cell, { layers, bidirectional, dropout });
    this.layers = this.stack.layers;
  }

  /** The bottom layer's forward direction (the whole reader of a one-layer, one-direction model). */
  get rnn(): RecurrentLayer {
    return this.stack.bottom;
  }

  /** Width of the outputs: directions·H. */
  get outputSize(): number {
    return this.stack.outputSize;
  }

  /** Width of the final state: directions·blocks·H. */
  get stateSize(): number {
    return this.stack.stateSize;
  }

  /** The batch's inputs [T·B, E or F] (embeddings looked up, or the feature values). */
  private inputs(batch: SequenceBatch): tf.Tensor2D {
    if (this.input.kind === 'tokens') {
      if (batch.ids === undefined) throw new Error('SequenceReader: this model reads token ids, the batch has none');
      return embed(this.params.get(`${this.prefix}/embedding`) as tf.Tensor2D, batch.ids);
    }
    const F = this.input.size;
    if (batch.features === undefined) {
      throw new Error('SequenceReader: this model reads feature vectors, the batch has none');
    }
    if (batch.features.length !== batch.steps * batch.size * F) {
      const got = batch.features.length / (batch.steps * batch.size);
      throw new Error(`SequenceReader: expected ${F} features per step, got ${got}`);
    }
    return tf.tensor2d(batch.features, [batch.steps * batch.size, F]);
  }

  /**
   * The bottom layer's input: token ids with the embedding table, or (feature inputs; token inputs under embedding
   * dropout, whose scales `rng` draws here) the input vectors.
   */
  private stackInput(batch: SequenceBatch, rng: Rng | null): StackInput {
    if (this.input.kind === 'tokens' && batch.ids !== undefined) {
      if (rng !== null && this.options.embeddingKeep < 1) {
        const scales = embeddingDropoutScales(batch.ids, this.options.embeddingKeep, rng);
        return { x: tf.mul(this.inputs(batch), tf.tensor2d(scales, [batch.steps * batch.size, 1])) };
      }
      return { ids: batch.ids, table: this.params.get(`${this.prefix}/embedding`) as tf.Tensor2D };
    }
    return { x: this.inputs(batch) };
  }

  /** Input projections of all steps for the bottom forward layer, [T·B, gates·H]. */
  project(batch: SequenceBatch): tf.Tensor2D {
    return tf.tidy(() => projectInput(this.rnn, this.stackInput(batch, null), null));
  }

  /**
   * Runs the stack over the batch. `state0` (default zeros) seeds the bottom forward layer (a language model
   * continuing a prompt); `rng` (training only) draws the dropout masks, null means no dropout.
   */
  read(batch: SequenceBatch, state0?: tf.Tensor2D, rng: Rng | null = null): ReadSequence {
    return tf.tidy(() => {
      const run = { steps: batch.steps, batch: batch.size, mask: batch.mask, rng, initial: [state0] };
      const { outputs, finals } = this.stack.run(this.stackInput(batch, rng), run);
      return { outputs, final: finals[finals.length - 1]! };
    });
  }
}
