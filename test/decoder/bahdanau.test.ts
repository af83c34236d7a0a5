// Bahdanau (additive) attention and Luong 'general' attention against their equations in float64, with padded
// source positions masked, and their gradients against central finite differences of the float64 reference.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { bahdanauAttention, bahdanauKeys } from '../../src/decoder/bahdanau.js';
import { luongAttention } from '../../src/decoder/attention.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const B = 2,
  TS = 3,
  M = 3,
  H = 2,
  A = 4;
const LENGTHS = [3, 2]; // batch entry 1 has one padded source position (the last)

/** Flat float64 inputs with their shapes; the toolkit gets float32 copies. */
interface Flat {
  values: number[];
  shape: number[];
}
type Inputs = Record<string, Flat>;

function rand(shape: number[], rng: Rng, scale = 1): Flat {
  return { values: Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.uniform(-scale, scale)), shape };
}

const maskBias = () =>
  tf.tensor3d(
    LENGTHS.flatMap((n) => Array.from({ length: TS }, (_, i) => (i < n ? 0 : -1e9))),
    [B, 1, TS],
  );
const at = (f: Flat, ...idx: number[]) => {
  let o = 0;
  idx.forEach((i, d) => (o = o * f.shape[d]! + i));
  return f.values[o]!;
};

function softmaxReal(scores: number[], n: number): number[] {
  const real = scores.slice(0, n);
  const max = Math.max(...real);
  const e = real.map((s) => Math.exp(s - max));
  const z = e.reduce((a, b) => a + b, 0);
  return [...e.map((x) => x / z), ...new Array<number>(scores.length - n).fill(0)];
}

/** Bahdanau in float64: a = softmax_i(v · tanh(e_i W_k + q W_q)), c = Σ a_i e_i. */
function bahdanauRef(x: Inputs): { context: number[][]; weights: number[][] } {
  const context: number[][] = [];
  const weights: number[][] = [];
  for (let b = 0; b < B; b++) {
    const scores: number[] = [];
    for (let i = 0; i < TS; i++) {
      let s = 0;
      for (let j = 0; j < A; j++) {
        let pre = 0;
        for (let m = 0; m < M; m++) pre += at(x.memory!, b, i, m) * at(x.Wk!, m, j);
        for (let h = 0; h < H; h++) pre += at(x.query!, b, h) * at(x.Wq!, h, j);
        s += at(x.v!, j, 0) * Math.tanh(pre);
      }
      scores.push(s);
    }
    const a = softmaxReal(scores, LENGTHS[b]!);
    weights.push(a);
    context.push(Array.from({ length: M }, (_, m) => a.reduce((acc, w, i) => acc + w * at(x.memory!, b, i, m), 0)));
  }
  return { context, weights };
}

/** Luong general in float64: a = softmax_i(s · (e_i W_a)), c = Σ a_i e_i, h̃ = tanh([c; s] W_c). */
function generalRef(x: Inputs): number[][] {
  const out: number[][] = [];
  for (let b = 0; b < B; b++) {
    const s = Array.from({ length: H }, (_, h) => at(x.query!, b, h));
    const scores = Array.from({ length: TS }, (_, i) => {
      let acc = 0;
      for (let h = 0; h < H; h++) for (let m = 0; m < M; m++) acc += s[h]! * at(x.memory!, b, i, m) * at(x.Wa!, m, h);
      return acc;
    });
    const a = softmaxReal(scores, LENGTHS[b]!);
    const c = Array.from({ length: M }, (_, m) => a.reduce((acc, w, i) => acc + w * at(x.memory!, b, i, m), 0));
    const joined = [...c, ...s];
    out.push(
      Array.from({ length: H }, (_, k) => Math.tanh(joined.reduce((acc, v, r) => acc + v * at(x.Wc!, r, k), 0))),
    );
  }
  return out;
}

function inputs(seed: number): Inputs {
  const rng = new Rng(seed);
  const x: Inputs = {
    query: rand([B, H], rng, 1.5),
    memory: rand([B, TS, M], rng, 1.5),
    Wk: rand([M, A], rng),
    Wq: rand([H, A], rng),
    v: rand([A, 1], rng),
    Wa: rand([M, H], rng),
    Wc: rand([M + H, H], rng),
  };
  // The padded memory row holds large values: any leak into the weights or the context would show.
  x.memory!.values.splice((1 * TS + 2) * M, M, 9, -7, 5);
  return x;
}

const tensor = (f: Flat) => tf.tensor(f.values, f.shape);

function runBahdanau(x: Inputs) {
  return tf.tidy(() => {
    const memory = tensor(x.memory!) as tf.Tensor3D;
    const r = bahdanauAttention(
      tensor(x.query!) as tf.Tensor2D,
      tensor(x.Wq!) as tf.Tensor2D,
      tensor(x.v!) as tf.Tensor2D,
      bahdanauKeys(memory, tensor(x.Wk!) as tf.Tensor2D),
      memory,
      maskBias(),
    );
    return { context: r.context.arraySync(), weights: r.weights.arraySync() };
  });
}

/** Checks tf.grads of `toolkitLoss` for the named inputs against central differences of `refLoss` (float64). */
function checkAgainstReference(
  x: Inputs,
  names: string[],
  toolkitLoss: (t: Record<string, tf.Tensor>) => tf.Scalar,
  refLoss: (x: Inputs) => number,
): void {
  const grads = tf.tidy(() => {
    const f = (...ts: tf.Tensor[]) => {
      const all: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(x)) all[k] = tensor(v);
      names.forEach((n, i) => (all[n] = ts[i]!));
      return toolkitLoss(all);
    };
    return tf
      .grads(f)(names.map((n) => tensor(x[n]!)))
      .map((g) => Array.from(g.dataSync()));
  });
  const eps = 1e-5;
  names.forEach((n, p) => {
    const values = x[n]!.values;
    expect(grads[p]).toHaveLength(values.length);
    values.forEach((v, i) => {
      values[i] = v + eps;
      const up = refLoss(x);
      values[i] = v - eps;
      const down = refLoss(x);
      values[i] = v;
      const numeric = (up - down) / (2 * eps);
      if (!(Math.abs(grads[p]![i]! - numeric) < 3e-4 * Math.max(1, Math.abs(numeric))))
        expect.fail(`${n}[${i}]: analytic ${grads[p]![i]}, numeric ${numeric}`);
    });
  });
}

describe('Bahdanau attention', () => {
  it('equals v·tanh(e W_k + q W_q), softmax over real positions, context Σ a e (float64 reference)', () => {
    const x = inputs(1);
    const ours = runBahdanau(x);
    const ref = bahdanauRef(x);
    ref.weights.forEach((row, b) => row.forEach((w, i) => expect(ours.weights[b]![i]).toBeCloseTo(w, 5)));
    ref.context.forEach((row, b) => row.forEach((c, m) => expect(ours.context[b]![m]).toBeCloseTo(c, 5)));
    expect(ours.weights[1]![2]).toBe(0);
  });

  it('gradients w.r.t. query, W_q, v, W_k and the memory match finite differences (through context and weights)', () => {
    const x = inputs(2);
    const rng = new Rng(3);
    const R = Array.from({ length: B * M }, () => rng.uniform(-1, 1));
    const Rw = Array.from({ length: B * TS }, () => rng.uniform(-1, 1));
    const refLoss = (xi: Inputs) => {
      const r = bahdanauRef(xi);
      return (
        r.context.flat().reduce((a, c, k) => a + c * R[k]!, 0) + r.weights.flat().reduce((a, w, k) => a + w * Rw[k]!, 0)
      );
    };
    checkAgainstReference(
      x,
      ['query', 'Wq', 'v', 'Wk', 'memory'],
      (t) => {
        const memory = t.memory as tf.Tensor3D;
        const r = bahdanauAttention(
          t.query as tf.Tensor2D,
          t.Wq as tf.Tensor2D,
          t.v as tf.Tensor2D,
          bahdanauKeys(memory, t.Wk as tf.Tensor2D),
          memory,
          maskBias(),
        );
        return tf.add(
          tf.sum(tf.mul(r.context, tf.tensor2d(R, [B, M]))),
          tf.sum(tf.mul(r.weights, tf.tensor2d(Rw, [B, TS]))),
        );
      },
      refLoss,
    );
  });
});

describe("Luong 'general' attention (encoder outputs wider than the decoder)", () => {
  const general = (t: Record<string, tf.Tensor>) => {
    const memory = t.memory as tf.Tensor3D;
    const keys = tf.reshape<tf.Rank.R3>(tf.matMul(tf.reshape(memory, [B * TS, M]), t.Wa as tf.Tensor2D), [B, TS, H]);
    return luongAttention(tf.reshape<tf.Rank.R3>(t.query!, [B, 1, H]), memory, keys, maskBias(), t.Wc as tf.Tensor2D);
  };

  it('equals tanh(W_c [Σ a e; s]) with a = softmax(s · e W_a) (float64 reference)', () => {
    const x = inputs(4);
    const ours = tf.tidy(() => {
      const all: Record<string, tf.Tensor> = {};
      for (const [k, v] of Object.entries(x)) all[k] = tensor(v);
      const r = general(all);
      return { attended: r.attended.arraySync(), weights: r.weights.arraySync() };
    });
    generalRef(x).forEach((row, b) => row.forEach((h, k) => expect(ours.attended[b]![0]![k]).toBeCloseTo(h, 5)));
    expect(ours.weights[1]![0]![2]).toBe(0);
  });

  it('gradients w.r.t. states, memory, W_a and W_c match finite differences', () => {
    const x = inputs(5);
    const rng = new Rng(6);
    const R = Array.from({ length: B * H }, () => rng.uniform(-1, 1));
    const refLoss = (xi: Inputs) =>
      generalRef(xi)
        .flat()
        .reduce((a, h, k) => a + h * R[k]!, 0);
    checkAgainstReference(
      x,
      ['query', 'memory', 'Wa', 'Wc'],
      (t) => tf.sum(tf.mul(general(t).attended, tf.tensor3d(R, [B, 1, H]))),
      refLoss,
    );
  });
});
