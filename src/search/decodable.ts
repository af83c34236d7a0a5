// What search needs from a model: encode a source batch once, then advance a batch of hypotheses one token at a
// time. Greedy, beam search and sampling are written against this interface only, so they work for any
// encoder–decoder (and for hand-built models in tests).
import type * as tf from '@tensorflow/tfjs-core';
import { GO } from '../data/text/vocabulary.js';
import type { SourceBatch } from '../data/text/batch.js';
import { ToolkitError } from '../errors.js';

/**
 * What a step returns: log-probabilities (the default), or, when the caller only takes each row's largest
 * (greedy), the logits, whose row-wise order is the same and which skip a softmax over the vocabulary. A model may
 * answer 'logits' with log-probabilities.
 */
export type StepScores = 'logProbs' | 'logits';

/** What a step is asked for (Decodable.step). */
export interface StepOptions {
  /** 'logProbs' (default) or 'logits' (StepScores). */
  scores?: StepScores;
  /** Also return the step's attention weights, where the model attends (default false). */
  attention?: boolean;
  /**
   * Only these rows' scores are wanted (beam search's live hypotheses): `logProbs` may then hold one row per entry,
   * in this order, sparing the output layer the other rows. The state and the attention still cover every row. A
   * model may ignore it and score every row; callers tell by the row count.
   */
  rows?: Int32Array;
}

/** What a step returns (Decodable.step). */
export interface StepOutput<State> {
  logProbs: tf.Tensor2D;
  state: State;
  /**
   * True when `logProbs` are scores to take as they are, whatever `scores` asked for: an ensemble's average of its
   * members' log-probabilities, which search must not renormalise.
   */
  asScores?: boolean;
  /** [rows, memory length], when asked for and the model attends. */
  attention?: tf.Tensor2D;
}

export interface Decodable<Memory, State> {
  /** Encodes the sources, one memory row per sentence. Dispose with `disposeMemory`. */
  encode(batch: SourceBatch): Memory;
  /**
   * A new memory whose row i is row `rows[i]` of this one: beam search repeats each sentence's row once per beam
   * (`tiledRows`), and searches drop the rows of finished sentences. The old memory is left to the caller to dispose.
   */
  selectMemory(memory: Memory, rows: Int32Array): Memory;
  /** The decoder state before the first step, one row per memory row. */
  initialState(memory: Memory): State;
  /**
   * One step for every row: `previous[i]` is row i's last token (GO at the start). Returns log-probabilities
   * [rows, vocab] (the caller disposes them; logits when `options.scores` is 'logits'; only `options.rows`' when
   * given and the model honours it) and the new state (the old one is left to the caller to dispose). With
   * `options.attention`, a model that attends also returns the step's attention weights over the memory's
   * positions, [rows, memory length] (the caller disposes them); others return none.
   */
  step(memory: Memory, state: State, previous: Int32Array, options?: StepOptions): StepOutput<State>;
  /** New row i takes old row `indices[i]` (beam search's reshuffle). Returns a new state. */
  selectState(state: State, indices: Int32Array): State;
  /**
   * One memory holding `a`'s rows, then `b`'s (sentences joining a running search, BeamSession.add): the shorter
   * is padded at its end with masked steps, so each row's steps keep their positions. A model without it cannot
   * take sentences into a running search. The inputs are left to the caller to dispose.
   */
  joinMemory?(a: Memory, b: Memory): Memory;
  /** One state holding `a`'s rows, then `b`'s (as joinMemory). The inputs are left to the caller to dispose. */
  joinState?(a: State, b: State): State;
  disposeState(state: State): void;
  disposeMemory(memory: Memory): void;
}

/**
 * One memory and state holding rows `a` then rows `b` (joinMemory and joinState; a model without them throws). `b`'s
 * are disposed whatever happens, `a`'s once joined.
 */
export function joinRows<M, S>(
  model: Decodable<M, S>,
  aMemory: M,
  aState: S,
  bMemory: M,
  bState: S,
): { memory: M; state: S } {
  try {
    const memory = model.joinMemory!(aMemory, bMemory);
    let state: S;
    try {
      state = model.joinState!(aState, bState);
    } catch (e) {
      model.disposeMemory(memory);
      throw e;
    }
    model.disposeMemory(aMemory);
    model.disposeState(aState);
    return { memory, state };
  } finally {
    model.disposeMemory(bMemory);
    model.disposeState(bState);
  }
}

/** Row b·times + j is row b, for every j < times: each of B sentences repeated `times` times in a row. */
export function tiledRows(B: number, times: number): Int32Array {
  const rows = new Int32Array(B * times);
  for (let i = 0; i < rows.length; i++) rows[i] = Math.floor(i / times);
  return rows;
}

/**
 * Whether a decoder batch of `size` rows (or sentences), `finished` of them done, should drop them before its next
 * step. A finished row costs a full row of every product until it goes, and dropping rows costs one gather of the
 * memory and the state: so rows go once a quarter of the batch is finished (and at once in a batch of up to four).
 * Rows are independent, so which step drops them changes no result.
 */
export function shouldRetire(finished: number, size: number): boolean {
  return finished > 0 && 4 * finished >= size;
}

/**
 * Thrown by a search whose `shouldStop` said yes before a step (a server's request past its deadline): the search
 * ends there, its memory and states freed, and returns nothing.
 */
export class SearchStoppedError extends ToolkitError {
  override name = 'SearchStoppedError';
  constructor() {
    super('the search was stopped before it finished');
  }
}

/** What every search may be given to end it early: asked before each decoder step, true stops it (SearchStoppedError). */
export interface Stoppable {
  shouldStop?: () => boolean;
}

/** Throws SearchStoppedError when `shouldStop` says so. */
export function checkStop(shouldStop: Stoppable['shouldStop']): void {
  if (shouldStop?.() === true) throw new SearchStoppedError();
}

/** What `pick` says about each row of the step it was given: the token fed back, and whether the row goes on. */
export interface Picked {
  ids: Int32Array;
  live: Uint8Array;
}

/**
 * The one-hypothesis-per-sentence decoding loop (greedy, sampling): encodes the batch, then steps the decoder from
 * GO for at most `steps` steps, feeding back the tokens `pick` chooses from each step's log-probs (as
 * `options.scores` asks; with `options.attention`, also its attention weights where the model gives them; `pick`
 * must dispose neither). Row r of a step is sentence `sentences[r]`: finished sentences leave the decoder batch
 * (`shouldRetire`), so later steps have fewer rows, in sentence order. The loop ends when no row goes on, or with
 * SearchStoppedError when `options.shouldStop` says so before a step. Memory and states are freed however it ends.
 */
export function decodeStepwise<M, S>(
  model: Decodable<M, S>,
  batch: SourceBatch,
  steps: number,
  pick: (
    logProbs: tf.Tensor2D,
    t: number,
    sentences: Int32Array,
    attention?: tf.Tensor2D,
    asScores?: boolean,
  ) => Picked,
  options: Pick<StepOptions, 'scores' | 'attention'> & Stoppable = {},
): void {
  const { shouldStop, ...stepOptions } = options;
  let memory = model.encode(batch);
  let state: S | undefined;
  try {
    state = model.initialState(memory);
    let sentences = Int32Array.from({ length: batch.size }, (_, b) => b);
    let previous: Int32Array = new Int32Array(batch.size).fill(GO);
    for (let t = 0; t < steps && sentences.length > 0; t++) {
      checkStop(shouldStop);
      const out = model.step(memory, state, previous, stepOptions);
      const { logProbs, state: next, attention: weights } = out;
      model.disposeState(state);
      state = next;
      let picked: Picked;
      try {
        picked = pick(logProbs, t, sentences, weights, out.asScores);
      } finally {
        logProbs.dispose();
        weights?.dispose();
      }
      previous = picked.ids;
      let live = 0;
      for (const l of picked.live) live += l;
      if (live === 0) break;
      if (!shouldRetire(sentences.length - live, sentences.length)) continue;
      const keep = new Int32Array(live);
      for (let r = 0, k = 0; r < sentences.length; r++) if (picked.live[r]) keep[k++] = r;
      const kept = model.selectMemory(memory, keep);
      model.disposeMemory(memory);
      memory = kept;
      const selected = model.selectState(state, keep);
      model.disposeState(state);
      state = selected;
      sentences = keep.map((r) => sentences[r]!);
      previous = keep.map((r) => previous[r]!);
    }
  } finally {
    if (state !== undefined) model.disposeState(state);
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
  /**
   * When the search was asked to keep attention (KeepAttention) and the model attends: per output token and then the
   * final EOS, the source token (an index into the sentence's columns) it was predicted attending to most.
   */
  alignment?: number[];
  /**
   * With KeepAttention.weights: per output token and then the final EOS, the attention weights it was predicted
   * with, over the sentence's source tokens in token order.
   */
  attention?: Float32Array[];
}

/** The most output tokens a search may be asked for, per sentence (what an Int32Array holds). */
export const MAX_OUTPUT_LENGTH = 2 ** 31 - 1;

/**
 * The per-sentence limits as an array, each checked: a whole number of tokens from 0 to MAX_OUTPUT_LENGTH, one per
 * sentence (an Int32Array would turn NaN and ∞ into 0, an empty output, and wrap larger numbers).
 */
export function maxLengths(maxLength: number | ArrayLike<number>, size: number): Int32Array {
  const limits = typeof maxLength === 'number' ? [maxLength] : Array.from(maxLength);
  if (typeof maxLength !== 'number' && limits.length !== size)
    throw new RangeError(`maxLength: ${limits.length} limits for a batch of ${size} sentences`);
  for (const m of limits)
    if (!Number.isInteger(m) || m < 0 || m > MAX_OUTPUT_LENGTH)
      throw new RangeError(`maxLength must be a whole number of tokens from 0 to ${MAX_OUTPUT_LENGTH}, got ${m}`);
  return typeof maxLength === 'number' ? new Int32Array(size).fill(maxLength) : Int32Array.from(limits);
}
