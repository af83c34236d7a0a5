// Source ids → embeddings → a recurrent layer (GRU by default, or LSTM, basic RNN) over time. Returns the outputs
// for attention (zero at padding) and the final state (each sequence's state at its last real step) that seeds
// the decoder.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { SourceBatch } from '../data/batch.js';
import { maskOutputs, finalState } from './rnn.js';
import { RecurrentLayer } from './recurrentLayer.js';
import { DEFAULT_CELL, type CellOptions } from './cell.js';

export interface EncoderOptions {
  vocabSize: number;
  /** Embedding width (default 64). */
  embeddingSize: number;
  /** Recurrent units (default 128). */
  hiddenSize: number;
  /** The recurrent cell (default GRU). */
  cell?: CellOptions;
}

export interface Encoded {
  /** [batch, T_src, H], zero at padded positions. */
  outputs: tf.Tensor3D;
  /** [batch, state]: H, or 2H ([h | c]) for an LSTM. */
  final: tf.Tensor2D;
  /** [batch, 1, T_src]: 0 at real source positions, −1e9 at padding; added to attention scores. */
  maskBias: tf.Tensor3D;
}

export class Encoder {
  constructor(readonly options: EncoderOptions, private readonly params: Params, prefix = 'encoder') {
    const { vocabSize: V, embeddingSize: E, hiddenSize: H } = options;
    params.create(`${prefix}/embedding`, [V, E], { kind: 'normal', std: 1 });
    this.rnn = new RecurrentLayer(params, prefix, E, H, options.cell ?? DEFAULT_CELL);
    this.prefix = prefix;
  }

  private readonly prefix: string;
  readonly rnn: RecurrentLayer;

  private p(name: string): tf.Variable {
    return this.params.get(`${this.prefix}/${name}`);
  }

  encode(batch: SourceBatch): Encoded {
    const { size: B, sourceSteps: T } = batch;
    const [outputs, final, maskBias] = tf.tidy(() => {
      // [T·B, gates·H] input projections for all steps, time-major
      const xp = this.rnn.projectTokens(this.p('embedding') as tf.Tensor2D, batch.source);
      const mask = tf.tensor1d(batch.sourceMask);
      const states = this.rnn.sequence(xp, tf.zeros([B, this.rnn.stateSize]), mask, { steps: T, batch: B });
      const bias = new Float32Array(B * T);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) bias[b * T + t] = batch.sourceMask[t * B + b]! > 0 ? 0 : -1e9;
      return [tf.transpose(maskOutputs(this.rnn.hidden(states), mask), [1, 0, 2]), finalState(states), tf.tensor3d(bias, [B, 1, T])];
    });
    return { outputs: outputs as tf.Tensor3D, final: final as tf.Tensor2D, maskBias: maskBias as tf.Tensor3D };
  }
}
