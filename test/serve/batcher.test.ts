import { describe, it, expect } from 'vitest';
import { Batcher, type BatchGroup, type BatchInfo } from '../../src/serve/batcher.js';

/** A group whose run answers each item with a tag of the item, recording every batch it was given. */
function recordingGroup(key: string, batches: string[][]): BatchGroup<string, string> {
  return {
    key,
    run: (items) => {
      batches.push([...items]);
      return items.map((s) => `${key}:${s.toUpperCase()}`);
    },
    length: (s) => s.length,
  };
}

/** Lets every queued setImmediate/microtask run a few times over. */
const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

describe('Batcher', () => {
  it('merges concurrent requests of one group into one batch and answers each with its own outputs in order', async () => {
    const batches: string[][] = [];
    const infos: BatchInfo[] = [];
    const b = new Batcher({ maxBatchSize: 16, maxWaitMs: 0 }, (i) => infos.push(i));
    const g = recordingGroup('t', batches);
    const requests = [['ccc', 'a'], ['bb'], ['dddd', 'e', 'ff']];
    const answers = await Promise.all(requests.map((r) => b.submit(g, r)));
    expect(answers).toEqual(requests.map((r) => r.map((s) => `t:${s.toUpperCase()}`)));
    expect(batches).toHaveLength(1);
    expect(infos).toMatchObject([{ key: 't', size: 6, requests: 3 }]);
    // The batch is sorted by length, so batch-mates are padded little.
    expect(batches[0]!.map((s) => s.length)).toEqual([1, 1, 2, 2, 3, 4]);
  });

  it('keeps groups apart: items with different keys never share a batch', async () => {
    const batches: string[][] = [];
    const b = new Batcher({ maxBatchSize: 16, maxWaitMs: 0 });
    const [x, y] = await Promise.all([
      b.submit(recordingGroup('beam1', batches), ['a', 'b']),
      b.submit(recordingGroup('beam5', batches), ['c']),
    ]);
    expect(x).toEqual(['beam1:A', 'beam1:B']);
    expect(y).toEqual(['beam5:C']);
    expect(batches.map((bt) => bt.length).sort()).toEqual([1, 2]);
  });

  it('splits a huge request into batches of at most maxBatchSize; a request behind it waits for one batch only', async () => {
    const batches: string[][] = [];
    let small: Promise<string[]> | undefined;
    let batchesBeforeSmall = -1;
    // The small request comes while the huge request's first batch runs.
    const b = new Batcher({ maxBatchSize: 4, maxWaitMs: 0 }, (info) => {
      if (small !== undefined) return;
      expect(info.size).toBe(4);
      small = b.submit(g, ['s']).then((r) => {
        batchesBeforeSmall = batches.length;
        return r;
      });
    });
    const g = recordingGroup('t', batches);
    const huge = Array.from({ length: 20 }, (_, i) => `h${i}`);
    const hugeDone = b.submit(g, huge);
    await turns(2);
    expect(await small).toEqual(['t:S']);
    expect(await hugeDone).toEqual(huge.map((s) => `t:${s.toUpperCase()}`));
    expect(batches.every((bt) => bt.length <= 4)).toBe(true);
    expect(batches.flat().sort()).toEqual([...huge, 's'].sort());
    // The small request rode in the batch right after the one running when it came.
    expect(batchesBeforeSmall).toBe(2);
  });

  it('waits for batch-mates until the batch is full when the oldest item has not waited maxWaitMs', async () => {
    const batches: string[][] = [];
    const b = new Batcher({ maxBatchSize: 4, maxWaitMs: 60_000 });
    const g = recordingGroup('t', batches);
    const first = b.submit(g, ['a', 'b', 'c']);
    await turns();
    expect(batches).toHaveLength(0);
    expect(b.waiting).toBe(3);
    const second = b.submit(g, ['d']);
    expect(await first).toEqual(['t:A', 't:B', 't:C']);
    expect(await second).toEqual(['t:D']);
    expect(batches).toHaveLength(1);
    expect([...batches[0]!].sort()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('expects as many items as the previous batch held: fewer wait, as many run at once, the rest of a split request too', async () => {
    const batches: string[][] = [];
    const b = new Batcher({ maxBatchSize: 4, maxWaitMs: 60_000 });
    const g = recordingGroup('t', batches);
    // 4 run at once (a full batch); the 2 left of the same request follow without waiting.
    expect(await b.submit(g, ['a', 'b', 'c', 'd', 'e', 'f'])).toHaveLength(6);
    expect(batches.map((bt) => bt.length)).toEqual([4, 2]);
    // Two lone requests make as many items as the previous batch: they run together, at once.
    await Promise.all([b.submit(g, ['g']), b.submit(g, ['h'])]);
    expect(batches.map((bt) => bt.length)).toEqual([4, 2, 2]);
    // One item is fewer than expected: it waits for a batch-mate.
    const lone = b.submit(g, ['i']);
    await turns();
    expect(b.waiting).toBe(1);
    await Promise.all([lone, b.submit(g, ['j'])]);
    expect(batches.map((bt) => bt.length)).toEqual([4, 2, 2, 2]);
  });

  it("expects the previous batch's clients back besides the items queued behind it, so waves of requests merge", async () => {
    const batches: string[][] = [];
    let second: Promise<string[]> | undefined;
    // While the 2-item rest of the first request runs, 2 items of another client queue behind it.
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 60_000 }, (info) => {
      if (info.size === 2 && second === undefined) second = b.submit(g, ['w1', 'w2']);
    });
    const g = recordingGroup('t', batches);
    await b.submit(
      g,
      Array.from({ length: 10 }, (_, i) => `a${i}`),
    );
    await turns();
    // 2 answered + 2 queued = 4 expected: the queued wave waits for the answered clients instead of running alone.
    expect(b.waiting).toBe(2);
    await Promise.all([second, b.submit(g, ['r1', 'r2'])]);
    expect(batches.map((bt) => bt.length)).toEqual([8, 2, 4]);
  });

  it('an aborted request is rejected with the reason and its items do not run; the others are answered', async () => {
    const batches: string[][] = [];
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 60_000 });
    const g = recordingGroup('t', batches);
    const ac = new AbortController();
    const gone = b.submit(g, ['x', 'y'], ac.signal);
    const kept = b.submit(g, ['k']);
    ac.abort(new Error('timed out'));
    await expect(gone).rejects.toThrow('timed out');
    expect(b.waiting).toBe(1);
    const filler = b.submit(
      g,
      Array.from({ length: 7 }, (_, i) => `f${i}`),
    );
    expect(await kept).toEqual(['t:K']);
    await filler;
    expect(batches.flat()).not.toContain('x');
  });

  it('a failing batch rejects its requests only; later batches still run', async () => {
    const b = new Batcher({ maxBatchSize: 2, maxWaitMs: 0 });
    let calls = 0;
    const g: BatchGroup<number, number> = {
      key: 'n',
      run: (items) => {
        if (calls++ === 0) throw new Error('decoder failed');
        return items.map((x) => x * 2);
      },
      length: () => 1,
    };
    const bad = b.submit(g, [1, 2, 3]);
    await expect(bad).rejects.toThrow('decoder failed');
    // The failed request's items left in the queue are dropped with it.
    expect(b.waiting).toBe(0);
    expect(await b.submit(g, [3])).toEqual([6]);
    expect(calls).toBe(2);
    expect(b.waiting).toBe(0);
  });

  it('runs exclusive jobs alone, in turn with batches, oldest first', async () => {
    const order: string[] = [];
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 0 });
    const g: BatchGroup<string, string> = {
      key: 't',
      run: (items) => (order.push(`batch ${items.join('')}`), items),
      length: () => 1,
    };
    const job = b.exclusive(() => (order.push('job'), 42));
    const batch = b.submit(g, ['a', 'b']);
    expect(await job).toBe(42);
    await batch;
    expect(order).toEqual(['job', 'batch ab']);
    await expect(
      b.exclusive(() => {
        throw new Error('bad job');
      }),
    ).rejects.toThrow('bad job');
  });

  it('rejects options that cannot work', () => {
    expect(() => new Batcher({ maxBatchSize: 0 })).toThrow(/maxBatchSize/);
    expect(() => new Batcher({ maxWaitMs: -1 })).toThrow(/maxWaitMs/);
  });
});
