import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { rnnStepRef, randomMat, flat, type Mat } from '../helpers/reference.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { selectBackend } from '../../src/backend/select.js';
import { sumRows } from '../../src/layers/dense.js';
import {
  rnnStep,
  rnnStepComposite,
  rnnStepGrad,
  rnnStepGradComposite,
  rnnStepValues,
  rnnStepGradValues,
  RNN_STEP,
  RNN_STEP_GRAD,
  type RnnActivation,
  type RnnStepArgs,
  type RnnStepGradArgs,
} from '../../src/recurrent/basicRnn.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const T = 3,
  B = 4,
  H = 5;
// Time-major [T·B]: step 0 all real, steps 1 and 2 mix real and padding.
const MASK = [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0];
const ACTIVATIONS: RnnActivation[] = ['tanh', 'relu'];

type Step = (a: RnnStepArgs) => [tf.Tensor2D, tf.Tensor2D];
type StepGrad = (a: RnnStepGradArgs) => [tf.Tensor2D, tf.Tensor2D];

function expectAllClose(actual: number[][], expected: number[][], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, digits)));
}

interface Inputs {
  xp: Mat;
  hU: Mat;
  c: number[];
  h: Mat;
  dOut: Mat;
  dhA: Mat;
  dhB: Mat;
}

function makeInputs(seed: number): Inputs {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  return {
    xp: randomMat(T * B, H, rand, 2),
    hU: randomMat(B, H, rand, 2),
    c: randomMat(1, H, rand, 1)[0]!,
    h: randomMat(B, H, rand, 1),
    dOut: randomMat(T * B, H, rand, 1),
    dhA: randomMat(B, H, rand, 1),
    dhB: randomMat(B, H, rand, 1),
  };
}

function stepArgs(v: Inputs, t: number, mask: number[] | null, activation: RnnActivation): RnnStepArgs {
  return {
    xp: tf.tensor2d(v.xp),
    hU: tf.tensor2d(v.hU),
    c: tf.tensor1d(v.c),
    h: tf.tensor2d(v.h),
    mask: mask === null ? null : tf.tensor1d(mask),
    t,
    activation,
  };
}

function forward(
  step: Step,
  v: Inputs,
  t: number,
  mask: number[] | null,
  activation: RnnActivation,
): { hNew: Mat; cache: Mat } {
  return tf.tidy(() => {
    const [hNew, cache] = step(stepArgs(v, t, mask, activation));
    return { hNew: hNew.arraySync(), cache: cache.arraySync() };
  });
}

interface Present {
  dOut: boolean;
  dhA: boolean;
  dhB: boolean;
}

function backward(
  stepGrad: StepGrad,
  v: Inputs,
  t: number,
  mask: number[] | null,
  activation: RnnActivation,
  present: Present,
): Mat[] {
  return tf.tidy(() => {
    // The cache always comes from the composite forward, so only the backward differs between the two runs.
    const [, cache] = rnnStepComposite(stepArgs(v, t, mask, activation));
    const out = stepGrad({
      dOut: present.dOut ? tf.tensor2d(v.dOut) : null,
      dhA: present.dhA ? tf.tensor2d(v.dhA) : null,
      dhB: present.dhB ? tf.tensor2d(v.dhB) : null,
      cache,
      mask: mask === null ? null : tf.tensor1d(mask),
      t,
      activation,
    });
    return out.map((x) => x.arraySync());
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused basic RNN step kernels on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend, {});
    });

    it('are registered, so rnnStep and rnnStepGrad run the fused kernels', () => {
      expect(tf.getBackend()).toBe(backend);
      expect(hasJsKernel(RNN_STEP)).toBe(true);
      expect(hasJsKernel(RNN_STEP_GRAD)).toBe(true);
    });

    it('forward equals the composite ops at every step for tanh and relu, with padding in the mask', () => {
      const v = makeInputs(1);
      for (const activation of ACTIVATIONS) {
        for (let t = 0; t < T; t++) {
          const fused = forward(rnnStep, v, t, MASK, activation);
          const composite = forward(rnnStepComposite, v, t, MASK, activation);
          expectAllClose(fused.hNew, composite.hNew);
          expectAllClose(fused.cache, composite.cache);
          // A padding position carries h through bit for bit.
          for (let b = 0; b < B; b++)
            if (MASK[t * B + b] === 0) expect(fused.hNew[b]).toEqual(v.h[b]!.map((x) => Math.fround(x)));
        }
        const fused = forward(rnnStep, v, 2, null, activation);
        const composite = forward(rnnStepComposite, v, 2, null, activation);
        expectAllClose(fused.hNew, composite.hNew);
      }
    });

    it('backward equals the composite ops at every step for tanh and relu, with padding in the mask', () => {
      const v = makeInputs(3);
      const all = { dOut: true, dhA: true, dhB: true };
      for (const activation of ACTIVATIONS) {
        for (let t = 0; t < T; t++) {
          const fused = backward(rnnStepGrad, v, t, MASK, activation, all);
          const composite = backward(rnnStepGradComposite, v, t, MASK, activation, all);
          fused.forEach((m, i) => expectAllClose(m, composite[i]!));
          // Padding: no gradient into the pre-activation; the whole incoming gradient passes to h_{t-1}.
          for (let b = 0; b < B; b++) {
            if (MASK[t * B + b] !== 0) continue;
            expect(fused[0]![b]!.every((x) => x === 0)).toBe(true);
            fused[1]![b]!.forEach((x, j) =>
              expect(x).toBeCloseTo(v.dOut[t * B + b]![j]! + v.dhA[b]![j]! + v.dhB[b]![j]!, 5),
            );
          }
        }
      }
    });

    it('backward equals the composite ops with absent gradient inputs, with and without a mask', () => {
      const v = makeInputs(4);
      const cases: Present[] = [
        { dOut: true, dhA: false, dhB: false },
        { dOut: false, dhA: true, dhB: true },
        { dOut: false, dhA: false, dhB: true },
      ];
      for (const present of cases) {
        for (const mask of [null, MASK]) {
          const fused = backward(rnnStepGrad, v, 1, mask, 'tanh', present);
          const composite = backward(rnnStepGradComposite, v, 1, mask, 'tanh', present);
          fused.forEach((m, i) => expectAllClose(m, composite[i]!));
        }
      }
    });
  });
}

describe('rnnStepValues', () => {
  // B = 1, H = 1, step t = 1 of 2 (so row 1 of xp and entry 1 of the mask are read); h = 0.6.
  //   pre = 0.5 + 0.2 + 0.1 = 0.8:   tanh → 0.6640367703,   relu → 0.8
  //   pre = −1 + 0.2 + 0.1 = −0.7:   relu → 0
  const hU = new Float32Array([0.2]);
  const c = new Float32Array([0.1]);
  const h = new Float32Array([0.6]);
  const real = new Float32Array([0, 1]);

  it('computes tanh and relu of x·W + b + h·U + c on a hand-worked 1×1 example', () => {
    const hNew = new Float32Array(1),
      cache = new Float32Array(1);
    rnnStepValues(new Float32Array([9, 0.5]), hU, c, h, real, 1, 1, 1, 'tanh', hNew, cache);
    expect(hNew[0]).toBeCloseTo(0.6640367703, 6);
    expect(cache[0]).toBe(hNew[0]);
    rnnStepValues(new Float32Array([9, 0.5]), hU, c, h, undefined, 1, 1, 1, 'relu', hNew, cache);
    expect(hNew[0]).toBeCloseTo(0.8, 6);
    rnnStepValues(new Float32Array([9, -1]), hU, c, h, real, 1, 1, 1, 'relu', hNew, cache);
    expect(hNew[0]).toBe(0);
  });

  it('carries h unchanged at a padding position, keeping act(…) in the cache', () => {
    const hNew = new Float32Array(1),
      cache = new Float32Array(1);
    rnnStepValues(new Float32Array([9, 0.5]), hU, c, h, new Float32Array([1, 0]), 1, 1, 1, 'tanh', hNew, cache);
    expect(hNew[0]).toBe(Math.fround(0.6));
    expect(cache[0]).toBeCloseTo(0.6640367703, 6);
  });

  it('saturates tanh to ±1 for huge pre-activations instead of giving NaN', () => {
    const hNew = new Float32Array(2);
    rnnStepValues(
      new Float32Array([1e5, -1e5]),
      new Float32Array(2),
      new Float32Array(1),
      new Float32Array(2),
      undefined,
      0,
      2,
      1,
      'tanh',
      hNew,
      new Float32Array(2),
    );
    expect(Array.from(hNew)).toEqual([1, -1]);
  });
});

describe('rnnStepGradValues', () => {
  // Continuing the example above with g = dOut + dhA + dhB = 0.3 + 0.2 − 0.1 = 0.4:
  //   tanh: dGate = g(1 − a²) = 0.4·(1 − 0.6640367703²) = 0.2236220671;  relu: dGate = g = 0.4 where a > 0, else 0
  const dOut = new Float32Array([5, 0.3]); // row 0 belongs to step 0
  const dhA = new Float32Array([0.2]);
  const dhB = new Float32Array([-0.1]);
  const real = new Float32Array([0, 1]);

  it('gives the pre-activation gradient of a hand-worked 1×1 example, for tanh and relu', () => {
    const dGate = new Float32Array(1),
      dh = new Float32Array(1).fill(7);
    rnnStepGradValues(dOut, dhA, dhB, new Float32Array([0.6640367703]), real, 1, 1, 1, 'tanh', dGate, dh);
    expect(dGate[0]).toBeCloseTo(0.2236220671, 6);
    expect(dh[0]).toBe(0);
    rnnStepGradValues(dOut, dhA, dhB, new Float32Array([0.8]), real, 1, 1, 1, 'relu', dGate, dh);
    expect(dGate[0]).toBeCloseTo(0.4, 6);
    rnnStepGradValues(dOut, dhA, dhB, new Float32Array([0]), real, 1, 1, 1, 'relu', dGate, dh);
    expect(dGate[0]).toBe(0);
  });

  it('at a padding position passes the whole gradient to h and none to the pre-activation', () => {
    const dGate = new Float32Array(1).fill(7),
      dh = new Float32Array(1);
    rnnStepGradValues(
      dOut,
      dhA,
      dhB,
      new Float32Array([0.6640367703]),
      new Float32Array([1, 0]),
      1,
      1,
      1,
      'tanh',
      dGate,
      dh,
    );
    expect(dGate[0]).toBe(0);
    expect(dh[0]).toBeCloseTo(0.4, 6);
  });
});

// A short sequence run by calling the step functions in a loop, and backpropagated through time with the gradient
// steps in reverse: the runner's job, written out here to pin down what the step API must provide.
describe('basic RNN steps over a sequence', () => {
  beforeAll(useTestBackend);

  const D = 2,
    Hs = 3,
    Bs = 3,
    Ts = 3;
  // Time-major [T·B]: sequence 0 is back-padded (length 2), sequence 1 front-padded (length 2), sequence 2 full.
  const SEQ_MASK = [1, 0, 1, 1, 1, 1, 0, 1, 1];

  interface Params {
    W: number[];
    U: number[];
    b: number[];
    c: number[];
    h0: number[];
  }
  const rows = (v: number[], n: number): Mat =>
    Array.from({ length: v.length / n }, (_, r) => v.slice(r * n, (r + 1) * n));

  const rng = new Rng(12);
  const rand = () => rng.next();
  const X = randomMat(Ts * Bs, D, rand, 1); // [T·B, D]
  const R = randomMat(Ts * Bs, Hs, rand, 1); // loss weights on the outputs h_t
  const S = randomMat(Bs, Hs, rand, 1); // loss weights on the final h

  function makeParams(seed: number): Params {
    const r = new Rng(seed);
    const f = (n: number) => flat(randomMat(1, n, () => r.next(), 0.5));
    return { W: f(D * Hs), U: f(Hs * Hs), b: f(Hs), c: f(Hs), h0: f(Bs * Hs) };
  }

  /** Float64 reference: outputs (zero at padding) and final state per sequence, and the loss Σ out⊙R + Σ final⊙S. */
  function reference(p: Params, activation: RnnActivation): { outs: number[][]; finals: number[][]; loss: number } {
    const W = rows(p.W, Hs),
      U = rows(p.U, Hs);
    const outs: number[][] = [];
    const finals: number[][] = [];
    let loss = 0;
    for (let b = 0; b < Bs; b++) {
      let h = p.h0.slice(b * Hs, (b + 1) * Hs);
      for (let t = 0; t < Ts; t++) {
        const real = SEQ_MASK[t * Bs + b] === 1;
        if (real) h = rnnStepRef(X[t * Bs + b]!, h, W, U, p.b, p.c, activation);
        const out = real ? h : h.map(() => 0);
        outs[t * Bs + b] = out;
        out.forEach((v, j) => (loss += v * R[t * Bs + b]![j]!));
      }
      finals[b] = h;
      h.forEach((v, j) => (loss += v * S[b]![j]!));
    }
    return { outs, finals, loss };
  }

  /** The toolkit's steps forward and backward; returns outputs, final states and the gradients of every parameter. */
  function toolkit(p: Params, activation: RnnActivation, step: Step, stepGrad: StepGrad) {
    return tf.tidy(() => {
      const x = tf.tensor2d(X);
      const U = tf.tensor2d(p.U, [Hs, Hs]);
      const c = tf.tensor1d(p.c);
      const mask = tf.tensor1d(SEQ_MASK);
      const xp = tf.add<tf.Tensor2D>(tf.matMul(x, tf.tensor2d(p.W, [D, Hs])), tf.tensor1d(p.b)); // [T·B, H]
      const h0 = tf.tensor2d(p.h0, [Bs, Hs]);
      const states: tf.Tensor2D[] = [];
      const caches: tf.Tensor2D[] = [];
      let h = h0;
      for (let t = 0; t < Ts; t++) {
        const [next, cache] = step({ xp, hU: tf.matMul(h, U), c, h, mask, t, activation });
        states.push(next);
        caches.push(cache);
        h = next;
      }
      // ∂loss/∂states [T·B, H]: R on the real outputs, S on the last step's state.
      const dOutV = new Float32Array(Ts * Bs * Hs);
      for (let k = 0; k < Ts * Bs; k++) {
        for (let j = 0; j < Hs; j++) {
          dOutV[k * Hs + j] = SEQ_MASK[k]! * R[k]![j]! + (k >= (Ts - 1) * Bs ? S[k - (Ts - 1) * Bs]![j]! : 0);
        }
      }
      const dOut = tf.tensor2d(dOutV, [Ts * Bs, Hs]);
      const UT = tf.transpose(U);
      const dGates: tf.Tensor2D[] = new Array(Ts);
      let dhA: tf.Tensor2D | null = null;
      let dhB: tf.Tensor2D | null = null;
      for (let t = Ts - 1; t >= 0; t--) {
        const [dGate, dhDirect] = stepGrad({ dOut, dhA, dhB, cache: caches[t]!, mask, t, activation });
        dGates[t] = dGate;
        dhA = tf.matMul<tf.Tensor2D>(dGate, UT);
        dhB = dhDirect;
      }
      const dGateAll = tf.concat(dGates, 0); // [T·B, H], also ∂xp
      const prevAll = tf.concat([h0, ...states.slice(0, Ts - 1)], 0); // [T·B, H]
      const grads: Record<keyof Params, tf.Tensor> = {
        W: tf.matMul(tf.transpose(x), dGateAll),
        U: tf.matMul(tf.transpose(prevAll), dGateAll),
        b: sumRows(dGateAll),
        c: sumRows(dGateAll),
        h0: tf.add(dhA!, dhB!),
      };
      const outputs = tf.concat(states, 0).arraySync();
      return {
        outs: outputs.map((row, k) => row.map((v) => v * SEQ_MASK[k]!)),
        finals: states[Ts - 1]!.arraySync(),
        grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.dataSync())])) as Record<
          keyof Params,
          number[]
        >,
      };
    });
  }

  const impls: [string, Step, StepGrad][] = [
    ['rnnStep/rnnStepGrad (fused kernels on the test backend, wasm)', rnnStep, rnnStepGrad],
    ['composite steps', rnnStepComposite, rnnStepGradComposite],
  ];

  for (const [name, step, stepGrad] of impls) {
    for (const activation of ACTIVATIONS) {
      const what = `${name}, ${activation}`;

      it(`equal the RNN equations on fixed weights, padded positions carrying the state (${what})`, () => {
        const p = makeParams(5);
        const ref = reference(p, activation);
        const got = toolkit(p, activation, step, stepGrad);
        expectAllClose(got.outs, ref.outs);
        expectAllClose(got.finals, ref.finals);
      });

      it(`backpropagated through time match central finite differences of a float64 loss (${what})`, () => {
        const p = makeParams(6);
        const analytic = toolkit(p, activation, step, stepGrad).grads;
        const eps = 1e-5;
        for (const k of ['W', 'U', 'b', 'c', 'h0'] as const) {
          p[k].forEach((v, i) => {
            p[k][i] = v + eps;
            const up = reference(p, activation).loss;
            p[k][i] = v - eps;
            const down = reference(p, activation).loss;
            p[k][i] = v;
            const numeric = (up - down) / (2 * eps);
            expect(Math.abs(analytic[k][i]! - numeric), `${k}[${i}]`).toBeLessThan(
              2e-4 * Math.max(1, Math.abs(numeric)),
            );
          });
        }
      });
    }
  }
});
