// `translate forecast train|eval|predict`: a time-series forecaster trained by the same loop as `translate train`
// (config file, flags, --set, --resume), optionally on a recipe selected by rolling-origin validation and over
// several seeds, scored on the held-out test rows against naive, seasonal-naive and linear baselines.
import { type Command } from 'commander';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { int, refuseInputAsOutput } from './flags.js';
import { writeWaiting } from './stdout.js';
import { addRunConfigFlags, resolveRun } from './runConfig.js';
import { runHeadTraining } from './headTraining.js';
import {
  addForecastTrainFlags,
  addSeriesFlags,
  forecastFlagsToConfig,
  forecastSavedConfig,
  type ForecastTrainFlags,
  type SeriesFlags,
} from './forecastFlags.js';
import {
  candidateLine,
  describeForecast,
  forecastCsvRows,
  forecastRunsReport,
  selectionReport,
  seedTestLine,
  seriesEvalHeader,
  seriesRunSummary,
  sinesEvalReport,
  sinesRunSummary,
  stepsAhead,
  targetRmseTable,
} from './forecastReport.js';
import { ConfigError } from '../train/config.js';
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
import type { SelectionResult } from '../heads/forecaster/forecastRecipe.js';
import { SeriesForecaster, FORECASTER_KIND, ForecastInputError } from '../heads/forecaster/seriesForecaster.js';
import { FORECAST_CONFIG, resolveForecastConfig } from '../heads/forecaster/config.js';
import {
  planForecast,
  prepareForecastRun,
  prepareSines,
  readSeries,
  selectForecastRecipe,
} from '../heads/forecaster/prepare.js';
import { forecastTestRmse, forecastBaselines } from '../heads/forecaster/scores.js';

type StartBackend = () => Promise<void>;

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
      const model = prepared.forecaster.model;
      err.write(sinesRunSummary(prepared.summary, model.config, model.params.count()));
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
    selection = selectForecastRecipe(plan, (c, i, total) => err.write(candidateLine(c, i, total)));
    process.stdout.write(selectionReport(selection));
  }
  const d = config.data;
  const seeds = config.validation.seeds;
  const testScores: number[] = [];
  for (let i = 0; i < seeds; i++) {
    const prepared = prepareForecastRun(plan, i, checkpoint);
    const run = prepared.saved.config;
    const out = seeds > 1 ? path.join(flags.out, `seed-${run.model.seed}`) : flags.out;
    try {
      const model = prepared.forecaster.model;
      err.write(
        seriesRunSummary(prepared.summary, model.config, {
          weights: model.params.count(),
          seed: run.model.seed,
          noValidRows: d.valid === 0,
          recipe: prepared.forecaster.describe(),
        }),
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
        process.stdout.write(seedTestLine(run.model.seed, d.test, plan.targets[0]!, rmse));
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
  if (d.test > 0 && testScores.length > 0)
    process.stdout.write(forecastRunsReport(testScores, forecastBaselines(plan)));
  return 0;
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
  if (flags.plot !== undefined && flags.csv !== undefined)
    await refuseInputAsOutput('--plot', flags.plot, [['--csv', flags.csv]]);
  await startBackend();
  const forecaster = await SeriesForecaster.load(flags.model);
  const o = process.stdout;
  try {
    const order = flags.linearOrder ?? forecaster.window;
    if (flags.synthetic === 'sines') {
      const k = forecaster.model.config.horizon;
      const steps = stepsAhead(k);
      // Baselines and model on the same 1,000 test series, vector windows: the k values after step 50.
      const d = sinesDataset({ ahead: k, mode: 'vector', seed: flags.dataSeed });
      const forecasts = forecaster.forecastWindows(d.test.map((e) => e.input));
      const model = scoreForecasts(
        forecasts,
        d.test.map((e) => e.target),
      );
      const base = evaluateBaselines(d.train, d.test, { linear: { order, horizon: flags.linearHorizon } });
      o.write(
        sinesEvalReport({
          dataSeed: flags.dataSeed,
          series: d.test.length,
          horizon: k,
          order,
          linearHorizon: flags.linearHorizon,
          model,
          naive: base.naive,
          linear: base.linear,
        }),
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
    o.write(seriesEvalHeader(flags.csv, series.index, T));
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
      o.write(
        targetRmseTable(
          name,
          rows.map(([label, f]) => [label, score(f)] as const),
        ),
      );
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
    // Written a window's forecast at a time: a long --steps costs time, not memory.
    const targets = forecaster.settings.targets;
    let header = true;
    try {
      for (const { first, values } of forecaster.forecastChunks(series.columns, steps)) {
        await writeWaiting(forecastCsvRows(targets, values, first, header));
        header = false;
      }
    } catch (e) {
      if (e instanceof ForecastInputError) throw new ForecastInputError(`${flags.csv}: ${e.message}`, e.field);
      throw e;
    }
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
  addForecastTrainFlags(train).action(async (opts: ForecastTrainFlags) => {
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
