// The training loop every task uses (translation, language model, classifier, forecaster): plain and linear,
//
//   next batch → learning rate → loss → gradients → clip → update → log → (evaluate → best → schedule) → checkpoint
//
// A task supplies its model, its batches, its validation metrics and what its model directory holds
// (TrainingTask); the loop owns the optimiser, the run's random generator (dropout masks, sampled-softmax
// candidates), the schedule, early stopping, the JSON Lines log, the curves and the checkpoints. Everything a step
// depends on is in the checkpoint, so a resumed run computes the same losses as one that was never stopped. The
// evaluation step (validate → best → snapshot → schedule → early stop) is evaluation.ts's.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { withFileSystemErrors } from '../errors.js';
import { Rng } from '../random.js';
import type { TrainingTask } from './task.js';
import type { SequenceLossOptions } from '../loss/sequenceLoss.js';
import { writeFileAtomic } from '../model/atomicFiles.js';
import { Trainer, NonFiniteError } from './trainer.js';
import { LearningRateSchedule, DEFAULT_SCHEDULE } from './schedule.js';
import { MetricTracker, type MetricDirection } from './earlyStopping.js';
import { TrainingLog } from './trainingLog.js';
import { lossCurves, metricCurves, describeLoss } from './curves.js';
import { saveCheckpoint, hasModel, type Checkpoint, type WindowSums } from './checkpoints.js';
import { RunLock, type LockOptions, type LockOwner } from './lock.js';
import { resolveTrainingOptions, TrainingConfigError, type TrainingOptions } from './options.js';
import { scheduleHorizons, resumeChanges } from './resume.js';
import { runEvaluation, finiteOnly, NonFiniteValidationError, type EvaluationEvent } from './evaluation.js';

export interface ProgressInfo {
  step: number;
  steps: number;
  /** Step the session started from (0, or the checkpoint's step when resuming): for ETA. */
  startStep: number;
  epoch: number;
  loss: number;
  gradNorm: number;
  learningRate: number;
  tokens: number;
  /** Tokens per second over this session. */
  tokensPerSecond: number;
  /** Seconds since this session's first step. */
  elapsedSeconds: number;
}

export type TrainingEvent =
  | { type: 'resumed'; step: number }
  | EvaluationEvent
  | { type: 'checkpoint'; step: number; dir: string; seconds: number }
  | { type: 'learning-rate'; step: number; learningRate: number; reason: string }
  | { type: 'skipped'; step: number; error: NonFiniteError; consecutive: number }
  /** The lock of `out` was left by a process that is gone, and was taken over. */
  | { type: 'stale-lock'; previous: LockOwner }
  /** On resume: a setting that differs from the checkpoint's (learning rate, schedule, clipping…), or the optimiser reset. */
  | { type: 'resume-change'; step: number; message: string };

export interface RunOptions {
  /** Directory of the checkpoint, best/, train.jsonl and curves.svg. */
  out: string;
  /** Loss options passed to the model in training (softmax, label smoothing…). */
  loss?: Partial<SequenceLossOptions>;
  /** The caller's effective configuration, saved in the checkpoint as it is. */
  config?: unknown;
  /** Continue from this checkpoint (readCheckpoint(out)). */
  resume?: Checkpoint;
  /** Start a new run in an `out` that already holds a model (default false: refuse, to protect a run). */
  overwrite?: boolean;
  /** On resume: start the optimiser afresh (Adam's moments, SGD's momentum), as OpenNMT's -reset_optim; needed to change optimiser or momentum. */
  resetOptimizer?: boolean;
  /** On resume: stretch the schedule over the new `steps` (default: keep the horizon the run started with, so a longer run continues at the final rate). */
  reschedule?: boolean;
  /** How the lock on `out` decides that a holder is gone (tests). */
  lock?: LockOptions;
  /** Aborting finishes the current step, writes the checkpoint and returns (Ctrl-C). */
  signal?: AbortSignal;
  onProgress?: (p: ProgressInfo) => void;
  onEvent?: (e: TrainingEvent) => void;
}

export type StopReason = 'completed' | 'early-stopped' | 'interrupted' | 'non-finite';

export interface TrainingResult {
  reason: StopReason;
  /** Steps completed (across resumes). */
  step: number;
  /** The last validation metrics (null when no evaluation ran). */
  metrics: Record<string, number> | null;
  best: { metric: string; value: number; step: number } | null;
  /** Batches skipped for non-finite losses. */
  skipped: number;
  /** With reason 'non-finite': the error (the weights were not updated, no checkpoint was written for it). */
  error?: NonFiniteError | NonFiniteValidationError;
  /** The step of the checkpoint now in `out` (from this session or the one resumed), null when there is none. */
  checkpointStep: number | null;
  /** Seconds of this session. */
  seconds: number;
}

const emptyWindow = (): WindowSums => ({ lossSum: 0, gradNormSum: 0, steps: 0, tokens: 0, seconds: 0 });

/** Trains `task` for options.steps steps (or until stopped), writing checkpoints, log and curves into run.out. */
export async function train<B>(
  task: TrainingTask<B>,
  options: Partial<TrainingOptions>,
  run: RunOptions,
): Promise<TrainingResult> {
  const o = resolveTrainingOptions(options);
  const direction = task.metrics[o.metric];
  if (direction === undefined) {
    throw new TrainingConfigError(
      `training.metric "${o.metric}" is not reported by this task's validation (it reports: ${Object.keys(task.metrics).join(', ')})`,
    );
  }
  const out = run.out;
  await withFileSystemErrors(out, 'cannot create the output directory', () => fs.mkdir(out, { recursive: true }));
  const staleLocks: LockOwner[] = [];
  const lock = await RunLock.acquire(out, { ...run.lock, onStale: (previous) => staleLocks.push(previous) });
  try {
    for (const previous of staleLocks) run.onEvent?.({ type: 'stale-lock', previous });
    if (run.resume === undefined && !run.overwrite && (await hasModel(out))) {
      throw new TrainingConfigError(
        `${out} already holds a model or checkpoint: resume it (--resume), or choose another output directory`,
      );
    }
    return await trainLocked(task, o, direction, run, lock, staleLocks);
  } finally {
    await lock.release();
  }
}

async function trainLocked<B>(
  task: TrainingTask<B>,
  o: TrainingOptions,
  direction: MetricDirection,
  run: RunOptions,
  lock: RunLock,
  staleLocks: readonly LockOwner[],
): Promise<TrainingResult> {
  const out = run.out;
  const params = task.model.params;
  const ck = run.resume;
  const saved = ck?.training.options as Partial<TrainingOptions> | undefined;
  const { savedHorizon, horizon } = scheduleHorizons(ck, saved, o, run.reschedule);
  const changes = ck === undefined ? [] : resumeChanges(saved ?? {}, o, run, savedHorizon, horizon);
  const trainer = new Trainer(params, {
    optimizer: o.optimizer,
    learningRate: o.learningRate,
    momentum: o.momentum,
    clipNorm: o.clipNorm,
  });
  const schedule = new LearningRateSchedule(o.learningRate, o.schedule, horizon);
  const tracker = new MetricTracker(o.metric, direction, o.earlyStopping);
  const rng = new Rng(o.seed);
  let step = 0;
  let skipped = 0;
  let trainingSeconds = 0;
  let lastMetrics: Record<string, number> | null = null;
  let logWindow = emptyWindow();
  let evalWindow = emptyWindow();
  if (ck !== undefined) {
    const t = ck.training;
    const where = path.join(ck.dir, 'model.json');
    params.load(ck.json.weights.manifest, ck.weights, where);
    if (!run.resetOptimizer) await trainer.setState(t.optimizer.state, ck.optimizer, t.step, where);
    rng.setState(t.rng);
    task.setSamplerState(t.sampler);
    schedule.setState(t.schedule);
    const kindChanged = (saved?.schedule?.kind ?? DEFAULT_SCHEDULE.kind) !== schedule.options.kind;
    const rateChanged = saved?.learningRate !== undefined && saved.learningRate !== o.learningRate;
    // A new learning rate restarts a decaying schedule from it; a new schedule kind starts from the rate reached.
    if (kindChanged)
      schedule.setState({ current: rateChanged ? o.learningRate : t.learningRate, history: [], stale: 0, decays: 0 });
    else if (rateChanged) schedule.setState({ ...t.schedule, current: o.learningRate });
    tracker.setState(t.tracker);
    step = t.step;
    skipped = t.skipped;
    trainingSeconds = t.trainingSeconds ?? 0;
    lastMetrics = t.lastMetrics;
    logWindow = { ...t.logWindow };
    evalWindow = { ...t.evalWindow };
  }
  const log = await withFileSystemErrors(out, 'cannot write the training log', () =>
    TrainingLog.open(path.join(out, 'train.jsonl'), ck?.training.step),
  );
  const now = (): string => new Date().toISOString();
  const event = (name: string, message: string): void =>
    log.append({ type: 'event', step, event: name, message, time: now() });
  for (const previous of staleLocks)
    event(
      'stale-lock',
      `took over the lock left by pid ${previous.pid} on ${previous.hostname} (started ${previous.started}), which is gone`,
    );
  if (ck !== undefined) {
    event('resumed', `resumed at step ${step} of ${o.steps}`);
    run.onEvent?.({ type: 'resumed', step });
    for (const message of changes) {
      event('resume-change', message);
      run.onEvent?.({ type: 'resume-change', step, message });
    }
  } else {
    event('started', `training for ${o.steps} steps`);
  }

  const startStep = step;
  const started = performance.now();
  let sessionTokens = 0;
  let consecutiveSkips = 0;
  let reason: StopReason = 'completed';
  let error: NonFiniteError | NonFiniteValidationError | undefined;
  let savedStep = ck?.training.step ?? -1;

  const writeCurves = async (): Promise<void> => {
    const name = path.basename(path.resolve(out));
    const curves = {
      loss: describeLoss(task.lossKind, run.loss),
      metric: o.metric,
      direction: task.metrics[o.metric] ?? 'lower',
    };
    await writeFileAtomic(
      path.join(out, 'curves.svg'),
      lossCurves(log.records, { ...curves, title: `training curves: ${name}` }),
    );
    const metrics = metricCurves(log.records, { ...curves, title: `validation metrics: ${name}` });
    if (metrics !== null) await writeFileAtomic(path.join(out, 'metrics.svg'), metrics);
  };

  const checkpoint = async (): Promise<void> => {
    const t0 = performance.now();
    await lock.verify();
    const optimizer = await trainer.getState();
    await withFileSystemErrors(out, 'cannot write the checkpoint', async () => {
      await saveCheckpoint(
        out,
        task.savedForm(),
        params,
        {
          step,
          options: o,
          config: run.config ?? null,
          rng: rng.getState(),
          sampler: task.samplerState(),
          schedule: schedule.getState(),
          scheduleSteps: horizon,
          tracker: tracker.getState(),
          learningRate: schedule.rate(step + 1),
          logWindow,
          evalWindow,
          skipped,
          trainingSeconds,
          lastMetrics: lastMetrics === null ? null : finiteOnly(lastMetrics),
        },
        optimizer,
      );
      savedStep = step;
      await writeCurves();
    });
    run.onEvent?.({ type: 'checkpoint', step, dir: out, seconds: (performance.now() - t0) / 1000 });
  };

  /** Validates; 'diverged' when the metric (or the loss) is not finite: then nothing is saved for this step. */
  const evaluate = async (): Promise<'continue' | 'stop' | 'diverged'> => {
    // loss-rise decays on the mean training loss of each evaluation period, as the tutorial did per checkpoint.
    const meanLoss = evalWindow.steps > 0 ? evalWindow.lossSum / evalWindow.steps : NaN;
    evalWindow = emptyWindow();
    if (schedule.afterInterval(meanLoss))
      announceRate('training loss above the last ' + schedule.options.window + ' periods');
    const context = { task, options: o, out, tracker, schedule, lock, log, event, announceRate, onEvent: run.onEvent };
    const outcome = await runEvaluation(context, step, trainingSeconds);
    if (outcome.verdict === 'diverged') error = outcome.error;
    else lastMetrics = outcome.metrics;
    return outcome.verdict;
  };

  const announceRate = (why: string): void => {
    const lr = schedule.rate(step + 1);
    event('learning-rate', `learning rate ${lr} (${why})`);
    run.onEvent?.({ type: 'learning-rate', step, learningRate: lr, reason: why });
  };

  try {
    while (step < o.steps) {
      if (run.signal?.aborted) {
        reason = 'interrupted';
        break;
      }
      const { batch, tokens } = task.nextBatch();
      const learningRate = schedule.rate(step + 1);
      trainer.setLearningRate(learningRate);
      const t0 = performance.now();
      let loss: number;
      let gradNorm: number;
      try {
        ({ loss, gradNorm } = trainer.update(() =>
          task.model.loss(batch, { training: true, rng, ...(run.loss !== undefined ? { loss: run.loss } : {}) }),
        ));
        consecutiveSkips = 0;
      } catch (e) {
        if (!(e instanceof NonFiniteError)) throw e;
        const stepError = new NonFiniteError(step + 1, e.loss, e.gradNorm);
        if (o.nonFinite === 'stop' || consecutiveSkips + 1 > o.maxSkips) {
          event('non-finite', stepError.message);
          reason = 'non-finite';
          error = stepError;
          break;
        }
        consecutiveSkips++;
        skipped++;
        step++;
        event('skipped', stepError.message);
        run.onEvent?.({ type: 'skipped', step, error: stepError, consecutive: consecutiveSkips });
        await yieldToEvents();
        continue;
      }
      step++;
      const seconds = (performance.now() - t0) / 1000;
      sessionTokens += tokens;
      trainingSeconds += seconds;
      for (const w of [logWindow, evalWindow]) {
        w.lossSum += loss;
        w.gradNormSum += gradNorm;
        w.steps++;
        w.tokens += tokens;
        w.seconds += seconds;
      }
      const elapsedSeconds = (performance.now() - started) / 1000;
      run.onProgress?.({
        step,
        steps: o.steps,
        startStep,
        epoch: task.epoch(),
        loss,
        gradNorm,
        learningRate,
        tokens,
        tokensPerSecond: sessionTokens / Math.max(elapsedSeconds, 1e-9),
        elapsedSeconds,
      });
      if (step % o.logEvery === 0 || step === o.steps) {
        const w = logWindow;
        log.append({
          type: 'train',
          step,
          epoch: task.epoch(),
          loss: w.lossSum / w.steps,
          learningRate,
          gradNorm: w.gradNormSum / w.steps,
          tokensPerSecond: Math.round(w.tokens / Math.max(w.seconds, 1e-9)),
          time: now(),
        });
        logWindow = emptyWindow();
      }
      let verdict: 'continue' | 'stop' | 'diverged' = 'continue';
      if (step % o.evalEvery === 0 || step === o.steps) verdict = await evaluate();
      if (verdict === 'diverged') {
        reason = 'non-finite';
        break;
      }
      const stop = verdict === 'stop';
      const every = o.checkpointEvery > 0 ? o.checkpointEvery : o.evalEvery;
      if (step % every === 0 || step === o.steps || stop) await checkpoint();
      if (stop) {
        reason = 'early-stopped';
        break;
      }
      // Let a Ctrl-C (SIGINT handler) run between steps.
      await yieldToEvents();
    }
    if (reason === 'interrupted' && savedStep !== step) {
      event('interrupted', `stopped at step ${step}; checkpoint written`);
      await checkpoint();
    } else if (reason !== 'non-finite' && savedStep !== step) {
      await checkpoint();
    } else if (reason === 'non-finite') {
      await withFileSystemErrors(out, 'cannot write the curves', writeCurves);
    }
  } finally {
    trainer.dispose();
  }
  const best =
    tracker.best !== null && tracker.bestStep !== null
      ? { metric: o.metric, value: tracker.best, step: tracker.bestStep }
      : null;
  return {
    reason,
    step,
    metrics: lastMetrics,
    best,
    skipped,
    ...(error !== undefined ? { error } : {}),
    checkpointStep: savedStep >= 0 ? savedStep : null,
    seconds: (performance.now() - started) / 1000,
  };
}

function yieldToEvents(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
