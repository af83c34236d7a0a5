// Search over many source id sequences: length-sorted batches, each sentence with its own output limit, results
// back in input order. What Translator.translate, translateIds and validation decode through.
import { checkBatchSize, makeSourceBatch, sourcePositions } from '../data/text/batch.js';
import { search } from '../search/search.js';
import { greedyDecode } from '../search/greedy.js';
import { DEFAULT_LENGTH_PENALTY } from '../search/beam.js';
import { MAX_BEAM_SIZE } from '../search/beamRows.js';
import { MAX_OUTPUT_LENGTH, type Decodable, type Hypothesis, type Stoppable } from '../search/decodable.js';

/**
 * How sources are searched (part of TranslateOptions). `shouldStop` is asked before every decoder step: true ends the
 * search with SearchStoppedError (a caller's deadline, checked even while decoding blocks the event loop).
 */
export interface BatchedSearchOptions extends Stoppable {
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

/**
 * Decoder rows (sentences × beam) a search batch holds at most, unless `batchSize` asks for more: a wider beam takes
 * fewer sentences at once, at least one. A batch of 64 sentences at beam 5 is 320 rows; at beam 200 it would be
 * 12,800 rows of logits a step (400 MB at a vocabulary of 8,000), and 1,024 rows keep it to 5 sentences. A
 * sentence's translation does not depend on its batch-mates, so this changes time and memory, not results.
 */
export const MAX_SEARCH_ROWS = 1024;

/** Sentences a batch searches at once: `batchSize`, fewer where the beam takes it past max(batchSize, MAX_SEARCH_ROWS) rows. */
export function sentencesPerBatch(batchSize: number, beamSize: number): number {
  return Math.max(1, Math.min(batchSize, Math.floor(Math.max(batchSize, MAX_SEARCH_ROWS) / beamSize)));
}

/** A source's output length limit: ratio × its tokens + margin (at most MAX_OUTPUT_LENGTH). */
export function outputLimit(sourceTokens: number, options: BatchedSearchOptions): number {
  const limit = Math.ceil((options.maxLengthRatio ?? 2) * sourceTokens) + (options.maxLengthMargin ?? 10);
  return Math.min(limit, MAX_OUTPUT_LENGTH);
}

/**
 * Throws a RangeError naming the first option out of its range: a library caller's NaN batch size or length ratio
 * would otherwise decode nothing and return empty translations without a word.
 */
export function checkBatchedSearchOptions(options: BatchedSearchOptions): void {
  const whole = (name: string, v: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): void => {
    if (v !== undefined && !(Number.isInteger(v) && v >= min && v <= max))
      throw new RangeError(
        `${name} must be a whole number ${max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`}, got ${v}`,
      );
  };
  const finite = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw new RangeError(`${name} must be a finite number ≥ 0, got ${v}`);
  };
  if (options.batchSize !== undefined) checkBatchSize(options.batchSize);
  whole('beamSize', options.beamSize, 1, MAX_BEAM_SIZE);
  whole('nBest', options.nBest, 1, options.beamSize ?? 1);
  whole('maxLengthMargin', options.maxLengthMargin, 0);
  finite('maxLengthRatio', options.maxLengthRatio);
  finite('lengthPenalty', options.lengthPenalty);
}

/** What a search keeps of each hypothesis' attention: nothing, its alignment, or its alignment and weights. */
export type AttentionToKeep = 'none' | 'alignment' | 'weights';

/**
 * Searches the sources in length-sorted batches; results in input order, [] for an empty sequence. Unless
 * `attention` is 'none', each hypothesis of a model that attends carries its alignment (per output token and EOS,
 * the index of the source token attended to most), and with 'weights' its attention over the source tokens. Without
 * `scored`, greedy hypotheses' score and logProb are NaN (greedyDecode: no step sums its normaliser); beam search
 * scores regardless.
 */
export function searchInBatches(
  decodable: Decodable<unknown, unknown>,
  sources: readonly (readonly number[])[],
  options: BatchedSearchOptions,
  reverseSource: boolean,
  attention: AttentionToKeep,
  scored: boolean,
): Hypothesis[][] {
  checkBatchedSearchOptions(options);
  const beamSize = options.beamSize ?? 1;
  const batchSize = sentencesPerBatch(options.batchSize ?? 64, beamSize);
  const nBest = options.nBest ?? 1;
  const results: Hypothesis[][] = sources.map(() => []);
  const { shouldStop } = options;
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
    const keep =
      attention === 'none'
        ? undefined
        : {
            columns: chunk.map((_, k) => sourcePositions(batch, k, reverseSource)),
            weights: attention === 'weights',
          };
    // A non-empty source never translates to nothing: EOS is not a candidate for the first token.
    const greedy = { method: 'greedy', maxLength, minLength: 1, attention: keep, shouldStop } as const;
    const outs =
      beamSize === 1 && nBest === 1
        ? scored || keep !== undefined
          ? search(decodable, batch, greedy)
          : greedyDecode(decodable, batch, greedy).map((ids) => [{ ids, score: NaN, logProb: NaN }])
        : search(decodable, batch, {
            method: 'beam',
            beamSize,
            nBest,
            lengthPenalty: options.lengthPenalty ?? DEFAULT_LENGTH_PENALTY,
            maxLength,
            minLength: 1,
            attention: keep,
            shouldStop,
          });
    chunk.forEach((j, k) => (results[j] = outs[k]!));
  }
  return results;
}
