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
// continuations are among its rows' K best each, and scores add up in float64 on the host. A hypothesis is a chain of
// tokens back to GO (Path), so that extending one copies nothing and siblings share their prefix: a step costs the
// same at token 4,000 as at token 4.
//
// The search runs as a BeamSession, which sentences may also join between steps (a server's continuous batching):
// each sentence counts its own steps from when it joined, for its length limits.
import type { SourceBatch } from '../data/text/batch.js';
import { GO, EOS, PAD } from '../data/text/vocabulary.js';
import { checkStop, joinRows, maxLengths, shouldRetire, tiledRows } from './decodable.js';
import type { Decodable, Hypothesis, Stoppable } from './decodable.js';
import { attentionStep, type AttentionStep, type KeepAttention } from './keptAttention.js';
import { extendPath, hypothesisOf, type Path } from './hypothesisPath.js';
import { rowTop, type RowTop } from './rowTop.js';
import { cannotImprove, liveRows, spread, topContinuations, MAX_BEAM_SIZE } from './beamRows.js';

export interface BeamOptions extends Stoppable {
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
  /** Keep each hypothesis' alignment (and weights), where the model attends (default: nothing kept). */
  attention?: KeepAttention;
}

export const DEFAULT_BEAM_SIZE = 5;
export const DEFAULT_LENGTH_PENALTY = 0.6;

/** GNMT's length normaliser lp(Y) = ((5 + |Y|)^α) / (6^α). */
export function lengthNormaliser(length: number, alpha: number): number {
  return alpha === 0 ? 1 : Math.pow((5 + length) / 6, alpha);
}

/** Returns, per sentence, up to nBest hypotheses, best score first. */
export function beamSearch<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: BeamOptions): Hypothesis[][] {
  const { attention, shouldStop, ...rest } = options;
  const session = new BeamSession(model, {
    ...rest,
    ...(attention ? { attention: { weights: attention.weights } } : {}),
  });
  try {
    const results: Hypothesis[][] = Array.from({ length: batch.size }, () => []);
    const first = session.add(batch, options.maxLength, attention?.columns);
    while (session.live > 0) {
      checkStop(shouldStop);
      for (const { id, hypotheses } of session.step()) results[id - first] = hypotheses;
    }
    return results;
  } finally {
    session.dispose();
  }
}

/**
 * What a beam session is set up with: BeamOptions, less the length limits and the attention's source columns, which
 * come with each batch added, and less shouldStop (the caller runs each step).
 */
export type BeamSessionOptions = Omit<BeamOptions, 'maxLength' | 'attention' | 'shouldStop'> & {
  attention?: Omit<KeepAttention, 'columns'>;
};

/** A sentence a session step has finished: its id (BeamSession.add) and up to nBest hypotheses, best first. */
export interface FinishedSentence {
  id: number;
  hypotheses: Hypothesis[];
}

interface Sentence {
  id: number;
  /** The memory step of each source token, when attention is kept (KeepAttention.columns). */
  columns: readonly number[] | undefined;
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
  /** Whether attention is kept, and whether with its weights. */
  private readonly keep: { weights: boolean } | undefined;
  // The decoder batch: slot s is sentence slots[s] with rows s·K … s·K+K−1. Per row: the hypothesis' path, log-prob
  // (an empty row, not yet used or finished or of a done sentence, has −∞ and is skipped) and last token.
  private slots: Sentence[] = [];
  private paths: (Path | null)[] = [];
  private logProb = new Float64Array(0);
  private previous = new Int32Array(0);
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
    if (!Number.isInteger(K) || K < 1 || K > MAX_BEAM_SIZE)
      throw new RangeError(`beamSize must be an integer from 1 to ${MAX_BEAM_SIZE}, got ${K}`);
    if (!Number.isInteger(nBest) || nBest < 1 || nBest > K)
      throw new RangeError(`nBest must be an integer in [1, beamSize=${K}], got ${nBest}`);
    // A negative α would shrink lp with length and void the bound of criterion (b).
    if (!(alpha >= 0)) throw new RangeError(`lengthPenalty must be ≥ 0, got ${alpha}`);
    this.K = K;
    this.alpha = alpha;
    this.nBest = nBest;
    this.minLength = options.minLength ?? 0;
    this.keep = options.attention === undefined ? undefined : { weights: options.attention.weights === true };
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
   * When the session keeps attention, `columns` gives each sentence's source columns (KeepAttention.columns).
   * Joining a running search needs the model's joinMemory and joinState.
   */
  add(batch: SourceBatch, maxLength: number | ArrayLike<number>, columns?: readonly (readonly number[])[]): number {
    const { model, K } = this;
    const B = batch.size;
    const limits = maxLengths(maxLength, B);
    const first = this.nextId;
    if (B === 0) return first;
    if (this.keep !== undefined && columns?.length !== B)
      throw new RangeError(`attention columns: ${columns?.length ?? 'none'} sentences for a batch of ${B}`);
    if (this.memory !== undefined && (model.joinMemory === undefined || model.joinState === undefined))
      throw new RangeError('this model cannot take sentences into a running search (no joinMemory/joinState)');
    if (this.state !== undefined && this.slots.length > this.remaining) {
      // The join below copies the memory and state anyway: done sentences go first, not to be copied.
      const selected = model.selectState(this.state, this.dropDone());
      model.disposeState(this.state);
      this.state = selected;
    }
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
    if (this.memory === undefined || this.state === undefined) [this.memory, this.state] = [memory, state];
    else ({ memory: this.memory, state: this.state } = joinRows(model, this.memory, this.state, memory, state));
    const rows = this.slots.length * K;
    const logProb = new Float64Array(rows + B * K).fill(-Infinity);
    logProb.set(this.logProb);
    const previous = new Int32Array(rows + B * K).fill(GO);
    previous.set(this.previous);
    for (let b = 0; b < B; b++) {
      this.slots.push({
        id: this.nextId++,
        columns: columns?.[b],
        limit: limits[b]!,
        start: this.steps,
        finished: [],
        done: false,
      });
      // Only beam 0 is live at first, so no hypothesis appears twice.
      logProb[rows + b * K] = 0;
      for (let j = 0; j < K; j++) this.paths.push(null);
    }
    this.logProb = logProb;
    this.previous = previous;
    this.remaining += B;
    return first;
  }

  /**
   * Drops a sentence no longer wanted (its request gone): it stops running (its rows leave the batch as finished ones
   * do) and no step returns it. An id unknown or finished is ignored.
   */
  drop(id: number): void {
    const s = this.slots.findIndex((x) => x.id === id);
    if (s < 0 || this.slots[s]!.done) return;
    this.slots[s]!.done = true;
    this.remaining--;
    this.logProb.fill(-Infinity, s * this.K, (s + 1) * this.K);
    if (this.remaining === 0) this.clear();
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
    const { keep } = this;
    const out = model.step(this.memory, this.state, this.previous, {
      scores: 'logits',
      attention: keep !== undefined,
      ...(live.length < rowCount ? { rows: live } : {}),
    });
    model.disposeState(this.state);
    this.state = out.state;
    let top: RowTop;
    let A: Float32Array | undefined;
    let memorySteps = 0;
    try {
      top = rowTop(out.logProbs, width, under > 0 && !mixed, out.asScores !== true);
      if (out.logProbs.shape[0] !== rowCount) top = spread(top, live, rowCount, width);
      A = out.attention?.dataSync() as Float32Array | undefined;
      memorySteps = out.attention?.shape[1] ?? 0;
    } finally {
      out.logProbs.dispose();
      out.attention?.dispose();
    }
    // What this step's attention keeps of row `row` (for the token it predicts, or the final EOS), when kept; once
    // a row, whose continuations share it.
    const keptRows: (AttentionStep | undefined)[] = [];
    const kept = (row: number): AttentionStep | undefined =>
      A === undefined
        ? undefined
        : (keptRows[row] ??= attentionStep(
            A,
            memorySteps,
            row,
            this.slots[Math.floor(row / K)]!.columns!,
            keep!.weights,
          ));
    const finalise = (sentence: Sentence, row: number, lp: number): void => {
      const h = hypothesisOf(this.paths[row] ?? null, kept(row), lp);
      h.score = lp / lengthNormaliser(h.ids.length + 1, alpha);
      sentence.finished.push(h);
    };

    const finishedNow: FinishedSentence[] = [];
    const end = (sentence: Sentence): void => {
      sentence.done = true;
      this.remaining--;
      const hypotheses = sentence.finished.sort((a, b) => b.score - a.score).slice(0, nBest);
      finishedNow.push({ id: sentence.id, hypotheses });
    };
    const nextPaths: (Path | null)[] = new Array<Path | null>(rowCount).fill(null);
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
          if (lp !== -Infinity) finalise(sentence, row, lp + (top.eos[row]! - top.logNormaliser[row]!));
        }
        end(sentence);
        continue;
      }
      // Finished hypotheses keep their slots: K − finished are left for this step's best continuations.
      const best = topContinuations(top, width, this.logProb, first, K, K - sentence.finished.length, t < minLength);
      let continued = 0;
      for (const { score, row, token } of best) {
        if (token === EOS) {
          finalise(sentence, row, score);
        } else {
          const slot = first + continued++;
          nextPaths[slot] = extendPath(this.paths[row] ?? null, token, kept(row));
          nextLogProb[slot] = score;
          nextPrevious[slot] = token;
          source[slot] = row;
        }
      }
      if (
        continued === 0 ||
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
    this.paths = nextPaths;
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
    this.paths = Array.from(keep, (row) => this.paths[row] ?? null);
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
    this.paths = [];
    this.logProb = new Float64Array(0);
    this.previous = new Int32Array(0);
  }
}
