// The GRU cell (Cho et al. 2014) in the "reset after" form that cuDNN, PyTorch and Keras (reset_after=True) use:
//
//   r  = σ(x W_r + b_r + h U_r + c_r)
//   z  = σ(x W_z + b_z + h U_z + c_z)
//   n  = tanh(x W_n + b_n + r ⊙ (h U_n + c_n))
//   h' = (1 − z) ⊙ n + z ⊙ h
//
// Applying r after the recurrent product lets one matMul h·[U_r U_z U_n] serve all three gates, and the input
// side x·W + b is computed for every time step at once before the loop (see rnn.ts). A step therefore is one
// matMul plus an element-wise part, one kernel call forward and one backward: the fused kernels of gruKernels.ts
// on wasm and cpu, elsewhere the composite tf ops below.
import * as tf from '@tensorflow/tfjs-core';
import { hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { rowsAt } from './stepMath.js';
import { GRU_STEP, GRU_STEP_GRAD } from './gruKernels.js';

/** Inputs of one step, shared by the fused and composite forms. */
export interface GruStepArgs {
  xp: tf.Tensor2D; // [time·batch, 3H]
  hU: tf.Tensor2D; // [B, 3H]
  c: tf.Tensor1D; // [3H]
  h: tf.Tensor2D; // [B, H]
  mask: tf.Tensor1D | null; // [time·batch]
  t: number;
}

/** The fused step kernel: [h'] without the cache (cache 0), [h', cache] with it (cache 1). */
function runGruStepKernel(a: GruStepArgs, cache: 0 | 1): tf.Tensor2D[] {
  return runJsKernel(GRU_STEP, { xp: a.xp, hU: a.hU, c: a.c, h: a.h, mask: a.mask }, { t: a.t, cache });
}

/** One forward step: returns [h', cache]. */
export function gruStep(a: GruStepArgs): [tf.Tensor2D, tf.Tensor2D] {
  if (hasJsKernel(GRU_STEP)) {
    const [hNew, cache] = runGruStepKernel(a, 1);
    return [hNew!, cache!];
  }
  return gruStepComposite(a);
}

/** h' alone, for decoding and encoding without gradients: the fused kernel then skips writing the cache. */
export function gruNextState(a: GruStepArgs): tf.Tensor2D {
  if (hasJsKernel(GRU_STEP)) return runGruStepKernel(a, 0)[0]!;
  const [hNew, cache] = gruStepComposite(a);
  cache.dispose();
  return hNew;
}

/** gruStep as composite tf ops, for backends without the fused kernel (and as its test reference). */
export function gruStepComposite(a: GruStepArgs): [tf.Tensor2D, tf.Tensor2D] {
  const [B, H] = a.h.shape;
  return tf.tidy(() => {
    const x = rowsAt(a.xp, a.t, B);
    const u = tf.add(a.hU, a.c);
    const rz = tf.sigmoid(tf.add(tf.slice(x, [0, 0], [B, 2 * H]), tf.slice(u, [0, 0], [B, 2 * H])));
    const r = tf.slice(rz, [0, 0], [B, H]);
    const z = tf.slice(rz, [0, H], [B, H]);
    const un = tf.slice(u, [0, 2 * H], [B, H]);
    const n = tf.tanh(tf.add(tf.slice(x, [0, 2 * H], [B, H]), tf.mul(r, un)));
    let hNew: tf.Tensor2D = tf.add(n, tf.mul(z, tf.sub(a.h, n)));
    if (a.mask !== null) {
      const m = tf.reshape(tf.slice(a.mask, [a.t * B], [B]), [B, 1]);
      hNew = tf.add(a.h, tf.mul(m, tf.sub(hNew, a.h)));
    }
    return [hNew, tf.concat([r, z, n, un], 1)] as [tf.Tensor2D, tf.Tensor2D];
  });
}

export interface GruStepGradArgs {
  dOut: tf.Tensor2D | null; // [time·batch, H]
  dhA: tf.Tensor2D | null;
  dhB: tf.Tensor2D | null;
  cache: tf.Tensor2D;
  h: tf.Tensor2D; // h_{t-1}
  mask: tf.Tensor1D | null;
  t: number;
}

/** One backward step: returns [dGate, dXp, dhDirect]. */
export function gruStepGrad(a: GruStepGradArgs): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  if (hasJsKernel(GRU_STEP_GRAD)) {
    const [dGate, dXp, dhDirect] = runJsKernel(
      GRU_STEP_GRAD,
      { dOut: a.dOut, dhA: a.dhA, dhB: a.dhB, cache: a.cache, h: a.h, mask: a.mask },
      { t: a.t },
    );
    return [dGate!, dXp!, dhDirect!];
  }
  return gruStepGradComposite(a);
}

/** gruStepGrad as composite tf ops, for backends without the fused kernel (and as its test reference). */
export function gruStepGradComposite(a: GruStepGradArgs): [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D] {
  const [B, H] = a.h.shape;
  return tf.tidy(() => {
    let g: tf.Tensor2D = tf.zeros([B, H]);
    if (a.dOut !== null) g = tf.add<tf.Tensor2D>(g, rowsAt(a.dOut, a.t, B));
    if (a.dhA !== null) g = tf.add(g, a.dhA);
    if (a.dhB !== null) g = tf.add(g, a.dhB);
    const r = tf.slice(a.cache, [0, 0], [B, H]);
    const z = tf.slice(a.cache, [0, H], [B, H]);
    const n = tf.slice(a.cache, [0, 2 * H], [B, H]);
    const un = tf.slice(a.cache, [0, 3 * H], [B, H]);
    let gNew = g;
    let carry: tf.Tensor2D | null = null;
    if (a.mask !== null) {
      const m = tf.reshape<tf.Rank.R2>(tf.slice(a.mask, [a.t * B], [B]), [B, 1]);
      gNew = tf.mul(g, m);
      carry = tf.mul<tf.Tensor2D>(g, tf.sub(1, m));
    }
    const dnPre = tf.mul(tf.mul(gNew, tf.sub(1, z)), tf.sub(1, tf.square(n)));
    const drPre = tf.mul(tf.mul(dnPre, un), tf.mul(r, tf.sub(1, r)));
    const dzPre = tf.mul(tf.mul(gNew, tf.sub(a.h, n)), tf.mul(z, tf.sub(1, z)));
    const dGate = tf.concat([drPre, dzPre, tf.mul(dnPre, r)], 1);
    const dXp = tf.concat([drPre, dzPre, dnPre], 1);
    let dhDirect: tf.Tensor2D = tf.mul(gNew, z);
    if (carry !== null) dhDirect = tf.add(dhDirect, carry);
    return [dGate, dXp, dhDirect] as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
  });
}
