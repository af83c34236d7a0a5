// Runs a recurrent cell over time, with per-sequence lengths given as a mask.
//
// Inputs are time-major and flattened, [time·batch, features], so that step t is the contiguous row block
// [t·B, (t+1)·B): no transposes inside the loop. The input projection x·W + b for all steps is one matMul done by
// the caller (see `Recurrent`), so the loop does only h·U and the element-wise step.
//
// Padding semantics (the seeds' dynamic_rnn(sequence_length=…)): at a padded position the state is carried
// unchanged, so the state after the last step is the state at each sequence's last real step, whether the padding
// is at the front (reversed sources) or at the back; outputs at padded positions are zero.
//
// The backward pass is written out (backpropagation through time) rather than taped op by op: the tape would
// record a dozen small ops per step and run each backward matMul on tfjs's slow transposed path. Here U is
// transposed once, each step does one plain matMul and one fused element-wise kernel, and ∂U is one matMul over
// all steps at the end.
import * as tf from '@tensorflow/tfjs-core';
import { gruStep, gruStepGrad } from './gru.js';
import { sumRows } from '../layers/dense.js';

export interface SequenceShape {
  steps: number;
  batch: number;
}

/**
 * Carried GRU states for all steps, [time, batch, H] (not yet zeroed at padding: see `maskOutputs`).
 * xp: [time·batch, 3H] projected inputs; h0: [batch, H]; U: [H, 3H]; c: [3H]; mask: [time·batch] 1/0 or null.
 */
export function gruSequence(
  xp: tf.Tensor2D, h0: tf.Tensor2D, U: tf.Tensor2D, c: tf.Tensor1D, mask: tf.Tensor1D | null, shape: SequenceShape,
): tf.Tensor3D {
  const { steps: T, batch: B } = shape;
  const H = h0.shape[1];
  if (xp.shape[0] !== T * B) throw new Error(`gruSequence: xp has ${xp.shape[0]} rows, expected time·batch = ${T * B}`);
  const mask0 = mask;
  const run = tf.customGrad((...args) => {
    const [xpIn, h0In, UIn, cIn, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    const states: tf.Tensor2D[] = [];
    const caches: tf.Tensor2D[] = [];
    let h = h0In;
    for (let t = 0; t < T; t++) {
      const hU = tf.matMul(h, UIn) as tf.Tensor2D;
      const [hNew, cache] = gruStep({ xp: xpIn, hU, c: cIn, h, mask, t });
      hU.dispose();
      states.push(hNew);
      caches.push(cache);
      h = hNew;
    }
    const value = tf.reshape(tf.concat(states, 0), [T, B, H]) as tf.Tensor3D;
    // The forward pass runs inside a tidy: what the backward pass needs must be saved (only while taping).
    save([h0In, UIn, ...states, ...caches, ...(mask === null ? [] : [mask])]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]): tf.Tensor[] => {
      const h0In = saved[0] as tf.Tensor2D;
      const UIn = saved[1] as tf.Tensor2D;
      const states = saved.slice(2, 2 + T) as tf.Tensor2D[];
      const caches = saved.slice(2 + T, 2 + 2 * T) as tf.Tensor2D[];
      const mask = mask0 === null ? null : (saved[2 + 2 * T] as tf.Tensor1D);
      const dOut = tf.reshape(dy as tf.Tensor, [T * B, H]) as tf.Tensor2D;
      const UT = tf.transpose(UIn);
      const dGates: tf.Tensor2D[] = new Array(T);
      const dXps: tf.Tensor2D[] = new Array(T);
      let dhA: tf.Tensor2D | null = null;
      let dhB: tf.Tensor2D | null = null;
      for (let t = T - 1; t >= 0; t--) {
        const hPrev = t === 0 ? h0In : states[t - 1]!;
        const [dGate, dXp, dhDirect] = gruStepGrad({ dOut, dhA, dhB, cache: caches[t]!, h: hPrev, mask, t });
        dGates[t] = dGate;
        dXps[t] = dXp;
        dhA = tf.matMul(dGate, UT) as tf.Tensor2D;
        dhB = dhDirect;
      }
      const dGateAll = tf.concat(dGates, 0); // [time·batch, 3H]
      const hPrevAll = tf.concat([h0In, ...states.slice(0, T - 1)], 0); // [time·batch, H]
      const dU = tf.matMul(tf.transpose(hPrevAll), dGateAll);
      const dc = sumRows(dGateAll);
      const dh0 = T === 0 ? tf.zerosLike(h0In) : tf.add(dhA!, dhB!);
      return [tf.concat(dXps, 0), dh0, dU, dc];
    };
    return { value, gradFunc };
  });
  return run(xp, h0, U, c) as tf.Tensor3D;
}

/** Zeroes outputs at padded positions: states [time, batch, H] × mask [time·batch]. */
export function maskOutputs(states: tf.Tensor3D, mask: tf.Tensor1D | null): tf.Tensor3D {
  if (mask === null) return states;
  const [T, B] = states.shape;
  return tf.mul(states, tf.reshape(mask, [T, B, 1]));
}

/** The carried state after the last step, [batch, H]: each sequence's state at its last real step. */
export function finalState(states: tf.Tensor3D): tf.Tensor2D {
  const [T, B, H] = states.shape;
  return tf.reshape(tf.slice(states, [T - 1, 0, 0], [1, B, H]), [B, H]);
}
