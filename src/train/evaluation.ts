// One evaluation of a training run: validate, log the metrics, give up on a metric that is not finite (nothing is
// saved for that step), track the best value (best/ is written when it improves, a snapshot when snapshots are
// kept), let the schedule react to the result, and decide on early stopping.
import * as path from 'node:path';
import { ToolkitError, withFileSystemErrors } from '../errors.js';
import type { TrainingTask } from './task.js';
import type { LearningRateSchedule } from './schedule.js';
import type { MetricTracker } from './earlyStopping.js';
import type { TrainingLog } from './trainingLog.js';
import type { RunLock } from './lock.js';
import { saveBest, BEST_DIR } from './checkpoints.js';
import { saveSnapshot, snapshotDir } from './snapshots.js';
import { TrainingConfigError, type TrainingOptions } from './options.js';

/** A validation metric came out NaN or infinite: the weights have diverged (or the metric is broken). */
export class NonFiniteValidationError extends ToolkitError {
  override name = 'NonFiniteValidationError';
  constructor(
    readonly step: number,
    readonly metrics: Record<string, number>,
  ) {
    super(
      `step ${step}: validation ${Object.entries(metrics)
        .filter(([, v]) => !Number.isFinite(v))
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}: not finite; no checkpoint and no best model were written for it`,
    );
  }
}

/** The events an evaluation reports (part of the loop's TrainingEvent). */
export type EvaluationEvent =
  | {
      type: 'evaluation';
      step: number;
      metrics: Record<string, number>;
      seconds: number;
      improved: boolean;
      best: number | null;
      bestStep: number | null;
    }
  | { type: 'best'; step: number; dir: string; metric: string; value: number };

/** What an evaluation reads and updates: the run's task, options, tracker, schedule, lock and log. */
export interface EvaluationContext<B> {
  task: TrainingTask<B>;
  options: TrainingOptions;
  /** The run's output directory. */
  out: string;
  tracker: MetricTracker;
  schedule: LearningRateSchedule;
  lock: RunLock;
  log: TrainingLog;
  /** Writes an event line into the log. */
  event: (name: string, message: string) => void;
  /** Logs and reports the learning rate the schedule moved to. */
  announceRate: (why: string) => void;
  onEvent?: (e: EvaluationEvent) => void;
}

/** 'diverged' when the metric (or the loss) is not finite: then nothing is saved for this step. */
export type EvaluationOutcome =
  | { verdict: 'continue' | 'stop'; metrics: Record<string, number> }
  | { verdict: 'diverged'; error: NonFiniteValidationError };

/** Validates at `step` (after `trainingSeconds` of training) and acts on the metrics. */
export async function runEvaluation<B>(
  c: EvaluationContext<B>,
  step: number,
  trainingSeconds: number,
): Promise<EvaluationOutcome> {
  const { task, options: o, out, tracker, schedule, lock, log, event } = c;
  const params = task.model.params;
  const t0 = performance.now();
  const metrics = task.validate();
  const seconds = (performance.now() - t0) / 1000;
  log.append({
    type: 'valid',
    step,
    metrics,
    seconds: round(seconds, 3),
    trainingMinutes: round(trainingSeconds / 60, 3),
    time: new Date().toISOString(),
  });
  const value = metrics[o.metric];
  if (value === undefined) throw new TrainingConfigError(`validation did not report the metric "${o.metric}"`);
  if (!Number.isFinite(value) || (metrics['loss'] !== undefined && !Number.isFinite(metrics['loss']))) {
    const error = new NonFiniteValidationError(step, metrics);
    event('non-finite', error.message);
    return { verdict: 'diverged', error };
  }
  const { improved, stop } = tracker.update(value, step);
  c.onEvent?.({
    type: 'evaluation',
    step,
    metrics,
    seconds,
    improved,
    best: tracker.best,
    bestStep: tracker.bestStep,
  });
  if (improved) {
    const dir = path.join(out, BEST_DIR);
    await lock.verify();
    await withFileSystemErrors(dir, 'cannot write the best model', () =>
      saveBest(dir, task.savedForm(), params, { step, metric: o.metric, value, metrics: finiteOnly(metrics) }),
    );
    c.onEvent?.({ type: 'best', step, dir, metric: o.metric, value });
  }
  if (o.keepCheckpoints > 0) {
    await lock.verify();
    const dir = snapshotDir(out, step);
    await withFileSystemErrors(dir, 'cannot write the evaluation snapshot', () =>
      saveSnapshot(out, o.keepCheckpoints, step, task.savedForm(), params, {
        metric: o.metric,
        value,
        metrics: finiteOnly(metrics),
      }),
    );
  }
  if (schedule.afterEvaluation(improved))
    c.announceRate(`${o.metric} did not improve for ${schedule.options.patience} evaluations`);
  if (stop)
    event(
      'early-stop',
      `${o.metric} did not improve for ${tracker.options.patience} evaluations ` +
        `(best ${tracker.best} at step ${tracker.bestStep})`,
    );
  return { verdict: stop ? 'stop' : 'continue', metrics };
}

/** Metrics without NaN or infinite values (JSON would write them as null, which no reader expects a number to be). */
export function finiteOnly(metrics: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(metrics).filter(([, v]) => typeof v === 'number' && Number.isFinite(v)));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
