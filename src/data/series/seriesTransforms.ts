// The transforms forecasters apply to a series before modelling it, and their inverses (Hyndman & Athanasopoulos,
// "Forecasting: Principles and Practice", chapters on transformations and on stationarity and differencing):
//
//   Box-Cox     y = (x^λ − 1) / λ, or log x when λ = 0: makes a seasonal swing that grows with the level (airline
//               passengers) the same size throughout. Positive values only. λ can be estimated by maximum likelihood.
//   difference  y[t] = x[t] − x[t − lag]: lag 1 removes a trend, lag s (12 for months) the seasonal pattern. Several
//               lags apply in turn ([1, 12]: the "airline model"'s d = 1, D = 1). The first `lag` values are lost.
//
// A forecast made in the transformed space returns to the series' units by integration (the inverse of differencing,
// started from the last observed values) and the inverse Box-Cox.
import { ToolkitError } from '../../errors.js';

export class SeriesTransformError extends ToolkitError {
  override name = 'SeriesTransformError';
}

const NEAR_LOG = 1e-12;

/** Box-Cox of one positive value; λ = 0 is the log. */
export function boxCox(x: number, lambda: number): number {
  if (!(x > 0)) throw new SeriesTransformError(`the Box-Cox transform needs positive values, got ${x}`);
  // expm1 keeps (x^λ − 1)/λ exact as λ nears 0, where the plain formula loses every digit; below NEAR_LOG the two
  // differ by about λ·log²x / 2, less than rounding, while λ·log x could underflow.
  return Math.abs(lambda) < NEAR_LOG ? Math.log(x) : Math.expm1(lambda * Math.log(x)) / lambda;
}

/** Undoes boxCox. */
export function inverseBoxCox(y: number, lambda: number): number {
  if (Math.abs(lambda) < NEAR_LOG) return Math.exp(y);
  const base = lambda * y;
  // Outside the transform's range (a forecast far below the data): the nearest value it can return, 0.
  return base > -1 ? Math.exp(Math.log1p(base) / lambda) : 0;
}

/**
 * The λ in [lo, hi] maximising the Box-Cox profile log-likelihood of `values` (normal errors after the transform):
 *   ℓ(λ) = −n/2 · log σ²(λ) + (λ − 1) · Σ log x,
 * found by golden-section search (ℓ is unimodal in λ for the series forecasters meet).
 */
export function boxCoxLambda(values: ArrayLike<number>, range: readonly [number, number] = [-1, 2]): number {
  const n = values.length;
  if (n < 3) throw new SeriesTransformError(`estimating a Box-Cox λ needs at least 3 values, got ${n}`);
  let sumLog = 0;
  for (let i = 0; i < n; i++) {
    if (!(values[i]! > 0))
      throw new SeriesTransformError(`the Box-Cox transform needs positive values, got ${values[i]} at position ${i}`);
    sumLog += Math.log(values[i]!);
  }
  const likelihood = (lambda: number): number => {
    let sum = 0;
    let sq = 0;
    for (let i = 0; i < n; i++) {
      const y = boxCox(values[i]!, lambda);
      sum += y;
      sq += y * y;
    }
    const variance = Math.max(sq / n - (sum / n) ** 2, Number.MIN_VALUE);
    return (-n / 2) * Math.log(variance) + (lambda - 1) * sumLog;
  };
  const golden = (Math.sqrt(5) - 1) / 2;
  let [a, b] = range;
  let c = b - golden * (b - a);
  let d = a + golden * (b - a);
  let fc = likelihood(c);
  let fd = likelihood(d);
  while (b - a > 1e-6) {
    if (fc > fd) {
      [b, d, fd] = [d, c, fc];
      c = b - golden * (b - a);
      fc = likelihood(c);
    } else {
      [a, c, fc] = [c, d, fd];
      d = a + golden * (b - a);
      fd = likelihood(d);
    }
  }
  return (a + b) / 2;
}

function checkLag(lag: number, n: number): void {
  if (!(Number.isInteger(lag) && lag >= 1))
    throw new SeriesTransformError(`a differencing lag must be a whole number ≥ 1, got ${lag}`);
  if (n < lag) throw new SeriesTransformError(`differencing at lag ${lag} needs at least ${lag} values, got ${n}`);
}

/** y[t] = x[t + lag] − x[t]: n − lag values. */
export function difference(values: ArrayLike<number>, lag: number): Float64Array {
  checkLag(lag, values.length);
  return Float64Array.from({ length: values.length - lag }, (_, t) => values[t + lag]! - values[t]!);
}

/**
 * The continuation of a series from the continuation of its differences: x[n + i] = d[i] + x[n + i − lag], where
 * x[n − lag … n − 1] are the last values of `history` and later ones are those just rebuilt.
 */
export function integrate(history: ArrayLike<number>, differences: ArrayLike<number>, lag: number): Float64Array {
  checkLag(lag, history.length);
  const n = history.length;
  const out = new Float64Array(differences.length);
  for (let i = 0; i < differences.length; i++)
    out[i] = differences[i]! + (i < lag ? history[n - lag + i]! : out[i - lag]!);
  return out;
}

/** What a SeriesTransform does; it serialises as this object. */
export interface SeriesTransformOptions {
  /** Box-Cox λ applied first (0 = log), or null for none (default null). */
  boxCox: number | null;
  /** Lags differenced in turn after it: [] none, [1] first, [12] seasonal, [1, 12] both (default []). */
  differences: number[];
}

export const NO_TRANSFORM: SeriesTransformOptions = { boxCox: null, differences: [] };

/** Box-Cox then differencing of one column, with the inverse for forecasts continuing it. */
export class SeriesTransform {
  readonly options: SeriesTransformOptions;

  constructor(options: Partial<SeriesTransformOptions> = {}) {
    this.options = { ...NO_TRANSFORM, ...options, differences: [...(options.differences ?? [])] };
    const { boxCox: lambda, differences } = this.options;
    if (lambda !== null && !Number.isFinite(lambda))
      throw new SeriesTransformError(`Box-Cox λ must be a finite number or null, got ${lambda}`);
    for (const lag of differences)
      if (!(Number.isInteger(lag) && lag >= 1))
        throw new SeriesTransformError(`differencing lags must be whole numbers ≥ 1, got ${lag}`);
  }

  /** Values lost at the start by differencing: the sum of the lags. */
  get lost(): number {
    return this.options.differences.reduce((a, b) => a + b, 0);
  }

  /** Box-Cox only (values in the series' units → the space differencing works in). */
  private power(values: ArrayLike<number>): Float64Array {
    const lambda = this.options.boxCox;
    return Float64Array.from(values, (x) => (lambda === null ? x : boxCox(x, lambda)));
  }

  /** The transformed column: n − lost values. */
  forward(values: ArrayLike<number>): Float64Array {
    if (values.length <= this.lost)
      throw new SeriesTransformError(
        `${values.length} values leave nothing after differencing at lags ${this.options.differences.join(', ')}`,
      );
    let y = this.power(values);
    for (const lag of this.options.differences) y = difference(y, lag);
    return y;
  }

  /**
   * A forecast in the transformed space back in the series' units: `history` is the observed column (at least
   * `lost` values) the forecast continues, `forecast` the transformed values after it.
   */
  inverse(history: ArrayLike<number>, forecast: ArrayLike<number>): Float64Array {
    if (history.length < this.lost) {
      throw new SeriesTransformError(
        `inverting differences at lags ${this.options.differences.join(', ')} needs ${this.lost} observed values, got ${history.length}`,
      );
    }
    // The history at each differencing level, to start each integration from.
    const levels: Float64Array[] = [this.power(history)];
    for (const lag of this.options.differences) levels.push(difference(levels[levels.length - 1]!, lag));
    let y: Float64Array = Float64Array.from(forecast);
    for (let i = this.options.differences.length - 1; i >= 0; i--)
      y = integrate(levels[i]!, y, this.options.differences[i]!);
    const lambda = this.options.boxCox;
    return lambda === null ? y : y.map((v) => inverseBoxCox(v, lambda));
  }

  toJSON(): SeriesTransformOptions {
    return { boxCox: this.options.boxCox, differences: [...this.options.differences] };
  }

  /** Rebuilds a transform saved with toJSON; `source` names the file in errors. */
  static fromJSON(json: unknown, source = 'transform'): SeriesTransform {
    const j = json as Partial<SeriesTransformOptions> | null;
    const okLambda =
      j !== null &&
      typeof j === 'object' &&
      (j.boxCox === null || (typeof j.boxCox === 'number' && Number.isFinite(j.boxCox)));
    if (!okLambda || !Array.isArray(j.differences) || !j.differences.every((l) => Number.isInteger(l) && l >= 1)) {
      throw new SeriesTransformError(
        `${source}: expected {"boxCox": a number or null, "differences": whole numbers ≥ 1}`,
      );
    }
    return new SeriesTransform({ boxCox: j.boxCox ?? null, differences: j.differences });
  }

  /** Reads like the command line: "box-cox 0.15, differences 1, 12". */
  describe(): string {
    const { boxCox: lambda, differences } = this.options;
    const power = lambda === null ? 'no power transform' : lambda === 0 ? 'log' : `Box-Cox λ ${lambda.toFixed(3)}`;
    return `${power}, ${differences.length === 0 ? 'no differencing' : `differences at lag ${differences.join(' then ')}`}`;
  }
}
