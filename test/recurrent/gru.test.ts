import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { randomMat } from '../helpers/reference.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { selectBackend } from '../../src/backend/select.js';
import {
  gruStep,
  gruNextState,
  gruStepComposite,
  gruStepGrad,
  gruStepGradComposite,
  type GruStepArgs,
  type GruStepGradArgs,
} from '../../src/recurrent/gru.js';
import { gruStepValues, gruStepGradValues, GRU_STEP, GRU_STEP_GRAD } from '../../src/recurrent/gruKernels.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const T = 3,
  B = 4,
  H = 5;
// Time-major [T·B]: step 0 all real, steps 1 and 2 mix real and padding.
const MASK = [1, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1, 0];

function expectAllClose(actual: number[][], expected: number[][], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(expected[i]![j]!, digits)));
}

interface Inputs {
  xp: number[][];
  hU: number[][];
  c: number[];
  h: number[][];
  dOut: number[][];
  dhA: number[][];
  dhB: number[][];
}

function makeInputs(seed: number): Inputs {
  const rng = new Rng(seed);
  const rand = () => rng.next();
  return {
    xp: randomMat(T * B, 3 * H, rand, 2),
    hU: randomMat(B, 3 * H, rand, 2),
    c: randomMat(1, 3 * H, rand, 1)[0]!,
    h: randomMat(B, H, rand, 1),
    dOut: randomMat(T * B, H, rand, 1),
    dhA: randomMat(B, H, rand, 1),
    dhB: randomMat(B, H, rand, 1),
  };
}

function stepArgs(v: Inputs, t: number, mask: number[] | null): GruStepArgs {
  return {
    xp: tf.tensor2d(v.xp),
    hU: tf.tensor2d(v.hU),
    c: tf.tensor1d(v.c),
    h: tf.tensor2d(v.h),
    mask: mask === null ? null : tf.tensor1d(mask),
    t,
  };
}

type Step = (a: GruStepArgs) => [tf.Tensor2D, tf.Tensor2D];
type StepGrad = (a: GruStepGradArgs) => [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];

function forward(step: Step, v: Inputs, t: number, mask: number[] | null): { hNew: number[][]; cache: number[][] } {
  return tf.tidy(() => {
    const [hNew, cache] = step(stepArgs(v, t, mask));
    return { hNew: hNew.arraySync(), cache: cache.arraySync() };
  });
}

interface Present {
  dOut: boolean;
  dhA: boolean;
  dhB: boolean;
}

function backward(stepGrad: StepGrad, v: Inputs, t: number, mask: number[] | null, present: Present): number[][][] {
  return tf.tidy(() => {
    // The cache always comes from the composite forward, so only the backward differs between the two runs.
    const [, cache] = gruStepComposite(stepArgs(v, t, mask));
    const out = stepGrad({
      dOut: present.dOut ? tf.tensor2d(v.dOut) : null,
      dhA: present.dhA ? tf.tensor2d(v.dhA) : null,
      dhB: present.dhB ? tf.tensor2d(v.dhB) : null,
      cache,
      h: tf.tensor2d(v.h),
      mask: mask === null ? null : tf.tensor1d(mask),
      t,
    });
    return out.map((x) => x.arraySync());
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  describe(`fused GRU step kernels on ${backend}`, () => {
    beforeAll(async () => {
      await selectBackend(backend, {});
    });

    it('are registered, so gruStep and gruStepGrad run the fused kernels', () => {
      expect(tf.getBackend()).toBe(backend);
      expect(hasJsKernel(GRU_STEP)).toBe(true);
      expect(hasJsKernel(GRU_STEP_GRAD)).toBe(true);
    });

    it('forward equals the composite ops at every step, with padding in the mask', () => {
      const v = makeInputs(1);
      for (let t = 0; t < T; t++) {
        const fused = forward(gruStep, v, t, MASK);
        const composite = forward(gruStepComposite, v, t, MASK);
        expectAllClose(fused.hNew, composite.hNew);
        expectAllClose(fused.cache, composite.cache);
        // A padding position carries h through bit for bit.
        for (let b = 0; b < B; b++)
          if (MASK[t * B + b] === 0) expect(fused.hNew[b]).toEqual(v.h[b]!.map((x) => Math.fround(x)));
      }
    });

    it("gruNextState (decoding: no cache written) gives gruStep's h′ bit for bit, with and without padding", () => {
      const v = makeInputs(5);
      for (const mask of [null, MASK]) {
        for (let t = 0; t < T; t++) {
          const full = forward(gruStep, v, t, mask);
          const next = tf.tidy(() => gruNextState(stepArgs(v, t, mask)).arraySync());
          expect(next).toEqual(full.hNew);
        }
      }
    });

    it('forward equals the composite ops without a mask', () => {
      const v = makeInputs(2);
      const fused = forward(gruStep, v, 2, null);
      const composite = forward(gruStepComposite, v, 2, null);
      expectAllClose(fused.hNew, composite.hNew);
      expectAllClose(fused.cache, composite.cache);
    });

    it('backward equals the composite ops at every step, with padding in the mask', () => {
      const v = makeInputs(3);
      const all = { dOut: true, dhA: true, dhB: true };
      for (let t = 0; t < T; t++) {
        const fused = backward(gruStepGrad, v, t, MASK, all);
        const composite = backward(gruStepGradComposite, v, t, MASK, all);
        fused.forEach((m, i) => expectAllClose(m, composite[i]!));
        // Padding: no gradient into the gates or inputs; the whole incoming gradient passes to h_{t-1}.
        for (let b = 0; b < B; b++) {
          if (MASK[t * B + b] !== 0) continue;
          expect(fused[0]![b]!.every((x) => x === 0)).toBe(true);
          expect(fused[1]![b]!.every((x) => x === 0)).toBe(true);
          fused[2]![b]!.forEach((x, j) =>
            expect(x).toBeCloseTo(v.dOut[t * B + b]![j]! + v.dhA[b]![j]! + v.dhB[b]![j]!, 5),
          );
        }
      }
    });

    it('backward equals the composite ops with absent gradient inputs and no mask', () => {
      const v = makeInputs(4);
      const cases: Present[] = [
        { dOut: true, dhA: false, dhB: false }, // the last step: gradient from the outputs only
        { dOut: false, dhA: true, dhB: true }, // a final-state-only loss
        { dOut: false, dhA: false, dhB: true },
      ];
      for (const present of cases) {
        for (const mask of [null, MASK]) {
          const fused = backward(gruStepGrad, v, 1, mask, present);
          const composite = backward(gruStepGradComposite, v, 1, mask, present);
          fused.forEach((m, i) => expectAllClose(m, composite[i]!));
        }
      }
    });
  });
}

describe('the wasm step kernels at H = 8 (the SIMD kernels where WebAssembly SIMD runs) against gruStepValues', () => {
  // gruStepValues and gruStepGradValues are the single JavaScript reference step; the wasm backend runs its SIMD
  // kernels (backend/wasm) when H is a multiple of 4.
  const [Tn, Bn, Hn] = [3, 5, 8];
  const rng = new Rng(17);
  const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);
  const mask = Float32Array.from({ length: Tn * Bn }, (_, i) => (i % 3 === 2 ? 0 : 1));
  const worst = (a: ArrayLike<number>, b: ArrayLike<number>) => {
    expect(a.length).toBe(b.length);
    let w = 0;
    for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
    return w;
  };

  beforeAll(async () => {
    await selectBackend('wasm', {});
  });

  it('forward: h′ and the cache within 1e-6, with and without padding; gruNextState gives the same h′', () => {
    const xp = rand(Tn * Bn * 3 * Hn, 3),
      hU = rand(Bn * 3 * Hn, 2),
      c = rand(3 * Hn, 1),
      h = rand(Bn * Hn, 1);
    for (const m of [mask, undefined]) {
      for (let t = 0; t < Tn; t++) {
        const want = [new Float32Array(Bn * Hn), new Float32Array(Bn * 4 * Hn)] as const;
        gruStepValues(xp, hU, c, h, m, t, Bn, Hn, want[0], want[1]);
        const got = tf.tidy(() => {
          const args: GruStepArgs = {
            xp: tf.tensor2d(xp, [Tn * Bn, 3 * Hn]),
            hU: tf.tensor2d(hU, [Bn, 3 * Hn]),
            c: tf.tensor1d(c),
            h: tf.tensor2d(h, [Bn, Hn]),
            mask: m === undefined ? null : tf.tensor1d(m),
            t,
          };
          const [hNew, cache] = gruStep(args);
          return [hNew.dataSync(), cache.dataSync(), gruNextState(args).dataSync()];
        });
        expect(tf.getBackend()).toBe('wasm');
        expect(worst(got[0]!, want[0])).toBeLessThan(1e-6);
        expect(worst(got[1]!, want[1])).toBeLessThan(1e-6);
        expect(got[2]).toEqual(got[0]);
      }
    }
  });

  it('backward: the gate, input and direct state gradients within 1e-6', () => {
    const dOut = rand(Tn * Bn * Hn, 1),
      dhA = rand(Bn * Hn, 1),
      dhB = rand(Bn * Hn, 1),
      h = rand(Bn * Hn, 1);
    const cache = new Float32Array(Bn * 4 * Hn);
    const hNew = new Float32Array(Bn * Hn);
    gruStepValues(
      rand(Tn * Bn * 3 * Hn, 2),
      rand(Bn * 3 * Hn, 2),
      rand(3 * Hn, 1),
      h,
      undefined,
      1,
      Bn,
      Hn,
      hNew,
      cache,
    );
    for (const m of [mask, undefined]) {
      const want = [new Float32Array(Bn * 3 * Hn), new Float32Array(Bn * 3 * Hn), new Float32Array(Bn * Hn)] as const;
      gruStepGradValues(dOut, dhA, dhB, cache, h, m, 1, Bn, Hn, want[0], want[1], want[2]);
      const got = tf.tidy(() =>
        gruStepGrad({
          dOut: tf.tensor2d(dOut, [Tn * Bn, Hn]),
          dhA: tf.tensor2d(dhA, [Bn, Hn]),
          dhB: tf.tensor2d(dhB, [Bn, Hn]),
          cache: tf.tensor2d(cache, [Bn, 4 * Hn]),
          h: tf.tensor2d(h, [Bn, Hn]),
          t: 1,
          mask: m === undefined ? null : tf.tensor1d(m),
        }).map((x) => x.dataSync()),
      );
      got.forEach((g, i) => expect(worst(g, want[i]!)).toBeLessThan(1e-6));
    }
  });
});
