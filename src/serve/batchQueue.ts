// What the batcher (batcher.ts) runs and what waits to run: groups of mergeable work, run as fixed batches or as
// streams that items join and leave between steps; each group's queue of requests; and how a batch takes their
// items: round-robin, so that no request's items all go before another's, then sorted by length.

/** One kind of mergeable work: items with the same key run together, in batches (`run`) or streams (`open`). */
export type BatchGroup<I, O> = {
  /** Items of groups with equal keys are merged (e.g. model name, beam size, n-best, length penalty). */
  key: string;
  /** The item's length (e.g. characters): a batch is sorted by it, so batch-mates are padded little. */
  length(item: I): number;
} & (
  | {
      /**
       * Processes one batch; returns one output per item, in order. `shouldStop` says when every request with
       * items in it is past its deadline: work that checks it between steps may then throw, and those requests
       * fail with its error.
       */
      run(items: I[], shouldStop: () => boolean): O[];
      open?: undefined;
    }
  | {
      /** Opens a running batch that items join between its steps. */
      open(): BatchStream<I, O>;
      run?: undefined;
    }
);

/** A batch that items join and leave while it runs (continuous batching). */
export interface BatchStream<I, O> {
  /** Takes items in, to run from the next step. Items are numbered in the order added, from 0. */
  add(items: I[]): void;
  /** One step of every item in; returns the items it finished, by number. */
  step(): { index: number; output: O }[];
  /** Drops an item whose request is gone (timed out, or its client left): `step` no longer runs or returns it. */
  drop(index: number): void;
  /** Items added, not yet returned or dropped. */
  readonly live: number;
  dispose(): void;
}

/** A request's items, what they gave, and how it is answered. */
export interface Pending {
  items: unknown[];
  results: unknown[];
  /** Next item not yet given to a batch. */
  next: number;
  /** Items not yet answered. */
  left: number;
  arrived: number;
  /** When its client stops waiting, on the batcher's clock (+∞: never). */
  deadline: number;
  resolve(results: unknown[]): void;
  reject(error: unknown): void;
  done: boolean;
}

/** A group's requests waiting to run. */
export interface Queue {
  group: BatchGroup<unknown, unknown>;
  /** Requests with items not yet given to a batch, oldest first. */
  waiting: Pending[];
  /** Items not yet given to a batch. */
  size: number;
  /** When it last ran a batch (−∞ before): +∞ as it ends, the next step's time there, once requests were read. */
  ranAt: number;
}

/**
 * Takes up to `room` items from the queue's waiting requests, round-robin (each gives one item per round, oldest
 * first), sorted by length; a request whose items are all taken leaves the queue.
 */
export function takeItems(q: Queue, room: number): { p: Pending; index: number }[] {
  const taken: { p: Pending; index: number }[] = [];
  while (taken.length < room && q.waiting.length > 0) {
    for (const p of [...q.waiting]) {
      if (taken.length >= room) break;
      taken.push({ p, index: p.next++ });
      q.size--;
      if (p.next === p.items.length) q.waiting.splice(q.waiting.indexOf(p), 1);
    }
  }
  const { group } = q;
  return taken.sort((a, b) => group.length(a.p.items[a.index]) - group.length(b.p.items[b.index]));
}
