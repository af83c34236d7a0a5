// The GRU sequence as one kernel call each way (src/recurrent/gruSequence.ts) against the step-by-step form
// (recurrentSequence in rnn.ts with fuse false, itself checked against finite differences in rnn.test.ts): the same
// step kernels and products, so the same states and gradients, with padding at either end, one step, none, and
// without the tape.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { gruSequenceFused, gruSequenceRuns, gruStepFused } from '../../src/recurrent/gruSequence.js';
import { recurrentSequence, recurrentStep } from '../../src/recurrent/rnn.js';
import { DEFAULT_CELL } from '../../src/recurrent/cell.js';
import { Rng } from '../../src/random.js';

const blas = (await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, { blas: 'auto' })).blas;
// CI installs OpenBLAS (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing library fails instead of skipping.
if (blas === null && process.env['REQUIRE_SYSTEM_TOOLS'] === '1') throw new Error('OpenBLAS did not load');

beforeAll(async () => {
  await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, { blas: 'auto' });
});

interface Case {
  T: number;
  B: number;
  H: number;
  /** Real steps per sequence; padding at the front (reversed sources) or the back. */
  lengths?: number[];
  front?: boolean;
}

function inputs(c: Case, seed: number) {
  const rng = new Rng(seed);
  const r = (n: number, s = 1) => Array.from({ length: n }, () => (rng.next() * 2 - 1) * s);
  const { T, B, H } = c;
  const mask =
    c.lengths === undefined
      ? null
      : Float32Array.from({ length: T * B }, (_, i) => {
          const [t, b] = [Math.floor(i / B), i % B];
          const len = c.lengths![b]!;
          return (c.front === true ? t >= T - len : t < len) ? 1 : 0;
        });
  return {
    xp: tf.tensor2d(r(T * B * 3 * H, 2), [T * B, 3 * H]),
    h0: tf.tensor2d(r(B * H), [B, H]),
    U: tf.tensor2d(r(H * 3 * H, 0.5), [H, 3 * H]),
    c: tf.tensor1d(r(3 * H, 0.5)),
    mask: mask === null ? null : tf.tensor1d(mask),
    G: tf.tensor3d(r(T * B * H), [T, B, H]),
  };
}

/** Every tensor of an inputs() result. */
const all = (x: ReturnType<typeof inputs>): tf.Tensor[] => [
  x.xp,
  x.h0,
  x.U,
  x.c,
  x.G,
  ...(x.mask === null ? [] : [x.mask]),
];

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  let worst = 0;
  for (let i = 0; i < want.length; i++)
    worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
  expect(worst).toBeLessThan(tol);
}

const CASES: Case[] = [
  { T: 7, B: 5, H: 8 },
  { T: 6, B: 4, H: 12, lengths: [6, 3, 1, 0], front: true },
  { T: 5, B: 3, H: 16, lengths: [2, 5, 4] },
  { T: 1, B: 2, H: 4 },
  // One sentence: its products are gemv calls.
  { T: 8, B: 1, H: 16, lengths: [5], front: true },
  { T: 20, B: 64, H: 128, lengths: Array.from({ length: 64 }, (_, b) => 20 - (b % 9)), front: true },
];

describe('gruSequenceRuns', () => {
  it('holds on wasm with a BLAS for units in multiples of 4 only', () => {
    expect(gruSequenceRuns(8)).toBe(blas !== null);
    expect(gruSequenceRuns(6)).toBe(false);
  });
});

describe.skipIf(blas === null)('a GRU sequence in one kernel call each way', () => {
  for (const c of CASES) {
    const name = `T ${c.T}, B ${c.B}, H ${c.H}${c.lengths === undefined ? '' : c.front === true ? ', front padding' : ', back padding'}`;
    it(`gives the step-by-step states and gradients (xp, h0, U, c): ${name}`, () => {
      const x = inputs(c, c.T * 100 + c.H);
      const shape = { steps: c.T, batch: c.B };
      const loss = (f: (xp: tf.Tensor2D, h0: tf.Tensor2D, U: tf.Tensor2D, cc: tf.Tensor1D) => tf.Tensor3D) =>
        tf.valueAndGrads((xp, h0, U, cc) =>
          tf.sum(tf.mul(f(xp as tf.Tensor2D, h0 as tf.Tensor2D, U as tf.Tensor2D, cc as tf.Tensor1D), x.G)),
        )([x.xp, x.h0, x.U, x.c]);
      const before = tf.memory().numTensors;
      const fused = tf.tidy(() => {
        const states = gruSequenceFused(x.xp, x.h0, x.U, x.c, x.mask, c.T);
        const { value, grads } = loss((xp, h0, U, cc) => gruSequenceFused(xp, h0, U, cc, x.mask, c.T));
        return [states, value, ...grads];
      });
      expect(tf.memory().numTensors).toBe(before + 6);
      const steps = tf.tidy(() => {
        const states = recurrentSequence(DEFAULT_CELL, x.xp, x.h0, x.U, x.c, null, x.mask, shape, null, false);
        const { value, grads } = loss((xp, h0, U, cc) =>
          recurrentSequence(DEFAULT_CELL, xp, h0, U, cc, null, x.mask, shape, null, false),
        );
        return [states, value, ...grads];
      });
      expect(fused[0]!.shape).toEqual([c.T, c.B, c.H]);
      fused.forEach((t, i) => {
        expect(t.shape).toEqual(steps[i]!.shape);
        expectClose(t.dataSync(), steps[i]!.dataSync(), 1e-5);
      });
      tf.dispose([...fused, ...steps, ...all(x)]);
    });
  }

  it('without the tape (decoding) gives the same states and keeps no cache; recurrentSequence takes it for a GRU', () => {
    const c: Case = { T: 9, B: 6, H: 20, lengths: [9, 8, 5, 9, 1, 3], front: true };
    const x = inputs(c, 5);
    const before = tf.memory().numTensors;
    const fused = gruSequenceFused(x.xp, x.h0, x.U, x.c, x.mask, c.T);
    expect(tf.memory().numTensors).toBe(before + 1);
    const viaSequence = recurrentSequence(DEFAULT_CELL, x.xp, x.h0, x.U, x.c, null, x.mask, { steps: c.T, batch: c.B });
    const steps = recurrentSequence(
      DEFAULT_CELL,
      x.xp,
      x.h0,
      x.U,
      x.c,
      null,
      x.mask,
      { steps: c.T, batch: c.B },
      null,
      false,
    );
    expectClose(fused.dataSync(), steps.dataSync(), 1e-6);
    expect(Array.from(viaSequence.dataSync())).toEqual(Array.from(fused.dataSync()));
    // Padded steps carry the state: the first padded row of sequence 4 (length 1, front padding) keeps h0's.
    const h = fused.arraySync();
    expect(h[0]![4]).toEqual(Array.from(x.h0.arraySync()[4]!, Math.fround));
    tf.dispose([fused, viaSequence, steps, ...all(x)]);
  });

  it('with no steps gives an empty sequence, and zero gradients for U and c and none through h0', () => {
    const x = inputs({ T: 0, B: 3, H: 8 }, 9);
    const { value, grads } = tf.valueAndGrads((h0, U, cc) =>
      tf.add(
        tf.sum(gruSequenceFused(x.xp, h0 as tf.Tensor2D, U as tf.Tensor2D, cc as tf.Tensor1D, null, 0)),
        tf.sum(h0),
      ),
    )([x.h0, x.U, x.c]);
    const total = tf.tidy(() => x.h0.sum().dataSync()[0]!);
    expect(value.dataSync()[0]).toBeCloseTo(total, 5);
    expect(Array.from(grads[0]!.dataSync())).toEqual(Array(24).fill(1));
    expect(grads[1]!.dataSync().every((v) => v === 0)).toBe(true);
    expect(grads[2]!.dataSync().every((v) => v === 0)).toBe(true);
    tf.dispose([value, ...grads, ...all(x)]);
  });

  it("one step without the tape (a decoder's step) is one kernel call giving recurrentStep's state", () => {
    for (const [B, H] of [
      [1, 4],
      [5, 12],
      [64, 128],
    ] as const) {
      const x = inputs({ T: 1, B, H }, B + H);
      const before = tf.memory().numTensors;
      const fused = gruStepFused(x.xp, x.h0, x.U, x.c);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(fused.shape).toEqual([B, H]);
      const step = recurrentStep(DEFAULT_CELL, x.xp, x.h0, x.U, x.c, null);
      expectClose(fused.dataSync(), step.dataSync(), 1e-6);
      tf.dispose([fused, step, ...all(x)]);
    }
  });
});
