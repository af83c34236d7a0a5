import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { FusedAdamOptimizer, adamStepValues, ADAM_STEP, FUSED_ADAM_MAX_SIZE } from '../../src/train/fusedAdam.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

function randomTensor(shape: number[], seed: number, scale = 1): tf.Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(
    Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 2 * scale),
    shape,
  );
}

describe('adamStepValues', () => {
  it('is one Adam step: moments, bias corrections, ε after the corrected √v', () => {
    // t = 1 from zero moments: m = 0.1·g, v = 0.001·g², m̂ = g, v̂ = g²: w − lr·g/(|g| + ε).
    const w = new Float32Array([1, -2]);
    const g = new Float32Array([0.5, -4]);
    const out = [new Float32Array(2), new Float32Array(2), new Float32Array(2)] as const;
    adamStepValues(
      w,
      new Float32Array(2),
      new Float32Array(2),
      g,
      { learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, correction1: 0.1, correction2: 0.001 },
      ...out,
    );
    expect(out[1][0]).toBeCloseTo(0.05, 7);
    expect(out[2][1]).toBeCloseTo(0.016, 7);
    expect(out[0][0]).toBeCloseTo(1 - (0.01 * 0.5) / (0.5 + 1e-7), 6);
    expect(out[0][1]).toBeCloseTo(-2 + 0.01, 6);
  });
});

describe('FusedAdamOptimizer', () => {
  it('runs the fused kernel on the test backend', () => {
    expect(hasJsKernel(ADAM_STEP)).toBe(true);
  });

  it("follows tfjs's Adam over several steps, for weights on both sides of the fused-size limit", () => {
    const shapes = [[7, 5], [3], [FUSED_ADAM_MAX_SIZE + 10]];
    const make = (tag: string) => shapes.map((s, i) => tf.variable(randomTensor(s, 10 + i), true, `${tag}${i}`));
    const ours = make('fused');
    const theirs = make('tfjs');
    const fused: tf.Optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999);
    const reference: tf.Optimizer = tf.train.adam(0.01);
    for (let step = 0; step < 5; step++) {
      const grads = shapes.map((s, i) => randomTensor(s, 100 * step + i, 3));
      fused.applyGradients(Object.fromEntries(ours.map((v, i) => [v.name, grads[i]!])));
      reference.applyGradients(Object.fromEntries(theirs.map((v, i) => [v.name, grads[i]!])));
      tf.dispose(grads);
    }
    for (let i = 0; i < shapes.length; i++) {
      const a = ours[i]!.dataSync();
      const b = theirs[i]!.dataSync();
      let worst = 0;
      for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j]! - b[j]!));
      expect(worst).toBeLessThan(2e-6);
    }
    tf.dispose([...ours, ...theirs]);
    fused.dispose();
    reference.dispose();
  });

  it("keeps tfjs's slots (names, order, iterations), so checkpoints carry over both ways", async () => {
    const w = tf.variable(randomTensor([4, 3], 1), true, 'slots/w');
    const b = tf.variable(randomTensor([3], 2), true, 'slots/b');
    const fused: tf.Optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999);
    for (let step = 0; step < 3; step++) fused.applyGradients({ 'slots/w': tf.onesLike(w), 'slots/b': tf.onesLike(b) });
    const weights = await fused.getWeights();
    expect(weights.map((x) => x.name)).toEqual(['iter', 'slots/w/m', 'slots/b/m', 'slots/w/v', 'slots/b/v']);
    expect(weights[0]!.tensor.dataSync()[0]).toBe(3);
    // tfjs's Adam takes the state and makes the same next step as the fused one.
    const w2 = tf.variable(w.clone(), true, 'slots/w2');
    const b2 = tf.variable(b.clone(), true, 'slots/b2');
    const reference: tf.Optimizer = tf.train.adam(0.01);
    await reference.setWeights(weights.map((x) => ({ name: x.name, tensor: x.tensor.clone() })));
    const g = randomTensor([4, 3], 9);
    fused.applyGradients({ 'slots/w': g, 'slots/b': tf.onesLike(b) });
    reference.applyGradients({ 'slots/w2': g, 'slots/b2': tf.onesLike(b) });
    const a = w.dataSync();
    const c = w2.dataSync();
    for (let j = 0; j < a.length; j++) expect(Math.abs(a[j]! - c[j]!)).toBeLessThan(1e-6);
    tf.dispose([w, b, w2, b2, g, weights[0]!.tensor]);
    fused.dispose();
    reference.dispose();
  });

  it('leaves the live tensor count flat across updates', () => {
    const w = tf.variable(randomTensor([20, 20], 3), true, 'flat/w');
    const fused: tf.Optimizer = new FusedAdamOptimizer(0.01, 0.9, 0.999);
    const g = randomTensor([20, 20], 4);
    fused.applyGradients({ 'flat/w': g });
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) fused.applyGradients({ 'flat/w': g });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([w, g]);
    fused.dispose();
  });
});
