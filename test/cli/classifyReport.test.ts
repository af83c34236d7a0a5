import { describe, it, expect } from 'vitest';
import {
  describeClassifier,
  pct,
  pretrainedLine,
  classifierRunSummary,
  runTestLine,
  classifierRunsReport,
  evalHeader,
  accuracyLine,
  majorityName,
  LOGISTIC_NAME,
} from '../../src/cli/classifyReport.js';

const model = {
  layers: 1,
  bidirectional: false,
  cell: { kind: 'lstm' as const },
  hiddenSize: 32,
  pooling: 'mean' as const,
  embeddingKeep: 1,
};
const run = { train: 80, valid: 10, test: 10, seed: 2, labels: ['neg', 'pos'], model, weights: 54321 };

describe('classify reports', () => {
  it('describeClassifier and pct: metrics in percent with two decimals', () => {
    expect(describeClassifier({ loss: 0.25, accuracy: 91.234, macroF1: 90 })).toBe(
      'loss 0.2500, accuracy 91.23%, macro-F1 90.00%',
    );
    expect(describeClassifier({})).toBe('loss —, accuracy —%, macro-F1 —%');
    expect(pct(0.91234)).toBe('91.23%');
    expect(pct(1)).toBe('100.00%');
  });

  it('pretrainedLine: coverage of the vocabulary by the vectors file', () => {
    expect(pretrainedLine({ file: 'glove.txt', words: 100, found: 90, exact: 80, lowercase: 10 })).toBe(
      'pretrained embeddings from glove.txt: 90 of 100 vocabulary words found (80 as written, 10 lowercased)\n',
    );
  });

  it('classifierRunSummary: split sizes, labels, and the model with bidirectional and embedding keep only when set', () => {
    expect(classifierRunSummary(run)).toBe(
      'data: 80 training, 10 validation, 10 test examples (seeded split, seed 2); labels neg, pos\n' +
        'model: 1×lstm 32 units, mean pooling, 54,321 weights\n',
    );
    expect(
      classifierRunSummary({ ...run, model: { ...model, layers: 2, bidirectional: true, embeddingKeep: 0.8 } }),
    ).toMatch(/\nmodel: 2×bidirectional lstm 32 units, mean pooling, embedding keep 0\.8, 54,321 weights\n$/);
  });

  it('runTestLine: the best model on the test part, and logistic regression when it was trained', () => {
    const s = { valid: 0.9, test: 0.85, testMacroF1: 0.8, majority: 0.5 };
    expect(runTestLine(20, s)).toBe('test (best model, 20 held-out examples): accuracy 85.00%, macro-F1 80.00%\n');
    expect(runTestLine(20, { ...s, logistic: 0.75 })).toBe(
      'test (best model, 20 held-out examples): accuracy 85.00%, macro-F1 80.00%; ' +
        'bag-of-words logistic regression on the same split 75.00%\n',
    );
  });

  it('classifierRunsReport: mean ± sd over runs and the paired differences with each baseline, in points', () => {
    const scores = [
      { valid: 0.8, test: 0.9, testMacroF1: 0.9, logistic: 0.85, majority: 0.5 },
      { valid: 0.9, test: 0.8, testMacroF1: 0.8, logistic: 0.85, majority: 0.5 },
    ];
    const lines = classifierRunsReport(scores, { seeds: 2, folds: 1 }).split('\n');
    expect(lines[0]).toBe('over 2 runs (2 seeds, each on its own split), mean ± sd:');
    expect(lines[1]).toBe('  validation accuracy (best model)   85.00 ± 7.07%');
    expect(lines[2]).toBe('  test accuracy (best model)         85.00 ± 7.07%');
    expect(lines[3]).toBe(
      `  ${'bag-of-words logistic regression'.padEnd(34)} 85.00 ± 0.00%; model − baseline +0.00 points, ` +
        'standard error 5.00 (0.00 standard errors)',
    );
    expect(lines[4]).toBe(
      `  ${'majority class'.padEnd(34)} 50.00 ± 0.00%; model − baseline +35.00 points, ` +
        'standard error 5.00 (7.00 standard errors)',
    );
    expect(lines).toHaveLength(6);
    const noLogistic = scores.map(({ logistic: _, ...s }) => s);
    const folds = classifierRunsReport(noLogistic, { seeds: 1, folds: 5 });
    expect(folds).toMatch(/^over 2 runs \(5-fold cross-validation × 1 seed\), mean ± sd:\n/);
    expect(folds).not.toMatch(/logistic/);
    expect(classifierRunsReport(noLogistic, { seeds: 2, folds: 3 })).toMatch(/3-fold cross-validation × 2 seeds/);
  });

  it('the eval lines: which part was scored, and accuracy and macro-F1 of the model and each baseline', () => {
    const split = { validSplit: 0.1, testSplit: 0.2, seed: 3 };
    expect(evalHeader(['a.tsv', 'b.tsv'], 'all', 50, split)).toBe('a.tsv, b.tsv, all 50 examples\n');
    expect(evalHeader(['a.tsv'], 'test', 10, split)).toBe(
      'a.tsv, the test part (10 examples; shares valid 0.1, test 0.2, seed 3)\n',
    );
    expect(accuracyLine('model', { accuracy: 0.5, macroF1: 0.25 })).toBe('model: accuracy 50.00%, macro-F1 25.00%\n');
    expect(accuracyLine(majorityName('pos'), { accuracy: 0.6, macroF1: 0.375 })).toBe(
      'majority class ("pos" in the train part): accuracy 60.00%, macro-F1 37.50%\n',
    );
    expect(accuracyLine(LOGISTIC_NAME, { accuracy: 1, macroF1: 1 })).toBe(
      'bag-of-words logistic regression (binary features, L2 1e-3, trained on the train part): ' +
        'accuracy 100.00%, macro-F1 100.00%\n',
    );
  });
});
