import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../../helpers/backend.js';
import { simdModuleBytes } from '../../../src/backend/wasm/simdKernels.js';
import { simdKernels } from '../../../src/backend/wasm/binding.js';
import { gruStep, gruNextState, gruStepGrad } from '../../../src/recurrent/gru.js';
import { gruStepValues, gruStepGradValues } from '../../../src/recurrent/gruKernels.js';
import { Rng } from '../../../src/random.js';

beforeAll(useTestBackend);

const [T, B, H] = [3, 6, 8]; // H a multiple of 4: the SIMD kernels run
const rng = new Rng(11);
const rand = (n: number, scale: number) => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale);
const MASK = Float32Array.from({ length: T * B }, (_, i) => (i % 4 === 3 ? 0 : 1));

function worstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe('SIMD kernels (WebAssembly, assembled in backend/wasm/simdKernels.ts)', () => {
  it('assemble into a valid module for shared and unshared memory, and run on the test backend', () => {
    expect(WebAssembly.validate(simdModuleBytes(false))).toBe(true);
    expect(WebAssembly.validate(simdModuleBytes(true))).toBe(true);
    expect(tf.getBackend()).toBe('wasm');
    expect(simdKernels(tf.backend())).not.toBeNull();
  });

  it('GRU step: equals the float64 JavaScript loop to 1e-6, with and without padding and cache; padding carries h bit for bit; saturates to ±1', () => {
    const xp = rand(T * B * 3 * H, 3);
    xp[2 * H] = 1e5; // row 0's first n pre-activation: tanh → +1
    xp[3 * H + 2 * H + 1] = -1e5; // row 1: tanh → −1
    xp[5] = Number.NaN; // NaN stays NaN (row 0, r gate, column 5)
    const hU = rand(B * 3 * H, 2),
      c = rand(3 * H, 1),
      h = rand(B * H, 1);
    for (const mask of [MASK, undefined]) {
      for (let t = 0; t < T; t++) {
        const want = [new Float32Array(B * H), new Float32Array(B * 4 * H)] as const;
        gruStepValues(xp, hU, c, h, mask, t, B, H, want[0], want[1]);
        const args = {
          xp: tf.tensor2d(xp, [T * B, 3 * H]),
          hU: tf.tensor2d(hU, [B, 3 * H]),
          c: tf.tensor1d(c),
          h: tf.tensor2d(h, [B, H]),
          mask: mask === undefined ? null : tf.tensor1d(mask),
          t,
        };
        const [hNew, cache] = gruStep(args);
        const alone = gruNextState(args);
        const got = [hNew.dataSync(), cache.dataSync()] as const;
        // NaN lanes compared apart: row 0, column 5 (t = 0 only).
        const finite = (x: Float32Array) => x.map((v) => (Number.isNaN(v) ? 0 : v));
        if (t === 0) {
          expect(got[0][5]).toBeNaN();
          expect(want[0][5]).toBeNaN();
        }
        expect(worstDiff(finite(got[0] as Float32Array), finite(want[0]))).toBeLessThan(1e-6);
        expect(worstDiff(finite(got[1] as Float32Array), finite(want[1]))).toBeLessThan(1e-6);
        expect(alone.dataSync()).toEqual(got[0]);
        for (let b = 0; b < B; b++)
          if (mask !== undefined && mask[t * B + b] === 0)
            expect(got[0].slice(b * H, (b + 1) * H)).toEqual(h.slice(b * H, (b + 1) * H));
        if (t === 0) {
          expect(got[1][2 * H]).toBe(1);
          expect(got[1][4 * H + 2 * H + 1]).toBe(-1);
        }
        tf.dispose([hNew, cache, alone, args.xp, args.hU, args.c, args.h, ...(args.mask === null ? [] : [args.mask])]);
      }
    }
  });

  it('GRU step gradient: equals the JavaScript loop to 1e-6 for every combination of present inputs, with and without padding', () => {
    const dOut = rand(T * B * H, 1),
      dhA = rand(B * H, 1),
      dhB = rand(B * H, 1),
      h = rand(B * H, 1);
    // A cache as a forward step writes it: r, z, n in their ranges, un anything.
    const cache = new Float32Array(B * 4 * H);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < H; j++) {
        cache[b * 4 * H + j] = rng.next();
        cache[b * 4 * H + H + j] = rng.next();
        cache[b * 4 * H + 2 * H + j] = rng.next() * 2 - 1;
        cache[b * 4 * H + 3 * H + j] = rng.next() * 4 - 2;
      }
    for (const mask of [MASK, undefined]) {
      for (const present of [
        [true, true, true],
        [true, false, false],
        [false, true, true],
        [false, false, true],
      ]) {
        const t = 1;
        const [pOut, pA, pB] = present;
        const want = [new Float32Array(B * 3 * H), new Float32Array(B * 3 * H), new Float32Array(B * H)] as const;
        gruStepGradValues(
          pOut ? dOut : undefined,
          pA ? dhA : undefined,
          pB ? dhB : undefined,
          cache,
          h,
          mask,
          t,
          B,
          H,
          want[0],
          want[1],
          want[2],
        );
        const got = tf.tidy(() =>
          gruStepGrad({
            dOut: pOut ? tf.tensor2d(dOut, [T * B, H]) : null,
            dhA: pA ? tf.tensor2d(dhA, [B, H]) : null,
            dhB: pB ? tf.tensor2d(dhB, [B, H]) : null,
            cache: tf.tensor2d(cache, [B, 4 * H]),
            h: tf.tensor2d(h, [B, H]),
            mask: mask === undefined ? null : tf.tensor1d(mask),
            t,
          }).map((x) => x.dataSync()),
        );
        got.forEach((g, i) => expect(worstDiff(g, want[i]!)).toBeLessThan(1e-6));
        // Padding rows: no gate or input gradient, the whole incoming gradient passes to h.
        for (let b = 0; b < B; b++) {
          if (mask === undefined || mask[t * B + b] !== 0) continue;
          expect(got[0]!.slice(b * 3 * H, (b + 1) * 3 * H).every((x) => x === 0)).toBe(true);
          expect(got[1]!.slice(b * 3 * H, (b + 1) * 3 * H).every((x) => x === 0)).toBe(true);
        }
      }
    }
  });
});
