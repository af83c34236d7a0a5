// Sequence classifier: a recurrent layer reads the sequence (token ids or feature vectors) and a dense layer maps a
// summary of it to class logits. The summary is the final state (each sequence's state at its last real step, so
// padding never leaks in), or the mean or max of the outputs over the real steps.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';
import { Params } from '../model/params.js';
import { dense } from '../layers/dense.js';
import { maskedCrossEntropy } from '../loss/crossEntropy.js';
import { hiddenPart } from '../encoder/rnn.js';
import { DEFAULT_CELL, type CellOptions } from '../encoder/cell.js';
import { SequenceReader, type InputSpec, type SequenceBatch } from './sequenceInput.js';
import type { LossContext } from '../model/seq2seq.js';

export interface ClassifierConfig {
  input: InputSpec;
  /** Number of classes. */
  classes: number;
  /** Recurrent units (default 128). */
  hiddenSize: number;
  cell: CellOptions;
  /** 'final' state (default), or 'mean' / 'max' of the outputs over real steps. */
  pooling: 'final' | 'mean' | 'max';
  /** Seed for the initial weights (default 1). */
  seed: number;
}

export const DEFAULT_CLASSIFIER_CONFIG: Omit<ClassifierConfig, 'input' | 'classes'> = { hiddenSize: 128, cell: DEFAULT_CELL, pooling: 'final', seed: 1 };

export interface ClassifierBatch extends SequenceBatch {
  /** [B] class ids. */
  labels: Int32Array;
}

export class SequenceClassifier {
  readonly params: Params;
  readonly reader: SequenceReader;

  constructor(readonly config: ClassifierConfig) {
    if (!(Number.isInteger(config.classes) && config.classes >= 2)) throw new RangeError(`a classifier needs at least 2 classes, got ${config.classes}`);
    this.params = new Params(new Rng(config.seed));
    this.reader = new SequenceReader(this.params, 'classifier', config.input, config.hiddenSize, { ...DEFAULT_CELL, ...config.cell });
    const H = config.hiddenSize;
    this.params.create('classifier/output/W', [H, config.classes], { kind: 'uniform', scale: 1 / Math.sqrt(H) });
    this.params.create('classifier/output/b', [config.classes], { kind: 'zeros' });
  }

  /** [B, H]: the pooled summary of each sequence. */
  private summary(batch: SequenceBatch): tf.Tensor2D {
    const { outputs, final } = this.reader.read(batch);
    const H = this.config.hiddenSize;
    if (this.config.pooling === 'final') return hiddenPart(final, H);
    const [T, B] = [batch.steps, batch.size];
    const mask = tf.reshape(tf.tensor1d(batch.mask), [T, B, 1]);
    if (this.config.pooling === 'mean') {
      const lengths = tf.maximum(tf.tensor2d(Float32Array.from(batch.lengths), [B, 1]), 1);
      return tf.div(tf.sum(outputs, 0), lengths) as tf.Tensor2D;
    }
    // max over real steps only: padding is pushed far below any output (outputs are in (−1, 1) for tanh cells).
    return tf.max(tf.add(outputs, tf.mul(tf.sub(mask, 1), 1e9)), 0) as tf.Tensor2D;
  }

  /** Class logits [B, classes]. */
  logits(batch: SequenceBatch): tf.Tensor2D {
    return tf.tidy(() => dense(this.summary(batch), this.params.get('classifier/output/W') as tf.Tensor2D, this.params.get('classifier/output/b') as tf.Tensor1D));
  }

  /** Mean cross-entropy of the labels. The context is accepted for the shared training loop (no dropout here). */
  loss(batch: ClassifierBatch, _context: LossContext = { training: false }): tf.Scalar {
    return maskedCrossEntropy(this.logits(batch), batch.labels, new Float32Array(batch.size).fill(1));
  }

  /** Class probabilities, one row per sequence. */
  predict(batch: SequenceBatch): Float32Array[] {
    const p = tf.tidy(() => tf.softmax(this.logits(batch)));
    const values = p.dataSync() as Float32Array;
    p.dispose();
    const C = this.config.classes;
    return Array.from({ length: batch.size }, (_, b) => values.slice(b * C, (b + 1) * C));
  }

  dispose(): void {
    this.params.dispose();
  }
}
