// The configuration of a `translate forecast train` run: sections data, model, training and validation, each with
// documented defaults, layered as every task's config is (src/train/config.ts): defaults ← a JSON file ← flags ←
// `--set section.path=value`. The forecaster's loss is the mean squared error: there is no loss section.
//
//   {
//     "data":       { "csv": "airline.csv", "test": 12, "window": 12, "power": "log", "differences": [12], … },
//     "model":      { "hiddenSize": 64, "horizon": 1, "mode": "vector", "linearOrder": 12, … },
//     "training":   { "steps": 3000, "evalEvery": 250, "learningRate": 0.003, … },
//     "validation": { "seeds": 3, "select": true, "origins": 3, "season": 12, … }
//   }
import { DEFAULT_TRAINING_OPTIONS, type TrainingOptions } from '../../train/options.js';
import {
  ConfigError,
  SectionedConfig,
  TRAINING_SCHEMA,
  type FieldType,
  type PartialConfig,
} from '../../train/config.js';
import { CELL_KINDS, type CellKind } from '../../recurrent/cell.js';
import { NO_DROPOUT, type DropoutOptions } from '../../layers/dropout.js';

export interface ForecastDataConfig {
  /** The series: a CSV with a header, an index (date) column and value columns. */
  csv?: string;
  /** Instead of a CSV, the two-sines task of Géron's "Hands-On Machine Learning" (50 steps, 7,000/2,000/1,000 series). */
  synthetic?: 'sines';
  /** Index column by name or position, or "none" (default: the first column). */
  index?: string;
  /** Value columns to read (default: all but the index). */
  columns?: string[];
  /** Columns to predict (default: all value columns). */
  targets?: string[];
  /** Rows at the end held out for testing (default 0). */
  test: number;
  /** Training rows at their end used for validation windows (default 0: validate on the training windows). */
  valid: number;
  /** `synthetic`: values to predict after the 50 steps (default 1). */
  ahead: number;
  /** `synthetic`: seed of the generated series (default 1). */
  dataSeed: number;
  /** Steps per input window (default 12). */
  window: number;
  /** Scaling fitted on the training rows (default "standard"). */
  scale: 'standard' | 'minmax' | 'none';
  /** Power transform: "none" (default), "log", or "box-cox" with λ by maximum likelihood on the training rows. */
  power: 'none' | 'log' | 'box-cox';
  /** Differencing lags applied in turn after the power transform, e.g. [1, 12] (default []). */
  differences: number[];
  /** Windows per training batch (default 32). */
  batchSize: number;
  /** Seed of the order of training windows (default 1). */
  seed: number;
}

export interface ForecastModelConfig {
  /** Values predicted after each step (default 1). */
  horizon: number;
  /** 'vector': predict the horizon after the last step (default); 'sequence': the next values at every step. */
  mode: 'vector' | 'sequence';
  /** Recurrent units (default 64). */
  hiddenSize: number;
  /** The recurrent cell (default { "kind": "gru" }). */
  cell: { kind: CellKind };
  /** Stacked recurrent layers (default 1). */
  layers: number;
  /** Keep probabilities of layer inputs, outputs and state in training (default 1: none). */
  dropout: DropoutOptions;
  /** Order of a linear AR added to the network's output, which learns its residual (vector mode; default 0: none). */
  linearOrder: number;
  /** Seed of the initial weights (default 1). */
  seed: number;
}

export interface ForecastValidationConfig {
  /** Train this many seeds (seed, seed + 1, …) and report the test RMSE's mean ± sd (default 1). */
  seeds: number;
  /** Choose transform, differencing, linear part and direct/recursive by rolling-origin validation (default false). */
  select: boolean;
  /** `select`: window lengths to try (default: data.window). */
  selectWindows?: number[];
  /** `select`: stop trying candidates after this long (default 10). */
  budgetMinutes: number;
  /** `select`: rolling origins (default 3). */
  origins: number;
  /** `select`: rows between origins (default 12). */
  originStep: number;
  /** `select`: rows forecast after each origin (default: data.test, or season). */
  originHorizon?: number;
  /** Season length: seasonal differencing in `select`, the seasonal naive baseline (default 12). */
  season: number;
}

export interface ForecastTrainConfig {
  data: ForecastDataConfig;
  model: ForecastModelConfig;
  training: TrainingOptions;
  validation: ForecastValidationConfig;
}

export type PartialForecastTrainConfig = PartialConfig<ForecastTrainConfig>;

export const FORECAST_DATA_DEFAULTS: ForecastDataConfig = {
  test: 0,
  valid: 0,
  ahead: 1,
  dataSeed: 1,
  window: 12,
  scale: 'standard',
  power: 'none',
  differences: [],
  batchSize: 32,
  seed: 1,
};

export const FORECAST_MODEL_DEFAULTS: ForecastModelConfig = {
  horizon: 1,
  mode: 'vector',
  hiddenSize: 64,
  cell: { kind: 'gru' },
  layers: 1,
  dropout: NO_DROPOUT,
  linearOrder: 0,
  seed: 1,
};

/** Adam 3e-3, 3,000 steps, validation every 250; best/ by validation MSE; no early stopping. */
export const FORECAST_TRAINING_DEFAULTS: TrainingOptions = {
  ...DEFAULT_TRAINING_OPTIONS,
  steps: 3000,
  evalEvery: 250,
  learningRate: 3e-3,
  metric: 'mse',
  earlyStopping: { patience: 0 },
};

export const FORECAST_VALIDATION_DEFAULTS: ForecastValidationConfig = {
  seeds: 1,
  select: false,
  budgetMinutes: 10,
  origins: 3,
  originStep: 12,
  season: 12,
};

const DATA_SCHEMA: Record<keyof ForecastDataConfig, FieldType> = {
  csv: 'string',
  synthetic: ['sines'],
  index: 'string',
  columns: 'string[]',
  targets: 'string[]',
  test: 'integer',
  valid: 'integer',
  ahead: 'integer',
  dataSeed: 'integer',
  window: 'integer',
  scale: ['standard', 'minmax', 'none'],
  power: ['none', 'log', 'box-cox'],
  differences: 'integer[]',
  batchSize: 'integer',
  seed: 'integer',
};

const MODEL_SCHEMA: Record<keyof ForecastModelConfig, FieldType> = {
  horizon: 'integer',
  mode: ['vector', 'sequence'],
  hiddenSize: 'integer',
  cell: { kind: CELL_KINDS },
  layers: 'integer',
  dropout: { inputKeep: 'number', outputKeep: 'number', stateKeep: 'number' },
  linearOrder: 'integer',
  seed: 'integer',
};

const VALIDATION_SCHEMA: Record<keyof ForecastValidationConfig, FieldType> = {
  seeds: 'integer',
  select: 'boolean',
  selectWindows: 'integer[]',
  budgetMinutes: 'number',
  origins: 'integer',
  originStep: 'integer',
  originHorizon: 'integer',
  season: 'integer',
};

export const FORECAST_CONFIG = new SectionedConfig<ForecastTrainConfig>({
  sections: { data: DATA_SCHEMA, model: MODEL_SCHEMA, training: TRAINING_SCHEMA, validation: VALIDATION_SCHEMA },
  defaults: {
    data: FORECAST_DATA_DEFAULTS,
    model: FORECAST_MODEL_DEFAULTS,
    training: FORECAST_TRAINING_DEFAULTS,
    validation: FORECAST_VALIDATION_DEFAULTS,
  },
});

/** Defaults ← each layer in order (file, flags, --set); a series (csv or synthetic) is required. */
export function resolveForecastConfig(layers: readonly PartialForecastTrainConfig[]): ForecastTrainConfig {
  const config = FORECAST_CONFIG.resolve(layers);
  const d = config.data;
  if (d.csv === undefined && d.synthetic === undefined)
    throw new ConfigError('give a series: --csv FILE (or --synthetic sines)');
  if (!(Number.isInteger(config.validation.seeds) && config.validation.seeds >= 1)) {
    throw new ConfigError(`validation.seeds must be ≥ 1 (got ${config.validation.seeds})`);
  }
  if (d.synthetic === 'sines' && (config.validation.select || config.validation.seeds > 1)) {
    throw new ConfigError(
      '--select and --seeds work on a --csv series (rolling origins need one series), not ' + '--synthetic sines',
    );
  }
  return config;
}
