// One optimisation step: loss → gradients → clip by global norm → optimiser update, all inside one tidy, with
// the loss and gradient norm read back once so that a NaN/Inf is caught before it reaches the weights.
import { ToolkitError } from '../errors.js';
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';

export interface TrainerOptions {
  /** 'adam' (default) or 'sgd' (with optional momentum). */
  optimizer: 'adam' | 'sgd';
  /** Learning rate (default 3e-3, Adam). */
  learningRate: number;
  /** SGD momentum (default 0). */
  momentum: number;
  /** Clip gradients to this global L2 norm; 0 turns clipping off (default 5). */
  clipNorm: number;
}

export const DEFAULT_TRAINER_OPTIONS: TrainerOptions = { optimizer: 'adam', learningRate: 3e-3, momentum: 0, clipNorm: 5 };

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

export class NonFiniteError extends ToolkitError {
  override name = 'NonFiniteError';
  constructor(readonly step: number, readonly loss: number, readonly gradNorm: number) {
    super(`step ${step}: loss ${loss}, gradient norm ${gradNorm}: not finite; the weights were not updated`);
  }
}

export class Trainer {
  readonly options: TrainerOptions;
  private readonly optimizer: tf.Optimizer;
  private steps = 0;

  constructor(private readonly params: Params, options: Partial<TrainerOptions> = {}) {
    this.options = { ...DEFAULT_TRAINER_OPTIONS, ...options };
    const o = this.options;
    this.optimizer = o.optimizer === 'adam' ? tf.train.adam(o.learningRate) : o.momentum > 0 ? tf.train.momentum(o.learningRate, o.momentum) : tf.train.sgd(o.learningRate);
  }

  get step(): number {
    return this.steps;
  }

  get learningRate(): number {
    return (this.optimizer as unknown as { learningRate: number }).learningRate;
  }

  /** Changes the learning rate from the next update on (tfjs's optimisers read the field at every update). */
  setLearningRate(lr: number): void {
    if (!(lr > 0 && Number.isFinite(lr))) throw new RangeError(`learning rate must be a positive number, got ${lr}`);
    (this.optimizer as unknown as { learningRate: number }).learningRate = lr;
  }

  /** Runs one update on the loss `lossFn` computes; throws NonFiniteError (weights untouched) on NaN/Inf. */
  update(lossFn: () => tf.Scalar): StepResult {
    const vars = this.params.trainable();
    const { value, grads } = tf.variableGrads(lossFn, vars);
    try {
      const [loss, gradNorm] = tf.tidy(() => {
        const sq = Object.values(grads).map((g) => tf.sum(tf.square(g)));
        const norm = tf.sqrt(tf.addN(sq));
        return tf.stack([value, norm]).dataSync();
      }) as unknown as [number, number];
      this.steps++;
      if (!Number.isFinite(loss) || !Number.isFinite(gradNorm)) throw new NonFiniteError(this.steps, loss, gradNorm);
      tf.tidy(() => {
        const clip = this.options.clipNorm;
        const scale = clip > 0 && gradNorm > clip ? clip / gradNorm : 1;
        const named: tf.NamedTensorMap = {};
        for (const [name, g] of Object.entries(grads)) named[name] = scale === 1 ? g : tf.mul(g, scale);
        this.optimizer.applyGradients(named);
      });
      return { loss, gradNorm };
    } finally {
      value.dispose();
      tf.dispose(Object.values(grads));
    }
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}
