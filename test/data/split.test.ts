import { describe, it, expect } from 'vitest';
import { splitCorpus, splitOf, SplitError } from '../../src/data/split.js';

const items = Array.from({ length: 1000 }, (_, i) => i);

describe('splitCorpus', () => {
  it('takes the requested fractions, disjoint and together complete, each in input order', () => {
    const s = splitCorpus(items, { valid: 0.1, test: 0.05, seed: 1 });
    expect([s.train.length, s.valid.length, s.test.length]).toEqual([850, 100, 50]);
    expect([...s.train, ...s.valid, ...s.test].sort((a, b) => a - b)).toEqual(items);
    for (const part of [s.train, s.valid, s.test]) expect(part).toEqual([...part].sort((a, b) => a - b));
  });

  it('draws valid and test from the whole corpus, not from its end (Tatoeba is sorted by length)', () => {
    const s = splitCorpus(items, { valid: 0.1, test: 0.1, seed: 1 });
    expect(Math.min(...s.test)).toBeLessThan(200);
    expect(Math.max(...s.test)).toBeGreaterThan(800);
  });

  it('is the same for the same seed and different for another', () => {
    expect(splitCorpus(items, { seed: 4 })).toEqual(splitCorpus(items, { seed: 4 }));
    expect(splitCorpus(items, { seed: 4 }).test).not.toEqual(splitCorpus(items, { seed: 5 }).test);
  });

  it('takes counts ≥ 1 as numbers of pairs and defaults to 5% each', () => {
    const s = splitCorpus(items, { valid: 20, test: 3 });
    expect([s.valid.length, s.test.length]).toEqual([20, 3]);
    const d = splitCorpus(items);
    expect([d.valid.length, d.test.length]).toEqual([50, 50]);
  });

  it('refuses more held-out pairs than there are', () => {
    expect(() => splitCorpus(items, { valid: 600, test: 500 })).toThrow(SplitError);
    // The message counts the items in the caller's unit.
    expect(() => splitCorpus(items, { valid: 600, test: 500 })).toThrow(
      `valid (600) + test (500) is more than the ${items.length} pairs`,
    );
    expect(() => splitCorpus(items, { valid: 600, test: 500, unit: 'lines' })).toThrow(
      `valid (600) + test (500) is more than the ${items.length} lines`,
    );
    expect(() => splitCorpus(items, { valid: 2.5 })).toThrow(SplitError);
  });
});

describe('splitOf (streaming)', () => {
  it('assigns positions deterministically with about the requested shares', () => {
    const counts = { train: 0, valid: 0, test: 0 };
    for (let i = 0; i < 100_000; i++) counts[splitOf(i, { valid: 0.1, test: 0.02, seed: 3 })]++;
    expect(counts.valid / 1e5).toBeCloseTo(0.1, 2);
    expect(counts.test / 1e5).toBeCloseTo(0.02, 2);
    expect(splitOf(12345, { seed: 3 })).toBe(splitOf(12345, { seed: 3 }));
    const differ = Array.from(
      { length: 1000 },
      (_, i) => splitOf(i, { valid: 0.5, test: 0, seed: 1 }) !== splitOf(i, { valid: 0.5, test: 0, seed: 2 }),
    );
    expect(differ.filter(Boolean).length).toBeGreaterThan(300);
  });
});
