import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../../../src/random.js';
import { readTimeSeriesCsv, splitChronological, makeWindows } from '../../../src/data/series/timeSeries.js';
import {
  naiveForecast,
  seasonalNaiveForecast,
  LinearAutoregression,
  scoreForecasts,
  evaluateBaselines,
  ForecastError,
  type ForecastExample,
} from '../../../src/heads/forecaster/baselines.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const airline = path.resolve(here, '../../../../shared/corpora/airline-passengers/airline-passengers.csv');

describe('naive forecasts', () => {
  it('naive repeats the last value', () => {
    expect(Array.from(naiveForecast([1, 2, 3], 3))).toEqual([3, 3, 3]);
    expect(() => naiveForecast([], 1)).toThrow(ForecastError);
  });

  it('seasonal naive repeats the last season', () => {
    expect(Array.from(seasonalNaiveForecast([1, 2, 3, 4, 5, 6], 6, 4))).toEqual([3, 4, 5, 6, 3, 4]);
    expect(Array.from(seasonalNaiveForecast([7, 8], 1, 1))).toEqual([8]);
    expect(() => seasonalNaiveForecast([1, 2], 1, 3)).toThrow('needs a window of at least one season (3)');
  });
});

/** Windows of y[t] = 1 + 0.3·y[t−2] + 0.5·y[t−1] from random starts, with the next `k` values. */
function arExamples(n: number, k: number): ForecastExample[] {
  const rng = new Rng(3);
  return Array.from({ length: n }, () => {
    const y = [rng.uniform(-5, 5), rng.uniform(-5, 5)];
    for (let h = 0; h < k; h++) y.push(1 + 0.3 * y.at(-2)! + 0.5 * y.at(-1)!);
    return { input: y.slice(0, 2), target: y.slice(2) };
  });
}

describe('LinearAutoregression', () => {
  it('recovers the coefficients of a noiseless AR(2) (intercept, then oldest to newest)', () => {
    const model = LinearAutoregression.fit(arExamples(50, 1), { order: 2 });
    const c = Array.from(model.coefficients[0]!);
    expect(c[0]).toBeCloseTo(1, 4);
    expect(c[1]).toBeCloseTo(0.3, 4);
    expect(c[2]).toBeCloseTo(0.5, 4);
  });

  it('forecasts several steps by feeding its predictions back, as the recursion does by hand', () => {
    const model = LinearAutoregression.fit(arExamples(50, 1), { order: 2 });
    // From [2, 4]: 1 + 0.6 + 2 = 3.6; 1 + 1.2 + 1.8 = 4; 1 + 1.08 + 2 = 4.08
    const f = model.forecast([9, 2, 4], 3);
    [3.6, 4, 4.08].forEach((y, i) => expect(f[i]).toBeCloseTo(y, 4));
  });

  it('direct multi-step (horizon 3) fits the same multi-step map of a linear recursion', () => {
    const model = LinearAutoregression.fit(arExamples(50, 3), { order: 2, horizon: 3 });
    const f = model.forecast([2, 4], 5);
    // beyond the horizon: from [4, 4.08] → 1 + 1.2 + 2.04 = 4.24, then 1 + 1.224 + 2.12 = 4.344
    [3.6, 4, 4.08, 4.24, 4.344].forEach((y, i) => expect(f[i]).toBeCloseTo(y, 3));
  });

  it('refuses singular normal equations without ridge, windows shorter than the order, and short targets', () => {
    const constant = Array.from({ length: 5 }, () => ({ input: [2, 2], target: [2] }));
    expect(() => LinearAutoregression.fit(constant, { ridge: 0 })).toThrow('singular');
    expect(LinearAutoregression.fit(constant).forecast([2, 2], 1)[0]).toBeCloseTo(2, 6);
    expect(() => LinearAutoregression.fit([{ input: [1], target: [1] }], { order: 2 })).toThrow(
      'fewer than the order 2',
    );
    expect(() => LinearAutoregression.fit([{ input: [1, 2], target: [1] }], { horizon: 2 })).toThrow(
      'fewer than the horizon 2',
    );
  });
});

describe('scoreForecasts', () => {
  it('scores all values, each step ahead and the last step', () => {
    // errors: step 1 → 0 and 2, step 2 → 1 and 0
    const s = scoreForecasts(
      [
        [1, 2],
        [3, 4],
      ],
      [
        [1, 3],
        [5, 4],
      ],
    );
    expect(s.mseByStep).toEqual([2, 0.5]);
    expect([s.mse, s.lastStepMse, s.mae]).toEqual([1.25, 0.5, 0.75]);
    expect(s.rmse).toBeCloseTo(Math.sqrt(1.25), 12);
    expect(() =>
      scoreForecasts(
        [[1, 2], [3]],
        [
          [1, 2],
          [3, 4],
        ],
      ),
    ).toThrow(ForecastError);
  });
});

describe('evaluateBaselines on airline passengers (train 120 months, forecast the last 24)', () => {
  it('scores naive and seasonal naive as computed directly from the data, and a linear AR fitted on training windows', async () => {
    const { train, test } = splitChronological(await readTimeSeriesCsv(airline), { train: 120, test: 24 });
    const y = train.columns[0]!;
    const truth = test.columns[0]!;
    const windows = makeWindows([y], { window: 12, horizon: 24 });
    const s = evaluateBaselines(windows, [{ input: y, target: truth }], {
      season: 12,
      linear: { order: 12, horizon: 24 },
    });
    // Naive: December 1958 (337) for all 24 months; seasonal naive: 1958's months twice.
    let naive = 0;
    let seasonal = 0;
    for (let h = 0; h < 24; h++) {
      naive += (truth[h]! - 337) ** 2;
      seasonal += (truth[h]! - y[108 + (h % 12)]!) ** 2;
    }
    expect(y[119]).toBe(337);
    expect(s.naive.rmse).toBeCloseTo(Math.sqrt(naive / 24), 10);
    expect(s.seasonalNaive!.rmse).toBeCloseTo(Math.sqrt(seasonal / 24), 10);
    expect(s.seasonalNaive!.rmse).toBeLessThan(s.naive.rmse);
    // Trend and season together: the linear model beats repeating last year.
    expect(s.linear.rmse).toBeLessThan(s.seasonalNaive!.rmse);
  });
});

describe('LinearAutoregression JSON', () => {
  it('round-trips: the rebuilt model forecasts the same values; a malformed one names the file', () => {
    const xs = Array.from({ length: 40 }, (_, t) => Math.sin(t / 3) + 0.1 * t);
    const windows = Array.from({ length: 30 }, (_, s) => ({
      input: xs.slice(s, s + 5),
      target: xs.slice(s + 5, s + 7),
    }));
    const ar = LinearAutoregression.fit(windows, { order: 4, horizon: 2 });
    const back = LinearAutoregression.fromJSON(JSON.parse(JSON.stringify(ar.toJSON())));
    expect(Array.from(back.forecast(xs, 6))).toEqual(Array.from(ar.forecast(xs, 6)));
    expect(() =>
      LinearAutoregression.fromJSON({ order: 4, horizon: 2, coefficients: [[1, 2]] }, 'm/model.json'),
    ).toThrow(/m\/model\.json: expected/);
  });
});
