import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { sequenceLoss, sequenceLossProblem } from '../../src/loss/sequenceLoss.js';
import { maskedCrossEntropy } from '../../src/loss/crossEntropy.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

describe('sequenceLoss', () => {
  const rng = new Rng(1);
  const top = tf.tensor2d(
    Array.from({ length: 6 * 4 }, () => rng.normal()),
    [6, 4],
  );
  const W = tf.tensor2d(
    Array.from({ length: 4 * 30 }, () => rng.normal() * 0.5),
    [4, 30],
  );
  const b = tf.tensor1d(Array.from({ length: 30 }, () => rng.normal() * 0.1));
  const targets = Int32Array.of(4, 7, 2, 9, 11, 2);
  const mask = Float32Array.of(1, 1, 1, 1, 0, 0);
  const value = (x: tf.Scalar): number => {
    const v = x.dataSync()[0]!;
    x.dispose();
    return v;
  };
  const plain = (): number =>
    value(tf.tidy(() => maskedCrossEntropy(tf.add<tf.Tensor2D>(tf.matMul(top, W), b), targets, mask)));

  it('evaluation (training false) is the plain full-softmax loss whatever the training options', () => {
    const ev = value(
      tf.tidy(() =>
        sequenceLoss(
          top,
          W,
          b,
          targets,
          mask,
          { softmax: 'sampled', numSampled: 5, labelSmoothing: 0 },
          { training: false },
        ),
      ),
    );
    const evSmooth = value(
      tf.tidy(() => sequenceLoss(top, W, b, targets, mask, { labelSmoothing: 0.3 }, { training: false })),
    );
    expect(ev).toBeCloseTo(plain(), 6);
    expect(evSmooth).toBeCloseTo(plain(), 6);
  });

  it('training applies label smoothing and sampled softmax, and per-sequence averaging with the steps given', () => {
    const smooth = value(
      tf.tidy(() => sequenceLoss(top, W, b, targets, mask, { labelSmoothing: 0.3 }, { training: true })),
    );
    expect(smooth).not.toBeCloseTo(plain(), 3);
    const s1 = value(
      tf.tidy(() =>
        sequenceLoss(
          top,
          W,
          b,
          targets,
          mask,
          { softmax: 'sampled', numSampled: 5 },
          { training: true, rng: new Rng(4) },
        ),
      ),
    );
    const s2 = value(
      tf.tidy(() =>
        sequenceLoss(
          top,
          W,
          b,
          targets,
          mask,
          { softmax: 'sampled', numSampled: 5 },
          { training: true, rng: new Rng(4) },
        ),
      ),
    );
    expect(s1).toBe(s2); // same generator state, same candidates
    expect(s1).not.toBeCloseTo(plain(), 3);
    // Two sequences of 3 rows: lengths 3 and 1.
    const perSeq = value(
      tf.tidy(() => sequenceLoss(top, W, b, targets, mask, { average: 'sequence', steps: 3 }, { training: true })),
    );
    const rows = [0, 1, 2, 3].map((i) =>
      value(
        tf.tidy(() =>
          maskedCrossEntropy(
            tf.add<tf.Tensor2D>(tf.matMul(tf.slice(top, [i, 0], [1, 4]), W), b),
            Int32Array.of(targets[i]!),
            Float32Array.of(1),
          ),
        ),
      ),
    );
    expect(perSeq).toBeCloseTo(((rows[0]! + rows[1]! + rows[2]!) / 3 + rows[3]!) / 2, 5);
    expect(() =>
      tf.tidy(() => sequenceLoss(top, W, b, targets, mask, { softmax: 'sampled', numSampled: 5 }, { training: true })),
    ).toThrow(/needs an rng/);
  });

  it('names the problem in options a user gave', () => {
    expect(sequenceLossProblem({ softmax: 'sampled', labelSmoothing: 0.1 })).toMatch(
      /not available with sampled softmax/,
    );
    expect(sequenceLossProblem({ numSampled: 0 })).toMatch(/numSampled must be a positive integer/);
    expect(sequenceLossProblem({ labelSmoothing: 1 })).toMatch(/labelSmoothing must be in \[0, 1\)/);
    expect(
      sequenceLossProblem({ softmax: 'full', numSampled: 64, labelSmoothing: 0.1, average: 'sequence' }),
    ).toBeNull();
  });
});
