// The forecaster's baselines, each forecasting k values from a window of a univariate series:
//
//   naive           every future value is the window's last value
//   seasonal naive  the value one season earlier: y[T+h] = y[T+h − s·⌈h/s⌉], i.e. the last season repeated
//   linear          least-squares linear autoregression on the last p values (intercept included), fitted by the
//                   normal equations with a small ridge; it predicts `horizon` values at once and, for longer
//                   forecasts, feeds its own predictions back as input
//
// and their scores (MSE, RMSE, MAE, MSE per step ahead) against the true continuations.
import { mae, mse } from '../../metrics/scores.js';
import { ToolkitError } from '../../errors.js';

export class ForecastError extends ToolkitError {
  override name = 'ForecastError';
}

/** A window and its true continuation (e.g. a WindowExample of src/data/series/timeSeries.ts in 'vector' mode). */
export interface ForecastExample {
  input: ArrayLike<number>;
  target: ArrayLike<number>;
}

function checkSteps(k: number): void {
  if (!Number.isInteger(k) || k < 1) throw new ForecastError(`steps ahead must be a whole number ≥ 1, got ${k}`);
}

/** The last value, k times. */
export function naiveForecast(window: ArrayLike<number>, k: number): Float64Array {
  checkSteps(k);
  if (window.length === 0) throw new ForecastError('cannot forecast from an empty window');
  return new Float64Array(k).fill(window[window.length - 1]!);
}

/** The value one season before each future step; the window must hold at least one season. */
export function seasonalNaiveForecast(window: ArrayLike<number>, k: number, season: number): Float64Array {
  checkSteps(k);
  if (!Number.isInteger(season) || season < 1)
    throw new ForecastError(`season must be a whole number ≥ 1, got ${season}`);
  if (window.length < season)
    throw new ForecastError(
      `a seasonal naive forecast needs a window of at least one season (${season}), got ${window.length}`,
    );
  const T = window.length;
  return Float64Array.from({ length: k }, (_, i) => window[T - season + (i % season)]!);
}

export interface LinearAutoregressionOptions {
  /** Past values p the forecast depends on (default: the length of the training windows). */
  order?: number;
  /** Values predicted at once, h (default 1: one step, fed back for longer forecasts). */
  horizon?: number;
  /**
   * Ridge λ, relative to the mean diagonal of XᵀX so that it does not depend on the data's units; added to the
   * diagonal except the intercept's (default 1e-6).
   */
  ridge?: number;
}

/** A fitted linear autoregression as JSON (saved beside a forecaster that adds it to its output). */
export interface LinearAutoregressionJson {
  order: number;
  horizon: number;
  /** [horizon][order + 1]: intercept, then the weights of the oldest … newest value. */
  coefficients: number[][];
}

export class LinearAutoregression {
  private constructor(
    readonly order: number,
    readonly horizon: number,
    /** [horizon][order + 1]: intercept first, then the weights of the oldest … newest of the last p values. */
    readonly coefficients: Float64Array[],
  ) {}

  /** Fits on windows and their continuations; each target needs at least `horizon` values. */
  static fit(examples: readonly ForecastExample[], options: LinearAutoregressionOptions = {}): LinearAutoregression {
    if (examples.length === 0) throw new ForecastError('no examples to fit the linear autoregression on');
    const p = options.order ?? Math.min(...examples.map((e) => e.input.length));
    const h = options.horizon ?? 1;
    const ridge = options.ridge ?? 1e-6;
    checkSteps(h);
    if (!Number.isInteger(p) || p < 1) throw new ForecastError(`order must be a whole number ≥ 1, got ${p}`);
    examples.forEach((e, i) => {
      if (e.input.length < p)
        throw new ForecastError(`example ${i} has a window of ${e.input.length} values, fewer than the order ${p}`);
      if (e.target.length < h)
        throw new ForecastError(`example ${i} has ${e.target.length} target values, fewer than the horizon ${h}`);
    });
    const D = p + 1;
    // Normal equations (XᵀX + λI)·B = XᵀY, accumulated example by example; row x = [1, last p values].
    const xtx = new Float64Array(D * D);
    const xty = new Float64Array(D * h);
    const x = new Float64Array(D);
    for (const e of examples) {
      x[0] = 1;
      for (let j = 0; j < p; j++) x[j + 1] = e.input[e.input.length - p + j]!;
      for (let a = 0; a < D; a++) {
        for (let b = 0; b < D; b++) xtx[a * D + b]! += x[a]! * x[b]!;
        for (let s = 0; s < h; s++) xty[a * h + s]! += x[a]! * e.target[s]!;
      }
    }
    let diagonal = 0;
    for (let a = 1; a < D; a++) diagonal += xtx[a * D + a]!;
    const lambda = (ridge * diagonal) / p;
    for (let a = 1; a < D; a++) xtx[a * D + a]! += lambda;
    const solution = solve(xtx, xty, D, h);
    const coefficients = Array.from({ length: h }, (_, s) =>
      Float64Array.from({ length: D }, (_, a) => solution[a * h + s]!),
    );
    return new LinearAutoregression(p, h, coefficients);
  }

  toJSON(): LinearAutoregressionJson {
    return { order: this.order, horizon: this.horizon, coefficients: this.coefficients.map((c) => Array.from(c)) };
  }

  /** Rebuilds a model saved with toJSON; `source` names the file in errors. */
  static fromJSON(json: unknown, source = 'linear autoregression'): LinearAutoregression {
    const j = json as Partial<LinearAutoregressionJson> | null;
    const whole = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 1;
    if (
      j === null ||
      typeof j !== 'object' ||
      !whole(j.order) ||
      !whole(j.horizon) ||
      !Array.isArray(j.coefficients) ||
      j.coefficients.length !== j.horizon ||
      !j.coefficients.every(
        (c) =>
          Array.isArray(c) && c.length === j.order! + 1 && c.every((x) => typeof x === 'number' && Number.isFinite(x)),
      )
    ) {
      throw new ForecastError(
        `${source}: expected order and horizon (whole numbers ≥ 1) and horizon rows of order + 1 finite coefficients`,
      );
    }
    return new LinearAutoregression(
      j.order,
      j.horizon,
      j.coefficients.map((c) => Float64Array.from(c)),
    );
  }

  /** k values after the window: `horizon` at a time, each block's predictions appended to the window for the next. */
  forecast(window: ArrayLike<number>, k: number): Float64Array {
    checkSteps(k);
    if (window.length < this.order)
      throw new ForecastError(`the window has ${window.length} values, fewer than the order ${this.order}`);
    const history = Array.from(window).slice(-this.order);
    const out = new Float64Array(k);
    for (let done = 0; done < k;) {
      const recent = history.slice(-this.order);
      const block = this.coefficients.map((c) => {
        let y = c[0]!;
        for (let j = 0; j < this.order; j++) y += c[j + 1]! * recent[j]!;
        return y;
      });
      for (const y of block) {
        if (done < k) out[done++] = y;
        history.push(y);
      }
    }
    return out;
  }
}

/** Solves A·X = B for X ([n, m], row-major) by Gaussian elimination with partial pivoting; A is [n, n]. */
function solve(A: Float64Array, B: Float64Array, n: number, m: number): Float64Array {
  const a = A.slice();
  const b = B.slice();
  // A pivot this small relative to the matrix is rounding noise: the equations have no unique solution.
  let largest = 0;
  for (const x of a) largest = Math.max(largest, Math.abs(x));
  const tiny = 1e-12 * largest;
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(a[r * n + col]!) > Math.abs(a[pivot * n + col]!)) pivot = r;
    if (!(Math.abs(a[pivot * n + col]!) > tiny))
      throw new ForecastError('the normal equations are singular (constant or too few windows); raise the ridge');
    if (pivot !== col) {
      for (let j = 0; j < n; j++) [a[col * n + j], a[pivot * n + j]] = [a[pivot * n + j]!, a[col * n + j]!];
      for (let j = 0; j < m; j++) [b[col * m + j], b[pivot * m + j]] = [b[pivot * m + j]!, b[col * m + j]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = a[r * n + col]! / a[col * n + col]!;
      if (f === 0) continue;
      for (let j = col; j < n; j++) a[r * n + j]! -= f * a[col * n + j]!;
      for (let j = 0; j < m; j++) b[r * m + j]! -= f * b[col * m + j]!;
    }
  }
  const out = new Float64Array(n * m);
  for (let r = n - 1; r >= 0; r--) {
    for (let j = 0; j < m; j++) {
      let s = b[r * m + j]!;
      for (let c = r + 1; c < n; c++) s -= a[r * n + c]! * out[c * m + j]!;
      out[r * m + j] = s / a[r * n + r]!;
    }
  }
  return out;
}

export interface ForecastScores {
  /** Over every forecast value (= the mean of mseByStep). */
  mse: number;
  rmse: number;
  mae: number;
  /** MSE of the h-step-ahead values, h = 1 … k. */
  mseByStep: number[];
  /** MSE of the k-th, last, value. */
  lastStepMse: number;
}

/** Scores forecasts against the true continuations; every forecast has the same length k. */
export function scoreForecasts(
  forecasts: readonly ArrayLike<number>[],
  targets: readonly ArrayLike<number>[],
): ForecastScores {
  if (forecasts.length !== targets.length || forecasts.length === 0)
    throw new ForecastError(
      `${forecasts.length} forecasts for ${targets.length} targets (need the same, at least one)`,
    );
  const k = forecasts[0]!.length;
  forecasts.forEach((f, i) => {
    if (f.length !== k || targets[i]!.length < k)
      throw new ForecastError(
        `forecast ${i} has ${f.length} values and its target ${targets[i]!.length}, expected ${k} each`,
      );
  });
  const flatF: number[] = [];
  const flatT: number[] = [];
  const mseByStep = Array.from({ length: k }, (_, h) =>
    mse(
      forecasts.map((f) => f[h]!),
      targets.map((t) => t[h]!),
    ),
  );
  forecasts.forEach((f, i) => {
    for (let h = 0; h < k; h++) {
      flatF.push(f[h]!);
      flatT.push(targets[i]![h]!);
    }
  });
  const all = mse(flatF, flatT);
  return { mse: all, rmse: Math.sqrt(all), mae: mae(flatF, flatT), mseByStep, lastStepMse: mseByStep[k - 1]! };
}

export interface BaselineOptions {
  /** Steps ahead k to forecast and score (default: the length of the first test target). */
  steps?: number;
  /** Season length for the seasonal naive forecast (default: no seasonal naive). */
  season?: number;
  /** Options of the linear autoregression (default: order = window length, horizon 1, ridge 1e-6). */
  linear?: LinearAutoregressionOptions;
}

export interface BaselineScores {
  naive: ForecastScores;
  seasonalNaive?: ForecastScores;
  linear: ForecastScores;
}

/** The baselines on the same test windows: the linear model fitted on `train`, the naive ones need no fitting. */
export function evaluateBaselines(
  train: readonly ForecastExample[],
  test: readonly ForecastExample[],
  options: BaselineOptions = {},
): BaselineScores {
  if (test.length === 0) throw new ForecastError('no test examples');
  const k = options.steps ?? test[0]!.target.length;
  const targets = test.map((e) => e.target);
  const linear = LinearAutoregression.fit(train, options.linear);
  const scores: BaselineScores = {
    naive: scoreForecasts(
      test.map((e) => naiveForecast(e.input, k)),
      targets,
    ),
    linear: scoreForecasts(
      test.map((e) => linear.forecast(e.input, k)),
      targets,
    ),
  };
  if (options.season !== undefined) {
    const season = options.season;
    scores.seasonalNaive = scoreForecasts(
      test.map((e) => seasonalNaiveForecast(e.input, k, season)),
      targets,
    );
  }
  return scores;
}
