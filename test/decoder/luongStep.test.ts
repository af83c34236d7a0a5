// The fused Luong decoder step (src/decoder/luongStep.ts) against luongAttention (attention.ts), which
// attention.test.ts checks against the equations: the same h̃ and weights, for one row a sentence (greedy) and five
// (a beam), 'dot' and 'general' shapes (values wider than the decoder), source lengths that are not multiples of
// four, and padding, whose weights are exactly 0.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { luongStepFused, luongStepRuns } from '../../src/decoder/luongStep.js';
import { luongAttention } from '../../src/decoder/attention.js';
import { Rng } from '../../src/random.js';

const blas = (await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, { blas: 'auto' })).blas;
// CI installs OpenBLAS (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing library fails instead of skipping.
if (blas === null && process.env['REQUIRE_SYSTEM_TOOLS'] === '1') throw new Error('OpenBLAS did not load');

beforeAll(async () => {
  await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, { blas: 'auto' });
});

describe('luongStepRuns', () => {
  it('holds on wasm with a BLAS, for widths in multiples of 4, and never under the tape', () => {
    expect(luongStepRuns(8)).toBe(blas !== null);
    expect(luongStepRuns(6)).toBe(false);
    const x = tf.scalar(1);
    tf.grad(() => {
      expect(luongStepRuns(8)).toBe(false);
      return tf.mul(x, 2);
    })(x);
    x.dispose();
  });
});

describe.skipIf(blas === null)('a Luong decoder step in one kernel call', () => {
  const cases = [
    { S: 4, G: 1, T: 7, H: 8, M: 8, lengths: [7, 3, 1, 6] },
    { S: 3, G: 5, T: 9, H: 12, M: 20, lengths: [9, 9, 2] },
    { S: 64, G: 1, T: 20, H: 128, M: 128, lengths: Array.from({ length: 64 }, (_, b) => 20 - (b % 7)) },
    { S: 2, G: 5, T: 4, H: 16, M: 16, lengths: [4, 1] },
    // One sentence, one row: every product is a gemv.
    { S: 1, G: 1, T: 6, H: 12, M: 24, lengths: [4] },
  ];
  for (const c of cases) {
    it(`gives luongAttention's h̃ and weights: ${c.S} sentences × ${c.G} rows, T ${c.T}, H ${c.H}, M ${c.M}`, () => {
      const rng = new Rng(c.T * 31 + c.H);
      const r = (n: number, s = 1) => Array.from({ length: n }, () => (rng.next() * 2 - 1) * s);
      const { S, G, T, H, M } = c;
      const states = tf.tensor2d(r(S * G * H, 2), [S * G, H]);
      const keys = tf.tensor3d(r(S * T * H, 2), [S, T, H]);
      const values = tf.tensor3d(r(S * T * M), [S, T, M]);
      // Padding at the front, as reversed sources have it: −1e9, the decoder's mask bias.
      const bias = Float32Array.from({ length: S * T }, (_, i) =>
        i % T < T - c.lengths[Math.floor(i / T)]! ? -1e9 : 0,
      );
      const maskBias = tf.tensor3d(bias, [S, 1, T]);
      const Wc = tf.tensor2d(r((M + H) * H, 0.3), [M + H, H]);
      const before = tf.memory().numTensors;
      const got = luongStepFused(states, keys, values, maskBias, Wc);
      expect(tf.memory().numTensors).toBe(before + 2);
      const want = tf.tidy(() => {
        const a = luongAttention(tf.reshape(states, [S, G, H]), values, keys, maskBias, Wc);
        return [tf.reshape(a.attended, [S * G, H]), tf.reshape(a.weights, [S * G, T])];
      });
      expect(got.attended.shape).toEqual([S * G, H]);
      expect(got.weights.shape).toEqual([S * G, T]);
      // Float32 sums in another order (W_c's two halves, the SIMD exp): scores reach ±40 here.
      const close = (x: ArrayLike<number>, y: ArrayLike<number>) => {
        let worst = 0;
        for (let i = 0; i < y.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
        expect(worst).toBeLessThan(2e-5);
      };
      close(got.attended.dataSync(), want[0]!.dataSync());
      const w = got.weights.dataSync();
      close(w, want[1]!.dataSync());
      for (let i = 0; i < w.length; i++) {
        const b = Math.floor(i / T / G);
        if (bias[b * T + (i % T)]! < 0) expect(w[i]).toBe(0);
      }
      for (let row = 0; row < S * G; row++) {
        let sum = 0;
        for (let i = 0; i < T; i++) sum += w[row * T + i]!;
        expect(sum).toBeCloseTo(1, 6);
      }
      tf.dispose([got.attended, got.weights, ...want, states, keys, values, maskBias, Wc]);
    });
  }
});
