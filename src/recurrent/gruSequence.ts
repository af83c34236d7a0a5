// A whole GRU sequence as one kernel call each way, where the products run on a native BLAS and the step kernels in
// WebAssembly SIMD (the wasm backend with OpenBLAS): the loop over time steps calls cblas_sgemm (a gemv for one
// sentence, Blas.sgemm) and the SIMD step kernel directly on the heap, and writes every step's state (and the
// backward pass's cache) into one output.
//
// The per-step form (rnn.ts) makes two tfjs ops a step forward and two backward, each with its tensor bookkeeping,
// and then joins the steps' tensors (states, caches' gradients, ∂xp) with concats: on the small translation
// workload (20 steps of 64 × 128) that bookkeeping and those copies are a tenth of a training step. Here:
//
//   forward   h_t = step(xp_t, h_{t−1}·U, c, h_{t−1}, mask_t)          states [T·B, H], caches [T·B, 4H]
//   backward  for t = T−1 … 0: (∂gate_t, ∂xp_t, ∂h direct) = stepGrad(…); ∂h_{t−1} via U = ∂gate_t·Uᵀ
//             ∂U = [h_0; states_0…T−2]ᵀ·∂gate (two products into one output), ∂c = Σ_rows ∂gate
//
// The same step kernels and products as the per-step form, in the same order: the same values.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, runJsKernel, type SimdMemory } from '../backend/jsKernels.js';
import { blasInUse } from '../backend/blasKernels.js';
import { simdKernels } from '../backend/wasm/binding.js';
import type { Blas } from '../backend/blas.js';
import { GRU_CACHE_BLOCKS, GRU_GATES } from './gruKernels.js';

export const GRU_SEQUENCE = 'ToolkitGruSequence';
export const GRU_SEQUENCE_GRAD = 'ToolkitGruSequenceGrad';

/** Whether gruSequenceFused runs on the active backend for H units: wasm with SIMD and a BLAS, H a multiple of 4. */
export function gruSequenceRuns(H: number): boolean {
  const backend = tf.backend();
  return tf.getBackend() === 'wasm' && H % 4 === 0 && blasInUse(backend) !== null && simdKernels(backend) !== null;
}

/** The BLAS and the heap's base address, for a kernel body: offsets from simd.run plus the base are addresses. */
function blasAndBase(simd: SimdMemory): { blas: Blas; base: number } {
  const blas = blasInUse(tf.backend());
  if (blas === null) throw new Error(`${GRU_SEQUENCE}: no BLAS on this backend (check gruSequenceRuns first)`);
  return { blas, base: blas.address(simd.f32(0, 0).buffer) };
}

registerJsKernel(GRU_SEQUENCE, ({ xp, h0, U, c, mask }, attrs, memory) => {
  const [B, H] = h0!.shape as [number, number];
  const T = attrs['steps'] as number;
  const keep = attrs['cache'] === 1;
  const simd = memory.simd;
  if (simd === undefined) throw new Error(`${GRU_SEQUENCE}: needs the SIMD kernels (check gruSequenceRuns first)`);
  const G = GRU_GATES * H;
  const outShapes = keep
    ? [
        [T * B, H],
        [T * B, GRU_CACHE_BLOCKS * H],
      ]
    : [[T * B, H]];
  return simd.run(
    [xp, h0, U, c, mask],
    outShapes,
    ([xpO, h0O, UO, cO, mO], [statesO, cachesO], [hUO]) => {
      const { blas, base } = blasAndBase(simd);
      let h = h0O!;
      for (let t = 0; t < T; t++) {
        blas.sgemm(false, false, B, G, H, base + h, base + UO!, base + hUO!, false);
        const next = statesO! + 4 * t * B * H;
        const cache = keep ? cachesO! + 4 * t * B * GRU_CACHE_BLOCKS * H : 0;
        simd.kernels.gruStep(xpO!, hUO!, cO!, h, mO!, t, B, H, next, cache);
        h = next;
      }
    },
    [Math.max(1, B * G)],
  );
});

registerJsKernel(GRU_SEQUENCE_GRAD, ({ dOut, h0, states, caches, U, mask }, attrs, memory) => {
  const [B, H] = h0!.shape as [number, number];
  const T = attrs['steps'] as number;
  const simd = memory.simd;
  if (simd === undefined) throw new Error(`${GRU_SEQUENCE_GRAD}: needs the SIMD kernels (check gruSequenceRuns first)`);
  const G = GRU_GATES * H;
  return simd.run(
    [dOut, h0, states, caches, U, mask],
    [[T * B, G], [B, H], [H, G], [G]],
    ([dOutO, h0O, statesO, cachesO, UO, mO], [dXpO, dh0O, dUO, dcO], [dGateO, dhAO, direct0, direct1, onesO]) => {
      const { blas, base } = blasAndBase(simd);
      const directs = [direct0!, direct1!];
      // ∂h reaching step t from step t + 1: through U (dhA) and directly (dhB); none into the last step.
      let dhA = 0;
      let dhB = 0;
      for (let t = T - 1; t >= 0; t--) {
        const prev = t === 0 ? h0O! : statesO! + 4 * (t - 1) * B * H;
        const dGate = dGateO! + 4 * t * B * G;
        const direct = directs[t % 2]!;
        simd.kernels.gruStepGrad(
          dOutO!,
          dhA,
          dhB,
          cachesO! + 4 * t * B * GRU_CACHE_BLOCKS * H,
          prev,
          mO!,
          t,
          B,
          H,
          dGate,
          dXpO! + 4 * t * B * G,
          direct,
        );
        blas.sgemm(false, true, B, H, G, base + dGate, base + UO!, base + dhAO!, false);
        dhA = dhAO!;
        dhB = direct;
      }
      const dh0 = simd.f32(dh0O!, B * H);
      if (T === 0) {
        dh0.fill(0);
        simd.f32(dUO!, H * G).fill(0);
        simd.f32(dcO!, G).fill(0);
      } else {
        const [a, b] = [simd.f32(dhA, B * H), simd.f32(dhB, B * H)];
        for (let i = 0; i < B * H; i++) dh0[i] = a[i]! + b[i]!;
        // ∂U = h_0ᵀ·∂gate_0 + [states_0 … states_T−2]ᵀ·∂gate_1…T−1; ∂c = ∂gateᵀ·1.
        blas.sgemm(true, false, H, G, B, base + h0O!, base + dGateO!, base + dUO!, false);
        if (T > 1)
          blas.sgemm(true, false, H, G, (T - 1) * B, base + statesO!, base + dGateO! + 4 * B * G, base + dUO!, true);
        simd.f32(onesO!, T * B).fill(1);
        blas.sgemv(true, T * B, G, base + dGateO!, base + onesO!, base + dcO!, false);
      }
    },
    [Math.max(1, T * B * G), B * H, B * H, B * H, Math.max(1, T * B)],
  );
});

/**
 * GRU states for all steps, [T, B, H] (not yet zeroed at padding), as recurrentSequence computes them for a GRU
 * without state dropout; only where gruSequenceRuns(H). xp: [T·B, 3H]; h0: [B, H]; U: [H, 3H]; c: [3H]; mask:
 * [T·B] 1/0 or null.
 */
export function gruSequenceFused(
  xp: tf.Tensor2D,
  h0: tf.Tensor2D,
  U: tf.Tensor2D,
  c: tf.Tensor1D,
  mask: tf.Tensor1D | null,
  T: number,
): tf.Tensor3D {
  const [B, H] = h0.shape;
  const taping = tf.engine().isTapeOn();
  const run = tf.customGrad((...args) => {
    const [xpIn, h0In, UIn, cIn, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const [states, caches] = runJsKernel(
      GRU_SEQUENCE,
      { xp: xpIn, h0: h0In, U: UIn, c: cIn, mask },
      { steps: T, cache: taping ? 1 : 0 },
    );
    save([h0In, UIn, states!, ...(caches === undefined ? [] : [caches]), ...(mask === null ? [] : [mask])]);
    return {
      value: tf.reshape<tf.Rank.R3>(states!, [T, B, H]),
      gradFunc: (dy, saved) => {
        if (!taping) throw new Error('gruSequenceFused: a gradient of a call the tape did not record (no caches kept)');
        const [h0s, Us, statesS, cachesS, maskS] = saved as [
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor2D,
          tf.Tensor1D?,
        ];
        const dOut = tf.reshape(dy, [T * B, H]);
        return runJsKernel(
          GRU_SEQUENCE_GRAD,
          { dOut, h0: h0s, states: statesS, caches: cachesS, U: Us, mask: maskS ?? null },
          { steps: T },
        );
      },
    };
  });
  return run(xp, h0, U, c) as tf.Tensor3D;
}

/**
 * One GRU step without the tape (decoding): the new state [B, H] from xp [B, 3H] and h [B, H], as one kernel call
 * (the h·U product and the step kernel), where recurrentStep would make a product op and a step op; only where
 * gruSequenceRuns(H).
 */
export function gruStepFused(xp: tf.Tensor2D, h: tf.Tensor2D, U: tf.Tensor2D, c: tf.Tensor1D): tf.Tensor2D {
  return runJsKernel(GRU_SEQUENCE, { xp, h0: h, U, c, mask: null }, { steps: 1, cache: 0 })[0] as tf.Tensor2D;
}
