// Evaluation figures of the heads, over plain arrays: classification (accuracy, per-class precision/recall/F1,
// macro-F1, the confusion matrix and its text rendering), regression (MSE, RMSE, MAE) and language modelling
// (perplexity).
import { ToolkitError } from '../errors.js';

export class MetricError extends ToolkitError {
  override name = 'MetricError';
}

function checkPaired(a: ArrayLike<number>, b: ArrayLike<number>, what: string): void {
  if (a.length !== b.length) throw new MetricError(`${what}: ${a.length} predictions but ${b.length} expected values`);
  if (a.length === 0) throw new MetricError(`${what}: no values`);
}

// ---------------------------------------------------------------------------------------------------------------
// Classification. Classes are ids 0..C−1.

/** Share of predictions equal to the expected class. */
export function accuracy(predicted: ArrayLike<number>, expected: ArrayLike<number>): number {
  checkPaired(predicted, expected, 'accuracy');
  let right = 0;
  for (let i = 0; i < predicted.length; i++) if (predicted[i] === expected[i]) right++;
  return right / predicted.length;
}

/** counts[expected][predicted]: rows are the true classes, columns the predicted ones. */
export function confusionMatrix(
  predicted: ArrayLike<number>,
  expected: ArrayLike<number>,
  classes: number,
): number[][] {
  checkPaired(predicted, expected, 'confusionMatrix');
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < predicted.length; i++) {
    const p = predicted[i]!;
    const e = expected[i]!;
    for (const [name, c] of [
      ['predicted', p],
      ['expected', e],
    ] as const) {
      if (!(Number.isInteger(c) && c >= 0 && c < classes))
        throw new MetricError(`${name} class ${c} at position ${i} is outside 0..${classes - 1}`);
    }
    m[e]![p]!++;
  }
  return m;
}

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  /** Examples whose true class this is. */
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  /** Unweighted mean of the per-class F1 over classes with support or predictions (a class absent from both is skipped). */
  macroF1: number;
  perClass: ClassScores[];
  confusion: number[][];
}

/**
 * All classification figures at once. A ratio with a zero denominator (a class never predicted, or never present)
 * counts as 0, as scikit-learn's zero_division=0.
 */
export function classificationReport(
  predicted: ArrayLike<number>,
  expected: ArrayLike<number>,
  classes: number,
): ClassificationReport {
  const confusion = confusionMatrix(predicted, expected, classes);
  const perClass: ClassScores[] = [];
  let f1Sum = 0;
  let counted = 0;
  for (let c = 0; c < classes; c++) {
    const tp = confusion[c]![c]!;
    let support = 0;
    let predictedAs = 0;
    for (let k = 0; k < classes; k++) {
      support += confusion[c]![k]!;
      predictedAs += confusion[k]![c]!;
    }
    const precision = predictedAs === 0 ? 0 : tp / predictedAs;
    const recall = support === 0 ? 0 : tp / support;
    const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
    perClass.push({ precision, recall, f1, support });
    if (support > 0 || predictedAs > 0) {
      f1Sum += f1;
      counted++;
    }
  }
  return { accuracy: accuracy(predicted, expected), macroF1: counted === 0 ? 0 : f1Sum / counted, perClass, confusion };
}

/** Macro-averaged F1 (see classificationReport). */
export function macroF1(predicted: ArrayLike<number>, expected: ArrayLike<number>, classes: number): number {
  return classificationReport(predicted, expected, classes).macroF1;
}

/**
 * The confusion matrix as a right-aligned text table for the CLI, true classes down, predicted across:
 *
 *   true\pred  neg  pos
 *         neg   40   10
 *         pos    5   45
 */
export function renderConfusionMatrix(confusion: readonly (readonly number[])[], labels: readonly string[]): string {
  if (labels.length !== confusion.length)
    throw new MetricError(`${labels.length} labels for a ${confusion.length}-class matrix`);
  const corner = 'true\\pred';
  const rows = [[corner, ...labels], ...confusion.map((row, c) => [labels[c]!, ...row.map(String)])];
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
  return rows.map((r) => r.map((cell, j) => cell.padStart(widths[j]!)).join('  ')).join('\n');
}

// ---------------------------------------------------------------------------------------------------------------
// Regression.

/** Mean squared error. */
export function mse(predicted: ArrayLike<number>, expected: ArrayLike<number>): number {
  checkPaired(predicted, expected, 'mse');
  let s = 0;
  for (let i = 0; i < predicted.length; i++) s += (predicted[i]! - expected[i]!) ** 2;
  return s / predicted.length;
}

/** Root mean squared error, in the units of the data. */
export function rmse(predicted: ArrayLike<number>, expected: ArrayLike<number>): number {
  return Math.sqrt(mse(predicted, expected));
}

/** Mean absolute error. */
export function mae(predicted: ArrayLike<number>, expected: ArrayLike<number>): number {
  checkPaired(predicted, expected, 'mae');
  let s = 0;
  for (let i = 0; i < predicted.length; i++) s += Math.abs(predicted[i]! - expected[i]!);
  return s / predicted.length;
}

// ---------------------------------------------------------------------------------------------------------------
// Language modelling.

/** exp of the mean negative log-likelihood per token, in nats (the mean cross-entropy loss). */
export function perplexity(meanNll: number): number {
  if (!(meanNll >= 0)) throw new MetricError(`mean negative log-likelihood must be ≥ 0, got ${meanNll}`);
  return Math.exp(meanNll);
}

/** Mean and sample standard deviation (n − 1) of repeated runs' scores; sd is 0 for one run. */
export function meanAndSd(values: readonly number[]): { mean: number; sd: number; n: number } {
  const n = values.length;
  if (n === 0) throw new MetricError('no values to summarise');
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const sd = n < 2 ? 0 : Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1));
  return { mean, sd, n };
}

/**
 * The paired comparison of two methods scored on the same splits: the mean of the differences a − b, their standard
 * error sd/√n, and t = mean / se (Dietterich, "Approximate statistical tests for comparing supervised classification
 * learning algorithms", 1998). Pairing removes the variance the splits share.
 */
export function pairedDifference(
  a: readonly number[],
  b: readonly number[],
): { mean: number; se: number; t: number; n: number } {
  if (a.length !== b.length || a.length === 0)
    throw new MetricError(`paired scores need the same number of runs on each side, got ${a.length} and ${b.length}`);
  const { mean, sd, n } = meanAndSd(a.map((x, i) => x - b[i]!));
  const se = sd / Math.sqrt(n);
  return { mean, se, t: se > 0 ? mean / se : mean === 0 ? 0 : Math.sign(mean) * Infinity, n };
}
