// Search over many source id sequences: length-sorted batches, each sentence with its own output limit, results
// back in input order. What Translator.translate, translateIds and validation decode through.
import { makeSourceBatch, sourcePositions } from '../data/text/batch.js';
import { search } from '../search/search.js';
import { greedyDecode } from '../search/greedy.js';
import { DEFAULT_LENGTH_PENALTY } from '../search/beam.js';
import type { Decodable, Hypothesis } from '../search/decodable.js';

/** How sources are searched (part of TranslateOptions). */
export interface BatchedSearchOptions {
  /** Sentences per batch (default 64). */
  batchSize?: number;
  /** Output length limit: ratio × source tokens + margin (defaults 2 and 10). */
  maxLengthRatio?: number;
  maxLengthMargin?: number;
  /** Beam size K; 1 (default) is greedy decoding. */
  beamSize?: number;
  /** GNMT length penalty α for beam search (default 0.6). */
  lengthPenalty?: number;
  /** Hypotheses returned per sentence, best first (default 1; at most the beam size). */
  nBest?: number;
}

/** A source's output length limit: ratio × its tokens + margin. */
export function outputLimit(sourceTokens: number, options: BatchedSearchOptions): number {
  return Math.ceil((options.maxLengthRatio ?? 2) * sourceTokens) + (options.maxLengthMargin ?? 10);
}

/**
 * Searches the sources in length-sorted batches; results in input order, [] for an empty sequence. With
 * `attention`, each hypothesis carries its attention rows (EOS's last) over its batch's source steps, and
 * `columns[i]` gives the step of each of source i's tokens (sourcePositions). Without `scored`, greedy hypotheses'
 * score and logProb are NaN (greedyDecode: no step sums its normaliser); beam search scores regardless.
 */
export function searchInBatches(
  decodable: Decodable<unknown, unknown>,
  sources: readonly (readonly number[])[],
  options: BatchedSearchOptions,
  reverseSource: boolean,
  attention: boolean,
  scored: boolean,
): { hyps: Hypothesis[][]; columns: number[][] } {
  const batchSize = options.batchSize ?? 64;
  const beamSize = options.beamSize ?? 1;
  const nBest = options.nBest ?? 1;
  const results: Hypothesis[][] = sources.map(() => []);
  const columns: number[][] = sources.map(() => []);
  // Sorting by length keeps padding low inside each batch; results go back to their input positions.
  const order = sources
    .map((_, i) => i)
    .filter((i) => sources[i]!.length > 0)
    .sort((a, b) => sources[a]!.length - sources[b]!.length);
  for (let i = 0; i < order.length; i += batchSize) {
    const chunk = order.slice(i, i + batchSize);
    const batch = makeSourceBatch(
      chunk.map((j) => sources[j]!),
      { reverseSource },
    );
    // Each sentence's own limit, so that a translation does not depend on its batch-mates.
    const maxLength = chunk.map((j) => outputLimit(sources[j]!.length, options));
    // A non-empty source never translates to nothing: EOS is not a candidate for the first token.
    const greedy = { method: 'greedy', maxLength, minLength: 1, attention } as const;
    const outs =
      beamSize === 1 && nBest === 1
        ? scored || attention
          ? search(decodable, batch, greedy)
          : greedyDecode(decodable, batch, greedy).map((ids) => [{ ids, score: NaN, logProb: NaN }])
        : search(decodable, batch, {
            method: 'beam',
            beamSize,
            nBest,
            lengthPenalty: options.lengthPenalty ?? DEFAULT_LENGTH_PENALTY,
            maxLength,
            minLength: 1,
            attention,
          });
    chunk.forEach((j, k) => {
      results[j] = outs[k]!;
      if (attention) columns[j] = sourcePositions(batch, k, reverseSource);
    });
  }
  return { hyps: results, columns };
}
