// The encoder–decoder translation model: one typed config, one set of named weights, a training loss and the
// pieces search needs (encode, decoder step).
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { Params } from './params.js';
import { Encoder, type Encoded } from '../encoder/encoder.js';
import { Decoder } from '../decoder/decoder.js';
import { DEFAULT_CELL, type CellOptions } from '../encoder/cell.js';
import { sequenceLoss, type SequenceLossOptions } from '../loss/sequenceLoss.js';
import { toBatchMajor, type Batch, type SourceBatch } from '../data/batch.js';
import type { Decodable } from '../search/decodable.js';
import type { DecoderState } from '../decoder/decoder.js';

export interface Seq2SeqConfig {
  /** Embedding width for source and target tokens (default 64). */
  embeddingSize: number;
  /** Recurrent units in encoder and decoder (default 128). */
  hiddenSize: number;
  /** Recurrent cell of encoder and decoder (default GRU; or LSTM with forget bias and peepholes, or basic RNN). */
  cell: CellOptions;
  /** 'dot': Luong dot-product attention (default); 'none': the decoder sees only the final encoder state. */
  attention: 'dot' | 'none';
  /** Feed sources reversed, padded at the front (default true). */
  reverseSource: boolean;
  /** Seed for the initial weights (default 1). */
  seed: number;
}

/** How a loss is computed: training (dropout, sampled softmax, drawing from rng) or evaluation. */
export interface LossContext {
  training: boolean;
  rng?: Rng;
  loss?: Partial<SequenceLossOptions>;
}

export const DEFAULT_SEQ2SEQ_CONFIG: Seq2SeqConfig = {
  embeddingSize: 64,
  hiddenSize: 128,
  cell: DEFAULT_CELL,
  attention: 'dot',
  reverseSource: true,
  seed: 1,
};

export class Seq2Seq implements Decodable<Encoded, DecoderState> {
  readonly params: Params;
  readonly encoder: Encoder;
  readonly decoder: Decoder;

  constructor(readonly config: Seq2SeqConfig, readonly sourceVocabSize: number, readonly targetVocabSize: number) {
    this.params = new Params(new Rng(config.seed));
    const cell = { ...DEFAULT_CELL, ...config.cell };
    this.encoder = new Encoder({ vocabSize: sourceVocabSize, embeddingSize: config.embeddingSize, hiddenSize: config.hiddenSize, cell }, this.params);
    this.decoder = new Decoder(
      { vocabSize: targetVocabSize, embeddingSize: config.embeddingSize, hiddenSize: config.hiddenSize, attention: config.attention, cell },
      this.params,
    );
  }

  encode(batch: SourceBatch): Encoded {
    return this.encoder.encode(batch);
  }

  /** Teacher-forced logits [B·T_tgt, V], batch-major. */
  logits(batch: Batch): tf.Tensor2D {
    return this.decoder.forward(this.encode(batch), batch.targetIn, batch.targetSteps).logits;
  }

  /**
   * Mean cross-entropy over the real target tokens of the batch. With `context.training` the training-time parts
   * are on (dropout, sampled softmax), drawing their randomness from `context.rng`; without a context it is the
   * evaluation loss (full softmax, no dropout).
   */
  loss(batch: Batch, context: LossContext = { training: false }): tf.Scalar {
    const { size: B, targetSteps: T } = batch;
    const { top } = this.decoder.features(this.encode(batch), batch.targetIn, T);
    const { W, b } = this.decoder.outputLayer();
    const targets = toBatchMajor(batch.targetOut, T, B);
    const mask = toBatchMajor(batch.targetMask, T, B);
    return sequenceLoss(top, W, b, targets, mask, context.loss ?? {}, context);
  }

  tileMemory(memory: Encoded, times: number): Encoded {
    if (times === 1) return { outputs: tf.clone(memory.outputs), final: tf.clone(memory.final), maskBias: tf.clone(memory.maskBias) };
    const B = memory.final.shape[0];
    const index = new Int32Array(B * times);
    for (let i = 0; i < index.length; i++) index[i] = Math.floor(i / times);
    const [outputs, final, maskBias] = tf.tidy(() => {
      const rows = tf.tensor1d(index, 'int32');
      return [tf.gather(memory.outputs, rows), tf.gather(memory.final, rows), tf.gather(memory.maskBias, rows)];
    });
    return { outputs: outputs as tf.Tensor3D, final: final as tf.Tensor2D, maskBias: maskBias as tf.Tensor3D };
  }

  initialState(memory: Encoded): DecoderState {
    return { h: tf.clone(memory.final) };
  }

  step(memory: Encoded, state: DecoderState, previous: Int32Array): { logProbs: tf.Tensor2D; state: DecoderState } {
    const [logProbs, h] = tf.tidy(() => {
      const out = this.decoder.step(memory, state, previous);
      return [tf.logSoftmax(out.logits), out.state.h];
    });
    return { logProbs: logProbs as tf.Tensor2D, state: { h: h as tf.Tensor2D } };
  }

  selectState(state: DecoderState, indices: Int32Array): DecoderState {
    return { h: tf.tidy(() => tf.gather(state.h, tf.tensor1d(indices, 'int32'))) };
  }

  disposeState(state: DecoderState): void {
    state.h.dispose();
  }

  disposeMemory(memory: Encoded): void {
    tf.dispose([memory.outputs, memory.final, memory.maskBias]);
  }

  dispose(): void {
    this.params.dispose();
  }
}
