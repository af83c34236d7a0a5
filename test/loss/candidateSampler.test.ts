import { describe, it, expect } from 'vitest';
import { expectedCount, logUniformCandidates, logUniformProbability } from '../../src/loss/candidateSampler.js';
import { Rng } from '../../src/random.js';

describe('logUniformProbability', () => {
  it('is (log(k+2) − log(k+1)) / log(V+1) and sums to 1 over the vocabulary', () => {
    // V = 3: log(V+1) = log 4, so P(0) = log 2 / log 4 = 1/2 exactly.
    expect(logUniformProbability(0, 3)).toBeCloseTo(0.5, 15);
    expect(logUniformProbability(1, 3)).toBeCloseTo(Math.log(1.5) / Math.log(4), 15);
    let total = 0;
    for (let k = 0; k < 1000; k++) total += logUniformProbability(k, 1000);
    expect(total).toBeCloseTo(1, 12);
  });
});

describe('logUniformCandidates', () => {
  it('with replacement, empirical frequencies over 200,000 draws match P(k) within 0.005', () => {
    const V = 10,
      draws = 200_000;
    const { sampled, numTries } = logUniformCandidates(
      new Int32Array(0),
      { vocabSize: V, numSampled: draws, unique: false },
      new Rng(11),
    );
    expect(numTries).toBe(draws);
    const counts = new Array<number>(V).fill(0);
    for (const k of sampled) counts[k]!++;
    // The largest standard error, at P(0) ≈ 0.29, is √(0.29·0.71/200000) ≈ 0.001: 0.005 is five of them.
    counts.forEach((c, k) => expect(Math.abs(c / draws - logUniformProbability(k, V))).toBeLessThan(0.005));
  });

  it('unique sampling returns numSampled distinct ids in range, after at least numSampled draws', () => {
    const V = 100,
      m = 60;
    const { sampled, numTries } = logUniformCandidates(
      new Int32Array(0),
      { vocabSize: V, numSampled: m, unique: true },
      new Rng(3),
    );
    expect(sampled.length).toBe(m);
    expect(new Set(sampled).size).toBe(m);
    expect(sampled.every((k) => k >= 0 && k < V)).toBe(true);
    // 60 distinct ids of 100 under a Zipfian law need many repeats of the frequent ones.
    expect(numTries).toBeGreaterThan(m);
  });

  it('unique expected counts follow TensorFlow: −expm1(numTries·log1p(−p)), on a worked example', () => {
    // V = 3: P = [1/2, log(3/2)/log 4, log(4/3)/log 4] = [0.5, 0.29248, 0.20752].
    // Drawing 2 distinct ids that took 5 draws, id k is expected 1 − (1 − P(k))^5 times (the chance it came up at all):
    //   Q(0) = 1 − 0.5^5 = 31/32 = 0.96875; Q(1) = 1 − 0.70752^5 = 0.82271; Q(2) = 1 − 0.79248^5 = 0.68743.
    const hand = [0.96875, 0.82271, 0.68743];
    hand.forEach((q, k) => expect(expectedCount(logUniformProbability(k, 3), 2, 5)).toBeCloseTo(q, 5));
    // With no draw rejected (always so with replacement) it is numSampled·p, as TensorFlow's shortcut: 2·0.5 = 1.
    expect(expectedCount(0.5, 2, 2)).toBe(1);
    // The sampler reports the same numbers: find a seed whose draw took exactly 5 tries.
    let seed = 0;
    let c = logUniformCandidates(Int32Array.of(2, 0), { vocabSize: 3, numSampled: 2, unique: true }, new Rng(seed));
    while (c.numTries !== 5)
      c = logUniformCandidates(Int32Array.of(2, 0), { vocabSize: 3, numSampled: 2, unique: true }, new Rng(++seed));
    c.sampled.forEach((k, j) => expect(c.sampledExpectedCount[j]).toBeCloseTo(hand[k]!, 5));
    expect(c.trueExpectedCount[0]).toBeCloseTo(hand[2]!, 5);
    expect(c.trueExpectedCount[1]).toBeCloseTo(hand[0]!, 5);
  });

  it('with replacement the expected count is numSampled·P(k)', () => {
    const c = logUniformCandidates(Int32Array.of(0, 7), { vocabSize: 50, numSampled: 40, unique: false }, new Rng(5));
    c.sampled.forEach((k, j) => expect(c.sampledExpectedCount[j]).toBeCloseTo(40 * logUniformProbability(k, 50), 12));
    expect(c.trueExpectedCount[1]).toBeCloseTo(40 * logUniformProbability(7, 50), 12);
  });

  it('the same seed gives the same candidates; another seed, others', () => {
    const opts = { vocabSize: 1000, numSampled: 64, unique: true };
    const a = logUniformCandidates(Int32Array.of(1), opts, new Rng(42));
    const b = logUniformCandidates(Int32Array.of(1), opts, new Rng(42));
    const other = logUniformCandidates(Int32Array.of(1), opts, new Rng(43));
    expect(Array.from(b.sampled)).toEqual(Array.from(a.sampled));
    expect(b.numTries).toBe(a.numTries);
    expect(Array.from(other.sampled)).not.toEqual(Array.from(a.sampled));
  });

  it('rejects more distinct candidates than the vocabulary holds', () => {
    expect(() =>
      logUniformCandidates(new Int32Array(0), { vocabSize: 5, numSampled: 6, unique: true }, new Rng(1)),
    ).toThrow(/6 distinct candidates from a vocabulary of 5/);
  });
});
