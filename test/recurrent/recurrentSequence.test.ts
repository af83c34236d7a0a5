// The runner with every cell: padded batches equal each sequence alone, and the hand-written BPTT through
// recurrentSequence matches float64 finite differences (LSTM with peepholes and forget bias, basic RNN).
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { lstmStepRef, rnnStepRef, gruStepRef, randomMat, flat, type Mat } from '../helpers/reference.js';
import { recurrentSequence, maskOutputs, finalState } from '../../src/recurrent/rnn.js';
import { dense } from '../../src/layers/dense.js';
import { DEFAULT_CELL, cellGates, stateBlocks, type CellOptions } from '../../src/recurrent/cell.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const D = 2,
  H = 3;
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

interface W {
  W: Mat;
  U: Mat;
  b: number[];
  c: number[];
  peep: number[] | null;
}

const cells: [string, CellOptions][] = [
  ['GRU', DEFAULT_CELL],
  ['LSTM with peepholes, forget bias 1', { ...DEFAULT_CELL, kind: 'lstm', peepholes: true, forgetBias: 1 }],
  ['LSTM without peepholes, forget bias 0', { ...DEFAULT_CELL, kind: 'lstm', peepholes: false, forgetBias: 0 }],
  ['basic RNN, tanh', { ...DEFAULT_CELL, kind: 'rnn', activation: 'tanh' }],
  ['basic RNN, relu', { ...DEFAULT_CELL, kind: 'rnn', activation: 'relu' }],
];

function weights(cell: CellOptions, seed: number): W {
  const rng = new Rng(seed);
  const r = () => rng.next();
  const G = cellGates(cell.kind) * H;
  return {
    W: randomMat(D, G, r),
    U: randomMat(H, G, r),
    b: randomMat(1, G, r)[0]!,
    c: randomMat(1, G, r)[0]!,
    peep: cell.kind === 'lstm' && cell.peepholes ? randomMat(1, 3 * H, r)[0]! : null,
  };
}

/** float64 reference: per-step states [h | c] of one sequence from state0. */
function reference(cell: CellOptions, w: W, seq: number[][], s0: number[]): number[][] {
  let s = s0;
  return seq.map((x) => {
    if (cell.kind === 'lstm') {
      const r = lstmStepRef(x, s.slice(0, H), s.slice(H), w.W, w.U, w.b, w.c, cell.forgetBias, w.peep);
      s = [...r.h, ...r.c];
    } else if (cell.kind === 'rnn') s = rnnStepRef(x, s, w.W, w.U, w.b, w.c, cell.activation);
    else s = gruStepRef(x, s, w.W, w.U, w.b, w.c);
    return s;
  });
}

function layout(pad: 'front' | 'back') {
  const B = seqs.length,
    T = 4;
  const x = new Float32Array(T * B * D);
  const mask = new Float32Array(T * B);
  seqs.forEach((seq, b) => {
    const offset = pad === 'front' ? T - seq.length : 0;
    seq.forEach((v, i) => {
      mask[(i + offset) * B + b] = 1;
      v.forEach((val, d) => (x[((i + offset) * B + b) * D + d] = val));
    });
  });
  return { B, T, x, mask };
}

function run(cell: CellOptions, w: W, s0: Mat, pad: 'front' | 'back', vars?: tf.Tensor[]) {
  const { B, T, x, mask } = layout(pad);
  const [Wt, Ut, bt, ct, s0t, pt] = vars ?? [
    tf.tensor2d(w.W),
    tf.tensor2d(w.U),
    tf.tensor1d(w.b),
    tf.tensor1d(w.c),
    tf.tensor2d(s0),
    w.peep ? tf.tensor1d(w.peep) : null,
  ];
  const m = tf.tensor1d(mask);
  const states = recurrentSequence(
    cell,
    dense(tf.tensor2d(x, [T * B, D]), Wt as tf.Tensor2D, bt as tf.Tensor1D),
    s0t as tf.Tensor2D,
    Ut as tf.Tensor2D,
    ct as tf.Tensor1D,
    (pt ?? null) as tf.Tensor1D | null,
    m,
    { steps: T, batch: B },
  );
  return { outputs: maskOutputs(states, m), final: finalState(states) };
}

describe.each(cells)('recurrentSequence, %s', (_, cell) => {
  const S = stateBlocks(cell.kind) * H;
  const s0: Mat = [
    [0.1, -0.2, 0.3, 0.05, 0, -0.1].slice(0, S),
    [0, 0.5, -0.5, 0.2, 0.1, 0].slice(0, S),
    [0.2, 0.2, 0.2, -0.3, 0.4, 0].slice(0, S),
  ];

  it("front- and back-padded batches give each sequence's own outputs and last-real-step state", () => {
    const w = weights(cell, 1);
    for (const pad of ['front', 'back'] as const) {
      const { outputs, final } = tf.tidy(() => {
        const r = run(cell, w, s0, pad);
        return { outputs: r.outputs.arraySync(), final: r.final.arraySync() };
      });
      seqs.forEach((seq, b) => {
        const ref = reference(cell, w, seq, s0[b]!);
        const offset = pad === 'front' ? 4 - seq.length : 0;
        for (let t = 0; t < 4; t++) {
          const i = t - offset;
          const expected = i >= 0 && i < seq.length ? ref[i]! : new Array<number>(S).fill(0);
          expected.forEach((v, j) => expect(outputs[t]![b]![j]).toBeCloseTo(v, 5));
        }
        ref.at(-1)!.forEach((v, j) => expect(final[b]![j]).toBeCloseTo(v, 5));
      });
    }
  });

  it('hand-written backward pass matches central finite differences of a float64 reference', () => {
    const w = weights(cell, 2);
    const rng = new Rng(5);
    const R = Array.from({ length: 4 }, () => randomMat(3, S, () => rng.next(), 1));
    const Sf = randomMat(3, S, () => rng.next(), 1);
    // Front padding: the reversed-source layout; loss = Σ outputs ⊙ R + Σ final ⊙ Sf.
    const loss = (ww: W, ss0: Mat): number => {
      let l = 0;
      seqs.forEach((seq, b) => {
        const ref = reference(cell, ww, seq, ss0[b]!);
        const offset = 4 - seq.length;
        ref.forEach((s, i) => s.forEach((v, j) => (l += v * R[i + offset]![b]![j]!)));
        ref.at(-1)!.forEach((v, j) => (l += v * Sf[b]![j]!));
      });
      return l;
    };
    const grads = tf.tidy(() => {
      const inputs = [
        tf.tensor2d(w.W),
        tf.tensor2d(w.U),
        tf.tensor1d(w.b),
        tf.tensor1d(w.c),
        tf.tensor2d(s0),
        ...(w.peep ? [tf.tensor1d(w.peep)] : []),
      ];
      const f = (...v: tf.Tensor[]) => {
        const r = run(cell, w, s0, 'front', [
          v[0]!,
          v[1]!,
          v[2]!,
          v[3]!,
          v[4]!,
          v[5] ?? (null as unknown as tf.Tensor),
        ]);
        return tf.add(tf.sum(tf.mul(r.outputs, tf.tensor3d(R))), tf.sum(tf.mul(r.final, tf.tensor2d(Sf))));
      };
      return tf
        .grads(f)(inputs)
        .map((g) => Array.from(g.dataSync()));
    });
    const cur: W = {
      W: w.W.map((r) => [...r]),
      U: w.U.map((r) => [...r]),
      b: [...w.b],
      c: [...w.c],
      peep: w.peep ? [...w.peep] : null,
    };
    const st = s0.map((r) => [...r]);
    const eps = 1e-5;
    const check = (values: () => number[], set: (i: number, v: number) => void, analytic: number[]) => {
      values().forEach((v, i) => {
        set(i, v + eps);
        const up = loss(cur, st);
        set(i, v - eps);
        const down = loss(cur, st);
        set(i, v);
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(3e-4 * Math.max(1, Math.abs(numeric)));
      });
    };
    const G = cellGates(cell.kind) * H;
    check(
      () => flat(cur.W),
      (i, v) => (cur.W[Math.floor(i / G)]![i % G] = v),
      grads[0]!,
    );
    check(
      () => flat(cur.U),
      (i, v) => (cur.U[Math.floor(i / G)]![i % G] = v),
      grads[1]!,
    );
    check(
      () => cur.b,
      (i, v) => (cur.b[i] = v),
      grads[2]!,
    );
    check(
      () => cur.c,
      (i, v) => (cur.c[i] = v),
      grads[3]!,
    );
    check(
      () => flat(st),
      (i, v) => (st[Math.floor(i / S)]![i % S] = v),
      grads[4]!,
    );
    if (cur.peep)
      check(
        () => cur.peep!,
        (i, v) => (cur.peep![i] = v),
        grads[5]!,
      );
  });
});
