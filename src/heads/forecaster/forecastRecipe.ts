// A forecaster from a recipe: the practitioner's options (power transform, differencing, a linear part whose residual
// the network learns, direct or recursive multi-step forecasts) fitted on a series' training rows, trained by a plain
// loop, and scored by rolling-origin validation (Tashman, "Out-of-sample tests of forecasting accuracy", 2000):
// for origins o₁ < o₂ < … inside the training rows, fit on the rows before o and forecast the h rows after it.
// Only training rows are ever read, so the test months cannot steer the choice.
import * as tf from '@tensorflow/tfjs-core';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from './forecaster.js';
import { SeriesForecaster } from './seriesForecaster.js';
import { EpochSampler } from '../epochSampler.js';
import { LinearAutoregression, scoreForecasts } from './baselines.js';
import { Trainer } from '../../train/trainer.js';
import { Scaler } from '../../data/series/scaling.js';
import { SeriesTransform, SeriesTransformError, boxCoxLambda } from '../../data/series/seriesTransforms.js';
import { makeWindows, type WindowExample } from '../../data/series/timeSeries.js';
import { DEFAULT_CELL, type CellKind } from '../../recurrent/cell.js';
import { NO_DROPOUT, type DropoutOptions } from '../../layers/dropout.js';
import { Rng } from '../../random.js';
import { ToolkitError } from '../../errors.js';

export class ForecastRecipeError extends ToolkitError {
  override name = 'ForecastRecipeError';
}

export interface ForecastRecipe {
  /** 'none', 'log', or 'box-cox' with λ estimated on the training rows of the first target (default 'none'). */
  power: 'none' | 'log' | 'box-cox';
  /** Differencing lags applied after the power transform, e.g. [1], [12], [1, 12] (default []). */
  differences: number[];
  /** Order p of the linear autoregression added to the network's output, 0 for none (default 0; p ≤ window). */
  linearOrder: number;
  /** Model-unit steps per window (default 12). */
  window: number;
  /** Values predicted at once: 1 = recursive forecasts fed back, h = direct (default 1). */
  horizon: number;
  mode: 'vector' | 'sequence';
  scale: 'standard' | 'minmax' | 'none';
  /** Recurrent units (default 16). */
  hidden: number;
  cell: CellKind;
  /** Stacked recurrent layers (default 1). */
  layers: number;
  /** Keep probabilities of layer inputs, outputs and state in training (default 1: none). */
  dropout: DropoutOptions;
  /** Training steps (batches) of the plain loop (default 500; 0 leaves the network untrained). */
  steps: number;
  batchSize: number;
  learningRate: number;
  /** Seed of weights and batch order (default 1). */
  seed: number;
  /** The network's output layer held at zero: the forecast is the linear part alone (a baseline on the same pipeline). */
  linearOnly: boolean;
}

export const DEFAULT_RECIPE: ForecastRecipe = {
  power: 'none',
  differences: [],
  linearOrder: 0,
  window: 12,
  horizon: 1,
  mode: 'vector',
  scale: 'standard',
  hidden: 16,
  cell: 'gru',
  layers: 1,
  dropout: NO_DROPOUT,
  steps: 500,
  batchSize: 16,
  learningRate: 3e-3,
  seed: 1,
  linearOnly: false,
};

/** A recipe in one line, e.g. "window 12, log, diff 12, AR(12)+GRU 16, direct 24". */
export function describeRecipe(r: ForecastRecipe): string {
  const parts = [
    `window ${r.window}`,
    r.power,
    r.differences.length === 0 ? 'no diff' : `diff ${r.differences.join('+')}`,
  ];
  const net = r.linearOnly
    ? `AR(${r.linearOrder}) alone`
    : `${r.linearOrder > 0 ? `AR(${r.linearOrder})+` : ''}${r.cell.toUpperCase()} ${r.hidden}`;
  parts.push(net, r.horizon === 1 ? 'recursive' : `direct ${r.horizon}`);
  return parts.join(', ');
}

/** The series' columns for a forecaster: names, raw values, which are predicted. */
export interface SeriesColumns {
  names: string[];
  /** One array per column (training rows only when fitting). */
  columns: Float64Array[];
  /** Names of the predicted columns (default: all). */
  targets?: string[];
}

/**
 * A SeriesForecaster for the recipe with its transform, scaler and linear part fitted on `data` (the training rows),
 * untrained; and the raw training windows for its task.
 */
export function prepareForecaster(
  data: SeriesColumns,
  recipe: Partial<ForecastRecipe> = {},
): { forecaster: SeriesForecaster; windows: WindowExample[] } {
  const r = { ...DEFAULT_RECIPE, ...recipe };
  const targets = data.targets ?? data.names;
  const targetIdx = targets.map((t) => {
    const i = data.names.indexOf(t);
    if (i < 0) throw new ForecastRecipeError(`target "${t}" is not one of the columns (${data.names.join(', ')})`);
    return i;
  });
  if (r.linearOrder > r.window)
    throw new ForecastRecipeError(`the linear part's order ${r.linearOrder} exceeds the window ${r.window}`);
  if (r.linearOrder > 0 && r.mode !== 'vector') throw new ForecastRecipeError('a linear part needs vector mode');
  if (r.linearOnly && r.linearOrder === 0)
    throw new ForecastRecipeError('linearOnly needs a linear part (linearOrder ≥ 1)');
  const lambda = r.power === 'none' ? null : r.power === 'log' ? 0 : boxCoxLambda(data.columns[targetIdx[0]!]!);
  const transform = new SeriesTransform({ boxCox: lambda, differences: r.differences });
  const rawWindow = r.window + transform.lost;
  const n = data.columns[0]!.length;
  if (n < rawWindow + r.horizon + 1)
    throw new ForecastRecipeError(
      `${n} training rows are too few for a window of ${rawWindow} raw rows and a horizon of ${r.horizon}`,
    );
  const transformed = data.columns.map((c) => transform.forward(c));
  const scaler = r.scale === 'none' ? null : Scaler.fit(transformed, { kind: r.scale });
  const modelUnits = transformed.map((c, j) => (scaler === null ? c : scaler.transform(c, j)));
  // The linear part: one direct AR per target on the model-unit windows, predicting `horizon` values at once.
  const linear =
    r.linearOrder === 0
      ? null
      : targetIdx.map((c) =>
          LinearAutoregression.fit(makeWindows([modelUnits[c]!], { window: r.window, horizon: r.horizon }), {
            order: r.linearOrder,
            horizon: r.horizon,
          }),
        );
  const model = new Forecaster({
    ...DEFAULT_FORECASTER_CONFIG,
    inputSize: data.names.length,
    targets: targets.length,
    horizon: r.horizon,
    mode: r.mode,
    hiddenSize: r.hidden,
    cell: { ...DEFAULT_CELL, kind: r.cell },
    layers: r.layers,
    dropout: r.dropout,
    seed: r.seed,
  });
  if (r.linearOnly) {
    for (const name of ['forecaster/output/W', 'forecaster/output/b'])
      tf.tidy(() => model.params.get(name).assign(tf.zerosLike(model.params.get(name))));
  }
  const forecaster = new SeriesForecaster(model, {
    scaler,
    transform,
    window: r.window,
    inputs: [...data.names],
    targets: [...targets],
    linear,
  });
  const windows = makeWindows(data.columns, {
    window: rawWindow,
    horizon: r.horizon,
    mode: r.mode,
    targets: targetIdx,
  });
  return { forecaster, windows };
}

/** Trains the network on raw windows with a plain loop (batch → loss → gradients → clip → Adam); returns the last loss. */
export function fitForecaster(
  forecaster: SeriesForecaster,
  windows: readonly WindowExample[],
  recipe: Partial<ForecastRecipe> = {},
): number {
  const r = { ...DEFAULT_RECIPE, ...recipe };
  if (r.linearOnly || r.steps === 0) return NaN;
  const examples = windows.map((w) => forecaster.exampleToModel(w));
  const sampler = new EpochSampler(examples.length, { batchSize: r.batchSize, seed: r.seed });
  const trainer = new Trainer(forecaster.model.params, { learningRate: r.learningRate, clipNorm: 5 });
  const model = forecaster.model;
  const rng = new Rng(r.seed);
  let loss = NaN;
  for (let step = 0; step < r.steps; step++) {
    const batch = forecaster.batch(sampler.next().map((i) => examples[i]!));
    loss = trainer.update(() => model.loss(batch, { training: true, rng })).loss;
  }
  trainer.dispose();
  return loss;
}

export interface RollingOriginOptions {
  /** Number of origins (default 3). */
  origins: number;
  /** Rows between consecutive origins (default 12). */
  step: number;
  /** Rows forecast after each origin (default 24). */
  horizon: number;
}

export const DEFAULT_ROLLING_ORIGIN: RollingOriginOptions = { origins: 3, step: 12, horizon: 24 };

export interface RollingOriginScore {
  /** Row of each origin (the first forecast row), earliest first. */
  origins: number[];
  /** RMSE of the first target's forecast after each origin, in the series' units. */
  rmse: number[];
  /** Mean of rmse. */
  mean: number;
}

/** The origins inside `rows` training rows: the last one leaves exactly `horizon` rows after it. */
export function rollingOrigins(rows: number, options: Partial<RollingOriginOptions> = {}): number[] {
  const o = { ...DEFAULT_ROLLING_ORIGIN, ...options };
  const origins = Array.from({ length: o.origins }, (_, i) => rows - o.horizon - (o.origins - 1 - i) * o.step);
  if (origins[0]! < 1)
    throw new ForecastRecipeError(
      `${o.origins} origins ${o.step} rows apart with ${o.horizon} rows each need more than ${rows} training rows`,
    );
  return origins;
}

/** Rolling-origin RMSE of a recipe on the training rows `data` (nothing after them is read). */
export function rollingOriginScore(
  data: SeriesColumns,
  recipe: Partial<ForecastRecipe>,
  options: Partial<RollingOriginOptions> = {},
): RollingOriginScore {
  const o = { ...DEFAULT_ROLLING_ORIGIN, ...options };
  const origins = rollingOrigins(data.columns[0]!.length, o);
  const target = data.names.indexOf((data.targets ?? data.names)[0]!);
  const rmse = origins.map((origin) => {
    const before = { ...data, columns: data.columns.map((c) => c.slice(0, origin)) };
    const { forecaster, windows } = prepareForecaster(before, recipe);
    try {
      fitForecaster(forecaster, windows, recipe);
      const forecast = forecaster.forecastAhead(before.columns, o.horizon)[0]!;
      return scoreForecasts([forecast], [data.columns[target]!.slice(origin, origin + o.horizon)]).rmse;
    } finally {
      forecaster.dispose();
    }
  });
  return { origins, rmse, mean: rmse.reduce((a, b) => a + b, 0) / rmse.length };
}

export interface SelectionOptions {
  /** Stop starting new candidates after this many seconds (default 600). */
  budgetSeconds: number;
  /** Season length for seasonal differencing (default 12). */
  season: number;
  /** Window lengths tried (default: the base recipe's). */
  windows?: readonly number[];
  rollingOrigin: Partial<RollingOriginOptions>;
  /** Told about each candidate as it is scored. */
  onCandidate?: (c: SelectionCandidate, index: number, total: number) => void;
  /** Clock in milliseconds (default performance.now), for the budget. */
  now?: () => number;
}

export interface SelectionCandidate {
  recipe: ForecastRecipe;
  score: RollingOriginScore;
}

export interface SelectionResult {
  /** Every candidate scored within the budget, in the order tried. */
  candidates: SelectionCandidate[];
  /** The network candidate (not linear-only) with the lowest mean rolling-origin RMSE. */
  best: SelectionCandidate;
  /** The linear-only candidate with the lowest mean rolling-origin RMSE (the bar the network must clear). */
  bestLinear: SelectionCandidate | null;
  /** Candidates not tried because the budget ran out. */
  skipped: number;
}

/**
 * The grid searched by selectRecipe: window (default: the base's) × power {none, log, box-cox} × differencing
 * {none, 1, season, 1 + season} × direct or recursive, first as the linear part alone (AR of the window's order;
 * cheap: no training), then each with the network added to the linear part and without it.
 */
export function selectionGrid(
  base: Partial<ForecastRecipe>,
  season: number,
  directHorizon: number,
  windows?: readonly number[],
): ForecastRecipe[] {
  const b = { ...DEFAULT_RECIPE, ...base };
  const pipelines: Pick<ForecastRecipe, 'window' | 'power' | 'differences' | 'horizon'>[] = [];
  for (const window of windows ?? [b.window]) {
    for (const power of ['none', 'log', 'box-cox'] as const) {
      for (const differences of [[], [1], [season], [1, season]]) {
        for (const horizon of [1, directHorizon]) pipelines.push({ window, power, differences, horizon });
      }
    }
  }
  const order = (window: number) => (b.linearOrder > 0 ? Math.min(b.linearOrder, window) : window);
  const linear = pipelines.map((p) => ({
    ...b,
    ...p,
    mode: 'vector' as const,
    linearOrder: order(p.window),
    linearOnly: true,
  }));
  const hybrid = pipelines.map((p) => ({
    ...b,
    ...p,
    mode: 'vector' as const,
    linearOrder: order(p.window),
    linearOnly: false,
  }));
  const network = pipelines.map((p) => ({ ...b, ...p, linearOrder: 0, linearOnly: false }));
  return [...linear, ...hybrid, ...network];
}

/** Scores the grid by rolling origin on the training rows, within the time budget, and picks the best network. */
export function selectRecipe(
  data: SeriesColumns,
  base: Partial<ForecastRecipe>,
  options: Partial<SelectionOptions> = {},
): SelectionResult {
  const season = options.season ?? 12;
  const ro = { ...DEFAULT_ROLLING_ORIGIN, ...options.rollingOrigin };
  const budget = (options.budgetSeconds ?? 600) * 1000;
  const now = options.now ?? (() => performance.now());
  const grid = selectionGrid(base, season, ro.horizon, options.windows);
  const started = now();
  const candidates: SelectionCandidate[] = [];
  for (const recipe of grid) {
    if (now() - started > budget) break;
    let score: RollingOriginScore;
    try {
      score = rollingOriginScore(data, recipe, ro);
    } catch (e) {
      // A pipeline the series does not allow (too short for seasonal differencing, a log of values ≤ 0) is no candidate.
      if (e instanceof ForecastRecipeError || e instanceof SeriesTransformError) continue;
      throw e;
    }
    const c = { recipe, score };
    candidates.push(c);
    options.onCandidate?.(c, candidates.length, grid.length);
  }
  const lowest = (cs: SelectionCandidate[]) =>
    cs.reduce<SelectionCandidate | null>((a, c) => (a === null || c.score.mean < a.score.mean ? c : a), null);
  const best = lowest(candidates.filter((c) => !c.recipe.linearOnly));
  if (best === null)
    throw new ForecastRecipeError(`no network candidate was scored within the budget of ${budget / 1000} s; raise it`);
  return {
    candidates,
    best,
    bestLinear: lowest(candidates.filter((c) => c.recipe.linearOnly)),
    skipped: grid.length - candidates.length,
  };
}
