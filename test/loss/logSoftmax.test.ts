import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { logSoftmaxRows, logSoftmaxFromProbsValues } from '../../src/loss/logSoftmax.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { LOG_SOFTMAX_FROM_PROBS } from '../../src/loss/logSoftmax.js';
import { Rng } from '../../src/random.js';

beforeAll(async () => {
  await useTestBackend();
});

/** log softmax in float64, the reference. */
function reference(x: number[], width: number): number[] {
  const out: number[] = [];
  for (let o = 0; o < x.length; o += width) {
    const row = x.slice(o, o + width);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((s, v) => s + Math.exp(v - m), 0));
    out.push(...row.map((v) => v - lse));
  }
  return out;
}

describe('logSoftmaxRows', () => {
  it('runs through the toolkit kernel on the test backend', () => {
    expect(hasJsKernel(LOG_SOFTMAX_FROM_PROBS)).toBe(true);
  });

  it('equals log softmax in float64 on rows of small, large and very negative logits', () => {
    const rng = new Rng(5);
    const width = 300;
    const x = Array.from({ length: 4 * width }, () => (rng.next() - 0.5) * 6);
    for (let j = 0; j < width; j++) x[width + j] = x[width + j]! * 30; // spread of ±90: most probabilities underflow
    x[2 * width + 3] = -1e4; // a suppressed token (as the bench does with EOS)
    for (let j = 0; j < width; j++) x[3 * width + j] = 1000 + j / width; // large and nearly equal
    const got = tf.tidy(() => Array.from(logSoftmaxRows(tf.tensor2d(x, [4, width])).dataSync()));
    const want = reference(x, width);
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want[i]!)));
  });

  it('rows of 7 (vector lanes and a scalar tail) equal the float64 reference; a row holding a NaN gives NaNs and leaves the others right', () => {
    const rng = new Rng(6);
    const width = 7;
    const x = Array.from({ length: 3 * width }, () => (rng.next() - 0.5) * 8);
    const clean = tf.tidy(() => Array.from(logSoftmaxRows(tf.tensor2d(x, [3, width])).dataSync()));
    const want = reference(x, width);
    clean.forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(2e-5 * Math.max(1, Math.abs(want[i]!))));
    const withNaN = [...x];
    withNaN[width + 2] = Number.NaN;
    const got = tf.tidy(() => Array.from(logSoftmaxRows(tf.tensor2d(withNaN, [3, width])).dataSync()));
    for (let j = 0; j < width; j++) expect(got[width + j]).toBeNaN();
    [0, 2].forEach((r) => {
      for (let j = 0; j < width; j++) expect(got[r * width + j]).toBeCloseTo(clean[r * width + j]!, 6);
    });
  });

  it('leaves no tensors behind', () => {
    const x = tf.tensor2d([[1, 2, 3]]);
    const before = tf.memory().numTensors;
    logSoftmaxRows(x).dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('logSoftmaxFromProbsValues shifts each row by log p − x at its largest logit', () => {
    const x = new Float32Array([0, Math.log(3)]);
    const p = new Float32Array([0.25, 0.75]);
    const out = new Float32Array(2);
    logSoftmaxFromProbsValues(x, p, 1, 2, out);
    expect(out[0]).toBeCloseTo(Math.log(0.25), 6);
    expect(out[1]).toBeCloseTo(Math.log(0.75), 6);
  });
});
