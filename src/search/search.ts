// One entry point for decoding a source batch, whatever the method: every method returns per sentence an n-best
// list of hypotheses (a single one for greedy and sampling), so callers handle one shape.
import type { SourceBatch } from '../data/batch.js';
import type { Decodable } from './decodable.js';
import { beamSearch, type BeamOptions, type Hypothesis } from './beam.js';
import { sampleDecode, type SampleOptions } from './sample.js';

export type SearchOptions =
  | { method: 'greedy'; /** Limit on output tokens (EOS excluded), one for all sentences or one per sentence. */ maxLength: number | ArrayLike<number> }
  | ({ method: 'beam' } & BeamOptions)
  | ({ method: 'sample' } & SampleOptions);

export function search<M, S>(model: Decodable<M, S>, batch: SourceBatch, options: SearchOptions): Hypothesis[][] {
  switch (options.method) {
    case 'greedy':
      // Greedy decoding is one-beam search (the tests pin the same ids as greedyDecode), and the beam carries the
      // log-prob that greedyDecode does not keep. With α = 0 the score is the log-prob.
      return beamSearch(model, batch, { beamSize: 1, nBest: 1, lengthPenalty: 0, maxLength: options.maxLength });
    case 'beam':
      return beamSearch(model, batch, options);
    case 'sample':
      return sampleDecode(model, batch, options).map((h) => [h]);
  }
}
