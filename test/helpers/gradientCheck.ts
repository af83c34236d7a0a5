// Central finite differences in float32 for the model-level gradient checks: eps ~1e-2 on a smooth loss (a fixed
// random projection of the outputs), a relative tolerance, and a deterministic sample of coordinates per tensor.
import { expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';

export interface CheckOptions {
  eps?: number;
  /** |analytic − numeric| ≤ tol · max(1, |numeric|). */
  tol?: number;
  /** Coordinates checked per tensor (spread evenly over it). */
  samples?: number;
}

function sampleIndices(size: number, samples: number): number[] {
  if (size <= samples) return Array.from({ length: size }, (_, i) => i);
  return Array.from({ length: samples }, (_, k) => Math.floor(((k + 0.5) * size) / samples));
}

function compare(
  label: string,
  analytic: Float32Array,
  indices: number[],
  numeric: (i: number) => number,
  tol: number,
): number {
  let checked = 0;
  for (const i of indices) {
    const n = numeric(i);
    const a = analytic[i]!;
    if (!(Math.abs(a - n) <= tol * Math.max(1, Math.abs(n))))
      expect.fail(`${label}[${i}]: analytic ${a}, numeric ${n}`);
    checked++;
  }
  return checked;
}

/** Checks tf.grads of `loss` with respect to each of `inputs` (constants) against central differences. */
export function checkInputGradients(
  loss: (...xs: tf.Tensor[]) => tf.Scalar,
  inputs: tf.Tensor[],
  options: CheckOptions = {},
): void {
  const { eps = 1e-2, tol = 3e-3, samples = 8 } = options;
  const analytic = tf.tidy(() =>
    tf
      .grads((...xs: tf.Tensor[]) => loss(...xs))(inputs)
      .map((g) => g.dataSync() as Float32Array),
  );
  inputs.forEach((x, k) => {
    const base = x.dataSync().slice() as Float32Array;
    const at = (i: number, delta: number): number =>
      tf.tidy(() => {
        const v = base.slice();
        v[i]! += delta;
        const args = inputs.map((y, j) => (j === k ? tf.tensor(v, x.shape) : y));
        return loss(...args).dataSync()[0]!;
      });
    const n = compare(
      `input ${k}`,
      analytic[k]!,
      sampleIndices(x.size, samples),
      (i) => (at(i, eps) - at(i, -eps)) / (2 * eps),
      tol,
    );
    expect(n).toBeGreaterThan(0);
  });
}

/** Checks tf.variableGrads of `loss` for the named variables against central differences (restoring their values). */
export function checkVariableGradients(
  loss: () => tf.Scalar,
  variables: [string, tf.Variable][],
  options: CheckOptions = {},
): void {
  const { eps = 1e-2, tol = 3e-3, samples = 6 } = options;
  const { value, grads } = tf.variableGrads(
    loss,
    variables.map(([, v]) => v),
  );
  value.dispose();
  for (const [name, v] of variables) {
    const g = grads[v.name];
    if (g === undefined) expect.fail(`no gradient for ${name}`);
    const analytic = g.dataSync() as Float32Array;
    const base = v.dataSync().slice() as Float32Array;
    const at = (i: number, delta: number): number => {
      const x = base.slice();
      x[i]! += delta;
      tf.tidy(() => v.assign(tf.tensor(x, v.shape)));
      return tf.tidy(() => loss().dataSync()[0]!);
    };
    compare(name, analytic, sampleIndices(v.size, samples), (i) => (at(i, eps) - at(i, -eps)) / (2 * eps), tol);
    tf.tidy(() => v.assign(tf.tensor(base, v.shape)));
  }
  tf.dispose(Object.values(grads));
}
