import { describe, it, expect } from 'vitest';
import { FORECAST_CONFIG, resolveForecastConfig } from '../../../src/heads/forecaster/config.js';

describe('forecast train config', () => {
  it('has documented defaults: window 12, standard scaling, no transform, a 64-unit GRU, 3,000 steps by MSE, one seed', () => {
    const c = resolveForecastConfig([{ data: { csv: 's.csv' } }]);
    expect(c.data).toMatchObject({
      csv: 's.csv',
      test: 0,
      valid: 0,
      window: 12,
      scale: 'standard',
      power: 'none',
      differences: [],
      batchSize: 32,
    });
    expect(c.model).toMatchObject({
      horizon: 1,
      mode: 'vector',
      hiddenSize: 64,
      cell: { kind: 'gru' },
      layers: 1,
      linearOrder: 0,
    });
    expect(c.training).toMatchObject({ steps: 3000, evalEvery: 250, learningRate: 3e-3, metric: 'mse' });
    expect(c.validation).toMatchObject({
      seeds: 1,
      select: false,
      budgetMinutes: 10,
      origins: 3,
      originStep: 12,
      season: 12,
    });
  });

  it('checks choices and lists, needs a series, and keeps --select and --seeds to CSV series', () => {
    expect(() => FORECAST_CONFIG.parseSet('model.cell.kind=tcn')).toThrow(
      '"model.cell.kind" must be one of "gru", "lstm", "rnn"',
    );
    expect(() => FORECAST_CONFIG.parseSet('data.power=sqrt')).toThrow(
      /"data.power" must be one of "none", "log", "box-cox"/,
    );
    expect(FORECAST_CONFIG.parseSet('validation.selectWindows=[6,12]')).toEqual({
      validation: { selectWindows: [6, 12] },
    });
    expect(() => resolveForecastConfig([])).toThrow('give a series: --csv FILE (or --synthetic sines)');
    expect(() => resolveForecastConfig([{ data: { synthetic: 'sines' }, validation: { select: true } }])).toThrow(
      /not --synthetic sines/,
    );
    expect(() => resolveForecastConfig([{ data: { csv: 's.csv' }, validation: { seeds: 0 } }])).toThrow(
      /validation\.seeds must be ≥ 1/,
    );
  });
});
