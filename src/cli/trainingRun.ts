// What every `… train` command does around the training loop: a progress bar, a line per evaluation and
// learning-rate change, Ctrl-C handling (finish the step, write the checkpoint; a second Ctrl-C quits at once),
// and the closing report. Returns the exit code: 0, 130 when interrupted, 1 for a non-finite loss.
import * as path from 'node:path';
import { ProgressBar, formatDuration } from './progress.js';
import { train, type RunOptions, type TrainingEvent } from '../train/loop.js';
import { NonFiniteValidationError } from '../train/evaluation.js';
import type { TrainingOptions } from '../train/options.js';
import { BEST_DIR } from '../train/checkpoints.js';
import type { TrainingTask } from '../train/task.js';

export interface TrainingView {
  /** No progress lines (evaluations are still reported). */
  quiet?: boolean;
  /** One line of validation metrics. */
  describe: (metrics: Record<string, number>) => string;
  /** What to say after the checkpoint line, e.g. how to use the best model. */
  usage?: string;
}

export async function trainWithProgress<B>(
  task: TrainingTask<B>,
  options: Partial<TrainingOptions>,
  run: Omit<RunOptions, 'signal' | 'onEvent' | 'onProgress'>,
  view: TrainingView,
): Promise<number> {
  const err = process.stderr;
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130);
    err.write('\ninterrupted: finishing this step and writing the checkpoint (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const bar = new ProgressBar(err, { quiet: view.quiet ?? false });
  const onEvent = (e: TrainingEvent): void => {
    bar.interrupt(() => {
      if (e.type === 'evaluation')
        err.write(
          `step ${e.step}: validation ${view.describe(e.metrics)} (${e.seconds.toFixed(1)} s)${e.improved ? ' *best*' : ''}\n`,
        );
      else if (e.type === 'learning-rate')
        err.write(`step ${e.step}: learning rate → ${e.learningRate.toPrecision(4)} (${e.reason})\n`);
      else if (e.type === 'skipped')
        err.write(`step ${e.step}: warning: ${e.error.message}; batch skipped (${e.consecutive} in a row)\n`);
      else if (e.type === 'stale-lock')
        err.write(
          `warning: took over the lock of ${run.out} left by pid ${e.previous.pid} on ${e.previous.hostname} ` +
            `(started ${e.previous.started}), which is no longer running\n`,
        );
      else if (e.type === 'resume-change') err.write(`resume: ${e.message}\n`);
    });
  };
  let result;
  try {
    result = await train(task, options, {
      ...run,
      signal: stop.signal,
      onEvent,
      onProgress: (p) => bar.update({ ...p }),
    });
  } finally {
    bar.done();
    process.off('SIGINT', onSigint);
  }
  const o = process.stdout;
  const out = run.out;
  const why = {
    completed: 'completed',
    'early-stopped': 'stopped early',
    interrupted: 'interrupted',
    'non-finite':
      result.error instanceof NonFiniteValidationError
        ? 'stopped: non-finite validation metric'
        : 'stopped: non-finite loss',
  }[result.reason];
  o.write(
    `training ${why} at step ${result.step} (${formatDuration(result.seconds)} this session)` +
      `${result.skipped > 0 ? `, ${result.skipped} batches skipped` : ''}\n`,
  );
  if (result.metrics !== null) o.write(`last validation: ${view.describe(result.metrics)}\n`);
  if (result.best !== null)
    o.write(
      `best ${result.best.metric} ${result.best.value.toFixed(4)} at step ${result.best.step}: ${path.join(out, BEST_DIR)}\n`,
    );
  if (result.reason === 'non-finite') {
    const advice =
      result.checkpointStep !== null
        ? `The last good checkpoint (step ${result.checkpointStep}) in ${out} was kept; ` +
          'lower the learning rate (--learning-rate) or clip harder (--clip-norm), then --resume ' +
          "(--reset-optimizer also clears the optimiser's moments)."
        : 'No checkpoint was written (the run diverged before its first one); ' +
          'start again with a lower learning rate (--learning-rate) or harder clipping (--clip-norm).';
    err.write(`translate: error: ${result.error?.message}. ${advice}\n`);
    return 1;
  }
  o.write(`checkpoint: ${out} (resume with --resume${view.usage === undefined ? '' : `; ${view.usage}`})\n`);
  o.write(`log: ${path.join(out, 'train.jsonl')}, curves: ${path.join(out, 'curves.svg')}\n`);
  return result.reason === 'interrupted' ? 130 : 0;
}
