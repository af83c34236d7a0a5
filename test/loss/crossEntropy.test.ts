import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { randomMat, type Mat } from '../helpers/reference.js';
import { maskedCrossEntropy } from '../../src/loss/crossEntropy.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const N = 5, V = 6;
const TARGETS = [2, 0, 5, 3, 1];
const MASK = [1, 1, 0, 1, 0]; // rows 2 and 4 are padding

function softmaxRef(row: number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const total = exps.reduce((a, c) => a + c, 0);
  return exps.map((e) => e / total);
}

/** −Σ mask·log softmax(logits)[target] / Σ mask, in float64. */
function lossRef(logits: Mat, targets: number[], mask: number[]): number {
  let sum = 0;
  logits.forEach((row, i) => {
    if (mask[i] === 0) return;
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    sum += mask[i]! * (logZ - row[targets[i]!]!);
  });
  return sum / mask.reduce((a, c) => a + c, 0);
}

function makeLogits(seed: number): Mat {
  const rng = new Rng(seed);
  return randomMat(N, V, () => rng.next(), 3);
}

function lossAndGrad(logits: Mat, targets: number[], mask: number[]): { loss: number; grad: number[][] } {
  return tf.tidy(() => {
    const t = new Int32Array(targets);
    const m = new Float32Array(mask);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor2D, t, m))(tf.tensor2d(logits));
    return { loss: value.arraySync() as number, grad: grad.arraySync() as number[][] };
  });
}

describe('maskedCrossEntropy', () => {
  it('equals −Σ mask·log softmax[target] / Σ mask computed in float64', () => {
    const logits = makeLogits(1);
    const { loss } = lossAndGrad(logits, TARGETS, MASK);
    expect(loss).toBeCloseTo(lossRef(logits, TARGETS, MASK), 5);
    expect(loss).toBeGreaterThan(0);
  });

  it('padded rows change neither the loss nor receive any gradient', () => {
    const logits = makeLogits(2);
    const a = lossAndGrad(logits, TARGETS, MASK);
    const changed = logits.map((row, i) => (MASK[i] === 0 ? row.map((x) => x * -5 + 1) : row));
    const targets = TARGETS.map((t, i) => (MASK[i] === 0 ? (t + 1) % V : t));
    const b = lossAndGrad(changed, targets, MASK);
    expect(b.loss).toBe(a.loss);
    for (const g of [a.grad, b.grad]) MASK.forEach((m, i) => { if (m === 0) expect(g[i]!.every((x) => x === 0)).toBe(true); });
  });

  it('gradient equals (softmax − onehot)·mask / Σ mask', () => {
    const logits = makeLogits(3);
    const { grad } = lossAndGrad(logits, TARGETS, MASK);
    const total = MASK.reduce((a, c) => a + c, 0);
    logits.forEach((row, i) => softmaxRef(row).forEach((p, j) => {
      const expected = (p - (j === TARGETS[i] ? 1 : 0)) * MASK[i]! / total;
      expect(grad[i]![j]).toBeCloseTo(expected, 6);
    }));
  });

  it('gradient matches central finite differences of the float64 loss', () => {
    const logits = makeLogits(4);
    const { grad } = lossAndGrad(logits, TARGETS, MASK);
    const eps = 1e-5;
    logits.forEach((row, i) => row.forEach((x, j) => {
      row[j] = x + eps; const up = lossRef(logits, TARGETS, MASK);
      row[j] = x - eps; const down = lossRef(logits, TARGETS, MASK);
      row[j] = x;
      const numeric = (up - down) / (2 * eps);
      expect(Math.abs(grad[i]![j]! - numeric)).toBeLessThan(1e-5);
    }));
  });

  it('an extremely negative target logit gives a large finite loss and a finite gradient', () => {
    const logits = makeLogits(5);
    logits[0]![TARGETS[0]!] = -1e4; // p(target) underflows to 0 in float32
    const { loss, grad } = lossAndGrad(logits, TARGETS, MASK);
    expect(Number.isFinite(loss)).toBe(true);
    // Row 0 alone contributes at least −log(1e-30)/3 ≈ 23.
    expect(loss).toBeGreaterThan(20);
    expect(grad.flat().every(Number.isFinite)).toBe(true);
    // ∂/∂(target logit) is (0 − 1)/Σmask.
    expect(grad[0]![TARGETS[0]!]).toBeCloseTo(-1 / 3, 6);
  });

  it('an all-padding batch gives zero loss and zero gradient, not NaN', () => {
    const { loss, grad } = lossAndGrad(makeLogits(6), TARGETS, [0, 0, 0, 0, 0]);
    expect(Math.abs(loss)).toBe(0);
    expect(grad.flat().every((x) => x === 0)).toBe(true);
  });

  it('rejects targets or a mask whose length is not the number of rows', () => {
    const x = tf.zeros([N, V]) as tf.Tensor2D;
    expect(() => maskedCrossEntropy(x, new Int32Array(N - 1), new Float32Array(N))).toThrow(/5 rows but 4 targets/);
    expect(() => maskedCrossEntropy(x, new Int32Array(N), new Float32Array(N + 1))).toThrow(/6 mask entries/);
    x.dispose();
  });
});
