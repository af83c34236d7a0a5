// Sequence classifier: a recurrent layer reads the sequence (token ids or feature vectors) and a dense layer maps a
// summary of it to class logits. The summary is the final state (each sequence's state at its last real step, so
// padding never leaks in), the mean or max of the outputs over the real steps, or their attention-weighted sum
// (Yang et al., "Hierarchical Attention Networks for Document Classification", 2016: u_t = tanh(W·h_t + b),
// α = softmax over real steps of u_t·v, summary Σ α_t·h_t), which lets a sentence's telling words count most.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../random.js';
import { Params } from '../../model/params.js';
import { oneOfProblem, refuseProblems, seedProblem, wholeNumberProblem } from '../../model/configChecks.js';
import { dense } from '../../layers/dense.js';
import { maskedCrossEntropy } from '../../loss/crossEntropy.js';
import { hiddenPart } from '../../recurrent/rnn.js';
import { DEFAULT_CELL, type CellOptions } from '../../recurrent/cell.js';
import { NO_DROPOUT, type DropoutOptions } from '../../layers/dropout.js';
import { SequenceReader, type InputSpec, type SequenceBatch } from '../sequenceInput.js';
import type { LossContext } from '../../train/task.js';

export interface ClassifierConfig {
  input: InputSpec;
  /** Number of classes. */
  classes: number;
  /** Recurrent units (default 128). */
  hiddenSize: number;
  cell: CellOptions;
  /** 'final' state (default), 'mean' / 'max' of the outputs over real steps, or 'attention'. */
  pooling: 'final' | 'mean' | 'max' | 'attention';
  /** Width of the attention scorer's hidden layer (default 64; 'attention' pooling only). */
  attentionSize: number;
  /** Keep probability of each word type in a training batch (token inputs; default 1: no embedding dropout). */
  embeddingKeep: number;
  /** Stacked recurrent layers (default 1). */
  layers: number;
  /** Read each sequence in both directions; the summary is [fwd | bwd] (default false). */
  bidirectional: boolean;
  /** Keep probabilities of layer inputs, outputs and state, in training only (default 1: none). */
  dropout: DropoutOptions;
  /** Seed for the initial weights (default 1). */
  seed: number;
}

const POOLINGS: readonly ClassifierConfig['pooling'][] = ['final', 'mean', 'max', 'attention'];

export const DEFAULT_CLASSIFIER_CONFIG: Omit<ClassifierConfig, 'input' | 'classes'> = {
  hiddenSize: 128,
  cell: DEFAULT_CELL,
  pooling: 'final',
  attentionSize: 64,
  embeddingKeep: 1,
  layers: 1,
  bidirectional: false,
  dropout: NO_DROPOUT,
  seed: 1,
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
  constructor(
    config: Omit<ClassifierConfig, 'layers' | 'bidirectional' | 'dropout' | 'attentionSize' | 'embeddingKeep'> &
      Partial<ClassifierConfig>,
  ) {
    this.config = { ...DEFAULT_CLASSIFIER_CONFIG, ...config, dropout: { ...NO_DROPOUT, ...config.dropout } };
    config = this.config;
    refuseProblems(
      wholeNumberProblem('classes', config.classes, 2),
      oneOfProblem('pooling', config.pooling, POOLINGS),
      config.pooling === 'attention' ? wholeNumberProblem('attentionSize', config.attentionSize) : null,
      seedProblem(config.seed),
    );
    this.params = new Params(new Rng(config.seed));
    this.reader = new SequenceReader(
      this.params,
      'classifier',
      config.input,
      config.hiddenSize,
      { ...DEFAULT_CELL, ...config.cell },
      {
        layers: this.config.layers,
        bidirectional: this.config.bidirectional,
        dropout: this.config.dropout,
        embeddingKeep: this.config.embeddingKeep,
      },
    );
    const H = this.reader.outputSize;
    if (config.pooling === 'attention') {
      const A = this.config.attentionSize;
      this.params.create('classifier/attention/W', [H, A], { kind: 'uniform', scale: 1 / Math.sqrt(H) });
      this.params.create('classifier/attention/b', [A], { kind: 'zeros' });
      this.params.create('classifier/attention/v', [A, 1], { kind: 'uniform', scale: 1 / Math.sqrt(A) });
    }
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
    if (this.config.pooling === 'attention') {
      const alpha = this.attention(outputs, batch); // [T, B]
      return tf.sum<tf.Tensor2D>(tf.mul(outputs, tf.expandDims(alpha, 2)), 0);
    }
    if (this.config.pooling === 'mean') {
      const lengths = tf.maximum(tf.tensor2d(Float32Array.from(batch.lengths), [B, 1]), 1);
      return tf.div<tf.Tensor2D>(tf.sum(outputs, 0), lengths);
    }
    // max over real steps only: padding is pushed far below any output (outputs are in (−1, 1) for tanh cells).
    return tf.max<tf.Tensor2D>(tf.add(outputs, tf.mul(tf.sub(mask, 1), 1e9)), 0);
  }

  /** Attention weights [T, B] over each sequence's real steps (0 at padding, summing to 1 per sequence). */
  private attention(outputs: tf.Tensor3D, batch: SequenceBatch): tf.Tensor2D {
    const [T, B] = [batch.steps, batch.size];
    const H = this.reader.outputSize;
    const u = tf.tanh(
      dense(
        tf.reshape<tf.Rank.R2>(outputs, [T * B, H]),
        this.params.get('classifier/attention/W') as tf.Tensor2D,
        this.params.get('classifier/attention/b') as tf.Tensor1D,
      ),
    );
    const scores = tf.reshape(tf.matMul(u, this.params.get('classifier/attention/v')), [T, B]);
    // Padding scores far below any real one: softmax gives it weight 0 (every sequence has at least one real step).
    const masked = tf.add(scores, tf.mul(tf.sub(tf.tensor2d(batch.mask, [T, B]), 1), 1e9));
    return tf.transpose(tf.softmax(tf.transpose(masked))) as tf.Tensor2D;
  }

  /** The attention weights of each sequence over its real steps ('attention' pooling), for inspection. */
  attentionWeights(batch: SequenceBatch): Float32Array[] {
    if (this.config.pooling !== 'attention')
      throw new RangeError(`attention weights need 'attention' pooling, this model pools by '${this.config.pooling}'`);
    const a = tf.tidy(() => this.attention(this.reader.read(batch).outputs, batch));
    const values = a.dataSync() as Float32Array;
    a.dispose();
    return Array.from({ length: batch.size }, (_, b) =>
      Float32Array.from({ length: batch.lengths[b]! }, (_, t) => values[t * batch.size + b]!),
    );
  }

  /** Class logits [B, classes]; `rng` (training) draws dropout masks, null means none. */
  logits(batch: SequenceBatch, rng: Rng | null = null): tf.Tensor2D {
    return tf.tidy(() =>
      dense(
        this.summary(batch, rng),
        this.params.get('classifier/output/W') as tf.Tensor2D,
        this.params.get('classifier/output/b') as tf.Tensor1D,
      ),
    );
  }

  /** Mean cross-entropy of the labels; in training (context.training with an rng) with dropout. */
  loss(batch: ClassifierBatch, context: LossContext = { training: false }): tf.Scalar {
    const rng = context.training ? (context.rng ?? null) : null;
    return tf.tidy(() =>
      maskedCrossEntropy(this.logits(batch, rng), batch.labels, new Float32Array(batch.size).fill(1)),
    );
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
