import { describe, it, expect } from 'vitest';
import type { StagedMemory } from '../../src/backend/jsKernels.js';
import { gruStepValues, gruStepGradValues, gruStepStaged, registerGruKernels } from '../../src/recurrent/gruKernels.js';
import { Rng } from '../../src/random.js';

describe('gruStepValues', () => {
  // B = 1, H = 1, step t = 1 of 2 (so row 1 of xp and entry 1 of the mask are read).
  //   r  = σ(0.5 + 0.2 + 0.1)              = σ(0.8)        = 0.6899744811
  //   z  = σ(−0.5 + 0.1 + 0.2)             = σ(−0.2)       = 0.4501660027
  //   un = −0.4 + 0.3                                       = −0.1
  //   n  = tanh(1.0 + r·un) = tanh(0.9310025519)            = 0.7310609762
  //   h' = (1 − z)·n + z·h  with h = 0.6                    = 0.6720617804
  const xp = new Float32Array([9, 9, 9, 0.5, -0.5, 1.0]); // row 0 is another step's and must not be read
  const hU = new Float32Array([0.2, 0.1, -0.4]);
  const c = new Float32Array([0.1, 0.2, 0.3]);
  const h = new Float32Array([0.6]);

  it("computes r, z, n and h' of the reset-after GRU on a hand-worked 1×1 example", () => {
    const hNew = new Float32Array(1);
    const cache = new Float32Array(4);
    gruStepValues(xp, hU, c, h, new Float32Array([0, 1]), 1, 1, 1, hNew, cache);
    expect(hNew[0]).toBeCloseTo(0.6720617804, 6);
    expect(cache[0]).toBeCloseTo(0.6899744811, 6); // r
    expect(cache[1]).toBeCloseTo(0.4501660027, 6); // z
    expect(cache[2]).toBeCloseTo(0.7310609762, 6); // n
    expect(cache[3]).toBeCloseTo(-0.1, 6); // h·U_n + c_n
  });

  it('treats an absent mask as all real', () => {
    const hNew = new Float32Array(1);
    gruStepValues(xp, hU, c, h, undefined, 1, 1, 1, hNew, new Float32Array(4));
    expect(hNew[0]).toBeCloseTo(0.6720617804, 6);
  });

  it('carries h unchanged at a padding position', () => {
    const hNew = new Float32Array(1);
    gruStepValues(xp, hU, c, h, new Float32Array([1, 0]), 1, 1, 1, hNew, new Float32Array(4));
    expect(hNew[0]).toBe(Math.fround(0.6));
  });

  it('saturates tanh to ±1 for huge pre-activations instead of giving NaN', () => {
    const hNew = new Float32Array(2);
    const cache = new Float32Array(8);
    gruStepValues(
      new Float32Array([0, 0, 1e5, 0, 0, -1e5]),
      new Float32Array(6),
      new Float32Array(3),
      new Float32Array(2),
      undefined,
      0,
      2,
      1,
      hNew,
      cache,
    );
    expect(cache[2]).toBe(1);
    expect(cache[6]).toBe(-1);
    expect(Array.from(hNew)).toEqual([0.5, -0.5]);
  });
});

describe('gruStepStaged (the vectorised-sigmoid form the wasm kernel runs)', () => {
  /** A StagedMemory over plain arrays whose sigmoid is exact (float64, then rounded). */
  function plainMemory(ins: (Float32Array | undefined)[], outs: Float32Array[]): StagedMemory {
    const scratch: Float32Array[] = [];
    return {
      scratch: (size) => scratch.push(new Float32Array(size)) - 1,
      sigmoid: (src) => scratch.push(scratch[src]!.map((x) => 1 / (1 + Math.exp(-x)))) - 1,
      views: () => ({ ins, outs, scratch }),
    };
  }

  it('equals gruStepValues on random inputs with padding, including saturated pre-activations', () => {
    const rng = new Rng(9);
    const [Tn, Bn, Hn] = [3, 6, 7];
    const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);
    const xp = rand(Tn * Bn * 3 * Hn, 3);
    xp[2 * Hn] = 1e5; // tanh → +1
    xp[3 * Hn + 2 * Hn] = -1e5; // next row: tanh → −1
    const hU = rand(Bn * 3 * Hn, 2);
    const c = rand(3 * Hn, 1);
    const h = rand(Bn * Hn, 1);
    const mask = Float32Array.from({ length: Tn * Bn }, (_, i) => (i % 4 === 3 ? 0 : 1));
    for (const m of [mask, undefined]) {
      for (let t = 0; t < Tn; t++) {
        const want = [new Float32Array(Bn * Hn), new Float32Array(Bn * 4 * Hn)];
        gruStepValues(xp, hU, c, h, m, t, Bn, Hn, want[0]!, want[1]!);
        const got = [new Float32Array(Bn * Hn), new Float32Array(Bn * 4 * Hn)];
        gruStepStaged(plainMemory([xp, hU, c, h, m], got), t, Bn, Hn);
        for (let k = 0; k < 2; k++)
          for (let i = 0; i < want[k]!.length; i++) expect(Math.abs(got[k]![i]! - want[k]![i]!)).toBeLessThan(1e-6);
        // Padding carries h bit for bit.
        for (let b = 0; b < Bn; b++)
          if (m !== undefined && m[t * Bn + b] === 0)
            expect(got[0]!.slice(b * Hn, (b + 1) * Hn)).toEqual(h.slice(b * Hn, (b + 1) * Hn));
      }
    }
    // Without a cache output (decoding) h′ is the same, bit for bit.
    for (let t = 0; t < Tn; t++) {
      const withCache = [new Float32Array(Bn * Hn), new Float32Array(Bn * 4 * Hn)];
      gruStepStaged(plainMemory([xp, hU, c, h, mask], withCache), t, Bn, Hn);
      const alone = [new Float32Array(Bn * Hn)];
      gruStepStaged(plainMemory([xp, hU, c, h, mask], alone), t, Bn, Hn);
      expect(alone[0]).toEqual(withCache[0]);
    }
    const sat = [new Float32Array(Bn * Hn), new Float32Array(Bn * 4 * Hn)];
    gruStepStaged(plainMemory([xp, hU, c, h, undefined], sat), 0, Bn, Hn);
    expect(sat[1]![2 * Hn]).toBe(1);
    expect(sat[1]![4 * Hn + 2 * Hn]).toBe(-1);
  });
});

describe('gruStepGradValues', () => {
  // Continuing the example above with g = dOut + dhA + dhB = 0.3 + 0.2 − 0.1 = 0.4:
  //   dnPre = g(1 − z)(1 − n²)      = 0.1023900538
  //   drPre = dnPre·un·r(1 − r)     = −0.0021902225
  //   dzPre = g(h − n)·z(1 − z)     = −0.0129759055
  //   dGate = [drPre, dzPre, dnPre·r = 0.0706465242];  dXp = [drPre, dzPre, dnPre];  dhDirect = g·z = 0.1800664011
  const cache = new Float32Array([0.6899744811, 0.4501660027, 0.7310609762, -0.1]);
  const h = new Float32Array([0.6]);
  const dOut = new Float32Array([5, 0.3]); // row 0 belongs to step 0
  const dhA = new Float32Array([0.2]);
  const dhB = new Float32Array([-0.1]);

  it('gives the gate, input and direct state gradients of a hand-worked 1×1 example', () => {
    const dGate = new Float32Array(3),
      dXp = new Float32Array(3),
      dh = new Float32Array(1);
    gruStepGradValues(dOut, dhA, dhB, cache, h, new Float32Array([0, 1]), 1, 1, 1, dGate, dXp, dh);
    const expected = {
      dGate: [-0.0021902225, -0.0129759055, 0.0706465242],
      dXp: [-0.0021902225, -0.0129759055, 0.1023900538],
    };
    Array.from(dGate).forEach((x, i) => expect(x).toBeCloseTo(expected.dGate[i]!, 6));
    Array.from(dXp).forEach((x, i) => expect(x).toBeCloseTo(expected.dXp[i]!, 6));
    expect(dh[0]).toBeCloseTo(0.1800664011, 6);
  });

  it('at a padding position passes the whole gradient to h and none to the gates', () => {
    const dGate = new Float32Array(3).fill(7),
      dXp = new Float32Array(3).fill(7),
      dh = new Float32Array(1);
    gruStepGradValues(dOut, dhA, dhB, cache, h, new Float32Array([1, 0]), 1, 1, 1, dGate, dXp, dh);
    expect(Array.from(dGate)).toEqual([0, 0, 0]);
    expect(Array.from(dXp)).toEqual([0, 0, 0]);
    expect(dh[0]).toBeCloseTo(0.4, 6);
  });
});

describe('registerGruKernels', () => {
  it('may run again after the registration on load', () => {
    expect(() => registerGruKernels()).not.toThrow();
  });
});
