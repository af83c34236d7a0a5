// Log-uniform (Zipfian) candidate sampling for sampled softmax, as TensorFlow's log_uniform_candidate_sampler.
//
// Over a vocabulary of size V ordered by falling frequency, id k is drawn with P(k) = (log(k+2) − log(k+1)) / log(V+1):
// a draw is ⌊exp(u·log(V+1))⌋ − 1 for u uniform in [0, 1). The toolkit's reserved ids 0..3 (PAD, GO, EOS, UNK) are
// sampled like any other id with the same formula: the vocabularies put them first and the frequent tokens next, and
// a full softmax normalises over them too, so including them keeps sampled training aimed at the same distribution
// (PAD and GO are never targets; sampling them only pushes their logits down, as the full softmax does).
import type { Rng } from '../random.js';

export interface CandidateSamplerOptions {
  /** Vocabulary size V: ids are 0..V−1 in order of falling frequency. */
  vocabSize: number;
  /** Candidates to return. */
  numSampled: number;
  /** true: numSampled distinct ids, drawn without replacement (TensorFlow's default); false: independent draws. */
  unique: boolean;
}

export interface Candidates {
  /** numSampled candidate ids, in the order drawn; shared by every row of a batch. */
  sampled: Int32Array;
  /** Expected number of times each sampled id occurs among the draws: Q in the log-Q correction. */
  sampledExpectedCount: Float64Array;
  /** Expected number of times each true label occurs among the draws. */
  trueExpectedCount: Float64Array;
  /** Draws it took: numSampled with replacement, at least numSampled without. */
  numTries: number;
}

/** P(k) of the log-uniform distribution over ids 0..vocabSize−1. */
export function logUniformProbability(id: number, vocabSize: number): number {
  return (Math.log(id + 2) - Math.log(id + 1)) / Math.log(vocabSize + 1);
}

/**
 * Expected count of an id with probability p among the draws, as TensorFlow's RangeSampler computes it: p·numSampled
 * when every draw was kept (always so with replacement), else the probability that the id was drawn at least once in
 * numTries draws, 1 − (1 − p)^numTries, written −expm1(numTries·log1p(−p)) so that it is exact for tiny p.
 */
export function expectedCount(p: number, numSampled: number, numTries: number): number {
  if (numTries === numSampled) return p * numSampled;
  return -Math.expm1(numTries * Math.log1p(-p));
}

/** Draws candidates for one batch whose true labels are trueIds, and the expected counts of both. */
export function logUniformCandidates(trueIds: Int32Array, options: CandidateSamplerOptions, rng: Rng): Candidates {
  const { vocabSize: V, numSampled, unique } = options;
  if (!(Number.isInteger(V) && V > 0)) throw new RangeError(`vocabSize must be a positive integer, got ${V}`);
  if (!(Number.isInteger(numSampled) && numSampled > 0))
    throw new RangeError(`numSampled must be a positive integer, got ${numSampled}`);
  if (unique && numSampled > V)
    throw new RangeError(`cannot draw ${numSampled} distinct candidates from a vocabulary of ${V}`);
  const logRange = Math.log(V + 1);
  // exp may round up to V+1 for u just below 1: clamp to the last id.
  const draw = (): number => Math.min(Math.floor(Math.exp(rng.next() * logRange)) - 1, V - 1);
  const sampled = new Int32Array(numSampled);
  let numTries = 0;
  if (unique) {
    const seen = new Set<number>();
    while (seen.size < numSampled) {
      const k = draw();
      numTries++;
      if (seen.has(k)) continue;
      sampled[seen.size] = k;
      seen.add(k);
    }
  } else {
    for (let i = 0; i < numSampled; i++) sampled[i] = draw();
    numTries = numSampled;
  }
  const count = (k: number): number => expectedCount(logUniformProbability(k, V), numSampled, numTries);
  return {
    sampled,
    sampledExpectedCount: Float64Array.from(sampled, count),
    trueExpectedCount: Float64Array.from(trueIds, count),
    numTries,
  };
}
