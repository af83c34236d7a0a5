import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { rowTop, rowTopByOps, topOfRow, ROW_TOP, type RowTop } from '../../src/search/rowTop.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { GO, EOS, PAD } from '../../src/data/text/vocabulary.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

/** The reference in float64: candidates sorted by value (ties: lower token), logsumexp of the whole row. */
function reference(x: number[], V: number, k: number, noEos: boolean) {
  const rows = x.length / V;
  return Array.from({ length: rows }, (_, r) => {
    const row = x.slice(r * V, (r + 1) * V);
    const candidates = row
      .map((value, v) => ({ value, v }))
      .filter(({ value, v }) => value > -Infinity && v !== PAD && v !== GO && !(noEos && v === EOS))
      .sort((a, b) => b.value - a.value || a.v - b.v)
      .slice(0, k);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    return { candidates, lse, eos: row[EOS]! };
  });
}

function expectMatches(got: RowTop, x: number[], V: number, k: number, noEos: boolean): void {
  reference(x, V, k, noEos).forEach(({ candidates, lse, eos }, r) => {
    for (let j = 0; j < k; j++) {
      const want = candidates[j];
      expect(got.ids[r * k + j]).toBe(want?.v ?? -1);
      expect(got.values[r * k + j]).toBe(want === undefined ? -Infinity : Math.fround(want.value));
    }
    expect(Math.abs(got.logNormaliser[r]! - lse)).toBeLessThan(2e-5 * Math.max(1, Math.abs(lse)));
    expect(got.eos[r]).toBe(Math.fround(eos));
  });
}

function run(f: typeof rowTop, x: number[], shape: [number, number], k: number, noEos: boolean): RowTop {
  const logits = tf.tensor2d(x, shape);
  try {
    return f(logits, k, noEos);
  } finally {
    logits.dispose();
  }
}

describe('rowTop', () => {
  it('runs through the toolkit kernel on the test backend', () => {
    expect(hasJsKernel(ROW_TOP)).toBe(true);
  });

  for (const [name, f] of [
    ['the kernel', rowTop],
    ['tf ops', rowTopByOps],
  ] as const) {
    it(`${name}: each row's k best tokens, logsumexp and EOS logit equal the float64 reference on random rows`, () => {
      const rng = new Rng(11);
      for (const [rows, V, k] of [
        [3, 7, 1],
        [5, 40, 5],
        [2, 300, 3],
        [4, 9, 8],
      ] as const) {
        for (const noEos of [false, true]) {
          // Rounded values make ties; spreads of ±60 underflow most probabilities.
          const x = Array.from({ length: rows * V }, () => Math.round((rng.next() - 0.5) * 120) / 4);
          const got = run(f, x, [rows, V], k, noEos);
          expectMatches(got, x, V, k, noEos);
        }
      }
    });

    it(`${name}: PAD and GO are never candidates even when largest; −∞ tokens never are; missing ones are −∞ / −1`, () => {
      const V = 6;
      const x = [50, 40, 1, -Infinity, 2, -Infinity, 0, 0, -Infinity, -Infinity, -Infinity, -Infinity];
      const got = run(f, x, [2, V], 3, false);
      expect(Array.from(got.ids)).toEqual([4, EOS, -1, -1, -1, -1]);
      expect(Array.from(got.values)).toEqual([2, 1, -Infinity, -Infinity, -Infinity, -Infinity]);
      expectMatches(got, x, V, 3, false);
    });
  }

  it('topOfRow keeps the lower token on ties and skips NaN', () => {
    const values = new Float32Array(3);
    const ids = new Int32Array(3);
    const row = [9, 9, 9, 1, Number.NaN, 3, 3, 3];
    expect(topOfRow(row, 0, row.length, 3, false, values, ids, 0)).toBe(3);
    expect(Array.from(ids)).toEqual([EOS, 5, 6]);
    expect(Array.from(values)).toEqual([9, 3, 3]);
  });

  it('leaves no tensors behind', () => {
    const x = tf.tensor2d([
      [1, 2, 3, 4, 5],
      [5, 4, 3, 2, 1],
    ]);
    const before = tf.memory().numTensors;
    rowTop(x, 2, false);
    rowTopByOps(x, 2, true);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });
});
