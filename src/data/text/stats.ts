// What `translate data stats --corpus …` reports: pair counts, length histograms, bucket occupancy, the share of
// padding in batches, the UNK rate and the dropped pairs with their reasons. corpusStats computes it (pure: no I/O),
// formatStats renders it as text for the CLI to print.
import { assignBuckets, bucketPadding, type Bucket, type PaddingCount } from './buckets.js';
import type { DropReason, DropTally } from '../readers.js';
import type { TokenizedPair } from './corpus.js';
import type { Vocabulary } from './vocabulary.js';

export interface LengthHistogram {
  /** Bins [from, to] inclusive, in tokens. */
  bins: { from: number; to: number; count: number }[];
  min: number;
  max: number;
  mean: number;
  median: number;
}

export interface BucketOccupancy {
  bucket: Bucket;
  pairs: number;
  /** pairs / all kept pairs. */
  share: number;
  /** Padding share inside this bucket's batches. */
  padding: number;
}

export interface UnkRate {
  unknown: number;
  total: number;
  rate: number;
  vocabularySize: number;
}

export interface CorpusStats {
  /** Pairs read, dropped ones included. */
  read: number;
  /** Pairs that fit a bucket: what training would use. */
  pairs: number;
  dropped: { reason: DropReason; count: number; examples: string[] }[];
  sourceLengths: LengthHistogram;
  targetLengths: LengthHistogram;
  buckets: BucketOccupancy[];
  /** Padding over all bucketed batches (each padded to its bucket's size). */
  padding: PaddingCount;
  /** Present when vocabularies were given. */
  unk?: { source: UnkRate; target: UnkRate };
}

export interface StatsInput {
  /** Tokenized pairs that survived reading (before bucketing). */
  pairs: readonly TokenizedPair[];
  buckets: readonly Bucket[];
  /** Drops already made by the readers (empty, too-long). */
  dropped?: DropTally;
  sourceVocab?: Vocabulary;
  targetVocab?: Vocabulary;
}

export function corpusStats(input: StatsInput): CorpusStats {
  const lengths = input.pairs.map((p) => ({ source: p.source.length, target: p.target.length }));
  const assignment = assignBuckets(lengths, input.buckets);
  const padding = bucketPadding(lengths, input.buckets, assignment);
  const kept = lengths.length - assignment.over;
  const buckets = input.buckets.map((bucket, b) => {
    const inBucket = lengths.filter((_, i) => assignment.bucketOf[i] === b);
    const own = bucketPadding(inBucket, [bucket]);
    return {
      bucket,
      pairs: assignment.counts[b]!,
      share: kept === 0 ? 0 : assignment.counts[b]! / kept,
      padding: own.share,
    };
  });
  const dropped: CorpusStats['dropped'] = [];
  for (const [reason, count] of input.dropped?.counts ?? [])
    dropped.push({ reason, count, examples: input.dropped?.examples.get(reason) ?? [] });
  if (assignment.over > 0) dropped.push({ reason: 'over-bucket', count: assignment.over, examples: [] });
  const stats: CorpusStats = {
    read: input.pairs.length + (input.dropped?.total ?? 0),
    pairs: kept,
    dropped,
    sourceLengths: histogram(lengths.map((l) => l.source)),
    targetLengths: histogram(lengths.map((l) => l.target)),
    buckets,
    padding,
  };
  if (input.sourceVocab && input.targetVocab) {
    const rate = (v: Vocabulary, seqs: string[][]): UnkRate => ({ ...v.unkRate(seqs), vocabularySize: v.size });
    stats.unk = {
      source: rate(
        input.sourceVocab,
        input.pairs.map((p) => p.source),
      ),
      target: rate(
        input.targetVocab,
        input.pairs.map((p) => p.target),
      ),
    };
  }
  return stats;
}

/** Histogram with at most `maxBins` bins of a round width (1, 2, 5, 10, 20, …). */
export function histogram(values: readonly number[], maxBins = 12): LengthHistogram {
  if (values.length === 0) return { bins: [], min: 0, max: 0, mean: 0, median: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted.at(-1)!;
  // Widths 1, 2, 5, 10, 20, 50, …: the first that needs at most maxBins bins.
  let width = 1;
  for (let k = 1; Math.floor(max / width) - Math.floor(min / width) + 1 > maxBins; k++)
    width = [1, 2, 5][k % 3]! * 10 ** Math.floor(k / 3);
  const start = Math.floor(min / width) * width;
  const bins: LengthHistogram['bins'] = [];
  for (let from = start; from <= max; from += width) bins.push({ from, to: from + width - 1, count: 0 });
  for (const v of sorted) bins[Math.floor((v - start) / width)]!.count++;
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return { bins, min, max, mean, median: sorted[Math.floor((sorted.length - 1) / 2)]! };
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The stats as a plain-text report (what the CLI prints). */
export function formatStats(stats: CorpusStats, title = 'corpus'): string {
  const lines: string[] = [];
  const totalDropped = stats.dropped.reduce((n, d) => n + d.count, 0);
  lines.push(`${title}: ${stats.read} pairs read, ${stats.pairs} kept, ${totalDropped} dropped`);
  for (const d of stats.dropped) {
    lines.push(`  dropped ${d.reason}: ${d.count}${d.examples.length > 0 ? ` (e.g. ${d.examples.join(', ')})` : ''}`);
  }
  for (const [name, h] of [
    ['source', stats.sourceLengths],
    ['target', stats.targetLengths],
  ] as const) {
    lines.push(
      '',
      `${name} length (tokens): min ${h.min}, median ${h.median}, mean ${h.mean.toFixed(1)}, max ${h.max}`,
    );
    const top = Math.max(1, ...h.bins.map((b) => b.count));
    for (const b of h.bins) {
      const label = b.from === b.to ? `${b.from}` : `${b.from}-${b.to}`;
      lines.push(
        `  ${label.padStart(9)} ${String(b.count).padStart(8)} ${'#'.repeat(Math.round((40 * b.count) / top))}`,
      );
    }
  }
  lines.push('', 'buckets (source, target):');
  for (const b of stats.buckets) {
    lines.push(
      `  (${b.bucket[0]}, ${b.bucket[1]})`.padEnd(14) +
        `${String(b.pairs).padStart(8)} pairs ${pct(b.share).padStart(6)}   padding ${pct(b.padding)}`,
    );
  }
  lines.push(
    `padding: ${pct(stats.padding.share)} of batch tokens (${stats.padding.padding} of ${stats.padding.slots})`,
  );
  if (stats.unk) {
    for (const [name, u] of [
      ['source', stats.unk.source],
      ['target', stats.unk.target],
    ] as const) {
      lines.push(
        `UNK rate ${name}: ${pct(u.rate)} (${u.unknown} of ${u.total} tokens, vocabulary ${u.vocabularySize})`,
      );
    }
  }
  return lines.join('\n');
}
