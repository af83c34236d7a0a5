// Source ids → embeddings → a stack of recurrent layers (GRU by default, or LSTM, basic RNN), each optionally
// bidirectional, with dropout between layers and optional residual connections. Returns the top layer's outputs
// for attention (zero at padding) and every layer's final state (each sequence's state at its last real step)
// for the bridge that seeds the decoder.
//
// Layer l > 0 reads layer l−1's outputs ([fwd | bwd] when bidirectional); with `residual`, its outputs are added
// to its inputs (the widths are equal from the second layer on).
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { SourceBatch } from '../data/text/batch.js';
import type { Rng } from '../random.js';
import { maskOutputs, finalState } from '../recurrent/rnn.js';
import { RecurrentLayer } from '../recurrent/recurrentLayer.js';
import { DEFAULT_CELL, type CellOptions } from '../recurrent/cell.js';
import { reversalIndex, permuteIds, permuteRows, joinFinals } from '../recurrent/bidirectional.js';
import { embed } from '../layers/embedding.js';
import { dropout, stateMask, NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';

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

interface EncoderLayer {
  forward: RecurrentLayer;
  backward: RecurrentLayer | null;
}

/** A layer's input: token ids projected straight from the embedding table (bottom layer), or a tensor [T·B, D]. */
type LayerInput = { ids: Int32Array; table: tf.Tensor2D } | { x: tf.Tensor2D };

export class Encoder {
  readonly layers: EncoderLayer[] = [];
  readonly embeddingName: string;
  private readonly dropout: DropoutOptions;
  private readonly residual: boolean;

  constructor(readonly options: EncoderOptions, private readonly params: Params, prefix = 'encoder') {
    const { vocabSize: V, embeddingSize: E, hiddenSize: H } = options;
    const cell = options.cell ?? DEFAULT_CELL;
    const directions = options.bidirectional ? 2 : 1;
    this.embeddingName = options.embeddingName ?? `${prefix}/embedding`;
    if (options.embeddingName === undefined) params.create(this.embeddingName, [V, E], { kind: 'normal', std: 1 }, options.trainEmbedding ?? true);
    // Layer 0 keeps the one-layer model's names (encoder/W …), so models saved before stacks existed still load.
    for (let l = 0; l < (options.layers ?? 1); l++) {
      const name = l === 0 ? prefix : `${prefix}/layer${l}`;
      const input = l === 0 ? E : directions * H;
      this.layers.push({
        forward: new RecurrentLayer(params, name, input, H, cell),
        backward: options.bidirectional ? new RecurrentLayer(params, `${name}/backward`, input, H, cell) : null,
      });
    }
    this.dropout = options.dropout ?? NO_DROPOUT;
    this.residual = options.residual ?? false;
  }

  /** The bottom layer's forward direction (the whole encoder of the default model). */
  get rnn(): RecurrentLayer {
    return this.layers[0]!.forward;
  }

  /** Width of the outputs and of each layer's joined h: directions·hiddenSize. */
  get outputSize(): number {
    return (this.options.bidirectional ? 2 : 1) * this.options.hiddenSize;
  }

  /** Encodes a batch; `rng` (training only) draws the dropout masks, null means no dropout. */
  encode(batch: SourceBatch, rng: Rng | null = null): EncoderOutput {
    const { size: B, sourceSteps: T } = batch;
    const H = this.options.hiddenSize;
    const d = this.dropout;
    const table = this.params.get(this.embeddingName) as unknown as tf.Tensor2D;
    const result = tf.tidy(() => {
      const mask = tf.tensor1d(batch.sourceMask);
      const shape = { steps: T, batch: B };
      const reversal = this.options.bidirectional ? reversalIndex(batch.sourceMask, T, B) : null;
      // The fast path projects the table and gathers rows; input dropout needs the embeddings themselves.
      let input: LayerInput = rng !== null && d.inputKeep < 1 ? { x: dropout(embed(table, batch.source), d.inputKeep, rng) } : { ids: batch.source, table };
      let below: tf.Tensor3D | null = null; // [T, B, width]: the previous layer's outputs
      const finals: tf.Tensor2D[] = [];
      for (const layer of this.layers) {
        if (below !== null) input = { x: dropout(tf.reshape(below, [T * B, this.outputSize]) as tf.Tensor2D, d.inputKeep, rng) };
        const run = (rnn: RecurrentLayer, reversed: Int32Array | null) => {
          const xp = projectInput(rnn, input, reversed);
          return rnn.sequence(xp, tf.zeros([B, rnn.stateSize]), mask, shape, stateMask(rng, B, H, d.stateKeep));
        };
        const fwd = run(layer.forward, null);
        let out = layer.forward.hidden(fwd);
        let final = finalState(fwd);
        if (layer.backward !== null) {
          const bwd = run(layer.backward, reversal);
          // Back to source order: the reversal is its own inverse.
          const back = tf.reshape(permuteRows(tf.reshape(layer.backward.hidden(bwd), [T * B, H]) as tf.Tensor2D, reversal!), [T, B, H]);
          out = tf.concat([out, back], 2) as tf.Tensor3D;
          final = joinFinals(final, finalState(bwd), H);
        }
        out = maskOutputs(out, mask);
        if (rng !== null && d.outputKeep < 1) out = tf.reshape(dropout(tf.reshape(out, [T * B, this.outputSize]) as tf.Tensor2D, d.outputKeep, rng), [T, B, this.outputSize]);
        if (this.residual && below !== null) out = tf.add(out, below);
        finals.push(final);
        below = out;
      }
      const bias = new Float32Array(B * T);
      for (let t = 0; t < T; t++) for (let b = 0; b < B; b++) bias[b * T + t] = batch.sourceMask[t * B + b]! > 0 ? 0 : -1e9;
      return { outputs: tf.transpose(below!, [1, 0, 2]) as tf.Tensor3D, finals, maskBias: tf.tensor3d(bias, [B, 1, T]) };
    });
    return result;
  }
}

/** The input projections [T·B, gates·H] of one direction, reading the input reordered by `reversed` when given. */
function projectInput(rnn: RecurrentLayer, input: LayerInput, reversed: Int32Array | null): tf.Tensor2D {
  if ('ids' in input) return rnn.projectTokens(input.table, reversed === null ? input.ids : permuteIds(input.ids, reversed));
  return rnn.project(reversed === null ? input.x : permuteRows(input.x, reversed));
}
