import { describe, it, expect, beforeAll } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_BUCKETS,
  bucketFor,
  assignBuckets,
  bucketPadding,
  autoBuckets,
  DEFAULT_MAX_BUCKET_LENGTH,
  parseBuckets,
  BatchSampler,
  BucketError,
  type EncodedPair,
  type PairLength,
  type BucketBatch,
} from '../../../src/data/text/buckets.js';
import { loadParallelCorpus, encodePairs } from '../../../src/data/text/corpus.js';
import { DropTally } from '../../../src/data/readers.js';
import { Vocabulary, PAD, GO, EOS } from '../../../src/data/text/vocabulary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');

const lengthsOf = (pairs: readonly EncodedPair[]): PairLength[] =>
  pairs.map((p) => ({ source: p.source.length, target: p.target.length }));

/** Padding share actually present in the sampler's batches, counted from the masks. */
function measuredPadding(batches: Iterable<BucketBatch>): { share: number; pairs: number } {
  let real = 0;
  let slots = 0;
  let pairs = 0;
  for (const { batch } of batches) {
    pairs += batch.size;
    slots += batch.sourceMask.length + batch.targetMask.length;
    for (const m of batch.sourceMask) real += m;
    for (const m of batch.targetMask) real += m;
  }
  return { share: 1 - real / slots, pairs };
}

function pair(s: number, t: number, base = 4): EncodedPair {
  return {
    source: Array.from({ length: s }, (_, i) => base + i),
    target: Array.from({ length: t }, (_, i) => 100 + i),
  };
}

describe('bucketFor', () => {
  it('counts EOS on the target side and picks the smallest bucket that fits', () => {
    expect(bucketFor(DEFAULT_BUCKETS, 5, 9)).toBe(0);
    expect(bucketFor(DEFAULT_BUCKETS, 5, 10)).toBe(1); // 10 tokens + EOS = 11 > 10
    expect(bucketFor(DEFAULT_BUCKETS, 6, 1)).toBe(1);
    expect(bucketFor(DEFAULT_BUCKETS, 40, 49)).toBe(3);
    expect(bucketFor(DEFAULT_BUCKETS, 41, 1)).toBe(-1);
  });

  it('prefers the fitting bucket with the fewest slots even when listed later', () => {
    expect(
      bucketFor(
        [
          [10, 10],
          [3, 3],
        ],
        2,
        1,
      ),
    ).toBe(1);
  });
});

describe('bucketPadding', () => {
  it('counts source and target padding against all slots', () => {
    // (2, 3 tokens) in [3, 5]: source pad 1, target 5 − 4 = 1 → 2 of 8; (4, 1) over → left out.
    const lengths = [
      { source: 2, target: 3 },
      { source: 4, target: 1 },
    ];
    const a = assignBuckets(lengths, [[3, 5]]);
    expect(a.counts).toEqual([1]);
    expect(a.over).toBe(1);
    expect(bucketPadding(lengths, [[3, 5]], a)).toEqual({ padding: 2, slots: 8, share: 0.25 });
  });
});

describe('parseBuckets', () => {
  it('reads the CLI form and rejects nonsense', () => {
    expect(parseBuckets('5,10;10,15 (20,25)')).toEqual([
      [5, 10],
      [10, 15],
      [20, 25],
    ]);
    expect(() => parseBuckets('5')).toThrow(BucketError);
    expect(() => parseBuckets('')).toThrow(BucketError);
  });
});

describe('buckets on the real Tatoeba corpus with word tokens', () => {
  let encoded: EncodedPair[];
  beforeAll(async () => {
    const corpus = await loadParallelCorpus({
      format: 'tsv',
      paths: [path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv')],
    });
    const src = Vocabulary.build(corpus.pairs.map((p) => p.source));
    const tgt = Vocabulary.build(corpus.pairs.map((p) => p.target));
    encoded = encodePairs(corpus.pairs, src, tgt);
  });

  it('automatic buckets keep padding under 25% of batch tokens, measured on the batches themselves', () => {
    const buckets = autoBuckets(lengthsOf(encoded));
    expect(buckets).toHaveLength(4);
    const predicted = bucketPadding(lengthsOf(encoded), buckets);
    const sampler = new BatchSampler(encoded, { buckets, batchSize: 64, seed: 1 });
    const measured = measuredPadding(sampler.epoch());
    expect(measured.pairs).toBe(4500);
    expect(measured.share).toBeCloseTo(predicted.share, 10);
    expect(measured.share).toBeLessThan(0.25);
    // The tutorial's default buckets are far too big for these short sentences: the automatic ones must do better.
    expect(measured.share).toBeLessThan(bucketPadding(lengthsOf(encoded), DEFAULT_BUCKETS).share / 2);
  });

  it('more automatic buckets never pad more', () => {
    const L = lengthsOf(encoded);
    const shares = [1, 2, 4, 8].map((count) => bucketPadding(L, autoBuckets(L, { count })).share);
    for (let i = 1; i < shares.length; i++) expect(shares[i]!).toBeLessThanOrEqual(shares[i - 1]! + 1e-12);
  });

  it('coverage below 1 drops the longest pairs as over-bucket', () => {
    const L = lengthsOf(encoded);
    const buckets = autoBuckets(L, { coverage: 0.99 });
    const { over } = assignBuckets(L, buckets);
    expect(over).toBeGreaterThan(0);
    expect(over).toBeLessThan(0.03 * L.length);
    expect(assignBuckets(L, autoBuckets(L)).over).toBe(0);
  });

  it('one enormous pair never makes an enormous bucket: buckets are capped, the pair is over-bucket (it used to get a 1.2M-token bucket)', () => {
    const L = [...lengthsOf(encoded), { source: 1_200_000, target: 3 }];
    const buckets = autoBuckets(L);
    expect(Math.max(...buckets.flat())).toBeLessThanOrEqual(DEFAULT_MAX_BUCKET_LENGTH);
    expect(assignBuckets(L, buckets).over).toBe(1);
    expect(Math.max(...autoBuckets(L, { maxLength: 12 }).flat())).toBe(12);
    expect(() => autoBuckets(L, { maxLength: 1 })).toThrow(/maximum bucket length must be an integer ≥ 2/);
  });
});

describe('BatchSampler', () => {
  it('drops and counts pairs longer than the largest bucket (joeynmt TED sentences with the default buckets)', async () => {
    const corpus = await loadParallelCorpus(`aligned:${path.join(corpora, 'joeynmt-toy-de-en/train.{de,en}')}`);
    const encoded = encodePairs(
      corpus.pairs,
      Vocabulary.build(corpus.pairs.map((p) => p.source)),
      Vocabulary.build(corpus.pairs.map((p) => p.target)),
    );
    const dropped = new DropTally();
    const sampler = new BatchSampler(encoded, { dropped, batchSize: 32 });
    const expectedOver = encoded.filter((p) => p.source.length > 40 || p.target.length + 1 > 50).length;
    expect(expectedOver).toBeGreaterThan(0);
    expect(sampler.over).toBe(expectedOver);
    expect(dropped.counts.get('over-bucket')).toBe(expectedOver);
    let seen = 0;
    for (const b of sampler.epoch()) seen += b.batch.size;
    expect(seen).toBe(encoded.length - expectedOver);
  });

  it('draws each batch from one bucket, padded to its size, source reversed and padded at the front', () => {
    const pairs = [pair(2, 3), pair(3, 1), pair(7, 2), pair(1, 12)];
    const sampler = new BatchSampler(pairs, {
      buckets: [
        [3, 5],
        [10, 15],
      ],
      batchSize: 8,
      seed: 3,
    });
    const batches = [...sampler.epoch()];
    expect(batches.map((b) => b.bucket).sort()).toEqual([0, 1]);
    const small = batches.find((b) => b.bucket === 0)!;
    expect([...small.indices].sort()).toEqual([0, 1]);
    expect(small.batch.sourceSteps).toBe(3);
    expect(small.batch.targetSteps).toBe(5);
    const B = small.batch.size;
    const col = small.indices.indexOf(0); // pair(2, 3): source [4, 5] → <pad> 5 4
    expect([0, 1, 2].map((t) => small.batch.source[t * B + col])).toEqual([PAD, 5, 4]);
    expect([0, 1, 2, 3, 4].map((t) => small.batch.targetIn[t * B + col])).toEqual([GO, 100, 101, 102, PAD]);
    expect([0, 1, 2, 3, 4].map((t) => small.batch.targetOut[t * B + col])).toEqual([100, 101, 102, EOS, PAD]);
  });

  it('keeps the source order when reversal is switched off', () => {
    const sampler = new BatchSampler([pair(2, 1)], { buckets: [[3, 3]], reverseSource: false, sourcePadding: 'back' });
    const { batch } = sampler.next();
    expect([...batch.source]).toEqual([4, 5, PAD]);
  });

  it('visits every pair once per epoch, reshuffles the next, and depends only on the seed', () => {
    const pairs = Array.from({ length: 200 }, (_, i) => pair(1 + (i % 9), 1 + (i % 7), i));
    const order = (seed: number, epochs: number) => {
      const s = new BatchSampler(pairs, { buckets: DEFAULT_BUCKETS, batchSize: 16, seed });
      const out: number[][] = [];
      for (let e = 0; e < epochs; e++) out.push([...s.epoch()].flatMap((b) => b.indices));
      return out;
    };
    const [e0, e1] = order(7, 2);
    expect([...e0!].sort((a, b) => a - b)).toEqual(pairs.map((_, i) => i));
    expect([...e1!].sort((a, b) => a - b)).toEqual(pairs.map((_, i) => i));
    expect(e1).not.toEqual(e0);
    expect(order(7, 2)).toEqual([e0, e1]);
    expect(order(8, 1)[0]).not.toEqual(e0);
  });

  it('resumes the same stream from getState()', () => {
    const pairs = Array.from({ length: 300 }, (_, i) => pair(1 + (i % 12), 1 + (i % 5)));
    const a = new BatchSampler(pairs, { batchSize: 10, seed: 5 });
    for (let i = 0; i < 37; i++) a.next(); // crosses into the second epoch
    const state = a.getState();
    expect(state.epoch).toBe(1);
    const b = new BatchSampler(pairs, { batchSize: 10, seed: 5 });
    b.setState(state);
    for (let i = 0; i < 20; i++) expect(b.next().indices).toEqual(a.next().indices);
  });

  it('chooses buckets in proportion to their size', () => {
    // 9,000 short and 1,000 long pairs: early in an epoch about 90% of batches should be short ones.
    const pairs = [
      ...Array.from({ length: 9000 }, () => pair(2, 2)),
      ...Array.from({ length: 1000 }, () => pair(20, 20)),
    ];
    const sampler = new BatchSampler(pairs, {
      buckets: [
        [5, 10],
        [40, 50],
      ],
      batchSize: 10,
      seed: 11,
    });
    let short = 0;
    for (let i = 0; i < 300; i++) if (sampler.next().bucket === 0) short++;
    expect(short / 300).toBeGreaterThan(0.85);
    expect(short / 300).toBeLessThan(0.95);
  });

  it('refuses a corpus where nothing fits', () => {
    expect(() => new BatchSampler([pair(50, 2)])).toThrow(BucketError);
  });
});
