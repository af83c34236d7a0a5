// How a trained forecaster of a CSV plan did on the held-out test rows, and what the baselines do on the same rows:
// the naive (last value) and seasonal-naive forecasts, a linear AR on the raw values (recursive), and, when the
// recipe has a linear part, that part of the same pipeline alone (what the network adds to it).
import { makeWindows } from '../../data/series/timeSeries.js';
import { LinearAutoregression, naiveForecast, seasonalNaiveForecast, scoreForecasts } from './baselines.js';
import { describeRecipe, prepareForecaster } from './forecastRecipe.js';
import type { SeriesForecaster } from './seriesForecaster.js';
import type { ForecastPlan } from './prepare.js';

/** RMSE of the forecaster's forecast of the test rows (first target) from the end of the training rows. */
export function forecastTestRmse(forecaster: SeriesForecaster, plan: ForecastPlan): number {
  return scoreForecasts([forecaster.forecastAhead(plan.trainColumns, plan.truth.length)[0]!], [plan.truth]).rmse;
}

export interface BaselineScore {
  name: string;
  rmse: number;
}

/** The baselines' RMSE on the plan's test rows (first target), each forecasting from the end of the training rows. */
export function forecastBaselines(plan: ForecastPlan): BaselineScore[] {
  const T = plan.truth.length;
  const hist = plan.trainColumns[plan.target]!;
  const season = plan.config.validation.season;
  const rmse = (f: ArrayLike<number>): number => scoreForecasts([f], [plan.truth]).rmse;
  const order = plan.recipe.window;
  const out: BaselineScore[] = [
    { name: 'naive (last value)', rmse: rmse(naiveForecast(hist, T)) },
    { name: `seasonal naive (${season})`, rmse: rmse(seasonalNaiveForecast(hist, T, season)) },
    {
      name: `linear AR(${order}) on raw values, recursive`,
      rmse: rmse(LinearAutoregression.fit(makeWindows([hist], { window: order }), { order }).forecast(hist, T)),
    },
  ];
  if (plan.recipe.linearOrder > 0) {
    const linearOnly = { ...plan.recipe, linearOnly: true };
    const { forecaster } = prepareForecaster({ ...plan.fit, columns: plan.trainColumns }, linearOnly);
    try {
      out.push({ name: describeRecipe(linearOnly), rmse: rmse(forecaster.forecastAhead(plan.trainColumns, T)[0]!) });
    } finally {
      forecaster.dispose();
    }
  }
  return out;
}
