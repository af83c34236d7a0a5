import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { train, type ProgressInfo } from '../../../src/train/loop.js';
import { readCheckpoint } from '../../../src/train/checkpoints.js';
import { makeWindows } from '../../../src/data/series/timeSeries.js';
import { Scaler } from '../../../src/data/series/scaling.js';
import { SeriesTransform } from '../../../src/data/series/seriesTransforms.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from '../../../src/heads/forecaster/forecaster.js';
import { SeriesForecaster } from '../../../src/heads/forecaster/seriesForecaster.js';
import { ForecasterTask } from '../../../src/heads/forecaster/forecasterTask.js';
import type { SavedModelJson } from '../../../src/model/modelFiles.js';

beforeAll(useTestBackend);

// A seasonal series with a trend, in "passenger" units (100s), so scaling matters.
const series = Float64Array.from(
  { length: 160 },
  (_, t) => 200 + 2 * t + 60 * Math.sin((2 * Math.PI * t) / 12) + 10 * Math.sin(t * 1.7),
);
const TRAIN = 136;

function newForecaster(mode: 'vector' | 'sequence'): SeriesForecaster {
  const model = new Forecaster({
    ...DEFAULT_FORECASTER_CONFIG,
    inputSize: 1,
    targets: 1,
    horizon: 3,
    mode,
    hiddenSize: 16,
    seed: 3,
  });
  return new SeriesForecaster(model, {
    scaler: Scaler.fit([series.slice(0, TRAIN)]),
    transform: new SeriesTransform(),
    window: 12,
    inputs: ['y'],
    targets: ['y'],
    linear: null,
  });
}

function newTask(f: SeriesForecaster, mode: 'vector' | 'sequence'): ForecasterTask {
  const windows = (from: number, to: number) => makeWindows([series.slice(from, to)], { window: 12, horizon: 3, mode });
  return new ForecasterTask(
    f,
    { train: windows(0, TRAIN - 12), valid: windows(TRAIN - 12 - 12, TRAIN) },
    { batchSize: 16, seed: 1 },
  );
}

describe('ForecasterTask', () => {
  for (const mode of ['vector', 'sequence'] as const) {
    it(`${mode} mode: validation MSE (original units) falls far below its start; reports loss, mse, rmse, last-step mse`, async () => {
      const f = newForecaster(mode);
      const task = newTask(f, mode);
      const before = task.validate();
      expect(Object.keys(before).sort()).toEqual(['lastStepMse', 'loss', 'mse', 'rmse']);
      const result = await train(
        task,
        { steps: 150, evalEvery: 150, learningRate: 0.01 },
        { out: mkdtempSync(join(tmpdir(), `forecaster-${mode}-`)) },
      );
      expect(result.metrics!.mse).toBeLessThan(before.mse! / 5);
      expect(result.metrics!.rmse).toBeCloseTo(Math.sqrt(result.metrics!.mse!), 6);
      f.dispose();
    });
  }

  it('saves scaler and window with the model: the checkpoint reloads with identical forecasts; a resumed run repeats the same losses', async () => {
    const options = { steps: 12, evalEvery: 6, logEvery: 1, learningRate: 0.01 };
    const f1 = newForecaster('vector');
    const whole = mkdtempSync(join(tmpdir(), 'forecaster-whole-'));
    const losses: number[] = [];
    await train(newTask(f1, 'vector'), options, { out: whole, onProgress: (p: ProgressInfo) => losses.push(p.loss) });
    const reloaded = await SeriesForecaster.load(whole);
    const history = [series.slice(0, TRAIN)];
    expect(Array.from(reloaded.forecastAhead(history, 7)[0]!)).toEqual(Array.from(f1.forecastAhead(history, 7)[0]!));
    expect(reloaded.settings.scaler!.toJSON()).toEqual(f1.settings.scaler!.toJSON());
    expect(JSON.parse(readFileSync(join(whole, 'model.json'), 'utf8')).extra.window).toBe(12);

    // Stop after 6 steps, resume from the checkpoint to 12: the same per-step losses as the uninterrupted run.
    const f2 = newForecaster('vector');
    const split = mkdtempSync(join(tmpdir(), 'forecaster-split-'));
    const resumed: number[] = [];
    await train(
      newTask(f2, 'vector'),
      { ...options, steps: 6 },
      { out: split, onProgress: (p) => resumed.push(p.loss) },
    );
    const ck = await readCheckpoint(split, 'forecaster');
    const f3 = SeriesForecaster.fromSaved(ck.json as SavedModelJson<never, never>, ck.weights, split);
    await train(newTask(f3, 'vector'), options, { out: split, resume: ck, onProgress: (p) => resumed.push(p.loss) });
    expect(resumed).toHaveLength(12);
    resumed.forEach((l, i) => expect(l).toBeCloseTo(losses[i]!, 5));
    for (const f of [f1, f2, f3, reloaded]) f.dispose();
  });

  it('forecasts several steps by feeding forecasts back, and rejects a series shorter than the window', () => {
    const f = newForecaster('vector');
    const out = f.forecastAhead([series.slice(0, 40)], 8)[0]!;
    expect(out).toHaveLength(8);
    // The first 3 values are one direct forecast; values 4–6 come from a window that ends with those 3.
    const direct = f.forecastWindows([Float32Array.from(series.slice(28, 40))])[0]!;
    expect(Array.from(out.slice(0, 3)).map((x) => x.toFixed(3))).toEqual(Array.from(direct).map((x) => x.toFixed(3)));
    expect(() => f.forecastAhead([series.slice(0, 5)], 2)).toThrow(/fewer than the model's window of 12/);
    f.dispose();
  });
});
