// Embedding lookup and embed-then-project: values and gradients against plain loops, in each way embedProject
// takes (the ids' rows when none repeats, the distinct ids' rows, the whole table when every row is used).
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { useTestBackend } from '../helpers/backend.js';
import { embed, embedProject, distinctIds } from '../../src/layers/embedding.js';
import { Rng } from '../../src/random.js';
import { fuzzRuns } from '../fuzz/settings.js';

beforeAll(useTestBackend);

const randomMatrix = (rng: Rng, rows: number, cols: number): number[][] =>
  Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.uniform(-1, 1)));

function expectClose(got: ArrayLike<number>, want: readonly number[], tol = 1e-5): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i]! - want[i]!) <= tol * (1 + Math.abs(want[i]!)))) {
      throw new Error(`element ${i}: got ${got[i]}, want ${want[i]}`);
    }
  }
}

/** out[i] = E[ids[i]]·W + b, and the gradients of Σ out ⊙ G. */
function reference(E: number[][], W: number[][], b: number[], ids: Int32Array, G: number[][]) {
  const dim = W.length;
  const outDim = b.length;
  const out = Array.from(ids, (id) => b.map((bj, j) => bj + E[id]!.reduce((s, e, k) => s + e * W[k]![j]!, 0)));
  const dE = E.map((row) => row.map(() => 0));
  const dW = W.map((row) => row.map(() => 0));
  const db = b.map(() => 0);
  ids.forEach((id, i) => {
    for (let k = 0; k < dim; k++) {
      for (let j = 0; j < outDim; j++) {
        dE[id]![k]! += G[i]![j]! * W[k]![j]!;
        dW[k]![j]! += E[id]![k]! * G[i]![j]!;
      }
    }
    for (let j = 0; j < outDim; j++) db[j]! += G[i]![j]!;
  });
  return { out: out.flat(), dE: dE.flat(), dW: dW.flat(), db };
}

describe('embed', () => {
  it('returns the rows of the table in the order of the ids, repeats included', () => {
    const table = tf.tensor2d([
      [0, 0.5],
      [1, 1.5],
      [2, 2.5],
      [3, 3.5],
    ]);
    const rows = embed(table, Int32Array.from([3, 0, 3, 1]));
    expect(rows.shape).toEqual([4, 2]);
    expect(Array.from(rows.dataSync())).toEqual([3, 3.5, 0, 0.5, 3, 3.5, 1, 1.5]);
    const none = embed(table, new Int32Array(0));
    expect(none.shape).toEqual([0, 2]);
    tf.dispose([table, rows, none]);
  });

  it('matches indexing on random tables and ids (property), making no tensor beyond its result', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 9 }),
        fc.nat(),
        fc.nat({ max: 20 }),
        (vocab, dim, seed, n) => {
          const rng = new Rng(seed);
          const E = randomMatrix(rng, vocab, dim);
          const ids = Int32Array.from({ length: n }, () => rng.int(0, vocab - 1));
          const table = tf.tensor2d(E, [vocab, dim]);
          const before = tf.memory().numTensors;
          const rows = embed(table, ids);
          expect(tf.memory().numTensors).toBe(before + 1);
          expect(rows.shape).toEqual([n, dim]);
          const want = new Float32Array(Array.from(ids, (id) => E[id]!).flat());
          expect(Array.from(rows.dataSync())).toEqual(Array.from(want));
          tf.dispose([table, rows]);
        },
      ),
      fuzzRuns(60),
    );
  });
});

describe('embedProject', () => {
  // vocab 6: 3 ids (one repeated) and 6 ids project their distinct rows; 10 ids use every row, the whole table.
  for (const n of [3, 6, 10]) {
    it(`gives E[ids]·W + b and its gradients for table, W and b (${n} ids, vocabulary 6)`, () => {
      const rng = new Rng(40 + n);
      const [vocab, dim, outDim] = [6, 5, 4];
      const E = randomMatrix(rng, vocab, dim);
      const W = randomMatrix(rng, dim, outDim);
      const b = Array.from({ length: outDim }, () => rng.uniform(-1, 1));
      const ids = Int32Array.from({ length: n }, (_, i) => (i * 4 + 1) % vocab);
      ids[0] = ids[n - 1] = 2; // a repeated id: its gradient rows add up
      const G = randomMatrix(rng, n, outDim);
      const want = reference(E, W, b, ids, G);

      const [tE, tW, tb, tG] = [tf.tensor2d(E), tf.tensor2d(W), tf.tensor1d(b), tf.tensor2d(G)];
      const before = tf.memory().numTensors;
      const out = embedProject(tE, tW, tb, ids);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(out.shape).toEqual([n, outDim]);
      expectClose(out.dataSync(), want.out);
      const grads = tf.grads((e, w, bias) =>
        tf.sum(tf.mul(embedProject(e as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D, ids), tG)),
      );
      const [dE, dW, db] = grads([tE, tW, tb]);
      expect(tf.memory().numTensors).toBe(before + 4);
      expectClose(dE!.dataSync(), want.dE);
      expectClose(dW!.dataSync(), want.dW);
      expectClose(db!.dataSync(), want.db);
      // Rows no id points at get no gradient.
      const unused = [...Array(vocab).keys()].filter((r) => !ids.includes(r));
      for (const r of unused) {
        expect(Array.from(dE!.dataSync().slice(r * dim, (r + 1) * dim))).toEqual(Array(dim).fill(0));
      }
      tf.dispose([tE, tW, tb, tG, out, dE!, dW!, db!]);
    });
  }

  it('gives the same values in either order for random sizes (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 16 }), fc.nat(), (vocab, n, seed) => {
        const rng = new Rng(seed);
        const [dim, outDim] = [3, 2];
        const E = randomMatrix(rng, vocab, dim);
        const W = randomMatrix(rng, dim, outDim);
        const b = [rng.uniform(-1, 1), rng.uniform(-1, 1)];
        const ids = Int32Array.from({ length: n }, () => rng.int(0, vocab - 1));
        const [tE, tW, tb] = [tf.tensor2d(E, [vocab, dim]), tf.tensor2d(W), tf.tensor1d(b)];
        const out = embedProject(tE, tW, tb, ids);
        expect(out.shape).toEqual([n, outDim]);
        expectClose(
          out.dataSync(),
          reference(
            E,
            W,
            b,
            ids,
            Array.from({ length: n }, () => [0, 0]),
          ).out,
        );
        tf.dispose([tE, tW, tb, out]);
      }),
      fuzzRuns(60),
    );
  });
});

describe('distinctIds', () => {
  it('lists the distinct ids in order of first appearance and where each id is among them', () => {
    const { rows, places } = distinctIds(Int32Array.from([4, 1, 4, 0, 1, 4]), 5)!;
    expect(Array.from(rows)).toEqual([4, 1, 0]);
    expect(Array.from(places)).toEqual([0, 1, 0, 2, 1, 0]);
    expect(distinctIds(new Int32Array(0), 3)).toEqual({ rows: new Int32Array(0), places: new Int32Array(0) });
  });

  it('gives null for an id outside the vocabulary, and embedProject then reports it as embed does', () => {
    expect(distinctIds(Int32Array.from([0, 5]), 5)).toBeNull();
    expect(distinctIds(Int32Array.from([-1]), 5)).toBeNull();
    const [E, W, b] = [tf.zeros<tf.Rank.R2>([5, 3]), tf.zeros<tf.Rank.R2>([3, 2]), tf.zeros<tf.Rank.R1>([2])];
    expect(() => embedProject(E, W, b, Int32Array.from([1, 1, 7]))).toThrow(/7/);
    tf.dispose([E, W, b]);
  });

  it('every way gives the same values and gradients on a training-sized batch (1,280 ids, vocabulary 1,000)', () => {
    const rng = new Rng(77);
    const [vocab, dim, outDim, n] = [1000, 8, 12, 1280];
    const E = tf.tensor2d(randomMatrix(rng, vocab, dim));
    const W = tf.tensor2d(randomMatrix(rng, dim, outDim));
    const b = tf.tensor1d(Array.from({ length: outDim }, () => rng.uniform(-1, 1)));
    const G = tf.tensor2d(randomMatrix(rng, n, outDim));
    const ids = Int32Array.from({ length: n }, () => rng.int(0, vocab - 1));
    const direct = (e: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.sum(tf.mul(tf.add(tf.matMul(tf.gather(e, tf.tensor1d(ids, 'int32')), w), bias), G));
    const viaDistinct = (e: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) =>
      tf.sum(tf.mul(embedProject(e as tf.Tensor2D, w as tf.Tensor2D, bias as tf.Tensor1D, ids), G));
    expect(distinctIds(ids, vocab)!.rows.length).toBeLessThan(n);
    const want = tf.grads(direct)([E, W, b]);
    const got = tf.grads(viaDistinct)([E, W, b]);
    want.forEach((w, i) => expectClose(got[i]!.dataSync(), Array.from(w.dataSync()), 1e-4));
    tf.dispose([E, W, b, G, ...want, ...got]);
  });
});
