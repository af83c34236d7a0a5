import { describe, it, expect } from 'vitest';
import {
  checkBatchSize,
  makeBatch,
  makeSourceBatch,
  sourcePositions,
  toBatchMajor,
} from '../../../src/data/text/batch.js';
import { Vocabulary, PAD, GO, EOS } from '../../../src/data/text/vocabulary.js';

/** Reads column b of a time-major [T·B] array. */
const column = <T>(x: ArrayLike<T>, T: number, B: number, b: number): T[] =>
  Array.from({ length: T }, (_, t) => x[t * B + b]!);

describe('batches', () => {
  const en = new Vocabulary(['I', 'drink', 'milk', 'Hi']);
  const fr = new Vocabulary(['Je', 'bois', 'du', 'lait', 'Salut']);

  it('reverses the source and pads it at the front, as the TensorFlow Sequence-to-Sequence Models tutorial does', () => {
    const batch = makeBatch(
      [
        { source: en.encode(['I', 'drink', 'milk']), target: fr.encode(['Je', 'bois', 'du', 'lait']) },
        { source: en.encode(['Hi']), target: fr.encode(['Salut']) },
      ],
      { sourceLength: 5 },
    );
    const { size: B, sourceSteps: Ts, targetSteps: Tt } = batch;
    expect([B, Ts, Tt]).toEqual([2, 5, 5]);
    expect(column(batch.source, Ts, B, 0).map((id) => en.token(id))).toEqual(['<pad>', '<pad>', 'milk', 'drink', 'I']);
    expect(column(batch.sourceMask, Ts, B, 0)).toEqual([0, 0, 1, 1, 1]);
    expect(column(batch.source, Ts, B, 1).map((id) => en.token(id))).toEqual([
      '<pad>',
      '<pad>',
      '<pad>',
      '<pad>',
      'Hi',
    ]);
    expect(column(batch.targetIn, Tt, B, 0).map((id) => fr.token(id))).toEqual(['<go>', 'Je', 'bois', 'du', 'lait']);
    expect(column(batch.targetOut, Tt, B, 0).map((id) => fr.token(id))).toEqual(['Je', 'bois', 'du', 'lait', '<eos>']);
    expect(column(batch.targetIn, Tt, B, 1)).toEqual([GO, fr.id('Salut'), PAD, PAD, PAD]);
    expect(column(batch.targetOut, Tt, B, 1)).toEqual([fr.id('Salut'), EOS, PAD, PAD, PAD]);
    expect(column(batch.targetMask, Tt, B, 1)).toEqual([1, 1, 0, 0, 0]);
    expect(Array.from(batch.targetLengths)).toEqual([5, 2]);
    expect(Array.from(batch.sourceLengths)).toEqual([3, 1]);
  });

  it('keeps source order and pads at the back when reversal is off', () => {
    const b = makeSourceBatch([en.encode(['I', 'drink']), en.encode(['Hi'])], { reverseSource: false });
    expect(column(b.source, 2, 2, 0).map((id) => en.token(id))).toEqual(['I', 'drink']);
    expect(column(b.source, 2, 2, 1).map((id) => en.token(id))).toEqual(['Hi', '<pad>']);
    expect(column(b.sourceMask, 2, 2, 1)).toEqual([1, 0]);
  });

  it("maps each sentence's tokens to their steps, reversed and padded or not", () => {
    const sources = [[4, 5, 6], [7]];
    const reversed = makeSourceBatch(sources);
    expect(sourcePositions(reversed, 0, true)).toEqual([2, 1, 0]);
    expect(sourcePositions(reversed, 1, true)).toEqual([2]);
    const plain = makeSourceBatch(sources, { reverseSource: false });
    expect(sourcePositions(plain, 1, false)).toEqual([0]);
    sources.forEach((s, b) =>
      s.forEach((id, i) => {
        expect(reversed.source[sourcePositions(reversed, b, true)[i]! * 2 + b]).toBe(id);
        expect(plain.source[sourcePositions(plain, b, false)[i]! * 2 + b]).toBe(id);
      }),
    );
  });

  it('grows the steps to fit a source longer than the requested length', () => {
    const b = makeSourceBatch([[4, 5, 6]], { sourceLength: 2 });
    expect(b.sourceSteps).toBe(3);
  });

  it('converts time-major to batch-major', () => {
    // T=2, B=3: time-major [t0b0 t0b1 t0b2 t1b0 t1b1 t1b2]
    expect(Array.from(toBatchMajor(Int32Array.from([1, 2, 3, 4, 5, 6]), 2, 3))).toEqual([1, 4, 2, 5, 3, 6]);
  });
});

describe('checkBatchSize', () => {
  it('takes whole numbers from 1 and refuses the rest, naming the option', () => {
    for (const ok of [1, 2, 64, 2 ** 40]) expect(() => checkBatchSize(ok)).not.toThrow();
    for (const bad of [0, -1, 1.5, NaN, Infinity, 2 ** 60])
      expect(() => checkBatchSize(bad)).toThrow(`batchSize must be a whole number ≥ 1, got ${bad}`);
    expect(() => checkBatchSize(0, 'rows')).toThrow(/^rows must be/);
  });
});
