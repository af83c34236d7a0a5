// The LSTM cell (Hochreiter & Schmidhuber 1997) as TensorFlow's LSTMCell, with its forget bias and optional
// diagonal peepholes (Gers & Schmidhuber 2000):
//
//   a       = x W + b + h U + c_rec                          4H wide, blocks [i f g o]
//   i       = σ(a_i + w_ci ⊙ c)
//   f       = σ(a_f + forgetBias + w_cf ⊙ c)
//   g       = tanh(a_g)
//   c'      = f ⊙ c + i ⊙ g
//   o       = σ(a_o + w_co ⊙ c')                             the output gate peeks at the new cell, i and f at the old
//   h'      = o ⊙ tanh(c')
//
// forgetBias (default 1.0) is added inside the step, not baked into b, so that checkpoints hold the same b as TF's.
// c_rec is the recurrent bias every toolkit cell has (the `c` parameter of gru.ts): for an LSTM it is redundant
// with b (as PyTorch's b_hh), and kept so that all cells share one runner signature and parameter names.
//
// The state is one tensor [B, 2H] = [h | c]. What a runner does differently from the GRU's:
//   - forward: hU = slice(state, h half)·U, [B, 4H]; the step takes the whole state and returns the new one.
//     The per-step outputs are the states, [T, B, 2H]: outputs for attention are their h half, the final state
//     (both halves) seeds the decoder.
//   - backward: dOut is ∂/∂(states), [T·B, 2H]. dhA = dGate·Uᵀ is [B, H] and reaches only the h half of the
//     previous state; dhB, the direct part, is [B, 2H]. The step returns no separate dXp: ∂/∂xp_t = dGate, since
//     a enters the gates without a reset gate in between. At the end: ∂state0 = dhB + [dhA | 0];
//     ∂U = (h halves of the previous states)ᵀ·dGateAll; ∂b = ∂c_rec = sumRows(dGateAll); and the peepholes'
//     gradient, one product over all steps like ∂U: `lstmPeepholeGrad(dGateAll, previous states, states)`.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { sigmoid, tanh, rowsAt } from './stepMath.js';
import { sumRows } from '../layers/dense.js';

export const LSTM_STEP = 'ToolkitLstmStep';
export const LSTM_STEP_GRAD = 'ToolkitLstmStepGrad';

/** Number of gate blocks the input projection produces for an LSTM: i, f, g, o. */
export const LSTM_GATES = 4;

/** Width of the LSTM state in units of H: [h | c]. */
export const LSTM_STATE_BLOCKS = 2;

/** What the backward pass needs from each forward step, [batch, 5·units]: i, f, g, o, tanh(c'). */
export const LSTM_CACHE_BLOCKS = 5;

export interface LstmCellOptions {
  /** Added to the forget gate's pre-activation, so a new cell starts out remembering (default 1.0, as TF). */
  forgetBias: number;
  /** Diagonal peephole connections w_ci, w_cf, w_co, one [3H] parameter (default false). */
  peepholes: boolean;
}

export const LSTM_DEFAULTS: LstmCellOptions = { forgetBias: 1.0, peepholes: false };

/**
 * Forward element-wise part of step t. xp: [time·batch, 4H] input projections (time-major); hU: [B, 4H] = h·U;
 * c: [4H] recurrent bias; state: [B, 2H] = [h | c]; peep: [3H] = [w_ci | w_cf | w_co] or undefined (none);
 * mask: [time·batch] or undefined (all real). A masked (padding) position carries h and c unchanged.
 */
export function lstmStepValues(
  xp: Float32Array,
  hU: Float32Array,
  c: Float32Array,
  state: Float32Array,
  peep: Float32Array | undefined,
  mask: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
  forgetBias: number,
  stateNew: Float32Array,
  cache: Float32Array,
): void {
  const H2 = 2 * H;
  const H4 = 4 * H;
  const H5 = 5 * H;
  for (let b = 0; b < B; b++) {
    const m = mask === undefined ? 1 : mask[t * B + b]!;
    const xo = (t * B + b) * H4;
    const uo = b * H4;
    const so = b * H2;
    const co = b * H5;
    for (let j = 0; j < H; j++) {
      const cPrev = state[so + H + j]!;
      let ai = xp[xo + j]! + hU[uo + j]! + c[j]!;
      let af = xp[xo + H + j]! + hU[uo + H + j]! + c[H + j]! + forgetBias;
      let ao = xp[xo + 3 * H + j]! + hU[uo + 3 * H + j]! + c[3 * H + j]!;
      if (peep !== undefined) {
        ai += peep[j]! * cPrev;
        af += peep[H + j]! * cPrev;
      }
      const i = sigmoid(ai);
      const f = sigmoid(af);
      const g = tanh(xp[xo + 2 * H + j]! + hU[uo + 2 * H + j]! + c[2 * H + j]!);
      const cNew = f * cPrev + i * g;
      if (peep !== undefined) ao += peep[2 * H + j]! * cNew;
      const o = sigmoid(ao);
      const tc = tanh(cNew);
      if (m === 0) {
        stateNew[so + j] = state[so + j]!;
        stateNew[so + H + j] = cPrev;
      } else {
        stateNew[so + j] = o * tc;
        stateNew[so + H + j] = cNew;
      }
      cache[co + j] = i;
      cache[co + H + j] = f;
      cache[co + 2 * H + j] = g;
      cache[co + 3 * H + j] = o;
      cache[co + 4 * H + j] = tc;
    }
  }
}

/**
 * Backward element-wise part of step t. The gradient reaching the new state is dOut[t] ([time·batch, 2H]) + dhB
 * ([B, 2H], step t+1's direct path) + dhA on the h half ([B, H], step t+1's matMul path). Writes dGate =
 * ∂/∂a [B, 4H] (which is also ∂/∂xp_t) and dStateDirect [B, 2H], the part of ∂/∂state_{t-1} that does not go
 * through U. state: [B, 2H] = state_{t-1}.
 */
export function lstmStepGradValues(
  dOut: Float32Array | undefined,
  dhA: Float32Array | undefined,
  dhB: Float32Array | undefined,
  cache: Float32Array,
  state: Float32Array,
  peep: Float32Array | undefined,
  mask: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
  dGate: Float32Array,
  dStateDirect: Float32Array,
): void {
  const H2 = 2 * H;
  const H4 = 4 * H;
  const H5 = 5 * H;
  for (let b = 0; b < B; b++) {
    const m = mask === undefined ? 1 : mask[t * B + b]!;
    const go = b * H4;
    const so = b * H2;
    const co = b * H5;
    const oo = (t * B + b) * H2;
    for (let j = 0; j < H; j++) {
      let gh = 0;
      let gc = 0;
      if (dOut !== undefined) {
        gh += dOut[oo + j]!;
        gc += dOut[oo + H + j]!;
      }
      if (dhA !== undefined) gh += dhA[b * H + j]!;
      if (dhB !== undefined) {
        gh += dhB[so + j]!;
        gc += dhB[so + H + j]!;
      }
      if (m === 0) {
        dGate[go + j] = 0;
        dGate[go + H + j] = 0;
        dGate[go + 2 * H + j] = 0;
        dGate[go + 3 * H + j] = 0;
        dStateDirect[so + j] = gh;
        dStateDirect[so + H + j] = gc;
        continue;
      }
      const i = cache[co + j]!;
      const f = cache[co + H + j]!;
      const g = cache[co + 2 * H + j]!;
      const o = cache[co + 3 * H + j]!;
      const tc = cache[co + 4 * H + j]!;
      const cPrev = state[so + H + j]!;
      const doPre = gh * tc * o * (1 - o);
      let dc = gc + gh * o * (1 - tc * tc);
      if (peep !== undefined) dc += doPre * peep[2 * H + j]!;
      const diPre = dc * g * i * (1 - i);
      const dfPre = dc * cPrev * f * (1 - f);
      dGate[go + j] = diPre;
      dGate[go + H + j] = dfPre;
      dGate[go + 2 * H + j] = dc * i * (1 - g * g);
      dGate[go + 3 * H + j] = doPre;
      let dcPrev = dc * f;
      if (peep !== undefined) dcPrev += diPre * peep[j]! + dfPre * peep[H + j]!;
      dStateDirect[so + j] = 0;
      dStateDirect[so + H + j] = dcPrev;
    }
  }
}

/** Registers the fused LSTM step kernels on the wasm and cpu backends (idempotent). */
export function registerLstmKernels(): void {
  registerJsKernel(LSTM_STEP, ({ xp, hU, c, state, peep, mask }, attrs, memory) => {
    const B = state!.shape[0]!;
    const H = state!.shape[1]! / 2;
    return memory.run(
      [xp, hU, c, state, peep, mask],
      [
        [B, 2 * H],
        [B, LSTM_CACHE_BLOCKS * H],
      ],
      ([xpV, hUV, cV, sV, pV, mV], [stateNew, cache]) =>
        lstmStepValues(
          xpV!,
          hUV!,
          cV!,
          sV!,
          pV,
          mV,
          attrs['t'] as number,
          B,
          H,
          attrs['forgetBias'] as number,
          stateNew!,
          cache!,
        ),
    );
  });
  registerJsKernel(LSTM_STEP_GRAD, ({ dOut, dhA, dhB, cache, state, peep, mask }, attrs, memory) => {
    const B = state!.shape[0]!;
    const H = state!.shape[1]! / 2;
    return memory.run(
      [dOut, dhA, dhB, cache, state, peep, mask],
      [
        [B, 4 * H],
        [B, 2 * H],
      ],
      ([dOutV, dhAV, dhBV, cacheV, sV, pV, mV], [dGate, dStateDirect]) =>
        lstmStepGradValues(dOutV, dhAV, dhBV, cacheV!, sV!, pV, mV, attrs['t'] as number, B, H, dGate!, dStateDirect!),
    );
  });
}

// Kernels are registered when this module loads, as tfjs backends register theirs.
registerLstmKernels();

/** Inputs of one step, shared by the fused and composite forms. */
export interface LstmStepArgs {
  xp: tf.Tensor2D; // [time·batch, 4H]
  hU: tf.Tensor2D; // [B, 4H], from the h half of the state
  c: tf.Tensor1D; // [4H], the recurrent bias
  state: tf.Tensor2D; // [B, 2H] = [h | c]
  peep: tf.Tensor1D | null; // [3H] = [w_ci | w_cf | w_co]
  mask: tf.Tensor1D | null; // [time·batch]
  t: number;
  forgetBias: number;
}

function cols(x: tf.Tensor2D, block: number, H: number): tf.Tensor2D {
  return tf.slice(x, [0, block * H], [x.shape[0], H]);
}

/** One forward step: returns [state', cache]. */
export function lstmStep(a: LstmStepArgs): [tf.Tensor2D, tf.Tensor2D] {
  if (hasJsKernel(LSTM_STEP)) {
    const [state, cache] = runJsKernel(
      LSTM_STEP,
      { xp: a.xp, hU: a.hU, c: a.c, state: a.state, peep: a.peep, mask: a.mask },
      { t: a.t, forgetBias: a.forgetBias },
    );
    return [state!, cache!];
  }
  return lstmStepComposite(a);
}

/** lstmStep as composite tf ops, for backends without the fused kernel (and as its test reference). */
export function lstmStepComposite(a: LstmStepArgs): [tf.Tensor2D, tf.Tensor2D] {
  const B = a.state.shape[0];
  const H = a.state.shape[1] / 2;
  return tf.tidy(() => {
    const pre = tf.add<tf.Tensor2D>(tf.add(rowsAt(a.xp, a.t, B), a.hU), a.c);
    const cPrev = cols(a.state, 1, H);
    let ai = cols(pre, 0, H);
    let af = tf.add<tf.Tensor2D>(cols(pre, 1, H), a.forgetBias);
    let ao = cols(pre, 3, H);
    if (a.peep !== null) {
      ai = tf.add(ai, tf.mul(tf.slice(a.peep, [0], [H]), cPrev));
      af = tf.add(af, tf.mul(tf.slice(a.peep, [H], [H]), cPrev));
    }
    const i = tf.sigmoid(ai);
    const f = tf.sigmoid(af);
    const g = tf.tanh(cols(pre, 2, H));
    const cNew = tf.add(tf.mul(f, cPrev), tf.mul(i, g));
    if (a.peep !== null) ao = tf.add(ao, tf.mul(tf.slice(a.peep, [2 * H], [H]), cNew));
    const o = tf.sigmoid(ao);
    const tc = tf.tanh(cNew);
    let stateNew = tf.concat([tf.mul(o, tc), cNew], 1) as tf.Tensor2D;
    if (a.mask !== null) {
      const m = tf.reshape(tf.slice(a.mask, [a.t * B], [B]), [B, 1]);
      stateNew = tf.add(a.state, tf.mul(m, tf.sub(stateNew, a.state)));
    }
    return [stateNew, tf.concat([i, f, g, o, tc], 1)] as [tf.Tensor2D, tf.Tensor2D];
  });
}

export interface LstmStepGradArgs {
  dOut: tf.Tensor2D | null; // [time·batch, 2H]
  dhA: tf.Tensor2D | null; // [B, H]
  dhB: tf.Tensor2D | null; // [B, 2H]
  cache: tf.Tensor2D; // [B, 5H]
  state: tf.Tensor2D; // state_{t-1}, [B, 2H]
  peep: tf.Tensor1D | null;
  mask: tf.Tensor1D | null;
  t: number;
}

/** One backward step: returns [dGate (= ∂xp_t), dStateDirect]. */
export function lstmStepGrad(a: LstmStepGradArgs): [tf.Tensor2D, tf.Tensor2D] {
  if (hasJsKernel(LSTM_STEP_GRAD)) {
    const [dGate, dStateDirect] = runJsKernel(
      LSTM_STEP_GRAD,
      { dOut: a.dOut, dhA: a.dhA, dhB: a.dhB, cache: a.cache, state: a.state, peep: a.peep, mask: a.mask },
      { t: a.t },
    );
    return [dGate!, dStateDirect!];
  }
  return lstmStepGradComposite(a);
}

/** lstmStepGrad as composite tf ops, for backends without the fused kernel (and as its test reference). */
export function lstmStepGradComposite(a: LstmStepGradArgs): [tf.Tensor2D, tf.Tensor2D] {
  const B = a.state.shape[0];
  const H = a.state.shape[1] / 2;
  return tf.tidy(() => {
    let gState: tf.Tensor2D = tf.zeros([B, 2 * H]);
    if (a.dOut !== null) gState = tf.add(gState, rowsAt(a.dOut, a.t, B));
    if (a.dhA !== null) gState = tf.add(gState, tf.concat([a.dhA, tf.zeros([B, H])], 1));
    if (a.dhB !== null) gState = tf.add(gState, a.dhB);
    let carry: tf.Tensor2D | null = null;
    if (a.mask !== null) {
      const m = tf.reshape(tf.slice(a.mask, [a.t * B], [B]), [B, 1]);
      carry = tf.mul<tf.Tensor2D>(gState, tf.sub(1, m));
      gState = tf.mul(gState, m);
    }
    const gh = cols(gState, 0, H);
    const gc = cols(gState, 1, H);
    const [i, f, g, o, tc] = [0, 1, 2, 3, 4].map((k) => cols(a.cache, k, H)) as [
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
      tf.Tensor2D,
    ];
    const cPrev = cols(a.state, 1, H);
    const doPre = tf.mul(tf.mul(gh, tc), tf.mul(o, tf.sub(1, o)));
    let dc = tf.add(gc, tf.mul(tf.mul(gh, o), tf.sub(1, tf.square(tc))));
    if (a.peep !== null) dc = tf.add(dc, tf.mul(doPre, tf.slice(a.peep, [2 * H], [H])));
    const diPre = tf.mul(tf.mul(dc, g), tf.mul(i, tf.sub(1, i)));
    const dfPre = tf.mul(tf.mul(dc, cPrev), tf.mul(f, tf.sub(1, f)));
    const dgPre = tf.mul(tf.mul(dc, i), tf.sub(1, tf.square(g)));
    let dcPrev = tf.mul(dc, f);
    if (a.peep !== null) {
      dcPrev = tf.add(
        dcPrev,
        tf.add(tf.mul(diPre, tf.slice(a.peep, [0], [H])), tf.mul(dfPre, tf.slice(a.peep, [H], [H]))),
      );
    }
    const dGate = tf.concat([diPre, dfPre, dgPre, doPre], 1);
    let dStateDirect = tf.concat([tf.zeros([B, H]), dcPrev], 1) as tf.Tensor2D;
    if (carry !== null) dStateDirect = tf.add(dStateDirect, carry);
    return [dGate, dStateDirect] as [tf.Tensor2D, tf.Tensor2D];
  });
}

/**
 * ∂/∂[w_ci | w_cf | w_co], [3H], over all steps at once: Σ dI·c_{t-1}, Σ dF·c_{t-1}, Σ dO·c_t. dGateAll:
 * [time·batch, 4H] from lstmStepGrad; prevStates, states: [time·batch, 2H], the states before and after each step.
 * Padded positions add nothing, since their dGate is zero.
 */
export function lstmPeepholeGrad(dGateAll: tf.Tensor2D, prevStates: tf.Tensor2D, states: tf.Tensor2D): tf.Tensor1D {
  const H = dGateAll.shape[1] / 4;
  return tf.tidy(() => {
    const cPrev = cols(prevStates, 1, H);
    const products = tf.concat(
      [
        tf.mul(cols(dGateAll, 0, H), cPrev),
        tf.mul(cols(dGateAll, 1, H), cPrev),
        tf.mul(cols(dGateAll, 3, H), cols(states, 1, H)),
      ],
      1,
    );
    return sumRows(products as tf.Tensor2D);
  });
}
