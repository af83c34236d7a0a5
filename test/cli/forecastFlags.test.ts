import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import {
  addForecastTrainFlags,
  addSeriesFlags,
  forecastFlagsToConfig,
  forecastSavedConfig,
  type ForecastTrainFlags,
} from '../../src/cli/forecastFlags.js';
import { ConfigError } from '../../src/train/config.js';

const command = (): Command => new Command('t').exitOverride().configureOutput({ writeErr: () => undefined });
const base = { set: [], out: 'runs/x' };

describe('forecast flags', () => {
  it('forecastFlagsToConfig: only the flags given, each in its section; --seed seeds data, model and training', () => {
    expect(forecastFlagsToConfig(base)).toEqual({ data: {}, model: {}, training: {}, validation: {} });
    expect(
      forecastFlagsToConfig({
        ...base,
        log: true,
        difference: [1, 12],
        seed: 3,
        linearPart: 2,
        cell: 'lstm',
        select: true,
        steps: 9,
      }),
    ).toEqual({
      data: { power: 'log', differences: [1, 12], seed: 3 },
      model: { linearOrder: 2, seed: 3, cell: { kind: 'lstm' } },
      training: { steps: 9, seed: 3 },
      validation: { select: true },
    });
    expect(forecastFlagsToConfig({ ...base, boxCox: true }).data).toEqual({ power: 'box-cox' });
  });

  it('forecastFlagsToConfig: --log with --box-cox is a config error', () => {
    expect(() => forecastFlagsToConfig({ ...base, log: true, boxCox: true })).toThrow(ConfigError);
    expect(() => forecastFlagsToConfig({ ...base, log: true, boxCox: true })).toThrow(
      '--log and --box-cox both choose the power transform: give one',
    );
  });

  it("forecastSavedConfig: a checkpoint's { config }, or the { flags } of older runs, else null", () => {
    const config = { data: { window: 6 } };
    expect(forecastSavedConfig({ config })).toBe(config);
    expect(forecastSavedConfig({ flags: { window: 6, horizon: 2 } })).toEqual({
      data: { window: 6 },
      model: { horizon: 2 },
      training: {},
      validation: {},
    });
    expect(forecastSavedConfig(null)).toBeNull();
    expect(forecastSavedConfig({ other: 1 })).toBeNull();
  });

  it('addSeriesFlags: defaults for eval, none for train (a config file stands) but shown in the help', () => {
    const evalFlags = addSeriesFlags(command(), true);
    evalFlags.parse([], { from: 'user' });
    expect(evalFlags.opts()).toEqual({ test: 0, ahead: 1, dataSeed: 1 });
    const trainFlags = addSeriesFlags(command(), false);
    trainFlags.parse([], { from: 'user' });
    expect(trainFlags.opts()).toEqual({});
    expect(trainFlags.helpInformation()).toMatch(/rows at the end held out for testing \(default: 0\)/);
    expect(evalFlags.options.find((o) => o.long === '--synthetic')?.description).toBe(
      'the two-sines task of Géron\'s "Hands-On Machine Learning" instead of a CSV: two sines plus noise, 50 steps, ' +
        '7,000/2,000/1,000 series',
    );
  });

  it('addForecastTrainFlags: parses repeatable and checked flags; a bad value names its flag', () => {
    const c = addForecastTrainFlags(command());
    c.parse(['--difference', '1', '12', '--window', '24', '--log', '--mode', 'sequence', '--seeds', '3'], {
      from: 'user',
    });
    const opts = c.opts<ForecastTrainFlags>();
    expect(opts.difference).toEqual([1, 12]);
    expect(opts).toMatchObject({ window: 24, log: true, mode: 'sequence', seeds: 3 });
    expect(() => addForecastTrainFlags(command()).parse(['--window', '0'], { from: 'user' })).toThrow(
      /--window must be an integer ≥ 1/,
    );
    expect(() => addForecastTrainFlags(command()).parse(['--mode', 'matrix'], { from: 'user' })).toThrow(
      /Allowed choices are vector, sequence/,
    );
    const help = addForecastTrainFlags(command()).helpInformation();
    for (const flag of ['--steps', '--csv', '--targets', '--select-windows', '--seeds', '--layers'])
      expect(help).toContain(flag);
  });
});
