// Pipeline throughput, file to batches, for benchmarks: how many pairs a second reading, normalising, tokenizing,
// encoding and batching sustain (vocabulary building is timed apart, since it runs once per training).
import { performance } from 'node:perf_hooks';
import { loadParallelCorpus, encodePairs, parseCorpusSpec, type CorpusSpec, type LoadOptions } from './corpus.js';
import { autoBuckets, BatchSampler, DEFAULT_BUCKETS, type Bucket } from './buckets.js';
import { Vocabulary } from './vocabulary.js';

export interface ThroughputOptions extends LoadOptions {
  /** Buckets, or 'auto' to fit them to the corpus (default DEFAULT_BUCKETS). */
  buckets?: readonly Bucket[] | 'auto';
  /** Pairs per batch (default 64). */
  batchSize?: number;
  /** Vocabulary size per side (default 30000). */
  vocabularySize?: number;
}

export interface Throughput {
  pairs: number;
  batches: number;
  /** Seconds for read + normalise + tokenize. */
  readSeconds: number;
  /** Seconds for building both vocabularies. */
  vocabularySeconds: number;
  /** Seconds for encoding to ids and making one epoch of batches. */
  batchSeconds: number;
  /** pairs / (read + batch seconds). */
  pairsPerSecond: number;
}

export async function measurePipeline(spec: CorpusSpec | string, options: ThroughputOptions = {}): Promise<Throughput> {
  const s = typeof spec === 'string' ? parseCorpusSpec(spec) : spec;
  const t0 = performance.now();
  const corpus = await loadParallelCorpus(s, options);
  const t1 = performance.now();
  const maxSize = options.vocabularySize ?? 30000;
  const sourceVocab = Vocabulary.build(
    corpus.pairs.map((p) => p.source),
    { maxSize },
  );
  const targetVocab = Vocabulary.build(
    corpus.pairs.map((p) => p.target),
    { maxSize },
  );
  const t2 = performance.now();
  const encoded = encodePairs(corpus.pairs, sourceVocab, targetVocab);
  const buckets =
    options.buckets === 'auto'
      ? autoBuckets(encoded.map((p) => ({ source: p.source.length, target: p.target.length })))
      : (options.buckets ?? DEFAULT_BUCKETS);
  const sampler = new BatchSampler(encoded, { buckets, batchSize: options.batchSize ?? 64 });
  let batches = 0;
  for (const b of sampler.epoch()) if (b.batch.size > 0) batches++;
  const t3 = performance.now();
  const seconds = (t1 - t0 + (t3 - t2)) / 1000;
  return {
    pairs: corpus.pairs.length,
    batches,
    readSeconds: (t1 - t0) / 1000,
    vocabularySeconds: (t2 - t1) / 1000,
    batchSeconds: (t3 - t2) / 1000,
    pairsPerSecond: seconds > 0 ? corpus.pairs.length / seconds : Infinity,
  };
}
