// Adam with its whole update in one pass per weight, on backends that run the toolkit's JS kernels (wasm, cpu).
//
// tfjs's AdamOptimizer builds each weight's update from ~12 element-wise ops (two moments, two bias corrections,
// sqrt, divide, scale, add); on wasm each op pays a fixed cost and its own pass over memory, ~13 ms a step for a
// 400k-weight model. The update here is the same equations in one loop:
//
//   m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   w ← w − lr · (m / (1 − β1^t)) / (√(v / (1 − β2^t)) + ε)
//
// (ε added after the bias correction, as tfjs does), for weights small enough that the ops' fixed costs dominate
// (large ones keep the composite ops, faster per element), with everything else inherited: slots, their names and order,
// the β-power variables, getWeights/setWeights, so checkpoints are interchangeable with tfjs's Adam. Values agree
// with tfjs's to float32 rounding (the loop computes in float64). Elsewhere (native backends) the parent's ops run.
import * as tf from '@tensorflow/tfjs-core';
import { registerJsKernel, hasJsKernel, runJsKernel } from '../backend/jsKernels.js';
import { activeSimdKernels } from '../backend/wasm/binding.js';

export const ADAM_STEP = 'ToolkitAdamStep';

export interface AdamStepAttrs {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** 1 − β1^t and 1 − β2^t: the bias corrections of step t. */
  correction1: number;
  correction2: number;
}

/** One Adam step over flat arrays: writes the new weights and moments. */
export function adamStepValues(
  w: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  a: AdamStepAttrs,
  wOut: Float32Array,
  mOut: Float32Array,
  vOut: Float32Array,
): void {
  const { learningRate, beta1, beta2, epsilon, correction1, correction2 } = a;
  const k1 = 1 - beta1;
  const k2 = 1 - beta2;
  // lr·(m/c1)/(√(v/c2) + ε) = (lr/c1)·m/(√v·(1/√c2) + ε)
  const step = learningRate / correction1;
  const root = 1 / Math.sqrt(correction2);
  for (let i = 0; i < w.length; i++) {
    const gi = g[i]!;
    const mi = beta1 * m[i]! + k1 * gi;
    const vi = beta2 * v[i]! + k2 * gi * gi;
    mOut[i] = mi;
    vOut[i] = vi;
    wOut[i] = w[i]! - (step * mi) / (Math.sqrt(vi) * root + epsilon);
  }
}

registerJsKernel(ADAM_STEP, ({ w, m, v, g }, attrs, memory) => {
  // Outputs take the weight's own shape: the wasm backend keeps a shape per buffer, which reshapes do not change.
  const shape = w!.shape;
  const a = attrs as unknown as AdamStepAttrs;
  const simd = memory.simd;
  if (simd === undefined) {
    return memory.run([w, m, v, g], [shape, shape, shape], ([wV, mV, vV, gV], [wOut, mOut, vOut]) =>
      adamStepValues(wV!, mV!, vV!, gV!, a, wOut!, mOut!, vOut!),
    );
  }
  // SIMD over the first multiple of 4 values (in float32); the loop above does the rest.
  const n = shape.reduce((x, y) => x * y, 1);
  const n4 = n - (n % 4);
  const outs = simd.run([w, m, v, g], [shape, shape, shape], ([wO, mO, vO, gO], [wOut, mOut, vOut]) =>
    simd.kernels.adamStep(
      wO!,
      mO!,
      vO!,
      gO!,
      n4,
      wOut!,
      mOut!,
      vOut!,
      a.beta1,
      a.beta2,
      1 - a.beta1,
      1 - a.beta2,
      a.learningRate / a.correction1,
      1 / Math.sqrt(a.correction2),
      a.epsilon,
    ),
  );
  if (n4 < n) {
    const [wV, mV, vV, gV] = memory.views([w!, m!, v!, g!]).map((x) => x.subarray(n4));
    const [wOut, mOut, vOut] = memory.views(outs).map((x) => x.subarray(n4));
    adamStepValues(wV!, mV!, vV!, gV!, a, wOut!, mOut!, vOut!);
  }
  return outs;
});

/**
 * Without the SIMD kernels, weights up to this many values take the fused JavaScript loop; larger ones the backend's
 * ops, whose ~12 passes at SIMD speed beat one JavaScript pass (~10 ns an element) once their fixed cost per op is
 * small beside the work.
 */
export const FUSED_ADAM_MAX_SIZE = 1 << 18;

interface Slot {
  originalName: string;
  variable: tf.Variable;
}

/** tfjs's AdamOptimizer with the per-weight update fused where the toolkit's JS kernels run. */
export class FusedAdamOptimizer extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    if (!hasJsKernel(ADAM_STEP)) {
      super.applyGradients(variableGradients);
      return;
    }
    const self = this as unknown as {
      accumulatedFirstMoment: Slot[];
      accumulatedSecondMoment: Slot[];
      accBeta1: tf.Variable;
      accBeta2: tf.Variable;
      epsilon: number;
      incrementIterations(): void;
    };
    const names = Array.isArray(variableGradients)
      ? variableGradients.map((v) => v.name)
      : Object.keys(variableGradients);
    const accBeta1 = self.accBeta1.dataSync()[0]!;
    const accBeta2 = self.accBeta2.dataSync()[0]!;
    const attrs: AdamStepAttrs = {
      learningRate: this.learningRate,
      beta1: this.beta1,
      beta2: this.beta2,
      epsilon: self.epsilon,
      correction1: 1 - accBeta1,
      correction2: 1 - accBeta2,
    };
    // With SIMD (wasm) the fused step is one vectorised pass and wins at every size.
    const maxFused = activeSimdKernels() === null ? FUSED_ADAM_MAX_SIZE : Infinity;
    tf.tidy(() => {
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        self.accumulatedFirstMoment[i] ??= {
          originalName: `${name}/m`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        self.accumulatedSecondMoment[i] ??= {
          originalName: `${name}/v`,
          variable: tf.tidy(() => tf.zerosLike(value).variable(false)),
        };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = self.accumulatedFirstMoment[i].variable;
        const v = self.accumulatedSecondMoment[i].variable;
        if (value.size > maxFused) {
          // Large weights: the backend's vectorised ops beat a JavaScript loop once their fixed cost is amortised.
          const m2 = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
          const v2 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
          const update = tf.div(
            tf.div(m2, attrs.correction1),
            tf.add(tf.sqrt(tf.div(v2, attrs.correction2)), attrs.epsilon),
          );
          m.assign(m2);
          v.assign(v2);
          value.assign(tf.sub(value, tf.mul(update, this.learningRate)));
          return;
        }
        const [w2, m2, v2] = runJsKernel(
          ADAM_STEP,
          { w: value, m, v, g: gradient },
          attrs as unknown as Record<string, number>,
        );
        m.assign(m2!);
        v.assign(v2!);
        value.assign(w2!);
      });
      self.accBeta1.assign(tf.scalar(accBeta1 * this.beta1));
      self.accBeta2.assign(tf.scalar(accBeta2 * this.beta2));
    });
    self.incrementIterations();
  }
}
