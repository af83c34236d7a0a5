// A forecaster with what it needs to read raw series and answer in their units: an optional log transform, the
// scaler fitted on the training rows, the window length and which columns it reads and predicts. Saved in one
// model directory (kind 'forecaster'), as the Translator does for translation.
//
// Values flow raw → (log) → scaled into the model, and predictions flow back scaled → unscaled → (exp).
import { Forecaster, DEFAULT_FORECASTER_CONFIG, type ForecasterConfig, type ForecastBatch } from './forecaster.js';
import { featureBatch } from './sequenceInput.js';
import { Scaler, type ScalerJson } from '../data/scaling.js';
import type { WindowExample } from '../data/timeSeries.js';
import { saveModelFiles, loadModelFiles, ModelFileError, type SavedModelJson } from '../model/checkpoint.js';
import { ToolkitError } from '../errors.js';

export const FORECASTER_KIND = 'forecaster';

export interface SeriesSettings {
  /** Scaler of the input columns (fitted on training rows, after the transform), or null: values enter as they are. */
  scaler: Scaler | null;
  /** 'log': the model reads and predicts log values (multiplicative seasonality becomes additive); default 'none'. */
  transform: 'none' | 'log';
  /** Steps each input window holds. */
  window: number;
  /** Names of the input columns, in the order of the features. */
  inputs: string[];
  /** Names of the predicted columns; each is one of the inputs. */
  targets: string[];
}

export interface ForecasterExtra extends Omit<SeriesSettings, 'scaler'> {
  scaler: ScalerJson | null;
}

export class ForecastInputError extends ToolkitError {
  override name = 'ForecastInputError';
}

export class SeriesForecaster {
  /** Position of each target among the inputs. */
  readonly targetColumns: number[];

  constructor(readonly model: Forecaster, readonly settings: SeriesSettings) {
    this.targetColumns = settings.targets.map((t) => {
      const i = settings.inputs.indexOf(t);
      if (i < 0) throw new ForecastInputError(`target column "${t}" is not one of the input columns (${settings.inputs.join(', ')})`);
      return i;
    });
    if (model.config.inputSize !== settings.inputs.length || model.config.targets !== settings.targets.length) {
      throw new ForecastInputError(`the model reads ${model.config.inputSize} and predicts ${model.config.targets} columns, the settings name ${settings.inputs.length} and ${settings.targets.length}`);
    }
  }

  get window(): number {
    return this.settings.window;
  }

  /** A raw value of input column `column` as the model sees it. */
  toModel(x: number, column: number): number {
    let y = x;
    if (this.settings.transform === 'log') {
      if (!(x > 0)) throw new ForecastInputError(`the log transform needs positive values, got ${x} in column "${this.settings.inputs[column]}"`);
      y = Math.log(x);
    }
    return this.settings.scaler === null ? y : this.settings.scaler.transformValue(y, column);
  }

  /** A model value of input column `column` back in raw units. */
  fromModel(y: number, column: number): number {
    const x = this.settings.scaler === null ? y : this.settings.scaler.inverseValue(y, column);
    return this.settings.transform === 'log' ? Math.exp(x) : x;
  }

  /** Raw columns (one array per input column) → model-unit columns. */
  columnsToModel(columns: readonly ArrayLike<number>[]): Float64Array[] {
    return columns.map((c, j) => Float64Array.from(c as ArrayLike<number>, (x) => this.toModel(x, j)));
  }

  /** A raw window [steps · F] (step-major) → model units. */
  windowToModel(window: Float32Array): Float32Array {
    const F = this.settings.inputs.length;
    return window.map((x, i) => this.toModel(x, i % F));
  }

  /** Model-unit forecasts [… · targets] (step-major) → raw units. */
  forecastFromModel(values: Float32Array): Float32Array {
    const G = this.targetColumns.length;
    return values.map((y, i) => this.fromModel(y, this.targetColumns[i % G]!));
  }

  /** Raw windows and targets ('vector' [k·G] or 'sequence' [W·k·G]) → model units, for training. */
  exampleToModel(e: WindowExample): WindowExample {
    const G = this.targetColumns.length;
    return { start: e.start, input: this.windowToModel(e.input), target: e.target.map((x, i) => this.toModel(x, this.targetColumns[i % G]!)) };
  }

  /** The batch of model-unit examples the loss reads (targets laid out as ForecastBatch says). */
  batch(examples: readonly WindowExample[]): ForecastBatch {
    const F = this.settings.inputs.length;
    const inputs = featureBatch(examples.map((e) => e.input), F);
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

  /** Forecasts (k·G values each, raw units) after raw windows [steps · F], in batches of `batchSize`. */
  forecastWindows(windows: readonly Float32Array[], batchSize = 256): Float32Array[] {
    const F = this.settings.inputs.length;
    const out: Float32Array[] = [];
    for (let i = 0; i < windows.length; i += batchSize) {
      const batch = featureBatch(windows.slice(i, i + batchSize).map((w) => this.windowToModel(w)), F);
      out.push(...this.model.forecast(batch).map((f) => this.forecastFromModel(f)));
    }
    return out;
  }

  /**
   * The `steps` values after the end of raw `columns` (one array per input column), per target column: `horizon` at a
   * time from the last `window` rows, feeding each forecast back as input for longer forecasts (which needs every
   * input to be predicted).
   */
  forecastAhead(columns: readonly ArrayLike<number>[], steps: number): Float64Array[] {
    const F = this.settings.inputs.length;
    const W = this.settings.window;
    if (columns.length !== F) throw new ForecastInputError(`${columns.length} columns given, the model reads ${F} (${this.settings.inputs.join(', ')})`);
    const n = columns[0]!.length;
    if (n < W) throw new ForecastInputError(`the series has ${n} rows, fewer than the model's window of ${W}`);
    if (!(Number.isInteger(steps) && steps >= 1)) throw new ForecastInputError(`steps ahead must be a whole number ≥ 1, got ${steps}`);
    const k = this.model.config.horizon;
    const G = this.targetColumns.length;
    if (steps > k && G !== F) throw new ForecastInputError(`forecasting ${steps} steps with a horizon of ${k} feeds forecasts back as inputs, which needs every input column predicted`);
    const history = columns.map((c) => Array.from(c as ArrayLike<number>).slice(n - W));
    const out = this.settings.targets.map(() => new Float64Array(steps));
    for (let done = 0; done < steps; ) {
      const window = new Float32Array(W * F);
      for (let t = 0; t < W; t++) for (let f = 0; f < F; f++) window[t * F + f] = history[f]![history[f]!.length - W + t]!;
      const forecast = this.forecastWindows([window])[0]!;
      for (let h = 0; h < k && done < steps; h++, done++) {
        for (let g = 0; g < G; g++) out[g]![done] = forecast[h * G + g]!;
        if (G === F) for (let f = 0; f < F; f++) history[f]!.push(forecast[h * G + this.targetColumns.indexOf(f)]!);
      }
    }
    return out;
  }

  savedForm(): { kind: typeof FORECASTER_KIND; config: ForecasterConfig; extra: ForecasterExtra } {
    const { scaler, ...rest } = this.settings;
    return { kind: FORECASTER_KIND, config: this.model.config, extra: { ...rest, scaler: scaler === null ? null : scaler.toJSON() } };
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

  static fromSaved(json: SavedModelJson<ForecasterConfig, ForecasterExtra>, data: Float32Array, where: string): SeriesForecaster {
    const e = json.extra;
    const names = (x: unknown): x is string[] => Array.isArray(x) && x.length > 0 && x.every((s) => typeof s === 'string');
    if (e === null || typeof e !== 'object' || !names(e.inputs) || !names(e.targets) || !(Number.isInteger(e.window) && e.window > 0) || (e.transform !== 'none' && e.transform !== 'log')) {
      throw new ModelFileError(`${where}: extra must hold inputs and targets (column names), window (a whole number) and transform ("none" or "log")`);
    }
    const scaler = e.scaler === null ? null : Scaler.fromJSON(e.scaler, `${where} scaler`);
    const model = new Forecaster({ ...DEFAULT_FORECASTER_CONFIG, ...json.config });
    try {
      model.params.load(json.weights.manifest, data, where);
      return new SeriesForecaster(model, { scaler, transform: e.transform, window: e.window, inputs: e.inputs, targets: e.targets });
    } catch (err) {
      model.dispose();
      throw err;
    }
  }

  dispose(): void {
    this.model.dispose();
  }
}
