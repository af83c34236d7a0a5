import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { train, type ProgressInfo, type RunOptions, type TrainingEvent } from '../../src/train/loop.js';
import { NonFiniteValidationError } from '../../src/train/evaluation.js';
import type { TrainingOptions } from '../../src/train/options.js';
import { cosineLearningRate } from '../../src/train/schedule.js';
import { LOCK_FILE, RunLockError } from '../../src/train/lock.js';
import { readCheckpoint } from '../../src/train/checkpoints.js';
import { TranslationTask } from '../../src/translation/task.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from '../../src/translation/seq2seq.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { SpaceTokenizer } from '../../src/data/text/tokenizers.js';
import type { TokenizedPair } from '../../src/data/text/corpus.js';
import type { SavedModelJson } from '../../src/model/modelFiles.js';
import type { TranslatorExtra } from '../../src/translation/translator.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import type { LogRecord } from '../../src/train/trainingLog.js';
import type { TrainingTask } from '../../src/train/task.js';

beforeAll(useTestBackend);

const tmp = (): string => mkdtempSync(join(tmpdir(), 'seq2seq-loop-'));

// A toy corpus: target = source words reversed and mapped to upper case, 2–6 words from a 30-word vocabulary.
function toyPairs(n: number, seed: number): TokenizedPair[] {
  const rng = new Rng(seed);
  const words = Array.from({ length: 30 }, (_, i) => `w${i}`);
  return Array.from({ length: n }, () => {
    const source = Array.from({ length: rng.int(2, 6) }, () => words[rng.int(0, 29)]!);
    return { source, target: [...source].reverse().map((w) => w.toUpperCase()) };
  });
}

const TRAIN = toyPairs(120, 1);
const VALID = toyPairs(16, 2);
const MODEL: Seq2SeqConfig = { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 };
const TASK = {
  batchSize: 16,
  buckets: [
    [4, 5],
    [7, 8],
  ] as [number, number][],
  seed: 5,
  decodeSentences: 8,
};

function newTranslationTask(): TranslationTask {
  const sv = Vocabulary.build(TRAIN.map((p) => p.source));
  const tv = Vocabulary.build(TRAIN.map((p) => p.target));
  const tok = new SpaceTokenizer();
  return new TranslationTask(
    new Translator(new Seq2Seq(MODEL, sv.size, tv.size), sv, tv, tok, tok),
    { train: TRAIN, valid: VALID },
    TASK,
  );
}

/** The task rebuilt from a checkpoint, as a resumed run does it. */
async function taskFromCheckpoint(
  dir: string,
): Promise<{ task: TranslationTask; ck: Awaited<ReturnType<typeof readCheckpoint>> }> {
  const ck = await readCheckpoint(dir, 'seq2seq');
  const translator = await Translator.fromSaved(
    ck.json as SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>,
    ck.weights,
    dir,
  );
  return { task: new TranslationTask(translator, { train: TRAIN, valid: VALID }, TASK), ck };
}

// Sampled softmax (candidates drawn from the run's generator) and a loss-rise schedule with short periods, so
// that the generator, the optimiser, the sampler and the schedule state all have to be restored exactly.
const OPTIONS: Partial<TrainingOptions> = {
  steps: 14,
  evalEvery: 3,
  logEvery: 2,
  schedule: { kind: 'loss-rise', factor: 0.5, window: 1 },
  learningRate: 0.02,
};
const LOSS = { softmax: 'sampled' as const, numSampled: 10 };

describe('train (translation task)', () => {
  it('an interrupted and resumed run computes the same per-step losses as an uninterrupted one', async () => {
    const full: number[] = [];
    const a = newTranslationTask();
    const ra = await train(a, OPTIONS, { out: tmp(), loss: LOSS, onProgress: (p) => full.push(p.loss) });
    expect(ra.reason).toBe('completed');
    expect(full).toHaveLength(14);
    a.translator.dispose();

    const out = tmp();
    const first: number[] = [];
    const stop = new AbortController();
    const b = newTranslationTask();
    const rb = await train(b, OPTIONS, {
      out,
      loss: LOSS,
      signal: stop.signal,
      onProgress: (p) => {
        first.push(p.loss);
        if (p.step === 5) stop.abort();
      },
    });
    b.translator.dispose();
    expect(rb.reason).toBe('interrupted');
    expect(rb.step).toBe(5);

    const { task, ck } = await taskFromCheckpoint(out);
    expect(ck.training.step).toBe(5);
    const rest: number[] = [];
    let startStep = -1;
    const rc = await train(task, OPTIONS, {
      out,
      loss: LOSS,
      resume: ck,
      onProgress: (p) => {
        rest.push(p.loss);
        startStep = p.startStep;
      },
    });
    task.translator.dispose();
    expect(rc.reason).toBe('completed');
    expect(startStep).toBe(5);
    const resumed = [...first, ...rest];
    expect(resumed).toHaveLength(14);
    resumed.forEach((l, i) => expect(Math.abs(l - full[i]!) / full[i]!).toBeLessThan(1e-6));
    // The run must actually have changed the rate (else the schedule state is not exercised).
    const log = readFileSync(join(out, 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogRecord);
    expect(log.some((r) => r.type === 'event' && r.event === 'learning-rate')).toBe(true);
    // The resumed log has one record per step range, no duplicates of the steps after the checkpoint.
    const trainSteps = log.filter((r) => r.type === 'train').map((r) => r.step);
    expect(trainSteps).toEqual([2, 4, 6, 8, 10, 12, 14]);
    expect(rc.metrics!['bleu']).toBeGreaterThanOrEqual(0);
    expect(ra.metrics!['loss']).toBeCloseTo(rc.metrics!['loss']!, 5);
  });

  it('keeps the live tensor count flat across steps, evaluations and checkpoints', async () => {
    const start = tf.memory().numTensors;
    const task = newTranslationTask();
    const counts: number[] = [];
    await train(
      task,
      { steps: 8, evalEvery: 2, logEvery: 1 },
      {
        out: tmp(),
        loss: LOSS,
        onProgress: (p: ProgressInfo) => {
          if (p.step >= 3) counts.push(tf.memory().numTensors);
        },
      },
    );
    // Adam creates its slots on the first step, and the first evaluation's decoding the projected embedding tables
    // it keeps with the weights (replaced, not added to, at later evaluations); from then on every step and every
    // evaluation frees what it makes.
    expect(counts).toHaveLength(6);
    expect(new Set(counts).size).toBe(1);
    task.translator.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('writes a loadable checkpoint, best/, train.jsonl and SVG curves; refuses to overwrite a run', async () => {
    const out = tmp();
    const task = newTranslationTask();
    const r = await train(task, { steps: 6, evalEvery: 3 }, { out });
    expect(readdirSync(out).sort()).toEqual(
      expect.arrayContaining(['best', 'curves.svg', 'metrics.svg', 'model.json', 'train.jsonl']),
    );
    expect(readdirSync(out).filter((f) => f.startsWith('weights-'))).toHaveLength(1);
    expect(readdirSync(out).filter((f) => f.startsWith('optimizer-'))).toHaveLength(1);
    const best = await Translator.load(join(out, 'best'));
    expect(best.translate(['w1 w2'])[0]!.text).toEqual(expect.any(String));
    best.dispose();
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/^<svg[\s\S]*validation loss[\s\S]*<\/svg>\n$/);
    // Validation records carry the training minutes so far (evaluations excluded); metrics.svg is drawn against them.
    const minutes = readFileSync(join(out, 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((x) => x.type === 'valid')
      .map((x) => x.trainingMinutes);
    expect(minutes).toHaveLength(2);
    expect(minutes[1]).toBeGreaterThanOrEqual(minutes[0]);
    expect(minutes[0]).toBeGreaterThanOrEqual(0);
    expect(readFileSync(join(out, 'metrics.svg'), 'utf8')).toContain('training minutes');
    expect(r.best?.metric).toBe('loss');
    await expect(train(task, { steps: 6 }, { out })).rejects.toThrow(/already holds a model/);
    task.translator.dispose();
  });

  it('rejects a metric the task does not report', async () => {
    const task = newTranslationTask();
    await expect(train(task, { metric: 'rouge' }, { out: tmp() })).rejects.toThrow(
      /"rouge" is not reported.*loss, perplexity/,
    );
    task.translator.dispose();
  });
});

// A task that is not translation: linear regression y = x·w*, to show the loop is model-agnostic and to
// script NaN losses and flat validation metrics.
interface ToyBatch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
}
function toyTask(
  opts: { nanAt?: Set<number>; validLoss?: () => number } = {},
): TrainingTask<ToyBatch> & { params: Params; calls: () => number } {
  const params = new Params(new Rng(1));
  const w = params.create('w', [4, 1], { kind: 'uniform', scale: 0.1 });
  const rng = new Rng(2);
  let drawn = 0;
  let calls = 0;
  const truth = tf.tensor2d([[1], [-2], [0.5], [3]]);
  return {
    params,
    calls: () => calls,
    model: {
      params,
      loss: (b) => {
        calls++;
        const mse = tf.mean<tf.Scalar>(tf.square(tf.sub(tf.matMul(b.x, w), b.y)));
        return opts.nanAt?.has(calls) ? tf.mul<tf.Scalar>(mse, NaN) : mse;
      },
    },
    nextBatch: () => {
      drawn++;
      const x = tf.tensor2d(
        Array.from({ length: 32 }, () => rng.normal()),
        [8, 4],
      );
      // The loop disposes nothing of the task's: the batch tensors are freed at the next draw.
      return { batch: { x, y: tf.matMul<tf.Tensor2D>(x, truth) }, tokens: 8 };
    },
    samplerState: () => ({ drawn }),
    setSamplerState: () => undefined,
    epoch: () => 0,
    metrics: { loss: 'lower' },
    validate: () => ({
      loss: opts.validLoss ? opts.validLoss() : tf.tidy(() => tf.sum(tf.square(tf.sub(w, truth))).dataSync()[0]!),
    }),
    savedForm: () => ({ kind: 'toy', config: {}, extra: {} }),
  };
}

describe('train (any task)', () => {
  it('fits a task that is not translation (the loop only needs the TrainingTask interface)', async () => {
    const task = toyTask();
    const r = await train(task, { steps: 60, evalEvery: 20, learningRate: 0.1 }, { out: tmp() });
    expect(r.metrics!['loss']).toBeLessThan(0.05);
    task.params.dispose();
  });

  it('stops on a NaN loss without writing a checkpoint: the last good one stays, with finite weights', async () => {
    const out = tmp();
    const task = toyTask({ nanAt: new Set([5]) });
    const r = await train(task, { steps: 10, evalEvery: 2 }, { out });
    expect(r.reason).toBe('non-finite');
    expect(r.step).toBe(4);
    expect(r.error?.message).toMatch(/step 5: loss NaN.*not finite/);
    const ck = await readCheckpoint(out);
    expect(ck.training.step).toBe(4);
    expect(Array.from(ck.weights).every(Number.isFinite)).toBe(true);
    const log = readFileSync(join(out, 'train.jsonl'), 'utf8');
    expect(log).toMatch(/"event":"non-finite"/);
    task.params.dispose();
  });

  it("with nonFinite 'skip' drops the bad batch, counts it and trains on", async () => {
    const events: string[] = [];
    const task = toyTask({ nanAt: new Set([3, 7]) });
    const r = await train(
      task,
      { steps: 10, evalEvery: 5, nonFinite: 'skip' },
      { out: tmp(), onEvent: (e) => events.push(e.type) },
    );
    expect(r.reason).toBe('completed');
    expect(r.step).toBe(10);
    expect(r.skipped).toBe(2);
    expect(events.filter((e) => e === 'skipped')).toHaveLength(2);
    task.params.dispose();
  });

  it('stops early after `patience` evaluations without improvement, keeping best/ at the best step', async () => {
    const values = [1, 0.5, 0.6, 0.55, 0.7, 0.4];
    let k = 0;
    const task = toyTask({ validLoss: () => values[k++]! });
    const out = tmp();
    const r = await train(task, { steps: 100, evalEvery: 2, earlyStopping: { patience: 3 } }, { out });
    expect(r.reason).toBe('early-stopped');
    expect(r.step).toBe(10); // evaluations at 2 (1), 4 (0.5 best), 6, 8, 10: three without improvement
    expect(r.best).toEqual({ metric: 'loss', value: 0.5, step: 4 });
    const best = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8'));
    expect(best.training).toMatchObject({ step: 4, value: 0.5 });
    task.params.dispose();
  });

  it('plateau decay halves the rate after `patience` evaluations without improvement', async () => {
    const values = [1, 2, 3, 0.5, 0.6];
    let k = 0;
    const rates: number[] = [];
    const task = toyTask({ validLoss: () => values[k++]! });
    await train(
      task,
      { steps: 10, evalEvery: 2, learningRate: 0.1, schedule: { kind: 'plateau', patience: 2 } },
      { out: tmp(), onProgress: (p) => rates.push(p.learningRate) },
    );
    // Evaluations at steps 2 (best), 4, 6 (second miss: decay), 8 (best), 10.
    expect(rates.slice(0, 6)).toEqual(Array(6).fill(0.1));
    expect(rates.slice(6)).toEqual(Array(4).fill(0.05));
    task.params.dispose();
  });
});

describe('train: diverged validation', () => {
  it('a NaN validation metric is never best/ and never a checkpoint: training stops, the last good checkpoint stays', async () => {
    const values = [1, 0.5, NaN];
    let k = 0;
    const task = toyTask({ validLoss: () => values[k++]! });
    const out = tmp();
    const r = await train(task, { steps: 100, evalEvery: 2 }, { out });
    expect(r.reason).toBe('non-finite');
    expect(r.error).toBeInstanceOf(NonFiniteValidationError);
    expect(r.error?.message).toMatch(/step 6: validation loss NaN: not finite/);
    expect(r.checkpointStep).toBe(4);
    const ck = await readCheckpoint(out);
    expect(ck.training.step).toBe(4);
    expect(ck.training.lastMetrics).toEqual({ loss: 0.5 });
    expect(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training.lastMetrics).toEqual({ loss: 0.5 });
    const best = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8'));
    expect(best.training).toMatchObject({ step: 4, value: 0.5 });
    task.params.dispose();
  });

  it('diverging before the first checkpoint leaves none, and says so (checkpointStep null)', async () => {
    const task = toyTask({ validLoss: () => Infinity });
    const out = tmp();
    const r = await train(task, { steps: 10, evalEvery: 2 }, { out });
    expect(r.reason).toBe('non-finite');
    expect(r.checkpointStep).toBeNull();
    expect(readdirSync(out)).not.toContain('model.json');
    expect(readdirSync(out)).not.toContain('best');
    task.params.dispose();
  });

  it('a non-finite metric other than the tracked one is left out of the saved checkpoint (never written as null)', async () => {
    const task = toyTask();
    const validate = task.validate.bind(task);
    task.validate = () => ({ ...validate(), perplexity: Infinity });
    const out = tmp();
    await train(task, { steps: 4, evalEvery: 2 }, { out });
    const ck = await readCheckpoint(out);
    expect(Object.keys(ck.training.lastMetrics!)).toEqual(['loss']);
    // As written on disk (readCheckpoint also drops nulls, for older checkpoints).
    const raw = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training;
    expect(Object.values(raw.lastMetrics).every((v) => typeof v === 'number')).toBe(true);
    expect(Object.keys(raw.lastMetrics)).toEqual(['loss']);
    task.params.dispose();
  });
});

describe('train: resuming with changes', () => {
  /** Trains `first` steps, then resumes with `changes` and run options; returns the rates of the resumed steps and its log events. */
  async function resumeWith(
    first: Partial<TrainingOptions>,
    changes: Partial<TrainingOptions>,
    runOptions: Partial<RunOptions> = {},
  ) {
    const out = tmp();
    const a = toyTask();
    await train(a, { evalEvery: 5, ...first }, { out });
    a.params.dispose();
    const ck = await readCheckpoint(out);
    const b = toyTask();
    const rates: number[] = [];
    const messages: string[] = [];
    const r = await train(
      b,
      { evalEvery: 5, ...first, ...changes },
      {
        out,
        resume: ck,
        ...runOptions,
        onProgress: (p) => rates.push(p.learningRate),
        onEvent: (e) => {
          if (e.type === 'resume-change') messages.push(e.message);
        },
      },
    );
    b.params.dispose();
    const log = readFileSync(join(out, 'train.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as LogRecord);
    return {
      r,
      rates,
      messages,
      logged: log.flatMap((x) => (x.type === 'event' && x.event === 'resume-change' ? [x.message] : [])),
    };
  }

  const cosine = { learningRate: 0.1, steps: 10, schedule: { kind: 'cosine' as const, finalShare: 0.1 } };

  it('a new --steps keeps the cosine horizon: the added steps run at the final rate (it used to reshape the curve)', async () => {
    const { rates, messages, logged } = await resumeWith(cosine, { steps: 14 });
    expect(rates).toHaveLength(4);
    for (const lr of rates) expect(lr).toBeCloseTo(0.1 * 0.1, 12);
    expect(messages).toEqual(logged);
    expect(messages[0]).toMatch(/steps 10 → 14 \(the schedule keeps its horizon of 10 steps/);
  });

  it('with reschedule the cosine is stretched over the new length', async () => {
    const { rates, messages } = await resumeWith(cosine, { steps: 14 }, { reschedule: true });
    expect(rates.map((lr, i) => lr - cosineLearningRate(0.1, 0.1, 11 + i, 14)).every((d) => Math.abs(d) < 1e-12)).toBe(
      true,
    );
    expect(messages).toContain('schedule horizon 10 → 14 steps (--reschedule)');
  });

  it('takes a new learning rate, clipping and schedule, logging each change', async () => {
    const { rates, messages, logged } = await resumeWith(
      { learningRate: 0.1, steps: 10, schedule: { kind: 'constant' } },
      { steps: 14, learningRate: 0.01, clipNorm: 1, schedule: { kind: 'plateau', patience: 1 } },
    );
    expect(rates[0]).toBe(0.01);
    expect(messages).toEqual(
      expect.arrayContaining([
        'learningRate 0.1 → 0.01',
        'clipNorm 5 → 1',
        expect.stringMatching(/^schedule .*constant.* → .*plateau/),
      ]),
    );
    expect(logged).toEqual(messages);
  });

  it('refuses a new optimiser unless the optimiser state is reset (as OpenNMT -reset_optim)', async () => {
    await expect(resumeWith({ steps: 10 }, { steps: 12, optimizer: 'sgd' })).rejects.toThrow(/needs --reset-optimizer/);
    const { r, messages } = await resumeWith({ steps: 10 }, { steps: 12, optimizer: 'sgd' }, { resetOptimizer: true });
    expect(r.reason).toBe('completed');
    expect(messages).toEqual(
      expect.arrayContaining(['optimizer "adam" → "sgd"', expect.stringMatching(/optimiser state reset/)]),
    );
  });
});

describe('train: the lock on out', () => {
  it('a second training into the same out is refused while the first runs; the first completes, and the lock is gone after', async () => {
    const out = tmp();
    const a = toyTask();
    let second: Promise<unknown> | undefined; // settles to the error (caught at once: it comes while the first trains)
    const ra = await train(
      a,
      { steps: 6, evalEvery: 3 },
      {
        out,
        onProgress: (p) => {
          if (p.step === 2)
            second = train(toyTask(), { steps: 6 }, { out, overwrite: true }).then(
              () => 'trained',
              (e: unknown) => e,
            );
        },
      },
    );
    expect(ra.reason).toBe('completed');
    const e = await second;
    expect(e).toBeInstanceOf(RunLockError);
    expect((e as Error).message).toMatch(new RegExp(`^${out} is in use by another training \\(pid ${process.pid} on `));
    expect(readdirSync(out)).not.toContain(LOCK_FILE);
    a.params.dispose();
  });

  it('takes over a stale lock (its process gone), reporting it in the events and the log', async () => {
    const out = tmp();
    writeFileSync(
      join(out, LOCK_FILE),
      JSON.stringify({ pid: 999_999_999, hostname: hostname(), started: '2026-01-01T00:00:00.000Z', token: 'x' }),
    );
    const events: TrainingEvent[] = [];
    const task = toyTask();
    const r = await train(task, { steps: 2, evalEvery: 2 }, { out, onEvent: (e) => events.push(e) });
    expect(r.reason).toBe('completed');
    expect(events.find((e) => e.type === 'stale-lock')).toMatchObject({ previous: { pid: 999_999_999 } });
    expect(readFileSync(join(out, 'train.jsonl'), 'utf8')).toMatch(/"event":"stale-lock".*pid 999999999/);
    task.params.dispose();
  });
});
