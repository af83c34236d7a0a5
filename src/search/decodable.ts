// What search needs from a model: encode a source batch once, then advance a batch of hypotheses one token at a
// time. Greedy, beam search and sampling are written against this interface only, so they work for any
// encoder–decoder (and for hand-built models in tests).
import type * as tf from '@tensorflow/tfjs-core';
import type { SourceBatch } from '../data/batch.js';

export interface Decodable<Memory, State> {
  /** Encodes the sources, one memory row per sentence. Dispose with `disposeMemory`. */
  encode(batch: SourceBatch): Memory;
  /** Each sentence's memory repeated `times` times in a row (row b·times + j): one row per beam. */
  tileMemory(memory: Memory, times: number): Memory;
  /** The decoder state before the first step, one row per memory row. */
  initialState(memory: Memory): State;
  /**
   * One step for every row: `previous[i]` is row i's last token (GO at the start). Returns log-probabilities
   * [rows, vocab] (the caller disposes them) and the new state (the old one is left to the caller to dispose).
   */
  step(memory: Memory, state: State, previous: Int32Array): { logProbs: tf.Tensor2D; state: State };
  /** New row i takes old row `indices[i]` (beam search's reshuffle). Returns a new state. */
  selectState(state: State, indices: Int32Array): State;
  disposeState(state: State): void;
  disposeMemory(memory: Memory): void;
}
