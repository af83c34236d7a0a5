import { describe, it, expect } from 'vitest';
import { argMax, attentionStep } from '../../src/search/keptAttention.js';
import { makeSourceBatch, sourcePositions } from '../../src/data/text/batch.js';
import { Rng } from '../../src/random.js';

describe('argMax', () => {
  it('takes the first of equal maxima, through columns when given', () => {
    expect(argMax([1, 3, 3, 2])).toBe(1);
    expect(argMax([5])).toBe(0);
    expect(argMax([9, 1, 3, 3], [1, 3, 2])).toBe(1);
    expect(argMax([9, 1, 3, 4], [1, 3, 2])).toBe(1);
  });
});

describe('attentionStep', () => {
  it("reads a row at its sentence's columns (a reversed, padded batch), in token order, as a copy", () => {
    // Sentence 1 of a batch of [4 tokens, 3 tokens], reversed: its steps are <pad> t2 t1 t0, so token j is step 3 − j.
    const batch = makeSourceBatch([
      [4, 5, 6, 7],
      [8, 9, 10],
    ]);
    const columns = sourcePositions(batch, 1, true);
    expect(columns).toEqual([3, 2, 1]);
    // Two rows of a step's read-back, 4 memory steps each; row 1 is the sentence's.
    const A = Float32Array.from([0.1, 0.2, 0.3, 0.4, 0, 0.2, 0.7, 0.1]);
    const kept = attentionStep(A, 4, 1, columns, true);
    expect(kept.best).toBe(1);
    expect(Array.from(kept.weights!)).toEqual([0.1, 0.7, 0.2].map((x) => Math.fround(x)));
    // A copy: the step's buffer is not held (nor changed through it).
    expect(kept.weights!.buffer).not.toBe(A.buffer);
    expect(attentionStep(A, 4, 1, columns, false)).toEqual({ best: 1 });
  });

  it('gives the argmax of the weights it keeps, over random rows and columns', () => {
    const rng = new Rng(5);
    for (let trial = 0; trial < 50; trial++) {
      const width = 1 + Math.floor(rng.next() * 12);
      const rows = 1 + Math.floor(rng.next() * 4);
      // Coarse values, so that ties happen.
      const A = Float32Array.from({ length: rows * width }, () => Math.floor(rng.next() * 4));
      const columns = Array.from({ length: 1 + Math.floor(rng.next() * width) }, () => Math.floor(rng.next() * width));
      const r = Math.floor(rng.next() * rows);
      const { best, weights } = attentionStep(A, width, r, columns, true);
      const want = columns.map((c) => A[r * width + c]!);
      expect(Array.from(weights!)).toEqual(want);
      expect(best).toBe(want.indexOf(Math.max(...want)));
    }
  });
});
