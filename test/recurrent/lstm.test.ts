import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { lstmStepRef, randomMat, flat, type Mat } from '../helpers/reference.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { selectBackend } from '../../src/backend/select.js';
import { sumRows } from '../../src/layers/dense.js';
import {
  lstmStep,
  lstmStepComposite,
  lstmStepGrad,
  lstmStepGradComposite,
  lstmStepValues,
  lstmStepGradValues,
  lstmPeepholeGrad,
  LSTM_STEP,
  LSTM_STEP_GRAD,
  LSTM_DEFAULTS,
  type LstmStepArgs,
  type LstmStepGradArgs,
} from '../../src/recurrent/lstm.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const T = 3,
  B = 4,
  H = 5;
// Time-major [T·B]: step 0 all real, steps 1 and 2 mix real and padding.
const MASK = [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0];

type Step = (a: LstmStepArgs) => [tf.Tensor2D, tf.Tensor2D];
type StepGrad = (a: LstmStepGradArgs) => [tf.Tensor2D, tf.Tensor2D];

function expectAllClose(actual: number[][], expected: number[][], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, digits)));
}

interface Inputs {
  xp: Mat;
  hU: Mat;
  c: number[];
  state: Mat;
  peep: number[];
  dOut: Mat;
  dhA: Mat;
  dhB: Mat;
}

function makeInputs(seed: number): Inputs {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  return {
    xp: randomMat(T * B, 4 * H, rand, 2),
    hU: randomMat(B, 4 * H, rand, 2),
    c: randomMat(1, 4 * H, rand, 1)[0]!,
    state: randomMat(B, 2 * H, rand, 1),
    peep: randomMat(1, 3 * H, rand, 1)[0]!,
    dOut: randomMat(T * B, 2 * H, rand, 1),
    dhA: randomMat(B, H, rand, 1),
    dhB: randomMat(B, 2 * H, rand, 1),
  };
}

function stepArgs(v: Inputs, t: number, mask: number[] | null, peepholes: boolean): LstmStepArgs {
  return {
    xp: tf.tensor2d(v.xp),
    hU: tf.tensor2d(v.hU),
    c: tf.tensor1d(v.c),
    state: tf.tensor2d(v.state),
    peep: peepholes ? tf.tensor1d(v.peep) : null,
    mask: mask === null ? null : tf.tensor1d(mask),
    t,
    forgetBias: LSTM_DEFAULTS.forgetBias,
  };
}

function forward(
  step: Step,
  v: Inputs,
  t: number,
  mask: number[] | null,
  peepholes: boolean,
): { state: Mat; cache: Mat } {
  return tf.tidy(() => {
    const [state, cache] = step(stepArgs(v, t, mask, peepholes));
    return { state: state.arraySync(), cache: cache.arraySync() };
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
  peepholes: boolean,
  present: Present,
): Mat[] {
  return tf.tidy(() => {
    // The cache always comes from the composite forward, so only the backward differs between the two runs.
    const [, cache] = lstmStepComposite(stepArgs(v, t, mask, peepholes));
    const out = stepGrad({
      dOut: present.dOut ? tf.tensor2d(v.dOut) : null,
      dhA: present.dhA ? tf.tensor2d(v.dhA) : null,
      dhB: present.dhB ? tf.tensor2d(v.dhB) : null,
      cache,
      state: tf.tensor2d(v.state),
      peep: peepholes ? tf.tensor1d(v.peep) : null,
      mask: mask === null ? null : tf.tensor1d(mask),
      t,
    });
    return out.map((x) => x.arraySync());
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused LSTM step kernels on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend, {});
    });

    it('are registered, so lstmStep and lstmStepGrad run the fused kernels', () => {
      expect(tf.getBackend()).toBe(backend);
      expect(hasJsKernel(LSTM_STEP)).toBe(true);
      expect(hasJsKernel(LSTM_STEP_GRAD)).toBe(true);
    });

    it('forward equals the composite ops at every step, with and without peepholes, with padding in the mask', () => {
      const v = makeInputs(1);
      for (const peepholes of [false, true]) {
        for (let t = 0; t < T; t++) {
          const fused = forward(lstmStep, v, t, MASK, peepholes);
          const composite = forward(lstmStepComposite, v, t, MASK, peepholes);
          expectAllClose(fused.state, composite.state);
          expectAllClose(fused.cache, composite.cache);
          // A padding position carries h and c through bit for bit.
          for (let b = 0; b < B; b++)
            if (MASK[t * B + b] === 0) expect(fused.state[b]).toEqual(v.state[b]!.map((x) => Math.fround(x)));
        }
      }
    });

    it('forward equals the composite ops without a mask', () => {
      const v = makeInputs(2);
      for (const peepholes of [false, true]) {
        const fused = forward(lstmStep, v, 2, null, peepholes);
        const composite = forward(lstmStepComposite, v, 2, null, peepholes);
        expectAllClose(fused.state, composite.state);
        expectAllClose(fused.cache, composite.cache);
      }
    });

    it('backward equals the composite ops at every step, with padding in the mask', () => {
      const v = makeInputs(3);
      const all = { dOut: true, dhA: true, dhB: true };
      for (const peepholes of [false, true]) {
        for (let t = 0; t < T; t++) {
          const fused = backward(lstmStepGrad, v, t, MASK, peepholes, all);
          const composite = backward(lstmStepGradComposite, v, t, MASK, peepholes, all);
          fused.forEach((m, i) => expectAllClose(m, composite[i]!));
          // Padding: no gradient into the gates; the whole incoming gradient passes to [h | c]_{t-1}.
          for (let b = 0; b < B; b++) {
            if (MASK[t * B + b] !== 0) continue;
            expect(fused[0]![b]!.every((x) => x === 0)).toBe(true);
            fused[1]![b]!.forEach((x, j) => {
              const fromA = j < H ? v.dhA[b]![j]! : 0;
              expect(x).toBeCloseTo(v.dOut[t * B + b]![j]! + fromA + v.dhB[b]![j]!, 5);
            });
          }
        }
      }
    });

    it('backward equals the composite ops with absent gradient inputs, with and without a mask', () => {
      const v = makeInputs(4);
      const cases: Present[] = [
        { dOut: true, dhA: false, dhB: false }, // the last step: gradient from the outputs only
        { dOut: false, dhA: true, dhB: true }, // a final-state-only loss
        { dOut: false, dhA: false, dhB: true },
      ];
      for (const present of cases) {
        for (const mask of [null, MASK]) {
          const fused = backward(lstmStepGrad, v, 1, mask, true, present);
          const composite = backward(lstmStepGradComposite, v, 1, mask, true, present);
          fused.forEach((m, i) => expectAllClose(m, composite[i]!));
        }
      }
    });
  });
}

describe('lstmStepValues', () => {
  // B = 1, H = 1, step t = 1 of 2 (so row 1 of xp and entry 1 of the mask are read); forget bias 1, peepholes
  // w_ci = 0.3, w_cf = −0.5, w_co = 0.4; state h = 0.6, c = −0.7.
  //   i  = σ(0.5 + 0.2 + 0.1 + 0.3·(−0.7))             = σ(0.59)      = 0.6433651457
  //   f  = σ(−0.3 + 0.1 − 0.2 + 1 + (−0.5)·(−0.7))     = σ(0.95)      = 0.7211151780
  //   g  = tanh(0.8 − 0.4 + 0.05)                       = tanh(0.45)   = 0.4218990053
  //   c' = f·c + i·g                                                   = −0.2333455096
  //   o  = σ(0.1 + 0.3 + 0 + 0.4·c')                    = σ(0.3066618) = 0.5760702350
  //   h' = o·tanh(c') = o·(−0.2292005332)                              = −0.1320356050
  const xp = new Float32Array([9, 9, 9, 9, 0.5, -0.3, 0.8, 0.1]); // row 0 is another step's and must not be read
  const hU = new Float32Array([0.2, 0.1, -0.4, 0.3]);
  const c = new Float32Array([0.1, -0.2, 0.05, 0]);
  const state = new Float32Array([0.6, -0.7]);
  const peep = new Float32Array([0.3, -0.5, 0.4]);

  it("computes the gates and [h' | c'] of a peephole LSTM with forget bias on a hand-worked 1×1 example", () => {
    const stateNew = new Float32Array(2);
    const cache = new Float32Array(5);
    lstmStepValues(xp, hU, c, state, peep, new Float32Array([0, 1]), 1, 1, 1, 1.0, stateNew, cache);
    expect(stateNew[0]).toBeCloseTo(-0.132035605, 6);
    expect(stateNew[1]).toBeCloseTo(-0.2333455096, 6);
    const expected = [0.6433651457, 0.721115178, 0.4218990053, 0.576070235, -0.2292005332]; // i f g o tanh(c')
    Array.from(cache).forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 6));
  });

  it('without peepholes and with forget bias 0 is the plain LSTM', () => {
    // i = σ(0.8) = 0.6899744811, f = σ(−0.4) = 0.4013123399, c' = f·(−0.7) + i·g = 0.0101809093,
    // o = σ(0.4) = 0.5986876601, h' = o·tanh(c') = 0.0060949742
    const stateNew = new Float32Array(2);
    lstmStepValues(xp, hU, c, state, undefined, undefined, 1, 1, 1, 0, stateNew, new Float32Array(5));
    expect(stateNew[0]).toBeCloseTo(0.0060949742, 6);
    expect(stateNew[1]).toBeCloseTo(0.0101809093, 6);
  });

  it('carries h and c unchanged at a padding position', () => {
    const stateNew = new Float32Array(2);
    lstmStepValues(xp, hU, c, state, peep, new Float32Array([1, 0]), 1, 1, 1, 1.0, stateNew, new Float32Array(5));
    expect(Array.from(stateNew)).toEqual([Math.fround(0.6), Math.fround(-0.7)]);
  });

  it('saturates for huge pre-activations instead of giving NaN', () => {
    // i = 1, f = 0, g = ±1, o = 1: c' = ±1, h' = tanh(±1).
    const big = 1e5;
    const xpBig = new Float32Array([big, -big, big, big, big, -big, -big, big]);
    const stateNew = new Float32Array(4);
    lstmStepValues(
      xpBig,
      new Float32Array(8),
      new Float32Array(4),
      new Float32Array([0, 3, 0, -3]),
      undefined,
      undefined,
      0,
      2,
      1,
      1,
      stateNew,
      new Float32Array(10),
    );
    expect(Array.from(stateNew).map((x) => Number.isFinite(x))).toEqual([true, true, true, true]);
    expect(stateNew[1]).toBe(1);
    expect(stateNew[3]).toBe(-1);
    expect(stateNew[0]).toBeCloseTo(Math.tanh(1), 6);
  });
});

describe('lstmStepGradValues', () => {
  // Continuing the example above with gh = dOut_h + dhA + dhB_h = 0.3 + 0.2 − 0.1 = 0.4 and
  // gc = dOut_c + dhB_c = −0.2 + 0.25 = 0.05:
  //   dO  = gh·tanh(c')·o(1 − o)                              = −0.0223895292
  //   dc' = gc + gh·o·(1 − tanh²c') + dO·w_co                  =  0.2593672299
  //   dI  = dc'·g·i(1 − i)                                     =  0.0251075837
  //   dF  = dc'·c·f(1 − f)                                     = −0.0365125916
  //   dG  = dc'·i·(1 − g²)                                     =  0.1371655660
  //   dStateDirect = [0, dc'·f + dI·w_ci + dF·w_cf]            = [0, 0.2128222171]
  const cache = new Float32Array([0.6433651457, 0.721115178, 0.4218990053, 0.576070235, -0.2292005332]);
  const state = new Float32Array([0.6, -0.7]);
  const peep = new Float32Array([0.3, -0.5, 0.4]);
  const dOut = new Float32Array([5, 5, 0.3, -0.2]); // row 0 belongs to step 0
  const dhA = new Float32Array([0.2]);
  const dhB = new Float32Array([-0.1, 0.25]);

  it('gives the gate and direct state gradients of a hand-worked 1×1 example', () => {
    const dGate = new Float32Array(4),
      dState = new Float32Array(2);
    lstmStepGradValues(dOut, dhA, dhB, cache, state, peep, new Float32Array([0, 1]), 1, 1, 1, dGate, dState);
    const expected = [0.0251075837, -0.0365125916, 0.137165566, -0.0223895292];
    Array.from(dGate).forEach((x, k) => expect(x).toBeCloseTo(expected[k]!, 6));
    expect(dState[0]).toBe(0);
    expect(dState[1]).toBeCloseTo(0.2128222171, 6);
  });

  it('at a padding position passes the whole gradient to [h | c] and none to the gates', () => {
    const dGate = new Float32Array(4).fill(7),
      dState = new Float32Array(2);
    lstmStepGradValues(dOut, dhA, dhB, cache, state, peep, new Float32Array([1, 0]), 1, 1, 1, dGate, dState);
    expect(Array.from(dGate)).toEqual([0, 0, 0, 0]);
    expect(dState[0]).toBeCloseTo(0.4, 6);
    expect(dState[1]).toBeCloseTo(0.05, 6);
  });
});

// A short sequence run by calling the step functions in a loop, and backpropagated through time with the gradient
// steps in reverse: the runner's job, written out here to pin down what the step API must provide.
describe('LSTM steps over a sequence', () => {
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
    peep: number[];
    h0: number[];
    c0: number[];
  }
  const rows = (v: number[], n: number): Mat =>
    Array.from({ length: v.length / n }, (_, r) => v.slice(r * n, (r + 1) * n));

  const rng = new Rng(11);
  const rand = () => rng.next();
  const X = randomMat(Ts * Bs, D, rand, 1); // [T·B, D]
  const R = randomMat(Ts * Bs, Hs, rand, 1); // loss weights on the outputs h_t
  const S = randomMat(Bs, 2 * Hs, rand, 1); // loss weights on the final [h | c]

  function makeParams(seed: number): Params {
    const r = new Rng(seed);
    const f = (n: number, scale = 0.5) => flat(randomMat(1, n, () => r.next(), scale));
    return {
      W: f(D * 4 * Hs),
      U: f(Hs * 4 * Hs),
      b: f(4 * Hs),
      c: f(4 * Hs),
      peep: f(3 * Hs),
      h0: f(Bs * Hs),
      c0: f(Bs * Hs),
    };
  }

  /** Float64 reference: outputs (zero at padding) and final state per sequence, and the loss Σ out⊙R + Σ final⊙S. */
  function reference(p: Params, peepholes: boolean): { outs: number[][]; finals: number[][]; loss: number } {
    const W = rows(p.W, 4 * Hs),
      U = rows(p.U, 4 * Hs);
    const outs: number[][] = [];
    const finals: number[][] = [];
    let loss = 0;
    for (let b = 0; b < Bs; b++) {
      let h = p.h0.slice(b * Hs, (b + 1) * Hs);
      let c = p.c0.slice(b * Hs, (b + 1) * Hs);
      for (let t = 0; t < Ts; t++) {
        const real = SEQ_MASK[t * Bs + b] === 1;
        if (real)
          ({ h, c } = lstmStepRef(
            X[t * Bs + b]!,
            h,
            c,
            W,
            U,
            p.b,
            p.c,
            LSTM_DEFAULTS.forgetBias,
            peepholes ? p.peep : null,
          ));
        const out = real ? h : h.map(() => 0);
        outs[t * Bs + b] = out;
        out.forEach((v, j) => (loss += v * R[t * Bs + b]![j]!));
      }
      finals[b] = [...h, ...c];
      finals[b]!.forEach((v, j) => (loss += v * S[b]![j]!));
    }
    return { outs, finals, loss };
  }

  /** The toolkit's steps forward and backward; returns outputs, final states and the gradients of every parameter. */
  function toolkit(p: Params, peepholes: boolean, step: Step, stepGrad: StepGrad) {
    return tf.tidy(() => {
      const x = tf.tensor2d(X);
      const W = tf.tensor2d(p.W, [D, 4 * Hs]),
        U = tf.tensor2d(p.U, [Hs, 4 * Hs]);
      const c = tf.tensor1d(p.c);
      const peep = peepholes ? tf.tensor1d(p.peep) : null;
      const mask = tf.tensor1d(SEQ_MASK);
      const xp = tf.add<tf.Tensor2D>(tf.matMul(x, W), tf.tensor1d(p.b)); // [T·B, 4H]
      const state0 = tf.concat([tf.tensor2d(p.h0, [Bs, Hs]), tf.tensor2d(p.c0, [Bs, Hs])], 1); // [B, 2H]
      const states: tf.Tensor2D[] = [];
      const caches: tf.Tensor2D[] = [];
      let state = state0;
      for (let t = 0; t < Ts; t++) {
        const hU = tf.matMul<tf.Tensor2D>(tf.slice(state, [0, 0], [Bs, Hs]), U);
        const [next, cache] = step({ xp, hU, c, state, peep, mask, t, forgetBias: LSTM_DEFAULTS.forgetBias });
        states.push(next);
        caches.push(cache);
        state = next;
      }
      // ∂loss/∂states [T·B, 2H]: R on the real outputs' h half, S on the last step's state.
      const dOutV = new Float32Array(Ts * Bs * 2 * Hs);
      for (let t = 0; t < Ts; t++) {
        for (let b = 0; b < Bs; b++) {
          for (let j = 0; j < Hs; j++) dOutV[(t * Bs + b) * 2 * Hs + j] = SEQ_MASK[t * Bs + b]! * R[t * Bs + b]![j]!;
          if (t === Ts - 1) for (let j = 0; j < 2 * Hs; j++) dOutV[(t * Bs + b) * 2 * Hs + j]! += S[b]![j]!;
        }
      }
      const dOut = tf.tensor2d(dOutV, [Ts * Bs, 2 * Hs]);
      const UT = tf.transpose(U);
      const dGates: tf.Tensor2D[] = new Array(Ts);
      let dhA: tf.Tensor2D | null = null;
      let dhB: tf.Tensor2D | null = null;
      for (let t = Ts - 1; t >= 0; t--) {
        const prev = t === 0 ? state0 : states[t - 1]!;
        const [dGate, dStateDirect] = stepGrad({ dOut, dhA, dhB, cache: caches[t]!, state: prev, peep, mask, t });
        dGates[t] = dGate;
        dhA = tf.matMul<tf.Tensor2D>(dGate, UT);
        dhB = dStateDirect;
      }
      const dGateAll = tf.concat(dGates, 0); // [T·B, 4H], also ∂xp
      const prevAll = tf.concat([state0, ...states.slice(0, Ts - 1)], 0); // [T·B, 2H]
      const dState0 = tf.add(dhB!, tf.concat([dhA!, tf.zeros([Bs, Hs])], 1));
      const grads: Record<keyof Params, tf.Tensor> = {
        W: tf.matMul(tf.transpose(x), dGateAll),
        U: tf.matMul(tf.transpose(tf.slice(prevAll, [0, 0], [Ts * Bs, Hs])), dGateAll),
        b: sumRows(dGateAll),
        c: sumRows(dGateAll),
        peep: lstmPeepholeGrad(dGateAll, prevAll, tf.concat(states, 0)),
        h0: tf.slice(dState0, [0, 0], [Bs, Hs]),
        c0: tf.slice(dState0, [0, Hs], [Bs, Hs]),
      };
      const outputs = tf.concat(states, 0).arraySync();
      return {
        outs: outputs.map((row, k) => row.slice(0, Hs).map((v) => v * SEQ_MASK[k]!)),
        finals: states[Ts - 1]!.arraySync(),
        grads: Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.dataSync())])) as Record<
          keyof Params,
          number[]
        >,
      };
    });
  }

  const impls: [string, Step, StepGrad][] = [
    ['lstmStep/lstmStepGrad (fused kernels on the test backend, wasm)', lstmStep, lstmStepGrad],
    ['composite steps', lstmStepComposite, lstmStepGradComposite],
  ];

  for (const [name, step, stepGrad] of impls) {
    for (const peepholes of [true, false]) {
      const what = `${name}, ${peepholes ? 'with' : 'without'} peepholes`;

      it(`equal the LSTM equations on fixed weights, padded positions carrying the state (${what})`, () => {
        const p = makeParams(5);
        const ref = reference(p, peepholes);
        const got = toolkit(p, peepholes, step, stepGrad);
        expectAllClose(got.outs, ref.outs);
        expectAllClose(got.finals, ref.finals);
      });

      it(`backpropagated through time match central finite differences of a float64 loss (${what})`, () => {
        const p = makeParams(6);
        const analytic = toolkit(p, peepholes, step, stepGrad).grads;
        const eps = 1e-5;
        const names: (keyof Params)[] = ['W', 'U', 'b', 'c', 'h0', 'c0', ...(peepholes ? ['peep' as const] : [])];
        for (const k of names) {
          p[k].forEach((v, i) => {
            p[k][i] = v + eps;
            const up = reference(p, peepholes).loss;
            p[k][i] = v - eps;
            const down = reference(p, peepholes).loss;
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
