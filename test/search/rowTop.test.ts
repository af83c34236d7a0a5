import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import {
  rowTop,
  rowTopByOps,
  topOfRow,
  topOfRowByBlocks,
  BLOCK,
  CANDIDATES_UP_TO,
  ROW_TOP,
  type RowTop,
} from '../../src/search/rowTop.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { GO, EOS, PAD } from '../../src/data/text/vocabulary.js';
import { Rng } from '../../src/random.js';

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
    if (Number.isNaN(lse)) expect(got.logNormaliser[r]).toBeNaN();
    else expect(Math.abs(got.logNormaliser[r]! - lse)).toBeLessThan(2e-5 * Math.max(1, Math.abs(lse)));
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

// wasm runs the SIMD kernel (block maxima), cpu the JavaScript one; both must equal the reference, as must tf ops.
for (const backend of ['wasm', 'cpu'] as const) {
  describe(`rowTop on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend, {});
    });

    it('runs through the toolkit kernel', () => {
      expect(tf.getBackend()).toBe(backend);
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

      it(`${name}: without normalising, the same tokens and values with a normaliser of 0`, () => {
        const rng = new Rng(13);
        const x = Array.from({ length: 3 * 70 }, () => (rng.next() - 0.5) * 8);
        const logits = tf.tensor2d(x, [3, 70]);
        try {
          const [raw, normalised] = [f(logits, 4, false, false), f(logits, 4, false)];
          expect(Array.from(raw.logNormaliser)).toEqual([0, 0, 0]);
          expect(Array.from(raw.ids)).toEqual(Array.from(normalised.ids));
          expect(Array.from(raw.values)).toEqual(Array.from(normalised.values));
          expect(Array.from(raw.eos)).toEqual(Array.from(normalised.eos));
        } finally {
          logits.dispose();
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

    it("wide rows, whose k best come from the block kernel's candidates: fine values, ties beyond its room, flat rows, PAD/GO/EOS largest, −∞ blocks, NaNs", () => {
      const rng = new Rng(17);
      for (const [V, k] of [
        [1000, 5],
        [1000, 1],
        [333, 6],
        [2000, 16],
        [4000, CANDIDATES_UP_TO + 6], // wider than the kernel gathers: the JavaScript scan
      ] as const) {
        const rows = 8;
        const x = Array.from({ length: rows * V }, (_, i) =>
          // Rows 0–1 fine values (few candidates), 2–3 integers in [−3, 3] (ties past the kernel's room).
          Math.floor(i / V) < 2 ? (rng.next() - 0.5) * 6 : Math.round((rng.next() - 0.5) * 6),
        );
        x.fill(0.5, 4 * V, 5 * V); // flat: every value a candidate, the best one last
        x[5 * V - 1] = 0.75;
        for (const v of [PAD, GO, EOS]) x[5 * V + v] = 100; // the specials largest
        for (let v = 0; v < V; v++) if (v < V - 40) x[6 * V + v] = -Infinity; // fewer than k blocks with a number
        x[7 * V + 3] = Number.NaN;
        x[7 * V + 40] = Number.NaN;
        for (const noEos of [false, true]) expectMatches(run(rowTop, x, [rows, V], k, noEos), x, V, k, noEos);
      }
    });

    it('a row holding a NaN, or only −∞, has a NaN normaliser and leaves the other rows right', () => {
      const V = 37;
      const rng = new Rng(4);
      const x = Array.from({ length: 3 * V }, () => (rng.next() - 0.5) * 10);
      x[V + 20] = Number.NaN;
      for (let v = 0; v < V; v++) x[2 * V + v] = -Infinity;
      const got = run(rowTop, x, [3, V], 4, false);
      expect(got.logNormaliser[1]).toBeNaN();
      expect(got.logNormaliser[2]).toBeNaN();
      expect(Array.from(got.ids.subarray(8, 12))).toEqual([-1, -1, -1, -1]);
      const first = run(rowTop, x.slice(0, V), [1, V], 4, false);
      expect(got.logNormaliser[0]).toBe(first.logNormaliser[0]);
      expect(Array.from(got.ids.subarray(0, 4))).toEqual(Array.from(first.ids));
    });
  });
}

describe('rowTop', () => {
  it('topOfRow keeps the lower token on ties and skips NaN', () => {
    // The list at offset 2 of a longer array: values, then tokens; the places around it stay as they were.
    const list = new Float32Array(10).fill(7);
    const row = Float32Array.from([9, 9, 9, 1, Number.NaN, 3, 3, 3]);
    expect(topOfRow(row, 0, row.length, 3, false, list, 2)).toBe(3);
    expect(Array.from(list)).toEqual([7, 7, 9, 3, 3, EOS, 5, 6, 7, 7]);
    expect(topOfRow(Float32Array.from([5, 5, 1]), 0, 3, 2, true, list, 0)).toBe(0);
    expect(Array.from(list.subarray(0, 4))).toEqual([-Infinity, -Infinity, -1, -1]);
  });

  it('topOfRowByBlocks, which skips blocks by their maxima, finds what topOfRow finds: ties, NaNs, −∞, tails', () => {
    const rng = new Rng(21);
    for (const V of [3, 16, 17, 40, 100, 1000]) {
      for (const k of [1, 2, 5, 8]) {
        for (const noEos of [false, true]) {
          // Few distinct values (many ties), some NaN and −∞.
          const x = Float32Array.from({ length: V }, () => {
            const u = rng.next();
            return u < 0.05 ? Number.NaN : u < 0.1 ? -Infinity : Math.floor(rng.next() * 12) - 6;
          });
          const nb = Math.floor(V / BLOCK);
          const blockMax = Float32Array.from({ length: nb }, (_, b) =>
            Math.max(-Infinity, ...Array.from(x.subarray(b * BLOCK, (b + 1) * BLOCK)).filter((v) => !Number.isNaN(v))),
          );
          const want = new Float32Array(2 * k);
          const got = new Float32Array(2 * k);
          const n = topOfRow(x, 0, V, k, noEos, want, 0);
          expect(topOfRowByBlocks(x, 0, V, k, noEos, blockMax, 0, got, 0)).toBe(n);
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      }
    }
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
