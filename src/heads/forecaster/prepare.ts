// Everything between a `translate forecast train` config and the training loop. For a CSV series: read it, check
// the targets and the rows left for training, optionally select the recipe by rolling-origin validation, then per
// seed fit the transform, scaler and linear part on the training rows and build the model, wrapped as a
// ForecasterTask (validation windows end in the last data.valid training rows). For the two-sines task of Géron's
// "Hands-On Machine Learning": the generated windows, scaled, no transform. On resume the model and its fitted
// settings come from the checkpoint.
import { ModelConfigError } from '../../model/configChecks.js';
import { readTimeSeriesCsv, makeWindows, type TimeSeries, type WindowExample } from '../../data/series/timeSeries.js';
import { sinesDataset } from '../../data/series/sines.js';
import { Scaler } from '../../data/series/scaling.js';
import { SeriesTransform } from '../../data/series/seriesTransforms.js';
import { DEFAULT_CELL } from '../../recurrent/cell.js';
import type { SavedModelJson } from '../../model/modelFiles.js';
import type { Checkpoint } from '../../train/checkpoints.js';
import { ConfigError, type SavedRunConfig } from '../../train/config.js';
import { ToolkitError } from '../../errors.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from './forecaster.js';
import { ForecasterTask } from './forecasterTask.js';
import { SeriesForecaster, type ForecasterExtra } from './seriesForecaster.js';
import {
  DEFAULT_RECIPE,
  prepareForecaster,
  selectRecipe,
  type ForecastRecipe,
  type SelectionCandidate,
  type SelectionResult,
  type SeriesColumns,
} from './forecastRecipe.js';
import type { ForecastTrainConfig } from './config.js';

/** Where a series is read from: the CSV, its index column ("none", a name or a position) and value columns. */
export interface SeriesSource {
  csv?: string;
  index?: string;
  columns?: readonly string[];
}

/** Reads the CSV series of `source` (a column given by digits is a position). */
export async function readSeries(source: SeriesSource): Promise<TimeSeries> {
  if (source.csv === undefined) throw new ConfigError('give a series: --csv FILE (or --synthetic sines)');
  const index =
    source.index === undefined
      ? 0
      : source.index === 'none'
        ? null
        : /^\d+$/.test(source.index)
          ? Number(source.index)
          : source.index;
  const asColumn = (c: string): string | number => (/^\d+$/.test(c) ? Number(c) : c);
  return readTimeSeriesCsv(source.csv, {
    index,
    ...(source.columns !== undefined ? { values: source.columns.map(asColumn) } : {}),
  });
}

/** The recipe (ForecastRecipe) the config describes: transform, window, model and training of each candidate. */
export function recipeFromConfig(config: ForecastTrainConfig): ForecastRecipe {
  const { data: d, model: m, training: t } = config;
  return {
    ...DEFAULT_RECIPE,
    power: d.power,
    differences: d.differences,
    linearOrder: m.linearOrder,
    window: d.window,
    horizon: m.horizon,
    mode: m.mode,
    scale: d.scale,
    hidden: m.hiddenSize,
    cell: m.cell.kind,
    layers: m.layers,
    dropout: m.dropout,
    steps: t.steps,
    batchSize: d.batchSize,
    learningRate: t.learningRate,
    seed: m.seed,
  };
}

export interface PreparedForecaster {
  forecaster: SeriesForecaster;
  task: ForecasterTask;
  /** The run's effective config, saved in the checkpoint (model.json's training.config) for --resume. */
  saved: SavedRunConfig<ForecastTrainConfig>;
  summary: { trainWindows: number; validWindows: number; window: number };
}

/** The two-sines task: 50 steps, data.ahead values after them, 7,000 / 2,000 / 1,000 series (test kept for eval). */
export function prepareSines(config: ForecastTrainConfig, resume?: Checkpoint): PreparedForecaster {
  const { data: d, model: m } = config;
  const sines = sinesDataset({ ahead: d.ahead, mode: m.mode, seed: d.dataSeed });
  let forecaster: SeriesForecaster;
  if (resume !== undefined) {
    forecaster = SeriesForecaster.fromSaved(
      resume.json as SavedModelJson<never, ForecasterExtra>,
      resume.weights,
      `${resume.dir}/model.json`,
    );
  } else {
    const scaler =
      d.scale === 'none'
        ? null
        : Scaler.fit([Float64Array.from(sines.train.flatMap((e) => Array.from(e.input)))], { kind: d.scale });
    const model = new Forecaster({
      ...DEFAULT_FORECASTER_CONFIG,
      inputSize: 1,
      targets: 1,
      horizon: d.ahead,
      mode: m.mode,
      hiddenSize: m.hiddenSize,
      cell: { ...DEFAULT_CELL, kind: m.cell.kind },
      layers: m.layers,
      dropout: m.dropout,
      seed: m.seed,
    });
    forecaster = new SeriesForecaster(model, {
      scaler,
      transform: new SeriesTransform(),
      window: 50,
      inputs: ['value'],
      targets: ['value'],
      linear: null,
    });
  }
  try {
    const task = new ForecasterTask(
      forecaster,
      { train: sines.train, valid: sines.valid },
      { batchSize: d.batchSize, seed: d.seed },
    );
    return {
      forecaster,
      task,
      saved: { config },
      summary: { trainWindows: sines.train.length, validWindows: sines.valid.length, window: 50 },
    };
  } catch (e) {
    forecaster.dispose();
    throw e;
  }
}

/** A CSV series cut for training: the rows each part uses and the recipe (selected or as configured). */
export interface ForecastPlan {
  config: ForecastTrainConfig;
  series: TimeSeries;
  targets: string[];
  /** Rows before the test rows: training (fit) rows, then data.valid validation rows. */
  trainRows: number;
  fitRows: number;
  /** The fit rows, as the recipe fits transform, scaler and linear part on them. */
  fit: SeriesColumns;
  /** Every column's training rows (fit + validation): what test forecasts start from. */
  trainColumns: Float64Array[];
  /** The first target's position among the columns, and its held-out test rows. */
  target: number;
  truth: Float64Array;
  recipe: ForecastRecipe;
}

/** Reads the series and checks it leaves training rows; `resuming`: continue one run (no selection, no seeds). */
export async function planForecast(config: ForecastTrainConfig, resuming = false): Promise<ForecastPlan> {
  const { data: d, validation: v } = config;
  if (resuming && (v.select || v.seeds > 1))
    throw new ConfigError('--resume continues one run: it cannot be ' + 'combined with --select or --seeds');
  const series = await readSeries(d);
  const inputs = series.names;
  const targets = d.targets ?? inputs;
  for (const t of targets)
    if (!inputs.includes(t))
      throw new ConfigError(`--targets: "${t}" is not one of the value columns (${inputs.join(', ')})`);
  const n = series.index.length;
  const trainRows = n - d.test;
  const fitRows = trainRows - d.valid;
  if (fitRows < 2)
    throw new ConfigError(
      `${d.csv}: ${n} rows leave ${fitRows} training rows after --test ${d.test} and --valid ${d.valid}`,
    );
  const target = inputs.indexOf(targets[0]!);
  return {
    config,
    series,
    targets,
    trainRows,
    fitRows,
    target,
    fit: { names: inputs, targets, columns: series.columns.map((c) => c.slice(0, fitRows)) },
    trainColumns: series.columns.map((c) => c.slice(0, trainRows)),
    truth: series.columns[target]!.slice(trainRows),
    recipe: recipeFromConfig(config),
  };
}

/** Selects the recipe by rolling-origin validation on the training rows (validation.select); the plan takes the best. */
export function selectForecastRecipe(
  plan: ForecastPlan,
  onCandidate?: (c: SelectionCandidate, index: number, total: number) => void,
): SelectionResult {
  const { data: d, validation: v } = plan.config;
  const training = { names: plan.series.names, targets: plan.targets, columns: plan.trainColumns };
  const horizon = v.originHorizon ?? (d.test > 0 ? d.test : v.season);
  const selection = selectRecipe(training, plan.recipe, {
    budgetSeconds: v.budgetMinutes * 60,
    season: v.season,
    ...(v.selectWindows !== undefined ? { windows: v.selectWindows } : {}),
    rollingOrigin: { origins: v.origins, step: v.originStep, horizon },
    ...(onCandidate !== undefined ? { onCandidate } : {}),
  });
  plan.recipe = selection.best.recipe;
  return selection;
}

/** The i-th seed's config: data, model and training seeds moved on by i. */
export function forecastSeedConfig(config: ForecastTrainConfig, i: number): ForecastTrainConfig {
  return {
    ...config,
    data: { ...config.data, seed: config.data.seed + i },
    model: { ...config.model, seed: config.model.seed + i },
    training: { ...config.training, seed: config.training.seed + i },
  };
}

/** Builds the task of the i-th seed of a plan, new (`resume` absent) or continued from the checkpoint in `resume`. */
export function prepareForecastRun(plan: ForecastPlan, i: number, resume?: Checkpoint): PreparedForecaster {
  const config = forecastSeedConfig(plan.config, i);
  const d = config.data;
  let forecaster: SeriesForecaster;
  let trainRaw: WindowExample[];
  const windowsOf = (f: SeriesForecaster, columns: Float64Array[]): WindowExample[] =>
    makeWindows(columns, {
      window: f.rawWindow,
      horizon: f.model.config.horizon,
      mode: f.model.config.mode,
      targets: f.targetColumns,
    });
  if (resume !== undefined) {
    forecaster = SeriesForecaster.fromSaved(
      resume.json as SavedModelJson<never, ForecasterExtra>,
      resume.weights,
      `${resume.dir}/model.json`,
    );
    trainRaw = windowsOf(forecaster, plan.fit.columns);
  } else {
    try {
      ({ forecaster, windows: trainRaw } = prepareForecaster(plan.fit, { ...plan.recipe, seed: config.model.seed }));
    } catch (e) {
      // What the series cannot give names the CSV; a model field out of range is the config's, named as it is.
      if (e instanceof ToolkitError && !(e instanceof ModelConfigError))
        throw new ConfigError(`${d.csv}: ${e.message}`);
      throw e;
    }
  }
  try {
    // Validation windows end in the validation rows: they read the training rows before them.
    const validRaw =
      d.valid > 0
        ? windowsOf(
            forecaster,
            plan.series.columns.map((c) => c.slice(plan.fitRows - forecaster.rawWindow, plan.trainRows)),
          )
        : trainRaw;
    const task = new ForecasterTask(
      forecaster,
      { train: trainRaw, valid: validRaw },
      { batchSize: d.batchSize, seed: d.seed },
    );
    return {
      forecaster,
      task,
      saved: { config },
      summary: { trainWindows: trainRaw.length, validWindows: validRaw.length, window: forecaster.window },
    };
  } catch (e) {
    forecaster.dispose();
    throw e;
  }
}
