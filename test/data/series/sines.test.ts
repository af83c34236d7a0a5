import { describe, it, expect } from 'vitest';
import { Rng } from '../../../src/random.js';
import { generateTimeSeries, sinesDataset } from '../../../src/data/series/sines.js';

describe('generateTimeSeries', () => {
  it("follows the book's formula (Géron, Hands-On Machine Learning, RNN chapter) with the draws in NumPy order (all freq1, freq2, offsets1, offsets2, then noise)", () => {
    const series = generateTimeSeries(2, 3, new Rng(11));
    const r = new Rng(11);
    const u = Array.from({ length: 8 }, () => r.next());
    const [freq1, freq2, off1, off2] = [u.slice(0, 2), u.slice(2, 4), u.slice(4, 6), u.slice(6, 8)];
    const time = [0, 0.5, 1];
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 3; t++) {
        const noise = r.next();
        const x = time[t]!;
        const expected =
          0.5 * Math.sin((x - off1[b]!) * (freq1[b]! * 10 + 10)) +
          0.2 * Math.sin((x - off2[b]!) * (freq2[b]! * 20 + 20)) +
          0.1 * (noise - 0.5);
        expect(series[b]![t]).toBeCloseTo(expected, 6);
      }
    }
  });

  it('is the same for the same seed, different for another, and bounded by 0.5 + 0.2 + 0.05', () => {
    const a = generateTimeSeries(20, 51, new Rng(1));
    expect(a).toHaveLength(20);
    expect(a.every((s) => s.length === 51)).toBe(true);
    expect(generateTimeSeries(20, 51, new Rng(1))).toEqual(a);
    expect(generateTimeSeries(20, 51, new Rng(2))).not.toEqual(a);
    expect(Math.max(...a.map((s) => Math.max(...s.map(Math.abs))))).toBeLessThanOrEqual(0.75);
  });
});

describe('sinesDataset', () => {
  it("splits 7,000/2,000/1,000 and reproduces the book's naive 1-step MSE (0.0206) on test", () => {
    const { train, valid, test } = sinesDataset({ seed: 1 });
    expect([train.length, valid.length, test.length]).toEqual([7000, 2000, 1000]);
    expect([test[0]!.input.length, test[0]!.target.length]).toEqual([50, 1]);
    let sum = 0;
    for (const e of test) sum += (e.input[49]! - e.target[0]!) ** 2;
    expect(sum / test.length).toBeGreaterThan(0.018);
    expect(sum / test.length).toBeLessThan(0.023);
  });

  it('sequence mode: at step t the k values after t, the known input values where they overlap', () => {
    const { train } = sinesDataset({ sizes: [3, 1, 1], ahead: 10, mode: 'sequence', seed: 2 });
    const e = train[0]!;
    expect(e.target.length).toBe(50 * 10);
    for (let t = 0; t < 49; t++) expect(e.target[t * 10]).toBe(e.input[t + 1]);
    // The last step's targets are the 10 values after the window, as in vector mode.
    const vector = sinesDataset({ sizes: [3, 1, 1], ahead: 10, seed: 2 }).train[0]!;
    expect(Array.from(e.target.subarray(490))).toEqual(Array.from(vector.target));
  });
});
