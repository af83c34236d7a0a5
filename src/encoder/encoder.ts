// Source ids → embeddings → a stack of recurrent layers (GRU by default, or LSTM, basic RNN), each optionally
// bidirectional, with dropout between layers and optional residual connections. Returns the top layer's outputs
// for attention (zero at padding) and every layer's final state (each sequence's state at its last real step)
// for the bridge that seeds the decoder.
//
// Layer l > 0 reads layer l−1's outputs ([fwd | bwd] when bidirectional); with `residual`, its outputs are added
// to its inputs (the widths are equal from the second layer on). The loop over layers is RecurrentStack's.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { SourceBatch } from '../data/text/batch.js';
import type { Rng } from '../random.js';
import type { RecurrentLayer } from '../recurrent/recurrentLayer.js';
import { RecurrentStack, type StackLayer } from '../recurrent/stack.js';
import { DEFAULT_CELL, type CellOptions } from '../recurrent/cell.js';
import { NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';

export interface EncoderOptions {
  vocabSize: number;
  /** Embedding width (default 64). */
  embeddingSize: number;
  /** Recurrent units per direction (default 128). */
  hiddenSize: number;
  /** The recurrent cell (default GRU). */
  cell?: CellOptions;
  /** Stacked recurrent layers (default 1). */
  layers?: number;
  /** Each layer also reads the source backwards; outputs are [fwd | bwd], 2·hiddenSize wide (default false). */
  bidirectional?: boolean;
  /** Add each layer's input to its outputs from the second layer on (default false). */
  residual?: boolean;
  /** Keep probabilities; applied only when `encode` gets an rng (training). Default: none. */
  dropout?: DropoutOptions;
  /** Name of an existing embedding table to use (shared embeddings); default: create `<prefix>/embedding`. */
  embeddingName?: string;
  /** Whether a table created here is trained (default true; false = frozen, e.g. pretrained vectors). */
  trainEmbedding?: boolean;
}

/** What the encoder gives the rest of the model. */
export interface EncoderOutput {
  /** [batch, T_src, width]: the top layer's outputs, zero at padded positions (width = directions·hiddenSize). */
  outputs: tf.Tensor3D;
  /** Per layer, bottom first: [batch, blocks·width], the final state ([h | c] for an LSTM, directions joined). */
  finals: tf.Tensor2D[];
  /** [batch, 1, T_src]: 0 at real source positions, −1e9 at padding; added to attention scores. */
  maskBias: tf.Tensor3D;
}

export class Encoder {
  /** The recurrent layers, bottom first (see RecurrentStack for their weight names). */
  readonly stack: RecurrentStack;
  readonly layers: readonly StackLayer[];
  readonly embeddingName: string;

  constructor(
    readonly options: EncoderOptions,
    private readonly params: Params,
    prefix = 'encoder',
  ) {
    const { vocabSize: V, embeddingSize: E, hiddenSize: H } = options;
    this.embeddingName = options.embeddingName ?? `${prefix}/embedding`;
    if (options.embeddingName === undefined) {
      params.create(this.embeddingName, [V, E], { kind: 'normal', std: 1 }, options.trainEmbedding ?? true);
    }
    this.stack = new RecurrentStack(params, prefix, E, H, options.cell ?? DEFAULT_CELL, {
      layers: options.layers ?? 1,
      bidirectional: options.bidirectional ?? false,
      residual: options.residual ?? false,
      dropout: options.dropout ?? NO_DROPOUT,
    });
    this.layers = this.stack.layers;
  }

  /** The bottom layer's forward direction (the whole encoder of the default model). */
  get rnn(): RecurrentLayer {
    return this.stack.bottom;
  }

  /** Width of the outputs and of each layer's joined h: directions·hiddenSize. */
  get outputSize(): number {
    return this.stack.outputSize;
  }

  /** Encodes a batch; `rng` (training only) draws the dropout masks, null means no dropout. */
  encode(batch: SourceBatch, rng: Rng | null = null): EncoderOutput {
    const { size: B, sourceSteps: T } = batch;
    const table = this.params.get(this.embeddingName) as unknown as tf.Tensor2D;
    return tf.tidy(() => {
      const run = { steps: T, batch: B, mask: batch.sourceMask, rng };
      const { outputs, finals } = this.stack.run({ ids: batch.source, table }, run);
      const bias = new Float32Array(B * T);
      for (let t = 0; t < T; t++) {
        for (let b = 0; b < B; b++) bias[b * T + t] = batch.sourceMask[t * B + b]! > 0 ? 0 : -1e9;
      }
      const maskBias = tf.tensor3d(bias, [B, 1, T]);
      return { outputs: tf.transpose<tf.Tensor3D>(outputs, [1, 0, 2]), finals, maskBias };
    });
  }
}
