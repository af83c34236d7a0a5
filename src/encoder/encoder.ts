// Source ids → embeddings → GRU over time. Returns the outputs for attention (zero at padding) and the final
// state (each sequence's state at its last real step) that seeds the decoder.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { SourceBatch } from '../data/batch.js';
import { embedProject } from '../layers/embedding.js';
import { gruSequence, maskOutputs, finalState } from './rnn.js';
import { GRU_GATES } from './gru.js';

export interface EncoderOptions {
  vocabSize: number;
  /** Embedding width (default 64). */
  embeddingSize: number;
  /** GRU units (default 128). */
  hiddenSize: number;
}

export interface Encoded {
  /** [batch, T_src, H], zero at padded positions. */
  outputs: tf.Tensor3D;
  /** [batch, H] */
  final: tf.Tensor2D;
  /** [batch, 1, T_src]: 0 at real source positions, −1e9 at padding; added to attention scores. */
  maskBias: tf.Tensor3D;
}

export class Encoder {
  constructor(readonly options: EncoderOptions, private readonly params: Params, prefix = 'encoder') {
    const { vocabSize: V, embeddingSize: E, hiddenSize: H } = options;
    const k = 1 / Math.sqrt(H);
    params.create(`${prefix}/embedding`, [V, E], { kind: 'normal', std: 1 });
    params.create(`${prefix}/W`, [E, GRU_GATES * H], { kind: 'uniform', scale: k });
    params.create(`${prefix}/b`, [GRU_GATES * H], { kind: 'uniform', scale: k });
    params.create(`${prefix}/U`, [H, GRU_GATES * H], { kind: 'uniform', scale: k });
    params.create(`${prefix}/c`, [GRU_GATES * H], { kind: 'uniform', scale: k });
    this.prefix = prefix;
  }

  private readonly prefix: string;

  private p(name: string): tf.Variable {
    return this.params.get(`${this.prefix}/${name}`);
  }

  encode(batch: SourceBatch): Encoded {
    const { size: B, sourceSteps: T } = batch;
    const H = this.options.hiddenSize;
    const [outputs, final, maskBias] = tf.tidy(() => {
      // [T·B, 3H] input projections for all steps, time-major
      const xp = embedProject(this.p('embedding') as tf.Tensor2D, this.p('W') as tf.Tensor2D, this.p('b') as tf.Tensor1D, batch.source);
      const mask = tf.tensor1d(batch.sourceMask);
      const states = gruSequence(xp, tf.zeros([B, H]), this.p('U') as tf.Tensor2D, this.p('c') as tf.Tensor1D, mask, { steps: T, batch: B });
      const bias = new Float32Array(B * T);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) bias[b * T + t] = batch.sourceMask[t * B + b]! > 0 ? 0 : -1e9;
      return [tf.transpose(maskOutputs(states, mask), [1, 0, 2]), finalState(states), tf.tensor3d(bias, [B, 1, T])];
    });
    return { outputs: outputs as tf.Tensor3D, final: final as tf.Tensor2D, maskBias: maskBias as tf.Tensor3D };
  }
}
