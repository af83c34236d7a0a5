import { describe, it, expect } from 'vitest';
import { extendPath, hypothesisOf } from '../../src/search/hypothesisPath.js';

describe('hypothesis paths', () => {
  it('reads out the tokens in order; siblings share their prefix and extending copies nothing', () => {
    const shared = extendPath(extendPath(null, 7, undefined), 8, undefined);
    const [left, right] = [extendPath(shared, 9, undefined), extendPath(shared, 10, undefined)];
    expect(left.parent).toBe(right.parent);
    expect(hypothesisOf(left, undefined, -2)).toEqual({ ids: [7, 8, 9], logProb: -2, score: -2 });
    expect(hypothesisOf(right, undefined, -3).ids).toEqual([7, 8, 10]);
    expect(hypothesisOf(null, undefined, -1)).toEqual({ ids: [], logProb: -1, score: -1 });
  });

  it("gives each token's alignment and weights, then the final EOS's", () => {
    const w = (x: number) => Float32Array.of(x, 1 - x);
    const path = extendPath(extendPath(null, 5, { best: 1, weights: w(0.25) }), 6, { best: 0, weights: w(0.75) });
    const h = hypothesisOf(path, { best: 1, weights: w(0.5) }, -4);
    expect(h.ids).toEqual([5, 6]);
    expect(h.alignment).toEqual([1, 0, 1]);
    expect(h.attention).toEqual([w(0.25), w(0.75), w(0.5)]);
    const bare = hypothesisOf(extendPath(null, 5, { best: 1 }), { best: 0 }, -1);
    expect(bare).toEqual({ ids: [5], logProb: -1, score: -1, alignment: [1, 0] });
  });

  it('reads out a path of 10,000 tokens', () => {
    let path = null;
    for (let t = 0; t < 10_000; t++) path = extendPath(path, t % 50, { best: t % 3 });
    const h = hypothesisOf(path, { best: 2 }, 0);
    expect(h.ids).toHaveLength(10_000);
    expect(h.ids[9_999]).toBe(9_999 % 50);
    expect(h.alignment![10_000]).toBe(2);
  });
});
