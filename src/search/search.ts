// One entry point for decoding a source batch, whatever the method: every method returns per sentence an n-best
// list of hypotheses (a single one for greedy and sampling), so callers handle one shape.
import type { SourceBatch } from '../data/text/batch.js';
import type { Decodable } from './decodable.js';
import { beamSearch, type BeamOptions } from './beam.js';
import type { Hypothesis } from './decodable.js';
import { greedySearch, type GreedyOptions } from './greedy.js';
import { sampleDecode, type SampleOptions } from './sample.js';

export type SearchOptions =
  ({ method: 'greedy' } & GreedyOptions) | ({ method: 'beam' } & BeamOptions) | ({ method: 'sample' } & SampleOptions);

export function search<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: SearchOptions): Hypothesis[][] {
  switch (options.method) {
    case 'greedy':
      // The same ids as one-beam search (tested), scored the same way (α = 0: the score is the log-prob), without
      // reading the whole [batch, vocab] log-probs back to the host every step.
      return greedySearch(model, batch, options);
    case 'beam':
      return beamSearch(model, batch, options);
    case 'sample':
      return sampleDecode(model, batch, options).map((h) => [h]);
    default:
      // Reachable from JavaScript or JSON, where the method is any string.
      throw new RangeError(
        `unknown search method ${JSON.stringify((options as { method: unknown }).method)} (greedy, beam or sample)`,
      );
  }
}
