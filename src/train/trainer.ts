// One optimisation step: loss → gradients → clip by global norm → optimiser update, all inside one tidy, with
// the loss and gradient norm read back once so that a NaN/Inf is caught before it reaches the weights.
import { ToolkitError } from '../errors.js';
import * as tf from '@tensorflow/tfjs-core';
import type { Params } from '../model/params.js';
import { FusedAdamOptimizer } from './fusedAdam.js';
import { blasInUse } from '../backend/blasKernels.js';

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

export const DEFAULT_TRAINER_OPTIONS: TrainerOptions = {
  optimizer: 'adam',
  learningRate: 3e-3,
  momentum: 0,
  clipNorm: 5,
};

export interface StepResult {
  loss: number;
  /** Global gradient norm before clipping. */
  gradNorm: number;
}

/** The optimiser's state beside its slot values (one float32 buffer, slots in the optimiser's order). */
export interface OptimizerStateJson {
  optimizer: TrainerOptions['optimizer'];
  momentum: number;
  /** Updates applied so far (Adam's bias correction depends on it). */
  iterations: number;
  /** Adam's running β1^t and β2^t, restored bit for bit (tfjs's setWeights recomputes them with pow, which may differ in the last bit). */
  accBeta?: [number, number];
  /** Slots in order: the parameter each belongs to, the slot kind (m, v, momentum), its shape and offset. */
  slots: { param: string; kind: string; shape: number[]; offset: number }[];
}

export class OptimizerStateError extends ToolkitError {
  override name = 'OptimizerStateError';
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
}

export class NonFiniteError extends ToolkitError {
  override name = 'NonFiniteError';
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly gradNorm: number,
  ) {
    super(`step ${step}: loss ${loss}, gradient norm ${gradNorm}: not finite; the weights were not updated`);
  }
}

/**
 * The first option out of range, as "<option> must …, got …", or null. An unknown optimiser would have run as plain
 * SGD, a NaN learning rate turned every weight into NaN at the first update, and a NaN clipNorm switched clipping off.
 */
export function trainerOptionsProblem(o: TrainerOptions): string | null {
  if (o.optimizer !== 'adam' && o.optimizer !== 'sgd')
    return `optimizer must be "adam" or "sgd", got ${JSON.stringify(o.optimizer)}`;
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate)))
    return `learningRate must be a positive number, got ${o.learningRate}`;
  if (!(o.momentum >= 0 && o.momentum < 1)) return `momentum must be in [0, 1), got ${o.momentum}`;
  if (!(o.clipNorm >= 0)) return `clipNorm must be ≥ 0 (0: no clipping), got ${o.clipNorm}`;
  return null;
}

export class Trainer {
  readonly options: TrainerOptions;
  private readonly optimizer: tf.Optimizer;
  private steps = 0;

  constructor(
    private readonly params: Params,
    options: Partial<TrainerOptions> = {},
  ) {
    this.options = { ...DEFAULT_TRAINER_OPTIONS, ...options };
    const o = this.options;
    const problem = trainerOptionsProblem(o);
    if (problem !== null) throw new RangeError(problem);
    // tf.train.adam's defaults (β1 0.9, β2 0.999, the backend's ε), its update fused on wasm/cpu.
    this.optimizer =
      o.optimizer === 'adam'
        ? new FusedAdamOptimizer(o.learningRate, 0.9, 0.999)
        : o.momentum > 0
          ? tf.train.momentum(o.learningRate, o.momentum)
          : tf.train.sgd(o.learningRate);
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
        const norm = tf.sqrt(tf.addN(Object.values(grads).map(sumOfSquares)));
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

  /**
   * The optimiser's state for a checkpoint. tfjs's optimisers keep one slot per trainable variable, by position
   * (not by name), so a model rebuilt with the same parameters in the same order takes the state back unchanged.
   */
  async getState(): Promise<{ json: OptimizerStateJson; data: Float32Array }> {
    const weights = await this.optimizer.getWeights();
    const [iter, ...slots] = weights;
    const iterations = (iter!.tensor.dataSync() as Int32Array)[0]!;
    iter!.tensor.dispose(); // saveIterations made a new scalar; the slots are the optimiser's own variables
    const names = this.trainableNames();
    const per = this.options.optimizer === 'adam' ? 2 : 1;
    if (slots.length !== 0 && slots.length !== per * names.length)
      throw new OptimizerStateError(`optimiser has ${slots.length} slots for ${names.length} trainable weights`);
    let offset = 0;
    const entries = slots.map((w, i) => {
      const e = {
        param: names[i % names.length]!,
        kind: w.name.slice(w.name.lastIndexOf('/') + 1),
        shape: w.tensor.shape.slice(),
        offset,
      };
      offset += w.tensor.size;
      return e;
    });
    const data = new Float32Array(offset);
    slots.forEach((w, i) => data.set(w.tensor.dataSync(), entries[i]!.offset));
    const json: OptimizerStateJson = {
      optimizer: this.options.optimizer,
      momentum: this.options.momentum,
      iterations,
      slots: entries,
    };
    if (this.options.optimizer === 'adam') {
      const a = this.optimizer as unknown as AdamInternals;
      json.accBeta = [a.accBeta1.dataSync()[0]!, a.accBeta2.dataSync()[0]!];
    }
    return { json, data };
  }

  /** Restores a state from getState into this (fresh: no update yet) trainer; `step` is the loop's step count. */
  async setState(json: OptimizerStateJson, data: Float32Array, step: number, source: string): Promise<void> {
    if (json.optimizer !== this.options.optimizer)
      throw new OptimizerStateError(
        `${source}: optimiser state is for ${json.optimizer}, this run uses ${this.options.optimizer}`,
      );
    const names = this.trainableNames();
    const vars = this.params.trainable();
    const per = json.optimizer === 'adam' ? 2 : json.momentum > 0 ? 1 : 0;
    if (json.slots.length !== 0 && json.slots.length !== per * names.length) {
      throw new OptimizerStateError(
        `${source}: ${json.slots.length} optimiser slots for ${names.length} trainable weights`,
      );
    }
    const tensors: { name: string; tensor: tf.Tensor }[] = [
      { name: 'iter', tensor: tf.scalar(json.iterations, 'int32') },
    ];
    json.slots.forEach((e, i) => {
      const v = vars[i % vars.length]!;
      if (e.param !== names[i % names.length] || e.shape.join('x') !== v.shape.join('x')) {
        throw new OptimizerStateError(
          `${source}: optimiser slot ${i} is for "${e.param}" [${e.shape}], the model has "${names[i % names.length]}" [${v.shape}]`,
        );
      }
      if (e.offset + v.size > data.length)
        throw new OptimizerStateError(`${source}: optimiser state is truncated at slot "${e.param}/${e.kind}"`);
      tensors.push({
        name: `${v.name}/${e.kind}`,
        tensor: tf.tensor(data.subarray(e.offset, e.offset + v.size), v.shape),
      });
    });
    try {
      await this.optimizer.setWeights(tensors);
    } finally {
      // setWeights copies each tensor into a new variable.
      tf.dispose(tensors.map((t) => t.tensor));
    }
    if (json.accBeta !== undefined) {
      const a = this.optimizer as unknown as AdamInternals;
      tf.tidy(() => {
        a.accBeta1.assign(tf.scalar(json.accBeta![0]));
        a.accBeta2.assign(tf.scalar(json.accBeta![1]));
      });
    }
    this.steps = step;
  }

  private trainableNames(): string[] {
    return this.params
      .entries()
      .filter(([, v]) => v.trainable)
      .map(([name]) => name);
  }

  dispose(): void {
    this.optimizer.dispose();
  }
}

/**
 * Σ g² of one gradient, a scalar. On a BLAS, the product g·g of its flattened values: one read of the gradient
 * instead of a squared copy and a sum over it, 4× faster on the Multi30K model's 5.7 M gradient values, and more
 * accurate (float32 error 7e-6 relative against the wasm Sum's 6e-4 there). On the wasm kernels that product runs
 * 2.5× slower than the Sum, which stays.
 */
function sumOfSquares(g: tf.Tensor): tf.Scalar {
  if (blasInUse(tf.backend()) === null) return tf.sum(tf.square(g));
  return tf.reshape(tf.matMul(tf.reshape(g, [1, g.size]), tf.reshape(g, [g.size, 1])), []);
}
