import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Trainer, NonFiniteError } from '../../src/train/trainer.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { NumberWordsTask, numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { encodePair, evaluateNumberWords } from '../../src/demo/numberWords.js';
import { makeBatch } from '../../src/data/text/batch.js';

beforeAll(useTestBackend);

describe('Trainer', () => {
  it('keeps the live tensor count flat across training steps and evaluations', () => {
    const task = new NumberWordsTask({ minDigits: 2, maxDigits: 4, validSize: 50, longSize: 20 });
    const vocabs = numberWordsVocabularies();
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8 },
      vocabs.source.size,
      vocabs.target.size,
    );
    const trainer = new Trainer(model.params);
    const step = () => {
      const batch = makeBatch(
        Array.from({ length: 8 }, () => encodePair(task.nextTrain(), vocabs.source, vocabs.target)),
      );
      trainer.update(() => model.loss(batch));
    };
    step(); // the optimiser creates its slots on the first step
    evaluateNumberWords(model, task.valid, vocabs);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) step();
    evaluateNumberWords(model, task.valid, vocabs);
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
    model.dispose();
  });

  it('clips the update to the global gradient norm', () => {
    // Loss = 100·w for a scalar w: gradient 100, clipped to norm 1; SGD lr 0.5 moves w by exactly −0.5.
    const params = new Params(new Rng(1));
    const w = params.create('w', [1], { kind: 'zeros' });
    const trainer = new Trainer(params, { optimizer: 'sgd', learningRate: 0.5, clipNorm: 1 });
    const r = trainer.update(() => tf.sum<tf.Scalar>(tf.mul(w, 100)));
    expect(r.gradNorm).toBeCloseTo(100, 4);
    expect(w.dataSync()[0]).toBeCloseTo(-0.5, 6);
    params.dispose();
    trainer.dispose();
  });

  it('reports the global norm over every gradient: √(Σ g²) in float64 on the host, several shapes and sizes', () => {
    const params = new Params(new Rng(2));
    const shapes = [[3], [17, 5], [300, 257], [2, 3, 4]];
    const ws = shapes.map((shape, i) => params.create(`w${i}`, shape, { kind: 'uniform', scale: 1 }));
    // Loss Σ c·w² with random c: the gradient of each weight is 2·c·w.
    const cs = ws.map((w, i) => tf.randomUniform(w.shape, -3, 3, 'float32', i + 1));
    const trainer = new Trainer(params, { optimizer: 'sgd', learningRate: 1e-9, clipNorm: 0 });
    let want = 0;
    ws.forEach((w, i) => {
      const [c, x] = [cs[i]!.dataSync(), w.dataSync()];
      for (let j = 0; j < c.length; j++) want += (2 * c[j]! * x[j]!) ** 2;
    });
    const r = trainer.update(() => tf.addN(ws.map((w, i) => tf.sum(tf.mul(cs[i]!, tf.square(w))))) as tf.Scalar);
    // Float32 sums over 77,000 values: within 5e-5 relative.
    expect(r.gradNorm / Math.sqrt(want)).toBeCloseTo(1, 4);
    tf.dispose(cs);
    params.dispose();
    trainer.dispose();
  });

  it('reports a NaN loss and leaves the weights untouched', () => {
    const params = new Params(new Rng(1));
    const w = params.create('w', [2], { kind: 'uniform', scale: 1 });
    const before = Array.from(w.dataSync());
    const trainer = new Trainer(params);
    expect(() => trainer.update(() => tf.sum<tf.Scalar>(tf.mul(w, NaN)))).toThrow(NonFiniteError);
    expect(Array.from(w.dataSync())).toEqual(before);
    params.dispose();
    trainer.dispose();
  });
});

describe('Trainer state', () => {
  /** Params w (3) and v (2), loss Σ (w·x − 1)² + Σ v², x changing with the step. */
  function setup(seed: number) {
    const params = new Params(new Rng(seed));
    const w = params.create('w', [3], { kind: 'uniform', scale: 1 });
    const v = params.create('v', [2], { kind: 'uniform', scale: 1 });
    const loss = (k: number) => () =>
      tf.tidy<tf.Scalar>(() =>
        tf.add(tf.sum(tf.square(tf.sub(tf.mul(w, tf.tensor1d([k, 1, -k])), 1))), tf.sum(tf.square(v))),
      );
    return { params, loss };
  }

  for (const options of [
    { optimizer: 'adam' as const },
    { optimizer: 'sgd' as const, momentum: 0.9, learningRate: 0.01 },
    { optimizer: 'sgd' as const, learningRate: 0.01 },
  ]) {
    it(`${options.optimizer}${options.momentum ? ' with momentum' : ''}: a restored optimiser continues with bit-identical updates`, async () => {
      const a = setup(1);
      const ta = new Trainer(a.params, options);
      for (let k = 0; k < 3; k++) ta.update(a.loss(k));
      const { json, data } = await ta.getState();
      const weights = a.params.serialize();
      const b = setup(2);
      b.params.load(weights.manifest, weights.data, 'test');
      const tb = new Trainer(b.params, options);
      const before = tf.memory().numTensors;
      await tb.setState(JSON.parse(JSON.stringify(json)), data, 3, 'test');
      expect(tb.step).toBe(3);
      for (let k = 3; k < 6; k++) expect(tb.update(b.loss(k)).loss).toBe(ta.update(a.loss(k)).loss);
      expect(Array.from(b.params.serialize().data)).toEqual(Array.from(a.params.serialize().data));
      // Restoring adds exactly the optimiser's slots (two per weight for Adam, one for momentum), nothing else.
      expect(tf.memory().numTensors - before).toBe(json.slots.length);
      expect(json.slots.map((s) => `${s.param}/${s.kind}`)).toEqual(
        options.optimizer === 'adam'
          ? ['w/m', 'v/m', 'w/v', 'v/v']
          : options.momentum
            ? ['w/momentum', 'v/momentum']
            : [],
      );
      ta.dispose();
      tb.dispose();
      a.params.dispose();
      b.params.dispose();
    });
  }

  it('refuses a state for another optimiser or other weights', async () => {
    const a = setup(1);
    const ta = new Trainer(a.params);
    ta.update(a.loss(1));
    const { json, data } = await ta.getState();
    const sgd = new Trainer(a.params, { optimizer: 'sgd' });
    await expect(sgd.setState(json, data, 1, 'ck')).rejects.toThrow(
      /ck: optimiser state is for adam, this run uses sgd/,
    );
    const other = new Params(new Rng(1));
    other.create('w', [4], { kind: 'zeros' });
    other.create('v', [2], { kind: 'zeros' });
    await expect(new Trainer(other).setState(json, data, 1, 'ck')).rejects.toThrow(
      /slot 0 is for "w" \[3\], the model has "w" \[4\]/,
    );
    ta.dispose();
    sgd.dispose();
    a.params.dispose();
    other.dispose();
  });

  it('Rng.setState continues the same stream and rejects a bad state', () => {
    const a = new Rng(9);
    a.next();
    const b = new Rng(1);
    b.setState(a.getState());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(Array.from({ length: 5 }, () => a.next()));
    expect(() => b.setState([0, 0, 0, 0])).toThrow(/all zeros/);
    expect(() => b.setState([1, 2, 3] as unknown as [number, number, number, number])).toThrow(/four 32-bit/);
  });
});

describe('Trainer options', () => {
  it('refuses options out of range before any update, naming the option (an unknown optimiser ran as plain SGD)', () => {
    const params = new Params(new Rng(1));
    params.create('w', [3], { kind: 'uniform', scale: 0.1 });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ optimizer: 'adamw' }, /^optimizer must be "adam" or "sgd", got "adamw"$/],
      [{ learningRate: NaN }, /^learningRate must be a positive number, got NaN$/],
      [{ learningRate: 0 }, /^learningRate/],
      [{ learningRate: Infinity }, /^learningRate/],
      [{ momentum: 1 }, /^momentum must be in \[0, 1\), got 1$/],
      [{ momentum: -0.1 }, /^momentum/],
      [{ clipNorm: NaN }, /^clipNorm must be ≥ 0 \(0: no clipping\), got NaN$/],
      [{ clipNorm: -1 }, /^clipNorm/],
    ];
    for (const [options, message] of cases) expect(() => new Trainer(params, options)).toThrow(message);
    const ok = new Trainer(params, { optimizer: 'sgd', momentum: 0.9, clipNorm: 0 });
    expect(ok.options.momentum).toBe(0.9);
    ok.dispose();
    params.dispose();
  });
});
