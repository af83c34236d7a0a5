import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { matVec, randomMat, type Mat } from '../helpers/reference.js';
import { dense, sumRows, product } from '../../src/layers/dense.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const N = 5,
  IN = 4,
  OUT = 3;

function fixed(seed: number): { x: Mat; W: Mat; b: number[]; R: Mat } {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  return {
    x: randomMat(N, IN, rand, 1),
    W: randomMat(IN, OUT, rand, 1),
    b: randomMat(1, OUT, rand, 1)[0]!,
    R: randomMat(N, OUT, rand, 1),
  };
}

function expectAllClose(actual: number[][], expected: number[][], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => {
    expect(row.length).toBe(expected[i]!.length);
    row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, digits));
  });
}

describe('dense', () => {
  it('forward equals x·W + b row by row (float64 reference)', () => {
    const { x, W, b } = fixed(1);
    const y = tf.tidy(() => dense(tf.tensor2d(x), tf.tensor2d(W), tf.tensor1d(b)).arraySync());
    expectAllClose(
      y,
      x.map((row) => matVec(row, W).map((v, j) => v + b[j]!)),
    );
  });

  it('forward without bias equals x·W', () => {
    const { x, W } = fixed(2);
    const y = tf.tidy(() => dense(tf.tensor2d(x), tf.tensor2d(W), null).arraySync());
    expectAllClose(
      y,
      x.map((row) => matVec(row, W)),
    );
  });

  it('hand-written gradient equals autograd of tf.add(tf.matMul(x, W), b) for x, W and b', () => {
    const { x, W, b, R } = fixed(3);
    const [ours, auto] = tf.tidy(() => {
      const Rt = tf.tensor2d(R);
      const args = [tf.tensor2d(x), tf.tensor2d(W), tf.tensor1d(b)];
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, Rt));
      const g1 = tf.grads((xi: tf.Tensor, Wi: tf.Tensor, bi: tf.Tensor) =>
        loss(dense(xi as tf.Tensor2D, Wi as tf.Tensor2D, bi as tf.Tensor1D)),
      )(args);
      const g2 = tf.grads((xi: tf.Tensor, Wi: tf.Tensor, bi: tf.Tensor) => loss(tf.add(tf.matMul(xi, Wi), bi)))(args);
      return [g1.map((g) => g.arraySync()), g2.map((g) => g.arraySync())];
    });
    expect(ours.map((g) => (g as number[][]).length)).toEqual([N, IN, OUT]);
    expectAllClose(ours[0] as number[][], auto[0] as number[][]);
    expectAllClose(ours[1] as number[][], auto[1] as number[][]);
    (ours[2] as number[]).forEach((v, j) => expect(v).toBeCloseTo((auto[2] as number[])[j]!, 5));
  });

  it('hand-written gradient without bias equals autograd of tf.matMul(x, W)', () => {
    const { x, W, R } = fixed(4);
    const [ours, auto] = tf.tidy(() => {
      const Rt = tf.tensor2d(R);
      const args = [tf.tensor2d(x), tf.tensor2d(W)];
      const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, Rt));
      const g1 = tf.grads((xi: tf.Tensor, Wi: tf.Tensor) => loss(dense(xi as tf.Tensor2D, Wi as tf.Tensor2D, null)))(
        args,
      );
      const g2 = tf.grads((xi: tf.Tensor, Wi: tf.Tensor) => loss(tf.matMul(xi, Wi)))(args);
      return [g1.map((g) => g.arraySync() as number[][]), g2.map((g) => g.arraySync() as number[][])];
    });
    expect(ours).toHaveLength(2);
    ours.forEach((g, i) => expectAllClose(g, auto[i]!));
  });

  it('bias gradient is the column sum of the upstream gradient', () => {
    const { x, W, b, R } = fixed(5);
    const db = tf.tidy(
      () =>
        tf
          .grad((bi: tf.Tensor) =>
            tf.sum(tf.mul(dense(tf.tensor2d(x), tf.tensor2d(W), bi as tf.Tensor1D), tf.tensor2d(R))),
          )(tf.tensor1d(b))
          .arraySync() as number[],
    );
    db.forEach((v, j) =>
      expect(v).toBeCloseTo(
        R.reduce((s, row) => s + row[j]!, 0),
        5,
      ),
    );
  });

  it('backward still works when the forward ran inside a tidy that disposed its inputs', () => {
    const { x, W, b, R } = fixed(6);
    const [dx, dW] = tf.tidy(() => {
      const f = (xi: tf.Tensor, Wi: tf.Tensor) => {
        // x·2 and W·1 are intermediates of the inner tidy: only what dense saved survives it.
        const y = tf.tidy(() => dense(tf.mul<tf.Tensor2D>(xi, 2), tf.mul<tf.Tensor2D>(Wi, 1), tf.tensor1d(b)));
        return tf.sum(tf.mul(y, tf.tensor2d(R)));
      };
      return tf
        .grads(f)([tf.tensor2d(x), tf.tensor2d(W)])
        .map((g) => g.arraySync() as number[][]);
    });
    // d/dx Σ (2x·W + b) ⊙ R = 2 R·Wᵀ;  d/dW = (2x)ᵀ·R
    expectAllClose(
      dx!,
      R.map((r) => W.map((wRow) => 2 * wRow.reduce((s, w, j) => s + w * r[j]!, 0))),
    );
    expectAllClose(
      dW!,
      W.map((_, i) => R[0]!.map((_, j) => x.reduce((s, xr, n) => s + 2 * xr[i]! * R[n]![j]!, 0))),
    );
  });
});

describe('sumRows', () => {
  it('equals tf.sum(g, 0)', () => {
    const rng = new Rng(7);
    for (const [rows, cols] of [
      [1, 4],
      [6, 3],
      [37, 11],
    ] as [number, number][]) {
      const g = randomMat(rows, cols, () => rng.next(), 3);
      const [ours, ref] = tf.tidy(() => [
        sumRows(tf.tensor2d(g)).arraySync(),
        tf.sum(tf.tensor2d(g), 0).arraySync() as number[],
      ]);
      expect(ours).toHaveLength(cols);
      ours.forEach((v, j) => expect(v).toBeCloseTo(ref[j]!, 4));
    }
  });

  it('returns a rank-1 tensor of the column count', () => {
    const shape = tf.tidy(() => sumRows(tf.zeros<tf.Rank.R2>([3, 2])).shape);
    expect(shape).toEqual([2]);
  });
});

describe('product', () => {
  it('gives op(a)·op(b) for every combination of transposes, on the backend in use (flags on OpenBLAS, explicit transposes on the wasm kernels), without leaking tensors', () => {
    const rng = new Rng(11);
    const rand = () => rng.next();
    const [M, K, Nn] = [7, 5, 6];
    const a = randomMat(M, K, rand, 1);
    const b = randomMat(K, Nn, rand, 1);
    const t = (m: Mat): Mat => m[0]!.map((_, j) => m.map((row) => row[j]!));
    const reference = a.map((row) => t(b).map((col) => row.reduce((s, x, k) => s + x * col[k]!, 0)));
    const before = tf.memory().numTensors;
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const A = tf.tensor2d(tA ? t(a) : a);
      const B = tf.tensor2d(tB ? t(b) : b);
      const c = product(A, B, tA, tB);
      expectAllClose(c.arraySync(), reference);
      tf.dispose([A, B, c]);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
