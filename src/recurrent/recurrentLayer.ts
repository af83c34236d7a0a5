// One recurrent layer's weights (input projection W, b; recurrent U, c; LSTM peepholes) and the two ways to run
// it: over a whole sequence (training, encoding) and one step at a time (search). Encoder and decoder share it.
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import { embed, embedProject } from '../layers/embedding.js';
import { dense } from '../layers/dense.js';
import { recurrentSequence, recurrentStep, hiddenPart, type SequenceShape } from './rnn.js';
import { cellGates, stateBlocks, type CellOptions } from './cell.js';
import { gruNextState } from './gru.js';
import { lstmStep } from './lstm.js';
import { rnnStep } from './basicRnn.js';
import { gruSequenceRuns, gruStepFused } from './gruSequence.js';

/**
 * Largest projected embedding table (vocabulary × gates·units values, 32 MiB) kept for decoding: a GRU of 256 units
 * over 10,000 target tokens (the Multi30K models' 6,276–8,018 take 19–25 MiB and spare a [rows, 256]·[256, 768]
 * product a step, 6 % of a beam search's time at 1 and at 64 sentences).
 */
export const PROJECTED_TABLE_MAX_SIZE = 1 << 23;

export class RecurrentLayer {
  constructor(
    private readonly params: Params,
    private readonly prefix: string,
    inputSize: number,
    readonly units: number,
    readonly cell: CellOptions,
  ) {
    const G = cellGates(cell.kind) * units;
    const k = 1 / Math.sqrt(units);
    params.create(`${prefix}/W`, [inputSize, G], { kind: 'uniform', scale: k });
    params.create(`${prefix}/b`, [G], { kind: 'uniform', scale: k });
    params.create(`${prefix}/U`, [units, G], { kind: 'uniform', scale: k });
    params.create(`${prefix}/c`, [G], { kind: 'uniform', scale: k });
    if (cell.kind === 'lstm' && cell.peepholes)
      params.create(`${prefix}/peepholes`, [3 * units], { kind: 'uniform', scale: k });
  }

  /** Width of the carried state: units, or 2·units for the LSTM's [h | c]. */
  get stateSize(): number {
    return stateBlocks(this.cell.kind) * this.units;
  }

  private p<T extends tf.Tensor>(name: string): T {
    return this.params.get(`${this.prefix}/${name}`) as unknown as T;
  }

  private peep(): tf.Tensor1D | null {
    return this.cell.kind === 'lstm' && this.cell.peepholes ? this.p<tf.Tensor1D>('peepholes') : null;
  }

  /**
   * Input projections for token ids (time-major): [ids, gates·units]. Outside training (no gradient tape) the
   * projected table table·W + b is computed once and kept with the weights until they change (`Params.derived`),
   * so decoding gathers rows instead of multiplying at every step; only for tables of at most
   * PROJECTED_TABLE_MAX_SIZE values, since the copy lives as long as the model.
   */
  projectTokens(table: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
    const W = this.p<tf.Tensor2D>('W');
    const b = this.p<tf.Tensor1D>('b');
    if (!tf.engine().isTapeOn() && table.shape[0] * W.shape[1] <= PROJECTED_TABLE_MAX_SIZE) {
      return embed(
        this.params.derived(`${this.prefix}/projected-table`, [table, W, b], () => dense(table, W, b)) as tf.Tensor2D,
        ids,
      );
    }
    return embedProject(table, W, b, ids);
  }

  /** Input projections x·W + b of any inputs [N, inputSize] (embeddings after dropout, a lower layer's outputs). */
  project(x: tf.Tensor2D): tf.Tensor2D {
    return dense(x, this.p<tf.Tensor2D>('W'), this.p<tf.Tensor1D>('b'));
  }

  /** Carried states for all steps, [T, B, stateSize]; stateMask [B, units]: variational state dropout or null. */
  sequence(
    xp: tf.Tensor2D,
    state0: tf.Tensor2D,
    mask: tf.Tensor1D | null,
    shape: SequenceShape,
    stateMask: tf.Tensor2D | null = null,
  ): tf.Tensor3D {
    return recurrentSequence(this.cell, xp, state0, this.p('U'), this.p('c'), this.peep(), mask, shape, stateMask);
  }

  /** One step with its gradient (training a decoder step by step): xp [B, gates·units], state → new state. */
  trainStep(xp: tf.Tensor2D, state: tf.Tensor2D, stateMask: tf.Tensor2D | null = null): tf.Tensor2D {
    return recurrentStep(this.cell, xp, state, this.p('U'), this.p('c'), this.peep(), stateMask);
  }

  /** One step for all rows: xp [B, gates·units], state [B, stateSize] → new state. */
  step(xp: tf.Tensor2D, state: tf.Tensor2D): tf.Tensor2D {
    if (this.cell.kind === 'gru' && !tf.engine().isTapeOn() && gruSequenceRuns(this.units))
      return gruStepFused(xp, state, this.p<tf.Tensor2D>('U'), this.p<tf.Tensor1D>('c'));
    return tf.tidy(() => {
      const hU = tf.matMul<tf.Tensor2D>(hiddenPart(state, this.units), this.p<tf.Tensor2D>('U'));
      const c = this.p<tf.Tensor1D>('c');
      const args = { xp, hU, c, mask: null, t: 0 };
      const [next] =
        this.cell.kind === 'lstm'
          ? lstmStep({ ...args, state, peep: this.peep(), forgetBias: this.cell.forgetBias })
          : this.cell.kind === 'rnn'
            ? rnnStep({ ...args, h: state, activation: this.cell.activation })
            : [gruNextState({ ...args, h: state })];
      return next;
    });
  }

  /** The h part of states [T, B, stateSize] → [T, B, units]. */
  hidden(states: tf.Tensor3D): tf.Tensor3D {
    const [T, B, S] = states.shape;
    return S === this.units ? states : tf.slice(states, [0, 0, 0], [T, B, this.units]);
  }
}
