// A small seeded generator (xoshiro128**) whose whole state can be saved and restored, so that data order,
// initial weights and dropout masks are the same for the same seed, and a resumed run continues the same stream.

export type RngState = [number, number, number, number];

export class Rng {
  private s: Uint32Array;

  constructor(seed: number | RngState) {
    this.s = new Uint32Array(4);
    if (Array.isArray(seed)) {
      this.setState(seed);
    } else {
      // splitmix32 spreads a small integer seed over the 128-bit state.
      this.s.set(splitmix32(seed >>> 0, 4));
      if (this.s.every((v) => v === 0)) this.s[0] = 1;
    }
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1]! << 9) >>> 0;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in [lo, hi] inclusive. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place. */
  shuffle<T>(a: T[]): T[] {
    for (let i = a.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = a[i]!;
      a[i] = a[j]!;
      a[j] = tmp;
    }
    return a;
  }

  /**
   * Stream `index` of `seed` (both 32-bit unsigned integers): a generator that depends on nothing else, for work
   * split into items that must not depend on how they are batched (one stream per sampled sentence). Each word of
   * the state is splitmix32's word of the seed XOR a splitmix32 word of the index (with another increment, so that
   * (a, b) and (b, a) differ). splitmix32 is one-to-one, so under one seed distinct indices differ in every word of
   * the state, and so in the first output, a function of the second word alone. (Splitting the state, two words
   * from the seed and two from the index, gave every stream of a seed the same first output.)
   */
  static stream(seed: number, index: number): Rng {
    for (const [name, v] of [
      ['seed', seed],
      ['index', index],
    ] as const)
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff)
        throw new RangeError(`Rng.stream: ${name} must be a 32-bit unsigned integer, got ${v}`);
    const a = splitmix32(seed, 4);
    const b = splitmix32(index, 4, STREAM_INCREMENT);
    const state = a.map((w, i) => (w ^ b[i]!) >>> 0) as RngState;
    if (state.every((v) => v === 0)) state[3] = 1; // as the constructor: an all-zero state only returns 0
    return new Rng(state);
  }

  /** A new generator seeded from this one, for an independent stream (e.g. one per component). */
  fork(): Rng {
    return new Rng([this.nextUint32(), this.nextUint32(), this.nextUint32(), (this.nextUint32() | 1) >>> 0]);
  }

  getState(): RngState {
    return [this.s[0]!, this.s[1]!, this.s[2]!, this.s[3]!];
  }

  /** Continues from a state returned by getState (e.g. saved in a checkpoint): the same numbers follow. */
  setState(state: RngState): void {
    if (
      !Array.isArray(state) ||
      state.length !== 4 ||
      !state.every((v) => Number.isInteger(v) && v >= 0 && v <= 0xffffffff)
    ) {
      throw new RangeError(`Rng state must be four 32-bit unsigned integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((v) => v === 0))
      throw new RangeError('Rng state must not be all zeros (xoshiro128** would only return 0)');
    this.s.set(state);
  }
}

/** The index chain's increment in Rng.stream: odd, and the fractional bits of √2 rather than the golden ratio's. */
const STREAM_INCREMENT = 0x6a09e667;

/** `count` words of splitmix32 from `x` (each step adds `increment` and mixes; each word one-to-one in x). */
function splitmix32(x: number, count: number, increment = 0x9e3779b9): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    x = (x + increment) >>> 0;
    let z = x;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    out.push((z ^ (z >>> 16)) >>> 0);
  }
  return out;
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
