// The dynamic batcher: the items (texts) of concurrent requests that share a group (same model, same decode
// options) are merged into one batch, so the decoder runs full batches instead of one small batch per request.
//
// Decoding is synchronous (tfjs on wasm), so batches run one at a time, each in its own event-loop turn
// (setImmediate between them): requests that arrive while a batch runs are read in between and join the next one.
// A batch runs when it holds as many items as are expected (below), when it is full (maxBatchSize), when it continues a
// request split over batches, or when its oldest item has waited maxWaitMs for batch-mates. Expected are the items of
// the previous batch (their clients, answered, are likely to send again) plus those that queued while it ran: so under
// load the batches grow to one per round of the clients instead of staying in waves, and a lone client's request runs
// at once.
// Batches take items round-robin from the waiting requests of their group, oldest first, so one huge request takes
// part of each batch and does not hold back the requests behind it beyond one batch. Answers go back to their own
// request, in the request's order.

export interface BatcherOptions {
  /** Items (texts) per batch at most (default 64). */
  maxBatchSize: number;
  /** How long the oldest waiting item may wait for batch-mates before its batch runs anyway, in ms (default 20). */
  maxWaitMs: number;
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = { maxBatchSize: 64, maxWaitMs: 20 };

/** One kind of mergeable work: items with the same key run together through `run`. */
export interface BatchGroup<I, O> {
  /** Items of groups with equal keys are merged (e.g. model name, beam size, n-best, length penalty). */
  key: string;
  /** Processes one batch; returns one output per item, in order. */
  run(items: I[]): O[];
  /** The item's length (e.g. characters): a batch is sorted by it, so batch-mates are padded little. */
  length(item: I): number;
}

/** What ran, for tests and logs. */
export interface BatchInfo {
  key: string;
  size: number;
  /** Requests with items in this batch. */
  requests: number;
  /** How long its oldest item waited, in ms. */
  waitedMs: number;
}

interface Pending {
  items: unknown[];
  results: unknown[];
  /** Next item not yet given to a batch. */
  next: number;
  /** Items not yet answered. */
  left: number;
  arrived: number;
  resolve(results: unknown[]): void;
  reject(error: unknown): void;
  done: boolean;
}

interface Queue {
  group: BatchGroup<unknown, unknown>;
  /** Requests with items not yet given to a batch, oldest first. */
  waiting: Pending[];
  /** Items not yet given to a batch. */
  size: number;
}

interface Job {
  run(): unknown;
  arrived: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  done: boolean;
}

export class Batcher {
  readonly options: BatcherOptions;
  private readonly queues = new Map<string, Queue>();
  private readonly jobs: Job[] = [];
  private stepScheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Items expected for the next batch: the previous batch's plus those queued behind it. At first, a full batch. */
  private expected: number;

  constructor(
    options: Partial<BatcherOptions> = {},
    private readonly onBatch?: (info: BatchInfo) => void,
  ) {
    this.options = { ...DEFAULT_BATCHER_OPTIONS, ...options };
    if (!(Number.isInteger(this.options.maxBatchSize) && this.options.maxBatchSize >= 1))
      throw new RangeError('maxBatchSize must be an integer ≥ 1');
    if (!(this.options.maxWaitMs >= 0)) throw new RangeError('maxWaitMs must be ≥ 0');
    this.expected = this.options.maxBatchSize;
  }

  /** Queues a request's items; resolves to their outputs in order. An abort drops the items not yet run. */
  submit<I, O>(group: BatchGroup<I, O>, items: readonly I[], signal?: AbortSignal): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      const p: Pending = {
        items: [...items],
        results: new Array(items.length),
        next: 0,
        left: items.length,
        arrived: performance.now(),
        resolve: resolve as (r: unknown[]) => void,
        reject,
        done: false,
      };
      let q = this.queues.get(group.key);
      if (q === undefined) {
        q = { group: group, waiting: [], size: 0 };
        this.queues.set(group.key, q);
      }
      q.waiting.push(p);
      q.size += items.length;
      const queue = q;
      signal?.addEventListener('abort', () => this.fail(p, queue, signal.reason), { once: true });
      this.schedule();
    });
  }

  /** Queues work that runs alone (e.g. sampling with a seed, whose outputs depend on batch-mates), in turn with batches. */
  exclusive<T>(run: () => T, signal?: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = {
        run,
        arrived: performance.now(),
        resolve: resolve,
        reject,
        done: false,
      };
      this.jobs.push(job);
      signal?.addEventListener(
        'abort',
        () => {
          if (job.done) return;
          job.done = true;
          this.jobs.splice(this.jobs.indexOf(job), 1);
          reject(signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason)));
        },
        { once: true },
      );
      this.schedule();
    });
  }

  /** Items and jobs waiting to run. */
  get waiting(): number {
    let n = this.jobs.length;
    for (const q of this.queues.values()) n += q.size;
    return n;
  }

  private schedule(): void {
    if (this.stepScheduled) return;
    this.stepScheduled = true;
    setImmediate(() => {
      this.stepScheduled = false;
      this.step();
    });
  }

  /** Runs the oldest ready work (one batch or one job), then yields to the event loop. */
  private step(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    const now = performance.now();
    let job: Job | undefined = this.jobs[0];
    let queue: Queue | undefined;
    let oldest = job?.arrived ?? Infinity;
    let wake = Infinity;
    for (const q of this.queues.values()) {
      const arrived = q.waiting[0]!.arrived;
      // A request split over batches does not wait again for its rest.
      const ready =
        q.size >= Math.min(this.expected, this.options.maxBatchSize) ||
        q.waiting[0]!.next > 0 ||
        now - arrived >= this.options.maxWaitMs;
      if (!ready) wake = Math.min(wake, arrived + this.options.maxWaitMs - now);
      else if (arrived < oldest) {
        oldest = arrived;
        queue = q;
        job = undefined;
      }
    }
    if (job !== undefined) this.runJob(job);
    else if (queue !== undefined) this.runBatch(queue);
    else {
      if (wake < Infinity) this.timer = setTimeout(() => this.step(), Math.max(1, Math.ceil(wake)));
      return;
    }
    this.schedule();
  }

  private runJob(job: Job): void {
    this.jobs.shift();
    job.done = true;
    try {
      job.resolve(job.run());
    } catch (e) {
      job.reject(e);
    }
  }

  private runBatch(q: Queue): void {
    const waitedMs = performance.now() - q.waiting[0]!.arrived;
    const taken: { p: Pending; index: number }[] = [];
    // Round-robin over the waiting requests: each gives one item per round until the batch is full.
    while (taken.length < this.options.maxBatchSize && q.waiting.length > 0) {
      for (const p of [...q.waiting]) {
        if (taken.length >= this.options.maxBatchSize) break;
        taken.push({ p, index: p.next++ });
        q.size--;
        if (p.next === p.items.length) q.waiting.splice(q.waiting.indexOf(p), 1);
      }
    }
    if (q.waiting.length === 0) this.queues.delete(q.group.key);
    const { group } = q;
    taken.sort((a, b) => group.length(a.p.items[a.index]) - group.length(b.p.items[b.index]));
    const requests = new Set(taken.map((t) => t.p));
    this.onBatch?.({ key: group.key, size: taken.length, requests: requests.size, waitedMs });
    let outputs: unknown[];
    try {
      outputs = group.run(taken.map((t) => t.p.items[t.index]));
      if (outputs.length !== taken.length)
        throw new Error(`batch of ${taken.length} items gave ${outputs.length} outputs`);
    } catch (e) {
      for (const p of requests) this.fail(p, q, e);
      return;
    }
    this.expected = taken.length + this.waiting;
    taken.forEach((t, k) => {
      if (t.p.done) return;
      t.p.results[t.index] = outputs[k];
      if (--t.p.left === 0) {
        t.p.done = true;
        t.p.resolve(t.p.results);
      }
    });
  }

  /** Rejects a request and drops its items that have not run yet. */
  private fail(p: Pending, q: Queue, error: unknown): void {
    if (p.done) return;
    p.done = true;
    const i = q.waiting.indexOf(p);
    if (i >= 0) {
      q.waiting.splice(i, 1);
      q.size -= p.items.length - p.next;
      if (q.waiting.length === 0 && this.queues.get(q.group.key) === q) this.queues.delete(q.group.key);
    }
    p.reject(error);
  }
}
