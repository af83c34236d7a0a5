import { describe, it, expect } from 'vitest';
import {
  resolveTrainingOptions,
  DEFAULT_TRAINING_OPTIONS,
  TrainingConfigError,
  type TrainingOptions,
} from '../../src/train/options.js';

describe('resolveTrainingOptions', () => {
  it('fills every option left out with its default and keeps the ones given', () => {
    expect(resolveTrainingOptions({})).toEqual(DEFAULT_TRAINING_OPTIONS);
    const o = resolveTrainingOptions({ steps: 20, learningRate: 0.5, optimizer: 'sgd', schedule: { kind: 'cosine' } });
    expect(o).toEqual({
      ...DEFAULT_TRAINING_OPTIONS,
      steps: 20,
      learningRate: 0.5,
      optimizer: 'sgd',
      schedule: { kind: 'cosine' },
    });
    expect(resolveTrainingOptions({ checkpointEvery: 0, keepCheckpoints: 0, seed: 0 }).seed).toBe(0);
  });

  it('does not change the defaults object', () => {
    const before = JSON.stringify(DEFAULT_TRAINING_OPTIONS);
    resolveTrainingOptions({ steps: 3, schedule: { kind: 'cosine' } });
    expect(JSON.stringify(DEFAULT_TRAINING_OPTIONS)).toBe(before);
  });

  const bad: [Partial<TrainingOptions>, RegExp][] = [
    [{ steps: 0 }, /training\.steps must be an integer ≥ 1, got 0/],
    [{ steps: 2.5 }, /training\.steps/],
    [{ evalEvery: -1 }, /training\.evalEvery/],
    [{ checkpointEvery: -1 }, /training\.checkpointEvery must be an integer ≥ 0/],
    [{ logEvery: 0 }, /training\.logEvery/],
    [{ maxSkips: 0 }, /training\.maxSkips/],
    [{ keepCheckpoints: 1.5 }, /training\.keepCheckpoints/],
    [{ seed: -1 }, /training\.seed/],
    [{ optimizer: 'rmsprop' as 'adam' }, /training\.optimizer must be "adam" or "sgd", got "rmsprop"/],
    [{ learningRate: 0 }, /training\.learningRate must be a positive number/],
    [{ learningRate: Infinity }, /training\.learningRate/],
    [{ momentum: 1 }, /training\.momentum must be in \[0, 1\)/],
    [{ clipNorm: -1 }, /training\.clipNorm/],
    [{ nonFinite: 'ignore' as 'stop' }, /training\.nonFinite/],
    [{ schedule: { kind: 'step' as 'cosine' } }, /training\.schedule\.kind must be one of/],
    [{ schedule: { factor: 0 } }, /training\.schedule\.factor/],
    [{ schedule: { factor: 1.5 } }, /training\.schedule\.factor/],
    [{ schedule: { window: 0 } }, /training\.schedule\.window/],
    [{ schedule: { patience: 0 } }, /training\.schedule\.patience/],
    [{ schedule: { finalShare: 2 } }, /training\.schedule\.finalShare/],
    [{ earlyStopping: { patience: -1 } }, /training\.earlyStopping\.patience/],
    [{ earlyStopping: { minDelta: -0.1 } }, /training\.earlyStopping\.minDelta/],
  ];
  for (const [options, message] of bad) {
    it(`refuses ${JSON.stringify(options)} with a TrainingConfigError naming the option`, () => {
      expect(() => resolveTrainingOptions(options)).toThrow(TrainingConfigError);
      expect(() => resolveTrainingOptions(options)).toThrow(message);
    });
  }

  it('accepts the edges of each range', () => {
    expect(() =>
      resolveTrainingOptions({
        momentum: 0,
        clipNorm: 0,
        schedule: { factor: 1, finalShare: 0, window: 1, patience: 1 },
        earlyStopping: { patience: 0, minDelta: 0 },
      }),
    ).not.toThrow();
  });
});
