// The number-words exercise of the TensorFlow RNN tutorials: spelled-out digits read character by character → the digit string.
//   "one two five" → "125"
// A digit string has min..max digits (leading zeros allowed: it is a string of digits, not a number). Unlike the
// original exercise, padding has its own id (see vocabulary.ts) instead of sharing the id of '0'.
import { Rng } from '../../random.js';
import { Vocabulary } from './vocabulary.js';
import { CharTokenizer } from './tokenizers.js';

export const DIGIT_WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'] as const;

export interface NumberWordsOptions {
  /** Fewest digits in a training/validation number (default 5). */
  minDigits?: number;
  /** Most digits in a training/validation number (default 10). */
  maxDigits?: number;
  /** Held-out validation numbers, disjoint from training (default 1000). */
  validSize?: number;
  /** Digit range of the length-generalisation test set (default [11, 12]: longer than any training number). */
  longDigits?: [number, number];
  /** Numbers in the length-generalisation test set (default 1000). */
  longSize?: number;
  /**
   * Share of training numbers drawn with 1..minDigits−1 digits instead (default 0: the classic generator). A model
   * that never saw a short number keeps writing digits past the end of "one two five"; a little of them teaches it
   * to stop. Validation stays minDigits..maxDigits.
   */
  shortShare?: number;
  seed?: number;
}

export interface NumberWordsPair {
  /** The spelled-out words, e.g. "one two five". */
  words: string;
  /** The digit string, e.g. "125". */
  digits: string;
}

export function digitsToWords(digits: string): string {
  return [...digits]
    .map((d) => {
      const w = DIGIT_WORDS[d.charCodeAt(0) - 48];
      if (w === undefined) throw new RangeError(`not a digit: "${d}"`);
      return w;
    })
    .join(' ');
}

const chars = new CharTokenizer();

/** Character tokens of the words side ("one two" → o n e ▁ t w o): the toolkit's char tokenizer. */
export function wordsToTokens(words: string): string[] {
  return chars.tokenize(words);
}

export function digitsToTokens(digits: string): string[] {
  return chars.tokenize(digits);
}

function randomDigits(rng: Rng, min: number, max: number): string {
  const n = rng.int(min, max);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(48 + rng.int(0, 9));
  return s;
}

/** Source vocabulary: the characters of the ten digit words and the space. Target: the ten digits. */
export function numberWordsVocabularies(): { source: Vocabulary; target: Vocabulary } {
  const letters = new Set<string>();
  for (const w of DIGIT_WORDS) for (const c of w) letters.add(c);
  return {
    source: new Vocabulary([...wordsToTokens(' '), ...[...letters].sort()]),
    target: new Vocabulary('0123456789'),
  };
}

export class NumberWordsTask {
  readonly options: Required<NumberWordsOptions>;
  readonly valid: NumberWordsPair[];
  readonly long: NumberWordsPair[];
  /** 300 numbers of 1..minDigits−1 digits (may overlap training when shortShare > 0: there are few of them). */
  readonly short: NumberWordsPair[];
  private readonly held: Set<string>;
  private readonly rng: Rng;

  constructor(options: NumberWordsOptions = {}) {
    this.options = {
      minDigits: options.minDigits ?? 5,
      maxDigits: options.maxDigits ?? 10,
      validSize: options.validSize ?? 1000,
      longDigits: options.longDigits ?? [11, 12],
      longSize: options.longSize ?? 1000,
      shortShare: options.shortShare ?? 0,
      seed: options.seed ?? 1,
    };
    const o = this.options;
    if (!(o.minDigits >= 1 && o.maxDigits >= o.minDigits))
      throw new RangeError(`bad digit range ${o.minDigits}..${o.maxDigits}`);
    const rng = new Rng(o.seed);
    // Held-out sets are drawn first from their own stream, so they do not depend on how much is trained.
    const heldRng = rng.fork();
    this.held = new Set();
    this.valid = [];
    const capacity = Array.from({ length: o.maxDigits - o.minDigits + 1 }, (_, i) => 10 ** (o.minDigits + i)).reduce(
      (a, b) => a + b,
      0,
    );
    if (o.validSize > capacity / 2)
      throw new RangeError(`validSize ${o.validSize} is too large for ${o.minDigits}..${o.maxDigits} digits`);
    while (this.valid.length < o.validSize) {
      const d = randomDigits(heldRng, o.minDigits, o.maxDigits);
      if (this.held.has(d)) continue;
      this.held.add(d);
      this.valid.push({ words: digitsToWords(d), digits: d });
    }
    this.long = Array.from({ length: o.longSize }, () => {
      const d = randomDigits(heldRng, o.longDigits[0], o.longDigits[1]);
      return { words: digitsToWords(d), digits: d };
    });
    this.short = Array.from({ length: o.minDigits > 1 ? 300 : 0 }, () => {
      const d = randomDigits(heldRng, 1, o.minDigits - 1);
      return { words: digitsToWords(d), digits: d };
    });
    if (!(o.shortShare >= 0 && o.shortShare <= 1))
      throw new RangeError(`shortShare must be in [0, 1], got ${o.shortShare}`);
    this.rng = rng;
  }

  /** Next training pair; never one of the validation numbers. */
  nextTrain(): NumberWordsPair {
    const o = this.options;
    if (o.shortShare > 0 && o.minDigits > 1 && this.rng.next() < o.shortShare) {
      const d = randomDigits(this.rng, 1, o.minDigits - 1);
      return { words: digitsToWords(d), digits: d };
    }
    for (;;) {
      const d = randomDigits(this.rng, o.minDigits, o.maxDigits);
      if (!this.held.has(d)) return { words: digitsToWords(d), digits: d };
    }
  }

  rngState() {
    return this.rng.getState();
  }
}
