// The seeded generator: xoshiro128** against the reference algorithm (written here with BigInt, independently of
// the source's 32-bit tricks) and its published first outputs, splitmix32 seeding, the derived draws (ranges,
// moments), shuffling, forking, and saving/restoring the state.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Rng, type RngState } from '../src/random.js';
import { fuzzRuns } from './fuzz/settings.js';

const M32 = (1n << 32n) - 1n;
const rotl = (x: bigint, k: bigint): bigint => ((x << k) | (x >> (32n - k))) & M32;

/** xoshiro128** (Blackman & Vigna, xoshiro128starstar.c) in BigInt arithmetic. */
function referenceXoshiro(state: readonly number[], n: number): number[] {
  const s = state.map((v) => BigInt(v));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    out.push(Number((rotl((s[1]! * 5n) & M32, 7n) * 9n) & M32));
    const t = (s[1]! << 9n) & M32;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11n);
  }
  return out;
}

/** The documented seeding: splitmix32 steps of the golden-ratio increment, one per state word. */
function referenceSeed(seed: number): number[] {
  let x = BigInt(seed >>> 0);
  const state: number[] = [];
  for (let i = 0; i < 4; i++) {
    x = (x + 0x9e3779b9n) & M32;
    let z = x;
    z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M32;
    z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M32;
    state.push(Number(z ^ (z >> 16n)));
  }
  return state;
}

const draws = (rng: Rng, n: number): number[] => Array.from({ length: n }, () => rng.nextUint32());

describe('xoshiro128**', () => {
  it("gives the reference implementation's first outputs from the state [1, 2, 3, 4]", () => {
    const rng = new Rng([1, 2, 3, 4]);
    // The first four by hand: rotl(2·5, 7)·9 = 11520; then s1 = 0 gives 0; …
    expect(draws(rng, 4)).toEqual([11520, 0, 5927040, 70819200]);
    expect(draws(new Rng([1, 2, 3, 4]), 200)).toEqual(referenceXoshiro([1, 2, 3, 4], 200));
  });

  it('follows the reference algorithm from any state (property)', () => {
    const word = fc.integer({ min: 0, max: 0xffffffff });
    fc.assert(
      fc.property(
        fc.tuple(word, word, word, word).filter((s) => s.some((v) => v !== 0)),
        (state) => {
          expect(draws(new Rng(state), 20)).toEqual(referenceXoshiro(state, 20));
        },
      ),
      fuzzRuns(100),
    );
  });

  it('seeds the state with splitmix32, reducing the seed to 32 bits', () => {
    for (const seed of [0, 1, 2, 42, 0x7fffffff, 0xffffffff]) {
      const rng = new Rng(seed);
      expect(rng.getState()).toEqual(referenceSeed(seed));
      expect(draws(rng, 10)).toEqual(referenceXoshiro(referenceSeed(seed), 10));
    }
    expect(new Rng(-1).getState()).toEqual(new Rng(0xffffffff).getState());
    expect(new Rng(2 ** 32 + 5).getState()).toEqual(new Rng(5).getState());
    // Seed 0 is a usable generator (its state is not all zeros).
    expect(new Rng(0).getState().some((v) => v !== 0)).toBe(true);
    expect(new Set(draws(new Rng(0), 50)).size).toBe(50);
  });

  it('gives the same numbers for the same seed and different ones for neighbouring seeds', () => {
    expect(draws(new Rng(7), 30)).toEqual(draws(new Rng(7), 30));
    expect(draws(new Rng(7), 30)).not.toEqual(draws(new Rng(8), 30));
  });
});

describe('Rng.stream', () => {
  it("starts from splitmix32's words of the seed XOR those of the index (another increment)", () => {
    const withIncrement = (x: number, increment: bigint): number[] => {
      let v = BigInt(x);
      return Array.from({ length: 4 }, () => {
        v = (v + increment) & M32;
        let z = v;
        z = ((z ^ (z >> 16n)) * 0x85ebca6bn) & M32;
        z = ((z ^ (z >> 13n)) * 0xc2b2ae35n) & M32;
        return Number(z ^ (z >> 16n));
      });
    };
    for (const [seed, index] of [
      [1, 0],
      [7, 12345],
      [0, 0xffffffff],
    ] as const) {
      const b = withIncrement(index, 0x6a09e667n);
      expect(Rng.stream(seed, index).getState()).toEqual(referenceSeed(seed).map((w, i) => (w ^ b[i]!) >>> 0));
    }
  });

  it('gives streams of one seed different first draws, spread evenly (2,000 streams, 8 bins, χ² < 24.3)', () => {
    const bins = new Array<number>(8).fill(0);
    const firsts = new Set<number>();
    for (let index = 0; index < 2000; index++) {
      const x = Rng.stream(3, index).nextUint32();
      firsts.add(x);
      bins[x >>> 29]!++;
    }
    expect(firsts.size).toBe(2000);
    // χ² with 7 degrees of freedom: 24.3 is its 0.999 quantile.
    expect(bins.reduce((sum, n) => sum + (n - 250) ** 2 / 250, 0)).toBeLessThan(24.3);
  });

  it('gives each (seed, index) its own numbers, the same every time', () => {
    const seen = new Set<string>();
    for (const seed of [0, 1, 2, 0xffffffff])
      for (let index = 0; index < 50; index++) {
        const first = draws(Rng.stream(seed, index), 4);
        expect(draws(Rng.stream(seed, index), 4)).toEqual(first);
        seen.add(first.join(','));
      }
    expect(seen.size).toBe(200);
  });

  it('refuses what is not a 32-bit unsigned integer', () => {
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN])
      for (const args of [
        [bad, 0],
        [0, bad],
      ] as const)
        expect(() => Rng.stream(args[0], args[1])).toThrow(RangeError);
  });
});

describe('derived draws', () => {
  it('next() is nextUint32 / 2^32, in [0, 1)', () => {
    const a = new Rng(3);
    const b = new Rng(3);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.nextUint32() / 4294967296));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    // The largest word maps below 1.
    const top = new Rng([1, 2, 3, 4]);
    top.nextUint32 = () => 0xffffffff;
    expect(top.next()).toBeLessThan(1);
  });

  it('int(lo, hi) is inclusive at both ends and close to uniform', () => {
    const rng = new Rng(11);
    const counts = new Map<number, number>();
    for (let i = 0; i < 12_000; i++) {
      const k = rng.int(-2, 3);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    // 2,000 expected per value; the standard deviation is about 41.
    for (const c of counts.values()) expect(Math.abs(c - 2000)).toBeLessThan(250);
    expect(new Rng(1).int(5, 5)).toBe(5);
  });

  it('uniform(lo, hi) stays in [lo, hi) with mean (lo + hi) / 2', () => {
    const rng = new Rng(12);
    let sum = 0;
    const n = 20_000;
    let [lo, hi] = [Infinity, -Infinity];
    for (let i = 0; i < n; i++) {
      const x = rng.uniform(-3, 5);
      [lo, hi] = [Math.min(lo, x), Math.max(hi, x)];
      sum += x;
    }
    expect(lo).toBeGreaterThanOrEqual(-3);
    expect(hi).toBeLessThan(5);
    expect(hi - lo).toBeGreaterThan(7.99);
    // Standard error 8/√12/√n ≈ 0.016.
    expect(Math.abs(sum / n - 1)).toBeLessThan(0.1);
  });

  it('normal() has mean 0, variance 1, and the Box–Muller value of its two uniforms', () => {
    const rng = new Rng(13);
    const n = 40_000;
    const xs = Array.from({ length: n }, () => rng.normal());
    const mean = xs.reduce((a, b) => a + b, 0) / n;
    const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(Math.abs(variance - 1)).toBeLessThan(0.04);
    expect(xs.filter((x) => Math.abs(x) < 1).length / n).toBeCloseTo(0.6827, 1);
    expect(xs.every(Number.isFinite)).toBe(true);
    const u = new Rng(14);
    const [a, b] = [1 - u.next(), u.next()];
    expect(new Rng(14).normal()).toBe(Math.sqrt(-2 * Math.log(a)) * Math.cos(2 * Math.PI * b));
  });
});

describe('shuffle', () => {
  it('permutes in place and returns the same array (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer(), { maxLength: 40 }), fc.nat(), (xs, seed) => {
        const a = [...xs];
        const returned = new Rng(seed).shuffle(a);
        expect(returned).toBe(a);
        expect([...a].sort((x, y) => x - y)).toEqual([...xs].sort((x, y) => x - y));
      }),
      fuzzRuns(200),
    );
  });

  it('makes every order of three items about equally often (Fisher–Yates, not a biased swap)', () => {
    const rng = new Rng(21);
    const counts = new Map<string, number>();
    for (let i = 0; i < 6000; i++) {
      const key = rng.shuffle(['a', 'b', 'c']).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(6);
    // 1,000 expected each; the standard deviation is about 29.
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
    expect(new Rng(1).shuffle([])).toEqual([]);
    expect(new Rng(1).shuffle([9])).toEqual([9]);
  });
});

describe('fork', () => {
  it('seeds a child from the next four words (the last made odd) and leaves the parent four words on', () => {
    const parent = new Rng(5);
    const words = draws(new Rng(5), 8);
    const child = parent.fork();
    expect(child.getState()).toEqual([words[0], words[1], words[2], (words[3]! | 1) >>> 0]);
    expect(parent.nextUint32()).toBe(words[4]);
    expect(draws(child, 20)).toEqual(referenceXoshiro([words[0]!, words[1]!, words[2]!, (words[3]! | 1) >>> 0], 20));
    // Forks are reproducible and differ from each other.
    const [f1, f2] = [new Rng(5).fork(), new Rng(5).fork()];
    expect(draws(f1, 10)).toEqual(draws(f2, 10));
    const p = new Rng(5);
    expect(draws(p.fork(), 10)).not.toEqual(draws(p.fork(), 10));
  });
});

describe('getState / setState', () => {
  it('a restored state continues the same stream, through JSON, after any number of draws (property)', () => {
    fc.assert(
      fc.property(fc.nat(), fc.nat({ max: 50 }), (seed, skip) => {
        const a = new Rng(seed);
        draws(a, skip);
        const saved = JSON.parse(JSON.stringify(a.getState())) as RngState;
        const b = new Rng(999);
        b.setState(saved);
        expect(draws(b, 10)).toEqual(draws(a, 10));
        expect(draws(new Rng(saved), 5)).toEqual(draws(new Rng(saved), 5));
      }),
      fuzzRuns(100),
    );
  });

  it('getState returns a copy', () => {
    const rng = new Rng(3);
    const s = rng.getState();
    s[0] = 0;
    expect(rng.getState()).toEqual(new Rng(3).getState());
  });

  it('refuses states that are not four 32-bit unsigned integers, or all zeros, leaving the generator as it was', () => {
    const rng = new Rng(4);
    const before = rng.getState();
    const shape = /^Rng state must be four 32-bit unsigned integers, got /;
    const bad: unknown[] = [
      [1, 2, 3],
      [1, 2, 3, 4, 5],
      [1, 2, 3, -1],
      [1, 2, 3, 2 ** 32],
      [1, 2, 3, 0.5],
      [1, 2, 3, NaN],
      [1, 2, 3, '4'],
      'abcd',
      null,
      { 0: 1, 1: 2, 2: 3, 3: 4, length: 4 },
    ];
    for (const state of bad) {
      expect(() => rng.setState(state as RngState)).toThrow(RangeError);
      expect(() => rng.setState(state as RngState)).toThrow(shape);
    }
    expect(() => rng.setState([1, 2, 3, -1])).toThrow(
      'Rng state must be four 32-bit unsigned integers, got [1,2,3,-1]',
    );
    expect(() => rng.setState([0, 0, 0, 0])).toThrow(/^Rng state must not be all zeros/);
    expect(rng.getState()).toEqual(before);
    rng.setState([0, 0, 0, 0xffffffff]);
    expect(rng.getState()).toEqual([0, 0, 0, 0xffffffff]);
  });
});

describe('Rng from a state', () => {
  it('refuses the states setState refuses: all zeros (only zeros would follow) and values that are not 32-bit integers', () => {
    expect(() => new Rng([0, 0, 0, 0])).toThrow('Rng state must not be all zeros');
    expect(() => new Rng([1.7, -1, 2 ** 33, 5])).toThrow(/four 32-bit unsigned integers/);
    expect(new Rng([1, 2, 3, 4]).getState()).toEqual([1, 2, 3, 4]);
  });
});
