// Recurrent decoder (GRU by default) seeded with the encoder's final state. Two entry points over the same weights:
//   forward: teacher forcing over the whole target (inputs GO y1 … yn) for training;
//   step:    one token at a time for search (greedy, beam), carrying the state.
// With attention the output layer reads h̃ = tanh(W_c [context; s]); without, it reads s directly (the seeds'
// original model, whose only view of the source is the final encoder state).
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { Encoded } from '../encoder/encoder.js';
import { dense } from '../layers/dense.js';
import { RecurrentLayer } from '../encoder/recurrentLayer.js';
import { hiddenPart } from '../encoder/rnn.js';
import { DEFAULT_CELL, type CellOptions } from '../encoder/cell.js';
import { luongDotAttention } from './attention.js';

export interface DecoderOptions {
  vocabSize: number;
  /** Embedding width of target tokens. */
  embeddingSize: number;
  /** Recurrent units; equal to the encoder's, whose final state seeds the decoder. */
  hiddenSize: number;
  /** The recurrent cell (default GRU); the encoder's, so its final state fits. */
  cell?: CellOptions;
  /** 'dot': Luong dot-product attention over the encoder outputs; 'none': final state only. */
  attention: 'dot' | 'none';
}

/** What search carries from step to step. */
export interface DecoderState {
  /** [batch, state]: H, or [h | c] for an LSTM. */
  h: tf.Tensor2D;
}

export class Decoder {
  private readonly prefix: string;
  readonly rnn: RecurrentLayer;

  constructor(readonly options: DecoderOptions, private readonly params: Params, prefix = 'decoder') {
    const { vocabSize: V, embeddingSize: E, hiddenSize: H } = options;
    const k = 1 / Math.sqrt(H);
    this.prefix = prefix;
    params.create(`${prefix}/embedding`, [V, E], { kind: 'normal', std: 1 });
    this.rnn = new RecurrentLayer(params, prefix, E, H, options.cell ?? DEFAULT_CELL);
    if (options.attention === 'dot') params.create(`${prefix}/attention/Wc`, [2 * H, H], { kind: 'uniform', scale: 1 / Math.sqrt(2 * H) });
    params.create(`${prefix}/output/W`, [H, V], { kind: 'uniform', scale: k });
    params.create(`${prefix}/output/b`, [V], { kind: 'zeros' });
  }

  private p<T extends tf.Tensor>(name: string): T {
    return this.params.get(`${this.prefix}/${name}`) as unknown as T;
  }

  /**
   * The output layer's input from decoder states [B, T, H]: h̃ with attention, the states themselves without;
   * [B·T, H] batch-major, and the attention weights [B, T, T_src] when attention is on.
   */
  private top(states: tf.Tensor3D, encoded: Encoded): { top: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const [B, T, H] = states.shape;
    if (this.options.attention === 'dot') {
      const a = luongDotAttention(states, encoded.outputs, encoded.maskBias, this.p('attention/Wc'));
      return { top: tf.reshape(a.attended, [B * T, H]), weights: a.weights };
    }
    return { top: tf.reshape(states, [B * T, H]), weights: null };
  }

  /** The output projection's weights: logits = top·W + b. */
  outputLayer(): { W: tf.Tensor2D; b: tf.Tensor1D } {
    return { W: this.p('output/W'), b: this.p('output/b') };
  }

  /** Logits [N, V] from output-layer inputs [N, H]. */
  logits(top: tf.Tensor2D): tf.Tensor2D {
    const { W, b } = this.outputLayer();
    return dense(top, W, b);
  }

  /**
   * Teacher forcing. targetIn: [T_tgt·B] time-major decoder inputs (GO y1 … yn PAD …). Returns the output layer's
   * inputs [B·T_tgt, H] in batch-major order (row b·T_tgt + t), before the projection to the vocabulary, so that a
   * loss may project only some columns (sampled softmax). Positions after EOS run on PAD inputs; the loss masks them.
   */
  features(encoded: Encoded, targetIn: Int32Array, steps: number): { top: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const B = encoded.final.shape[0];
    const xp = this.rnn.projectTokens(this.p('embedding'), targetIn);
    const states = this.rnn.sequence(xp, encoded.final, null, { steps, batch: B });
    return this.top(tf.transpose(this.rnn.hidden(states), [1, 0, 2]) as tf.Tensor3D, encoded);
  }

  /** Teacher forcing: logits [B·T_tgt, V], batch-major (see `features`). */
  forward(encoded: Encoded, targetIn: Int32Array, steps: number): { logits: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const { top, weights } = this.features(encoded, targetIn, steps);
    return { logits: this.logits(top), weights };
  }

  initialState(encoded: Encoded): DecoderState {
    return { h: encoded.final };
  }

  /** One step: previous tokens [B] → new state and logits [B, V] (and attention weights [B, 1, T_src]). */
  step(encoded: Encoded, state: DecoderState, previous: Int32Array): { state: DecoderState; logits: tf.Tensor2D; weights: tf.Tensor3D | null } {
    const B = previous.length;
    const H = this.options.hiddenSize;
    const xp = this.rnn.projectTokens(this.p('embedding'), previous);
    const next = this.rnn.step(xp, state.h);
    const top = hiddenPart(next, H); // the h part of an LSTM's [h | c]; the state itself otherwise
    const out = this.top(tf.reshape(top, [B, 1, H]) as tf.Tensor3D, encoded);
    return { state: { h: next }, logits: this.logits(out.top), weights: out.weights };
  }
}
