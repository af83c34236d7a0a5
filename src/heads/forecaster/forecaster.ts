// Time-series forecaster: a recurrent layer reads a window of (scaled) values and a dense layer predicts the next
// `horizon` values of each target series.
//   'vector'   (sequence-to-vector): from the final state only, the k values after the window's last step;
//   'sequence' (sequence-to-sequence, the stronger variant of "Hands-On Machine Learning"'s RNN chapter): at every step t the k values after t, so every
//              step of every window is a training signal; the forecast is the prediction at the last step.
// Scaling lives with the task (fitted on training data, saved beside the model); the model sees scaled values.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../random.js';
import { Params } from '../../model/params.js';
import { oneOfProblem, refuseProblems, seedProblem, wholeNumberProblem } from '../../model/configChecks.js';
import { dense } from '../../layers/dense.js';
import { hiddenPart } from '../../recurrent/rnn.js';
import { DEFAULT_CELL, type CellOptions } from '../../recurrent/cell.js';
import { NO_DROPOUT, type DropoutOptions } from '../../layers/dropout.js';
import { SequenceReader, type SequenceBatch } from '../sequenceInput.js';
import type { LossContext } from '../../train/task.js';

export interface ForecasterConfig {
  /** Values per input step. */
  inputSize: number;
  /** Series predicted (default: all inputs); predictions are [horizon · targets] per position, step-major. */
  targets: number;
  /** Steps ahead k (default 1). */
  horizon: number;
  mode: 'vector' | 'sequence';
  /** Recurrent units (default 64). */
  hiddenSize: number;
  cell: CellOptions;
  /** Stacked recurrent layers (default 1). */
  layers: number;
  /** Keep probabilities of layer inputs, outputs and state, in training only (default 1: none). */
  dropout: DropoutOptions;
  seed: number;
}

export const DEFAULT_FORECASTER_CONFIG: Omit<ForecasterConfig, 'inputSize' | 'targets'> = {
  horizon: 1,
  mode: 'vector',
  hiddenSize: 64,
  cell: DEFAULT_CELL,
  layers: 1,
  dropout: NO_DROPOUT,
  seed: 1,
};

export interface ForecastBatch extends SequenceBatch {
  /** 'vector': [B · horizon·targets]; 'sequence': [T·B · horizon·targets], time-major, 0 where unknown. */
  expected: Float32Array;
  /** 'sequence' only: [T·B] weights of each position's target (1 where all k future values exist and the step is real). */
  expectedMask?: Float32Array;
}

export class Forecaster {
  readonly params: Params;
  readonly reader: SequenceReader;

  readonly config: ForecasterConfig;

  /** Options missing from `config` (e.g. a model saved before they existed) take their defaults. */
  constructor(config: Omit<ForecasterConfig, 'layers' | 'dropout'> & Partial<ForecasterConfig>) {
    this.config = { ...DEFAULT_FORECASTER_CONFIG, ...config, dropout: { ...NO_DROPOUT, ...config.dropout } };
    config = this.config;
    refuseProblems(
      wholeNumberProblem('inputSize', config.inputSize),
      wholeNumberProblem('targets', config.targets),
      wholeNumberProblem('horizon', config.horizon),
      oneOfProblem('mode', config.mode, ['vector', 'sequence']),
      seedProblem(config.seed),
    );
    this.params = new Params(new Rng(config.seed));
    this.reader = new SequenceReader(
      this.params,
      'forecaster',
      { kind: 'features', size: config.inputSize },
      config.hiddenSize,
      { ...DEFAULT_CELL, ...config.cell },
      {
        layers: this.config.layers,
        dropout: this.config.dropout,
      },
    );
    const H = config.hiddenSize;
    const out = config.horizon * config.targets;
    this.params.create('forecaster/output/W', [H, out], { kind: 'uniform', scale: 1 / Math.sqrt(H) });
    this.params.create('forecaster/output/b', [out], { kind: 'zeros' });
  }

  get outputSize(): number {
    return this.config.horizon * this.config.targets;
  }

  /** 'vector': [B, k·targets]; 'sequence': [T·B, k·targets] (time-major). */
  predictions(batch: SequenceBatch, rng: Rng | null = null): tf.Tensor2D {
    return tf.tidy(() => {
      const { outputs, final } = this.reader.read(batch, undefined, rng);
      const H = this.config.hiddenSize;
      const W = this.params.get('forecaster/output/W') as tf.Tensor2D;
      const b = this.params.get('forecaster/output/b') as tf.Tensor1D;
      if (this.config.mode === 'vector') return dense(hiddenPart(final, H), W, b);
      return dense(tf.reshape(outputs, [batch.steps * batch.size, H]), W, b);
    });
  }

  /** Mean squared error over the known targets (scaled units). */
  loss(batch: ForecastBatch, context: LossContext = { training: false }): tf.Scalar {
    return tf.tidy(() => {
      const p = this.predictions(batch, context.training ? (context.rng ?? null) : null);
      const rows = p.shape[0];
      const diff = tf.sub(p, tf.tensor2d(batch.expected, [rows, this.outputSize]));
      const sq = tf.square(diff);
      if (this.config.mode === 'vector') return tf.mean<tf.Scalar>(sq);
      const w = batch.expectedMask ?? batch.mask;
      let total = 0;
      for (const x of w) total += x;
      const weights = tf.tensor2d(w, [rows, 1]);
      return tf.div<tf.Scalar>(tf.sum(tf.mul(sq, weights)), Math.max(total, 1) * this.outputSize);
    });
  }

  /** The forecast after each sequence's last real step: [B] arrays of k·targets values (step-major). */
  forecast(batch: SequenceBatch): Float32Array[] {
    const p = this.predictions(batch);
    const values = p.dataSync() as Float32Array;
    p.dispose();
    const O = this.outputSize;
    const B = batch.size;
    return Array.from({ length: B }, (_, b) => {
      const row = this.config.mode === 'vector' ? b : (batch.lengths[b]! - 1) * B + b;
      return values.slice(row * O, (row + 1) * O);
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
