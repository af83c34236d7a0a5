// Forecast plots: a series with its forecasts (dates along the x axis, the recent past only, so that the forecast
// is not squeezed into a corner), and synthetic windows with what followed them and what was forecast.
import { lineChart, stackedCharts, type Series } from './lineChart.js';

export interface ForecastChartOptions {
  title: string;
  /** The row labels of the series (its index column: dates such as 1949-01, or numbers). */
  labels: readonly string[];
  /** The observed values, one per row. */
  observed: readonly number[];
  /** The row where the forecasts begin. */
  start: number;
  /** Forecasts from `start` on, the model's first (drawn solid), baselines after it (dashed). */
  forecasts: readonly { name: string; values: ArrayLike<number> }[];
  /** The y axis's label: the column and its unit. */
  yLabel: string;
  /** Rows of history shown before `start` (default: twice the forecast's length, at least 24). */
  context?: number;
}

/** Monthly labels "YYYY-MM…": ticks then fall on the first month of a year. */
const MONTH = /^\d{4}-(\d{2})/;

/**
 * About `maxTicks` row indices in [from, to) at a round spacing (1, 2, 3, 6, 12, 24… rows); with monthly dates,
 * on January of a year.
 */
export function rowTicks(labels: readonly string[], from: number, to: number, maxTicks: number): number[] {
  const n = to - from;
  const monthly = labels.slice(from, to).every((l) => MONTH.test(l));
  const spacings = monthly
    ? [1, 3, 6, 12, 24, 60, 120, 240, 600]
    : [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000];
  const step = spacings.find((s) => Math.ceil(n / s) <= maxTicks) ?? Math.ceil(n / maxTicks);
  let first = from;
  if (monthly && step >= 12) {
    const jan = labels.findIndex((l, i) => i >= from && i < to && MONTH.exec(l)![1] === '01');
    if (jan >= 0) first = from + ((jan - from) % step);
  } else if (!monthly) {
    first = Math.ceil(from / step) * step;
  }
  const ticks: number[] = [];
  for (let i = first; i < to; i += step) ticks.push(i);
  return ticks;
}

export function forecastChart(o: ForecastChartOptions): string {
  const horizon = Math.max(0, ...o.forecasts.map((f) => f.values.length));
  const from = Math.max(0, o.start - (o.context ?? Math.max(24, 2 * horizon)));
  const to = Math.min(o.labels.length, Math.max(o.observed.length, o.start + horizon));
  const series: Series[] = [
    { name: 'observed', points: o.observed.slice(from, to).map((y, i) => [from + i, y] as const), color: '#000000' },
    ...o.forecasts.map((f, i) => ({
      name: f.name,
      points: Array.from(f.values, (y, h) => [o.start + h, y] as const),
      ...(i > 0 ? { dashed: true } : {}),
    })),
  ];
  return lineChart({
    title: o.title,
    xLabel: o.labels.length > 0 && o.labels.every((l) => MONTH.test(l)) ? 'month' : 'row',
    yLabel: o.yLabel,
    series,
    marks: [{ x: o.start - 0.5, label: `forecast from ${o.labels[o.start] ?? o.start}` }],
    xTicks: rowTicks(o.labels, from, to, 8),
    xTickLabel: (x) => o.labels[x] ?? String(x),
  });
}

export interface WindowForecast {
  /** The window the model saw. */
  input: ArrayLike<number>;
  /** What followed it. */
  target: ArrayLike<number>;
  /** What the model forecast for those steps. */
  forecast: ArrayLike<number>;
}

/** One panel per window: the window, what followed and the model's forecast, against the time step. */
export function windowForecastChart(title: string, windows: readonly WindowForecast[], yLabel = 'value'): string {
  return stackedCharts({
    title,
    xLabel: 'time step',
    panelHeight: 150,
    panels: windows.map((w, k) => {
      const n = w.input.length;
      return {
        yLabel: `${yLabel}, series ${k + 1}`,
        series: [
          {
            name: 'window (input)',
            points: Array.from(w.input, (y, t) => [t, y] as const),
            color: '#000000',
            markers: false,
          },
          {
            name: 'what followed',
            points: Array.from(w.target, (y, h) => [n + h, y] as const),
            color: '#009E73',
            markers: true,
          },
          {
            name: 'model forecast',
            points: Array.from(w.forecast, (y, h) => [n + h, y] as const),
            color: '#D55E00',
            markers: true,
            dashed: true,
          },
        ],
      };
    }),
  });
}
