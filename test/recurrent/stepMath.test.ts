import { describe, it, expect } from 'vitest';
import { exp, sigmoid, tanh } from '../../src/recurrent/stepMath.js';
import { Rng } from '../../src/random.js';

describe('stepMath', () => {
  it('exp is within 1e-8 relative of Math.exp over float32 range, exact at 0, clamped beyond it, NaN stays NaN', () => {
    const rng = new Rng(5);
    let worst = 0;
    for (let i = 0; i < 200_000; i++) {
      const x = rng.uniform(-87, 88);
      worst = Math.max(worst, Math.abs(exp(x) / Math.exp(x) - 1));
    }
    // Near table boundaries too: k/32·ln 2 ± tiny.
    for (let k = -2000; k <= 2000; k++)
      for (const d of [-1e-9, 0, 1e-9]) {
        const x = (k / 32) * Math.LN2 + d;
        worst = Math.max(worst, Math.abs(exp(x) / Math.exp(x) - 1));
      }
    expect(worst).toBeLessThan(1e-8);
    expect(exp(0)).toBe(1);
    expect(exp(1000) / Math.exp(88)).toBeCloseTo(1, 8);
    expect(exp(-1000) / Math.exp(-87)).toBeCloseTo(1, 8);
    expect(exp(Number.NaN)).toBeNaN();
  });

  it('sigmoid and tanh match their definitions and saturate cleanly', () => {
    for (const x of [-30, -5, -1, -1e-3, 0, 1e-3, 0.5, 2, 7, 30]) {
      expect(sigmoid(x)).toBeCloseTo(1 / (1 + Math.exp(-x)), 9);
      expect(tanh(x)).toBeCloseTo(Math.tanh(x), 9);
    }
    expect(sigmoid(-1e6)).toBeGreaterThanOrEqual(0);
    expect(sigmoid(1e6)).toBe(1);
    expect(tanh(1e6)).toBe(1);
    expect(tanh(-1e6)).toBe(-1);
  });
});
