import { describe, it, expect } from 'vitest';
import { takeItems, type BatchGroup, type Pending, type Queue } from '../../src/serve/batchQueue.js';

function request(items: string[], arrived: number): Pending {
  return {
    items,
    results: [],
    next: 0,
    left: items.length,
    arrived,
    deadline: Infinity,
    resolve: () => {},
    reject: () => {},
    done: false,
  };
}

describe('takeItems', () => {
  const group: BatchGroup<string, string> = { key: 'g', run: (xs) => xs, length: (s) => s.length };

  it('takes round-robin from the waiting requests, oldest first, then sorts by length', () => {
    const [a, b, c] = [request(['aaaa', 'a', 'aa'], 0), request(['bbb'], 1), request(['cc', 'c'], 2)];
    const q: Queue = { group, waiting: [a, b, c], size: 6, ranAt: -Infinity };
    const taken = takeItems(q, 4);
    // Round one: a[0], b[0], c[0]; round two: a[1]. b is done and leaves; a and c wait with one item each.
    expect(taken.map((t) => t.p.items[t.index])).toEqual(['a', 'cc', 'bbb', 'aaaa']);
    expect(q.waiting).toEqual([a, c]);
    expect(q.size).toBe(2);
    expect([a.next, b.next, c.next]).toEqual([2, 1, 1]);
    const rest = takeItems(q, 10);
    expect(rest.map((t) => t.p.items[t.index])).toEqual(['c', 'aa']);
    expect(q.waiting).toEqual([]);
    expect(q.size).toBe(0);
    expect(takeItems(q, 3)).toEqual([]);
  });

  it('never takes more than room, nor an item twice, over random queues', () => {
    let seed = 7;
    const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let trial = 0; trial < 100; trial++) {
      const requests = Array.from({ length: 1 + Math.floor(next() * 5) }, (_, r) =>
        request(
          Array.from({ length: 1 + Math.floor(next() * 6) }, (_, i) => `${r}.${i}`.padEnd(1 + Math.floor(next() * 9))),
          r,
        ),
      );
      const total = requests.reduce((n, p) => n + p.items.length, 0);
      const q: Queue = { group, waiting: [...requests], size: total, ranAt: -Infinity };
      const seen = new Set<string>();
      while (q.waiting.length > 0) {
        const room = 1 + Math.floor(next() * 7);
        const taken = takeItems(q, room);
        expect(taken.length).toBe(Math.min(room, taken.length + q.size));
        const lengths = taken.map((t) => (t.p.items[t.index] as string).length);
        expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
        for (const t of taken) {
          const key = `${requests.indexOf(t.p)}:${t.index}`;
          expect(seen.has(key)).toBe(false);
          seen.add(key);
        }
      }
      expect(seen.size).toBe(total);
      expect(q.size).toBe(0);
    }
  });
});
