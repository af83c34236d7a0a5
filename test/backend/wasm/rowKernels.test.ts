import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../../helpers/backend.js';
import { simdKernels, heapOffset } from '../../../src/backend/wasm/binding.js';
import { candidateCapacity, rowMaxesFromBlocks } from '../../../src/backend/wasm/rowKernels.js';
import { Rng } from '../../../src/random.js';

beforeAll(useTestBackend);

const rng = new Rng(7);
/** n values in [−scale, scale). */
const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);

describe('row kernels (WebAssembly SIMD, backend/wasm/rowKernels.ts)', () => {
  it('block maxima of rows: the largest of each whole block of 32, NaNs left out, −∞ for a block without a number', () => {
    const kernels = simdKernels(tf.backend())!;
    for (const width of [32, 37, 64, 100, 200]) {
      const rows = 3;
      const nb = Math.floor(width / 32);
      const x = rand(rows * width, 5);
      x[3] = Number.NaN; // the first value of a block's vector: pmax must not keep it
      x[width + 17] = Number.NaN;
      for (let j = 0; j < 32; j++) x[2 * width + j] = j % 2 === 0 ? Number.NaN : -Infinity;
      const xT = tf.tensor1d(x);
      const out = tf.zeros([rows * nb]);
      try {
        kernels.blockMaxRows(heapOffset(tf.backend(), xT), rows, width, heapOffset(tf.backend(), out));
        const got = out.dataSync();
        for (let r = 0; r < rows; r++)
          for (let b = 0; b < nb; b++) {
            const block = Array.from(x.subarray(r * width + b * 32, r * width + (b + 1) * 32));
            expect(got[r * nb + b]).toBe(Math.max(-Infinity, ...block.filter((v) => !Number.isNaN(v))));
          }
      } finally {
        xT.dispose();
        out.dispose();
      }
    }
  });

  it("sums of exp(x − max) over each row's whole vectors: within 4e-7 of float64 per value over [−87, 0], 2^−126 below, NaN for a NaN or for −∞ − (−∞)", () => {
    const kernels = simdKernels(tf.backend())!;
    const rng = new Rng(11);
    // Width 4: each sum is four exps, so each value's error shows; −87 … 0 spans the whole range of float32 exp.
    const rows = 400;
    const x = new Float32Array(rows * 4).map(() => -87 * rng.next() ** 3);
    const maxes = new Float32Array(rows).map(() => (rng.next() < 0.5 ? 0 : rng.next()));
    const check = (width: number, xs: Float32Array, ms: Float32Array, n: number): Float32Array => {
      const xT = tf.tensor1d(xs);
      const mT = tf.tensor1d(ms);
      const out = tf.zeros([n]);
      try {
        kernels.expSumRows(
          heapOffset(tf.backend(), xT),
          n,
          width,
          heapOffset(tf.backend(), mT),
          heapOffset(tf.backend(), out),
        );
        return out.dataSync() as Float32Array;
      } finally {
        tf.dispose([xT, mT, out]);
      }
    };
    const got = check(4, x, maxes, rows);
    for (let r = 0; r < rows; r++) {
      let want = 0;
      // x − max is rounded to float32 first, as the kernel's subtraction rounds it.
      for (let j = 0; j < 4; j++)
        want += Math.exp(Math.max(Math.fround(x[r * 4 + j]! - maxes[r]!), Math.fround(-87.3)));
      expect(Math.abs(got[r]! - want)).toBeLessThanOrEqual(4e-7 * want);
    }
    // Widths with a tail (left to the caller), and the rows search meets: a NaN, only −∞, −1e4 (a barred EOS).
    for (const width of [5, 8, 13, 37, 1000]) {
      const xs = new Float32Array(3 * width).map(() => 4 * rng.next() - 2);
      xs[width + (width >> 1)] = Number.NaN;
      xs.fill(-Infinity, 2 * width, 3 * width);
      xs[0] = -1e4;
      const ms = Float32Array.of(Math.max(...xs.subarray(0, width)), 2, -Infinity);
      const sums = check(width, xs, ms, 3);
      let want = 0;
      for (let v = 0; v < (width & ~3); v++) want += Math.exp(Math.max(xs[v]! - ms[0]!, -87.3));
      expect(Math.abs(sums[0]! - want)).toBeLessThanOrEqual(2e-6 * want);
      if ((width & ~3) > width >> 1) expect(sums[1]).toBeNaN();
      if (width >= 4) expect(sums[2]).toBeNaN();
    }
  });

  it("exponentials exp(x − max) and their sum over each row's whole vectors, the tail left alone: within 4e-7 of float64, NaN rows stay NaN", () => {
    const kernels = simdKernels(tf.backend())!;
    const rng = new Rng(13);
    for (const width of [4, 7, 32, 1001]) {
      const rows = 5;
      const x = new Float32Array(rows * width).map(() => 20 * rng.next() - 10);
      x[3 * width] = Number.NaN;
      const maxes = Float32Array.from({ length: rows }, (_, r) => Math.max(...x.subarray(r * width, (r + 1) * width)));
      const [xT, mT] = [tf.tensor1d(x), tf.tensor1d(maxes)];
      const out = tf.fill([rows * width], 42);
      const sums = tf.zeros([rows]);
      try {
        const at = (t: tf.Tensor) => heapOffset(tf.backend(), t);
        kernels.expRows(at(xT), rows, width, at(mT), at(out), at(sums));
        const got = out.dataSync();
        const sum = sums.dataSync();
        const vectors = width & ~3;
        for (let r = 0; r < rows; r++) {
          let want = 0;
          for (let v = 0; v < width; v++) {
            const g = got[r * width + v]!;
            if (v >= vectors) expect(g).toBe(42);
            else if (r === 3) expect(g).toBeNaN();
            else {
              const e = Math.exp(Math.fround(x[r * width + v]! - maxes[r]!));
              want += e;
              expect(Math.abs(g - e)).toBeLessThanOrEqual(4e-7 * e + 1e-37);
            }
          }
          if (r === 3) expect(sum[r]).toBeNaN();
          else expect(Math.abs(sum[r]! - want)).toBeLessThanOrEqual(1e-6 * want);
        }
      } finally {
        tf.dispose([xT, mT, out, sums]);
      }
    }
  });

  it('scaleRows multiplies each row by its scale, in place, vectors and tail alike; addRows adds', () => {
    const kernels = simdKernels(tf.backend())!;
    const rows = 3;
    const width = 11;
    const x = Float32Array.from({ length: rows * width }, (_, i) => i - 7.5);
    const by = Float32Array.of(2, 0, -0.5);
    const [xT, bT] = [tf.tensor1d(x), tf.tensor1d(by)];
    const out = tf.zeros([rows * width]);
    try {
      const at = (t: tf.Tensor) => heapOffset(tf.backend(), t);
      kernels.addRows(at(xT), at(bT), rows, width, at(out));
      expect(Array.from(out.dataSync())).toEqual(Array.from(x, (v, i) => v + by[Math.floor(i / width)]!));
      kernels.scaleRows(at(xT), at(bT), rows, width, at(xT));
      expect(Array.from(xT.dataSync())).toEqual(Array.from(x, (v, i) => Math.fround(v * by[Math.floor(i / width)]!)));
    } finally {
      tf.dispose([xT, bT, out]);
    }
  });

  it('rowMaxesFromBlocks: the largest of the block maxima and the tail, NaN never, −∞ for a row without a number', () => {
    const V = 70; // two whole blocks and a tail of 6
    const x = new Float32Array(3 * V).fill(-1);
    x[65] = 9; // row 0's largest is in the tail
    x[V + 40] = 5;
    x[V + 66] = Number.NaN;
    x.fill(-Infinity, 2 * V, 3 * V);
    x[2 * V + 3] = Number.NaN;
    const blocks = Float32Array.of(-1, -1, 5, -1, -Infinity, -Infinity);
    const out = new Float32Array(3);
    rowMaxesFromBlocks(x, blocks, 3, V, out);
    expect(Array.from(out)).toEqual([9, 5, -Infinity]);
  });
  it('rowCandidates: from the k-th largest block maximum t on, every value of the blocks reaching t and of the tail, in token order, up to the room; −1 without k blocks or with t = −∞', () => {
    const kernels = simdKernels(tf.backend())!;
    for (const [width, k] of [
      [1000, 5],
      [70, 2],
      [333, 6],
      [160, 5],
      [64, 3],
    ] as const) {
      const rows = 6;
      const nb = Math.floor(width / 32);
      const cap = candidateCapacity(k);
      const x = Float32Array.from({ length: rows * width }, (_, i) =>
        Math.floor(i / width) === 1 ? Math.round((rng.next() - 0.5) * 4) : (rng.next() - 0.5) * 10,
      );
      x[width - 1] = 50; // row 0's best in the tail
      x[5] = Number.NaN;
      x.fill(-Infinity, 2 * width, 3 * width - 40); // few blocks with a number
      x.fill(0.25, 3 * width, 4 * width); // flat: past the room
      x[4 * width - 2] = 0.5;
      const xT = tf.tensor1d(x);
      const blocksT = tf.zeros([rows * nb]);
      const countsT = tf.zeros([rows], 'int32');
      const candT = tf.zeros([rows * cap * 2]);
      const at = (t: tf.Tensor) => heapOffset(tf.backend(), t);
      try {
        kernels.blockMaxRows(at(xT), rows, width, at(blocksT));
        kernels.rowCandidates(at(xT), rows, width, k, at(blocksT), cap, at(countsT), at(candT));
        const [blocks, counts, cand] = [blocksT.dataSync(), countsT.dataSync(), candT.dataSync()];
        for (let r = 0; r < rows; r++) {
          const rowBlocks = Array.from(blocks.subarray(r * nb, (r + 1) * nb));
          const t = nb < k ? -Infinity : [...rowBlocks].sort((a, b) => b - a)[k - 1]!;
          if (!(t > -Infinity)) {
            expect(counts[r]).toBe(-1);
            continue;
          }
          const want: number[] = [];
          for (let v = 0; v < width; v++) {
            const inBlock = v < nb * 32;
            if ((!inBlock || rowBlocks[Math.floor(v / 32)]! >= t) && x[r * width + v]! >= t) want.push(v);
          }
          expect(counts[r]).toBe(want.length);
          const kept = want.slice(0, cap);
          expect(Array.from({ length: kept.length }, (_, c) => cand[(r * cap + c) * 2 + 1])).toEqual(kept);
          expect(Array.from({ length: kept.length }, (_, c) => cand[(r * cap + c) * 2])).toEqual(
            kept.map((v) => x[r * width + v]),
          );
        }
        if (nb >= k) expect(counts[3]).toBeGreaterThan(cap);
      } finally {
        tf.dispose([xT, blocksT, countsT, candT]);
      }
    }
  });
});
