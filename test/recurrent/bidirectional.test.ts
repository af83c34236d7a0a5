import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { reversalIndex, permuteIds, permuteRows, joinFinals } from '../../src/recurrent/bidirectional.js';
import { makeSourceBatch } from '../../src/data/text/batch.js';
import { checkInputGradients } from '../helpers/gradientCheck.js';

beforeAll(useTestBackend);

const seqs = [[11, 12, 13, 14], [21], [31, 32]];

/** Column b of a time-major [T·B] array. */
const column = (xs: ArrayLike<number>, T: number, B: number, b: number) =>
  Array.from({ length: T }, (_, t) => xs[t * B + b]!);

describe('reversal within each sequence', () => {
  it('front padding: reverses only the real tokens at the end of each column, padding stays first', () => {
    const batch = makeSourceBatch(seqs, { reverseSource: true });
    const index = reversalIndex(batch.sourceMask, batch.sourceSteps, batch.size);
    const reversed = permuteIds(batch.source, index);
    // The encoder reads 14 13 12 11 (reversed source); the backward direction reads it back to front: 11 12 13 14.
    expect(column(reversed, 4, 3, 0)).toEqual([11, 12, 13, 14]);
    expect(column(reversed, 4, 3, 1)).toEqual([0, 0, 0, 21]);
    expect(column(reversed, 4, 3, 2)).toEqual([0, 0, 31, 32]);
  });

  it('back padding: reverses the real tokens at the start, padding stays last', () => {
    const batch = makeSourceBatch(seqs, { reverseSource: false });
    const index = reversalIndex(batch.sourceMask, batch.sourceSteps, batch.size);
    expect(column(permuteIds(batch.source, index), 4, 3, 0)).toEqual([14, 13, 12, 11]);
    expect(column(permuteIds(batch.source, index), 4, 3, 2)).toEqual([32, 31, 0, 0]);
  });

  it('is its own inverse and keeps the mask', () => {
    const batch = makeSourceBatch(seqs, { reverseSource: true });
    const index = reversalIndex(batch.sourceMask, batch.sourceSteps, batch.size);
    index.forEach((j, i) => expect(index[j]).toBe(i));
    index.forEach((j, i) => expect(batch.sourceMask[j]).toBe(batch.sourceMask[i]));
  });

  it('permuteRows moves whole rows and its gradient is the inverse permutation (finite differences)', () => {
    const index = Int32Array.from([2, 0, 1, 3]);
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ]);
    expect(tf.tidy(() => permuteRows(x, index).arraySync())).toEqual([
      [5, 6],
      [1, 2],
      [3, 4],
      [7, 8],
    ]);
    const R = tf.tensor2d([
      [0.3, -1],
      [2, 0.5],
      [-0.7, 1.1],
      [0.2, 0.9],
    ]);
    // A non-linear loss, so that the gradient depends on where each row went.
    checkInputGradients((xi) => tf.sum(tf.mul(tf.square(permuteRows(xi as tf.Tensor2D, index)), R)), [x], {
      samples: 8,
    });
    tf.dispose([x, R]);
  });

  it('joinFinals lays a bidirectional LSTM state out as [h_fwd | h_bwd | c_fwd | c_bwd]', () => {
    const fwd = tf.tensor2d([[1, 2, 3, 4]]); // H = 2: [h | c]
    const bwd = tf.tensor2d([[5, 6, 7, 8]]);
    expect(tf.tidy(() => joinFinals(fwd, bwd, 2).arraySync())).toEqual([[1, 2, 5, 6, 3, 4, 7, 8]]);
    expect(tf.tidy(() => joinFinals(tf.tensor2d([[1, 2]]), tf.tensor2d([[5, 6]]), 2).arraySync())).toEqual([
      [1, 2, 5, 6],
    ]);
    tf.dispose([fwd, bwd]);
  });
});
