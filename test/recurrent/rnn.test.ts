import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { gruStepRef, randomMat, flat, type Mat } from '../helpers/reference.js';
import { gruSequence, maskOutputs, finalState } from '../../src/recurrent/rnn.js';
import { dense } from '../../src/layers/dense.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const D = 2,
  H = 3;

interface Weights {
  W: Mat;
  U: Mat;
  b: number[];
  c: number[];
}

function makeWeights(seed: number): Weights {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  return {
    W: randomMat(D, 3 * H, rand),
    U: randomMat(H, 3 * H, rand),
    b: randomMat(1, 3 * H, rand)[0]!,
    c: randomMat(1, 3 * H, rand)[0]!,
  };
}

/** Runs the toolkit's GRU on sequences xs[b][t][d] padded to T ('front' or 'back'); returns outputs & final. */
function runToolkit(w: Weights, xs: number[][][], pad: 'front' | 'back', h0?: number[][]) {
  return tf.tidy(() => {
    const B = xs.length;
    const T = Math.max(...xs.map((s) => s.length));
    const x = new Float32Array(T * B * D);
    const mask = new Float32Array(T * B);
    xs.forEach((seq, b) => {
      const offset = pad === 'front' ? T - seq.length : 0;
      seq.forEach((v, i) => {
        const t = i + offset;
        mask[t * B + b] = 1;
        v.forEach((val, d) => (x[(t * B + b) * D + d] = val));
      });
    });
    const xp = dense(tf.tensor2d(x, [T * B, D]), tf.tensor2d(flat(w.W), [D, 3 * H]), tf.tensor1d(w.b));
    const h0t = h0 ? tf.tensor2d(h0) : tf.zeros<tf.Rank.R2>([B, H]);
    const states = gruSequence(xp, h0t, tf.tensor2d(flat(w.U), [H, 3 * H]), tf.tensor1d(w.c), tf.tensor1d(mask), {
      steps: T,
      batch: B,
    });
    return {
      out: maskOutputs(states, tf.tensor1d(mask)).arraySync(),
      final: finalState(states).arraySync(),
    };
  });
}

function runReference(w: Weights, seq: number[][], h0?: number[]): { outs: number[][]; final: number[] } {
  let h = h0 ?? new Array<number>(H).fill(0);
  const outs: number[][] = [];
  for (const x of seq) {
    h = gruStepRef(x, h, w.W, w.U, w.b, w.c);
    outs.push(h);
  }
  return { outs, final: h };
}

const seqs: number[][][] = [
  [
    [0.5, -1],
    [0.25, 0.75],
    [-0.5, 0.1],
    [1, 1],
  ],
  [[0.3, 0.2]],
  [
    [-1, 0.5],
    [0.9, -0.2],
  ],
];

describe('GRU runner', () => {
  it('equals the GRU equations on fixed weights, step by step', () => {
    const w = makeWeights(1);
    const { out, final } = runToolkit(w, seqs, 'back');
    seqs.forEach((seq, b) => {
      const ref = runReference(w, seq);
      ref.outs.forEach((o, t) => o.forEach((v, j) => expect(out[t]![b]![j]).toBeCloseTo(v, 5)));
      ref.final.forEach((v, j) => expect(final[b]![j]).toBeCloseTo(v, 5));
    });
  });

  it('gives zero outputs past each length and the state at the last real step, back-padded', () => {
    const w = makeWeights(2);
    const { out, final } = runToolkit(w, seqs, 'back');
    seqs.forEach((seq, b) => {
      for (let t = seq.length; t < 4; t++) out[t]![b]!.forEach((v) => expect(Math.abs(v)).toBe(0));
      const alone = runToolkit(w, [seq], 'back');
      alone.final[0]!.forEach((v, j) => expect(final[b]![j]).toBeCloseTo(v, 6));
    });
  });

  it('front padding (reversed sources) gives the same real outputs and final state as running alone', () => {
    const w = makeWeights(3);
    const h0 = [
      [0.1, -0.2, 0.3],
      [0.0, 0.5, -0.5],
      [0.2, 0.2, 0.2],
    ];
    const { out, final } = runToolkit(w, seqs, 'front', h0);
    seqs.forEach((seq, b) => {
      const ref = runReference(w, seq, h0[b]);
      const offset = 4 - seq.length;
      for (let t = 0; t < offset; t++) out[t]![b]!.forEach((v) => expect(Math.abs(v)).toBe(0));
      ref.outs.forEach((o, i) => o.forEach((v, j) => expect(out[i + offset]![b]![j]).toBeCloseTo(v, 5)));
      ref.final.forEach((v, j) => expect(final[b]![j]).toBeCloseTo(v, 5));
    });
  });

  it('hand-written backward pass matches central finite differences (float64 reference)', () => {
    const w = makeWeights(4);
    const rng = new Rng(9);
    const B = seqs.length,
      T = 4;
    // Loss = Σ outputs ⊙ R + Σ final ⊙ S with fixed random R, S; padded back.
    const R = Array.from({ length: T }, () => randomMat(B, H, () => rng.next(), 1));
    const S = randomMat(B, H, () => rng.next(), 1);
    const h0 = randomMat(B, H, () => rng.next(), 0.5);
    const refLoss = (ww: Weights, hh0: Mat): number => {
      let loss = 0;
      seqs.forEach((seq, b) => {
        const r = runReference(ww, seq, hh0[b]);
        r.outs.forEach((o, t) => o.forEach((v, j) => (loss += v * R[t]![b]![j]!)));
        r.final.forEach((v, j) => (loss += v * S[b]![j]!));
      });
      return loss;
    };
    // Toolkit gradients.
    const grads = tf.tidy(() => {
      const x = new Float32Array(T * B * D);
      const mask = new Float32Array(T * B);
      seqs.forEach((seq, b) =>
        seq.forEach((v, t) => {
          mask[t * B + b] = 1;
          v.forEach((val, d) => (x[(t * B + b) * D + d] = val));
        }),
      );
      const maskT = tf.tensor1d(mask);
      const xT = tf.tensor2d(x, [T * B, D]);
      const f = (W: tf.Tensor, U: tf.Tensor, b: tf.Tensor, c: tf.Tensor, hh: tf.Tensor) => {
        const states = gruSequence(
          dense(xT, W as tf.Tensor2D, b as tf.Tensor1D),
          hh as tf.Tensor2D,
          U as tf.Tensor2D,
          c as tf.Tensor1D,
          maskT,
          { steps: T, batch: B },
        );
        return tf.add(
          tf.sum(tf.mul(maskOutputs(states, maskT), tf.tensor3d(R))),
          tf.sum(tf.mul(finalState(states), tf.tensor2d(S))),
        );
      };
      const g = tf.grads(f)([tf.tensor2d(w.W), tf.tensor2d(w.U), tf.tensor1d(w.b), tf.tensor1d(w.c), tf.tensor2d(h0)]);
      return g.map((t) => Array.from(t.dataSync()));
    });
    const eps = 1e-5;
    const check = (
      get: () => number[],
      set: (i: number, v: number) => void,
      analytic: number[],
      ww: () => Weights,
      hh: () => Mat,
    ) => {
      const base = get();
      base.forEach((v, i) => {
        set(i, v + eps);
        const up = refLoss(ww(), hh());
        set(i, v - eps);
        const down = refLoss(ww(), hh());
        set(i, v);
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(2e-4 * Math.max(1, Math.abs(numeric)));
      });
    };
    const cur = { ...w, W: w.W.map((r) => [...r]), U: w.U.map((r) => [...r]), b: [...w.b], c: [...w.c] };
    const hh0 = h0.map((r) => [...r]);
    check(
      () => flat(cur.W),
      (i, v) => (cur.W[Math.floor(i / (3 * H))]![i % (3 * H)] = v),
      grads[0]!,
      () => cur,
      () => hh0,
    );
    check(
      () => flat(cur.U),
      (i, v) => (cur.U[Math.floor(i / (3 * H))]![i % (3 * H)] = v),
      grads[1]!,
      () => cur,
      () => hh0,
    );
    check(
      () => cur.b,
      (i, v) => (cur.b[i] = v),
      grads[2]!,
      () => cur,
      () => hh0,
    );
    check(
      () => cur.c,
      (i, v) => (cur.c[i] = v),
      grads[3]!,
      () => cur,
      () => hh0,
    );
    check(
      () => flat(hh0),
      (i, v) => (hh0[Math.floor(i / H)]![i % H] = v),
      grads[4]!,
      () => cur,
      () => hh0,
    );
  });
});
