import { describe, it, expect } from 'vitest';
import { joinChunk, recordJoin, recordStep, StreamCostBook } from '../../src/serve/streamCosts.js';

describe('stream costs', () => {
  it('moving averages start at the first value and move a fifth of the way after it', () => {
    const c = new StreamCostBook().of('k');
    recordJoin(c, 10);
    recordJoin(c, 20);
    expect(c.joinMs).toBeCloseTo(12);
    recordStep(c, 5, 2);
    recordStep(c, 10, 0);
    expect([c.steps, c.joins]).toEqual([2, 2]);
    expect(c.stepMs).toBeCloseTo(6);
    expect(c.finished).toBeCloseTo(1.6);
  });

  it('a chunk keeps a join under a quarter of the decoding it feeds: ⌈4 · join · finished / step⌉ in [1, max]', () => {
    const c = new StreamCostBook().of('k');
    // Untimed: an eighth of the batch.
    expect(joinChunk(c, 64)).toBe(8);
    recordJoin(c, 6);
    for (let i = 0; i < 3; i++) recordStep(c, 15, 3);
    expect(joinChunk(c, 64)).toBe(8);
    recordStep(c, 15, 3);
    // 4 · 6 · 3 / 15 = 4.8.
    expect(joinChunk(c, 64)).toBe(5);
    // Dear joins: the whole batch; cheap ones: one item.
    c.joinMs = 100;
    expect(joinChunk(c, 64)).toBe(64);
    c.joinMs = 0.01;
    expect(joinChunk(c, 64)).toBe(1);
    // Steps that finish nothing (yet) give no estimate.
    c.finished = 0;
    expect(joinChunk(c, 64)).toBe(8);
  });

  it('keeps each group its own costs, and only the latest groups', () => {
    const book = new StreamCostBook(2);
    const a = book.of('a');
    expect(book.of('a')).toBe(a);
    recordJoin(a, 3);
    book.of('b');
    book.of('c');
    expect(book.size).toBe(2);
    // 'a' was the oldest: it starts over.
    expect(book.of('a').joins).toBe(0);
  });
});
