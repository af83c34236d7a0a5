import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { corpusStats, formatStats, histogram } from '../../../src/data/text/stats.js';
import { DropTally } from '../../../src/data/readers.js';
import { Vocabulary } from '../../../src/data/text/vocabulary.js';
import { loadParallelCorpus } from '../../../src/data/text/corpus.js';
import { autoBuckets } from '../../../src/data/text/buckets.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');

const toks = (n: number, w = 'a') => Array.from({ length: n }, () => w);

describe('histogram', () => {
  it('uses width-1 bins for short ranges and round widths for long ones', () => {
    const h = histogram([1, 2, 2, 3, 7]);
    expect(h.bins.map((b) => b.count)).toEqual([1, 2, 1, 0, 0, 0, 1]);
    expect([h.min, h.max, h.median, h.mean]).toEqual([1, 7, 2, 3]);
    const wide = histogram([1, 50, 99]);
    expect(wide.bins[0]).toEqual({ from: 0, to: 9, count: 1 });
    expect(wide.bins.length).toBe(10);
    expect(wide.bins.reduce((n, b) => n + b.count, 0)).toBe(3);
  });
});

describe('corpusStats', () => {
  const pairs = [
    { source: toks(2), target: toks(3, 'x') }, // bucket [3, 5]: pads 1 + 1
    { source: toks(3), target: toks(4, 'y') }, // bucket [3, 5]: pads 0 + 0
    { source: toks(6), target: toks(2) }, // bucket [8, 8]: pads 2 + 5
    { source: toks(9), target: toks(1) }, // fits nothing
  ];
  const dropped = new DropTally();
  dropped.add('empty', 'f.tsv:3');
  dropped.add('too-long', 'f.tsv:9');
  dropped.add('empty', 'f.tsv:12');

  it('counts pairs, bucket occupancy, padding and drops by reason', () => {
    const s = corpusStats({
      pairs,
      buckets: [
        [3, 5],
        [8, 8],
      ],
      dropped,
    });
    expect(s.read).toBe(7);
    expect(s.pairs).toBe(3);
    expect(s.buckets.map((b) => b.pairs)).toEqual([2, 1]);
    expect(s.buckets[0]!.share).toBeCloseTo(2 / 3);
    expect(s.buckets[0]!.padding).toBeCloseTo(2 / 16);
    expect(s.padding).toEqual({ padding: 9, slots: 32, share: 9 / 32 });
    expect(s.dropped).toEqual([
      { reason: 'empty', count: 2, examples: ['f.tsv:3', 'f.tsv:12'] },
      { reason: 'too-long', count: 1, examples: ['f.tsv:9'] },
      { reason: 'over-bucket', count: 1, examples: [] },
    ]);
    expect(s.sourceLengths.max).toBe(9);
    expect(s.unk).toBeUndefined();
  });

  it('reports the UNK rate of each side against its vocabulary', () => {
    const s = corpusStats({
      pairs,
      buckets: [[10, 10]],
      sourceVocab: new Vocabulary(['a']),
      targetVocab: new Vocabulary(['x']),
    });
    expect(s.unk!.source).toEqual({ unknown: 0, total: 20, rate: 0, vocabularySize: 5 });
    expect(s.unk!.target.unknown).toBe(7); // 4 y + 2 a + 1 a
    expect(s.unk!.target.rate).toBeCloseTo(7 / 10);
  });

  it('renders a text report with every section', () => {
    const text = formatStats(
      corpusStats({
        pairs,
        buckets: [
          [3, 5],
          [8, 8],
        ],
        dropped,
        sourceVocab: new Vocabulary(['a']),
        targetVocab: new Vocabulary(['x']),
      }),
      'toy',
    );
    expect(text).toContain('toy: 7 pairs read, 3 kept, 4 dropped');
    expect(text).toContain('dropped empty: 2 (e.g. f.tsv:3, f.tsv:12)');
    expect(text).toContain('dropped over-bucket: 1');
    expect(text).toMatch(/source length \(tokens\): min 2, median 3/);
    expect(text).toMatch(/\(3, 5\)\s+2 pairs\s+66\.7%\s+padding 12\.5%/);
    expect(text).toContain('padding: 28.1% of batch tokens (9 of 32)');
    expect(text).toContain('UNK rate target: 70.0% (7 of 10 tokens, vocabulary 5)');
  });

  it('describes the real Tatoeba corpus', async () => {
    const corpus = await loadParallelCorpus(`tsv:${path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv')}`);
    const buckets = autoBuckets(corpus.pairs.map((p) => ({ source: p.source.length, target: p.target.length })));
    const train = corpus.pairs.slice(0, 4000);
    const s = corpusStats({
      pairs: corpus.pairs.slice(4000),
      buckets,
      dropped: corpus.dropped,
      sourceVocab: Vocabulary.build(train.map((p) => p.source)),
      targetVocab: Vocabulary.build(train.map((p) => p.target)),
    });
    expect(s.pairs).toBe(500);
    expect(s.sourceLengths.bins.reduce((n, b) => n + b.count, 0)).toBe(500);
    expect(s.padding.share).toBeLessThan(0.25);
    // Held-out sentences meet words the first 4,000 did not have.
    expect(s.unk!.target.rate).toBeGreaterThan(0);
    expect(s.unk!.target.rate).toBeLessThan(0.5);
  });
});
