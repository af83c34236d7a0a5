// Ensemble decoding: several models of the same vocabularies decode as one, each step's scores the average of the
// members' log-probabilities (Marian's and OpenNMT-py's ensembles; here equal weights). Greedy, beam search and
// sampling run on it unchanged, since it is a Decodable like any single model.
import * as tf from '@tensorflow/tfjs-core';
import type { SourceBatch } from '../data/text/batch.js';
import type { Decodable, StepOptions, StepOutput } from './decodable.js';

export class Ensemble<M, S> implements Decodable<M[], S[]> {
  constructor(readonly members: readonly Decodable<M, S>[]) {
    if (members.length === 0) throw new RangeError('an ensemble needs at least one model');
  }

  encode(batch: SourceBatch): M[] {
    return this.each(
      (m) => m.encode(batch),
      (m, x) => m.disposeMemory(x),
    );
  }

  selectMemory(memory: M[], rows: Int32Array): M[] {
    return this.each(
      (m, i) => m.selectMemory(memory[i]!, rows),
      (m, x) => m.disposeMemory(x),
    );
  }

  initialState(memory: M[]): S[] {
    return this.each(
      (m, i) => m.initialState(memory[i]!),
      (m, x) => m.disposeState(x),
    );
  }

  /**
   * Averaged log-probabilities, the scores as they are (never logits: members' logits are on different scales; and
   * not renormalised, as in Marian and OpenNMT-py); with `attention`, the members' averaged attention weights when
   * every member gives them (members read one batch: the same positions).
   */
  step(memory: M[], state: S[], previous: Int32Array, options: StepOptions = {}): StepOutput<S[]> {
    const { attention = false, rows } = options;
    const outs = this.each(
      (m, i) => m.step(memory[i]!, state[i]!, previous, { scores: 'logProbs', attention, ...(rows ? { rows } : {}) }),
      (m, o) => {
        o.logProbs.dispose();
        o.attention?.dispose();
        m.disposeState(o.state);
      },
    );
    // Members that scored every row despite `rows` are cut down to them, so that all average the same rows.
    const logProbs = tf.tidy(() => {
      const each = outs.map((o) =>
        rows !== undefined && o.logProbs.shape[0] !== rows.length
          ? tf.gather(o.logProbs, tf.tensor1d(rows, 'int32'))
          : o.logProbs,
      );
      return tf.div<tf.Tensor2D>(tf.addN(each), outs.length);
    });
    const weights = outs.map((o) => o.attention).filter((w) => w !== undefined);
    const averaged =
      weights.length === outs.length && outs.length > 0
        ? tf.tidy(() => tf.div<tf.Tensor2D>(tf.addN(weights), weights.length))
        : undefined;
    for (const o of outs) {
      o.logProbs.dispose();
      o.attention?.dispose();
    }
    return {
      logProbs,
      state: outs.map((o) => o.state),
      asScores: true,
      ...(averaged === undefined ? {} : { attention: averaged }),
    };
  }

  /** Joins every member's memories; throws when a member cannot (Decodable.joinMemory). */
  joinMemory(a: M[], b: M[]): M[] {
    return this.each(
      (m, i) => {
        if (m.joinMemory === undefined) throw new RangeError(`ensemble member ${i + 1} cannot join memories`);
        return m.joinMemory(a[i]!, b[i]!);
      },
      (m, x) => m.disposeMemory(x),
    );
  }

  joinState(a: S[], b: S[]): S[] {
    return this.each(
      (m, i) => {
        if (m.joinState === undefined) throw new RangeError(`ensemble member ${i + 1} cannot join states`);
        return m.joinState(a[i]!, b[i]!);
      },
      (m, x) => m.disposeState(x),
    );
  }

  selectState(state: S[], indices: Int32Array): S[] {
    return this.each(
      (m, i) => m.selectState(state[i]!, indices),
      (m, x) => m.disposeState(x),
    );
  }

  disposeState(state: S[]): void {
    this.members.forEach((m, i) => m.disposeState(state[i]!));
  }

  disposeMemory(memory: M[]): void {
    this.members.forEach((m, i) => m.disposeMemory(memory[i]!));
  }

  /** Runs `f` for every member; if one throws, what the others made is freed before the error goes on. */
  private each<X>(f: (m: Decodable<M, S>, i: number) => X, free: (m: Decodable<M, S>, x: X) => void): X[] {
    const made: X[] = [];
    try {
      this.members.forEach((m, i) => made.push(f(m, i)));
    } catch (e) {
      made.forEach((x, i) => free(this.members[i]!, x));
      throw e;
    }
    return made;
  }
}
