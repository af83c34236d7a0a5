// A stack of recurrent layers, each optionally bidirectional, with dropout between layers (as TensorFlow's
// DropoutWrapper in the "Recurrent Neural Networks" tutorial's deep LSTM) and optional residual connections: the
// one loop over layers that the encoder, the decoder and the heads' SequenceReader run.
//
// Layer l > 0 reads layer l − 1's outputs ([fwd | bwd] when bidirectional) after input dropout; with `residual`,
// its outputs (after output dropout) are added to its inputs before dropout (the widths are equal from the second
// layer on). The backward direction reads each sequence reversed within its length (bidirectional.ts). Dropout
// masks are drawn from the rng in a fixed order: per layer its input mask, then per direction (forward first) its
// state mask, then its output mask.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import type { Rng } from '../random.js';
import { embed } from '../layers/embedding.js';
import { dropout, stateMask, NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';
import { RecurrentLayer } from './recurrentLayer.js';
import { maskOutputs, finalState, hiddenPart } from './rnn.js';
import { reversalIndex, permuteIds, permuteRows, joinFinals } from './bidirectional.js';
import { DEFAULT_CELL, type CellOptions } from './cell.js';

export interface StackOptions {
  /** Stacked recurrent layers (default 1). */
  layers: number;
  /** Each layer also reads the sequence backwards; outputs are [fwd | bwd], 2·units wide (default false). */
  bidirectional: boolean;
  /** Add each layer's input to its outputs from the second layer on (default false). */
  residual: boolean;
  /** Keep probabilities of layer inputs, outputs and state; applied only when a run gets an rng (default none). */
  dropout: DropoutOptions;
}

/**
 * The most layers a stack takes. GNMT stacked 8 (with residual connections, which it found needed past 4); at
 * 10,000 a config's typo allocated weights for 10 s until the weights' total limit (model/params.ts) stopped it.
 * Far above any stack that trains.
 */
export const MAX_LAYERS = 100;

export const DEFAULT_STACK: StackOptions = { layers: 1, bidirectional: false, residual: false, dropout: NO_DROPOUT };

/** One layer of the stack: its forward direction, and its backward one when bidirectional. */
export interface StackLayer {
  forward: RecurrentLayer;
  backward: RecurrentLayer | null;
}

/**
 * The bottom layer's input, time-major: token ids read through an embedding table (projected straight from the
 * table when there is no input dropout), or given vectors x [T·B, inputSize].
 */
export type StackInput = { ids: Int32Array; table: tf.Tensor2D } | { x: tf.Tensor2D };

/**
 * Runs the bottom layer's forward direction instead of its sequence runner (the decoder's Bahdanau attention,
 * whose input at each step depends on the previous state): input projections xp [T·B, gates·units], the initial
 * state and the state-dropout mask (or null) → h outputs [T·B, units] (time-major) and the last carried state.
 */
export type BottomRunner = (
  xp: tf.Tensor2D,
  state0: tf.Tensor2D,
  stateMask: tf.Tensor2D | null,
) => {
  outputs: tf.Tensor2D;
  final: tf.Tensor2D;
};

/** What one run of the stack reads besides its input. */
export interface StackRun {
  /** Padded steps T. */
  steps: number;
  /** Sequences B. */
  batch: number;
  /** [T·B] 1 at real steps, 0 at padding; null: no padding (the runner then runs without a mask). */
  mask: Float32Array | null;
  /** Draws the dropout masks (training); null or absent: no dropout. */
  rng?: Rng | null;
  /** Per layer, the forward direction's initial state [B, stateSize]; zeros where absent (and for backward). */
  initial?: readonly (tf.Tensor2D | undefined)[];
  /** Replaces the bottom layer's forward sequence runner (one-directional stacks only). */
  bottom?: BottomRunner;
  /** Whether to compute every layer's final state (default true). */
  finals?: boolean;
}

export interface StackOutput {
  /** [T, B, outputSize]: the top layer's outputs, zero at padding, after output dropout and the residual add. */
  outputs: tf.Tensor3D;
  /** Per layer, bottom first: [B, directions·blocks·units], the state at each sequence's last real step. */
  finals: tf.Tensor2D[];
}

export class RecurrentStack {
  readonly layers: StackLayer[] = [];
  readonly options: StackOptions;

  /**
   * Creates the layers' weights in order: per layer forward then backward. Layer 0 is named `prefix` (prefix/W …,
   * the one-layer model's names, so models saved before stacks existed still load), layer l > 0 `prefix/layer<l>`,
   * a backward direction `<layer name>/backward`.
   */
  constructor(
    params: Params,
    prefix: string,
    inputSize: number,
    readonly units: number,
    readonly cell: CellOptions = DEFAULT_CELL,
    options: Partial<StackOptions> = {},
  ) {
    this.options = { ...DEFAULT_STACK, ...options };
    const L = this.options.layers;
    if (!(Number.isInteger(L) && L >= 1)) throw new RangeError(`layers must be an integer ≥ 1, got ${L}`);
    for (let l = 0; l < L; l++) {
      const name = l === 0 ? prefix : `${prefix}/layer${l}`;
      const width = l === 0 ? inputSize : this.outputSize;
      const forward = new RecurrentLayer(params, name, width, units, cell);
      const backward = this.options.bidirectional
        ? new RecurrentLayer(params, `${name}/backward`, width, units, cell)
        : null;
      this.layers.push({ forward, backward });
    }
  }

  /** The bottom layer's forward direction. */
  get bottom(): RecurrentLayer {
    return this.layers[0]!.forward;
  }

  /** Width of the outputs: directions·units. */
  get outputSize(): number {
    return (this.options.bidirectional ? 2 : 1) * this.units;
  }

  /** Width of each layer's final state: directions·blocks·units. */
  get stateSize(): number {
    return (this.options.bidirectional ? 2 : 1) * this.bottom.stateSize;
  }

  /** Runs every layer over the whole sequence (training, encoding); see StackRun and StackOutput. */
  run(input: StackInput, run: StackRun): StackOutput {
    const { steps: T, batch: B } = run;
    const U = this.units;
    const W = this.outputSize;
    const d = this.options.dropout;
    const rng = run.rng ?? null;
    if (run.bottom !== undefined && this.options.bidirectional) {
      throw new Error('RecurrentStack: a bottom runner needs a one-directional stack');
    }
    const mask = run.mask === null ? null : tf.tensor1d(run.mask);
    const shape = { steps: T, batch: B };
    const realSteps = run.mask ?? new Float32Array(T * B).fill(1);
    const reversal = this.options.bidirectional ? reversalIndex(realSteps, T, B) : null;
    // The fast path projects the table and gathers rows; input dropout needs the embeddings themselves.
    let x: StackInput;
    if (!('ids' in input)) x = { x: dropout(input.x, d.inputKeep, rng) };
    else if (rng !== null && d.inputKeep < 1) x = { x: dropout(embed(input.table, input.ids), d.inputKeep, rng) };
    else x = input;
    let below: tf.Tensor3D | null = null; // [T, B, W]: the previous layer's outputs
    const finals: tf.Tensor2D[] = [];
    this.layers.forEach((layer, l) => {
      if (below !== null) x = { x: dropout(tf.reshape<tf.Rank.R2>(below, [T * B, W]), d.inputKeep, rng) };
      const input = x;
      const start = (rnn: RecurrentLayer, given: tf.Tensor2D | undefined) => given ?? tf.zeros([B, rnn.stateSize]);
      const sequence = (rnn: RecurrentLayer, reversed: Int32Array | null, state0?: tf.Tensor2D) => {
        const xp = projectInput(rnn, input, reversed);
        return rnn.sequence(xp, start(rnn, state0), mask, shape, stateMask(rng, B, U, d.stateKeep));
      };
      let out: tf.Tensor3D;
      let final: tf.Tensor2D | null = null;
      if (l === 0 && run.bottom !== undefined) {
        const xp = projectInput(layer.forward, input, null);
        const r = run.bottom(xp, start(layer.forward, run.initial?.[0]), stateMask(rng, B, U, d.stateKeep));
        out = tf.reshape(r.outputs, [T, B, U]);
        final = r.final;
      } else {
        const fwd = sequence(layer.forward, null, run.initial?.[l]);
        out = layer.forward.hidden(fwd);
        if (run.finals !== false) final = finalState(fwd);
      }
      if (layer.backward !== null) {
        const bwd = sequence(layer.backward, reversal);
        // Back to source order: the reversal is its own inverse.
        const bwdOut = tf.reshape<tf.Rank.R2>(layer.backward.hidden(bwd), [T * B, U]);
        const back = tf.reshape(permuteRows(bwdOut, reversal!), [T, B, U]);
        out = tf.concat([out, back], 2) as tf.Tensor3D;
        if (final !== null) final = joinFinals(final, finalState(bwd), U);
      }
      out = maskOutputs(out, mask);
      if (rng !== null && d.outputKeep < 1) {
        out = tf.reshape(dropout(tf.reshape<tf.Rank.R2>(out, [T * B, W]), d.outputKeep, rng), [T, B, W]);
      }
      if (this.options.residual && below !== null) out = tf.add(out, below);
      if (run.finals !== false) finals.push(final!);
      below = out;
    });
    return { outputs: below!, finals };
  }

  /**
   * One step of every layer for all rows (search; one-directional stacks, no dropout): the bottom layer's input
   * projections xp [B, gates·units] and each layer's state [B, stateSize] → each layer's new state and the top
   * layer's output [B, units] (its h, plus its input with `residual`).
   */
  step(xp: tf.Tensor2D, states: readonly tf.Tensor2D[]): { states: tf.Tensor2D[]; top: tf.Tensor2D } {
    if (this.options.bidirectional) throw new Error('RecurrentStack: step needs a one-directional stack');
    const nexts: tf.Tensor2D[] = [];
    let top = xp;
    this.layers.forEach(({ forward }, l) => {
      const next = forward.step(l === 0 ? xp : forward.project(top), states[l]!);
      nexts.push(next);
      const h = hiddenPart(next, this.units); // the h part of an LSTM's [h | c]; the state itself otherwise
      top = this.options.residual && l > 0 ? tf.add(h, top) : h;
    });
    return { states: nexts, top };
  }
}

/** The input projections [T·B, gates·units] of one direction, reading the input reordered by `reversed` when given. */
export function projectInput(rnn: RecurrentLayer, input: StackInput, reversed: Int32Array | null): tf.Tensor2D {
  if ('ids' in input) {
    return rnn.projectTokens(input.table, reversed === null ? input.ids : permuteIds(input.ids, reversed));
  }
  return rnn.project(reversed === null ? input.x : permuteRows(input.x, reversed));
}
