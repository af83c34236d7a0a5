// Seeded train/valid/test split. Which pair lands where depends only on the seed and the pair's position, so a
// split is reproducible from its options alone.
import { Rng } from '../random.js';
import { ToolkitError } from '../errors.js';

export interface SplitOptions {
  /** Validation share: a fraction in [0, 1) or, when ≥ 1, a number of pairs (default 0.05). */
  valid?: number;
  /** Test share, as for `valid` (default 0.05). */
  test?: number;
  /** Seed of the shuffle (default 0). */
  seed?: number;
  /** What the items are, for messages (default 'pairs'; 'lines', 'examples'). */
  unit?: string;
}

export interface Split<T> {
  train: T[];
  valid: T[];
  test: T[];
}

export class SplitError extends ToolkitError {
  override name = 'SplitError';
}

/** Shuffles positions with the seed, takes `test` then `valid` of them; every split keeps the input's order. */
export function splitCorpus<T>(items: readonly T[], options: SplitOptions = {}): Split<T> {
  const n = items.length;
  const nTest = resolveCount(options.test ?? 0.05, n, 'test');
  const nValid = resolveCount(options.valid ?? 0.05, n, 'valid');
  if (nTest + nValid > n)
    throw new SplitError(`valid (${nValid}) + test (${nTest}) is more than the ${n} ${options.unit ?? 'pairs'}`);
  const order = new Rng(options.seed ?? 0).shuffle(Array.from({ length: n }, (_, i) => i));
  const which = new Uint8Array(n); // 0 train, 1 valid, 2 test
  for (let k = 0; k < nTest; k++) which[order[k]!] = 2;
  for (let k = nTest; k < nTest + nValid; k++) which[order[k]!] = 1;
  const out: Split<T> = { train: [], valid: [], test: [] };
  items.forEach((item, i) => (which[i] === 0 ? out.train : which[i] === 1 ? out.valid : out.test).push(item));
  return out;
}

function resolveCount(share: number, n: number, name: string): number {
  if (!(share >= 0)) throw new SplitError(`${name} must be a fraction in [0, 1) or a count, got ${share}`);
  if (share < 1) return Math.round(share * n);
  if (!Number.isInteger(share)) throw new SplitError(`${name} count must be an integer, got ${share}`);
  return share;
}

/**
 * For corpora streamed without holding them in memory: the split of the pair at `index`, decided by a hash of
 * (seed, index). Shares are fractions and hold only on average, unlike splitCorpus's exact counts.
 */
export function splitOf(
  index: number,
  options: { valid?: number; test?: number; seed?: number } = {},
): keyof Split<unknown> {
  const valid = options.valid ?? 0.05;
  const test = options.test ?? 0.05;
  if (!(valid >= 0 && test >= 0 && valid + test < 1))
    throw new SplitError('streaming split needs fractions with valid + test < 1');
  // murmur3's finaliser: spreads consecutive indices over [0, 2^32) evenly.
  let h = (Math.imul(index >>> 0, 0x9e3779b1) ^ Math.imul((options.seed ?? 0) >>> 0, 0x85ebca6b)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
  const u = ((h ^ (h >>> 16)) >>> 0) / 4294967296;
  return u < test ? 'test' : u < test + valid ? 'valid' : 'train';
}
