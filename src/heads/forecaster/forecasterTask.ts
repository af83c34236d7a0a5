// The forecaster as a training task for the shared loop: shuffled batches of windows (in model units: transformed
// and scaled), and validation by the loss (scaled MSE over every predicted value) and by the forecast after each
// window's last step in the data's own units: mse, rmse and the MSE of the k-th (last) step ahead.
import type { MetricDirection } from '../../train/earlyStopping.js';
import { TrainingConfigError } from '../../train/options.js';
import type { SavedModelForm } from '../../train/checkpoints.js';
import type { WindowExample } from '../../data/series/timeSeries.js';
import type { ForecastBatch } from './forecaster.js';
import { scoreForecasts } from './baselines.js';
import { EpochSampler, EpochSampledTask } from '../epochSampler.js';
import type { SeriesForecaster } from './seriesForecaster.js';
import type { LossContext, TrainableModel, TrainingBatch, TrainingTask } from '../../train/task.js';

export interface ForecasterTaskOptions {
  /** Windows per training batch (default 32). */
  batchSize: number;
  /** Seed of the order of training windows (default 1). */
  seed: number;
  /** Windows per validation batch (default 256). */
  validBatchSize: number;
}

export const DEFAULT_FORECASTER_TASK: ForecasterTaskOptions = { batchSize: 32, seed: 1, validBatchSize: 256 };

export class ForecasterTask extends EpochSampledTask implements TrainingTask<ForecastBatch> {
  readonly options: ForecasterTaskOptions;
  readonly model: TrainableModel<ForecastBatch>;
  readonly sampler: EpochSampler;
  readonly metrics: Readonly<Record<string, MetricDirection>> = {
    loss: 'lower',
    mse: 'lower',
    rmse: 'lower',
    lastStepMse: 'lower',
  };
  /** The loss is the MSE of the scaled values (the model's units), not a cross-entropy. */
  readonly lossKind = { name: 'MSE', unit: 'scaled units²' };
  private readonly train: WindowExample[];
  private readonly valid: WindowExample[];
  /** The validation windows' raw inputs and raw last-step targets [k · targets]. */
  private readonly validRaw: { windows: Float32Array[]; targets: Float32Array[] };

  /** `data`: raw windows (makeWindows of forecaster.rawWindow steps in the model's mode, raw units); the task converts them to model units. */
  constructor(
    readonly forecaster: SeriesForecaster,
    data: { train: readonly WindowExample[]; valid: readonly WindowExample[] },
    options: Partial<ForecasterTaskOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_FORECASTER_TASK, ...options };
    if (data.train.length === 0)
      throw new TrainingConfigError(
        'forecaster training needs training windows (the series is shorter than window + horizon?)',
      );
    if (data.valid.length === 0)
      throw new TrainingConfigError('forecaster training needs validation windows (none were given or held out)');
    this.train = data.train.map((e) => forecaster.exampleToModel(e));
    this.valid = data.valid.map((e) => forecaster.exampleToModel(e));
    const O = forecaster.model.outputSize;
    this.validRaw = {
      windows: data.valid.map((e) => e.input),
      targets: data.valid.map((e) => e.target.slice(e.target.length - O)),
    };
    const model = forecaster.model;
    this.model = {
      params: model.params,
      loss: (batch: ForecastBatch, context: LossContext) => model.loss(batch, context),
    };
    this.sampler = new EpochSampler(this.train.length, { batchSize: this.options.batchSize, seed: this.options.seed });
  }

  nextBatch(): TrainingBatch<ForecastBatch> {
    const picked = this.sampler.next().map((i) => this.train[i]!);
    return { batch: this.forecaster.batch(picked), tokens: picked.length };
  }

  validate(): Record<string, number> {
    const size = this.options.validBatchSize;
    let lossSum = 0;
    for (let i = 0; i < this.valid.length; i += size) {
      const part = this.valid.slice(i, i + size);
      const loss = this.forecaster.model.loss(this.forecaster.batch(part));
      lossSum += loss.dataSync()[0]! * part.length;
      loss.dispose();
    }
    const forecasts = this.forecaster.forecastWindows(this.validRaw.windows, size);
    const s = scoreForecasts(forecasts, this.validRaw.targets);
    // With several target columns, "last step" is the last block of them.
    const G = this.forecaster.targetColumns.length;
    const k = this.forecaster.model.config.horizon;
    const last = G === 1 ? s.lastStepMse : s.mseByStep.slice((k - 1) * G).reduce((a, b) => a + b, 0) / G;
    return { loss: lossSum / this.valid.length, mse: s.mse, rmse: s.rmse, lastStepMse: last };
  }

  savedForm(): SavedModelForm {
    return this.forecaster.savedForm();
  }
}
