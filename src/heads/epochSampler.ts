// Batches for the heads' training tasks: every example once per epoch, in a seeded order that changes each epoch.
// With lengths, examples of similar length are batched together (less padding): a pool of shuffled examples is
// sorted by length, cut into batches, and the batches are shuffled. The position is two integers, so a resumed run
// draws exactly the batches the interrupted one would have.
import { Rng } from '../random.js';
import { checkBatchSize } from '../data/text/batch.js';
import { CheckpointError } from '../train/checkpoints.js';

export interface EpochSamplerState {
  epoch: number;
  /** Batches of this epoch already drawn. */
  step: number;
}

export interface EpochSamplerOptions {
  /** Examples per batch (the last batch of an epoch may be smaller). */
  batchSize: number;
  /** Seed of the order (default 1). */
  seed: number;
  /** Batches per length-sorted pool when lengths are given (default 16). */
  pool: number;
}

export class EpochSampler {
  readonly options: EpochSamplerOptions;
  private state: EpochSamplerState = { epoch: 0, step: 0 };
  private batches: number[][] | null = null;

  constructor(
    readonly size: number,
    options: Partial<EpochSamplerOptions> & { batchSize: number },
    private readonly lengths?: readonly number[],
  ) {
    this.options = { seed: 1, pool: 16, ...options };
    if (!(Number.isInteger(size) && size > 0))
      throw new RangeError(`a sampler needs at least one example, got ${size}`);
    checkBatchSize(this.options.batchSize);
    if (lengths !== undefined && lengths.length !== size)
      throw new RangeError(`${lengths.length} lengths for ${size} examples`);
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    return Math.ceil(this.size / this.options.batchSize);
  }

  /** The next batch's example indices. */
  next(): number[] {
    if (this.state.step >= this.batchesPerEpoch) this.state = { epoch: this.state.epoch + 1, step: 0 };
    const batch = this.epochBatches()[this.state.step]!;
    this.state = { ...this.state, step: this.state.step + 1 };
    return batch;
  }

  getState(): EpochSamplerState {
    return { ...this.state };
  }

  setState(state: unknown): void {
    const s = state as Partial<EpochSamplerState> | null;
    if (
      s === null ||
      typeof s !== 'object' ||
      !Number.isInteger(s.epoch) ||
      !Number.isInteger(s.step) ||
      s.epoch! < 0 ||
      s.step! < 0
    ) {
      throw new CheckpointError(`sampler state ${JSON.stringify(state)} is not {epoch, step}`);
    }
    this.state = { epoch: s.epoch!, step: s.step! };
  }

  /** This epoch's batches: a function of the seed and the epoch only. */
  private epochBatches(): number[][] {
    if (this.batches !== null && this.batchesEpoch === this.state.epoch) return this.batches;
    const rng = new Rng((Math.imul(this.options.seed, 1_000_003) + this.state.epoch) >>> 0);
    const order = rng.shuffle(Array.from({ length: this.size }, (_, i) => i));
    const B = this.options.batchSize;
    const batches: number[][] = [];
    const poolSize = this.lengths === undefined ? this.size : B * this.options.pool;
    for (let p = 0; p < this.size; p += poolSize) {
      const pool = order.slice(p, p + poolSize);
      if (this.lengths !== undefined) pool.sort((a, b) => this.lengths![a]! - this.lengths![b]!);
      for (let i = 0; i < pool.length; i += B) batches.push(pool.slice(i, i + B));
    }
    if (this.lengths !== undefined) rng.shuffle(batches);
    this.batches = batches;
    this.batchesEpoch = this.state.epoch;
    return batches;
  }

  private batchesEpoch = -1;
}

/** The sampler half of a head's TrainingTask: the position saved in checkpoints is the epoch sampler's. */
export abstract class EpochSampledTask {
  abstract readonly sampler: EpochSampler;

  samplerState(): EpochSamplerState {
    return this.sampler.getState();
  }

  setSamplerState(state: unknown): void {
    this.sampler.setState(state);
  }

  epoch(): number {
    return this.sampler.getState().epoch;
  }
}
