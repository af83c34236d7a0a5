// Runs a recurrent cell over time, with per-sequence lengths given as a mask.
//
// Inputs are time-major and flattened, [time·batch, features], so that step t is the contiguous row block
// [t·B, (t+1)·B): no transposes inside the loop. The input projection x·W + b for all steps is one matMul done by
// the caller (see `Recurrent`), so the loop does only h·U and the element-wise step.
//
// Padding semantics (TensorFlow's dynamic_rnn(sequence_length=…), as the RNN tutorials use it): at a padded position the state is carried
// unchanged, so the state after the last step is the state at each sequence's last real step, whether the padding
// is at the front (reversed sources) or at the back; outputs at padded positions are zero.
//
// The backward pass is written out (backpropagation through time) rather than taped op by op: the tape would
// record a dozen small ops per step and run each backward matMul on tfjs's slow transposed path. Here U is
// transposed once, each step does one plain matMul and one fused element-wise kernel, and ∂U is one matMul over
// all steps at the end.
import * as tf from '@tensorflow/tfjs-core';
import { gruStep, gruNextState, gruStepGrad } from './gru.js';
import { lstmStep, lstmStepGrad, lstmPeepholeGrad } from './lstm.js';
import { rnnStep, rnnStepGrad } from './basicRnn.js';
import { DEFAULT_CELL, stateBlocks, type CellOptions } from './cell.js';
import { sumRows, product } from '../layers/dense.js';
import { gruSequenceFused, gruSequenceRuns } from './gruSequence.js';

export interface SequenceShape {
  steps: number;
  batch: number;
}

/**
 * Carried GRU states for all steps, [time, batch, H] (not yet zeroed at padding: see `maskOutputs`).
 * xp: [time·batch, 3H] projected inputs; h0: [batch, H]; U: [H, 3H]; c: [3H]; mask: [time·batch] 1/0 or null.
 */
export function gruSequence(
  xp: tf.Tensor2D,
  h0: tf.Tensor2D,
  U: tf.Tensor2D,
  c: tf.Tensor1D,
  mask: tf.Tensor1D | null,
  shape: SequenceShape,
): tf.Tensor3D {
  return recurrentSequence(DEFAULT_CELL, xp, h0, U, c, null, mask, shape);
}

/**
 * One forward step of any cell: [new state, cache]. `state` is [B, blocks·H]; hU = h·U from its h part. Without
 * `cache` (no backward pass will run) the GRU's kernel skips the cache and null comes back in its place.
 */
function stepForward(
  cell: CellOptions,
  xp: tf.Tensor2D,
  hU: tf.Tensor2D,
  c: tf.Tensor1D,
  state: tf.Tensor2D,
  peep: tf.Tensor1D | null,
  mask: tf.Tensor1D | null,
  t: number,
  cache = true,
): [tf.Tensor2D, tf.Tensor2D | null] {
  if (cell.kind === 'lstm') return lstmStep({ xp, hU, c, state, peep, mask, t, forgetBias: cell.forgetBias });
  if (cell.kind === 'rnn') return rnnStep({ xp, hU, c, h: state, mask, t, activation: cell.activation });
  return cache ? gruStep({ xp, hU, c, h: state, mask, t }) : [gruNextState({ xp, hU, c, h: state, mask, t }), null];
}

/** One backward step of any cell: ∂(h·U + c), ∂xp_t and the part of ∂state_{t−1} that does not go through U. */
function stepBackward(
  cell: CellOptions,
  dOut: tf.Tensor2D,
  dhA: tf.Tensor2D | null,
  dhB: tf.Tensor2D | null,
  cache: tf.Tensor2D,
  prev: tf.Tensor2D,
  peep: tf.Tensor1D | null,
  mask: tf.Tensor1D | null,
  t: number,
): { dGate: tf.Tensor2D; dXp: tf.Tensor2D; dDirect: tf.Tensor2D } {
  if (cell.kind === 'lstm') {
    const [dGate, dDirect] = lstmStepGrad({ dOut, dhA, dhB, cache, state: prev, peep, mask, t });
    return { dGate, dXp: dGate, dDirect };
  }
  if (cell.kind === 'rnn') {
    const [dGate, dDirect] = rnnStepGrad({ dOut, dhA, dhB, cache, mask, t, activation: cell.activation });
    return { dGate, dXp: dGate, dDirect };
  }
  const [dGate, dXp, dDirect] = gruStepGrad({ dOut, dhA, dhB, cache, h: prev, mask, t });
  return { dGate, dXp, dDirect };
}

/** The h part ([B, H]) of a state [B, blocks·H]. */
export function hiddenPart(state: tf.Tensor2D, H: number): tf.Tensor2D {
  return state.shape[1] === H ? state : tf.slice(state, [0, 0], [state.shape[0], H]);
}

/**
 * Carried states of any cell for all steps, [time, batch, blocks·H] (LSTM: [h | c]; not yet zeroed at padding).
 * xp: [time·batch, gates·H]; state0: [batch, blocks·H]; U: [H, gates·H]; c: [gates·H]; peep: LSTM peepholes [3H]
 * or null; mask: [time·batch] 1/0 or null; stateMask: [batch, H] variational dropout on h where it enters h·U
 * (the same mask at every step), or null. `fuse` (default true) lets a GRU without state dropout run as one kernel
 * call each way where gruSequenceRuns (false: step by step, two tfjs ops a step each way, as elsewhere).
 */
export function recurrentSequence(
  cell: CellOptions,
  xp: tf.Tensor2D,
  state0: tf.Tensor2D,
  U: tf.Tensor2D,
  c: tf.Tensor1D,
  peep: tf.Tensor1D | null,
  mask: tf.Tensor1D | null,
  shape: SequenceShape,
  stateMask: tf.Tensor2D | null = null,
  fuse = true,
): tf.Tensor3D {
  const { steps: T, batch: B } = shape;
  const H = U.shape[0];
  const S = state0.shape[1];
  if (S !== stateBlocks(cell.kind) * H)
    throw new Error(`recurrentSequence: a ${cell.kind} state is ${stateBlocks(cell.kind)}·${H} wide, got ${S}`);
  if (xp.shape[0] !== T * B)
    throw new Error(`recurrentSequence: xp has ${xp.shape[0]} rows, expected time·batch = ${T * B}`);
  // A GRU without state dropout on the wasm backend with a BLAS: the whole sequence in one kernel call each way.
  if (fuse && cell.kind === 'gru' && stateMask === null && gruSequenceRuns(H))
    return gruSequenceFused(xp, state0, U, c, mask, T);
  const usePeep = cell.kind === 'lstm' && peep !== null;
  const mask0 = mask;
  // What the engine decides too: the backward pass can only run when the tape records this call (inside the
  // forward function below it reads false either way).
  const taping = tf.engine().isTapeOn();
  const run = tf.customGrad((...args) => {
    const save = args[args.length - 1] as unknown as tf.GradSaveFunc;
    const [xpIn, s0In, UIn, cIn] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const peepIn = usePeep ? (args[4] as tf.Tensor1D) : null;
    const states: tf.Tensor2D[] = [];
    const caches: tf.Tensor2D[] = [];
    let state = s0In;
    for (let t = 0; t < T; t++) {
      const hU = tf.tidy<tf.Tensor2D>(() => tf.matMul(dropped(hiddenPart(state, H), stateMask), UIn));
      const [next, cache] = stepForward(cell, xpIn, hU, cIn, state, peepIn, mask, t, taping);
      hU.dispose();
      states.push(next);
      if (cache !== null) caches.push(cache);
      state = next;
    }
    const value = tf.reshape<tf.Rank.R3>(tf.concat(states, 0), [T, B, S]);
    // The forward pass runs inside a tidy: what the backward pass needs must be saved (only while taping).
    save([
      s0In,
      UIn,
      ...(peepIn === null ? [] : [peepIn]),
      ...states,
      ...caches,
      ...(mask === null ? [] : [mask]),
      ...(stateMask === null ? [] : [stateMask]),
    ]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] => {
      if (!taping)
        throw new Error('recurrentSequence: a gradient of a call the tape did not record (no caches were kept)');
      let k = 0;
      const s0In = saved[k++] as tf.Tensor2D;
      const UIn = saved[k++] as tf.Tensor2D;
      const peepIn = usePeep ? (saved[k++] as tf.Tensor1D) : null;
      const states = saved.slice(k, k + T) as tf.Tensor2D[];
      const caches = saved.slice(k + T, k + 2 * T) as tf.Tensor2D[];
      const mask = mask0 === null ? null : (saved[k + 2 * T] as tf.Tensor1D);
      const sMask = stateMask === null ? null : (saved[k + 2 * T + (mask0 === null ? 0 : 1)] as tf.Tensor2D);
      const dOut = tf.reshape<tf.Rank.R2>(dy as tf.Tensor, [T * B, S]);
      const UT = tf.transpose(UIn);
      const dGates: tf.Tensor2D[] = new Array<tf.Tensor2D>(T);
      const dXps: tf.Tensor2D[] = new Array<tf.Tensor2D>(T);
      let dhA: tf.Tensor2D | null = null;
      let dhB: tf.Tensor2D | null = null;
      for (let t = T - 1; t >= 0; t--) {
        const prev = t === 0 ? s0In : states[t - 1]!;
        const g = stepBackward(cell, dOut, dhA, dhB, caches[t]!, prev, peepIn, mask, t);
        dGates[t] = g.dGate;
        dXps[t] = g.dXp;
        dhA = dropped(tf.matMul<tf.Tensor2D>(g.dGate, UT), sMask); // [B, H]: reaches the h part only
        dhB = g.dDirect;
      }
      const dGateAll = tf.concat(dGates, 0); // [time·batch, gates·H]
      const prevAll = tf.concat([s0In, ...states.slice(0, T - 1)], 0); // [time·batch, blocks·H]
      const prevH = sMask === null ? hiddenPart(prevAll, H) : tf.mul(hiddenPart(prevAll, H), tf.tile(sMask, [T, 1]));
      const dU = product(prevH as tf.Tensor2D, dGateAll, true);
      const dc = sumRows(dGateAll);
      let dState0: tf.Tensor;
      if (T === 0) dState0 = tf.zerosLike(s0In);
      else if (S === H) dState0 = tf.add(dhA!, dhB!);
      else dState0 = tf.add(dhB!, tf.concat([dhA!, tf.zeros([B, S - H])], 1));
      const grads: tf.Tensor[] = [tf.concat(dXps, 0), dState0, dU, dc];
      if (peepIn !== null) grads.push(lstmPeepholeGrad(dGateAll, prevAll, tf.concat(states, 0)));
      return grads;
    };
    return { value, gradFunc };
  });
  return usePeep ? run(xp, state0, U, c, peep) : run(xp, state0, U, c);
}

/** h ⊙ mask, or h itself without a mask. */
function dropped(h: tf.Tensor2D, mask: tf.Tensor2D | null): tf.Tensor2D {
  return mask === null ? h : tf.mul(h, mask);
}

/**
 * One step of any cell with its gradient, for decoders whose next input depends on the previous step (Bahdanau
 * attention feeds the context into the recurrent input): xp [B, gates·H] (this step's input projection), state
 * [B, blocks·H] → new state. The backward pass reuses the cells' fused step kernels and plain matMuls, as
 * recurrentSequence does, instead of taping a dozen small ops.
 */
export function recurrentStep(
  cell: CellOptions,
  xp: tf.Tensor2D,
  state: tf.Tensor2D,
  U: tf.Tensor2D,
  c: tf.Tensor1D,
  peep: tf.Tensor1D | null,
  stateMask: tf.Tensor2D | null = null,
): tf.Tensor2D {
  const H = U.shape[0];
  const S = state.shape[1];
  const B = state.shape[0];
  const usePeep = cell.kind === 'lstm' && peep !== null;
  const run = tf.customGrad((...args) => {
    const save = args[args.length - 1] as unknown as tf.GradSaveFunc;
    const [xpIn, sIn, UIn, cIn] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
    const peepIn = usePeep ? (args[4] as tf.Tensor1D) : null;
    const hIn = dropped(hiddenPart(sIn, H), stateMask);
    const hU = tf.matMul<tf.Tensor2D>(hIn, UIn);
    const [next, cache] = stepForward(cell, xpIn, hU, cIn, sIn, peepIn, null, 0);
    save([
      sIn,
      hIn,
      UIn,
      next,
      cache!,
      ...(peepIn === null ? [] : [peepIn]),
      ...(stateMask === null ? [] : [stateMask]),
    ]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] => {
      const [prev, hPrev, Us, nextS, cacheS] = saved as [
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
        tf.Tensor2D,
      ];
      const peepS = usePeep ? (saved[5] as tf.Tensor1D) : null;
      const sMask = stateMask === null ? null : (saved[usePeep ? 6 : 5] as tf.Tensor2D);
      const g = stepBackward(cell, dy as tf.Tensor2D, null, null, cacheS, prev, peepS, null, 0);
      const dh = dropped(product(g.dGate, Us, false, true), sMask); // [B, H]
      const dState = S === H ? tf.add(g.dDirect, dh) : tf.add(g.dDirect, tf.concat([dh, tf.zeros([B, S - H])], 1));
      const grads: tf.Tensor[] = [g.dXp, dState, product(hPrev, g.dGate, true), sumRows(g.dGate)];
      if (peepS !== null) grads.push(lstmPeepholeGrad(g.dGate, prev, nextS));
      return grads;
    };
    return { value: next, gradFunc };
  });
  return usePeep ? run(xp, state, U, c, peep) : run(xp, state, U, c);
}

/** Zeroes outputs at padded positions: states [time, batch, units] × mask [time·batch]. */
export function maskOutputs(states: tf.Tensor3D, mask: tf.Tensor1D | null): tf.Tensor3D {
  if (mask === null) return states;
  const [T, B] = states.shape;
  return tf.mul(states, tf.reshape(mask, [T, B, 1]));
}

/** The carried state after the last step, [batch, units]: each sequence's state at its last real step. */
export function finalState(states: tf.Tensor3D): tf.Tensor2D {
  const [T, B, H] = states.shape;
  return tf.reshape(tf.slice(states, [T - 1, 0, 0], [1, B, H]), [B, H]);
}
