// Sampling, batched: every sentence draws its next token from the model's distribution, sharpened or flattened by
// a temperature and optionally cut to the k most probable tokens. Each sentence draws from its own stream of the
// seed (Rng.stream(seed, its index)), one draw a step, so the same seed gives the same outputs on any backend that
// gives the same log-probs, and a sentence's sample does not depend on its batch-mates or on how a run is split into
// batches. Steps, EOS and maxLength behave as in greedy decoding.
import type { SourceBatch } from '../data/text/batch.js';
import { EOS, PAD, GO } from '../data/text/vocabulary.js';
import { Rng } from '../random.js';
import { decodeStepwise, type Decodable, type Stoppable } from './decodable.js';
import type { Hypothesis } from './decodable.js';

export interface SampleOptions extends Stoppable {
  /** Divides the log-probs before the softmax (default 1: the model's own distribution); 0 means argmax. */
  temperature?: number;
  /** Sample only among the k most probable tokens (default 0: the whole vocabulary). */
  topK?: number;
  /** Hard limit on output tokens per sentence (EOS excluded). */
  maxLength: number;
  /** Seed of the generators the draws come from (default 1). */
  seed?: number;
  /**
   * The index of the batch's first sentence in the whole run (default 0): sentence i draws from stream
   * firstSentence + i of the seed, so a run split into batches samples as it would in one.
   */
  firstSentence?: number;
  /**
   * Each sentence's stream of the seed, where a batch holds sentences of several runs (a server merging requests);
   * given, it replaces firstSentence.
   */
  streams?: ArrayLike<number>;
}

/**
 * Returns one sampled hypothesis per sentence; its logProb (and score, the same number) is the model's own,
 * untempered log-probability of the ids and EOS (EOS is charged at maxLength, as in beam search).
 */
export function sampleDecode<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: SampleOptions): Hypothesis[] {
  const temperature = options.temperature ?? 1;
  const topK = options.topK ?? 0;
  const { maxLength } = options;
  if (!(temperature >= 0)) throw new RangeError(`temperature must be ≥ 0, got ${temperature}`);
  if (!Number.isInteger(topK) || topK < 0) throw new RangeError(`topK must be a non-negative integer, got ${topK}`);
  if (!Number.isInteger(maxLength) || maxLength < 0)
    throw new RangeError(`maxLength must be a non-negative integer, got ${maxLength}`);
  const seed = options.seed ?? 1;
  const first = options.firstSentence ?? 0;
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff)
    throw new RangeError(`seed must be an integer from 0 to 2^32 − 1, got ${seed}`);
  if (!Number.isInteger(first) || first < 0 || first + batch.size - 1 > 0xffffffff)
    throw new RangeError(`firstSentence must be an integer from 0 with the batch's indices below 2^32, got ${first}`);
  const { streams } = options;
  if (streams !== undefined && streams.length !== batch.size)
    throw new RangeError(`streams: ${streams.length} for a batch of ${batch.size} sentences`);
  // Rng.stream checks each stream index.
  const rngs = Array.from({ length: batch.size }, (_, i) => Rng.stream(seed, streams?.[i] ?? first + i));

  const outputs: Hypothesis[] = Array.from({ length: batch.size }, () => ({ ids: [], score: 0, logProb: 0 }));
  // A finished sentence's row stays in the batch until enough rows have finished to drop them (shouldRetire).
  const done = new Uint8Array(batch.size);
  decodeStepwise(
    model,
    batch,
    maxLength + 1,
    (logProbs, t, sentences) => {
      const V = logProbs.shape[1];
      const R = sentences.length;
      const lps = logProbs.dataSync() as Float32Array; // [R·V]
      const ids = new Int32Array(R).fill(EOS);
      const live = new Uint8Array(R);
      for (let r = 0; r < R; r++) {
        if (done[sentences[r]!]) continue;
        const row = lps.subarray(r * V, (r + 1) * V);
        // PAD and GO are never outputs (as in greedy and beam search).
        const candidates = Float32Array.from(row);
        candidates[PAD] = candidates[GO] = -Infinity;
        const id = t === maxLength ? EOS : draw(candidates, temperature, topK, rngs[sentences[r]!]!);
        const out = outputs[sentences[r]!]!;
        out.logProb += row[id]!;
        if (id === EOS) {
          out.score = out.logProb;
          done[sentences[r]!] = 1;
        } else {
          out.ids.push(id);
          live[r] = 1;
        }
        ids[r] = id;
      }
      return { ids, live };
    },
    { shouldStop: options.shouldStop },
  );
  return outputs;
}

/** One token drawn from softmax(logProbs / temperature) over the topK most probable tokens (all when 0). */
function draw(logProbs: Float32Array, temperature: number, topK: number, rng: Rng): number {
  const V = logProbs.length;
  const candidates = topK > 0 && topK < V ? topIndices(logProbs, topK) : null;
  const count = candidates === null ? V : candidates.length;
  const at = (i: number): number => (candidates === null ? i : candidates[i]!);
  let max = -Infinity;
  let argmax = 0;
  for (let i = 0; i < count; i++) {
    if (logProbs[at(i)]! > max) {
      max = logProbs[at(i)]!;
      argmax = at(i);
    }
  }
  if (temperature === 0) return argmax;
  // Subtracting the max keeps exp() in range however small the temperature.
  const weights = new Float64Array(count);
  let total = 0;
  for (let i = 0; i < count; i++) {
    weights[i] = Math.exp((logProbs[at(i)]! - max) / temperature);
    total += weights[i]!;
  }
  let u = rng.next() * total;
  for (let i = 0; i < count; i++) {
    u -= weights[i]!;
    if (u < 0) return at(i);
  }
  return argmax; // rounding left u ≥ 0 past the last weight
}

/** Indices of the k largest values, in index order (ties keep the lower index, like tf.argMax). */
function topIndices(values: Float32Array, k: number): Int32Array {
  const top = new Int32Array(k).fill(-1); // kept sorted best first
  let filled = 0;
  for (let v = 0; v < values.length; v++) {
    const x = values[v]!;
    if (filled === k && !(x > values[top[k - 1]!]!)) continue;
    let i = filled === k ? k - 1 : filled++;
    while (i > 0 && values[top[i - 1]!]! < x) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = v;
  }
  return top.subarray(0, filled).sort();
}
