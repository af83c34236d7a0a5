import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../../helpers/backend.js';
import {
  prepareForecaster,
  fitForecaster,
  rollingOrigins,
  rollingOriginScore,
  selectRecipe,
  selectionGrid,
  describeRecipe,
  ForecastRecipeError,
} from '../../../src/heads/forecaster/forecastRecipe.js';
import { scoreForecasts } from '../../../src/heads/forecaster/baselines.js';

beforeAll(useTestBackend);

// Trend × season × cycle: log + seasonal differencing leaves a constant plus a sinusoid (AR-predictable).
const season = [0.1, -0.05, 0.2, 0.0, -0.1, 0.15, 0.3, 0.25, 0.05, -0.2, -0.15, 0.05];
const series = Float64Array.from(
  { length: 96 },
  (_, t) => 100 * Math.exp(0.01 * t + season[t % 12]! + 0.05 * Math.sin(1.3 * t)),
);
const data = (rows: number) => ({ names: ['y'], columns: [series.slice(0, rows)] });

describe('rolling origins', () => {
  it('the last origin leaves exactly the horizon inside the training rows; earlier ones step back', () => {
    expect(rollingOrigins(120, { origins: 3, step: 12, horizon: 24 })).toEqual([72, 84, 96]);
    expect(() => rollingOrigins(30, { origins: 3, step: 12, horizon: 24 })).toThrow(ForecastRecipeError);
  });

  it('scores a recipe only on the rows before each origin: the linear part alone continues an AR-predictable series exactly', () => {
    const s = rollingOriginScore(
      data(84),
      { power: 'log', differences: [12], window: 6, linearOrder: 6, horizon: 1, linearOnly: true },
      { origins: 2, step: 6, horizon: 12 },
    );
    expect(s.origins).toEqual([66, 72]);
    s.rmse.forEach((r) => expect(r).toBeLessThan(1e-3));
    // Without the transform the same linear model cannot follow the growing season.
    const raw = rollingOriginScore(
      data(84),
      { window: 6, linearOrder: 6, horizon: 1, linearOnly: true },
      { origins: 2, step: 6, horizon: 12 },
    );
    expect(raw.mean).toBeGreaterThan(1);
  });

  it('training the network lowers its error on the training windows, and no tensor outlives a fold', () => {
    const before = tf.memory().numTensors;
    const recipe = { power: 'log' as const, differences: [12], window: 6, hidden: 8, steps: 60, learningRate: 0.01 };
    const { forecaster, windows } = prepareForecaster(data(72), recipe);
    const examples = windows.map((w) => ({ input: w.input, target: w.target }));
    const error = () =>
      scoreForecasts(
        forecaster.forecastWindows(examples.map((e) => e.input)),
        examples.map((e) => e.target),
      ).rmse;
    const untrained = error();
    fitForecaster(forecaster, windows, recipe);
    expect(error()).toBeLessThan(untrained / 2);
    forecaster.dispose();
    rollingOriginScore(data(72), { ...recipe, steps: 5 }, { origins: 1, horizon: 6 });
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('selection', () => {
  it('the grid holds each pipeline as linear alone, linear + network and network alone', () => {
    const grid = selectionGrid({ window: 12 }, 12, 24);
    expect(grid).toHaveLength(3 * 24);
    expect(new Set(grid.map(describeRecipe)).size).toBe(grid.length);
    expect(grid.filter((r) => r.linearOnly).every((r) => r.linearOrder === 12)).toBe(true);
    const two = selectionGrid({ window: 12 }, 12, 24, [12, 24]);
    expect(two).toHaveLength(2 * 3 * 24);
    expect(two.filter((r) => r.window === 24 && r.linearOrder > 0).every((r) => r.linearOrder === 24)).toBe(true);
  });

  it('stops starting candidates when the time budget is spent, and says so when no network was scored', () => {
    let clock = 0;
    let tried = 0;
    // The clock advances 1 s per reading (at the start, then before each candidate): 1 s and 2 s are within a 2.5 s
    // budget, 3 s is not, so two candidates run.
    expect(() =>
      selectRecipe(
        data(84),
        { window: 6, hidden: 4, steps: 2 },
        {
          budgetSeconds: 2.5,
          season: 12,
          rollingOrigin: { origins: 1, step: 6, horizon: 6 },
          now: () => (clock += 1000) - 1000,
          onCandidate: () => tried++,
        },
      ),
    ).toThrow(/no network candidate was scored within the budget of 2.5 s/);
    expect(tried).toBe(2);
  });

  it('the chosen candidate is the lowest mean among networks', () => {
    const result = selectRecipe(
      data(60),
      { window: 6, hidden: 4, steps: 3 },
      { budgetSeconds: 1e6, season: 12, rollingOrigin: { origins: 1, step: 6, horizon: 6 } },
    );
    const networks = result.candidates.filter((c) => !c.recipe.linearOnly);
    expect(result.best.score.mean).toBe(Math.min(...networks.map((c) => c.score.mean)));
    expect(result.best.recipe.linearOnly).toBe(false);
    expect(result.bestLinear!.recipe.linearOnly).toBe(true);
  }, 60_000);

  it('skips the pipelines a series does not allow: no log or Box-Cox of a series that touches zero', () => {
    const withZero = { names: ['y'], columns: [Float64Array.from(series.slice(0, 60), (v, t) => (t === 3 ? 0 : v))] };
    const result = selectRecipe(
      withZero,
      { window: 6, hidden: 4, steps: 1 },
      { budgetSeconds: 1e6, season: 12, rollingOrigin: { origins: 1, step: 6, horizon: 6 } },
    );
    expect(result.candidates.length).toBe(24);
    expect(result.candidates.every((c) => c.recipe.power === 'none')).toBe(true);
  }, 60_000);
});
