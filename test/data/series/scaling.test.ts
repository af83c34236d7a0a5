import { describe, it, expect } from 'vitest';
import { Scaler, ScalerError } from '../../../src/data/series/scaling.js';

describe('Scaler standard', () => {
  it('centres on the training mean and divides by the population std', () => {
    // mean 2.5, variance (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25
    const s = Scaler.fit([[1, 2, 3, 4]]);
    expect(s.transformValue(1)).toBeCloseTo(-1.5 / Math.sqrt(1.25), 12);
    expect(s.transformValue(2.5)).toBe(0);
    // A later (test) value is scaled with the training statistics, not its own.
    expect(s.transformValue(10)).toBeCloseTo(7.5 / Math.sqrt(1.25), 12);
    expect(s.toJSON()).toEqual({
      format: 'seq2seq-ts/scaler@1',
      kind: 'standard',
      columns: [{ mean: 2.5, std: Math.sqrt(1.25) }],
    });
  });

  it('keeps a constant column finite (shifted, not divided by zero) and invertible', () => {
    const s = Scaler.fit([[5, 5, 5]]);
    expect(s.transformValue(5)).toBe(0);
    expect(s.transformValue(7)).toBe(2);
    expect(s.inverseValue(2)).toBe(7);
  });
});

describe('Scaler minmax', () => {
  it('maps the training min and max to the ends of the range', () => {
    const s = Scaler.fit([[2, 4, 6]], { kind: 'minmax', range: [-1, 1] });
    expect(Array.from(s.transform([2, 4, 6, 8]))).toEqual([-1, 0, 1, 2]);
    expect(Array.from(s.inverse([-1, 0, 1, 2]))).toEqual([2, 4, 6, 8]);
  });

  it('defaults to [0, 1] and refuses a reversed range', () => {
    expect(Scaler.fit([[10, 20]], { kind: 'minmax' }).transformValue(15)).toBe(0.5);
    expect(() => Scaler.fit([[1, 2]], { kind: 'minmax', range: [1, 0] })).toThrow(ScalerError);
  });
});

describe('Scaler columns and interleaved arrays', () => {
  const s = Scaler.fit(
    [
      [0, 10],
      [100, 300],
    ],
    { kind: 'minmax' },
  );

  it('scales each column with its own statistics', () => {
    expect(s.transformValue(5, 0)).toBe(0.5);
    expect(s.transformValue(250, 1)).toBe(0.75);
    expect(() => s.transformValue(1, 2)).toThrow('column 2 is not one of the scaler');
  });

  it('scales step-major windows [steps · F] and forecasts of chosen columns, and inverts them', () => {
    const window = Float32Array.from([5, 200, 10, 300]);
    expect(Array.from(s.transformInterleaved(window))).toEqual([0.5, 0.5, 1, 1]);
    const forecast = Float32Array.from([0.25, 0.5, 1]); // three steps of column 1 only
    expect(Array.from(s.inverseInterleaved(forecast, [1]))).toEqual([150, 200, 300]);
    expect(() => s.transformInterleaved(Float32Array.from([1, 2, 3]))).toThrow('do not divide into steps of 2 columns');
  });
});

describe('Scaler JSON', () => {
  it('round-trips through JSON text and scales the same afterwards', () => {
    for (const original of [
      Scaler.fit([
        [1, 2, 4],
        [3, 3, 9],
      ]),
      Scaler.fit([[1, 7]], { kind: 'minmax', range: [-1, 1] }),
    ]) {
      const copy = Scaler.fromJSON(JSON.parse(JSON.stringify(original)));
      expect(copy.kind).toBe(original.kind);
      expect(copy.toJSON()).toEqual(original.toJSON());
      for (let c = 0; c < original.columns; c++)
        expect(copy.transformValue(3.3, c)).toBe(original.transformValue(3.3, c));
    }
  });

  it('names the source and the problem in bad JSON', () => {
    expect(() => Scaler.fromJSON({ kind: 'standard' }, 'model/scaler.json')).toThrow(
      'model/scaler.json: not a seq2seq-ts scaler',
    );
    expect(() => Scaler.fromJSON({ format: 'seq2seq-ts/scaler@1', kind: 'robust', columns: [] }, 's')).toThrow(
      'unknown scaler kind "robust"',
    );
    expect(() =>
      Scaler.fromJSON({ format: 'seq2seq-ts/scaler@1', kind: 'standard', columns: [{ mean: 1 }] }, 's'),
    ).toThrow('column 0 needs finite numbers "mean" and "std"');
    expect(() =>
      Scaler.fromJSON({ format: 'seq2seq-ts/scaler@1', kind: 'minmax', columns: [{ min: 0, max: 1 }] }, 's'),
    ).toThrow('"range" must be two increasing numbers');
  });

  it('refuses to fit on non-finite or missing values', () => {
    expect(() => Scaler.fit([[1, NaN]])).toThrow('column 0 value 1 is NaN');
    expect(() => Scaler.fit([[]])).toThrow('no values');
  });
});
