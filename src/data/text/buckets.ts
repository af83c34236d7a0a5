// Buckets as in the TensorFlow translation tutorial: a few (source length, target length) sizes; each pair goes to
// a bucket it fits, every batch comes from one bucket and is padded to that bucket's size, so the model sees a few
// fixed shapes and little padding. Pairs longer than the largest bucket are dropped and counted.
//
// A pair (source s tokens, target t tokens) fits bucket [S, T] when s ≤ S and t + 1 ≤ T: the target side holds EOS
// too (decoder inputs GO y1…yt and outputs y1…yt EOS are both t + 1 steps). Of the buckets it fits, a pair goes to
// the one with the fewest slots S + T, which is also the one that pads it least.
import { Rng } from '../../random.js';
import { makeBatch, type Batch, type BatchOptions } from './batch.js';
import type { DropTally } from '../readers.js';
import { ToolkitError } from '../../errors.js';

/** [source length, target length (EOS included)]. */
export type Bucket = readonly [number, number];

export const DEFAULT_BUCKETS: readonly Bucket[] = [
  [5, 10],
  [10, 15],
  [20, 25],
  [40, 50],
];

/** Token counts of one pair, EOS not included. */
export interface PairLength {
  source: number;
  target: number;
}

export interface EncodedPair {
  source: readonly number[];
  target: readonly number[];
}

export class BucketError extends ToolkitError {
  override name = 'BucketError';
}

/** Index of the bucket a pair goes to, or -1 when it is longer than every bucket. */
export function bucketFor(buckets: readonly Bucket[], source: number, target: number): number {
  let best = -1;
  for (let i = 0; i < buckets.length; i++) {
    const [S, T] = buckets[i]!;
    if (source <= S && target + 1 <= T && (best < 0 || S + T < buckets[best]![0] + buckets[best]![1])) best = i;
  }
  return best;
}

export interface BucketAssignment {
  /** Bucket index per pair, -1 for pairs longer than every bucket. */
  bucketOf: Int32Array;
  /** Pairs per bucket. */
  counts: number[];
  /** Pairs that fit no bucket. */
  over: number;
}

export function assignBuckets(lengths: readonly PairLength[], buckets: readonly Bucket[]): BucketAssignment {
  const bucketOf = new Int32Array(lengths.length);
  const counts = buckets.map(() => 0);
  let over = 0;
  lengths.forEach((p, i) => {
    const b = bucketFor(buckets, p.source, p.target);
    bucketOf[i] = b;
    if (b < 0) over++;
    else counts[b]!++;
  });
  return { bucketOf, counts, over };
}

export interface PaddingCount {
  /** Padding slots, source and target together. */
  padding: number;
  /** All slots of the padded batches, source and target together. */
  slots: number;
  /** padding / slots (0 when there are no slots). */
  share: number;
}

/**
 * Padding when every batch is padded to its bucket's full size (as BatchSampler does by default); pairs that fit no
 * bucket are left out. Source slots count S per pair, target slots T (GO/EOS positions are real tokens, not padding).
 */
export function bucketPadding(
  lengths: readonly PairLength[],
  buckets: readonly Bucket[],
  assignment = assignBuckets(lengths, buckets),
): PaddingCount {
  let padding = 0;
  let slots = 0;
  lengths.forEach((p, i) => {
    const b = assignment.bucketOf[i]!;
    if (b < 0) return;
    const [S, T] = buckets[b]!;
    slots += S + T;
    padding += S - p.source + T - (p.target + 1);
  });
  return { padding, slots, share: slots === 0 ? 0 : padding / slots };
}

export interface AutoBucketOptions {
  /** How many buckets (default 4, as in the tutorial). */
  count?: number;
  /** Share of pairs the largest bucket must hold, the rest being dropped as over-long (default 1: all). */
  coverage?: number;
  /**
   * No bucket is longer than this on either side, target EOS included (default DEFAULT_MAX_BUCKET_LENGTH): one
   * enormous pair (a 5 MB line read as 1.2 million tokens) must not make a bucket that size, whatever `coverage`.
   */
  maxLength?: number;
}

/** The longest automatic bucket, per side (tokens): beyond any sentence an RNN is trained on, far below a runaway line. */
export const DEFAULT_MAX_BUCKET_LENGTH = 256;

/**
 * Buckets fitted to a length distribution. The largest bucket is set by `coverage` (quantiles of source and target
 * lengths); below it, pairs are ordered by several keys (source, target, sum, max) and each ordering is cut into
 * `count` runs by dynamic programming so that padding is smallest; each run's bucket is its longest source and target.
 * The cut with the least padding under the real assignment wins.
 */
export function autoBuckets(lengths: readonly PairLength[], options: AutoBucketOptions = {}): Bucket[] {
  const count = options.count ?? 4;
  const coverage = options.coverage ?? 1;
  if (!(count >= 1)) throw new BucketError(`bucket count must be at least 1, got ${count}`);
  if (!(coverage > 0 && coverage <= 1)) throw new BucketError(`coverage must be in (0, 1], got ${coverage}`);
  const cap = options.maxLength ?? DEFAULT_MAX_BUCKET_LENGTH;
  if (!(Number.isInteger(cap) && cap >= 2))
    throw new BucketError(`maximum bucket length must be an integer ≥ 2, got ${cap}`);
  if (lengths.length === 0) throw new BucketError('cannot choose buckets for an empty corpus');
  const maxS = Math.min(
    quantile(
      lengths.map((p) => p.source),
      coverage,
    ),
    cap,
  );
  const maxT = Math.min(
    quantile(
      lengths.map((p) => p.target + 1),
      coverage,
    ),
    cap,
  );
  // Distinct (source, target+1) points with their multiplicity: the DP runs over these, not over every pair.
  const points = new Map<number, { s: number; t: number; n: number }>();
  for (const p of lengths) {
    const t = p.target + 1;
    if (p.source > maxS || t > maxT) continue;
    const key = p.source * 1_000_003 + t;
    const e = points.get(key);
    if (e) e.n++;
    else points.set(key, { s: p.source, t, n: 1 });
  }
  const pts = [...points.values()];
  const keys: ((p: { s: number; t: number }) => number)[] = [
    (p) => p.s * 1e6 + p.t,
    (p) => p.t * 1e6 + p.s,
    (p) => (p.s + p.t) * 1e6 + p.s,
    (p) => Math.max(p.s, p.t) * 1e6 + p.s + p.t,
  ];
  let best: Bucket[] = [[maxS, maxT]];
  let bestPad = Infinity;
  for (const key of keys) {
    const sorted = [...pts].sort((a, b) => key(a) - key(b));
    // Every covered pair fits the bucket of its own run, so only `coverage` decides what is dropped.
    const buckets = sortBuckets(cutByDp(sorted, count));
    const pad = bucketPadding(lengths, buckets).padding;
    if (pad < bestPad) {
      bestPad = pad;
      best = buckets;
    }
  }
  return best;
}

/** Splits points (in the given order) into at most k contiguous runs minimising Σ n·(S + T − s − t). */
function cutByDp(pts: readonly { s: number; t: number; n: number }[], k: number): Bucket[] {
  const m = pts.length;
  // A run's padding is n·(max s + max t) − Σ n·(s + t); the sum is the same for every cut, so only n·(S + T) counts.
  const INF = Number.POSITIVE_INFINITY;
  // dp[c][j]: least cost of the first j points in c runs; from[c][j]: where the last run starts.
  const dp = Array.from({ length: k + 1 }, () => new Float64Array(m + 1).fill(INF));
  const from = Array.from({ length: k + 1 }, () => new Int32Array(m + 1));
  dp[0]![0] = 0;
  for (let c = 1; c <= k; c++) {
    for (let j = 1; j <= m; j++) {
      let S = 0;
      let T = 0;
      let n = 0;
      for (let i = j; i >= 1; i--) {
        const p = pts[i - 1]!;
        S = Math.max(S, p.s);
        T = Math.max(T, p.t);
        n += p.n;
        const prev = dp[c - 1]![i - 1]!;
        if (prev === INF) continue;
        const cost = prev + n * (S + T);
        if (cost < dp[c]![j]!) {
          dp[c]![j] = cost;
          from[c]![j] = i - 1;
        }
      }
    }
  }
  let c = 1;
  for (let cc = 1; cc <= k; cc++) if (dp[cc]![m]! < dp[c]![m]!) c = cc;
  const out: Bucket[] = [];
  let j = m;
  while (c > 0 && j > 0) {
    const i = from[c]![j]!;
    let S = 0;
    let T = 0;
    for (let x = i; x < j; x++) {
      S = Math.max(S, pts[x]!.s);
      T = Math.max(T, pts[x]!.t);
    }
    out.push([S, T]);
    j = i;
    c--;
  }
  return out.reverse();
}

/** Smallest first, without duplicates. */
function sortBuckets(buckets: readonly Bucket[]): Bucket[] {
  const unique = [...new Map(buckets.map((b) => [`${b[0]},${b[1]}`, b] as const)).values()];
  return unique.sort((a, b) => a[0] + a[1] - (b[0] + b[1]) || a[0] - b[0]);
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** Parses "5,10;10,15;20,25" (the CLI's form) into buckets. */
export function parseBuckets(text: string): Bucket[] {
  const buckets = text
    .split(/[;\s]+/)
    .filter((s) => s.length > 0)
    .map((part) => {
      const nums = part
        .replace(/[()[\]]/g, '')
        .split(/[,x:]/)
        .map(Number);
      if (nums.length !== 2 || !nums.every((n) => Number.isInteger(n) && n > 0))
        throw new BucketError(`bad bucket "${part}" (expected e.g. 5,10)`);
      return [nums[0]!, nums[1]!] as const;
    });
  if (buckets.length === 0) throw new BucketError('no buckets given');
  return buckets;
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing batches.

export interface BatchSamplerOptions extends Pick<BatchOptions, 'reverseSource' | 'sourcePadding'> {
  /** Bucket sizes (default DEFAULT_BUCKETS). */
  buckets?: readonly Bucket[];
  /** Pairs per batch; a bucket's last batch of an epoch may be smaller (default 64). */
  batchSize?: number;
  /** Seed for the order of pairs and buckets (default 0). */
  seed?: number;
  /** Pad every batch to its bucket's full size, as the tutorial does, so shapes repeat (default true); else to the longest pair. */
  padToBucket?: boolean;
  /** Where pairs longer than every bucket are counted as 'over-bucket' (default: not reported beyond `over`). */
  dropped?: DropTally;
}

export interface BucketBatch {
  /** Index of the bucket the batch came from. */
  bucket: number;
  /** Indices of the batch's pairs in the sampler's input. */
  indices: number[];
  batch: Batch;
}

/** Where a sampler is: restore it with setState to continue the same stream (e.g. after resuming training). */
export interface BatchSamplerState {
  epoch: number;
  step: number;
}

/**
 * Draws batches one bucket at a time. Each epoch visits every pair once: the pairs of each bucket are shuffled, and
 * each batch's bucket is drawn with probability proportional to the pairs it has left, i.e. to its size.
 * An epoch's order depends only on (seed, epoch), so a state of two integers is enough to resume.
 */
export class BatchSampler {
  readonly buckets: readonly Bucket[];
  /** Pair indices per bucket. */
  readonly members: readonly number[][];
  /** Pairs that fit no bucket and are never drawn. */
  readonly over: number;
  private readonly batchSize: number;
  private readonly seed: number;
  private readonly batchOptions: BatchOptions;
  private readonly padToBucket: boolean;
  private epochIndex = -1;
  private stepIndex = 0;
  private rng!: Rng;
  private orders: number[][] = [];
  private cursors: number[] = [];
  private remaining = 0;

  constructor(
    private readonly pairs: readonly EncodedPair[],
    options: BatchSamplerOptions = {},
  ) {
    this.buckets = options.buckets ?? DEFAULT_BUCKETS;
    if (this.buckets.length === 0) throw new BucketError('no buckets given');
    this.batchSize = options.batchSize ?? 64;
    if (!(this.batchSize >= 1)) throw new BucketError(`batchSize must be at least 1, got ${this.batchSize}`);
    this.seed = options.seed ?? 0;
    this.padToBucket = options.padToBucket ?? true;
    this.batchOptions = {
      reverseSource: options.reverseSource ?? true,
      ...(options.sourcePadding ? { sourcePadding: options.sourcePadding } : {}),
    };
    const members: number[][] = this.buckets.map(() => []);
    let over = 0;
    pairs.forEach((p, i) => {
      const b = bucketFor(this.buckets, p.source.length, p.target.length);
      if (b < 0) {
        over++;
        options.dropped?.add('over-bucket', `pair ${i}`);
      } else members[b]!.push(i);
    });
    if (over === pairs.length)
      throw new BucketError(
        `none of the ${pairs.length} pairs fits a bucket (largest ${JSON.stringify(this.buckets.at(-1))})`,
      );
    this.members = members;
    this.over = over;
    this.startEpoch(0);
  }

  /** Batches in one epoch. */
  get batchesPerEpoch(): number {
    return this.members.reduce((n, m) => n + Math.ceil(m.length / this.batchSize), 0);
  }

  getState(): BatchSamplerState {
    return { epoch: this.epochIndex, step: this.stepIndex };
  }

  setState(state: BatchSamplerState): void {
    this.startEpoch(state.epoch);
    for (let i = 0; i < state.step; i++) this.take();
  }

  /** The next batch; a new epoch starts (reshuffled) when the current one is used up. */
  next(): BucketBatch {
    if (this.remaining === 0) this.startEpoch(this.epochIndex + 1);
    const { bucket, indices } = this.take();
    const [S, T] = this.buckets[bucket]!;
    const batch = makeBatch(
      indices.map((i) => this.pairs[i]!),
      this.padToBucket ? { ...this.batchOptions, sourceLength: S, targetLength: T } : this.batchOptions,
    );
    return { bucket, indices, batch };
  }

  /** The batches left in the current epoch (all of them when called at an epoch's start). */
  *epoch(): Generator<BucketBatch> {
    if (this.remaining === 0) this.startEpoch(this.epochIndex + 1);
    while (this.remaining > 0) yield this.next();
  }

  private startEpoch(epoch: number): void {
    this.epochIndex = epoch;
    this.stepIndex = 0;
    // One generator per epoch, seeded from (seed, epoch): resuming needs no saved permutation.
    this.rng = new Rng((Math.imul(this.seed >>> 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
    this.orders = this.members.map((m) => this.rng.shuffle([...m]));
    this.cursors = this.members.map(() => 0);
    this.remaining = this.members.reduce((n, m) => n + m.length, 0);
  }

  private take(): { bucket: number; indices: number[] } {
    // Bucket drawn with probability (pairs it has left) / (pairs left in the epoch).
    let r = this.rng.next() * this.remaining;
    let bucket = 0;
    for (let b = 0; b < this.orders.length; b++) {
      const left = this.orders[b]!.length - this.cursors[b]!;
      if (left === 0) continue;
      bucket = b;
      if (r < left) break;
      r -= left;
    }
    const start = this.cursors[bucket]!;
    const indices = this.orders[bucket]!.slice(start, start + this.batchSize);
    this.cursors[bucket] = start + indices.length;
    this.remaining -= indices.length;
    this.stepIndex++;
    return { bucket, indices };
  }
}
