import { describe, it, expect } from 'vitest';
import { cannotImprove, liveRows, spread, topContinuations } from '../../src/search/beamRows.js';
import type { RowTop } from '../../src/search/rowTop.js';
import { EOS } from '../../src/data/text/vocabulary.js';
import { Rng } from '../../src/random.js';

/** The RowTop of full log-prob rows (logsumexp 0), `width` best tokens a row, ties to the lower token. */
function topOf(rows: number[][], width: number, noEos = false): RowTop {
  const R = rows.length;
  const top: RowTop = {
    values: new Float32Array(R * width).fill(-Infinity),
    ids: new Int32Array(R * width).fill(-1),
    logNormaliser: new Float32Array(R),
    eos: new Float32Array(R),
  };
  rows.forEach((row, r) => {
    const order = row
      .map((v, token) => ({ v, token }))
      .filter(({ token, v }) => token > EOS || (token === EOS && !noEos && v > -Infinity))
      .sort((a, b) => b.v - a.v || a.token - b.token)
      .slice(0, width);
    order.forEach(({ v, token }, j) => {
      top.values[r * width + j] = v;
      top.ids[r * width + j] = token;
    });
    top.eos[r] = row[EOS]!;
  });
  return top;
}

describe('beam rows', () => {
  it('liveRows lists the rows of finite log-prob, in order', () => {
    expect(Array.from(liveRows(Float64Array.from([0, -Infinity, -3, -Infinity, -1])))).toEqual([0, 2, 4]);
  });

  it('spread lays the live rows out over all rows, the others empty', () => {
    const top = topOf(
      [
        [-9, -9, -2, -1, -0.5],
        [-9, -9, -0.1, -3, -2],
      ],
      2,
    );
    const out = spread(top, Int32Array.from([1, 3]), 4, 2);
    expect(Array.from(out.ids)).toEqual([-1, -1, 4, 3, -1, -1, 2, 4]);
    expect(out.values[2]).toBeCloseTo(-0.5);
    expect(Array.from(out.eos.subarray(0, 1))).toEqual([-Infinity]);
    expect(Number.isNaN(out.logNormaliser[0])).toBe(true);
  });

  it('with K + 1 tokens a row and EOS barred, gives the K best non-EOS continuations, as K tokens without EOS do', () => {
    const rng = new Rng(3);
    for (let trial = 0; trial < 200; trial++) {
      const K = 1 + Math.floor(rng.next() * 4);
      const V = 6 + Math.floor(rng.next() * 6);
      // EOS often among the best of a row.
      const rows = Array.from({ length: K }, () =>
        Array.from({ length: V }, (_, v) => (v < EOS ? -Infinity : v === EOS ? -rng.next() * 0.5 : -rng.next() * 3)),
      );
      const logProb = Float64Array.from({ length: K }, (_, r) =>
        r === 0 || rng.next() < 0.6 ? -rng.next() : -Infinity,
      );
      const count = 1 + Math.floor(rng.next() * K);
      const wide = topContinuations(topOf(rows, K + 1), K + 1, logProb, 0, K, count, true);
      const narrow = topContinuations(topOf(rows, K, true), K, logProb, 0, K, count, false);
      expect(wide).toEqual(narrow);
      expect(wide.some((c) => c.token === EOS)).toBe(false);
      // Without the bar, K + 1 tokens a row give what K give.
      expect(topContinuations(topOf(rows, K + 1), K + 1, logProb, 0, K, count, false)).toEqual(
        topContinuations(topOf(rows, K), K, logProb, 0, K, count, false),
      );
    }
  });

  it('cannotImprove: once the nBest-th finished score beats every live bound', () => {
    const finished = [{ ids: [4], logProb: -1, score: -1 }];
    expect(cannotImprove(finished, Float64Array.from([-2, -Infinity]), 1, 1)).toBe(true);
    expect(cannotImprove(finished, Float64Array.from([-0.5]), 1, 1)).toBe(false);
    // A live hypothesis whose bound (logProb / lp at the limit) beats it keeps the sentence going.
    expect(cannotImprove(finished, Float64Array.from([-1.5]), 1, 2)).toBe(false);
    expect(cannotImprove(finished, Float64Array.from([-2]), 2, 1)).toBe(false);
  });
});
