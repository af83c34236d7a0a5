// What a continuous batch's joins and steps cost, and from that how many waiting items should join it at once
// (serve/batcher.ts). Kept per group, across the group's streams (a stream ends whenever it empties).

/** What a group's stream joins and steps have cost lately (moving averages, ms), and how many items a step finishes. */
export interface StreamCosts {
  joins: number;
  steps: number;
  joinMs: number;
  stepMs: number;
  finished: number;
}

/** Moves a moving average a fifth of the way to `value` (to it at the first value). */
const average = (old: number, value: number, count: number): number => (count === 0 ? value : old + (value - old) / 5);

export function recordJoin(c: StreamCosts, ms: number): void {
  c.joinMs = average(c.joinMs, ms, c.joins++);
}

export function recordStep(c: StreamCosts, ms: number, finished: number): void {
  c.stepMs = average(c.stepMs, ms, c.steps);
  c.finished = average(c.finished, finished, c.steps++);
}

/**
 * How many items should join a stream at once: enough that a join (encoding them, copying the batch) costs at most
 * a quarter of the decoding it feeds, joinMs / chunk ≤ ¼ · stepMs / (items a step finishes), within [1,
 * maxBatchSize]. Where the encoder is dear and outputs short (characters in, a few digits out) that is most of a
 * batch or all of it, and the stream runs much as fixed batches do; where outputs are long, a few. An eighth of
 * maxBatchSize until a join and a few steps are timed.
 */
export function joinChunk(c: StreamCosts, maxBatchSize: number): number {
  if (c.joins === 0 || c.steps < 4 || !(c.finished > 0 && c.stepMs > 0)) return Math.ceil(maxBatchSize / 8);
  return Math.min(maxBatchSize, Math.max(1, Math.ceil((4 * c.joinMs * c.finished) / c.stepMs)));
}

/** The costs of the latest `capacity` groups (keys carry decode options, which clients choose). */
export class StreamCostBook {
  private readonly byKey = new Map<string, StreamCosts>();

  constructor(private readonly capacity = 64) {}

  /** The group's costs, new (nothing timed) the first time; the oldest group goes when there are too many. */
  of(key: string): StreamCosts {
    let costs = this.byKey.get(key);
    if (costs === undefined) {
      costs = { joins: 0, steps: 0, joinMs: 0, stepMs: 0, finished: 0 };
      this.byKey.set(key, costs);
      if (this.byKey.size > this.capacity) this.byKey.delete(this.byKey.keys().next().value!);
    }
    return costs;
  }

  get size(): number {
    return this.byKey.size;
  }
}
