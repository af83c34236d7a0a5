import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  boxCox,
  inverseBoxCox,
  boxCoxLambda,
  difference,
  integrate,
  SeriesTransform,
  SeriesTransformError,
} from '../../../src/data/series/seriesTransforms.js';
import { Rng } from '../../../src/random.js';

const positiveSeries = fc.array(fc.double({ min: 0.5, max: 1000, noNaN: true }), { minLength: 30, maxLength: 80 });
const anySeries = fc.array(fc.double({ min: -1000, max: 1000, noNaN: true }), { minLength: 30, maxLength: 80 });
const lambdas = fc.double({ min: -1, max: 2, noNaN: true });
const lagSets = fc.constantFrom<number[]>([], [1], [12], [1, 12], [12, 1], [2, 3]);

const close = (a: ArrayLike<number>, b: ArrayLike<number>, relative = 1e-9): void => {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++)
    expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(relative * Math.max(1, Math.abs(b[i]!)));
};

describe('Box-Cox', () => {
  it('matches its definition: log at λ = 0, (x^λ − 1)/λ otherwise', () => {
    expect(boxCox(Math.E, 0)).toBeCloseTo(1, 14);
    expect(boxCox(4, 0.5)).toBeCloseTo((2 - 1) / 0.5, 14);
    expect(boxCox(3, 1)).toBeCloseTo(2, 14);
    expect(boxCox(2, -1)).toBeCloseTo((0.5 - 1) / -1, 14);
  });

  it('inverse of the transform is the identity (property over positive values and λ in [−1, 2])', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.01, max: 1e4, noNaN: true }), lambdas, (x, lambda) => {
        expect(Math.abs(inverseBoxCox(boxCox(x, lambda), lambda) - x)).toBeLessThanOrEqual(1e-9 * x);
      }),
    );
  });

  it('refuses a value ≤ 0', () => {
    expect(() => boxCox(0, 0.5)).toThrow(SeriesTransformError);
    expect(() => boxCox(-2, 0)).toThrow(/positive values, got -2/);
  });

  it('estimates λ ≈ 0 for log-normal data and ≈ 0.5 for squares of normal data', () => {
    const rng = new Rng(3);
    const normal = () => Math.sqrt(-2 * Math.log(1 - rng.next())) * Math.cos(2 * Math.PI * rng.next());
    const logNormal = Array.from({ length: 2000 }, () => Math.exp(normal()));
    const squares = Array.from({ length: 2000 }, () => (10 + 3 * normal()) ** 2);
    expect(Math.abs(boxCoxLambda(logNormal))).toBeLessThan(0.1);
    expect(Math.abs(boxCoxLambda(squares) - 0.5)).toBeLessThan(0.15);
  });
});

describe('differencing and integration', () => {
  it('differences are x[t + lag] − x[t]', () => {
    expect(Array.from(difference([1, 4, 9, 16, 25], 1))).toEqual([3, 5, 7, 9]);
    expect(Array.from(difference([1, 4, 9, 16, 25], 2))).toEqual([8, 12, 16]);
  });

  it('integrating the differences of a continuation from its history reproduces the continuation (property)', () => {
    fc.assert(
      fc.property(anySeries, fc.integer({ min: 1, max: 13 }), fc.integer({ min: 14, max: 29 }), (series, lag, cut) => {
        const history = series.slice(0, cut);
        const future = series.slice(cut);
        const d = difference(series, lag).slice(cut - lag);
        close(integrate(history, d, lag), future);
      }),
    );
  });

  it('integration past the history feeds on the values it rebuilt', () => {
    // Seasonal lag 2: the pattern +1, +10 per step pair.
    expect(Array.from(integrate([5, 7], [1, 10, 1, 10], 2))).toEqual([6, 17, 7, 27]);
  });
});

describe('SeriesTransform', () => {
  it('forward then inverse of a continuation is the identity for any Box-Cox λ and lags (property)', () => {
    fc.assert(
      fc.property(positiveSeries, fc.option(lambdas, { nil: null }), lagSets, (series, lambda, differences) => {
        const t = new SeriesTransform({ boxCox: lambda, differences });
        const cut = series.length - 10;
        const history = series.slice(0, cut);
        // The transformed continuation: the last 10 transformed values of the whole series.
        const transformed = t.forward(series);
        expect(transformed.length).toBe(series.length - t.lost);
        const continuation = transformed.slice(transformed.length - 10);
        close(t.inverse(history, continuation), series.slice(cut), 1e-7);
      }),
    );
  });

  it('seasonal differencing makes a repeating season with a linear trend constant after the first difference', () => {
    const season = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8];
    const series = Array.from({ length: 48 }, (_, t) => 100 + 2 * t + season[t % 12]!);
    const t = new SeriesTransform({ differences: [12, 1] });
    expect(Array.from(t.forward(series)).every((v) => Math.abs(v) < 1e-9)).toBe(true);
    // A zero forecast of the doubly differenced series continues the trend and the season exactly.
    const next = t.inverse(series, new Float64Array(12));
    close(
      next,
      Array.from({ length: 12 }, (_, i) => 100 + 2 * (48 + i) + season[(48 + i) % 12]!),
    );
  });

  it('round-trips through JSON and refuses a malformed one', () => {
    const t = new SeriesTransform({ boxCox: 0.25, differences: [1, 12] });
    const back = SeriesTransform.fromJSON(JSON.parse(JSON.stringify(t.toJSON())));
    expect(back.options).toEqual(t.options);
    expect(() => SeriesTransform.fromJSON({ boxCox: 'log', differences: [] }, 'm/model.json')).toThrow(
      /m\/model\.json: expected/,
    );
    expect(() => new SeriesTransform({ differences: [0] })).toThrow(SeriesTransformError);
  });

  it('names the problem when too few values remain', () => {
    const t = new SeriesTransform({ differences: [12] });
    expect(() => t.forward([1, 2, 3])).toThrow(/leave nothing after differencing/);
    expect(() => t.inverse([1, 2, 3], [0])).toThrow(/needs 12 observed values/);
  });
});
