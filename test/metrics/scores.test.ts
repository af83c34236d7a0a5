import { describe, it, expect } from 'vitest';
import {
  accuracy,
  confusionMatrix,
  classificationReport,
  macroF1,
  renderConfusionMatrix,
  mse,
  rmse,
  mae,
  perplexity,
  MetricError,
  meanAndSd,
  pairedDifference,
} from '../../src/metrics/scores.js';

// Worked by hand: true 0 0 1 1 2 2, predicted 0 1 1 1 2 0.
const expected = [0, 0, 1, 1, 2, 2];
const predicted = [0, 1, 1, 1, 2, 0];

describe('classification metrics', () => {
  it('accuracy is the share of exact matches', () => {
    expect(accuracy(predicted, expected)).toBeCloseTo(4 / 6, 12);
  });

  it('the confusion matrix has true classes as rows and predictions as columns', () => {
    expect(confusionMatrix(predicted, expected, 3)).toEqual([
      [1, 1, 0],
      [0, 2, 0],
      [1, 0, 1],
    ]);
  });

  it('per-class precision, recall and F1, and their unweighted mean', () => {
    const r = classificationReport(predicted, expected, 3);
    // class 0: 1 of 2 predicted right, 1 of 2 found; class 1: 2 of 3, 2 of 2; class 2: 1 of 1, 1 of 2.
    const want = [
      [1 / 2, 1 / 2, 1 / 2],
      [2 / 3, 1, 0.8],
      [1, 1 / 2, 2 / 3],
    ];
    r.perClass.forEach((c, k) => {
      expect(c.precision).toBeCloseTo(want[k]![0]!, 12);
      expect(c.recall).toBeCloseTo(want[k]![1]!, 12);
      expect(c.f1).toBeCloseTo(want[k]![2]!, 12);
      expect(c.support).toBe(2);
    });
    expect(r.macroF1).toBeCloseTo((0.5 + 0.8 + 2 / 3) / 3, 12);
    expect(macroF1(predicted, expected, 3)).toBe(r.macroF1);
  });

  it('counts 0 for a class never predicted and leaves out of the mean a class neither present nor predicted', () => {
    // Always predicting 1 on a balanced two-class set: class 0 has precision 0/0 → 0, F1 0; class 1 F1 2·0.5·1/1.5.
    const r = classificationReport([1, 1, 1, 1], [0, 0, 1, 1], 3);
    expect(r.perClass[0]).toEqual({ precision: 0, recall: 0, f1: 0, support: 2 });
    expect(r.macroF1).toBeCloseTo((0 + 2 / 3) / 2, 12);
  });

  it('refuses unequal lengths, empty input and classes out of range', () => {
    expect(() => accuracy([1], [1, 0])).toThrow(MetricError);
    expect(() => accuracy([], [])).toThrow('no values');
    expect(() => confusionMatrix([0, 3], [0, 1], 3)).toThrow('predicted class 3 at position 1 is outside 0..2');
  });

  it('renders the confusion matrix as an aligned table', () => {
    const text = renderConfusionMatrix(
      [
        [40, 10],
        [5, 145],
      ],
      ['neg', 'pos'],
    );
    expect(text).toBe(['true\\pred  neg  pos', '      neg   40   10', '      pos    5  145'].join('\n'));
    expect(() => renderConfusionMatrix([[1]], ['a', 'b'])).toThrow('2 labels for a 1-class matrix');
  });
});

describe('regression metrics', () => {
  it('MSE, RMSE and MAE of errors 0, −2 and 3', () => {
    expect(mse([1, 2, 3], [1, 4, 0])).toBeCloseTo(13 / 3, 12);
    expect(rmse([1, 2, 3], [1, 4, 0])).toBeCloseTo(Math.sqrt(13 / 3), 12);
    expect(mae([1, 2, 3], [1, 4, 0])).toBeCloseTo(5 / 3, 12);
    expect(() => mse([1], [])).toThrow(MetricError);
  });
});

describe('perplexity', () => {
  it('is exp of the mean NLL: a uniform choice among 4 has perplexity 4', () => {
    expect(perplexity(Math.log(4))).toBeCloseTo(4, 12);
    expect(perplexity(0)).toBe(1);
    expect(() => perplexity(-1)).toThrow(MetricError);
  });
});

describe('spread over runs', () => {
  it('mean and sample standard deviation (n − 1)', () => {
    const s = meanAndSd([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.mean).toBe(5);
    expect(s.sd).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(meanAndSd([3]).sd).toBe(0);
    expect(() => meanAndSd([])).toThrow(MetricError);
  });

  it('paired difference: mean and standard error of a − b, so a constant offset has zero error', () => {
    const d = pairedDifference([0.81, 0.79, 0.83], [0.8, 0.78, 0.82]);
    expect(d.mean).toBeCloseTo(0.01, 12);
    expect(d.se).toBeCloseTo(0, 12);
    // Differences 1, 2, 3: mean 2, sd 1, se 1/√3, t = 2√3.
    const e = pairedDifference([11, 12, 13], [10, 10, 10]);
    expect(e.se).toBeCloseTo(1 / Math.sqrt(3), 12);
    expect(e.t).toBeCloseTo(2 * Math.sqrt(3), 12);
    expect(() => pairedDifference([1], [1, 2])).toThrow(/same number of runs/);
  });
});
