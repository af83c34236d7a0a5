// What a task gives the training loop (src/train/loop.ts): its model's loss, its batches, its validation and what
// its model directory holds. Translation (src/translation/task.ts) and the heads (src/heads/*/…Task.ts) implement it.
import type * as tf from '@tensorflow/tfjs-core';
import type { Rng } from '../random.js';
import type { Params } from '../model/params.js';
import type { SequenceLossOptions } from '../loss/sequenceLoss.js';
import type { MetricDirection } from './earlyStopping.js';
import type { LossKind } from './curves.js';
import type { SavedModelForm } from './checkpoints.js';

/** How a loss is computed: training (dropout, sampled softmax, drawing from rng) or evaluation. */
export interface LossContext {
  training: boolean;
  rng?: Rng;
  loss?: Partial<SequenceLossOptions>;
}

/** A model the loop can train: its weights and a scalar training loss for a batch. */
export interface TrainableModel<B> {
  readonly params: Params;
  /** The loss to minimise; `context.training` is true and `context.rng` is the run's generator. */
  loss(batch: B, context: LossContext): tf.Scalar;
}

export interface TrainingBatch<B> {
  batch: B;
  /** Real target tokens (or items) in the batch: the unit of the tokens/s figure. */
  tokens: number;
}

/** What a task gives the loop. Translation is the first (TranslationTask); the other heads implement the same. */
export interface TrainingTask<B> {
  readonly model: TrainableModel<B>;
  /** The next training batch; the task's sampler moves on, starting a new (reshuffled) epoch when one is used up. */
  nextBatch(): TrainingBatch<B>;
  /** The sampler's position as JSON (e.g. BatchSampler.getState), saved in checkpoints… */
  samplerState(): unknown;
  /** …and restored on resume. */
  setSamplerState(state: unknown): void;
  /** The current epoch (0-based), for the log. */
  epoch(): number;
  /** The metrics validate() reports, and which way is better for each. */
  readonly metrics: Readonly<Record<string, MetricDirection>>;
  /** Evaluates on validation data without dropout and with the full softmax. Must not draw from the training stream. */
  validate(): Record<string, number>;
  /** What model.json holds besides the weights (kind, model config, vocabularies…). */
  savedForm(): SavedModelForm;
  /** What the loss is, for the curves (default: cross-entropy in nats/token). */
  readonly lossKind?: LossKind;
}
