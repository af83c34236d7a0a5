import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfigError } from '../../../src/model/configChecks.js';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { Trainer } from '../../../src/train/trainer.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG, type ForecastBatch } from '../../../src/heads/forecaster/forecaster.js';
import { featureBatch } from '../../../src/heads/sequenceInput.js';
import { saveHead, loadHead } from '../../../src/heads/saved.js';

beforeAll(useTestBackend);

/** Windows of a noisy sine with random phase and frequency; the next k values are the targets. */
function sineWindows(rng: Rng, n: number, steps: number, k: number): { windows: Float32Array[]; next: Float32Array[] } {
  const windows: Float32Array[] = [];
  const next: Float32Array[] = [];
  for (let i = 0; i < n; i++) {
    const phase = rng.uniform(0, 2 * Math.PI);
    const freq = rng.uniform(0.3, 0.6);
    const x = Float32Array.from({ length: steps + k }, (_, t) => Math.sin(phase + freq * t));
    windows.push(x.slice(0, steps));
    next.push(x.slice(steps));
  }
  return { windows, next };
}

function vectorBatch(rng: Rng, n: number, k: number): ForecastBatch {
  const { windows, next } = sineWindows(rng, n, 12, k);
  const expected = new Float32Array(n * k);
  next.forEach((v, b) => expected.set(v, b * k));
  return { ...featureBatch(windows, 1), expected };
}

describe('Forecaster', () => {
  it('sequence-to-vector: learns to continue sines 3 steps ahead, far better than repeating the last value', () => {
    const rng = new Rng(5);
    const f = new Forecaster({ ...DEFAULT_FORECASTER_CONFIG, inputSize: 1, targets: 1, horizon: 3, hiddenSize: 24 });
    const trainer = new Trainer(f.params, { learningRate: 0.01 });
    for (let i = 0; i < 200; i++) trainer.update(() => f.loss(vectorBatch(rng, 32, 3)));
    const test = vectorBatch(new Rng(42), 200, 3);
    const mse = tf.tidy(() => f.loss(test).dataSync()[0]!);
    let naive = 0;
    for (let b = 0; b < 200; b++) {
      const last = test.features![11 * 200 + b]!;
      for (let j = 0; j < 3; j++) naive += (test.expected[b * 3 + j]! - last) ** 2;
    }
    naive /= 600;
    expect(mse).toBeLessThan(naive / 5);
    const forecasts = f.forecast(test);
    expect(forecasts).toHaveLength(200);
    expect(forecasts[0]).toHaveLength(3);
    trainer.dispose();
    f.dispose();
  });

  it('sequence-to-sequence: predicts the next k values at every step, masks unknown futures, forecasts from each last real step', async () => {
    const k = 2;
    const f = new Forecaster({
      ...DEFAULT_FORECASTER_CONFIG,
      inputSize: 1,
      targets: 1,
      horizon: k,
      mode: 'sequence',
      hiddenSize: 8,
      seed: 2,
    });
    const series = [Float32Array.from([0.1, 0.2, 0.3, 0.4]), Float32Array.from([1, 0.5])];
    const batch = featureBatch(series, 1);
    const rows = batch.steps * batch.size;
    const p = tf.tidy(() => f.predictions(batch).arraySync());
    expect(p).toHaveLength(rows);
    expect(p[0]).toHaveLength(k);
    // The forecast of each sequence is the prediction at its own last real step (row t·B + b).
    const forecasts = f.forecast(batch);
    forecasts[0]!.forEach((v, j) => expect(v).toBeCloseTo(p[3 * 2 + 0]![j]!, 6));
    forecasts[1]!.forEach((v, j) => expect(v).toBeCloseTo(p[1 * 2 + 1]![j]!, 6));
    // The loss averages squared errors only over positions whose weight is 1.
    const expected = new Float32Array(rows * k);
    const expectedMask = new Float32Array(rows);
    expectedMask[0] = 1;
    expected.set([0.2, 0.3], 0);
    const loss = tf.tidy(() => f.loss({ ...batch, expected, expectedMask }).dataSync()[0]!);
    expect(loss).toBeCloseTo(((p[0]![0]! - 0.2) ** 2 + (p[0]![1]! - 0.3) ** 2) / 2, 5);
    const dir = mkdtempSync(join(tmpdir(), 'forecaster-'));
    await saveHead(dir, 'forecaster', f, { scaler: { kind: 'standard', mean: [0], std: [1] } });
    const { model } = await loadHead(dir, 'forecaster', (config) => new Forecaster(config as never));
    expect(model.forecast(batch)).toEqual(forecasts);
    model.dispose();
    f.dispose();
  });
});

describe('Forecaster config', () => {
  it('refuses fields out of range by name before a weight is made (a horizon of 0 failed as a weight of shape [,192])', () => {
    const before = tf.memory().numTensors;
    const base = { ...DEFAULT_FORECASTER_CONFIG, inputSize: 2, targets: 2 };
    const cases: [object, string][] = [
      [{ horizon: 0 }, 'horizon must be an integer ≥ 1, got 0'],
      [{ inputSize: 0 }, 'inputSize must be an integer ≥ 1, got 0'],
      [{ targets: NaN }, 'targets must be an integer ≥ 1, got NaN'],
      [{ mode: 'matrix' }, 'mode must be one of vector, sequence, got "matrix"'],
      [{ hiddenSize: 2.5 }, 'hiddenSize must be an integer ≥ 1, got 2.5'],
      [{ seed: -1 }, 'seed must be an integer from 0 to 4294967295, got -1'],
      [
        { cell: { ...DEFAULT_FORECASTER_CONFIG.cell, activation: 'sigmoid' } },
        'cell.activation must be one of tanh, relu, got "sigmoid"',
      ],
    ];
    for (const [change, message] of cases)
      expect(() => new Forecaster({ ...base, ...change })).toThrow(new ModelConfigError(message));
    expect(tf.memory().numTensors).toBe(before);
  });
});
