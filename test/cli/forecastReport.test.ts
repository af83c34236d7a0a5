import { describe, it, expect } from 'vitest';
import {
  describeForecast,
  sinesRunSummary,
  seriesRunSummary,
  candidateLine,
  selectionReport,
  seedTestLine,
  forecastRunsReport,
  stepsAhead,
  sinesEvalReport,
  seriesEvalHeader,
  targetRmseTable,
  forecastCsvRows,
} from '../../src/cli/forecastReport.js';
import { DEFAULT_RECIPE, type SelectionCandidate } from '../../src/heads/forecaster/forecastRecipe.js';
import type { ForecastScores } from '../../src/heads/forecaster/baselines.js';

const shape = { horizon: 3, mode: 'vector' as const, layers: 2, cell: { kind: 'gru' as const }, hiddenSize: 16 };
const windows = { trainWindows: 72, validWindows: 10, window: 12 };

const candidate = (over: Partial<typeof DEFAULT_RECIPE>, rmse: number[]): SelectionCandidate => ({
  recipe: { ...DEFAULT_RECIPE, ...over },
  score: { origins: [50, 62], rmse, mean: rmse.reduce((a, b) => a + b, 0) / rmse.length },
});

const scores = (mse: number, lastStepMse: number): ForecastScores => ({
  mse,
  rmse: Math.sqrt(mse),
  mae: 0,
  mseByStep: [mse],
  lastStepMse,
});

describe('forecast reports', () => {
  it('describeForecast: the validation metrics, a missing one as a dash', () => {
    expect(describeForecast({ loss: 0.5, mse: 0.25, rmse: 0.5, lastStepMse: 0.125 })).toBe(
      'loss 0.5000, mse 0.25000, rmse 0.5000, last-step mse 0.12500',
    );
    expect(describeForecast({ loss: 1 })).toBe('loss 1.0000, mse —, rmse —, last-step mse —');
  });

  it('the run summaries: windows, horizon and mode, layers × cell, units, weights with thousands separators', () => {
    expect(sinesRunSummary(windows, shape, 12345)).toBe(
      'data: 72 training windows, 10 validation windows; window 12, horizon 3, vector mode\n' +
        'model: 2×gru 16 units, 12,345 weights\n',
    );
    const run = { weights: 1234567, seed: 4, noValidRows: false, recipe: 'window 12, none' };
    expect(seriesRunSummary(windows, shape, run)).toBe(
      'data: 72 training windows, 10 validation windows; horizon 3, vector mode\n' +
        'model: 2×gru 16 units, 1,234,567 weights, seed 4; window 12, none\n',
    );
    expect(seriesRunSummary(windows, shape, { ...run, noValidRows: true })).toMatch(
      /^data: 72 training windows, 10 validation windows \(the training windows: no --valid rows\); horizon 3/,
    );
  });

  it('candidateLine: the recipe, its fold RMSEs to one decimal and their mean to two', () => {
    expect(candidateLine(candidate({ power: 'log' }, [1.26, 2.04]), 2, 5)).toBe(
      'candidate 2/5: window 12, log, no diff, GRU 16, recursive: rolling-origin RMSE 1.3, 2.0 (mean 1.65)\n',
    );
  });

  it('selectionReport: lowest mean first, the choice and the best linear model marked, skipped candidates counted', () => {
    const net = candidate({}, [2, 4]);
    const linear = candidate({ linearOnly: true, linearOrder: 12 }, [1, 2]);
    const worse = candidate({ power: 'box-cox' }, [5, 7]);
    const text = selectionReport({ candidates: [worse, net, linear], best: net, bestLinear: linear, skipped: 3 });
    const lines = text.split('\n');
    expect(lines[0]).toBe(
      'rolling-origin validation on the training rows: origins at rows 50, 62; RMSE of each fold, mean',
    );
    expect(lines[1]).toBe(
      `  ${'window 12, none, no diff, AR(12) alone, recursive'.padEnd(55)}     1.0    2.0  mean 1.50  ← best linear alone`,
    );
    expect(lines[2]).toBe(
      `  ${'window 12, none, no diff, GRU 16, recursive'.padEnd(55)}     2.0    4.0  mean 3.00  ← selected`,
    );
    expect(lines[3]).toMatch(/box-cox.* {2}mean 6\.00$/);
    expect(lines[4]).toBe('(3 candidates not tried: the time budget ran out)');
    expect(lines[5]).toBe(
      'selected: window 12, none, no diff, GRU 16, recursive (mean rolling-origin RMSE 3.00; ' +
        'the best linear model alone: window 12, none, no diff, AR(12) alone, recursive, 1.50)',
    );
    expect(text.endsWith(')\n')).toBe(true);
    const alone = selectionReport({ candidates: [net], best: net, bestLinear: null, skipped: 0 });
    expect(alone).not.toMatch(/not tried|best linear/);
    expect(alone).toMatch(
      /\nselected: window 12, none, no diff, GRU 16, recursive \(mean rolling-origin RMSE 3\.00\)\n$/,
    );
  });

  it('seedTestLine and forecastRunsReport: mean ± sd over seeds, and model − baseline with its standard error', () => {
    expect(seedTestLine(3, 12, 'passengers', 10.456)).toBe('seed 3: RMSE of the last 12 rows (passengers) 10.46\n');
    const text = forecastRunsReport(
      [10, 12],
      [
        { name: 'naive (last value)', rmse: 15 },
        { name: 'seasonal naive (12)', rmse: 9 },
      ],
    );
    const lines = text.split('\n');
    expect(lines[0]).toBe('test RMSE over 2 seeds: 11.00 ± 1.41 (mean ± sd)');
    expect(lines[1]).toBe(
      `  vs ${'naive (last value)'.padEnd(52)} 15.00: model − baseline -4.00 (standard error 1.00)`,
    );
    expect(lines[2]).toBe(
      `  vs ${'seasonal naive (12)'.padEnd(52)} 9.00: model − baseline +2.00 (standard error 1.00)`,
    );
    expect(lines).toHaveLength(4);
    expect(forecastRunsReport([7], [])).toBe('test RMSE over 1 seed: 7.00 ± 0.00 (mean ± sd)\n');
  });

  it('the eval reports: sines MSE table, the CSV rows forecast, and one RMSE table per target', () => {
    expect(stepsAhead(1)).toBe('1 step ahead');
    expect(stepsAhead(10)).toBe('10 steps ahead');
    expect(
      sinesEvalReport({
        dataSeed: 5,
        series: 1000,
        horizon: 10,
        order: 50,
        linearHorizon: 1,
        model: scores(0.01, 0.02),
        naive: scores(0.5, 0.75),
        linear: scores(0.05, 0.125),
      }),
    ).toBe(
      'sines (seed 5), 1000 test series, 10 steps ahead: MSE over all steps / of the last step\n' +
        '  model              0.0100 / 0.0200\n' +
        '  naive (last value) 0.5000 / 0.7500\n' +
        '  linear AR(50), horizon 1: 0.0500 / 0.1250\n',
    );
    expect(seriesEvalHeader('a.csv', ['m0', 'm1', 'm2', 'm3', 'm4'], 2)).toBe(
      'a.csv: forecasting the last 2 of 5 rows (m3 … m4) from the 3 before them\n',
    );
    expect(
      targetRmseTable('passengers', [
        ['model', 1.234],
        ['naive (last value)', 20],
      ]),
    ).toBe(`  passengers: RMSE\n    ${'model'.padEnd(28)} 1.23\n    ${'naive (last value)'.padEnd(28)} 20.00\n`);
  });

  it('forecastCsvRows: a header of the targets, one row per step ahead, six significant digits; later chunks go on', () => {
    expect(forecastCsvRows(['a', 'b'], [Float32Array.of(1, 2.5), [1234567, 0.000123456]], 0)).toBe(
      'step,a,b\n1,1.00000,1.23457e+6\n2,2.50000,0.000123456\n',
    );
    expect(forecastCsvRows(['a'], [[7, 8]], 2)).toBe('3,7.00000\n4,8.00000\n');
    // Chunks joined are the CSV of the whole forecast.
    const whole = forecastCsvRows(['a'], [[1, 2, 3, 4, 5]], 0);
    expect(forecastCsvRows(['a'], [[1, 2]], 0) + forecastCsvRows(['a'], [[3, 4, 5]], 2)).toBe(whole);
  });
});
