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
import type { SourceBatch } from '../data/text/batch.js';
import { GO, EOS, PAD } from '../data/text/vocabulary.js';
import { maxLengths, shouldRetire, tiledRows, type Decodable, type Hypothesis } from './decodable.js';
import { rowTop, type RowTop } from './rowTop.js';

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
  const K = options.beamSize ?? DEFAULT_BEAM_SIZE;
  const alpha = options.lengthPenalty ?? DEFAULT_LENGTH_PENALTY;
  const nBest = options.nBest ?? 1;
  const minLength = options.minLength ?? 0;
  if (!Number.isInteger(K) || K < 1) throw new RangeError(`beamSize must be a positive integer, got ${K}`);
  if (!Number.isInteger(nBest) || nBest < 1 || nBest > K)
    throw new RangeError(`nBest must be an integer in [1, beamSize=${K}], got ${nBest}`);
  const B = batch.size;
  const limits = maxLengths(options.maxLength, B);
  for (const m of limits) if (!(m >= 0)) throw new RangeError(`maxLength must be a non-negative integer, got ${m}`);
  const longest = Math.max(0, ...limits);
  // A negative α would shrink lp with length and void the bound of criterion (b).
  if (!(alpha >= 0)) throw new RangeError(`lengthPenalty must be ≥ 0, got ${alpha}`);

  const finished: Hypothesis[][] = Array.from({ length: B }, () => []);
  const done = new Uint8Array(B);
  let remaining = B;
  // The decoder batch holds S sentences, slot s being sentence slots[s] with rows s·K … s·K+K−1; done sentences
  // leave it (shouldRetire). Per row: the hypothesis' tokens and log-prob; an empty row (not yet used, finished,
  // or its sentence done) has −∞ and is skipped.
  let slots = Int32Array.from({ length: B }, (_, b) => b);
  let tokens: number[][] = Array.from({ length: B * K }, () => []);
  let logProb = new Float64Array(B * K).fill(-Infinity);
  for (let b = 0; b < B; b++) logProb[b * K] = 0; // only beam 0 is live at first, so no hypothesis appears twice
  let previous = new Int32Array(B * K).fill(GO);
  // Per row, the attention rows of its tokens so far, when asked for (one step's weights: A, `columns` a row).
  const keepAttention = options.attention === true;
  let attention: Float32Array[][] = keepAttention ? Array.from({ length: B * K }, () => []) : [];
  let A: Float32Array | undefined;
  let columns = 0;
  const withStep = (row: number): Float32Array[] | undefined =>
    A === undefined ? undefined : [...attention[row]!, A.subarray(row * columns, (row + 1) * columns)];
  const finalise = (b: number, ids: number[], lp: number, rows: Float32Array[] | undefined): void => {
    const score = lp / lengthNormaliser(ids.length + 1, alpha);
    finished[b]!.push({ ids, logProb: lp, score, ...(rows === undefined ? {} : { attention: rows }) });
  };

  const encoded = model.encode(batch);
  let memory: M;
  try {
    memory = model.selectMemory(encoded, tiledRows(B, K));
  } finally {
    model.disposeMemory(encoded);
  }
  let state: S | undefined;
  try {
    state = model.initialState(memory);
    for (let t = 0; t <= longest && remaining > 0; t++) {
      // Only live rows are scored: at the first step one row a sentence, later those whose hypothesis has not
      // finished (a finished one keeps its row empty); the output layer skips the others.
      const rowCount = slots.length * K;
      const live = liveRows(logProb);
      const {
        logProbs: logits,
        state: next,
        attention: weights,
        asScores,
      } = model.step(memory, state, previous, {
        scores: 'logits',
        attention: keepAttention,
        ...(live.length < rowCount ? { rows: live } : {}),
      });
      model.disposeState(state);
      state = next;
      let top: RowTop;
      try {
        top = rowTop(logits, K, t < minLength, asScores !== true);
        if (logits.shape[0] !== rowCount) top = spread(top, live, rowCount, K);
        A = weights?.dataSync() as Float32Array | undefined;
        columns = weights?.shape[1] ?? 0;
      } finally {
        logits.dispose();
        weights?.dispose();
      }

      const S = slots.length;
      const rows = S * K;
      const nextTokens: number[][] = Array.from({ length: rows }, () => []);
      const nextAttention: Float32Array[][] = A === undefined ? [] : Array.from({ length: rows }, () => []);
      const nextLogProb = new Float64Array(rows).fill(-Infinity);
      const nextPrevious = new Int32Array(rows).fill(PAD);
      // Row i of the next state continues row source[i]; empty rows point at any row of their own sentence.
      let source = new Int32Array(rows);
      for (let s = 0; s < S; s++) {
        const b = slots[s]!;
        const first = s * K;
        source.fill(first, first, first + K);
        if (done[b]) continue;
        if (t === limits[b]) {
          // Out of room: every live hypothesis of this sentence ends here, with EOS.
          for (let row = first; row < first + K; row++) {
            if (logProb[row] !== -Infinity)
              finalise(b, tokens[row]!, logProb[row]! + (top.eos[row]! - top.logNormaliser[row]!), withStep(row));
          }
          done[b] = 1;
          remaining--;
          continue;
        }
        // Finished hypotheses keep their slots: K − finished are left for this step's best continuations.
        const best = topContinuations(top, logProb, first, K, K - finished[b]!.length);
        let live = 0;
        for (const { score, row, token } of best) {
          if (token === EOS) {
            finalise(b, tokens[row]!, score, withStep(row));
          } else {
            const slot = first + live++;
            nextTokens[slot] = [...tokens[row]!, token];
            if (A !== undefined) nextAttention[slot] = withStep(row)!;
            nextLogProb[slot] = score;
            nextPrevious[slot] = token;
            source[slot] = row;
          }
        }
        if (
          live === 0 ||
          cannotImprove(
            finished[b]!,
            nextLogProb.subarray(first, first + K),
            nBest,
            lengthNormaliser(limits[b]! + 1, alpha),
          )
        ) {
          done[b] = 1;
          remaining--;
          nextLogProb.fill(-Infinity, first, first + K);
        }
      }
      tokens = nextTokens;
      if (A !== undefined) attention = nextAttention;
      logProb = nextLogProb;
      previous = nextPrevious;
      if (remaining === 0) break;
      if (shouldRetire(S - remaining, S)) {
        // Drop the done sentences' rows: the state gather below reorders and drops in one.
        const keptSlots = slots.filter((b) => !done[b]);
        const keep = new Int32Array(keptSlots.length * K);
        for (let s = 0, k = 0; s < S; s++) if (!done[slots[s]!]) for (let j = 0; j < K; j++) keep[k++] = s * K + j;
        const kept = model.selectMemory(memory, keep);
        model.disposeMemory(memory);
        memory = kept;
        slots = keptSlots;
        source = keep.map((row) => source[row]!);
        tokens = Array.from(keep, (row) => tokens[row]!);
        if (A !== undefined) attention = Array.from(keep, (row) => attention[row]!);
        logProb = Float64Array.from(keep, (row) => logProb[row]!);
        previous = keep.map((row) => previous[row]!);
      }
      const selected = model.selectState(state, source);
      model.disposeState(state);
      state = selected;
    }
  } finally {
    if (state !== undefined) model.disposeState(state);
    model.disposeMemory(memory);
  }
  return finished.map((list) => list.sort((a, b) => b.score - a.score).slice(0, nBest));
}

/** The rows that hold a live hypothesis (a finite log-prob). */
function liveRows(logProb: Float64Array): Int32Array {
  let n = 0;
  for (const lp of logProb) if (lp !== -Infinity) n++;
  const rows = new Int32Array(n);
  for (let i = 0, k = 0; i < logProb.length; i++) if (logProb[i] !== -Infinity) rows[k++] = i;
  return rows;
}

/** A RowTop of the `live` rows only, laid out over all `rowCount` rows (the others empty). */
function spread(top: RowTop, live: Int32Array, rowCount: number, K: number): RowTop {
  const out: RowTop = {
    values: new Float32Array(rowCount * K).fill(-Infinity),
    ids: new Int32Array(rowCount * K).fill(-1),
    logNormaliser: new Float32Array(rowCount).fill(Number.NaN),
    eos: new Float32Array(rowCount).fill(-Infinity),
  };
  live.forEach((row, i) => {
    out.values.set(top.values.subarray(i * K, (i + 1) * K), row * K);
    out.ids.set(top.ids.subarray(i * K, (i + 1) * K), row * K);
    out.logNormaliser[row] = top.logNormaliser[i]!;
    out.eos[row] = top.eos[i]!;
  });
  return out;
}

interface Continuation {
  /** Log-prob of the extended hypothesis. */
  score: number;
  row: number;
  token: number;
}

/**
 * The `count` best continuations of the live rows first … first+K−1, best first, from each row's K best tokens;
 * ties go to the lower row, then the lower token (tf.argMax's choice, so one beam matches greedy decoding).
 */
function topContinuations(top: RowTop, logProb: Float64Array, first: number, K: number, count: number): Continuation[] {
  const best: Continuation[] = [];
  if (count <= 0) return best;
  for (let row = first; row < first + K; row++) {
    const base = logProb[row]!;
    if (base === -Infinity) continue;
    const lse = top.logNormaliser[row]!;
    for (let j = row * K; j < (row + 1) * K; j++) {
      const score = base + (top.values[j]! - lse);
      // A row's tokens come best first: the first that does not enter ends the row. Strict comparisons keep the
      // earlier candidate on ties; −∞ (an impossible or absent token) and NaN never enter.
      if (best.length === count ? !(score > best[count - 1]!.score) : !(score > -Infinity)) break;
      let i = best.length === count ? count - 1 : best.length;
      while (i > 0 && best[i - 1]!.score < score) {
        best[i] = best[i - 1]!;
        i--;
      }
      best[i] = { score, row, token: top.ids[j]! };
    }
  }
  return best;
}

/** Criterion (b): the nBest-th best finished score beats every live hypothesis' best possible final score. */
function cannotImprove(
  finished: readonly Hypothesis[],
  liveLogProbs: Float64Array,
  nBest: number,
  longestNormaliser: number,
): boolean {
  if (finished.length < nBest) return false;
  const nth = finished.map((h) => h.score).sort((a, b) => b - a)[nBest - 1]!;
  let bestLive = -Infinity;
  for (const lp of liveLogProbs) bestLive = Math.max(bestLive, lp);
  return nth >= bestLive / longestNormaliser;
}
