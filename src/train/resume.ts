// Resuming a run: which schedule horizon the resumed session follows, and what differs from the checkpoint's
// options (reported as events; an optimiser change without --reset-optimizer is refused).
import type { Checkpoint } from './checkpoints.js';
import { DEFAULT_SCHEDULE } from './schedule.js';
import { TrainingConfigError, type TrainingOptions } from './options.js';

/**
 * The schedule's horizon: the steps the run was started (or last --rescheduled) with, so that a new --steps on
 * resume lengthens the run without reshaping the learning-rate curve already followed. `savedHorizon` is the
 * checkpoint's (this run's steps when not resuming), `horizon` the one this session follows.
 */
export function scheduleHorizons(
  ck: Checkpoint | undefined,
  saved: Partial<TrainingOptions> | undefined,
  o: TrainingOptions,
  reschedule: boolean | undefined,
): { savedHorizon: number; horizon: number } {
  const savedHorizon = ck === undefined ? o.steps : (ck.training.scheduleSteps ?? saved?.steps ?? o.steps);
  const horizon = ck === undefined || reschedule ? o.steps : savedHorizon;
  return { savedHorizon, horizon };
}

/** What `--resume` may change, compared with the checkpoint's options; throws for changes that need --reset-optimizer. */
export function resumeChanges(
  saved: Partial<TrainingOptions>,
  o: TrainingOptions,
  run: { resetOptimizer?: boolean },
  savedHorizon: number,
  horizon: number,
): string[] {
  const changes: string[] = [];
  const show = (x: unknown): string => JSON.stringify(x);
  if (
    saved.optimizer !== undefined &&
    (saved.optimizer !== o.optimizer || saved.momentum !== o.momentum) &&
    !run.resetOptimizer
  ) {
    throw new TrainingConfigError(
      `the checkpoint was trained with ${saved.optimizer} (momentum ${saved.momentum}); changing optimiser or momentum on --resume needs --reset-optimizer`,
    );
  }
  for (const key of ['learningRate', 'clipNorm', 'optimizer', 'momentum'] as const) {
    if (saved[key] !== undefined && saved[key] !== o[key]) changes.push(`${key} ${show(saved[key])} → ${show(o[key])}`);
  }
  if (
    saved.schedule !== undefined &&
    show({ ...DEFAULT_SCHEDULE, ...saved.schedule }) !== show({ ...DEFAULT_SCHEDULE, ...o.schedule })
  ) {
    changes.push(`schedule ${show(saved.schedule)} → ${show(o.schedule)}`);
  }
  if (saved.steps !== undefined && saved.steps !== o.steps) {
    changes.push(
      `steps ${saved.steps} → ${o.steps}${horizon === savedHorizon ? ` (the schedule keeps its horizon of ${horizon} steps; --reschedule stretches it)` : ''}`,
    );
  }
  if (horizon !== savedHorizon) changes.push(`schedule horizon ${savedHorizon} → ${horizon} steps (--reschedule)`);
  if (run.resetOptimizer) changes.push('optimiser state reset (--reset-optimizer): moments start from zero');
  return changes;
}
