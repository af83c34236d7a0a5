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
import { NO_DROPOUT, type DropoutOptions } from '../layers/dropout.js';
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
  /** Stacked recurrent layers (default 1). */
  layers: number;
  /** Read each sequence in both directions; the summary is [fwd | bwd] (default false). */
  bidirectional: boolean;
  /** Keep probabilities of layer inputs, outputs and state, in training only (default 1: none). */
  dropout: DropoutOptions;
  /** Seed for the initial weights (default 1). */
  seed: number;
}

export const DEFAULT_CLASSIFIER_CONFIG: Omit<ClassifierConfig, 'input' | 'classes'> = {
  hiddenSize: 128, cell: DEFAULT_CELL, pooling: 'final', layers: 1, bidirectional: false, dropout: NO_DROPOUT, seed: 1,
};

export interface ClassifierBatch extends SequenceBatch {
  /** [B] class ids. */
  labels: Int32Array;
}

export class SequenceClassifier {
  readonly params: Params;
  readonly reader: SequenceReader;

  readonly config: ClassifierConfig;

  /** Options missing from `config` (e.g. a model saved before they existed) take their defaults. */
  constructor(config: Omit<ClassifierConfig, 'layers' | 'bidirectional' | 'dropout'> & Partial<ClassifierConfig>) {
    this.config = { ...DEFAULT_CLASSIFIER_CONFIG, ...config, dropout: { ...NO_DROPOUT, ...config.dropout } };
    config = this.config;
    if (!(Number.isInteger(config.classes) && config.classes >= 2)) throw new RangeError(`a classifier needs at least 2 classes, got ${config.classes}`);
    this.params = new Params(new Rng(config.seed));
    this.reader = new SequenceReader(this.params, 'classifier', config.input, config.hiddenSize, { ...DEFAULT_CELL, ...config.cell }, {
      layers: this.config.layers, bidirectional: this.config.bidirectional, dropout: this.config.dropout,
    });
    const H = this.reader.outputSize;
    this.params.create('classifier/output/W', [H, config.classes], { kind: 'uniform', scale: 1 / Math.sqrt(H) });
    this.params.create('classifier/output/b', [config.classes], { kind: 'zeros' });
  }

  /** [B, H]: the pooled summary of each sequence. */
  private summary(batch: SequenceBatch, rng: Rng | null): tf.Tensor2D {
    const { outputs, final } = this.reader.read(batch, undefined, rng);
    const H = this.reader.outputSize;
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

  /** Class logits [B, classes]; `rng` (training) draws dropout masks, null means none. */
  logits(batch: SequenceBatch, rng: Rng | null = null): tf.Tensor2D {
    return tf.tidy(() => dense(this.summary(batch, rng), this.params.get('classifier/output/W') as tf.Tensor2D, this.params.get('classifier/output/b') as tf.Tensor1D));
  }

  /** Mean cross-entropy of the labels; in training (context.training with an rng) with dropout. */
  loss(batch: ClassifierBatch, context: LossContext = { training: false }): tf.Scalar {
    const rng = context.training ? (context.rng ?? null) : null;
    return tf.tidy(() => maskedCrossEntropy(this.logits(batch, rng), batch.labels, new Float32Array(batch.size).fill(1)));
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
