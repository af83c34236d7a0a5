import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { makeWindows } from '../../../src/data/series/timeSeries.js';
import { Scaler } from '../../../src/data/series/scaling.js';
import { SeriesTransform } from '../../../src/data/series/seriesTransforms.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from '../../../src/heads/forecaster/forecaster.js';
import { SeriesForecaster, ForecastInputError } from '../../../src/heads/forecaster/seriesForecaster.js';
import { LinearAutoregression } from '../../../src/heads/forecaster/baselines.js';

beforeAll(useTestBackend);

// Multiplicative season and a cycle on an exponential trend: log, then seasonal differencing, leaves a constant plus a
// sinusoid, which a linear autoregression of order ≥ 3 (with intercept) continues exactly.
const season = [0.1, -0.05, 0.2, 0.0, -0.1, 0.15, 0.3, 0.25, 0.05, -0.2, -0.15, 0.05];
const series = Float64Array.from(
  { length: 96 },
  (_, t) => 100 * Math.exp(0.01 * t + season[t % 12]! + 0.05 * Math.sin(1.3 * t)),
);

function forecaster(options: { linear: boolean; horizon?: number; mode?: 'vector' | 'sequence' }): SeriesForecaster {
  const transform = new SeriesTransform({ boxCox: 0, differences: [12] });
  const z = transform.forward(series.slice(0, 72));
  const scaler = Scaler.fit([z]);
  const k = options.horizon ?? 1;
  const model = new Forecaster({
    ...DEFAULT_FORECASTER_CONFIG,
    inputSize: 1,
    targets: 1,
    horizon: k,
    mode: options.mode ?? 'vector',
    hiddenSize: 8,
    seed: 2,
  });
  const units = scaler.transform(z);
  const linear = options.linear
    ? [LinearAutoregression.fit(makeWindows([units], { window: 6, horizon: k }), { order: 6, horizon: k })]
    : null;
  return new SeriesForecaster(model, { scaler, transform, window: 6, inputs: ['y'], targets: ['y'], linear });
}

describe('SeriesForecaster with a transform', () => {
  it('a raw window holds window + the differenced rows; windows and targets in model units are the transformed column', () => {
    for (const mode of ['vector', 'sequence'] as const) {
      const f = forecaster({ linear: false, horizon: 2, mode });
      expect(f.rawWindow).toBe(18);
      const raw = makeWindows([series], { window: f.rawWindow, horizon: 2, mode });
      const z = f.columnToModel(series, 0); // z[t] is row t + 12
      const e = f.exampleToModel(raw[5]!);
      // Raw windows hold float32 values, hence 5 digits.
      expect(e.input).toHaveLength(6);
      e.input.forEach((v, i) => expect(v).toBeCloseTo(z[5 + i]!, 5));
      // vector: the 2 values after the window's last step; sequence: after every step.
      const expected =
        mode === 'vector'
          ? [z[11]!, z[12]!]
          : Array.from({ length: 6 }, (_, t) => [z[5 + t + 1]!, z[5 + t + 2]!]).flat();
      e.target.forEach((v, i) => expect(v).toBeCloseTo(expected[i]!, 5));
      f.dispose();
    }
  });

  it("forecasts return to the series' units: with the network silent, the linear part continues the series exactly", () => {
    const f = forecaster({ linear: true, horizon: 3 });
    for (const name of ['forecaster/output/W', 'forecaster/output/b'])
      tf.tidy(() => f.model.params.get(name).assign(tf.zerosLike(f.model.params.get(name))));
    // In model units the series is a sinusoid, so AR predicts it; integration and exp rebuild trend and season.
    const ahead = f.forecastAhead([series.slice(0, 72)], 24)[0]!;
    ahead.forEach((v, h) => expect(v / series[72 + h]!).toBeCloseTo(1, 4));
    // The residual target of that window is then 0.
    const e = f.exampleToModel(makeWindows([series], { window: f.rawWindow, horizon: 3 })[10]!);
    e.target.forEach((v) => expect(Math.abs(v)).toBeLessThan(1e-4));
    f.dispose();
  });

  it('saves transform and linear part with the model: the reloaded model forecasts the same; an old "log" model still loads', async () => {
    const f = forecaster({ linear: true, horizon: 1 });
    const dir = mkdtempSync(join(tmpdir(), 'series-forecaster-'));
    await f.save(dir);
    const back = await SeriesForecaster.load(dir);
    expect(Array.from(back.forecastAhead([series.slice(0, 72)], 5)[0]!)).toEqual(
      Array.from(f.forecastAhead([series.slice(0, 72)], 5)[0]!),
    );
    expect(back.settings.transform.options).toEqual({ boxCox: 0, differences: [12] });
    const { kind, config, extra } = f.savedForm();
    const old = { ...extra, transform: 'log' as const, linear: undefined };
    const legacy = SeriesForecaster.fromSaved(
      { kind, config, extra: old, weights: { manifest: f.model.params.serialize().manifest } } as never,
      f.model.params.serialize().data,
      'old/model.json',
    );
    expect(legacy.settings.transform.options).toEqual({ boxCox: 0, differences: [] });
    expect(legacy.settings.linear).toBeNull();
    for (const m of [f, back, legacy]) m.dispose();
  });

  it('forecastChunks: a window at a time, joined they are forecastAhead; a run of 10¹² steps starts at once', () => {
    const f = forecaster({ linear: true, horizon: 3 });
    const history = [series.slice(0, 72)];
    const whole = f.forecastAhead(history, 50)[0]!;
    const chunks = [...f.forecastChunks(history, 50)];
    expect(chunks.map((c) => [c.first, c.values[0]!.length])).toEqual(
      Array.from({ length: 17 }, (_, i) => [3 * i, i < 16 ? 3 : 2]),
    );
    expect(chunks.flatMap((c) => Array.from(c.values[0]!))).toEqual(Array.from(whole));
    // Nothing is sized by `steps`: the first chunks of a forecast of 10¹² steps are the same values.
    const long = f.forecastChunks(history, 1e12);
    for (const expected of chunks.slice(0, 4)) expect(long.next().value).toEqual(expected);
    long.return(undefined);
    expect(() => f.forecastChunks(history, 1.5).next()).toThrow(/steps ahead must be a whole number/);
    // Each refusal says what it is about (the server's 400 names the field).
    const fieldOf = (run: () => unknown): string | undefined => {
      try {
        run();
      } catch (e) {
        return e instanceof ForecastInputError ? e.field : 'not a ForecastInputError';
      }
      return undefined;
    };
    expect(fieldOf(() => f.forecastChunks(history, 0).next())).toBe('steps');
    expect(fieldOf(() => f.forecastChunks([series.slice(0, 5)], 3).next())).toBe('series');
    expect(() => f.forecastAhead(history, 2 ** 60)).toThrow(/steps ahead must be a whole number/);
    f.dispose();
  });

  it('keeps the live tensor count flat while forecasting', () => {
    const f = forecaster({ linear: true, horizon: 2 });
    f.forecastAhead([series.slice(0, 72)], 4);
    const before = tf.memory().numTensors;
    f.forecastAhead([series.slice(0, 72)], 8);
    f.forecastWindows([Float32Array.from(series.slice(0, 18))]);
    expect(tf.memory().numTensors).toBe(before);
    f.dispose();
  });

  it('refuses a linear part in sequence mode and a window too short for the differencing', () => {
    const f = forecaster({ linear: false });
    expect(
      () =>
        new SeriesForecaster(
          new Forecaster({ ...DEFAULT_FORECASTER_CONFIG, inputSize: 1, targets: 1, mode: 'sequence' }),
          {
            ...f.settings,
            linear: [
              LinearAutoregression.fit(
                [
                  { input: [1, 2], target: [3] },
                  { input: [2, 4], target: [5] },
                  { input: [0, 1], target: [1.5] },
                ],
                { order: 2 },
              ),
            ],
          },
        ),
    ).toThrow(/needs vector mode/);
    expect(() => f.forecastWindows([new Float32Array(12)])).toThrow(ForecastInputError);
    expect(() => f.forecastAhead([series.slice(0, 10)], 1)).toThrow(/fewer than the model's window of 18/);
    f.dispose();
  });
});

describe('SeriesForecaster misuse', () => {
  it('refuses a window batch size that would loop forever (0) or forecast nothing (NaN)', () => {
    const f = forecaster({ linear: false });
    const windows = makeWindows([series], { window: f.rawWindow, horizon: 1 }).slice(0, 3);
    const inputs = windows.map((w) => Float32Array.from(w.input));
    for (const bad of [0, NaN, -3, 0.5]) expect(() => f.forecastWindows(inputs, bad)).toThrow(RangeError);
    expect(f.forecastWindows(inputs, 1)).toEqual(f.forecastWindows(inputs));
    f.dispose();
  });
});
