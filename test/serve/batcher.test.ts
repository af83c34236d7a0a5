import { describe, it, expect } from 'vitest';
import { Batcher, type BatchInfo } from '../../src/serve/batcher.js';
import type { BatchGroup } from '../../src/serve/batchQueue.js';

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

/**
 * A request of 20 items of group `hugeKey` in batches of 4, and a one-item request of group `smallKey` that comes
 * while the huge one's first batch runs: both answers, every batch, and how many batches had run when the small
 * request was answered.
 */
async function smallBehindHuge(hugeKey: string, smallKey: string, maxWaitMs: number) {
  const batches: string[][] = [];
  let small: Promise<string[]> | undefined;
  let batchesBeforeSmall = -1;
  const b = new Batcher({ maxBatchSize: 4, maxWaitMs }, (info) => {
    if (small !== undefined) return;
    expect(info.size).toBe(4);
    small = b.submit(recordingGroup(smallKey, batches), ['s']).then((r) => {
      batchesBeforeSmall = batches.length;
      return r;
    });
  });
  const huge = Array.from({ length: 20 }, (_, i) => `h${i}`);
  const hugeDone = b.submit(recordingGroup(hugeKey, batches), huge);
  await turns(2);
  return { batches, small: await small, hugeDone: await hugeDone, huge, batchesBeforeSmall };
}

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
    const { batches, small, hugeDone, huge, batchesBeforeSmall } = await smallBehindHuge('t', 't', 0);
    expect(small).toEqual(['t:S']);
    expect(hugeDone).toEqual(huge.map((s) => `t:${s.toUpperCase()}`));
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

  it("tells a batch to stop once every request in it is past its deadline, and fails them with the batch's error", async () => {
    // A batch that steps 10 ms at a time on a fake clock until told to stop (or 100 steps).
    let now = 0;
    const stepsRun: number[] = [];
    const g: BatchGroup<string, string> = {
      key: 'g',
      length: (s) => s.length,
      run: (items, shouldStop) => {
        for (let step = 0; step < 100; step++) {
          if (shouldStop()) {
            stepsRun.push(step);
            throw new Error(`stopped at ${now} ms`);
          }
          now += 10;
        }
        stepsRun.push(100);
        return items;
      },
    };
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 0 }, undefined, () => now);
    // One batch, deadlines 50 and 200 ms: it stops at the later one, and both requests fail.
    const early = b.submit(g, ['a'], undefined, 50);
    const late = b.submit(g, ['b', 'c'], undefined, 200);
    await expect(early).rejects.toThrow('stopped at 200 ms');
    await expect(late).rejects.toThrow('stopped at 200 ms');
    // A request without a deadline keeps its batch running to its end, whoever runs beside it.
    now = 0;
    const patient = b.submit(g, ['d']);
    const hasty = b.submit(g, ['e'], undefined, 20);
    expect(await Promise.all([patient, hasty])).toEqual([['d'], ['e']]);
    expect(stepsRun).toEqual([20, 100]);
  });

  it('tells an exclusive job to stop once its deadline has passed', async () => {
    let now = 0;
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 0 }, undefined, () => now);
    const job = (shouldStop: () => boolean) => {
      for (let step = 0; step < 100; step++, now += 10) if (shouldStop()) return `stopped at ${now} ms`;
      return 'ran to its end';
    };
    expect(await b.exclusive(job, undefined, 75)).toBe('stopped at 80 ms');
    now = 0;
    expect(await b.exclusive(job)).toBe('ran to its end');
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

  it.each([0, 60_000])(
    "a huge request holds back another group's request (other options, another model) for one batch only (maxWaitMs %i)",
    async (maxWaitMs) => {
      // With a long maxWaitMs the small request would wait for batch-mates, and the huge one's batches ran meanwhile.
      const { batches, small, hugeDone, huge, batchesBeforeSmall } = await smallBehindHuge(
        'beam16',
        'beam5',
        maxWaitMs,
      );
      expect(small).toEqual(['beam5:S']);
      expect(hugeDone).toEqual(huge.map((s) => `beam16:${s.toUpperCase()}`));
      // The small request ran right after the batch that was running when it came, not after all five.
      expect(batchesBeforeSmall).toBe(2);
      expect(batches.map((bt) => bt.length)).toEqual([4, 1, 4, 4, 4, 4]);
    },
  );

  it('after a batch, waits two event-loop turns before the next: a request read in the second goes next', async () => {
    // A batch blocks the loop; a connection that came meanwhile is accepted in the next turn and read in the one after.
    const order: string[] = [];
    let small: Promise<string[]> | undefined;
    const b = new Batcher({ maxBatchSize: 2, maxWaitMs: 0 });
    const other: BatchGroup<string, string> = { key: 'b', run: (xs) => (order.push('small'), xs), length: () => 1 };
    const g: BatchGroup<string, string> = {
      key: 'a',
      run: (xs) => {
        if (order.length === 0)
          setImmediate(() =>
            setImmediate(() => {
              small = b.submit(other, ['s']);
            }),
          );
        order.push('huge');
        return xs;
      },
      length: () => 1,
    };
    await b.submit(g, ['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
    expect(await small).toEqual(['s']);
    expect(order).toEqual(['huge', 'small', 'huge', 'huge']);
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

/**
 * A group that runs as streams: item "name:n" is done after n steps, answered `name!`. Records every stream's
 * steps (the live count at each), what joined when, and whether it was disposed.
 */
function streamingGroup(
  key: string,
  log: { opened: number; disposed: number; steps: number[]; joins: string[][]; dropped: number[] },
  /** A fake clock that joins and steps advance by their costs, in ms. */
  clock?: { now: number; joinMs: number; stepMs: number },
) {
  const group: BatchGroup<string, string> = {
    key,
    length: (s) => Number(s.split(':')[1]),
    open: () => {
      log.opened++;
      const items: { index: number; item: string; left: number }[] = [];
      let added = 0;
      return {
        add: (xs) => {
          if (clock) clock.now += clock.joinMs;
          log.joins.push([...xs]);
          for (const item of xs) items.push({ index: added++, item, left: Number(item.split(':')[1]) });
        },
        step: () => {
          if (clock) clock.now += clock.stepMs;
          log.steps.push(items.length);
          const done: { index: number; output: string }[] = [];
          for (let i = items.length - 1; i >= 0; i--) {
            const it = items[i]!;
            if (--it.left > 0) continue;
            if (it.item.startsWith('bad')) throw new Error('decoder failed');
            done.push({ index: it.index, output: `${it.item.split(':')[0]}!` });
            items.splice(i, 1);
          }
          return done;
        },
        drop: (index) => {
          log.dropped.push(index);
          items.splice(
            items.findIndex((it) => it.index === index),
            1,
          );
        },
        get live() {
          return items.length;
        },
        dispose: () => void log.disposed++,
      };
    },
  };
  return group;
}

const newLog = () => ({
  opened: 0,
  disposed: 0,
  steps: [] as number[],
  joins: [] as string[][],
  dropped: [] as number[],
});

describe('Batcher with streams (continuous batching)', () => {
  it('answers each item as soon as it is done; items join a running stream between its steps', async () => {
    const log = newLog();
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 0 });
    const g = streamingGroup('s', log);
    const order: string[] = [];
    const long = b.submit(g, ['long:6', 'mid:3']).then((r) => (order.push('long'), r));
    await turns(2);
    // Joins the running stream, and is answered before the request that came first.
    const short = b.submit(g, ['short:1']).then((r) => (order.push('short'), r));
    expect(await long).toEqual(['long!', 'mid!']);
    expect(await short).toEqual(['short!']);
    expect(order).toEqual(['short', 'long']);
    expect(log.opened).toBe(1);
    expect(log.joins).toEqual([['mid:3', 'long:6'], ['short:1']]);
    // The stream ends when nothing is left in it or waiting, and is disposed.
    await turns();
    expect(log.disposed).toBe(1);
    // Six steps in all (the longest item's), the short item among them from the second on.
    expect(log.steps).toEqual([2, 3, 2, 1, 1, 1]);
  });

  it('holds at most maxBatchSize items; the rest join as room frees', async () => {
    const log = newLog();
    const infos: BatchInfo[] = [];
    const b = new Batcher({ maxBatchSize: 16, maxWaitMs: 60_000 }, (i) => infos.push(i));
    const g = streamingGroup('s', log);
    // 16 items of one step each, then 24 of 2 to 5 steps: the stream never holds more than 16.
    const requests = [
      b.submit(
        g,
        Array.from({ length: 16 }, (_, i) => `a${i}:1`),
      ),
      b.submit(
        g,
        Array.from({ length: 24 }, (_, i) => `b${i}:${2 + (i % 4)}`),
      ),
    ];
    const answers = await Promise.all(requests);
    expect(answers[1]).toEqual(Array.from({ length: 24 }, (_, i) => `b${i}!`));
    expect(Math.max(...log.steps)).toBeLessThanOrEqual(16);
    expect(infos.filter((i) => i.running > 0).length).toBeGreaterThan(0);
    expect(infos.reduce((n, i) => n + i.size, 0)).toBe(40);
  });

  it('sizes joins by what they cost: one at a time where joins are cheap, most of a batch where they are dear', async () => {
    // Steps of 10 ms that finish 2 of 16 items each (8 steps a round), joins of `joinMs`: a chunk is
    // ⌈4 · joinMs · 2 / 10⌉ items, at least 1 and at most 16.
    for (const [joinMs, chunk] of [
      [0.5, 1],
      [100, 16],
    ] as const) {
      const log = newLog();
      const infos: BatchInfo[] = [];
      // The fake costs on top of real time, in which maxWaitMs passes.
      const clock = { now: 0, joinMs, stepMs: 10 };
      const b = new Batcher(
        { maxBatchSize: 16, maxWaitMs: 5 },
        (i) => infos.push(i),
        () => clock.now + performance.now(),
      );
      const g = streamingGroup('s', log, clock);
      // 16 clients, each sending its next item as soon as it is answered, 6 rounds: items of 1–8 steps.
      await Promise.all(
        Array.from({ length: 16 }, async (_, c) => {
          for (let round = 0; round < 6; round++) await b.submit(g, [`c${c}r${round}:${1 + ((c + round) % 8)}`]);
        }),
      );
      // Once the first steps are timed (after the first four joins here), cheap joins take whatever waits into a
      // running stream; dear ones wait until it has room for all 16, that is until it is empty.
      const later = infos.slice(4).filter((i) => i.running > 0);
      if (chunk === 1) expect(later.length).toBeGreaterThan(10);
      else expect(later).toEqual([]);
      expect(infos.reduce((n, i) => n + i.size, 0)).toBe(96);
    }
  });

  it('into a nearly full stream, items wait for room for a chunk, even past maxWaitMs', async () => {
    const log = newLog();
    const infos: BatchInfo[] = [];
    // Before steps are timed a chunk is an eighth of maxBatchSize: 2.
    const clock = { now: 0, joinMs: 1, stepMs: 1 };
    const b = new Batcher(
      { maxBatchSize: 16, maxWaitMs: 0 },
      (i) => infos.push(i),
      () => clock.now,
    );
    const g = streamingGroup('s', log, clock);
    const first = b.submit(g, [...Array.from({ length: 15 }, (_, i) => `x${i}:6`), 'y:1']);
    await turns(3);
    // One place free: z waits, though maxWaitMs is 0, until two are.
    const z = b.submit(g, ['z:1']);
    await turns(1);
    expect(b.waiting).toBe(1);
    expect(await z).toEqual(['z!']);
    await first;
    expect(infos.map((i) => [i.size, i.running])).toEqual([
      [16, 0],
      [1, 0],
    ]);
  });

  it('a failing step rejects the requests with items in the stream; waiting ones and later streams still run', async () => {
    const log = newLog();
    const b = new Batcher({ maxBatchSize: 2, maxWaitMs: 0 });
    const g = streamingGroup('s', log);
    const bad = b.submit(g, ['bad:2', 'ok:3']);
    const other = b.submit(g, ['c:1']);
    await expect(bad).rejects.toThrow('decoder failed');
    expect(await other).toEqual(['c!']);
    expect(await b.submit(g, ['d:2'])).toEqual(['d!']);
    expect(log.opened).toBe(2);
    await turns();
    expect(log.disposed).toBe(2);
  });

  it('an aborted request gets its rejection; its items already running leave the stream, the others are answered', async () => {
    const log = newLog();
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 0 });
    const g = streamingGroup('s', log);
    const ac = new AbortController();
    const gone = b.submit(g, ['x:40', 'y:40'], ac.signal);
    const kept = b.submit(g, ['k:5']);
    await turns(2);
    ac.abort(new Error('timed out'));
    await expect(gone).rejects.toThrow('timed out');
    expect(await kept).toEqual(['k!']);
    // Three items ran until the abort, then one: x and y (numbered 1 and 2, after the shorter k) were dropped at
    // the next step, not decoded to their end.
    expect(log.dropped.sort()).toEqual([1, 2]);
    expect(log.steps.length).toBe(5);
    expect(log.steps[0]).toBe(3);
    expect(log.steps.slice(1).every((n) => n === 1)).toBe(true);
  });

  it('streams of different groups run side by side, a step each per turn; plain batches run in between', async () => {
    const [l1, l2] = [newLog(), newLog()];
    const batches: string[][] = [];
    const b = new Batcher({ maxBatchSize: 8, maxWaitMs: 0 });
    const results = await Promise.all([
      b.submit(streamingGroup('s1', l1), ['a:3']),
      b.submit(streamingGroup('s2', l2), ['b:3']),
      b.submit(recordingGroup('plain', batches), ['c']),
    ]);
    expect(results).toEqual([['a!'], ['b!'], ['plain:C']]);
    expect([l1.steps, l2.steps]).toEqual([
      [1, 1, 1],
      [1, 1, 1],
    ]);
    expect(batches).toEqual([['c']]);
  });
});
