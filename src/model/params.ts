// Named trainable weights, initialised from a seeded generator in JavaScript (so the same seed gives the same
// initial weights on every backend), and saved/loaded as one flat float32 buffer plus a JSON manifest.
import { ToolkitError } from '../errors.js';
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../random.js';

export type Init =
  | { kind: 'uniform'; scale: number } // U(−scale, scale)
  | { kind: 'normal'; std: number }
  | { kind: 'zeros' };

export interface WeightEntry {
  name: string;
  shape: number[];
  /** Offset in float32 elements into the weights buffer. */
  offset: number;
}

export class ParamError extends ToolkitError {
  override name = 'ParamError';
}

/**
 * The most values one weight may have (2^28: 1 GiB of float32), far above any layer this toolkit trains; a config
 * asking for more (a damaged model.json with hiddenSize 10^6) is refused before memory is allocated for it.
 */
export const MAX_WEIGHT_VALUES = 2 ** 28;

/**
 * The most values a model's weights may have in all (2^28 too): the wasm backend's heap ends at 4 GiB, and training
 * keeps three more copies (gradients, Adam's two moments). A config asking for more (10,000 stacked layers, each
 * layer under MAX_WEIGHT_VALUES) is refused by name, where it ended in the wasm module's "Aborted()".
 */
export const MAX_MODEL_VALUES = 2 ** 28;

export interface ParamsOptions {
  /**
   * The manifest these weights will be loaded from (a saved model): every create() is checked against it before
   * anything is allocated, so a config that disagrees with its manifest fails at once, naming the weight, instead
   * of building (and initialising) a model of whatever size the config says.
   */
  expected?: readonly WeightEntry[];
  /** Where `expected` came from, for messages (e.g. the model.json path). */
  source?: string;
  /** The most values the weights may have in all (default MAX_MODEL_VALUES). */
  maxValues?: number;
}

export class Params {
  private readonly vars = new Map<string, tf.Variable>();
  private readonly derivedCache = new Map<string, { from: object[]; value: tf.Tensor }>();

  private readonly expected: ReadonlyMap<string, readonly number[]> | null;
  /** Values of the weights created so far. */
  private total = 0;
  /** Whether dispose() has freed the weights: a model used after it says so, instead of naming a missing weight. */
  private disposed = false;

  constructor(
    private readonly rng: Rng,
    private readonly options: ParamsOptions = {},
  ) {
    this.expected = options.expected === undefined ? null : new Map(options.expected.map((e) => [e.name, e.shape]));
  }

  /** Creates (once) the variable `name`; creation order is fixed by the caller, so values are reproducible. */
  create(name: string, shape: number[], init: Init, trainable = true): tf.Variable {
    if (this.vars.has(name)) throw new ParamError(`parameter "${name}" created twice`);
    const source = this.options.source ?? 'model';
    if (this.expected !== null) {
      const want = this.expected.get(name);
      if (want === undefined)
        throw new ParamError(`${source}: the config makes a weight "${name}" that the weights manifest does not have`);
      if (want.join('x') !== shape.join('x') || want.length !== shape.length) {
        throw new ParamError(
          `${source}: the config makes weight "${name}" [${shape}], the weights manifest has [${want}]`,
        );
      }
    }
    if (!shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw new ParamError(`${source}: weight "${name}" has shape [${shape}], not whole sizes`);
    const size = shape.reduce((a, b) => a * b, 1);
    if (size > MAX_WEIGHT_VALUES)
      throw new ParamError(
        `${source}: weight "${name}" [${shape}] would have ${size} values, over the limit of ${MAX_WEIGHT_VALUES}`,
      );
    const most = this.options.maxValues ?? MAX_MODEL_VALUES;
    if (this.total + size > most) {
      const at = `${this.total + size} with "${name}", weight ${this.vars.size + 1}`;
      throw new ParamError(
        `${source}: the weights would have more than ${most} values in all (${at}): make the model smaller`,
      );
    }
    this.total += size;
    const values = new Float32Array(size);
    if (init.kind === 'uniform') for (let i = 0; i < size; i++) values[i] = this.rng.uniform(-init.scale, init.scale);
    else if (init.kind === 'normal') for (let i = 0; i < size; i++) values[i] = this.rng.normal() * init.std;
    // tfjs names variables uniquely itself; ours are the keys of this map.
    const v = tf.tidy(() => tf.variable(tf.tensor(values, shape), trainable));
    this.vars.set(name, v);
    return v;
  }

  get(name: string): tf.Variable {
    const v = this.vars.get(name);
    if (v === undefined && this.disposed)
      throw new ParamError(`${this.options.source ?? 'model'}: used after dispose(), which freed its weights`);
    if (v === undefined) throw new ParamError(`no parameter "${name}"`);
    return v;
  }

  /** Trainable variables in creation order. */
  trainable(): tf.Variable[] {
    return [...this.vars.values()].filter((v) => v.trainable);
  }

  entries(): [string, tf.Variable][] {
    return [...this.vars.entries()];
  }

  count(): number {
    let n = 0;
    for (const v of this.vars.values()) n += v.size;
    return n;
  }

  /** Flat float32 buffer of all weights with its manifest. */
  serialize(): { manifest: WeightEntry[]; data: Float32Array } {
    const manifest: WeightEntry[] = [];
    let offset = 0;
    for (const [name, v] of this.vars) {
      manifest.push({ name, shape: v.shape.slice(), offset });
      offset += v.size;
    }
    const data = new Float32Array(offset);
    for (const e of manifest) data.set(this.get(e.name).dataSync(), e.offset);
    return { manifest, data };
  }

  /**
   * Overwrites every weight from a buffer written by `serialize`; names and shapes must match exactly. The whole
   * manifest is checked before the first weight is touched, so a bad one leaves the weights as they were.
   */
  load(manifest: WeightEntry[], data: Float32Array, source: string): void {
    const seen = new Set<string>();
    const plan: { v: tf.Variable; offset: number }[] = [];
    for (const e of manifest) {
      const v = this.vars.get(e.name);
      if (v === undefined) throw new ParamError(`${source}: unexpected weight "${e.name}"`);
      if (seen.has(e.name)) throw new ParamError(`${source}: weight "${e.name}" appears twice`);
      if (!Array.isArray(e.shape) || v.shape.join('x') !== e.shape.join('x') || e.shape.length !== v.shape.length) {
        throw new ParamError(`${source}: weight "${e.name}" has shape [${e.shape}], the model expects [${v.shape}]`);
      }
      if (!Number.isSafeInteger(e.offset) || e.offset < 0)
        throw new ParamError(
          `${source}: weight "${e.name}" has offset ${JSON.stringify(e.offset)}, not an integer ≥ 0`,
        );
      if (e.offset + v.size > data.length)
        throw new ParamError(`${source}: weights file is truncated (weight "${e.name}")`);
      seen.add(e.name);
      plan.push({ v, offset: e.offset });
    }
    for (const name of this.vars.keys())
      if (!seen.has(name)) throw new ParamError(`${source}: weight "${name}" is missing`);
    for (const { v, offset } of plan)
      tf.tidy(() => v.assign(tf.tensor(data.subarray(offset, offset + v.size), v.shape)));
  }

  /**
   * A tensor computed from weights (`from`), kept until one of them changes, e.g. an embedding table projected
   * through a layer's input weights for decoding. Every write to a variable (assign: the optimiser, load) gives it
   * new data, so a cached value is reused only while all of `from` still hold the data it was computed from. The
   * value belongs to these Params: callers must not dispose it; `dispose` frees it.
   */
  derived(key: string, from: tf.Tensor[], compute: () => tf.Tensor): tf.Tensor {
    const ids = from.map((t) => t.dataId);
    const hit = this.derivedCache.get(key);
    if (hit !== undefined && hit.from.length === ids.length && hit.from.every((id, i) => id === ids[i]))
      return hit.value;
    hit?.value.dispose();
    const value = tf.keep(tf.tidy(compute));
    this.derivedCache.set(key, { from: ids, value });
    return value;
  }

  dispose(): void {
    this.disposed = true;
    for (const v of this.vars.values()) v.dispose();
    this.vars.clear();
    for (const d of this.derivedCache.values()) d.value.dispose();
    this.derivedCache.clear();
  }
}
