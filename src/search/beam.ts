// Beam search, batched: each sentence keeps K hypotheses, rows b·K … b·K+K−1 of one decoder batch, and every step
// extends them by the best of their K·V one-token continuations.
//
// A hypothesis that emits EOS leaves the beam for its sentence's finished list and its row stays empty from then
// on (the beam shrinks, as in Nematus): K=1 therefore follows exactly the greedy path, whatever the length penalty.
// A sentence is done when
//   (a) all K hypotheses have finished, or
//   (b) nBest have finished and the nBest-th best finished score is at least an upper bound on the final score of
//       any live hypothesis. Log-probs only fall as a hypothesis grows, and the GNMT penalty grows with length, so
//       logProb / lp(maxLength + 1) bounds the final score of a live hypothesis (logProb itself when α = 0).
//       Stopping here never changes the n-best list, it only skips steps that could not improve it.
// A done sentence's rows leave the decoder batch once a quarter of its sentences are done (shouldRetire), so a long
// sentence does not keep its finished batch-mates computing. The search stops when every sentence is done. At
// maxLength every live hypothesis is ended with a forced EOS, so every returned logProb includes one EOS and the
// scores compare like with like.
//
// Each step reads back only each row's K best tokens, its logsumexp and its EOS logit (rowTop): a sentence's K best
// continuations are among its rows' K best each, and scores add up in float64 on the host.
//
// The search runs as a BeamSession, which sentences may also join between steps (a server's continuous batching):
// each sentence counts its own steps from when it joined, for its length limits.
import type { SourceBatch } from '../data/text/batch.js';
import { GO, EOS, PAD } from '../data/text/vocabulary.js';
import { maxLengths, shouldRetire, tiledRows, type Decodable, type Hypothesis } from './decodable.js';
import { rowTop, type RowTop } from './rowTop.js';
import { cannotImprove, liveRows, spread, topContinuations } from './beamRows.js';

export interface BeamOptions {
  /** Hypotheses kept per sentence, K (default 5). */
  beamSize?: number;
  /** Limit on output tokens (EOS excluded), one for all sentences or one per sentence; a hypothesis this long is ended with EOS. */
  maxLength: number | ArrayLike<number>;
  /**
   * GNMT length penalty α ≥ 0 (default 0.6, tensor2tensor's and Marian's default): hypotheses are ranked by
   * logProb / lp with lp = ((5 + |Y|) / 6)^α and |Y| the output length counting EOS. α = 0 ranks by the raw sum.
   */
  lengthPenalty?: number;
  /** Hypotheses returned per sentence, at most beamSize (default 1). */
  nBest?: number;
  /** Output tokens before EOS may end a hypothesis (default 0). */
  minLength?: number;
  /** Keep each hypothesis' attention weights (Hypothesis.attention), where the model gives them (default false). */
  attention?: boolean;
}

export const DEFAULT_BEAM_SIZE = 5;
export const DEFAULT_LENGTH_PENALTY = 0.6;

/** GNMT's length normaliser lp(Y) = ((5 + |Y|)^α) / (6^α). */
export function lengthNormaliser(length: number, alpha: number): number {
  return alpha === 0 ? 1 : Math.pow((5 + length) / 6, alpha);
}

/** Returns, per sentence, up to nBest hypotheses, best score first. */
export function beamSearch<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: BeamOptions): Hypothesis[][] {
  const session = new BeamSession(model, options);
  try {
    const results: Hypothesis[][] = Array.from({ length: batch.size }, () => []);
    const first = session.add(batch, options.maxLength);
    while (session.live > 0) for (const { id, hypotheses } of session.step()) results[id - first] = hypotheses;
    return results;
  } finally {
    session.dispose();
  }
}

/** What a beam session is set up with: BeamOptions, less the length limits, which come with each batch added. */
export type BeamSessionOptions = Omit<BeamOptions, 'maxLength'>;

/** A sentence a session step has finished: its id (BeamSession.add) and up to nBest hypotheses, best first. */
export interface FinishedSentence {
  id: number;
  hypotheses: Hypothesis[];
}

interface Sentence {
  id: number;
  /** Output tokens at most. */
  limit: number;
  /** The session step at which it joined: its own step is the session's minus this. */
  start: number;
  finished: Hypothesis[];
  done: boolean;
}

/**
 * Beam search as a running batch that sentences join and leave (continuous batching, as Orca's iteration-level
 * scheduling): `add` encodes a source batch and joins its sentences to the decoder batch between two steps, `step`
 * advances every sentence by one token and returns those it finished. A sentence's hypotheses do not depend on
 * when it joined or on its batch-mates (to float rounding: a longer batch-mate pads its memory with masked steps).
 * `beamSearch` is one batch added and stepped to the end. Dispose the session to free what it holds.
 */
export class BeamSession<M, S> {
  private readonly K: number;
  private readonly alpha: number;
  private readonly nBest: number;
  private readonly minLength: number;
  private readonly keepAttention: boolean;
  // The decoder batch: slot s is sentence slots[s] with rows s·K … s·K+K−1. Per row: the hypothesis' tokens,
  // log-prob (an empty row, not yet used or finished or of a done sentence, has −∞ and is skipped), last token, and
  // the attention rows of its tokens when asked for.
  private slots: Sentence[] = [];
  private tokens: number[][] = [];
  private logProb = new Float64Array(0);
  private previous = new Int32Array(0);
  private attention: Float32Array[][] = [];
  private memory: M | undefined;
  private state: S | undefined;
  private steps = 0;
  private nextId = 0;
  private remaining = 0;

  constructor(
    private readonly model: Decodable<M, S>,
    options: BeamSessionOptions = {},
  ) {
    const K = options.beamSize ?? DEFAULT_BEAM_SIZE;
    const alpha = options.lengthPenalty ?? DEFAULT_LENGTH_PENALTY;
    const nBest = options.nBest ?? 1;
    if (!Number.isInteger(K) || K < 1) throw new RangeError(`beamSize must be a positive integer, got ${K}`);
    if (!Number.isInteger(nBest) || nBest < 1 || nBest > K)
      throw new RangeError(`nBest must be an integer in [1, beamSize=${K}], got ${nBest}`);
    // A negative α would shrink lp with length and void the bound of criterion (b).
    if (!(alpha >= 0)) throw new RangeError(`lengthPenalty must be ≥ 0, got ${alpha}`);
    this.K = K;
    this.alpha = alpha;
    this.nBest = nBest;
    this.minLength = options.minLength ?? 0;
    this.keepAttention = options.attention === true;
  }

  /** Sentences not yet finished. */
  get live(): number {
    return this.remaining;
  }

  /** Sentences in the decoder batch, finished ones not yet dropped included: what a step costs. */
  get size(): number {
    return this.slots.length;
  }

  /**
   * Encodes the batch and joins its sentences to the search, before the next step; returns the id of its first
   * sentence (sentence b's is that + b). `maxLength` limits output tokens (EOS excluded), for all or per sentence.
   * Joining a running search needs the model's joinMemory and joinState.
   */
  add(batch: SourceBatch, maxLength: number | ArrayLike<number>): number {
    const { model, K } = this;
    const B = batch.size;
    const limits = maxLengths(maxLength, B);
    for (const m of limits) if (!(m >= 0)) throw new RangeError(`maxLength must be a non-negative integer, got ${m}`);
    const first = this.nextId;
    if (B === 0) return first;
    if (this.memory !== undefined && (model.joinMemory === undefined || model.joinState === undefined))
      throw new RangeError('this model cannot take sentences into a running search (no joinMemory/joinState)');
    const encoded = model.encode(batch);
    let memory: M;
    try {
      memory = model.selectMemory(encoded, tiledRows(B, K));
    } finally {
      model.disposeMemory(encoded);
    }
    let state: S;
    try {
      state = model.initialState(memory);
    } catch (e) {
      model.disposeMemory(memory);
      throw e;
    }
    if (this.memory === undefined || this.state === undefined) {
      this.memory = memory;
      this.state = state;
    } else {
      try {
        // The join copies the memory and state anyway: done sentences go first, not to be copied.
        if (this.slots.length > this.remaining) {
          const selected = model.selectState(this.state, this.dropDone());
          model.disposeState(this.state);
          this.state = selected;
        }
        const joined = model.joinMemory!(this.memory, memory);
        let joinedState: S;
        try {
          joinedState = model.joinState!(this.state, state);
        } catch (e) {
          model.disposeMemory(joined);
          throw e;
        }
        model.disposeMemory(this.memory);
        model.disposeState(this.state);
        this.memory = joined;
        this.state = joinedState;
      } finally {
        model.disposeMemory(memory);
        model.disposeState(state);
      }
    }
    const rows = this.slots.length * K;
    const logProb = new Float64Array(rows + B * K).fill(-Infinity);
    logProb.set(this.logProb);
    const previous = new Int32Array(rows + B * K).fill(GO);
    previous.set(this.previous);
    for (let b = 0; b < B; b++) {
      this.slots.push({ id: this.nextId++, limit: limits[b]!, start: this.steps, finished: [], done: false });
      // Only beam 0 is live at first, so no hypothesis appears twice.
      logProb[rows + b * K] = 0;
      for (let j = 0; j < K; j++) {
        this.tokens.push([]);
        if (this.keepAttention) this.attention.push([]);
      }
    }
    this.logProb = logProb;
    this.previous = previous;
    this.remaining += B;
    return first;
  }

  /** One step for every sentence in the batch; returns the sentences it finished (none when nothing is live). */
  step(): FinishedSentence[] {
    if (this.remaining === 0 || this.memory === undefined || this.state === undefined) return [];
    const { model, K, alpha, nBest, minLength } = this;
    const S = this.slots.length;
    const rowCount = S * K;
    // EOS may not end a hypothesis shorter than minLength. Sentences that joined at other steps may be on both
    // sides of it: then each row's K + 1 best are read, and under-length rows skip EOS among them.
    let under = 0;
    for (const s of this.slots) if (!s.done && this.steps - s.start < minLength) under++;
    const mixed = under > 0 && under < this.remaining;
    const width = mixed ? K + 1 : K;
    // Only live rows are scored: at a sentence's first step one row, later those whose hypothesis has not finished
    // (a finished one keeps its row empty); the output layer skips the others.
    const live = liveRows(this.logProb);
    const out = model.step(this.memory, this.state, this.previous, {
      scores: 'logits',
      attention: this.keepAttention,
      ...(live.length < rowCount ? { rows: live } : {}),
    });
    model.disposeState(this.state);
    this.state = out.state;
    let top: RowTop;
    let A: Float32Array | undefined;
    let columns = 0;
    try {
      top = rowTop(out.logProbs, width, under > 0 && !mixed, out.asScores !== true);
      if (out.logProbs.shape[0] !== rowCount) top = spread(top, live, rowCount, width);
      A = out.attention?.dataSync() as Float32Array | undefined;
      columns = out.attention?.shape[1] ?? 0;
    } finally {
      out.logProbs.dispose();
      out.attention?.dispose();
    }
    const withStep = (row: number): Float32Array[] | undefined =>
      A === undefined ? undefined : [...this.attention[row]!, A.subarray(row * columns, (row + 1) * columns)];
    const finalise = (sentence: Sentence, ids: number[], lp: number, rows: Float32Array[] | undefined): void => {
      const score = lp / lengthNormaliser(ids.length + 1, alpha);
      sentence.finished.push({ ids, logProb: lp, score, ...(rows === undefined ? {} : { attention: rows }) });
    };

    const finishedNow: FinishedSentence[] = [];
    const end = (sentence: Sentence): void => {
      sentence.done = true;
      this.remaining--;
      const hypotheses = sentence.finished.sort((a, b) => b.score - a.score).slice(0, nBest);
      finishedNow.push({ id: sentence.id, hypotheses });
    };
    const nextTokens: number[][] = Array.from({ length: rowCount }, () => []);
    const nextAttention: Float32Array[][] = A === undefined ? [] : Array.from({ length: rowCount }, () => []);
    const nextLogProb = new Float64Array(rowCount).fill(-Infinity);
    const nextPrevious = new Int32Array(rowCount).fill(PAD);
    // Row i of the next state continues row source[i]; empty rows point at any row of their own sentence.
    let source = new Int32Array(rowCount);
    for (let s = 0; s < S; s++) {
      const sentence = this.slots[s]!;
      const first = s * K;
      source.fill(first, first, first + K);
      if (sentence.done) continue;
      const t = this.steps - sentence.start;
      if (t >= sentence.limit) {
        // Out of room: every live hypothesis of this sentence ends here, with EOS.
        for (let row = first; row < first + K; row++) {
          const lp = this.logProb[row]!;
          if (lp !== -Infinity)
            finalise(sentence, this.tokens[row]!, lp + (top.eos[row]! - top.logNormaliser[row]!), withStep(row));
        }
        end(sentence);
        continue;
      }
      // Finished hypotheses keep their slots: K − finished are left for this step's best continuations.
      const best = topContinuations(top, width, this.logProb, first, K, K - sentence.finished.length, t < minLength);
      let kept = 0;
      for (const { score, row, token } of best) {
        if (token === EOS) {
          finalise(sentence, this.tokens[row]!, score, withStep(row));
        } else {
          const slot = first + kept++;
          nextTokens[slot] = [...this.tokens[row]!, token];
          if (A !== undefined) nextAttention[slot] = withStep(row)!;
          nextLogProb[slot] = score;
          nextPrevious[slot] = token;
          source[slot] = row;
        }
      }
      if (
        kept === 0 ||
        cannotImprove(
          sentence.finished,
          nextLogProb.subarray(first, first + K),
          nBest,
          lengthNormaliser(sentence.limit + 1, alpha),
        )
      ) {
        end(sentence);
        nextLogProb.fill(-Infinity, first, first + K);
      }
    }
    this.steps++;
    this.tokens = nextTokens;
    if (A !== undefined) this.attention = nextAttention;
    this.logProb = nextLogProb;
    this.previous = nextPrevious;
    if (this.remaining === 0) {
      this.clear();
      return finishedNow;
    }
    // Drop the done sentences' rows: the state gather below reorders and drops in one.
    if (shouldRetire(S - this.remaining, S)) source = this.dropDone().map((row) => source[row]!);
    const selected = model.selectState(this.state, source);
    model.disposeState(this.state);
    this.state = selected;
    return finishedNow;
  }

  /**
   * Drops the done sentences from the batch: their memory rows and per-row arrays go. Returns the rows kept, for the
   * caller to gather the state with.
   */
  private dropDone(): Int32Array {
    const { model, K } = this;
    const keep = new Int32Array(this.remaining * K);
    for (let s = 0, k = 0; s < this.slots.length; s++)
      if (!this.slots[s]!.done) for (let j = 0; j < K; j++) keep[k++] = s * K + j;
    const kept = model.selectMemory(this.memory!, keep);
    model.disposeMemory(this.memory!);
    this.memory = kept;
    this.slots = this.slots.filter((s) => !s.done);
    this.tokens = Array.from(keep, (row) => this.tokens[row]!);
    if (this.keepAttention) this.attention = Array.from(keep, (row) => this.attention[row] ?? []);
    this.logProb = Float64Array.from(keep, (row) => this.logProb[row]!);
    this.previous = keep.map((row) => this.previous[row]!);
    return keep;
  }

  /** Frees the memory and state; the session is empty afterwards (and may take new sentences). */
  dispose(): void {
    this.clear();
    this.remaining = 0;
  }

  private clear(): void {
    if (this.state !== undefined) this.model.disposeState(this.state);
    if (this.memory !== undefined) this.model.disposeMemory(this.memory);
    this.state = undefined;
    this.memory = undefined;
    this.slots = [];
    this.tokens = [];
    this.attention = [];
    this.logProb = new Float64Array(0);
    this.previous = new Int32Array(0);
  }
}
