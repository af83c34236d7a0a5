// The sequence classifier as a training task for the shared loop: shuffled, length-grouped batches of labelled
// examples (token ids or feature sequences), and validation by loss, accuracy and macro-F1 (shares in percent).
import * as tf from '@tensorflow/tfjs-core';
import { maskedCrossEntropy } from '../../loss/crossEntropy.js';
import type { MetricDirection } from '../../train/earlyStopping.js';
import { TrainingConfigError } from '../../train/options.js';
import type { SavedModelForm } from '../../train/checkpoints.js';
import type { ClassifierBatch } from './classifier.js';
import { classificationReport } from '../../metrics/scores.js';
import { EpochSampler, EpochSampledTask } from '../epochSampler.js';
import type { TextClassifier, ClassifierExample } from './textClassifier.js';
import type { LossContext, TrainableModel, TrainingBatch, TrainingTask } from '../../train/task.js';

export interface ClassifierTaskOptions {
  /** Examples per training batch (default 32). */
  batchSize: number;
  /** Seed of the order of training examples (default 1). */
  seed: number;
  /** Examples per validation batch (default 128). */
  validBatchSize: number;
}

export const DEFAULT_CLASSIFIER_TASK: ClassifierTaskOptions = { batchSize: 32, seed: 1, validBatchSize: 128 };

export interface LabelledExamples {
  examples: readonly ClassifierExample[];
  /** Class ids, one per example. */
  labels: readonly number[];
}

export class ClassifierTask extends EpochSampledTask implements TrainingTask<ClassifierBatch> {
  readonly options: ClassifierTaskOptions;
  readonly model: TrainableModel<ClassifierBatch>;
  readonly sampler: EpochSampler;
  readonly metrics: Readonly<Record<string, MetricDirection>> = {
    loss: 'lower',
    accuracy: 'higher',
    macroF1: 'higher',
  };
  /** One label per example: the cross-entropy is per example, not per token. */
  readonly lossKind = { name: 'cross-entropy', unit: 'nats/example' };

  constructor(
    readonly classifier: TextClassifier,
    private readonly data: { train: LabelledExamples; valid: LabelledExamples },
    options: Partial<ClassifierTaskOptions> = {},
  ) {
    super();
    this.options = { ...DEFAULT_CLASSIFIER_TASK, ...options };
    for (const [name, part] of [
      ['training', data.train],
      ['validation', data.valid],
    ] as const) {
      if (part.examples.length === 0)
        throw new TrainingConfigError(
          `classifier training needs ${name} examples (none were given${name === 'validation' ? ' or held out' : ''})`,
        );
      if (part.examples.length !== part.labels.length)
        throw new TrainingConfigError(`${part.examples.length} ${name} examples but ${part.labels.length} labels`);
    }
    const model = classifier.model;
    this.model = {
      params: model.params,
      loss: (batch: ClassifierBatch, context: LossContext) => model.loss(batch, context),
    };
    const F = classifier.input.kind === 'features' ? classifier.input.featureSize : 1;
    this.sampler = new EpochSampler(
      data.train.examples.length,
      { batchSize: this.options.batchSize, seed: this.options.seed },
      data.train.examples.map((e) => e.length / F),
    );
  }

  nextBatch(): TrainingBatch<ClassifierBatch> {
    const picked = this.sampler.next();
    const { examples, labels } = this.data.train;
    return {
      batch: this.classifier.labelledBatch(
        picked.map((i) => examples[i]!),
        picked.map((i) => labels[i]!),
      ),
      tokens: picked.length,
    };
  }

  /** loss: mean cross-entropy; accuracy and macroF1 in percent (no dropout). */
  validate(): Record<string, number> {
    const { examples, labels } = this.data.valid;
    const size = this.options.validBatchSize;
    let lossSum = 0;
    const predicted: number[] = [];
    for (let i = 0; i < examples.length; i += size) {
      const batch = this.classifier.labelledBatch(examples.slice(i, i + size), labels.slice(i, i + size));
      const [loss, argmax] = tf.tidy(() => {
        const logits = this.classifier.model.logits(batch);
        const loss = maskedCrossEntropy(logits, batch.labels, new Float32Array(batch.size).fill(1));
        return [loss.dataSync()[0]!, tf.argMax(logits, 1).dataSync() as Int32Array] as const;
      });
      lossSum += loss * batch.size;
      predicted.push(...argmax);
    }
    const report = classificationReport(predicted, labels, this.classifier.labels.size);
    return { loss: lossSum / examples.length, accuracy: 100 * report.accuracy, macroF1: 100 * report.macroF1 };
  }

  savedForm(): SavedModelForm {
    return this.classifier.savedForm();
  }
}
