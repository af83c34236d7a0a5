// Corpus BLEU (Papineni et al., 2002) computed as sacreBLEU 2.x computes it, so that scores printed here can be
// compared with published sacreBLEU numbers: 13a tokenisation, n-gram counts summed over the corpus, the
// closest reference length per sentence (ties go to the shorter), then one score from the summed counts.
//
// Where sacreBLEU would crash (an empty corpus) we return a zero score; where it silently truncates (reference
// streams shorter than the hypotheses) we throw MetricInputError.

import { MetricInputError, referencesBySentence } from './references.js';
import { tokenize13a } from './tokenize13a.js';
import { splitWhitespace, trimEndWhitespace } from './whitespace.js';

/** How zero n-gram matches are handled (Chen & Cherry, 2014, numbering in brackets). */
export type BleuSmoothing =
  /** No smoothing: any order without a match makes the score 0. */
  | 'none'
  /** [1] An order without matches gets `smoothValue` (default 0.1) matches instead of 0. */
  | 'floor'
  /** [2] Orders 2 and up get `smoothValue` (default 1) added to both matches and totals. */
  | 'add-k'
  /** [3] mteval-v13a / NIST: the k-th order without matches gets precision 1 / (2^k · total). */
  | 'exp';

export interface BleuOptions {
  /** '13a' (mteval-v13a, sacreBLEU's default) or 'none' (split on whitespace only). Default '13a'. */
  tokenize?: '13a' | 'none';
  /** Lowercase hypotheses and references before tokenising (default false: cased BLEU). */
  lowercase?: boolean;
  /** See BleuSmoothing (default 'exp', as sacreBLEU). */
  smooth?: BleuSmoothing;
  /** The value for 'floor' (default 0.1) and 'add-k' (default 1); ignored by 'exp' and 'none'. */
  smoothValue?: number;
  /** Highest n-gram order (default 4). */
  maxOrder?: number;
  /**
   * Average only over the orders the hypotheses have n-grams of (default false for corpus BLEU, true for
   * sentenceBleu): without it a one-word sentence scores 0 whatever the smoothing.
   */
  effectiveOrder?: boolean;
}

/** The sufficient statistics of BLEU: summing these over sentences is how corpus BLEU aggregates. */
export interface BleuStatistics {
  /** Hypothesis tokens. */
  sysLen: number;
  /** Reference tokens, counting for each sentence the reference closest in length to its hypothesis. */
  refLen: number;
  /** counts[n-1]: hypothesis n-grams also in a reference, clipped to the most any one reference has. */
  counts: number[];
  /** totals[n-1]: hypothesis n-grams. */
  totals: number[];
}

export interface BleuResult extends BleuStatistics {
  /** BLEU on sacreBLEU's 0..100 scale. */
  score: number;
  /** Per-order precisions in percent, after smoothing (0 for orders not reached). */
  precisions: number[];
  brevityPenalty: number;
}

const DEFAULT_MAX_ORDER = 4;
const DEFAULT_SMOOTH_VALUE = { none: 0, floor: 0.1, 'add-k': 1, exp: 0 } as const;
// sacreBLEU's my_log(0): a finite stand-in for log(0) that still drives exp(mean) to exactly 0.
const LOG_ZERO = -9999999999;

/** Corpus BLEU. `references[k][i]` is the k-th reference of sentence i (one stream per reference set). */
export function corpusBleu(
  hypotheses: readonly string[],
  references: readonly (readonly string[])[],
  options: BleuOptions = {},
): BleuResult {
  const maxOrder = checkedMaxOrder(options.maxOrder);
  const prepare = preprocessor(options);
  const bySentence = referencesBySentence(hypotheses, references);
  const sum: BleuStatistics = { sysLen: 0, refLen: 0, counts: zeros(maxOrder), totals: zeros(maxOrder) };
  hypotheses.forEach((hypothesis, i) => {
    const stats = sentenceStatistics(prepare(hypothesis), bySentence[i]!.map(prepare), maxOrder);
    sum.sysLen += stats.sysLen;
    sum.refLen += stats.refLen;
    for (let n = 0; n < maxOrder; n++) {
      sum.counts[n]! += stats.counts[n]!;
      sum.totals[n]! += stats.totals[n]!;
    }
  });
  return bleuFromStatistics(sum, options);
}

/** BLEU of one sentence against its references, with sacreBLEU's sentence_bleu defaults (effective order on). */
export function sentenceBleu(hypothesis: string, references: readonly string[], options: BleuOptions = {}): BleuResult {
  return corpusBleu(
    [hypothesis],
    references.map((r) => [r]),
    { effectiveOrder: true, ...options },
  );
}

/** The score from (summed) statistics: sacreBLEU's BLEU.compute_bleu. Tokenisation options are ignored. */
export function bleuFromStatistics(stats: BleuStatistics, options: BleuOptions = {}): BleuResult {
  const { sysLen, refLen } = stats;
  const maxOrder = stats.counts.length;
  if (maxOrder === 0 || stats.totals.length !== maxOrder) {
    throw new MetricInputError(
      `counts (${stats.counts.length}) and totals (${stats.totals.length}) need one entry per n-gram order`,
    );
  }
  const smooth = options.smooth ?? 'exp';
  if (!Object.hasOwn(DEFAULT_SMOOTH_VALUE, smooth))
    throw new MetricInputError(`unknown BLEU smoothing '${String(smooth)}'`);
  const smoothValue = options.smoothValue ?? DEFAULT_SMOOTH_VALUE[smooth];
  let brevityPenalty = 1;
  if (sysLen < refLen) brevityPenalty = sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0;
  const result = (score: number, precisions: number[]): BleuResult => ({
    score,
    precisions,
    brevityPenalty,
    sysLen,
    refLen,
    counts: [...stats.counts],
    totals: [...stats.totals],
  });

  const precisions = zeros(maxOrder);
  // No match of any order scores 0 under every smoothing (sacreBLEU #141), and avoids 0/0 on empty input.
  if (stats.counts.every((c) => c === 0)) return result(0, precisions);

  let expDivisor = 1;
  let order = maxOrder;
  for (let n = 1; n <= maxOrder; n++) {
    let correct = stats.counts[n - 1]!;
    let total = stats.totals[n - 1]!;
    if (smooth === 'add-k' && n > 1) {
      correct += smoothValue;
      total += smoothValue;
    }
    // The hypotheses are too short to have n-grams: higher orders stay at precision 0.
    if (total === 0) break;
    if (options.effectiveOrder) order = n;
    if (correct > 0) {
      precisions[n - 1] = (100 * correct) / total;
    } else if (smooth === 'exp') {
      expDivisor *= 2;
      precisions[n - 1] = 100 / (expDivisor * total);
    } else if (smooth === 'floor') {
      precisions[n - 1] = (100 * smoothValue) / total;
    }
  }

  let logSum = 0;
  for (const p of precisions.slice(0, order)) logSum += p === 0 ? LOG_ZERO : Math.log(p);
  return result(brevityPenalty * Math.exp(logSum / order), precisions);
}

/** sacreBLEU's score line: `BLEU = 32.45 65.1/40.2/26.7/18.0 (BP = 0.975 ratio = 0.975 hyp_len = 39 ref_len = 40)`. */
export function formatBleu(result: BleuResult): string {
  const ratio = result.refLen > 0 ? result.sysLen / result.refLen : 0;
  const precisions = result.precisions.map((p) => formatFixed(p, 1)).join('/');
  return (
    `BLEU = ${formatFixed(result.score, 2)} ${precisions} (BP = ${formatFixed(result.brevityPenalty, 3)} ` +
    `ratio = ${formatFixed(ratio, 3)} hyp_len = ${result.sysLen} ref_len = ${result.refLen})`
  );
}

/** One sentence's statistics against its (already tokenised) references. */
function sentenceStatistics(hypothesis: string, references: string[], maxOrder: number): BleuStatistics {
  const hypTokens = splitWhitespace(hypothesis);
  const refTokens = references.map(splitWhitespace);

  // A hypothesis n-gram may match as often as the most generous single reference allows.
  const refMax = countNgrams([], maxOrder);
  for (const tokens of refTokens) {
    countNgrams(tokens, maxOrder).forEach((ngrams, n) => {
      for (const [ngram, count] of ngrams) refMax[n]!.set(ngram, Math.max(refMax[n]!.get(ngram) ?? 0, count));
    });
  }

  const counts = zeros(maxOrder);
  const totals = zeros(maxOrder);
  countNgrams(hypTokens, maxOrder).forEach((ngrams, n) => {
    for (const [ngram, count] of ngrams) {
      totals[n]! += count;
      counts[n]! += Math.min(count, refMax[n]!.get(ngram) ?? 0);
    }
  });
  const refLen = closestLength(
    hypTokens.length,
    refTokens.map((t) => t.length),
  );
  return { sysLen: hypTokens.length, refLen, counts, totals };
}

/** The reference length closest to the hypothesis length; on a tie the shorter one, as sacreBLEU and mteval. */
function closestLength(hypLen: number, refLens: number[]): number {
  let best = refLens[0]!;
  for (const len of refLens) {
    const diff = Math.abs(hypLen - len);
    const bestDiff = Math.abs(hypLen - best);
    if (diff < bestDiff || (diff === bestDiff && len < best)) best = len;
  }
  return best;
}

/** ngrams[n-1] counts the n-grams, keyed by their tokens joined with a space (a token never contains one). */
function countNgrams(tokens: string[], maxOrder: number): Map<string, number>[] {
  const ngrams: Map<string, number>[] = [];
  for (let n = 1; n <= maxOrder; n++) {
    const counts = new Map<string, number>();
    for (let i = 0; i + n <= tokens.length; i++) {
      const ngram = tokens.slice(i, i + n).join(' ');
      counts.set(ngram, (counts.get(ngram) ?? 0) + 1);
    }
    ngrams.push(counts);
  }
  return ngrams;
}

/** Lowercasing, then tokenisation of the right-trimmed line, in sacreBLEU's order. */
function preprocessor(options: BleuOptions): (line: string) => string {
  const tokenize = options.tokenize ?? '13a';
  if (tokenize !== '13a' && tokenize !== 'none')
    throw new MetricInputError(`unknown BLEU tokenizer '${String(tokenize)}'`);
  return (line) => {
    const cased = options.lowercase ? line.toLowerCase() : line;
    const trimmed = trimEndWhitespace(cased);
    return tokenize === '13a' ? tokenize13a(trimmed) : trimmed;
  };
}

function checkedMaxOrder(maxOrder: number | undefined): number {
  const order = maxOrder ?? DEFAULT_MAX_ORDER;
  if (!Number.isInteger(order) || order < 1)
    throw new MetricInputError(`maxOrder must be a positive integer, got ${order}`);
  return order;
}

function zeros(length: number): number[] {
  return new Array<number>(length).fill(0);
}

/**
 * `x` with `digits` decimals as Python's f"{x:.{digits}f}" writes it. toFixed rounds an exact tie away from
 * zero, Python to even, and ties are common here: a precision of 100 · 1/16 = 6.25 prints as 6.2 in sacreBLEU.
 */
function formatFixed(x: number, digits: number): string {
  const rounded = x.toFixed(digits);
  if (!Number.isFinite(x) || Math.abs(x) >= 1e21) return rounded;
  // toFixed(100) is the exact decimal expansion of any double that could sit on a tie at a few decimals.
  const exact = Math.abs(x).toFixed(100);
  const cut = exact.indexOf('.') + 1 + digits;
  if (!/^50*$/.test(exact.slice(cut))) return rounded;
  const lastKept = Number(exact[digits === 0 ? cut - 2 : cut - 1]);
  if (lastKept % 2 === 1) return rounded;
  const truncated = exact.slice(0, digits === 0 ? cut - 1 : cut);
  return x < 0 ? `-${truncated}` : truncated;
}
