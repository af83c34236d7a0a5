// What search needs from a model: encode a source batch once, then advance a batch of hypotheses one token at a
// time. Greedy, beam search and sampling are written against this interface only, so they work for any
// encoder–decoder (and for hand-built models in tests).
import type * as tf from '@tensorflow/tfjs-core';
import { GO } from '../data/text/vocabulary.js';
import type { SourceBatch } from '../data/text/batch.js';

/**
 * What a step returns: log-probabilities (the default), or, when the caller only takes each row's largest
 * (greedy), the logits, whose row-wise order is the same and which skip a softmax over the vocabulary. A model may
 * answer 'logits' with log-probabilities.
 */
export type StepScores = 'logProbs' | 'logits';

export interface Decodable<Memory, State> {
  /** Encodes the sources, one memory row per sentence. Dispose with `disposeMemory`. */
  encode(batch: SourceBatch): Memory;
  /** Each sentence's memory repeated `times` times in a row (row b·times + j): one row per beam. */
  tileMemory(memory: Memory, times: number): Memory;
  /** The decoder state before the first step, one row per memory row. */
  initialState(memory: Memory): State;
  /**
   * One step for every row: `previous[i]` is row i's last token (GO at the start). Returns log-probabilities
   * [rows, vocab] (the caller disposes them; logits when `scores` is 'logits') and the new state (the old one is
   * left to the caller to dispose).
   */
  step(
    memory: Memory,
    state: State,
    previous: Int32Array,
    scores?: StepScores,
  ): { logProbs: tf.Tensor2D; state: State };
  /** New row i takes old row `indices[i]` (beam search's reshuffle). Returns a new state. */
  selectState(state: State, indices: Int32Array): State;
  disposeState(state: State): void;
  disposeMemory(memory: Memory): void;
}

/**
 * The one-hypothesis-per-sentence decoding loop (greedy, sampling): encodes the batch, then steps the decoder from
 * GO for at most `steps` steps, feeding back the tokens `pick` chooses from each step's log-probs (which it must not
 * dispose), until `pick` says no sentence is left. Memory and states are freed however it ends.
 */
export function decodeStepwise<M, S>(
  model: Decodable<M, S>,
  batch: SourceBatch,
  steps: number,
  pick: (logProbs: tf.Tensor2D, t: number) => { ids: Int32Array; remaining: number },
  scores: StepScores = 'logProbs',
): void {
  const memory = model.encode(batch);
  let state = model.initialState(memory);
  let previous: Int32Array = new Int32Array(batch.size).fill(GO);
  try {
    for (let t = 0, remaining = batch.size; t < steps && remaining > 0; t++) {
      const { logProbs, state: next } = model.step(memory, state, previous, scores);
      model.disposeState(state);
      state = next;
      try {
        ({ ids: previous, remaining } = pick(logProbs, t));
      } finally {
        logProbs.dispose();
      }
    }
  } finally {
    model.disposeState(state);
    model.disposeMemory(memory);
  }
}

/** One output of a search. */
export interface Hypothesis {
  /** Output ids, without GO and EOS. */
  ids: number[];
  /** The score hypotheses are ranked by: logProb / lp(ids.length + 1). */
  score: number;
  /** Sum of the model's log-probabilities of the ids and the final EOS. */
  logProb: number;
}

/** The per-sentence limits as an array. */
export function maxLengths(maxLength: number | ArrayLike<number>, size: number): Int32Array {
  return typeof maxLength === 'number' ? new Int32Array(size).fill(maxLength) : Int32Array.from(maxLength);
}
