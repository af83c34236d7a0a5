// `translate forecast train|eval|predict`: a time-series forecaster trained by the same loop as `translate train`
// (config file, flags, --set, --resume), optionally on a recipe selected by rolling-origin validation and over
// several seeds, scored on the held-out test rows against naive, seasonal-naive and linear baselines.
import { Option, type Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { int, positive, collectInts } from './flags.js';
import { addRunConfigFlags, resolveRun } from './runConfig.js';
import {
  addHeadTrainingFlags,
  addStackFlags,
  stackLayer,
  trainingLayer,
  runHeadTraining,
  fmt,
  type HeadTrainFlags,
  type StackFlags,
} from './headTraining.js';
import { ConfigError, pickDefined, isPlainObject } from '../train/config.js';
import { meanAndSd, pairedDifference } from '../metrics/scores.js';
import { forecastChart, windowForecastChart } from '../plot/forecastChart.js';
import { sinesDataset } from '../data/series/sines.js';
import { makeWindows } from '../data/series/timeSeries.js';
import {
  LinearAutoregression,
  naiveForecast,
  seasonalNaiveForecast,
  scoreForecasts,
  evaluateBaselines,
} from '../heads/forecaster/baselines.js';
import { describeRecipe, type SelectionResult } from '../heads/forecaster/forecastRecipe.js';
import { SeriesForecaster, FORECASTER_KIND } from '../heads/forecaster/seriesForecaster.js';
import {
  FORECAST_CONFIG,
  FORECAST_DATA_DEFAULTS,
  FORECAST_MODEL_DEFAULTS,
  FORECAST_TRAINING_DEFAULTS,
  FORECAST_VALIDATION_DEFAULTS,
  resolveForecastConfig,
  type PartialForecastTrainConfig,
} from '../heads/forecaster/config.js';
import {
  planForecast,
  prepareForecastRun,
  prepareSines,
  readSeries,
  selectForecastRecipe,
  type ForecastPlan,
} from '../heads/forecaster/prepare.js';
import { forecastTestRmse, forecastBaselines } from '../heads/forecaster/scores.js';

type StartBackend = () => Promise<void>;

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
function addSeriesFlags(c: Command, withDefaults: boolean): Command {
  const d = FORECAST_DATA_DEFAULTS;
  const shown = (x: number) => (withDefaults ? '' : ` (default: ${x})`);
  const value = (x: number) => (withDefaults ? [x] : []);
  const sines =
    'the two-sines task of Géron\'s "Hands-On Machine Learning" instead of a CSV: two sines plus noise, 50 steps, 7,000/2,000/1,000 series';
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

const describeForecast = (m: Record<string, number>): string =>
  `loss ${fmt(m['loss'])}, mse ${fmt(m['mse'], 5)}, rmse ${fmt(m['rmse'], 4)}, last-step mse ${fmt(m['lastStepMse'], 5)}`;

export async function forecastTrain(flags: ForecastTrainFlags, startBackend: StartBackend): Promise<number> {
  const { config, checkpoint } = await resolveRun(flags, {
    system: FORECAST_CONFIG,
    flagLayer: forecastFlagsToConfig(flags),
    resolve: resolveForecastConfig,
    kind: FORECASTER_KIND,
    savedConfig: forecastSavedConfig,
  });
  if (checkpoint !== undefined) process.stderr.write(`resuming ${flags.out} at step ${checkpoint.training.step}\n`);
  const err = process.stderr;
  const resume = checkpoint !== undefined ? { checkpoint } : {};
  if (config.data.synthetic === 'sines') {
    await startBackend();
    const prepared = prepareSines(config, checkpoint);
    try {
      const c = prepared.forecaster.model.config;
      const s = prepared.summary;
      err.write(
        `data: ${s.trainWindows} training windows, ${s.validWindows} validation windows; window ${s.window}, horizon ${c.horizon}, ${c.mode} mode\n` +
          `model: ${c.layers}×${c.cell.kind} ${c.hiddenSize} units, ${prepared.forecaster.model.params.count().toLocaleString('en-US')} weights\n`,
      );
      return await runHeadTraining(prepared.task, {
        out: flags.out,
        training: config.training,
        saved: prepared.saved,
        flags,
        describe: describeForecast,
        ...resume,
      });
    } finally {
      prepared.forecaster.dispose();
    }
  }
  const plan = await planForecast(config, checkpoint !== undefined);
  await startBackend();
  let selection: SelectionResult | null = null;
  if (config.validation.select) {
    selection = selectForecastRecipe(plan, (c, i, total) =>
      err.write(
        `candidate ${i}/${total}: ${describeRecipe(c.recipe)}: rolling-origin RMSE ${c.score.rmse.map((x) => x.toFixed(1)).join(', ')} (mean ${c.score.mean.toFixed(2)})\n`,
      ),
    );
    reportSelection(selection);
  }
  const d = config.data;
  const seeds = config.validation.seeds;
  const testScores: number[] = [];
  for (let i = 0; i < seeds; i++) {
    const prepared = prepareForecastRun(plan, i, checkpoint);
    const run = prepared.saved.config;
    const out = seeds > 1 ? path.join(flags.out, `seed-${run.model.seed}`) : flags.out;
    try {
      const c = prepared.forecaster.model.config;
      const s = prepared.summary;
      err.write(
        `data: ${s.trainWindows} training windows, ${s.validWindows} validation windows${d.valid === 0 ? ' (the training windows: no --valid rows)' : ''}; ` +
          `horizon ${c.horizon}, ${c.mode} mode\n` +
          `model: ${c.layers}×${c.cell.kind} ${c.hiddenSize} units, ${prepared.forecaster.model.params.count().toLocaleString('en-US')} weights, ` +
          `seed ${run.model.seed}; ${prepared.forecaster.describe()}\n`,
      );
      const code = await runHeadTraining(prepared.task, {
        out,
        training: run.training,
        saved: prepared.saved,
        flags,
        describe: describeForecast,
        ...resume,
      });
      if (code !== 0) return code;
      if (d.test > 0) {
        // The last step's weights (as saved in the checkpoint), forecasting the held-out rows from the end of training.
        const rmse = forecastTestRmse(prepared.forecaster, plan);
        testScores.push(rmse);
        process.stdout.write(
          `seed ${run.model.seed}: RMSE of the last ${d.test} rows (${plan.targets[0]}) ${rmse.toFixed(2)}\n`,
        );
      }
    } finally {
      prepared.forecaster.dispose();
    }
  }
  if (selection !== null) {
    const { best, bestLinear, candidates, skipped } = selection;
    await writeFile(
      path.join(flags.out, 'selection.json'),
      JSON.stringify({ best, bestLinear, candidates, skipped }, null, 1) + '\n',
    );
  }
  if (d.test > 0 && testScores.length > 0) reportForecastRuns(testScores, plan);
  return 0;
}

/** Prints the rolling-origin table of a selection (stdout), lowest mean first, and the choice. */
function reportSelection(result: SelectionResult): void {
  const o = process.stdout;
  const origins = result.candidates[0]!.score.origins;
  o.write(
    `rolling-origin validation on the training rows: origins at rows ${origins.join(', ')}; RMSE of each fold, mean\n`,
  );
  const sorted = [...result.candidates].sort((a, b) => a.score.mean - b.score.mean);
  for (const c of sorted) {
    const mark = c === result.best ? '  ← selected' : c === result.bestLinear ? '  ← best linear alone' : '';
    o.write(
      `  ${describeRecipe(c.recipe).padEnd(55)} ${c.score.rmse.map((x) => x.toFixed(1).padStart(7)).join('')}  mean ${c.score.mean.toFixed(2)}${mark}\n`,
    );
  }
  if (result.skipped > 0) o.write(`(${result.skipped} candidates not tried: the time budget ran out)\n`);
  o.write(
    `selected: ${describeRecipe(result.best.recipe)} (mean rolling-origin RMSE ${result.best.score.mean.toFixed(2)}` +
      `${result.bestLinear === null ? '' : `; the best linear model alone: ${describeRecipe(result.bestLinear.recipe)}, ${result.bestLinear.score.mean.toFixed(2)}`})\n`,
  );
}

/** Test RMSE over seeds (mean ± sd) and the paired comparison with each baseline on the same rows. */
function reportForecastRuns(scores: number[], plan: ForecastPlan): void {
  const o = process.stdout;
  const s = meanAndSd(scores);
  o.write(`test RMSE over ${s.n} seed${s.n === 1 ? '' : 's'}: ${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)} (mean ± sd)\n`);
  for (const { name, rmse } of forecastBaselines(plan)) {
    const d = pairedDifference(
      scores,
      scores.map(() => rmse),
    );
    o.write(
      `  vs ${name.padEnd(52)} ${rmse.toFixed(2)}: model − baseline ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} (standard error ${d.se.toFixed(2)})\n`,
    );
  }
}

interface ForecastEvalFlags extends SeriesFlags {
  model: string;
  test: number;
  ahead: number;
  dataSeed: number;
  season?: number;
  linearOrder?: number;
  linearHorizon: number;
  plot?: string;
}

async function forecastEval(flags: ForecastEvalFlags, startBackend: StartBackend): Promise<void> {
  await startBackend();
  const forecaster = await SeriesForecaster.load(flags.model);
  const o = process.stdout;
  const f4 = (x: number) => x.toFixed(4);
  try {
    const order = flags.linearOrder ?? forecaster.window;
    if (flags.synthetic === 'sines') {
      const k = forecaster.model.config.horizon;
      const steps = `${k} step${k === 1 ? '' : 's'} ahead`;
      // Baselines and model on the same 1,000 test series, vector windows: the k values after step 50.
      const d = sinesDataset({ ahead: k, mode: 'vector', seed: flags.dataSeed });
      const forecasts = forecaster.forecastWindows(d.test.map((e) => e.input));
      const model = scoreForecasts(
        forecasts,
        d.test.map((e) => e.target),
      );
      const base = evaluateBaselines(d.train, d.test, { linear: { order, horizon: flags.linearHorizon } });
      o.write(
        `sines (seed ${flags.dataSeed}), ${d.test.length} test series, ${steps}: MSE over all steps / of the last step\n`,
      );
      o.write(`  model              ${f4(model.mse)} / ${f4(model.lastStepMse)}\n`);
      o.write(`  naive (last value) ${f4(base.naive.mse)} / ${f4(base.naive.lastStepMse)}\n`);
      o.write(
        `  linear AR(${order}), horizon ${flags.linearHorizon}: ${f4(base.linear.mse)} / ${f4(base.linear.lastStepMse)}\n`,
      );
      if (flags.plot !== undefined) {
        const shown = d.test.slice(0, 3).map((e, i) => ({ input: e.input, target: e.target, forecast: forecasts[i]! }));
        await writeFile(
          flags.plot,
          windowForecastChart(`sines (seed ${flags.dataSeed}): the first ${shown.length} test series, ${steps}`, shown),
        );
        o.write(`plot: ${flags.plot}\n`);
      }
      return;
    }
    const series = await readSeries(flags);
    const cols = forecaster.settings.inputs.map((name) => {
      const i = series.names.indexOf(name);
      if (i < 0) {
        throw new ConfigError(
          `${flags.csv}: no column "${name}" (the model reads ${forecaster.settings.inputs.join(', ')}; the file has ${series.names.join(', ')})`,
        );
      }
      return series.columns[i]!;
    });
    const n = series.index.length;
    const T = flags.test;
    if (n - T < forecaster.window) {
      throw new ConfigError(
        `${flags.csv}: ${n} rows leave ${n - T} before the --test ${T} rows, fewer than the model's window ${forecaster.window}`,
      );
    }
    const history = cols.map((c) => c.slice(0, n - T));
    const model = forecaster.forecastAhead(history, T);
    o.write(
      `${flags.csv}: forecasting the last ${T} of ${n} rows (${series.index[n - T]} … ${series.index[n - 1]}) from the ${n - T} before them\n`,
    );
    let plotted: { name: string; values: ArrayLike<number> }[] = [];
    forecaster.settings.targets.forEach((name, g) => {
      const c = forecaster.targetColumns[g]!;
      const truth = cols[c]!.slice(n - T);
      const hist = history[c]!;
      const score = (f: ArrayLike<number>) => scoreForecasts([f], [truth]).rmse;
      const rows: [string, ArrayLike<number>][] = [
        ['model', model[g]!],
        ['naive (last value)', naiveForecast(hist, T)],
      ];
      if (flags.season !== undefined)
        rows.push([`seasonal naive (${flags.season})`, seasonalNaiveForecast(hist, T, flags.season)]);
      const windows = makeWindows([hist], { window: order, horizon: flags.linearHorizon });
      if (windows.length > order + 1) {
        const ar = LinearAutoregression.fit(windows, { order, horizon: flags.linearHorizon });
        rows.push([`linear AR(${order}), horizon ${flags.linearHorizon}`, ar.forecast(hist, T)]);
      }
      o.write(`  ${name}: RMSE\n`);
      for (const [label, f] of rows) o.write(`    ${label.padEnd(28)} ${score(f).toFixed(2)}\n`);
      if (g === 0) plotted = rows.map(([name, values]) => ({ name, values }));
    });
    if (flags.plot !== undefined) {
      const target = forecaster.targetColumns[0]!;
      await writeFile(
        flags.plot,
        forecastChart({
          title: `${path.basename(flags.csv!)}: forecast of the last ${T} rows`,
          labels: series.index,
          observed: Array.from(cols[target]!),
          start: n - T,
          forecasts: plotted,
          yLabel: forecaster.settings.targets[0]!,
        }),
      );
      o.write(`plot: ${flags.plot}\n`);
    }
  } finally {
    forecaster.dispose();
  }
}

interface ForecastPredictFlags {
  model: string;
  csv: string;
  index?: string;
  steps?: number;
}

async function forecastPredict(flags: ForecastPredictFlags, startBackend: StartBackend): Promise<void> {
  await startBackend();
  const forecaster = await SeriesForecaster.load(flags.model);
  try {
    const series = await readSeries({ ...flags, columns: forecaster.settings.inputs });
    const steps = flags.steps ?? forecaster.model.config.horizon;
    const f = forecaster.forecastAhead(series.columns, steps);
    const lines = [`step,${forecaster.settings.targets.join(',')}`];
    for (let h = 0; h < steps; h++) lines.push(`${h + 1},${f.map((c) => c[h]!.toPrecision(6)).join(',')}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    forecaster.dispose();
  }
}

export function registerForecastCommands(program: Command, startBackend: StartBackend): void {
  const forecast = program
    .command('forecast')
    .description(
      'time-series forecaster: sequence → the next value(s), ' + 'with naive, seasonal-naive and linear baselines',
    );
  const train = forecast.command('train').description('train on windows of the training rows (or the synthetic sines)');
  addRunConfigFlags(train, FORECAST_CONFIG.sectionNames, 'runs/forecast');
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
  addStackFlags(train).action(async (opts: ForecastTrainFlags) => {
    const code = await forecastTrain(opts, startBackend);
    if (code !== 0) process.exitCode = code;
  });
  addSeriesFlags(
    forecast
      .command('eval')
      .description(
        "RMSE of the model's forecast of the last --test rows vs " + 'naive, seasonal naive and linear; SVG plot',
      ),
    true,
  )
    .requiredOption('--model <dir>', 'forecaster directory')
    .option('--season <n>', 'season length for the seasonal naive baseline (e.g. 12 for months)', int('--season'))
    .option('--linear-order <p>', "linear AR order (default: the model's window)", int('--linear-order'))
    .option(
      '--linear-horizon <h>',
      'values the linear AR predicts at once (longer forecasts feed ' + 'back)',
      int('--linear-horizon'),
      1,
    )
    .option('--plot <file.svg>', 'write the series, the forecast and the baselines as an SVG line chart')
    .action(async (opts: ForecastEvalFlags) => forecastEval(opts, startBackend));
  forecast
    .command('predict')
    .description('forecast the values after the end of a CSV series (CSV on stdout)')
    .requiredOption('--model <dir>', 'forecaster directory')
    .requiredOption('--csv <file>', "the series (the model's columns; at least its window of rows)")
    .option('--index <column>', 'index column by name or position, or "none" (default: the first column)')
    .option(
      '--steps <n>',
      "values to forecast (default: the model's horizon; longer forecasts feed " + 'back)',
      int('--steps'),
    )
    .action(async (opts: ForecastPredictFlags) => forecastPredict(opts, startBackend));
}
