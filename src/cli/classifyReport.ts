// What `translate classify train|eval` print: the data and model summary of a run, the validation metrics, each
// run's test scores, the mean ± sd over runs with the paired differences with the baselines, and the eval report.
// Each function returns the text (lines ending in "\n"); the commands write it.
import { fmt } from './headTraining.js';
import { meanAndSd, pairedDifference, type ClassificationReport } from '../metrics/scores.js';
import type { ClassifierConfig } from '../heads/classifier/classifier.js';
import type { ClassifierRunScores } from '../heads/classifier/prepare.js';
import type { PretrainedCoverage } from '../layers/pretrained.js';
import type { CellOptions } from '../recurrent/cell.js';

/** A validation's metrics in one line. */
export const describeClassifier = (m: Record<string, number>): string =>
  `loss ${fmt(m['loss'])}, accuracy ${fmt(m['accuracy'], 2)}%, macro-F1 ${fmt(m['macroF1'], 2)}%`;

/** A share in [0, 1] as a percentage with two decimals. */
export const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** How many vocabulary words the pretrained vectors cover. */
export const pretrainedLine = (p: PretrainedCoverage & { file: string }): string =>
  `pretrained embeddings from ${p.file}: ${p.found} of ${p.words} vocabulary words found ` +
  `(${p.exact} as written, ${p.lowercase} lowercased)\n`;

/** The model's shape as the summary shows it. */
export type ClassifierModelShape = Pick<
  ClassifierConfig,
  'layers' | 'bidirectional' | 'hiddenSize' | 'pooling' | 'embeddingKeep'
> & { cell: Pick<CellOptions, 'kind'> };

/** The data and model lines of one run. */
export function classifierRunSummary(r: {
  train: number;
  valid: number;
  test: number;
  seed: number;
  labels: readonly string[];
  model: ClassifierModelShape;
  weights: number;
}): string {
  const c = r.model;
  return (
    `data: ${r.train} training, ${r.valid} validation, ${r.test} test examples (seeded split, seed ${r.seed}); ` +
    `labels ${r.labels.join(', ')}\n` +
    `model: ${c.layers}×${c.bidirectional ? 'bidirectional ' : ''}${c.cell.kind} ${c.hiddenSize} units, ` +
    `${c.pooling} pooling${c.embeddingKeep < 1 ? `, embedding keep ${c.embeddingKeep}` : ''}, ` +
    `${r.weights.toLocaleString('en-US')} weights\n`
  );
}

/** One run's best model on its held-out test part, beside logistic regression when there is one. */
export function runTestLine(examples: number, s: ClassifierRunScores): string {
  const logistic =
    s.logistic === undefined ? '' : `; bag-of-words logistic regression on the same split ${pct(s.logistic)}`;
  return (
    `test (best model, ${examples} held-out examples): ` +
    `accuracy ${pct(s.test)}, macro-F1 ${pct(s.testMacroF1)}${logistic}\n`
  );
}

/** Mean ± sd over runs, and the paired differences with the baselines (model − baseline, in points). */
export function classifierRunsReport(
  scores: readonly ClassifierRunScores[],
  validation: { seeds: number; folds: number },
): string {
  const { seeds, folds } = validation;
  const meanSd = (xs: number[]) => {
    const s = meanAndSd(xs.map((x) => 100 * x));
    return `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}%`;
  };
  const how =
    folds > 1
      ? `${folds}-fold cross-validation × ${seeds} seed${seeds === 1 ? '' : 's'}`
      : `${seeds} seeds, each on its own split`;
  let text = `over ${scores.length} runs (${how}), mean ± sd:\n`;
  text += `  validation accuracy (best model)   ${meanSd(scores.map((s) => s.valid))}\n`;
  text += `  test accuracy (best model)         ${meanSd(scores.map((s) => s.test))}\n`;
  const test = scores.map((s) => 100 * s.test);
  const compare = (name: string, base: number[]) => {
    const d = pairedDifference(test, base);
    text +=
      `  ${name.padEnd(34)} ${meanSd(base.map((x) => x / 100))}; ` +
      `model − baseline ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} points, ` +
      `standard error ${d.se.toFixed(2)} (${(d.mean / d.se).toFixed(2)} standard errors)\n`;
  };
  if (scores.every((s) => s.logistic !== undefined))
    compare(
      'bag-of-words logistic regression',
      scores.map((s) => 100 * s.logistic!),
    );
  compare(
    'majority class',
    scores.map((s) => 100 * s.majority),
  );
  return text;
}

/** `classify eval`: which examples were scored. */
export function evalHeader(
  files: readonly string[],
  part: 'all' | 'train' | 'valid' | 'test',
  examples: number,
  split: { validSplit: number; testSplit: number; seed: number },
): string {
  const where =
    part === 'all'
      ? `all ${examples} examples`
      : `the ${part} part (${examples} examples; ` +
        `shares valid ${split.validSplit}, test ${split.testSplit}, seed ${split.seed})`;
  return `${files.join(', ')}, ${where}\n`;
}

/** `classify eval`: accuracy and macro-F1 of one scorer, e.g. "model: accuracy 90.00%, macro-F1 89.00%". */
export const accuracyLine = (who: string, r: Pick<ClassificationReport, 'accuracy' | 'macroF1'>): string =>
  `${who}: accuracy ${pct(r.accuracy)}, macro-F1 ${pct(r.macroF1)}\n`;

/** Who the majority-class baseline is. */
export const majorityName = (label: string): string => `majority class ("${label}" in the train part)`;

/** Who the logistic-regression baseline is. */
export const LOGISTIC_NAME = 'bag-of-words logistic regression (binary features, L2 1e-3, trained on the train part)';
