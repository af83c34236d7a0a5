// The flags of `translate forecast train|eval`: the series flags both share, the training flags of `forecast train`,
// and their mapping onto a partial forecaster config (and the config a checkpoint saved).
import { Option, type Command } from 'commander';
import { int, positive, collectInts } from './flags.js';
import {
  addHeadTrainingFlags,
  addStackFlags,
  stackLayer,
  trainingLayer,
  type HeadTrainFlags,
  type StackFlags,
} from './headTraining.js';
import { ConfigError, pickDefined, isPlainObject } from '../train/config.js';
import {
  FORECAST_CONFIG,
  FORECAST_DATA_DEFAULTS,
  FORECAST_MODEL_DEFAULTS,
  FORECAST_TRAINING_DEFAULTS,
  FORECAST_VALIDATION_DEFAULTS,
  type PartialForecastTrainConfig,
} from '../heads/forecaster/config.js';

/** Where the series comes from: a CSV, or the synthetic sines. */
export interface SeriesFlags {
  csv?: string;
  synthetic?: 'sines';
  index?: string;
  columns?: string[];
  test?: number;
  ahead?: number;
  dataSeed?: number;
}

/** The series flags train and eval share: with defaults for eval, optional (config file) for train. */
export function addSeriesFlags(c: Command, withDefaults: boolean): Command {
  const d = FORECAST_DATA_DEFAULTS;
  const shown = (x: number) => (withDefaults ? '' : ` (default: ${x})`);
  const value = (x: number) => (withDefaults ? [x] : []);
  const sines =
    'the two-sines task of Géron\'s "Hands-On Machine Learning" instead of a CSV: ' +
    'two sines plus noise, 50 steps, 7,000/2,000/1,000 series';
  return c
    .option('--csv <file>', 'series: a CSV with a header, an index (date) column and value columns')
    .option('--index <column>', 'index column by name or position, or "none" (default: the first column)')
    .option('--columns <names...>', 'value columns to read (default: all but the index)')
    .option('--test <n>', `rows at the end held out for testing${shown(d.test)}`, int('--test', 0), ...value(d.test))
    .addOption(new Option('--synthetic <task>', sines).choices(['sines']))
    .option(
      '--ahead <k>',
      `--synthetic: values to predict after the 50 steps${shown(d.ahead)}`,
      int('--ahead'),
      ...value(d.ahead),
    )
    .option(
      '--data-seed <n>',
      `--synthetic: seed of the generated series${shown(d.dataSeed)}`,
      int('--data-seed', 0),
      ...value(d.dataSeed),
    );
}

export interface ForecastTrainFlags extends HeadTrainFlags, SeriesFlags, StackFlags {
  targets?: string[];
  window?: number;
  horizon?: number;
  mode?: 'vector' | 'sequence';
  valid?: number;
  scale?: 'standard' | 'minmax' | 'none';
  log?: boolean;
  boxCox?: boolean;
  difference?: number[];
  linearPart?: number;
  select?: boolean;
  selectWindows?: number[];
  budgetMinutes?: number;
  origins?: number;
  originStep?: number;
  originHorizon?: number;
  season?: number;
  seeds?: number;
}

/** The flags given, as a partial config (flags not given are absent, so the config file's values stand). */
export function forecastFlagsToConfig(f: ForecastTrainFlags): PartialForecastTrainConfig {
  if (f.log && f.boxCox) throw new ConfigError('--log and --box-cox both choose the power transform: give one');
  const power = f.log ? ('log' as const) : f.boxCox ? ('box-cox' as const) : undefined;
  const config: PartialForecastTrainConfig = {
    data: pickDefined({
      csv: f.csv,
      synthetic: f.synthetic,
      index: f.index,
      columns: f.columns,
      targets: f.targets,
      test: f.test,
      valid: f.valid,
      ahead: f.ahead,
      dataSeed: f.dataSeed,
      window: f.window,
      scale: f.scale,
      power,
      differences: f.difference,
      batchSize: f.batchSize,
      seed: f.seed,
    }),
    model: {
      ...pickDefined({
        horizon: f.horizon,
        mode: f.mode,
        hiddenSize: f.hidden,
        linearOrder: f.linearPart,
        seed: f.seed,
      }),
      ...(f.cell !== undefined ? { cell: { kind: f.cell } } : {}),
      ...stackLayer(f),
    },
    training: trainingLayer(f),
    validation: pickDefined({
      seeds: f.seeds,
      select: f.select,
      selectWindows: f.selectWindows,
      budgetMinutes: f.budgetMinutes,
      origins: f.origins,
      originStep: f.originStep,
      originHorizon: f.originHorizon,
      season: f.season,
    }),
  };
  return FORECAST_CONFIG.check(config, 'command-line flags');
}

/** A checkpoint's saved config: `{ config }`, or the `{ flags }` that runs saved before configs existed. */
export function forecastSavedConfig(saved: unknown): PartialForecastTrainConfig | null {
  if (!isPlainObject(saved)) return null;
  if (isPlainObject(saved['config'])) return saved['config'];
  if (isPlainObject(saved['flags']))
    return forecastFlagsToConfig({ set: [], out: '', ...(saved['flags'] as Partial<ForecastTrainFlags>) });
  return null;
}

/** The flags of `forecast train` after the run-config flags: training, series, model, selection, seeds, stack. */
export function addForecastTrainFlags(train: Command): Command {
  const [d, m, v] = [FORECAST_DATA_DEFAULTS, FORECAST_MODEL_DEFAULTS, FORECAST_VALIDATION_DEFAULTS];
  addSeriesFlags(
    addHeadTrainingFlags(train, { training: FORECAST_TRAINING_DEFAULTS, batchSize: d.batchSize, hidden: m.hiddenSize }),
    false,
  )
    .option('--targets <names...>', 'columns to predict (default: all value columns)')
    .option('--window <n>', `steps per input window (default: ${d.window})`, int('--window'))
    .option('--horizon <k>', `values predicted after each step (default: ${m.horizon})`, int('--horizon'))
    .addOption(
      new Option(
        '--mode <mode>',
        'vector: predict k after the last step; sequence: the next k at every ' + 'step (default: vector)',
      ).choices(['vector', 'sequence']),
    )
    .option(
      '--valid <n>',
      'training rows at their end used for validation windows (default: 0: validate on the ' + 'training windows)',
      int('--valid', 0),
    )
    .addOption(
      new Option('--scale <kind>', `scaling fitted on the training rows (default: ${d.scale})`).choices([
        'standard',
        'minmax',
        'none',
      ]),
    )
    .option('--log', 'model log values (positive series with multiplicative seasonality)')
    .option('--box-cox', 'Box-Cox transform, λ by maximum likelihood on the training rows (positive series)')
    .option(
      '--difference <lags...>',
      'difference at these lags in turn after the transform, e.g. 1 ' + '12',
      collectInts('--difference'),
    )
    .option(
      '--linear-part <p>',
      "add a linear AR(p) to the network's output, which learns its residual (vector " + 'mode; default: 0 = none)',
      int('--linear-part', 0),
    )
    .option(
      '--select',
      'choose transform, differencing, linear part and direct/recursive by rolling-origin ' +
        'validation on the training rows',
    )
    .option(
      '--select-windows <n...>',
      '--select: window lengths to try (default: ' + '--window)',
      collectInts('--select-windows'),
    )
    .option(
      '--budget-minutes <m>',
      `--select: stop trying candidates after this long (default: ${v.budgetMinutes})`,
      positive('--budget-minutes'),
    )
    .option('--origins <n>', `--select: rolling origins (default: ${v.origins})`, int('--origins'))
    .option('--origin-step <n>', `--select: rows between origins (default: ${v.originStep})`, int('--origin-step'))
    .option(
      '--origin-horizon <n>',
      '--select: rows forecast after each origin (default: --test, or ' + '--season)',
      int('--origin-horizon'),
    )
    .option(
      '--season <n>',
      `season length: seasonal differencing in --select, the seasonal naive baseline (default: ${v.season})`,
      int('--season'),
    )
    .option(
      '--seeds <n>',
      'train this many seeds (--seed, --seed + 1, …; each in --out/seed-N) and report the test ' +
        "RMSE's mean ± sd and paired differences with the baselines (default: 1)",
      int('--seeds'),
    );
  return addStackFlags(train);
}
