// What `translate forecast train|eval|predict` print: the data and model summary of a run, the validation metrics,
// the rolling-origin table of --select, the test RMSE over seeds beside the baselines, the eval tables and the
// predicted CSV. Each function returns the text (lines ending in "\n"); the commands write it.
import { fmt } from './headTraining.js';
import { meanAndSd, pairedDifference } from '../metrics/scores.js';
import { describeRecipe, type SelectionCandidate, type SelectionResult } from '../heads/forecaster/forecastRecipe.js';
import type { ForecasterConfig } from '../heads/forecaster/forecaster.js';
import type { CellOptions } from '../recurrent/cell.js';
import type { ForecastScores } from '../heads/forecaster/baselines.js';
import type { BaselineScore } from '../heads/forecaster/scores.js';

/** A validation's metrics in one line. */
export const describeForecast = (m: Record<string, number>): string =>
  `loss ${fmt(m['loss'])}, mse ${fmt(m['mse'], 5)}, rmse ${fmt(m['rmse'], 4)}, ` +
  `last-step mse ${fmt(m['lastStepMse'], 5)}`;

/** The model's shape as the summaries show it. */
export type ForecastModelShape = Pick<ForecasterConfig, 'horizon' | 'mode' | 'layers' | 'hiddenSize'> & {
  cell: Pick<CellOptions, 'kind'>;
};

/** Window counts of a prepared run. */
export interface ForecastWindows {
  trainWindows: number;
  validWindows: number;
  window: number;
}

const weightsText = (weights: number): string => `${weights.toLocaleString('en-US')} weights`;

/** The data and model lines of a run on the synthetic sines. */
export function sinesRunSummary(s: ForecastWindows, c: ForecastModelShape, weights: number): string {
  return (
    `data: ${s.trainWindows} training windows, ${s.validWindows} validation windows; ` +
    `window ${s.window}, horizon ${c.horizon}, ${c.mode} mode\n` +
    `model: ${c.layers}×${c.cell.kind} ${c.hiddenSize} units, ${weightsText(weights)}\n`
  );
}

/** The data and model lines of one seed's run on a CSV series. */
export function seriesRunSummary(
  s: ForecastWindows,
  c: ForecastModelShape,
  run: { weights: number; seed: number; noValidRows: boolean; recipe: string },
): string {
  return (
    `data: ${s.trainWindows} training windows, ${s.validWindows} validation windows` +
    `${run.noValidRows ? ' (the training windows: no --valid rows)' : ''}; ` +
    `horizon ${c.horizon}, ${c.mode} mode\n` +
    `model: ${c.layers}×${c.cell.kind} ${c.hiddenSize} units, ${weightsText(run.weights)}, ` +
    `seed ${run.seed}; ${run.recipe}\n`
  );
}

/** One candidate of --select as it is scored: its fold RMSEs and their mean. */
export function candidateLine(c: SelectionCandidate, i: number, total: number): string {
  return (
    `candidate ${i}/${total}: ${describeRecipe(c.recipe)}: ` +
    `rolling-origin RMSE ${c.score.rmse.map((x) => x.toFixed(1)).join(', ')} (mean ${c.score.mean.toFixed(2)})\n`
  );
}

/** The rolling-origin table of a selection, lowest mean first, and the choice. */
export function selectionReport(result: SelectionResult): string {
  const origins = result.candidates[0]!.score.origins;
  let text = `rolling-origin validation on the training rows: origins at rows ${origins.join(', ')}; RMSE of each fold, mean\n`;
  const sorted = [...result.candidates].sort((a, b) => a.score.mean - b.score.mean);
  for (const c of sorted) {
    const mark = c === result.best ? '  ← selected' : c === result.bestLinear ? '  ← best linear alone' : '';
    const folds = c.score.rmse.map((x) => x.toFixed(1).padStart(7)).join('');
    text += `  ${describeRecipe(c.recipe).padEnd(55)} ${folds}  mean ${c.score.mean.toFixed(2)}${mark}\n`;
  }
  if (result.skipped > 0) text += `(${result.skipped} candidates not tried: the time budget ran out)\n`;
  const linear =
    result.bestLinear === null
      ? ''
      : `; the best linear model alone: ${describeRecipe(result.bestLinear.recipe)}, ` +
        `${result.bestLinear.score.mean.toFixed(2)}`;
  text +=
    `selected: ${describeRecipe(result.best.recipe)} ` +
    `(mean rolling-origin RMSE ${result.best.score.mean.toFixed(2)}${linear})\n`;
  return text;
}

/** One seed's test RMSE on the held-out rows of the first target. */
export const seedTestLine = (seed: number, rows: number, target: string, rmse: number): string =>
  `seed ${seed}: RMSE of the last ${rows} rows (${target}) ${rmse.toFixed(2)}\n`;

/** Test RMSE over seeds (mean ± sd) and the paired comparison with each baseline on the same rows. */
export function forecastRunsReport(scores: readonly number[], baselines: readonly BaselineScore[]): string {
  const s = meanAndSd(scores);
  let text = `test RMSE over ${s.n} seed${s.n === 1 ? '' : 's'}: ${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)} (mean ± sd)\n`;
  for (const { name, rmse } of baselines) {
    const d = pairedDifference(
      scores,
      scores.map(() => rmse),
    );
    text +=
      `  vs ${name.padEnd(52)} ${rmse.toFixed(2)}: ` +
      `model − baseline ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} (standard error ${d.se.toFixed(2)})\n`;
  }
  return text;
}

/** "k step(s) ahead". */
export const stepsAhead = (k: number): string => `${k} step${k === 1 ? '' : 's'} ahead`;

/** `forecast eval --synthetic sines`: MSE over all steps and of the last step, model beside the baselines. */
export function sinesEvalReport(r: {
  dataSeed: number;
  series: number;
  horizon: number;
  order: number;
  linearHorizon: number;
  model: ForecastScores;
  naive: ForecastScores;
  linear: ForecastScores;
}): string {
  const f4 = (x: number) => x.toFixed(4);
  return (
    `sines (seed ${r.dataSeed}), ${r.series} test series, ${stepsAhead(r.horizon)}: ` +
    'MSE over all steps / of the last step\n' +
    `  model              ${f4(r.model.mse)} / ${f4(r.model.lastStepMse)}\n` +
    `  naive (last value) ${f4(r.naive.mse)} / ${f4(r.naive.lastStepMse)}\n` +
    `  linear AR(${r.order}), horizon ${r.linearHorizon}: ${f4(r.linear.mse)} / ${f4(r.linear.lastStepMse)}\n`
  );
}

/** `forecast eval --csv`: which rows are forecast from which. */
export function seriesEvalHeader(csv: string | undefined, index: readonly string[], test: number): string {
  const n = index.length;
  return (
    `${csv}: forecasting the last ${test} of ${n} rows (${index[n - test]} … ${index[n - 1]}) ` +
    `from the ${n - test} before them\n`
  );
}

/** One target's RMSE table: the model and each baseline. */
export function targetRmseTable(target: string, rows: readonly (readonly [string, number])[]): string {
  return `  ${target}: RMSE\n` + rows.map(([label, rmse]) => `    ${label.padEnd(28)} ${rmse.toFixed(2)}\n`).join('');
}

/**
 * `forecast predict`'s CSV, a chunk at a time: the rows of steps first + 1 … first + n (`forecast`: n values per
 * target, six significant digits), after the header line of the targets when `header` (default: when first is 0).
 */
export function forecastCsvRows(
  targets: readonly string[],
  forecast: readonly ArrayLike<number>[],
  first: number,
  header = first === 0,
): string {
  const lines = header ? [`step,${targets.join(',')}`] : [];
  const n = forecast[0]?.length ?? 0;
  for (let h = 0; h < n; h++) lines.push(`${first + h + 1},${forecast.map((c) => c[h]!.toPrecision(6)).join(',')}`);
  return lines.join('\n') + '\n';
}
