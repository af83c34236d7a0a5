import { describe, it, expect } from 'vitest';
import { resumeChanges, scheduleHorizons } from '../../src/train/resume.js';
import { DEFAULT_TRAINING_OPTIONS, TrainingConfigError, type TrainingOptions } from '../../src/train/options.js';
import type { Checkpoint } from '../../src/train/checkpoints.js';

const options = (o: Partial<TrainingOptions> = {}): TrainingOptions => ({ ...DEFAULT_TRAINING_OPTIONS, ...o });
/** A checkpoint as far as the horizon reads it. */
const checkpoint = (scheduleSteps: number | undefined): Checkpoint =>
  ({ training: scheduleSteps === undefined ? {} : { scheduleSteps } }) as unknown as Checkpoint;

describe('scheduleHorizons', () => {
  it('a new run follows its own steps', () => {
    expect(scheduleHorizons(undefined, undefined, options({ steps: 300 }), false)).toEqual({
      savedHorizon: 300,
      horizon: 300,
    });
    expect(scheduleHorizons(undefined, undefined, options({ steps: 300 }), true)).toEqual({
      savedHorizon: 300,
      horizon: 300,
    });
  });

  it("a resumed run keeps the checkpoint's horizon, or its steps when it has none, unless rescheduled", () => {
    const o = options({ steps: 500 });
    expect(scheduleHorizons(checkpoint(200), { steps: 100 }, o, false)).toEqual({ savedHorizon: 200, horizon: 200 });
    expect(scheduleHorizons(checkpoint(undefined), { steps: 100 }, o, false)).toEqual({
      savedHorizon: 100,
      horizon: 100,
    });
    expect(scheduleHorizons(checkpoint(undefined), undefined, o, undefined)).toEqual({
      savedHorizon: 500,
      horizon: 500,
    });
    expect(scheduleHorizons(checkpoint(200), { steps: 100 }, o, true)).toEqual({ savedHorizon: 200, horizon: 500 });
  });
});

describe('resumeChanges', () => {
  it('reports nothing when the options are those of the checkpoint', () => {
    const o = options({ steps: 100 });
    expect(resumeChanges({ ...o }, o, {}, 100, 100)).toEqual([]);
    // Options the checkpoint did not record are not compared.
    expect(resumeChanges({}, o, {}, 100, 100)).toEqual([]);
  });

  it('lists each change: learning rate, clipping, schedule, steps, horizon and an optimiser reset', () => {
    const saved = options({ steps: 100, learningRate: 0.1, clipNorm: 5, schedule: {} });
    const o = options({ steps: 200, learningRate: 0.05, clipNorm: 1, schedule: { kind: 'cosine' } });
    expect(resumeChanges(saved, o, {}, 100, 100)).toEqual([
      'learningRate 0.1 → 0.05',
      'clipNorm 5 → 1',
      'schedule {} → {"kind":"cosine"}',
      'steps 100 → 200 (the schedule keeps its horizon of 100 steps; --reschedule stretches it)',
    ]);
    expect(resumeChanges(saved, o, { resetOptimizer: true }, 100, 200)).toEqual([
      'learningRate 0.1 → 0.05',
      'clipNorm 5 → 1',
      'schedule {} → {"kind":"cosine"}',
      'steps 100 → 200',
      'schedule horizon 100 → 200 steps (--reschedule)',
      'optimiser state reset (--reset-optimizer): moments start from zero',
    ]);
  });

  it('compares schedules with their defaults filled in', () => {
    const o = options({ schedule: {} });
    expect(resumeChanges({ schedule: { kind: 'constant' } }, o, {}, 10, 10)).toEqual([]);
  });

  it('refuses a new optimiser or momentum unless the optimiser state is reset', () => {
    const saved = options({ optimizer: 'adam', momentum: 0 });
    expect(() => resumeChanges(saved, options({ optimizer: 'sgd' }), {}, 10, 10)).toThrow(TrainingConfigError);
    expect(() =>
      resumeChanges(
        options({ optimizer: 'sgd', momentum: 0 }),
        options({ optimizer: 'sgd', momentum: 0.9 }),
        {},
        10,
        10,
      ),
    ).toThrow(/--reset-optimizer/);
    expect(
      resumeChanges(saved, options({ optimizer: 'sgd', momentum: 0.9 }), { resetOptimizer: true }, 10, 10),
    ).toEqual([
      'optimizer "adam" → "sgd"',
      'momentum 0 → 0.9',
      'optimiser state reset (--reset-optimizer): moments start from zero',
    ]);
  });
});
