// The basic (Elman) RNN cell:
//
//   h' = act(x W + b + h U + c),   act = tanh (default) or relu
//
// c, the recurrent bias, is redundant with b; every toolkit cell has one so that all share the runner's signature
// and parameter names (see gru.ts). The state is h, [B, H], as for the GRU, and the runner is the GRU's with one
// difference in the backward pass: the step returns no separate dXp, since ∂/∂xp_t = dGate (x·W + b enters the
// activation directly). ∂U, ∂b and ∂c come from dGateAll exactly as for the GRU.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { tanh, rowsAt } from './stepMath.js';

export const RNN_STEP = 'ToolkitRnnStep';
export const RNN_STEP_GRAD = 'ToolkitRnnStepGrad';

/** Number of gate blocks the input projection produces for a basic RNN: just the pre-activation. */
export const RNN_GATES = 1;

/** What the backward pass needs from each forward step, [batch, units]: act(…) before masking. */
export const RNN_CACHE_BLOCKS = 1;

export type RnnActivation = 'tanh' | 'relu';

export interface RnnCellOptions {
  /** Non-linearity: 'tanh' or 'relu' (default 'tanh'). */
  activation: RnnActivation;
}

export const RNN_DEFAULTS: RnnCellOptions = { activation: 'tanh' };

/**
 * Forward element-wise part of step t. xp: [time·batch, H] input projections (time-major); hU: [B, H] = h·U;
 * c: [H]; h: [B, H]; mask: [time·batch] or undefined (all real). A masked (padding) position carries h unchanged;
 * the cache holds act(…) at every position, which is what the backward pass differentiates.
 */
export function rnnStepValues(
  xp: Float32Array,
  hU: Float32Array,
  c: Float32Array,
  h: Float32Array,
  mask: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
  activation: RnnActivation,
  hNew: Float32Array,
  cache: Float32Array,
): void {
  const relu = activation === 'relu';
  for (let b = 0; b < B; b++) {
    const m = mask === undefined ? 1 : mask[t * B + b]!;
    const xo = (t * B + b) * H;
    const ho = b * H;
    for (let j = 0; j < H; j++) {
      const pre = xp[xo + j]! + hU[ho + j]! + c[j]!;
      const a = relu ? (pre > 0 ? pre : 0) : tanh(pre);
      cache[ho + j] = a;
      hNew[ho + j] = m === 0 ? h[ho + j]! : a;
    }
  }
}

/**
 * Backward element-wise part of step t. The gradient reaching h'_t is dOut[t] + dhA + dhB. Writes dGate =
 * ∂/∂(pre-activation) [B, H] (also ∂/∂xp_t and ∂/∂(h·U + c)) and dhDirect [B, H], the part of ∂/∂h_{t-1} that
 * does not go through U: the whole gradient at a padding position, zero elsewhere.
 */
export function rnnStepGradValues(
  dOut: Float32Array | undefined,
  dhA: Float32Array | undefined,
  dhB: Float32Array | undefined,
  cache: Float32Array,
  mask: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
  activation: RnnActivation,
  dGate: Float32Array,
  dhDirect: Float32Array,
): void {
  const relu = activation === 'relu';
  for (let b = 0; b < B; b++) {
    const m = mask === undefined ? 1 : mask[t * B + b]!;
    const ho = b * H;
    const oo = (t * B + b) * H;
    for (let j = 0; j < H; j++) {
      let g = 0;
      if (dOut !== undefined) g += dOut[oo + j]!;
      if (dhA !== undefined) g += dhA[ho + j]!;
      if (dhB !== undefined) g += dhB[ho + j]!;
      if (m === 0) {
        dGate[ho + j] = 0;
        dhDirect[ho + j] = g;
        continue;
      }
      const a = cache[ho + j]!;
      dGate[ho + j] = relu ? (a > 0 ? g : 0) : g * (1 - a * a);
      dhDirect[ho + j] = 0;
    }
  }
}

/** Registers the fused basic RNN step kernels on the wasm and cpu backends (idempotent). */
export function registerRnnKernels(): void {
  registerJsKernel(RNN_STEP, ({ xp, hU, c, h, mask }, attrs, memory) => {
    const [B, H] = h!.shape as [number, number];
    return memory.run(
      [xp, hU, c, h, mask],
      [
        [B, H],
        [B, H],
      ],
      ([xpV, hUV, cV, hV, mV], [hNew, cache]) =>
        rnnStepValues(
          xpV!,
          hUV!,
          cV!,
          hV!,
          mV,
          attrs['t'] as number,
          B,
          H,
          attrs['activation'] as RnnActivation,
          hNew!,
          cache!,
        ),
    );
  });
  registerJsKernel(RNN_STEP_GRAD, ({ dOut, dhA, dhB, cache, mask }, attrs, memory) => {
    const [B, H] = cache!.shape as [number, number];
    return memory.run(
      [dOut, dhA, dhB, cache, mask],
      [
        [B, H],
        [B, H],
      ],
      ([dOutV, dhAV, dhBV, cacheV, mV], [dGate, dhDirect]) =>
        rnnStepGradValues(
          dOutV,
          dhAV,
          dhBV,
          cacheV!,
          mV,
          attrs['t'] as number,
          B,
          H,
          attrs['activation'] as RnnActivation,
          dGate!,
          dhDirect!,
        ),
    );
  });
}

// Kernels are registered when this module loads, as tfjs backends register theirs.
registerRnnKernels();

/** Inputs of one step, shared by the fused and composite forms. */
export interface RnnStepArgs {
  xp: tf.Tensor2D; // [time·batch, H]
  hU: tf.Tensor2D; // [B, H]
  c: tf.Tensor1D; // [H]
  h: tf.Tensor2D; // [B, H]
  mask: tf.Tensor1D | null; // [time·batch]
  t: number;
  activation: RnnActivation;
}

/** One forward step: returns [h', cache]. */
export function rnnStep(a: RnnStepArgs): [tf.Tensor2D, tf.Tensor2D] {
  if (hasJsKernel(RNN_STEP)) {
    const [hNew, cache] = runJsKernel(
      RNN_STEP,
      { xp: a.xp, hU: a.hU, c: a.c, h: a.h, mask: a.mask },
      { t: a.t, activation: a.activation },
    );
    return [hNew!, cache!];
  }
  return rnnStepComposite(a);
}

/** rnnStep as composite tf ops, for backends without the fused kernel (and as its test reference). */
export function rnnStepComposite(a: RnnStepArgs): [tf.Tensor2D, tf.Tensor2D] {
  const B = a.h.shape[0];
  return tf.tidy(() => {
    const pre = tf.add<tf.Tensor2D>(tf.add(rowsAt(a.xp, a.t, B), a.hU), a.c);
    const act: tf.Tensor2D = a.activation === 'relu' ? tf.relu(pre) : tf.tanh(pre);
    let hNew = act;
    if (a.mask !== null) {
      const m = tf.reshape(tf.slice(a.mask, [a.t * B], [B]), [B, 1]);
      hNew = tf.add(a.h, tf.mul(m, tf.sub(act, a.h)));
    }
    return [hNew, act] as [tf.Tensor2D, tf.Tensor2D];
  });
}

export interface RnnStepGradArgs {
  dOut: tf.Tensor2D | null; // [time·batch, H]
  dhA: tf.Tensor2D | null;
  dhB: tf.Tensor2D | null;
  cache: tf.Tensor2D; // [B, H]
  mask: tf.Tensor1D | null;
  t: number;
  activation: RnnActivation;
}

/** One backward step: returns [dGate (= ∂xp_t), dhDirect]. */
export function rnnStepGrad(a: RnnStepGradArgs): [tf.Tensor2D, tf.Tensor2D] {
  if (hasJsKernel(RNN_STEP_GRAD)) {
    const [dGate, dhDirect] = runJsKernel(
      RNN_STEP_GRAD,
      { dOut: a.dOut, dhA: a.dhA, dhB: a.dhB, cache: a.cache, mask: a.mask },
      { t: a.t, activation: a.activation },
    );
    return [dGate!, dhDirect!];
  }
  return rnnStepGradComposite(a);
}

/** rnnStepGrad as composite tf ops, for backends without the fused kernel (and as its test reference). */
export function rnnStepGradComposite(a: RnnStepGradArgs): [tf.Tensor2D, tf.Tensor2D] {
  const [B, H] = a.cache.shape;
  return tf.tidy(() => {
    let g: tf.Tensor2D = tf.zeros([B, H]);
    if (a.dOut !== null) g = tf.add(g, rowsAt(a.dOut, a.t, B));
    if (a.dhA !== null) g = tf.add(g, a.dhA);
    if (a.dhB !== null) g = tf.add(g, a.dhB);
    // relu' is 1 where the output is positive; tanh' = 1 − tanh².
    const slope = a.activation === 'relu' ? tf.step(a.cache) : tf.sub(1, tf.square(a.cache));
    if (a.mask === null) return [tf.mul(g, slope), tf.zerosLike(g)] as [tf.Tensor2D, tf.Tensor2D];
    const m = tf.reshape(tf.slice(a.mask, [a.t * B], [B]), [B, 1]);
    return [tf.mul(tf.mul(g, m), slope), tf.mul(g, tf.sub(1, m))] as [tf.Tensor2D, tf.Tensor2D];
  });
}
