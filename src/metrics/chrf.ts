// Corpus chrF (Popović, 2015) and chrF++ (Popović, 2017) as sacreBLEU 2.x computes them: no tokenisation,
// character n-grams of orders 1..charOrder with whitespace removed (plus word n-grams for chrF++), n-gram
// statistics summed over the corpus, then one F-score. With several references, each sentence keeps the
// statistics of the reference it scores best against on its own.

import { MetricInputError, referencesBySentence } from './references.js';
import { removeWhitespace, splitWhitespace } from './whitespace.js';

export interface ChrFOptions {
  /** Character n-gram orders 1..charOrder (default 6). */
  charOrder?: number;
  /** Word n-gram orders 1..wordOrder on top of the character ones (default 0; 2 is chrF++). */
  wordOrder?: number;
  /** Recall counts beta times as much as precision (default 2: chrF2). */
  beta?: number;
  /** Lowercase hypotheses and references first (default false). */
  lowercase?: boolean;
  /** Keep whitespace inside character n-grams (default false: all whitespace is removed first). */
  whitespace?: boolean;
  /**
   * Average per-order F-scores, 1e-16 standing in for an undefined one, as chrF++.py, Moses and NLTK do
   * (default false: sacreBLEU 2.x's default, which averages precision and recall over the orders that have
   * n-grams on both sides and takes one F-score of those averages).
   */
  epsSmoothing?: boolean;
}

export interface ChrFResult {
  /** chrF on sacreBLEU's 0..100 scale. */
  score: number;
  /** sacreBLEU's name for the variant: 'chrF2', or 'chrF2++' with wordOrder 2. */
  name: string;
}

// The punctuation chrF++ splits off word edges: Python's string.punctuation, as sacreBLEU uses.
const PUNCTUATION = new Set('!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~');
const EPS = 1e-16;

/** Corpus chrF. `references[k][i]` is the k-th reference of sentence i (one stream per reference set). */
export function corpusChrF(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: ChrFOptions = {},
): ChrFResult {
  const config = resolve(options);
  const prepare = (line: string) => (config.lowercase ? line.toLowerCase() : line);
  const bySentence = referencesBySentence(hypotheses, references);
  // Three numbers per order, character orders first: [hypothesis n-grams, reference n-grams, matches].
  const sum = new Array<number>(3 * (config.charOrder + config.wordOrder)).fill(0);
  hypotheses.forEach((hypothesis, i) => {
    const hypNgrams = extractNgrams(prepare(hypothesis), config);
    let best: number[] = [];
    let bestScore = -1;
    // Strictly better only: on a tie the earlier reference is kept, as in sacreBLEU.
    for (const reference of bySentence[i]!) {
      const stats = matchStatistics(hypNgrams, extractNgrams(prepare(reference), config));
      const score = fScore(stats, config);
      if (score > bestScore) {
        bestScore = score;
        best = stats;
      }
    }
    best.forEach((value, j) => (sum[j]! += value));
  });
  return { score: fScore(sum, config), name: `chrF${config.beta}${'+'.repeat(config.wordOrder)}` };
}

/** chrF of one sentence against its references. */
export function sentenceChrF(hypothesis: string, references: readonly string[], options: ChrFOptions = {}): ChrFResult {
  return corpusChrF(
    [hypothesis],
    references.map((r) => [r]),
    options,
  );
}

type Config = Required<ChrFOptions>;

function resolve(options: ChrFOptions): Config {
  const config: Config = {
    charOrder: options.charOrder ?? 6,
    wordOrder: options.wordOrder ?? 0,
    beta: options.beta ?? 2,
    lowercase: options.lowercase ?? false,
    whitespace: options.whitespace ?? false,
    epsSmoothing: options.epsSmoothing ?? false,
  };
  if (!Number.isInteger(config.charOrder) || config.charOrder < 0)
    throw new MetricInputError(`charOrder must be a non-negative integer, got ${config.charOrder}`);
  if (!Number.isInteger(config.wordOrder) || config.wordOrder < 0)
    throw new MetricInputError(`wordOrder must be a non-negative integer, got ${config.wordOrder}`);
  if (config.charOrder + config.wordOrder === 0) throw new MetricInputError('charOrder + wordOrder must be at least 1');
  return config;
}

/** One n-gram count table per order: character orders 1..charOrder, then word orders 1..wordOrder. */
function extractNgrams(line: string, config: Config): Map<string, number>[] {
  // Code points, not UTF-16 units, so that an emoji is one character as it is in Python.
  const chars = Array.from(config.whitespace ? line : removeWhitespace(line));
  const words = config.wordOrder > 0 ? splitPunctuation(line) : [];
  const tables: Map<string, number>[] = [];
  for (let n = 1; n <= config.charOrder; n++) tables.push(countNgrams(chars, n, ''));
  for (let n = 1; n <= config.wordOrder; n++) tables.push(countNgrams(words, n, ' '));
  return tables;
}

function countNgrams(units: string[], n: number, separator: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i + n <= units.length; i++) {
    const ngram = units.slice(i, i + n).join(separator);
    counts.set(ngram, (counts.get(ngram) ?? 0) + 1);
  }
  return counts;
}

/**
 * chrF++'s words: whitespace-separated, with one punctuation mark split off the end, or failing that off the
 * start, of words longer than one character. "(hi)" becomes "(hi" and ")", a quirk kept from the original chrF++.py.
 */
function splitPunctuation(line: string): string[] {
  const words: string[] = [];
  for (const word of splitWhitespace(line)) {
    const chars = Array.from(word);
    if (chars.length === 1) words.push(word);
    else if (PUNCTUATION.has(chars[chars.length - 1]!))
      words.push(chars.slice(0, -1).join(''), chars[chars.length - 1]!);
    else if (PUNCTUATION.has(chars[0]!)) words.push(chars[0]!, chars.slice(1).join(''));
    else words.push(word);
  }
  return words;
}

/** [hypothesis n-grams, reference n-grams, clipped matches] for every order, flattened. */
function matchStatistics(hyp: Map<string, number>[], ref: Map<string, number>[]): number[] {
  const stats: number[] = [];
  hyp.forEach((hypCounts, n) => {
    const refCounts = ref[n]!;
    let hypTotal = 0;
    let matches = 0;
    for (const [ngram, count] of hypCounts) {
      hypTotal += count;
      matches += Math.min(count, refCounts.get(ngram) ?? 0);
    }
    let refTotal = 0;
    for (const count of refCounts.values()) refTotal += count;
    // A reference too short for this order leaves the hypothesis n-grams uncounted too (sacreBLEU does the same),
    // so the order drops out of the average instead of scoring zero precision.
    stats.push(refCounts.size > 0 ? hypTotal : 0, refTotal, matches);
  });
  return stats;
}

/** The F-score in 0..100 from flattened [hyp, ref, match] statistics: sacreBLEU's CHRF._compute_f_score. */
function fScore(stats: number[], config: Config): number {
  const factor = config.beta ** 2;
  const orders = stats.length / 3;
  let epsScore = 0;
  let precisionSum = 0;
  let recallSum = 0;
  let effectiveOrder = 0;
  for (let i = 0; i < orders; i++) {
    const [nHyp, nRef, nMatch] = [stats[3 * i]!, stats[3 * i + 1]!, stats[3 * i + 2]!];
    const precision = nHyp > 0 ? nMatch / nHyp : EPS;
    const recall = nRef > 0 ? nMatch / nRef : EPS;
    const denominator = factor * precision + recall;
    epsScore += denominator > 0 ? ((1 + factor) * precision * recall) / denominator : EPS;
    if (nHyp > 0 && nRef > 0) {
      precisionSum += precision;
      recallSum += recall;
      effectiveOrder += 1;
    }
  }
  if (config.epsSmoothing) return (100 * epsScore) / orders;
  if (effectiveOrder === 0) return 0;
  const precision = precisionSum / effectiveOrder;
  const recall = recallSum / effectiveOrder;
  if (precision + recall === 0) return 0;
  return 100 * (((1 + factor) * precision * recall) / (factor * precision + recall));
}
