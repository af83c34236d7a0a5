// The TrainingTask interface, from the task's side: the smallest task there is (fit y = 2x with one weight), trained
// by the loop, with every method recording its calls, so that what the interface documents is checked: nextBatch
// once per step, model.loss with a training context and the run's generator, validate at each evaluation (its
// metrics and directions), samplerState into every checkpoint and back through setSamplerState on resume, epoch in
// the log, savedForm as model.json's kind/config/extra, and lossKind naming the loss in the curves.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { train } from '../../src/train/loop.js';
import { TrainingConfigError, type TrainingOptions } from '../../src/train/options.js';
import { readCheckpoint, BEST_DIR } from '../../src/train/checkpoints.js';
import type { LossContext, TrainableModel, TrainingBatch, TrainingTask } from '../../src/train/task.js';
import type { MetricDirection } from '../../src/train/earlyStopping.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const tmp = (): string => mkdtempSync(join(tmpdir(), 'seq2seq-task-'));

interface LineBatch {
  x: Float32Array;
  y: Float32Array;
}

/** Fits y = 2x: one weight w from 0, mean squared error; the sampler is a counter over 3 fixed batches an epoch. */
class LineTask implements TrainingTask<LineBatch> {
  readonly params = new Params(new Rng(1));
  readonly w = this.params.create('w', [1], { kind: 'zeros' });
  readonly model: TrainableModel<LineBatch>;
  readonly metrics: Readonly<Record<string, MetricDirection>> = { loss: 'lower', slope: 'higher' };
  readonly lossKind = { name: 'squared error', unit: 'y²' };
  readonly contexts: LossContext[] = [];
  readonly restored: unknown[] = [];
  drawn = 0;
  validations = 0;
  savedForms = 0;
  samplerStates = 0;
  epochs = 0;

  constructor() {
    this.model = {
      params: this.params,
      loss: (batch, context) => {
        this.contexts.push(context);
        const x = tf.tensor1d(batch.x);
        const y = tf.tensor1d(batch.y);
        return tf.mean<tf.Scalar>(tf.square(tf.sub(tf.mul(x, this.w), y)));
      },
    };
  }

  nextBatch(): TrainingBatch<LineBatch> {
    const k = this.drawn++ % 3;
    const x = Float32Array.from([1 + k, -0.5 - k, 0.25 * k]);
    return { batch: { x, y: x.map((v) => 2 * v) }, tokens: x.length };
  }
  samplerState(): unknown {
    this.samplerStates++;
    return { drawn: this.drawn };
  }
  setSamplerState(state: unknown): void {
    this.restored.push(state);
    this.drawn = (state as { drawn: number }).drawn;
  }
  epoch(): number {
    this.epochs++;
    return Math.floor(this.drawn / 3);
  }
  validate(): Record<string, number> {
    this.validations++;
    const w = this.w.dataSync()[0]!;
    return { loss: (w - 2) ** 2, slope: w };
  }
  savedForm() {
    this.savedForms++;
    return { kind: 'line', config: { slope: 'w' }, extra: { note: 'y = 2x' } };
  }
}

const OPTIONS: Partial<TrainingOptions> = {
  steps: 12,
  evalEvery: 4,
  logEvery: 3,
  optimizer: 'sgd',
  learningRate: 0.1,
  seed: 7,
};

describe('a minimal TrainingTask trained by the loop', () => {
  it('learns y = 2x: the loss falls and the weight nears 2; the loop makes no tensor it leaves behind', async () => {
    const task = new LineTask();
    const losses: number[] = [];
    const before = tf.memory().numTensors;
    const r = await train(task, OPTIONS, { out: tmp(), onProgress: (p) => losses.push(p.loss) });
    expect(tf.memory().numTensors).toBe(before);
    expect(r.reason).toBe('completed');
    expect(r.step).toBe(12);
    expect(losses).toHaveLength(12);
    expect(losses[losses.length - 1]!).toBeLessThan(losses[0]! / 10);
    expect(Math.abs(task.w.dataSync()[0]! - 2)).toBeLessThan(0.05);
    // The first step's loss by hand: w = 0, so the mean of (2x)² over the first batch x = [1, -0.5, 0].
    expect(losses[0]).toBeCloseTo((4 + 1 + 0) / 3, 5);
    task.params.dispose();
  });

  it("calls nextBatch and model.loss once per step, with a training context holding the run's generator", async () => {
    const task = new LineTask();
    await train(task, OPTIONS, { out: tmp() });
    expect(task.drawn).toBe(12);
    expect(task.contexts).toHaveLength(12);
    for (const c of task.contexts) {
      expect(c.training).toBe(true);
      expect(c.rng).toBeInstanceOf(Rng);
      expect(c.loss).toBeUndefined();
    }
    // One generator for the run, seeded from options.seed.
    expect(new Set(task.contexts.map((c) => c.rng)).size).toBe(1);
    const again = new LineTask();
    await train(again, OPTIONS, { out: tmp(), loss: { labelSmoothing: 0.1 } });
    expect(again.contexts.every((c) => c.loss?.labelSmoothing === 0.1)).toBe(true);
    task.params.dispose();
    again.params.dispose();
  });

  it("the context's generator is seeded by options.seed: the loss's draws from it are reproducible", async () => {
    const firstDraws = async (seed: number): Promise<number[]> => {
      const task = new LineTask();
      const draws: number[] = [];
      const loss = task.model.loss.bind(task.model);
      (task as { model: TrainableModel<LineBatch> }).model = {
        params: task.params,
        loss: (b, c) => {
          draws.push(c.rng!.next());
          return loss(b, c);
        },
      };
      await train(task, { ...OPTIONS, seed }, { out: tmp() });
      task.params.dispose();
      return draws;
    };
    const a = await firstDraws(7);
    expect(a).toEqual(await firstDraws(7));
    expect(a).not.toEqual(await firstDraws(8));
    const reference = new Rng(7);
    expect(a[0]).toBe(reference.next());
  });

  it('validates every evalEvery steps and after the last; the last metrics and the best come back', async () => {
    const task = new LineTask();
    const steps: number[] = [];
    const r = await train(
      task,
      { ...OPTIONS, steps: 10 },
      {
        out: tmp(),
        onEvent: (e) => void (e.type === 'evaluation' && steps.push(e.step)),
      },
    );
    expect(steps).toEqual([4, 8, 10]);
    expect(task.validations).toBe(3);
    const w = task.w.dataSync()[0]!;
    expect(r.metrics).toEqual({ loss: (w - 2) ** 2, slope: w });
    expect(r.best).toEqual({ metric: 'loss', value: (w - 2) ** 2, step: 10 });
    task.params.dispose();
  });

  it('uses the direction the task declares for its metric (higher slope is better)', async () => {
    const task = new LineTask();
    const seen: [number, number][] = [];
    const r = await train(
      task,
      { ...OPTIONS, metric: 'slope' },
      {
        out: tmp(),
        onEvent: (e) => void (e.type === 'evaluation' && seen.push([e.metrics['slope']!, e.step])),
      },
    );
    expect(seen).toHaveLength(3);
    const [value, step] = seen.reduce((a, b) => (b[0] > a[0] ? b : a));
    expect(r.best).toEqual({ metric: 'slope', value, step });
    // With loss (lower is better) the same run would pick the evaluation nearest 2.
    const [, nearest] = seen.reduce((a, b) => (Math.abs(b[0] - 2) < Math.abs(a[0] - 2) ? b : a));
    const byLoss = new LineTask();
    expect((await train(byLoss, OPTIONS, { out: tmp() })).best!.step).toBe(nearest);
    byLoss.params.dispose();
    task.params.dispose();
  });

  it('saves samplerState and savedForm in the checkpoint, epoch and lossKind in the log and curves', async () => {
    const out = tmp();
    const task = new LineTask();
    await train(task, OPTIONS, { out });
    const ck = await readCheckpoint(out);
    expect(ck.training.sampler).toEqual({ drawn: 12 });
    expect(ck.json.kind).toBe('line');
    expect(ck.json.config).toEqual({ slope: 'w' });
    expect(ck.json.extra).toEqual({ note: 'y = 2x' });
    expect(Array.from(ck.weights)).toEqual(Array.from(task.w.dataSync()));
    const best = JSON.parse(readFileSync(join(out, BEST_DIR, 'model.json'), 'utf8'));
    expect(best.kind).toBe('line');
    expect(task.samplerStates).toBeGreaterThanOrEqual(1);
    expect(task.savedForms).toBeGreaterThanOrEqual(2);
    const log = readFileSync(join(out, 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const epochs = log.filter((r) => r.type === 'train').map((r) => [r.step, r.epoch]);
    expect(epochs).toEqual([
      [3, 1],
      [6, 2],
      [9, 3],
      [12, 4],
    ]);
    expect(task.epochs).toBeGreaterThanOrEqual(4);
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toContain('training loss (squared error)');
    task.params.dispose();
  });

  it("on resume, hands the checkpoint's sampler state back through setSamplerState and goes on", async () => {
    const out = tmp();
    const first = new LineTask();
    const stop = new AbortController();
    await train(first, OPTIONS, { out, signal: stop.signal, onProgress: (p) => void (p.step === 5 && stop.abort()) });
    first.params.dispose();
    const ck = await readCheckpoint(out);
    expect(ck.training.sampler).toEqual({ drawn: 5 });
    const second = new LineTask();
    const r = await train(second, OPTIONS, { out, resume: ck });
    expect(second.restored).toEqual([{ drawn: 5 }]);
    expect(second.drawn).toBe(12);
    expect(second.contexts).toHaveLength(7);
    expect(r.step).toBe(12);
    second.params.dispose();
  });

  it('refuses a metric the task does not report, listing those it does', async () => {
    const task = new LineTask();
    await expect(train(task, { ...OPTIONS, metric: 'bleu' }, { out: tmp() })).rejects.toThrow(TrainingConfigError);
    await expect(train(task, { ...OPTIONS, metric: 'bleu' }, { out: tmp() })).rejects.toThrow(
      'training.metric "bleu" is not reported by this task\'s validation (it reports: loss, slope)',
    );
    expect(task.drawn).toBe(0);
    // A validate() that leaves out a metric it declared is caught at the first evaluation.
    task.validate = () => ({ slope: 1 });
    await expect(train(task, OPTIONS, { out: tmp() })).rejects.toThrow('validation did not report the metric "loss"');
    task.params.dispose();
  });
});
