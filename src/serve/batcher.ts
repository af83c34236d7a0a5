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
// Batches take items round-robin from the waiting requests of their group, oldest first, and groups take turns (one
// that ran a batch queues behind the work that came meanwhile, even work still waiting for batch-mates): so a huge
// request, of any group, holds back the requests behind it for one batch only. Answers go back in request order.
//
// A group that can run as a stream (BatchGroup.open: a batch that items join and leave between its steps, as beam
// search does with BeamSession) runs continuously instead (Orca's iteration-level scheduling): the batcher runs one
// step of it per event-loop turn, answers each item as soon as its step finishes it, and lets waiting items of its
// group join between steps while it holds fewer than maxBatchSize: in chunks, to spare the encoder many small calls,
// once there is room for a chunk and as many wait, or the oldest has waited maxWaitMs (a chunk: streamCosts.ts). A
// stream ends when it empties, and the next starts as a fixed batch would. Under load a stream so stays nearly full
// and its steps never run with a few stragglers, which is most of what a fixed batch of varied lengths loses.
import { takeItems, type BatchGroup, type BatchStream, type Pending, type Queue } from './batchQueue.js';
import { joinChunk, recordJoin, recordStep, StreamCostBook, type StreamCosts } from './streamCosts.js';

export interface BatcherOptions {
  /** Items (texts) per batch at most (default 64). */
  maxBatchSize: number;
  /** How long the oldest waiting item may wait for batch-mates before its batch runs anyway, in ms (default 20). */
  maxWaitMs: number;
}

export const DEFAULT_BATCHER_OPTIONS: BatcherOptions = { maxBatchSize: 64, maxWaitMs: 20 };

/** What ran, for tests and logs. */
export interface BatchInfo {
  key: string;
  size: number;
  /** Requests with items in this batch. */
  requests: number;
  /** How long its oldest item waited, in ms. */
  waitedMs: number;
  /** Items already running in the stream these join (0 for a new batch or stream). */
  running: number;
}

/** A group's running stream and who each of its items answers. */
interface Running {
  group: BatchGroup<unknown, unknown>;
  stream: BatchStream<unknown, unknown>;
  owners: Map<number, { p: Pending; index: number }>;
  added: number;
  /** Items answered since the stream started. */
  answered: number;
  costs: StreamCosts;
}

interface Job {
  run(shouldStop: () => boolean): unknown;
  arrived: number;
  deadline: number;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  done: boolean;
}

export class Batcher {
  readonly options: BatcherOptions;
  private readonly queues = new Map<string, Queue>();
  private readonly jobs: Job[] = [];
  private readonly running = new Map<string, Running>();
  private readonly costs = new StreamCostBook();
  private stepScheduled = false;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Items expected for the next batch: the previous batch's plus those queued behind it. At first, a full batch. */
  private expected: number;

  constructor(
    options: Partial<BatcherOptions> = {},
    private readonly onBatch?: (info: BatchInfo) => void,
    /** Milliseconds from some origin: what waits and the costs of stream joins and steps are timed with. */
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.options = { ...DEFAULT_BATCHER_OPTIONS, ...options };
    if (!(Number.isInteger(this.options.maxBatchSize) && this.options.maxBatchSize >= 1))
      throw new RangeError('maxBatchSize must be an integer ≥ 1');
    if (!(this.options.maxWaitMs >= 0)) throw new RangeError('maxWaitMs must be ≥ 0');
    this.expected = this.options.maxBatchSize;
  }

  /**
   * Queues a request's items; resolves to their outputs in order. An abort drops the items not yet run, and those
   * running in a stream. `deadline` (the batcher's clock) is when the request's client stops waiting: a batch is told
   * to stop (BatchGroup.run's shouldStop) once every request in it is past its deadline.
   */
  submit<I, O>(group: BatchGroup<I, O>, items: readonly I[], signal?: AbortSignal, deadline = Infinity): Promise<O[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<O[]>((resolve, reject) => {
      const p: Pending = {
        items: [...items],
        results: new Array(items.length),
        next: 0,
        left: items.length,
        arrived: this.clock(),
        deadline,
        resolve: resolve as (r: unknown[]) => void,
        reject,
        done: false,
      };
      const queue = this.queueOf(group);
      this.queues.set(group.key, queue);
      queue.waiting.push(p);
      queue.size += items.length;
      signal?.addEventListener('abort', () => this.fail(p, queue, signal.reason), { once: true });
      this.schedule();
    });
  }

  /**
   * Queues work that runs alone (a forecast: one request's series fed back step by step), in turn with batches;
   * `run`'s shouldStop says when the deadline has passed, as for a batch (submit).
   */
  exclusive<T>(run: (shouldStop: () => boolean) => T, signal?: AbortSignal, deadline = Infinity): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const job: Job = { run, arrived: this.clock(), deadline, resolve, reject, done: false };
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

  // step() after `turns` turns of the event loop; after a batch, two: a batch blocks the loop, and a connection that
  // came meanwhile is accepted in the next turn and its request read in the one after (else after the next batch).
  private schedule(turns = 1): void {
    if (this.stepScheduled) return;
    this.stepScheduled = true;
    const turn = (left: number): void => {
      if (left > 1) return void setImmediate(() => turn(left - 1));
      this.stepScheduled = false;
      this.step();
    };
    setImmediate(() => turn(turns));
  }

  /** Runs a step of every running stream and the oldest ready other work (one batch or one job), then yields. */
  private step(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const r of [...this.running.values()]) this.advance(r);
    const now = this.clock();
    let job: Job | undefined = this.jobs[0];
    let queue: Queue | undefined;
    let oldest = job?.arrived ?? Infinity;
    let wake = Infinity;
    let early: Queue | undefined;
    let earlyTurn = Infinity;
    for (const q of this.queues.values()) {
      // A running stream takes its group's items itself (advance).
      if (this.running.has(q.group.key)) continue;
      const arrived = q.waiting[0]!.arrived;
      // A request split over batches does not wait again for its rest.
      const ready =
        q.size >= Math.min(this.expected, this.options.maxBatchSize) ||
        q.waiting[0]!.next > 0 ||
        now - arrived >= this.options.maxWaitMs;
      // Groups take turns: one that just ran a batch of a split request waits behind the work that came meanwhile.
      if (q.ranAt === Infinity) q.ranAt = now;
      const turn = Math.max(arrived, q.ranAt);
      if (!ready) {
        wake = Math.min(wake, arrived + this.options.maxWaitMs - now);
        if (turn < earlyTurn) [early, earlyTurn] = [q, turn];
      } else if (turn < oldest) [oldest, queue, job] = [turn, q, undefined];
    }
    // Work waiting for batch-mates that came before the work about to run goes first: else it waits a whole batch.
    if (earlyTurn < oldest && oldest < Infinity) [queue, job] = [early, undefined];
    if (job !== undefined) this.runJob(job);
    else if (queue !== undefined) {
      if (queue.group.open === undefined) this.runBatch(queue);
      else this.startStream(queue);
    } else if (this.running.size === 0) {
      if (wake < Infinity) this.timer = setTimeout(() => this.step(), Math.max(1, Math.ceil(wake)));
      return;
    }
    this.schedule(job !== undefined || queue?.group.run !== undefined ? 2 : 1);
  }

  /** Opens a stream for the group and gives it a first batch of items. */
  private startStream(q: Queue): void {
    let stream: BatchStream<unknown, unknown>;
    try {
      stream = q.group.open!();
    } catch (e) {
      for (const p of [...q.waiting]) this.fail(p, q, e);
      return;
    }
    const costs = this.costs.of(q.group.key);
    const r: Running = { group: q.group, stream, owners: new Map(), added: 0, answered: 0, costs };
    this.running.set(q.group.key, r);
    this.join(r, q, this.options.maxBatchSize);
  }

  /** Lets waiting items join the stream when it has room (see the top of the file), then runs one step of it. */
  private advance(r: Running): void {
    const max = this.options.maxBatchSize;
    const q = this.queues.get(r.group.key);
    const room = max - r.stream.live;
    if (q !== undefined && room > 0) {
      const chunk = joinChunk(r.costs, max);
      const waited = this.clock() - q.waiting[0]!.arrived;
      if (room >= chunk && (q.size >= chunk || waited >= this.options.maxWaitMs)) this.join(r, q, room);
    }
    if (!this.running.has(r.group.key)) return;
    // Items of requests that are gone stop running.
    for (const [index, { p }] of r.owners)
      if (p.done) {
        r.owners.delete(index);
        r.stream.drop(index);
      }
    let done: { index: number; output: unknown }[];
    const started = this.clock();
    try {
      done = r.stream.step();
    } catch (e) {
      this.stop(r, e);
      return;
    }
    recordStep(r.costs, this.clock() - started, done.length);
    r.answered += done.length;
    for (const { index, output } of done) {
      const owner = r.owners.get(index);
      if (owner === undefined) continue;
      r.owners.delete(index);
      this.answer(owner.p, owner.index, output);
    }
    if (r.stream.live === 0) {
      // An empty stream ends: the next starts as a fixed batch does, when as many items wait as it answered (their
      // clients are likely to send again) or the oldest has waited maxWaitMs, so that a few clients' requests do
      // not alternate between a stream of one and a stream of the rest.
      this.expected = Math.max(1, r.answered);
      this.stop(r);
    }
  }

  /** Up to `room` waiting items join the stream. */
  private join(r: Running, q: Queue, room: number): void {
    const waitedMs = this.clock() - q.waiting[0]!.arrived;
    const taken = this.take(q, room);
    const running = r.stream.live;
    this.onBatch?.({
      key: q.group.key,
      size: taken.length,
      requests: new Set(taken.map((t) => t.p)).size,
      waitedMs,
      running,
    });
    const started = this.clock();
    try {
      r.stream.add(taken.map((t) => t.p.items[t.index]));
      recordJoin(r.costs, this.clock() - started);
    } catch (e) {
      for (const t of taken) this.fail(t.p, q, e);
      this.stop(r, e);
      return;
    }
    for (const t of taken) r.owners.set(r.added++, t);
  }

  /** Ends a stream; with an error, every request with an item in it fails. */
  private stop(r: Running, error?: unknown): void {
    this.running.delete(r.group.key);
    r.stream.dispose();
    if (error === undefined) return;
    const q = this.queueOf(r.group);
    for (const { p } of r.owners.values()) this.fail(p, q, error);
  }

  private runJob(job: Job): void {
    this.jobs.shift();
    job.done = true;
    try {
      job.resolve(job.run(() => this.clock() >= job.deadline));
    } catch (e) {
      job.reject(e);
    }
  }

  /** The group's queue, or a new empty one (not yet in `queues`): it has never run a batch. */
  private queueOf(group: BatchGroup<unknown, unknown>): Queue {
    return this.queues.get(group.key) ?? { group, waiting: [], size: 0, ranAt: -Infinity };
  }

  /** takeItems from the queue; an emptied queue goes. */
  private take(q: Queue, room: number): { p: Pending; index: number }[] {
    const taken = takeItems(q, room);
    if (q.waiting.length === 0) this.queues.delete(q.group.key);
    return taken;
  }

  /** Gives an item its output; the request resolves when its last item has one. */
  private answer(p: Pending, index: number, output: unknown): void {
    if (p.done) return;
    p.results[index] = output;
    if (--p.left === 0) {
      p.done = true;
      p.resolve(p.results);
    }
  }

  private runBatch(q: Queue): void {
    const waitedMs = this.clock() - q.waiting[0]!.arrived;
    const taken = this.take(q, this.options.maxBatchSize);
    const { group } = q;
    const requests = new Set(taken.map((t) => t.p));
    this.onBatch?.({ key: group.key, size: taken.length, requests: requests.size, waitedMs, running: 0 });
    const shouldStop = (): boolean => {
      const now = this.clock();
      for (const p of requests) if (now < p.deadline) return false;
      return true;
    };
    let outputs: unknown[];
    try {
      outputs = group.run!(
        taken.map((t) => t.p.items[t.index]),
        shouldStop,
      );
      if (outputs.length !== taken.length)
        throw new Error(`batch of ${taken.length} items gave ${outputs.length} outputs`);
    } catch (e) {
      for (const p of requests) this.fail(p, q, e);
      return;
    }
    this.expected = taken.length + this.waiting;
    q.ranAt = Infinity;
    taken.forEach((t, k) => this.answer(t.p, t.index, outputs[k]));
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
