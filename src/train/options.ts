// The training loop's options: what each one means, their defaults, and the check that fills in defaults and
// refuses a bad value with an error naming the option.
import { ToolkitError } from '../errors.js';
import { trainerOptionsProblem, type TrainerOptions } from './trainer.js';
import { SCHEDULE_KINDS, type ScheduleOptions } from './schedule.js';
import type { EarlyStoppingOptions } from './earlyStopping.js';

export interface TrainingOptions extends TrainerOptions {
  /** Total training steps (batches), counted across resumes (default 10,000). */
  steps: number;
  /** Learning-rate schedule (default constant; see schedule.ts). */
  schedule: Partial<ScheduleOptions>;
  /** Evaluate on validation data every this many steps, and after the last (default 500). */
  evalEvery: number;
  /** Write the checkpoint every this many steps (default 0: after every evaluation), after the last, and on interruption. */
  checkpointEvery: number;
  /** Write a training-log line (means since the previous line) every this many steps (default 10). */
  logEvery: number;
  /** Validation metric that picks the best checkpoint, drives plateau decay and early stopping (default 'loss'). */
  metric: string;
  /** Stop after `patience` evaluations without improvement of `metric` (default patience 0: off). */
  earlyStopping: Partial<EarlyStoppingOptions>;
  /** Seed of the run's generator: dropout masks and sampled-softmax candidates (default 1). */
  seed: number;
  /**
   * A non-finite loss or gradient: 'stop' (default) ends training without writing a checkpoint (the last good one
   * stays); 'skip' drops that batch (no update), counts it and goes on, stopping after `maxSkips` in a row.
   */
  nonFinite: 'stop' | 'skip';
  /** Consecutive skipped batches tolerated with nonFinite 'skip' (default 10). */
  maxSkips: number;
  /** Keep the weights of the last this many evaluations in out/evaluations/ for averaging (default 0: none). */
  keepCheckpoints: number;
}

export const DEFAULT_TRAINING_OPTIONS: TrainingOptions = {
  optimizer: 'adam',
  learningRate: 3e-3,
  momentum: 0,
  clipNorm: 5,
  steps: 10_000,
  schedule: {},
  evalEvery: 500,
  checkpointEvery: 0,
  logEvery: 10,
  metric: 'loss',
  earlyStopping: {},
  seed: 1,
  nonFinite: 'stop',
  maxSkips: 10,
  keepCheckpoints: 0,
};

export class TrainingConfigError extends ToolkitError {
  override name = 'TrainingConfigError';
}

/** Fills defaults and checks the options; throws TrainingConfigError naming the option. */
export function resolveTrainingOptions(options: Partial<TrainingOptions>): TrainingOptions {
  const o: TrainingOptions = { ...DEFAULT_TRAINING_OPTIONS, ...options };
  const positiveInt = (name: keyof TrainingOptions, min = 1): void => {
    const v = o[name] as number;
    if (!(Number.isInteger(v) && v >= min))
      throw new TrainingConfigError(`training.${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  };
  positiveInt('steps');
  positiveInt('evalEvery');
  positiveInt('checkpointEvery', 0);
  positiveInt('logEvery');
  positiveInt('maxSkips');
  positiveInt('keepCheckpoints', 0);
  positiveInt('seed', 0);
  const trainer = trainerOptionsProblem(o);
  if (trainer !== null) throw new TrainingConfigError(`training.${trainer}`);
  if (o.nonFinite !== 'stop' && o.nonFinite !== 'skip')
    throw new TrainingConfigError(`training.nonFinite must be "stop" or "skip", got ${JSON.stringify(o.nonFinite)}`);
  const s = o.schedule;
  if (s.kind !== undefined && !SCHEDULE_KINDS.includes(s.kind))
    throw new TrainingConfigError(
      `training.schedule.kind must be one of ${SCHEDULE_KINDS.join(', ')}, got ${JSON.stringify(s.kind)}`,
    );
  if (s.factor !== undefined && !(s.factor > 0 && s.factor <= 1))
    throw new TrainingConfigError(`training.schedule.factor must be in (0, 1], got ${s.factor}`);
  if (s.window !== undefined && !(Number.isInteger(s.window) && s.window >= 1))
    throw new TrainingConfigError(`training.schedule.window must be an integer ≥ 1, got ${s.window}`);
  if (s.patience !== undefined && !(Number.isInteger(s.patience) && s.patience >= 1))
    throw new TrainingConfigError(`training.schedule.patience must be an integer ≥ 1, got ${s.patience}`);
  if (s.finalShare !== undefined && !(s.finalShare >= 0 && s.finalShare <= 1))
    throw new TrainingConfigError(`training.schedule.finalShare must be in [0, 1], got ${s.finalShare}`);
  const e = o.earlyStopping;
  if (e.patience !== undefined && !(Number.isInteger(e.patience) && e.patience >= 0))
    throw new TrainingConfigError(`training.earlyStopping.patience must be an integer ≥ 0 (0: off), got ${e.patience}`);
  if (e.minDelta !== undefined && !(e.minDelta >= 0))
    throw new TrainingConfigError(`training.earlyStopping.minDelta must be ≥ 0, got ${e.minDelta}`);
  return o;
}
