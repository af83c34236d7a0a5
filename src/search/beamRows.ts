// The per-row arithmetic of a beam search step (beam.ts), apart from its bookkeeping: which rows to score, how a
// step's per-row best tokens become a sentence's best continuations, and when a sentence cannot improve.
import { EOS } from '../data/text/vocabulary.js';
import type { Hypothesis } from './decodable.js';
import type { RowTop } from './rowTop.js';

/**
 * The largest beam a search takes. Each step ranks K continuations of each of a sentence's K rows (K² numbers a
 * sentence, `spread` below) and runs the decoder on K rows a sentence: at K = 10⁵ that is 10¹⁰ numbers,
 * past any heap. Beams in use are 4 to 12 (OpenNMT-py and Marian default to 5, GNMT used 10); wider beams lower
 * BLEU (Koehn and Knowles 2017, "Six challenges for neural machine translation").
 */
export const MAX_BEAM_SIZE = 1024;

/** The rows that hold a live hypothesis (a finite log-prob). */
export function liveRows(logProb: Float64Array): Int32Array {
  let n = 0;
  for (const lp of logProb) if (lp !== -Infinity) n++;
  const rows = new Int32Array(n);
  for (let i = 0, k = 0; i < logProb.length; i++) if (logProb[i] !== -Infinity) rows[k++] = i;
  return rows;
}

/** A RowTop of the `live` rows only (`width` tokens each), laid out over all `rowCount` rows (the others empty). */
export function spread(top: RowTop, live: Int32Array, rowCount: number, width: number): RowTop {
  const out: RowTop = {
    values: new Float32Array(rowCount * width).fill(-Infinity),
    ids: new Int32Array(rowCount * width).fill(-1),
    logNormaliser: new Float32Array(rowCount).fill(Number.NaN),
    eos: new Float32Array(rowCount).fill(-Infinity),
  };
  live.forEach((row, i) => {
    out.values.set(top.values.subarray(i * width, (i + 1) * width), row * width);
    out.ids.set(top.ids.subarray(i * width, (i + 1) * width), row * width);
    out.logNormaliser[row] = top.logNormaliser[i]!;
    out.eos[row] = top.eos[i]!;
  });
  return out;
}

export interface Continuation {
  /** Log-prob of the extended hypothesis. */
  score: number;
  row: number;
  token: number;
}

/**
 * The `count` best continuations of the live rows first … first+K−1, best first, from each row's `width` best
 * tokens (K, or K + 1 when EOS may be among them and `noEos` bars it: then K are left);
 * ties go to the lower row, then the lower token (tf.argMax's choice, so one beam matches greedy decoding).
 */
export function topContinuations(
  top: RowTop,
  width: number,
  logProb: Float64Array,
  first: number,
  K: number,
  count: number,
  noEos: boolean,
): Continuation[] {
  const best: Continuation[] = [];
  if (count <= 0) return best;
  for (let row = first; row < first + K; row++) {
    const base = logProb[row]!;
    if (base === -Infinity) continue;
    const lse = top.logNormaliser[row]!;
    for (let j = row * width; j < (row + 1) * width; j++) {
      if (noEos && top.ids[j] === EOS) continue;
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
export function cannotImprove(
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
