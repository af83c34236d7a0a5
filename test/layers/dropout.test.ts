import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { dropout, dropoutMask, stateMask, checkDropout, DropoutError } from '../../src/layers/dropout.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const x = () =>
  tf.tensor2d(
    Array.from({ length: 40 }, (_, i) => i / 7 - 2),
    [8, 5],
  );

describe('dropout', () => {
  it('keep = 1 and no rng (not training) are the identity, and draw nothing', () => {
    const rng = new Rng(3);
    const before = rng.getState();
    const [a, b, input] = tf.tidy(() => [
      dropout(x(), 1, rng).arraySync(),
      dropout(x(), 0.5, null).arraySync(),
      x().arraySync(),
    ]);
    expect(a).toEqual(input);
    expect(b).toEqual(input);
    expect(rng.getState()).toEqual(before);
    expect(stateMask(null, 4, 3, 0.5)).toBeNull();
    expect(stateMask(rng, 4, 3, 1)).toBeNull();
  });

  it('the same rng state gives the same mask, and the stream continues from a restored state', () => {
    const r1 = new Rng(11);
    const first = tf.tidy(() => dropoutMask(r1, 6, 7, 0.6).arraySync());
    const resumed = new Rng(r1.getState());
    const second = tf.tidy(() => dropoutMask(r1, 6, 7, 0.6).arraySync());
    const again = tf.tidy(() => [
      dropoutMask(new Rng(11), 6, 7, 0.6).arraySync(),
      dropoutMask(resumed, 6, 7, 0.6).arraySync(),
    ]);
    expect(again[0]).toEqual(first);
    expect(again[1]).toEqual(second);
    expect(second).not.toEqual(first);
  });

  it('keeps units with probability keep and scales them by 1/keep, so the expectation is unchanged', () => {
    const keep = 0.7;
    const m = tf.tidy(() => dropoutMask(new Rng(5), 200, 100, keep).dataSync());
    const kept = Array.from(m).filter((v) => v !== 0);
    kept.forEach((v) => expect(v).toBeCloseTo(1 / keep, 6));
    expect(kept.length / m.length).toBeCloseTo(keep, 1.5);
    const mean = Array.from(m).reduce((a, v) => a + v, 0) / m.length;
    expect(Math.abs(mean - 1)).toBeLessThan(0.02);
    const y = tf.tidy(() => dropout(x(), 0.5, new Rng(9)).dataSync());
    const xs = x();
    const xv = xs.dataSync();
    xs.dispose();
    y.forEach((v, i) => expect(v === 0 || Math.abs(v - 2 * xv[i]!) < 1e-6).toBe(true));
  });

  it('rejects keep probabilities outside (0, 1]', () => {
    expect(() => checkDropout({ inputKeep: 0, outputKeep: 1, stateKeep: 1 })).toThrow(DropoutError);
    expect(() => checkDropout({ inputKeep: 1, outputKeep: 1.5, stateKeep: 1 })).toThrow(/outputKeep/);
    expect(() => checkDropout({ inputKeep: 1, outputKeep: 1, stateKeep: 0.5 })).not.toThrow();
  });
});
