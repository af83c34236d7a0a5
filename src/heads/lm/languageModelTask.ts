// The language model as a training task for the shared loop (src/train/loop.ts): shuffled, length-grouped batches
// of training lines, and validation by the mean next-token loss (full softmax) and its perplexity.
import type { MetricDirection } from '../../train/earlyStopping.js';
import { TrainingConfigError } from '../../train/options.js';
import type { SavedModelForm } from '../../train/checkpoints.js';
import type { SequenceLossOptions } from '../../loss/sequenceLoss.js';
import { makeLmBatch, type LmBatch } from './languageModel.js';
import { EpochSampler, EpochSampledTask } from '../epochSampler.js';
import type { TextLanguageModel } from './textLanguageModel.js';
import type { LossContext, TrainableModel, TrainingBatch, TrainingTask } from '../../train/task.js';

export interface LanguageModelTaskOptions {
  /** Lines per training batch (default 32). */
  batchSize: number;
  /** Seed of the order of training lines (default 1). */
  seed: number;
  /** Lines per validation batch (default 128). */
  validBatchSize: number;
  /**
   * The training loss: e.g. { softmax: 'sampled', numSampled: 512 } for the sampled softmax of Jean et al. (2015),
   * "On Using Very Large Target Vocabulary for Neural Machine Translation" (default {}: the full softmax). Loss options
   * the loop passes in the context (RunOptions.loss) take precedence. Validation always uses the full softmax.
   */
  loss: Partial<SequenceLossOptions>;
}

export const DEFAULT_LANGUAGE_MODEL_TASK: LanguageModelTaskOptions = {
  batchSize: 32,
  seed: 1,
  validBatchSize: 128,
  loss: {},
};

export class LanguageModelTask extends EpochSampledTask implements TrainingTask<LmBatch> {
  readonly options: LanguageModelTaskOptions;
  readonly model: TrainableModel<LmBatch>;
  readonly sampler: EpochSampler;
  readonly metrics: Readonly<Record<string, MetricDirection>> = { loss: 'lower', perplexity: 'lower' };
  private readonly train: number[][];
  private readonly valid: number[][];

  /** `data` holds token ids per line (TextLanguageModel.encode); empty lines are dropped. */
  constructor(
    readonly lm: TextLanguageModel,
    data: { train: readonly number[][]; valid: readonly number[][] },
    options: Partial<LanguageModelTaskOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_LANGUAGE_MODEL_TASK, ...options };
    this.train = data.train.filter((s) => s.length > 0);
    this.valid = data.valid.filter((s) => s.length > 0).sort((a, b) => a.length - b.length);
    if (this.train.length === 0)
      throw new TrainingConfigError('language-model training needs training lines (none ' + 'were given)');
    if (this.valid.length === 0)
      throw new TrainingConfigError(
        'language-model training needs validation lines ' + '(none were given or held out)',
      );
    const model = lm.model;
    const loss = this.options.loss;
    this.model = {
      params: model.params,
      loss: (batch: LmBatch, context: LossContext) =>
        model.loss(batch, { ...context, loss: { ...loss, ...context.loss } }),
    };
    this.sampler = new EpochSampler(
      this.train.length,
      { batchSize: this.options.batchSize, seed: this.options.seed },
      this.train.map((s) => s.length),
    );
  }

  nextBatch(): TrainingBatch<LmBatch> {
    const lines = this.sampler.next().map((i) => this.train[i]!);
    // Each line predicts its tokens and EOS.
    return { batch: makeLmBatch(lines), tokens: lines.reduce((n, s) => n + s.length + 1, 0) };
  }

  /** loss: mean cross-entropy per predicted token (EOS included), full softmax; perplexity: e^loss. */
  validate(): Record<string, number> {
    let nll = 0;
    let tokens = 0;
    for (let i = 0; i < this.valid.length; i += this.options.validBatchSize) {
      const r = this.lm.model.score(makeLmBatch(this.valid.slice(i, i + this.options.validBatchSize)));
      nll += r.nll;
      tokens += r.tokens;
    }
    const loss = nll / tokens;
    return { loss, perplexity: Math.exp(loss) };
  }

  savedForm(): SavedModelForm {
    return this.lm.savedForm();
  }
}
