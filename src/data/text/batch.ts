// Turns id sequences into one padded batch: plain typed arrays, time-major ([time·batch], row t·B + b), so the
// recurrent runner reads step t as one contiguous block. Tensors are made from these at the model's boundary.
//
// Source: reversed by default (Sutskever et al. 2014's trick: the first source word ends up next to the first target word)
// and padded at the front, so every sequence's last real step is the final step:
//   "I drink milk" → <pad> <pad> milk drink I
// Target: decoder inputs GO y1 … yn, decoder outputs y1 … yn EOS, padded at the back; the mask marks the n+1 real
// output positions.
import { PAD, GO, EOS } from './vocabulary.js';

/**
 * Throws a RangeError unless `batchSize` is a whole number ≥ 1: a loop over inputs in steps of 0 would never end, and
 * one in steps of NaN would return nothing.
 */
export function checkBatchSize(batchSize: number, name = 'batchSize'): void {
  if (!(Number.isSafeInteger(batchSize) && batchSize >= 1))
    throw new RangeError(`${name} must be a whole number ≥ 1, got ${batchSize}`);
}

export interface BatchOptions {
  /** Reverse each source sequence (default true). */
  reverseSource?: boolean;
  /** Where source padding goes (default 'front' when reversed, else 'back'). */
  sourcePadding?: 'front' | 'back';
  /** Pad sources to at least this many steps (e.g. a bucket's size; default: the longest in the batch). */
  sourceLength?: number;
  /** Pad targets (EOS included) to at least this many steps (default: the longest in the batch). */
  targetLength?: number;
}

export interface Batch {
  size: number;
  /** Padded source steps T_src. */
  sourceSteps: number;
  /** Padded target steps T_tgt (EOS included). */
  targetSteps: number;
  /** [T_src·B] source ids, time-major, reversed and padded as configured. */
  source: Int32Array;
  /** [T_src·B] 1 for real source tokens, 0 for padding. */
  sourceMask: Float32Array;
  sourceLengths: Int32Array;
  /** [T_tgt·B] decoder inputs: GO y1 … yn PAD …, time-major. */
  targetIn: Int32Array;
  /** [T_tgt·B] decoder outputs: y1 … yn EOS PAD …, time-major. */
  targetOut: Int32Array;
  /** [T_tgt·B] 1 for the n+1 real output positions. */
  targetMask: Float32Array;
  /** Real output positions per sequence (n + 1). */
  targetLengths: Int32Array;
}

/** Source-only part of a batch, for encoding at inference time. */
export type SourceBatch = Pick<Batch, 'size' | 'sourceSteps' | 'source' | 'sourceMask' | 'sourceLengths'>;

export function makeSourceBatch(sources: readonly (readonly number[])[], options: BatchOptions = {}): SourceBatch {
  const B = sources.length;
  const reverse = options.reverseSource ?? true;
  const padding = options.sourcePadding ?? (reverse ? 'front' : 'back');
  const T = Math.max(options.sourceLength ?? 0, ...sources.map((s) => s.length), 1);
  const source = new Int32Array(T * B).fill(PAD);
  const sourceMask = new Float32Array(T * B);
  const sourceLengths = new Int32Array(B);
  sources.forEach((seq, b) => {
    const n = seq.length;
    if (n > T) throw new RangeError(`source ${b} has ${n} tokens, more than the ${T} steps of this batch`);
    sourceLengths[b] = n;
    const offset = padding === 'front' ? T - n : 0;
    for (let i = 0; i < n; i++) {
      const t = offset + i;
      source[t * B + b] = reverse ? seq[n - 1 - i]! : seq[i]!;
      sourceMask[t * B + b] = 1;
    }
  });
  return { size: B, sourceSteps: T, source, sourceMask, sourceLengths };
}

/**
 * Where sentence b's source tokens lie in a batch made with `reversed` (its reverseSource): the step of each token,
 * in the sentence's own order. Maps what is computed per source step (attention) back to the tokens.
 */
export function sourcePositions(batch: SourceBatch, b: number, reversed: boolean): number[] {
  const B = batch.size;
  const positions: number[] = [];
  for (let t = 0; t < batch.sourceSteps; t++) if (batch.sourceMask[t * B + b]! > 0) positions.push(t);
  return reversed ? positions.reverse() : positions;
}

export function makeBatch(
  pairs: readonly { source: readonly number[]; target: readonly number[] }[],
  options: BatchOptions = {},
): Batch {
  const src = makeSourceBatch(
    pairs.map((p) => p.source),
    options,
  );
  const B = pairs.length;
  const T = Math.max(options.targetLength ?? 0, ...pairs.map((p) => p.target.length + 1));
  const targetIn = new Int32Array(T * B).fill(PAD);
  const targetOut = new Int32Array(T * B).fill(PAD);
  const targetMask = new Float32Array(T * B);
  const targetLengths = new Int32Array(B);
  pairs.forEach(({ target }, b) => {
    const n = target.length;
    targetLengths[b] = n + 1;
    for (let t = 0; t <= n; t++) {
      targetIn[t * B + b] = t === 0 ? GO : target[t - 1]!;
      targetOut[t * B + b] = t === n ? EOS : target[t]!;
      targetMask[t * B + b] = 1;
    }
  });
  return { ...src, targetSteps: T, targetIn, targetOut, targetMask, targetLengths };
}

/** Time-major [T·B] → batch-major [B·T] (for tensors laid out per sequence, e.g. attention and the loss). */
export function toBatchMajor<A extends Int32Array | Float32Array>(x: A, steps: number, batch: number): A {
  const out = new (x.constructor as { new (n: number): A })(x.length);
  for (let t = 0; t < steps; t++) for (let b = 0; b < batch; b++) out[b * steps + t] = x[t * batch + b]!;
  return out;
}
