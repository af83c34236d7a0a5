import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import {
  runEvaluation,
  finiteOnly,
  NonFiniteValidationError,
  type EvaluationContext,
  type EvaluationEvent,
} from '../../src/train/evaluation.js';
import { resolveTrainingOptions, TrainingConfigError, type TrainingOptions } from '../../src/train/options.js';
import { MetricTracker } from '../../src/train/earlyStopping.js';
import { LearningRateSchedule } from '../../src/train/schedule.js';
import { RunLock } from '../../src/train/lock.js';
import { TrainingLog } from '../../src/train/trainingLog.js';
import { snapshotDir } from '../../src/train/snapshots.js';
import type { TrainingTask } from '../../src/train/task.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

/** A run's evaluation context over a task whose validation reports `metrics()`; what it logs and reports is kept. */
async function context(metrics: () => Record<string, number>, options: Partial<TrainingOptions> = {}) {
  const out = mkdtempSync(join(tmpdir(), 'seq2seq-eval-'));
  const o = resolveTrainingOptions({ metric: 'loss', ...options });
  const params = new Params(new Rng(1));
  params.create('w', [2, 2], { kind: 'uniform', scale: 0.1 });
  const task = {
    model: { params, loss: () => undefined as never },
    metrics: { loss: 'lower' },
    validate: metrics,
    savedForm: () => ({ kind: 'toy', config: {}, extra: {} }),
  } as unknown as TrainingTask<unknown>;
  const events: EvaluationEvent[] = [];
  const logged: [string, string][] = [];
  const rates: string[] = [];
  const lock = await RunLock.acquire(out);
  const c: EvaluationContext<unknown> = {
    task,
    options: o,
    out,
    tracker: new MetricTracker(o.metric, 'lower', o.earlyStopping),
    schedule: new LearningRateSchedule(o.learningRate, o.schedule, o.steps),
    lock,
    log: await TrainingLog.open(join(out, 'train.jsonl')),
    event: (name, message) => logged.push([name, message]),
    announceRate: (why) => rates.push(why),
    onEvent: (e) => events.push(e),
  };
  const done = async () => {
    await lock.release();
    params.dispose();
  };
  return { c, out, events, logged, rates, done };
}

describe('runEvaluation', () => {
  it('logs the metrics, writes best/ when the metric improves and reports both', async () => {
    const values = [0.5, 0.7];
    let k = 0;
    const { c, out, events, done } = await context(() => ({ loss: values[k++]!, perplexity: Infinity }));
    expect(await runEvaluation(c, 2, 90)).toEqual({
      verdict: 'continue',
      metrics: { loss: 0.5, perplexity: Infinity },
    });
    expect(events.map((e) => e.type)).toEqual(['evaluation', 'best']);
    expect(events[0]).toMatchObject({ step: 2, improved: true, best: 0.5, bestStep: 2 });
    const best = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8'));
    // The infinite perplexity is left out of best/ (JSON would write it as null).
    expect(best.training).toMatchObject({ step: 2, metric: 'loss', value: 0.5, metrics: { loss: 0.5 } });
    expect(c.log.records.at(-1)).toMatchObject({ type: 'valid', step: 2, trainingMinutes: 1.5 });
    await runEvaluation(c, 4, 120);
    expect(events.map((e) => e.type)).toEqual(['evaluation', 'best', 'evaluation']);
    expect(events[2]).toMatchObject({ step: 4, improved: false, best: 0.5, bestStep: 2 });
    await done();
  });

  it('a metric that is not finite: diverged, with the error logged, and no best/', async () => {
    const { c, out, events, logged, done } = await context(() => ({ loss: NaN }));
    const outcome = await runEvaluation(c, 6, 0);
    expect(outcome.verdict).toBe('diverged');
    const error = (outcome as { error: NonFiniteValidationError }).error;
    expect(error).toBeInstanceOf(NonFiniteValidationError);
    expect(error.message).toBe(
      'step 6: validation loss NaN: not finite; no checkpoint and no best model were written for it',
    );
    expect(logged).toEqual([['non-finite', error.message]]);
    expect(events).toEqual([]);
    expect(readdirSync(out)).not.toContain('best');
    await done();
  });

  it('an infinite loss beside a finite tracked metric diverges too', async () => {
    const { c, done } = await context(() => ({ loss: Infinity, bleu: 3 }), { metric: 'bleu' });
    (c.task as { metrics: object }).metrics = { loss: 'lower', bleu: 'higher' };
    expect((await runEvaluation(c, 2, 0)).verdict).toBe('diverged');
    await done();
  });

  it('refuses a validation without the tracked metric', async () => {
    const { c, done } = await context(() => ({ perplexity: 3 }));
    await expect(runEvaluation(c, 2, 0)).rejects.toThrow(TrainingConfigError);
    await expect(runEvaluation(c, 2, 0)).rejects.toThrow('validation did not report the metric "loss"');
    await done();
  });

  it('stops after `patience` evaluations without improvement, saying so in the log', async () => {
    const values = [1, 2, 3];
    let k = 0;
    const { c, logged, done } = await context(() => ({ loss: values[k++]! }), { earlyStopping: { patience: 2 } });
    expect((await runEvaluation(c, 2, 0)).verdict).toBe('continue');
    expect((await runEvaluation(c, 4, 0)).verdict).toBe('continue');
    expect((await runEvaluation(c, 6, 0)).verdict).toBe('stop');
    expect(logged).toEqual([['early-stop', 'loss did not improve for 2 evaluations (best 1 at step 2)']]);
    await done();
  });

  it('writes a snapshot per evaluation when snapshots are kept', async () => {
    const { c, out, done } = await context(() => ({ loss: 1 }), { keepCheckpoints: 2 });
    await runEvaluation(c, 2, 0);
    const dir = snapshotDir(out, 2);
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).training).toMatchObject({ step: 2, value: 1 });
    await done();
  });
});

describe('finiteOnly', () => {
  it('drops NaN and infinite values, keeping the order of the rest', () => {
    expect(finiteOnly({ a: 1, b: NaN, c: -Infinity, d: 0 })).toEqual({ a: 1, d: 0 });
  });
});
