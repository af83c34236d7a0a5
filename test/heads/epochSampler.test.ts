import { describe, it, expect } from 'vitest';
import { EpochSampler } from '../../src/heads/epochSampler.js';

describe('EpochSampler', () => {
  it('draws every example once per epoch, in an order that changes between epochs', () => {
    const s = new EpochSampler(10, { batchSize: 4, seed: 3 });
    const epoch = (): number[] => [s.next(), s.next(), s.next()].flat();
    const first = epoch();
    expect([...first].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const second = epoch();
    expect([...second].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(second).not.toEqual(first);
    expect(s.getState()).toEqual({ epoch: 1, step: 3 });
  });

  it('groups similar lengths when lengths are given, and a restored state continues with the same batches', () => {
    const lengths = Array.from({ length: 64 }, (_, i) => (i * 37) % 50);
    const a = new EpochSampler(64, { batchSize: 8, seed: 1, pool: 8 }, lengths);
    const spreads: number[] = [];
    for (let i = 0; i < 8; i++) {
      const batch = a.next().map((k) => lengths[k]!);
      spreads.push(Math.max(...batch) - Math.min(...batch));
    }
    // One pool holds the whole epoch here: sorted batches have a far smaller spread than random ones (~40).
    expect(Math.max(...spreads)).toBeLessThan(15);
    a.next();
    const state = a.getState();
    const expected = [a.next(), a.next(), a.next()];
    const b = new EpochSampler(64, { batchSize: 8, seed: 1, pool: 8 }, lengths);
    b.setState(state);
    expect([b.next(), b.next(), b.next()]).toEqual(expected);
    expect(() => b.setState({ epoch: -1 })).toThrow(/not \{epoch, step\}/);
  });
});
