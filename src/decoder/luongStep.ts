// One decoder step of Luong attention (attention.ts) as one kernel call, for decoding on the wasm backend with a BLAS
// and the SIMD kernels: the per-sentence score and context products on the BLAS (Blas.sgemm: a gemv for one row a
// sentence), the masked softmax in the SIMD exp and scale passes, and h̃ = tanh(W_c [c; s]) as two
// products into one output, W_c's context rows and then its state rows (accumulated), so that [c; s] is never joined.
// The composite form makes nine tfjs ops a step (two batched products, the mask's add, the softmax, a concat, two
// reshapes, the product and the tanh), each with its bookkeeping: on the small attention workload's greedy decoding
// that was a tenth of a step.
//
// Without the tape only (search): training takes the composite form and its gradients.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { blasInUse } from '../backend/blasKernels.js';
import { simdKernels } from '../backend/wasm/binding.js';

export const LUONG_STEP = 'ToolkitLuongStep';

/** Where luongStepFused runs: on wasm with a BLAS and the SIMD kernels, decoder width H a multiple of 4, no tape. */
export function luongStepRuns(H: number): boolean {
  const backend = tf.backend();
  return (
    tf.getBackend() === 'wasm' &&
    H % 4 === 0 &&
    !tf.engine().isTapeOn() &&
    blasInUse(backend) !== null &&
    simdKernels(backend) !== null
  );
}

/** Scores below this are the mask's padding (decoder.ts's −1e9): their weights are set to exactly 0. */
const PADDED = -1e8;

registerJsKernel(LUONG_STEP, ({ states, keys, values, maskBias, Wc }, _attrs, memory) => {
  const [R, H] = states!.shape as [number, number];
  const [S, T] = keys!.shape as [number, number, number];
  const M = values!.shape[2]!;
  const G = R / S;
  const simd = memory.simd;
  const blas = blasInUse(tf.backend());
  if (simd === undefined || blas === null) throw new Error(`${LUONG_STEP}: needs the SIMD kernels and a BLAS`);
  return simd.run(
    [states, keys, values, maskBias, Wc],
    [
      [R, H],
      [R, T],
    ],
    ([sO, kO, vO, mO, wO], [outO, aO], [cO, maxO, sumO]) => {
      const base = blas.address(simd.f32(0, 0).buffer);
      // For each sentence s: its G rows of a (G × K) times op(its block of b) (N × K when transposed, K × N if not).
      const perSentence = (transB: boolean, N: number, K: number, a: number, b: number, c: number): void => {
        for (let s = 0; s < S; s++)
          blas.sgemm(
            false,
            transB,
            G,
            N,
            K,
            base + a + 4 * s * G * K,
            base + b + 4 * s * N * K,
            base + c + 4 * s * G * N,
            false,
          );
      };
      // Scores: each sentence's G rows against its T keys.
      perSentence(true, T, H, sO!, kO!, aO!);
      // The mask's bias and each row's largest score (views taken here: nothing below allocates).
      const a = simd.f32(aO!, R * T);
      const bias = simd.f32(mO!, S * T);
      const maxes = simd.f32(maxO!, R);
      const sums = simd.f32(sumO!, R);
      for (let r = 0; r < R; r++) {
        const [o, ob] = [r * T, Math.floor(r / G) * T];
        let m = -Infinity;
        for (let i = 0; i < T; i++) {
          const v = (a[o + i]! += bias[ob + i]!);
          if (v > m) m = v;
        }
        maxes[r] = m;
      }
      // Softmax: exp(x − max) and the row sums over the first ⌊T/4⌋·4 places in SIMD, the rest here, then 1/sum.
      simd.kernels.expRows(aO!, R, T, maxO!, aO!, sumO!);
      for (let r = 0; r < R; r++) {
        let sum = sums[r]!;
        for (let i = T & ~3; i < T; i++) {
          a[r * T + i] = Math.exp(a[r * T + i]! - maxes[r]!);
          sum += a[r * T + i]!;
        }
        sums[r] = 1 / sum;
      }
      simd.kernels.scaleRows(aO!, sumO!, R, T, aO!);
      for (let r = 0; r < R; r++) {
        const ob = Math.floor(r / G) * T;
        for (let i = 0; i < T; i++) if (bias[ob + i]! < PADDED) a[r * T + i] = 0;
      }
      // Contexts, then h̃ = tanh(c·W_c[:M] + s·W_c[M:]).
      perSentence(false, M, T, aO!, vO!, cO!);
      blas.sgemm(false, false, R, H, M, base + cO!, base + wO!, base + outO!, false);
      blas.sgemm(false, false, R, H, H, base + sO!, base + wO! + 4 * M * H, base + outO!, true);
      simd.kernels.tanh(outO!, R * H, outO!);
    },
    [Math.max(1, R * M), Math.max(1, R), Math.max(1, R)],
  );
});

/**
 * luongAttention (attention.ts) for one decoder step without the tape: states [R, H], the rows of S sentences, G =
 * R / S consecutive rows each (a sentence's beams); keys [S, T, H]; values [S, T, M]; maskBias [S, 1, T]; Wc
 * [M + H, H]. Returns h̃ [R, H] and the weights [R, T] (0 at padding). Only where luongStepRuns(H).
 */
export function luongStepFused(
  states: tf.Tensor2D,
  keys: tf.Tensor3D,
  values: tf.Tensor3D,
  maskBias: tf.Tensor3D,
  Wc: tf.Tensor2D,
): { attended: tf.Tensor2D; weights: tf.Tensor2D } {
  const [attended, weights] = runJsKernel(LUONG_STEP, { states, keys, values, maskBias, Wc }, {});
  return { attended: attended as tf.Tensor2D, weights: weights as tf.Tensor2D };
}
