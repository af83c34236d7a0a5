// A forecaster with what it needs to read raw series and answer in their units: the transform (Box-Cox, then
// differencing), the scaler fitted on the training rows, an optional linear autoregression added to the network's
// output, the window length and the columns it reads and predicts; saved in one model directory (kind 'forecaster').
//
// Values flow raw → transform → scaled ("model units") into the network. A forecast in model units is the network's
// output plus the linear part (the network learns the residual of the linear model: Zhang, "Time series forecasting
// using a hybrid ARIMA and neural network model", 2003), and flows back unscaled → integrated from the observed values
// → inverse Box-Cox. Differencing at lags summing to D costs D values, so a raw window holds window + D rows.
import { Forecaster, DEFAULT_FORECASTER_CONFIG, type ForecasterConfig, type ForecastBatch } from './forecaster.js';
import { featureBatch } from '../sequenceInput.js';
import { checkBatchSize } from '../../data/text/batch.js';
import { LinearAutoregression, type LinearAutoregressionJson } from './baselines.js';
import { Scaler, type ScalerJson } from '../../data/series/scaling.js';
import { SeriesTransform, type SeriesTransformOptions } from '../../data/series/seriesTransforms.js';
import type { WindowExample } from '../../data/series/timeSeries.js';
import { saveModelFiles, loadModelFiles, ModelFileError, type SavedModelJson } from '../../model/modelFiles.js';
import { withSavedWeights } from '../../model/modelFiles.js';
import { builtFrom } from '../../model/configChecks.js';
import { ToolkitError } from '../../errors.js';

export const FORECASTER_KIND = 'forecaster';

export interface SeriesSettings {
  /** Scaler of the input columns (fitted on training rows, after the transform), or null: values enter as they are. */
  scaler: Scaler | null;
  /** Box-Cox and differencing of every column before scaling (default: none). */
  transform: SeriesTransform;
  /** Steps each input window holds, in model units (the raw window is window + transform.lost rows). */
  window: number;
  /** Names of the input columns, in the order of the features. */
  inputs: string[];
  /** Names of the predicted columns; each is one of the inputs. */
  targets: string[];
  /**
   * One linear autoregression per target, fitted on that column's model-unit windows, whose forecast is added to the
   * network's ('vector' mode only), or null: the network forecasts alone.
   */
  linear: LinearAutoregression[] | null;
}

export interface ForecasterExtra extends Omit<SeriesSettings, 'scaler' | 'transform' | 'linear'> {
  scaler: ScalerJson | null;
  /** Saved before transforms existed: 'none' or 'log'. */
  transform: SeriesTransformOptions | 'none' | 'log';
  linear?: LinearAutoregressionJson[] | null;
}

/** Steps first … first + n − 1 of a forecast (n ≤ the horizon), n values per target column. */
export type ForecastChunk = { first: number; values: Float64Array[] };

/** A series or a step count a forecaster cannot take; `field` says which (the server's 400 names it). */
export class ForecastInputError extends ToolkitError {
  override name = 'ForecastInputError';
  constructor(
    message: string,
    readonly field: 'series' | 'steps' = 'series',
  ) {
    super(message);
  }
}

export class SeriesForecaster {
  /** Position of each target among the inputs. */
  readonly targetColumns: number[];

  constructor(
    readonly model: Forecaster,
    readonly settings: SeriesSettings,
  ) {
    this.targetColumns = settings.targets.map((t) => {
      const i = settings.inputs.indexOf(t);
      if (i < 0)
        throw new ForecastInputError(
          `target column "${t}" is not one of the input columns (${settings.inputs.join(', ')})`,
        );
      return i;
    });
    if (model.config.inputSize !== settings.inputs.length || model.config.targets !== settings.targets.length) {
      throw new ForecastInputError(
        `the model reads ${model.config.inputSize} and predicts ${model.config.targets} columns, ` +
          `the settings name ${settings.inputs.length} and ${settings.targets.length}`,
      );
    }
    const linear = settings.linear;
    if (linear !== null) {
      if (model.config.mode !== 'vector')
        throw new ForecastInputError(
          "a linear part needs vector mode (it forecasts after the window's last step only)",
        );
      if (linear.length !== settings.targets.length)
        throw new ForecastInputError(`${linear.length} linear models for ${settings.targets.length} targets`);
      for (const ar of linear) {
        if (ar.horizon !== model.config.horizon)
          throw new ForecastInputError(
            `the linear part predicts ${ar.horizon} values at once, the network ${model.config.horizon}`,
          );
        if (ar.order > settings.window)
          throw new ForecastInputError(
            `the linear part's order ${ar.order} is longer than the window ${settings.window}`,
          );
      }
    }
  }

  get window(): number {
    return this.settings.window;
  }

  /** Raw rows a window needs: the model's window plus the values differencing consumes. */
  get rawWindow(): number {
    return this.settings.window + this.settings.transform.lost;
  }

  /** A raw column (input column `column`) in model units: n − transform.lost values. */
  columnToModel(values: ArrayLike<number>, column: number): Float64Array {
    let y: Float64Array;
    try {
      y = this.settings.transform.forward(values);
    } catch (e) {
      throw new ForecastInputError(`column "${this.settings.inputs[column]}": ${(e as Error).message}`);
    }
    const scaler = this.settings.scaler;
    return scaler === null ? y : y.map((v) => scaler.transformValue(v, column));
  }

  /** Model-unit forecasts of input column `column` back in raw units, continuing the raw `history` of that column. */
  columnFromModel(history: ArrayLike<number>, forecast: ArrayLike<number>, column: number): Float64Array {
    const scaler = this.settings.scaler;
    const unscaled = Float64Array.from(forecast, (v) => (scaler === null ? v : scaler.inverseValue(v, column)));
    return this.settings.transform.inverse(history, unscaled);
  }

  /** Column `column` of a step-major [steps · F] array. */
  private column(values: ArrayLike<number>, column: number, width: number): Float64Array {
    return Float64Array.from({ length: values.length / width }, (_, t) => values[t * width + column]!);
  }

  /** A raw window [steps · F] (step-major, at least rawWindow steps) → model units [(steps − lost) · F]. */
  windowToModel(window: Float32Array): Float32Array {
    const F = this.settings.inputs.length;
    if (window.length % F !== 0 || window.length / F <= this.settings.transform.lost) {
      throw new ForecastInputError(
        `a window of ${window.length / F} steps leaves none after differencing (${this.settings.transform.lost} values)`,
      );
    }
    const columns = Array.from({ length: F }, (_, f) => this.columnToModel(this.column(window, f, F), f));
    const steps = columns[0]!.length;
    const out = new Float32Array(steps * F);
    for (let t = 0; t < steps; t++) for (let f = 0; f < F; f++) out[t * F + f] = columns[f]![t]!;
    return out;
  }

  /** The linear part's forecasts [k · G] (step-major) after a model-unit window [steps · F], or zeros. */
  private linearPart(modelWindow: Float32Array): Float32Array {
    const k = this.model.config.horizon;
    const G = this.targetColumns.length;
    const out = new Float32Array(k * G);
    const linear = this.settings.linear;
    if (linear === null) return out;
    const F = this.settings.inputs.length;
    this.targetColumns.forEach((c, g) => {
      const f = linear[g]!.forecast(this.column(modelWindow, c, F), k);
      for (let h = 0; h < k; h++) out[h * G + g] = f[h]!;
    });
    return out;
  }

  /**
   * Raw windows and targets → model units, for training: the window of `rawWindow` steps becomes `window` steps; the
   * targets ('vector' [k·G] or 'sequence' [steps·k·G], raw) become the model-unit values after each step, less the
   * linear part's forecast when there is one.
   */
  exampleToModel(e: WindowExample): WindowExample {
    const F = this.settings.inputs.length;
    const G = this.targetColumns.length;
    const k = this.model.config.horizon;
    const input = this.windowToModel(e.input);
    const W = input.length / F;
    const rawSteps = e.input.length / F;
    const vector = this.model.config.mode === 'vector';
    const target = new Float32Array((vector ? 1 : W) * k * G);
    this.targetColumns.forEach((c, g) => {
      // The target column's raw path: the window, then the k values after its last step.
      const path = Float64Array.from({ length: rawSteps + k }, (_, t) => {
        if (t < rawSteps) return e.input[t * F + c]!;
        const h = t - rawSteps;
        return vector ? e.target[h * G + g]! : e.target[((rawSteps - 1) * k + h) * G + g]!;
      });
      const z = this.columnToModel(path, c); // W + k values
      for (let p = 0; p < (vector ? 1 : W); p++) {
        const t = vector ? W - 1 : p;
        for (let h = 1; h <= k; h++) target[(p * k + (h - 1)) * G + g] = z[t + h]!;
      }
    });
    if (this.settings.linear !== null) {
      const linear = this.linearPart(input);
      for (let i = 0; i < target.length; i++) target[i]! -= linear[i]!;
    }
    return { start: e.start, input, target };
  }

  /** The batch of model-unit examples the loss reads (targets laid out as ForecastBatch says). */
  batch(examples: readonly WindowExample[]): ForecastBatch {
    const F = this.settings.inputs.length;
    const inputs = featureBatch(
      examples.map((e) => e.input),
      F,
    );
    const O = this.model.outputSize;
    const B = examples.length;
    if (this.model.config.mode === 'vector') {
      const expected = new Float32Array(B * O);
      examples.forEach((e, b) => expected.set(e.target.subarray(0, O), b * O));
      return { ...inputs, expected };
    }
    // 'sequence': step t of example b at row t·B + b (time-major), as the predictions.
    const T = inputs.steps;
    const expected = new Float32Array(T * B * O);
    const expectedMask = new Float32Array(T * B);
    examples.forEach((e, b) => {
      const steps = e.target.length / O;
      for (let t = 0; t < steps; t++) {
        expected.set(e.target.subarray(t * O, (t + 1) * O), (t * B + b) * O);
        expectedMask[t * B + b] = inputs.mask[t * B + b]!;
      }
    });
    return { ...inputs, expected, expectedMask };
  }

  /** Forecasts [k · G] in model units (network plus linear part) after model-unit windows, in batches. */
  forecastModelWindows(windows: readonly Float32Array[], batchSize = 256): Float32Array[] {
    checkBatchSize(batchSize);
    const F = this.settings.inputs.length;
    const out: Float32Array[] = [];
    for (let i = 0; i < windows.length; i += batchSize) {
      const part = windows.slice(i, i + batchSize);
      const network = this.model.forecast(featureBatch(part, F));
      network.forEach((f, b) => {
        const linear = this.linearPart(part[b]!);
        out.push(f.map((v, j) => v + linear[j]!));
      });
    }
    return out;
  }

  /** Forecasts (k·G values each, raw units) after raw windows [steps · F] of at least rawWindow steps. */
  forecastWindows(windows: readonly Float32Array[], batchSize = 256): Float32Array[] {
    const F = this.settings.inputs.length;
    const G = this.targetColumns.length;
    const k = this.model.config.horizon;
    const inModel = windows.map((w) => this.windowToModel(w));
    return this.forecastModelWindows(inModel, batchSize).map((f, b) => {
      const raw = new Float32Array(k * G);
      this.targetColumns.forEach((c, g) => {
        const back = this.columnFromModel(this.column(windows[b]!, c, F), this.column(f, g, G), c);
        for (let h = 0; h < k; h++) raw[h * G + g] = back[h]!;
      });
      return raw;
    });
  }

  /**
   * The `steps` values after raw `columns` (one array per input column) per target column, `horizon` at a time from
   * the last rawWindow rows; past the horizon, forecasts are fed back as inputs (every input must be predicted).
   */
  forecastAhead(columns: readonly ArrayLike<number>[], steps: number): Float64Array[] {
    // The chunks first: their checks run before `steps` values are allocated.
    const chunks = [...this.forecastChunks(columns, steps)];
    return this.settings.targets.map((_, g) => {
      const out = new Float64Array(steps);
      for (const { first, values } of chunks) out.set(values[g]!, first);
      return out;
    });
  }

  /** forecastAhead's values a window at a time: memory is one window whatever `steps` asks (the CLI streams them). */
  *forecastChunks(columns: readonly ArrayLike<number>[], steps: number): Generator<ForecastChunk> {
    const F = this.settings.inputs.length;
    const W = this.rawWindow;
    if (columns.length !== F)
      throw new ForecastInputError(
        `${columns.length} columns given, the model reads ${F} (${this.settings.inputs.join(', ')})`,
      );
    const n = columns[0]!.length;
    if (n < W) throw new ForecastInputError(`the series has ${n} rows, fewer than the model's window of ${W}`);
    if (!(Number.isSafeInteger(steps) && steps >= 1))
      throw new ForecastInputError(`steps ahead must be a whole number ≥ 1, got ${steps}`, 'steps');
    const k = this.model.config.horizon;
    const G = this.targetColumns.length;
    if (steps > k && G !== F)
      throw new ForecastInputError(
        `forecasting ${steps} steps with a horizon of ${k} feeds forecasts back as inputs, which needs every input column predicted`,
        'steps',
      );
    // The last W rows of each input column, forecasts appended as they are fed back.
    let history = columns.map((c) => Array.from(c).slice(n - W));
    for (let done = 0; done < steps;) {
      const window = new Float32Array(W * F);
      for (let t = 0; t < W; t++)
        for (let f = 0; f < F; f++) window[t * F + f] = history[f]![history[f]!.length - W + t]!;
      const forecast = this.forecastWindows([window])[0]!;
      const count = Math.min(k, steps - done);
      const values = this.settings.targets.map(() => new Float64Array(count));
      for (let h = 0; h < count; h++) {
        for (let g = 0; g < G; g++) values[g]![h] = forecast[h * G + g]!;
        if (G === F) for (let f = 0; f < F; f++) history[f]!.push(forecast[h * G + this.targetColumns.indexOf(f)]!);
      }
      history = history.map((c) => (c.length > 2 * W ? c.slice(-W) : c));
      yield { first: done, values };
      done += count;
    }
  }

  /** One line: window, transform, scaling and linear part. */
  describe(): string {
    const s = this.settings;
    const linear =
      s.linear === null ? 'no linear part' : `plus linear AR(${s.linear[0]!.order}) (the network learns its residual)`;
    return `window ${s.window} (${this.rawWindow} raw rows); ${s.transform.describe()}; scaling ${s.scaler?.kind ?? 'none'}; ${linear}`;
  }

  savedForm(): { kind: typeof FORECASTER_KIND; config: ForecasterConfig; extra: ForecasterExtra } {
    const { scaler, transform, linear, ...rest } = this.settings;
    return {
      kind: FORECASTER_KIND,
      config: this.model.config,
      extra: {
        ...rest,
        scaler: scaler === null ? null : scaler.toJSON(),
        transform: transform.toJSON(),
        linear: linear === null ? null : linear.map((l) => l.toJSON()),
      },
    };
  }

  async save(dir: string): Promise<void> {
    const { kind, config, extra } = this.savedForm();
    const { manifest, data } = this.model.params.serialize();
    await saveModelFiles(dir, kind, config, manifest, data, extra);
  }

  static async load(dir: string): Promise<SeriesForecaster> {
    const { json, data } = await loadModelFiles<ForecasterConfig, ForecasterExtra>(dir, FORECASTER_KIND);
    return SeriesForecaster.fromSaved(json, data, `${dir}/model.json`);
  }

  static fromSaved(
    json: SavedModelJson<ForecasterConfig, ForecasterExtra>,
    data: Float32Array,
    where: string,
  ): SeriesForecaster {
    const e = json.extra;
    const names = (x: unknown): x is string[] =>
      Array.isArray(x) && x.length > 0 && x.every((s) => typeof s === 'string');
    if (
      e === null ||
      typeof e !== 'object' ||
      !names(e.inputs) ||
      !names(e.targets) ||
      !(Number.isInteger(e.window) && e.window > 0)
    ) {
      throw new ModelFileError(
        `${where}: extra must hold inputs and targets (column names) and window (a whole number)`,
      );
    }
    const scaler = e.scaler === null ? null : Scaler.fromJSON(e.scaler, `${where} scaler`);
    // Models saved before transforms existed name only "none" or "log".
    const transform =
      e.transform === 'none'
        ? new SeriesTransform()
        : e.transform === 'log'
          ? new SeriesTransform({ boxCox: 0 })
          : SeriesTransform.fromJSON(e.transform, `${where} transform`);
    const linear =
      e.linear === undefined || e.linear === null
        ? null
        : Array.isArray(e.linear)
          ? e.linear.map((l, i) => LinearAutoregression.fromJSON(l, `${where} linear[${i}]`))
          : null;
    const built = builtFrom(where, () => new Forecaster({ ...DEFAULT_FORECASTER_CONFIG, ...json.config }));
    const model = withSavedWeights(built, json, data, where);
    try {
      return new SeriesForecaster(model, {
        scaler,
        transform,
        window: e.window,
        inputs: e.inputs,
        targets: e.targets,
        linear,
      });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
