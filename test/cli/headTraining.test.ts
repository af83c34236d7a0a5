import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import {
  addHeadTrainingFlags,
  addStackFlags,
  trainingLayer,
  stackLayer,
  fmt,
  type HeadTrainFlags,
  type StackFlags,
} from '../../src/cli/headTraining.js';
import { DEFAULT_TRAINING_OPTIONS } from '../../src/train/options.js';

describe("the heads' training flags", () => {
  it("have no values unless given (so a config file stands) and show the head's defaults in the help", () => {
    const c = addStackFlags(
      addHeadTrainingFlags(new Command('t').exitOverride().configureOutput({ writeErr: () => undefined }), {
        training: { ...DEFAULT_TRAINING_OPTIONS, steps: 1234 },
        batchSize: 7,
        hidden: 99,
      }),
    );
    c.parse([], { from: 'user' });
    expect(c.opts()).toEqual({});
    const help = c.helpInformation();
    expect(help).toMatch(/\(default: 1234\)/);
    expect(help).toMatch(/\(default: 7\)/);
    expect(help).toMatch(/\(default: 99\)/);
  });

  it("map onto the training section and the model's stack and dropout", () => {
    const c = addStackFlags(
      addHeadTrainingFlags(new Command('t').exitOverride().configureOutput({ writeErr: () => undefined }), {
        training: DEFAULT_TRAINING_OPTIONS,
        batchSize: 1,
        hidden: 1,
      }),
    );
    c.parse(
      [
        '--steps',
        '5',
        '--schedule',
        'cosine',
        '--lr-decay',
        '0.5',
        '--patience',
        '2',
        '--seed',
        '3',
        '--layers',
        '2',
        '--state-keep',
        '0.9',
      ],
      { from: 'user' },
    );
    const f = { ...c.opts(), set: [], out: 'o' } as HeadTrainFlags & StackFlags;
    expect(trainingLayer(f)).toEqual({
      steps: 5,
      seed: 3,
      schedule: { kind: 'cosine', factor: 0.5 },
      earlyStopping: { patience: 2 },
    });
    expect(stackLayer(f)).toEqual({ layers: 2, dropout: { stateKeep: 0.9 } });
    expect(trainingLayer({})).toEqual({});
    expect(() => c.parse(['--learning-rate', '0'], { from: 'user' })).toThrow(
      /--learning-rate must be a positive number/,
    );
    expect(() => c.parse(['--input-keep', '2'], { from: 'user' })).toThrow(/keep probability/);
  });

  it('fmt writes a dash for a missing metric', () => {
    expect(fmt(undefined)).toBe('—');
    expect(fmt(1.23456, 2)).toBe('1.23');
  });
});
