import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { matVec, randomMat, flat, type Mat } from '../helpers/reference.js';
import { luongDotAttention } from '../../src/decoder/attention.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const B = 2,
  TT = 2,
  TS = 3,
  H = 2;
/** Real source lengths: batch entry 1 has one padding position at the end. */
const LENGTHS = [3, 2];

interface Inputs {
  states: Mat[];
  memory: Mat[];
  Wc: Mat;
}

function makeInputs(seed: number): Inputs {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  const memory = Array.from({ length: B }, () => randomMat(TS, H, rand, 1.5));
  // Padding rows of memory hold large values: a leak of any weight onto them would show.
  memory[1]![2] = [7, -9];
  return {
    states: Array.from({ length: B }, () => randomMat(TT, H, rand, 1.5)),
    memory,
    Wc: randomMat(2 * H, H, rand, 1),
  };
}

/** [B, 1, T_src]: 0 at real source positions, −1e9 at padding, as the encoder builds it. */
function maskBias(): number[][][] {
  return LENGTHS.map((len) => [Array.from({ length: TS }, (_, i) => (i < len ? 0 : -1e9))]);
}

/** The equations in float64, over real source positions only: score = s·e, a = softmax, c = Σ a e, h̃ = tanh([c; s]·W_c). */
function attentionRef({ states, memory, Wc }: Inputs): { attended: Mat[]; weights: Mat[] } {
  const attended: Mat[] = [];
  const weights: Mat[] = [];
  for (let b = 0; b < B; b++) {
    const real = memory[b]!.slice(0, LENGTHS[b]);
    attended.push([]);
    weights.push([]);
    for (const s of states[b]!) {
      const scores = real.map((e) => e.reduce((acc, v, k) => acc + v * s[k]!, 0));
      const max = Math.max(...scores);
      const exps = scores.map((x) => Math.exp(x - max));
      const total = exps.reduce((a, c) => a + c, 0);
      const a = exps.map((x) => x / total);
      const context = new Array<number>(H).fill(0);
      real.forEach((e, i) => e.forEach((v, k) => (context[k]! += a[i]! * v)));
      attended[b]!.push(matVec([...context, ...s], Wc).map(Math.tanh));
      weights[b]!.push([...a, ...new Array<number>(TS - real.length).fill(0)]);
    }
  }
  return { attended, weights };
}

function runToolkit(v: Inputs): { attended: number[][][]; weights: number[][][] } {
  return tf.tidy(() => {
    const r = luongDotAttention(
      tf.tensor3d(v.states),
      tf.tensor3d(v.memory),
      tf.tensor3d(maskBias()),
      tf.tensor2d(v.Wc),
    );
    expect(r.attended.shape).toEqual([B, TT, H]);
    expect(r.weights.shape).toEqual([B, TT, TS]);
    return { attended: r.attended.arraySync(), weights: r.weights.arraySync() };
  });
}

describe('Luong dot attention', () => {
  it('gives padded source positions exactly zero weight, and real ones weights summing to 1', () => {
    const { weights } = runToolkit(makeInputs(1));
    weights.forEach((rows, b) =>
      rows.forEach((row) => {
        row.slice(LENGTHS[b]).forEach((w) => expect(w).toBe(0));
        row.slice(0, LENGTHS[b]).forEach((w) => expect(w).toBeGreaterThan(0));
        expect(row.slice(0, LENGTHS[b]).reduce((a, c) => a + c, 0)).toBeCloseTo(1, 6);
      }),
    );
  });

  it('equals the equations computed in float64 (weights and attentional state)', () => {
    const v = makeInputs(2);
    const ours = runToolkit(v);
    const ref = attentionRef(v);
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < TT; t++) {
        ref.weights[b]![t]!.forEach((w, i) => expect(ours.weights[b]![t]![i]).toBeCloseTo(w, 5));
        ref.attended[b]![t]!.forEach((h, k) => expect(ours.attended[b]![t]![k]).toBeCloseTo(h, 5));
      }
    }
  });

  it('does not depend on what the padded memory rows hold', () => {
    const v = makeInputs(3);
    const before = runToolkit(v);
    v.memory[1]![2] = [-100, 55];
    const after = runToolkit(v);
    expect(after.attended).toEqual(before.attended);
    expect(after.weights).toEqual(before.weights);
  });

  it('gradient w.r.t. states, memory and W_c matches central finite differences (float64 reference)', () => {
    const v = makeInputs(4);
    const rng = new Rng(11);
    const R = Array.from({ length: B }, () => randomMat(TT, H, () => rng.next(), 1)); // loss = Σ h̃ ⊙ R
    const refLoss = (x: Inputs): number => {
      let loss = 0;
      attentionRef(x).attended.forEach((m, b) =>
        m.forEach((row, t) => row.forEach((h, k) => (loss += h * R[b]![t]![k]!))),
      );
      return loss;
    };
    const grads = tf.tidy(() => {
      const bias = tf.tensor3d(maskBias());
      const Rt = tf.tensor3d(R);
      const f = (s: tf.Tensor, m: tf.Tensor, w: tf.Tensor) =>
        tf.sum(tf.mul(luongDotAttention(s as tf.Tensor3D, m as tf.Tensor3D, bias, w as tf.Tensor2D).attended, Rt));
      return tf
        .grads(f)([tf.tensor3d(v.states), tf.tensor3d(v.memory), tf.tensor2d(v.Wc)])
        .map((g) => Array.from(g.dataSync()));
    });
    const eps = 1e-5;
    // Each parameter is a flat view [get, set] onto a nested array of v.
    const views: { values: () => number[]; set: (i: number, x: number) => void }[] = [
      {
        values: () => v.states.flatMap(flat),
        set: (i, x) => (v.states[Math.floor(i / (TT * H))]![Math.floor(i / H) % TT]![i % H] = x),
      },
      {
        values: () => v.memory.flatMap(flat),
        set: (i, x) => (v.memory[Math.floor(i / (TS * H))]![Math.floor(i / H) % TS]![i % H] = x),
      },
      { values: () => flat(v.Wc), set: (i, x) => (v.Wc[Math.floor(i / H)]![i % H] = x) },
    ];
    views.forEach((view, p) => {
      const analytic = grads[p]!;
      const base = view.values();
      expect(analytic).toHaveLength(base.length);
      base.forEach((x, i) => {
        view.set(i, x + eps);
        const up = refLoss(v);
        view.set(i, x - eps);
        const down = refLoss(v);
        view.set(i, x);
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(analytic[i]! - numeric)).toBeLessThan(2e-4 * Math.max(1, Math.abs(numeric)));
      });
    });
    // Padded memory (batch 1, position 2) gets exactly no gradient.
    const padded = (1 * TS + 2) * H;
    expect([grads[1]![padded], grads[1]![padded + 1]]).toEqual([0, 0]);
  });
});
