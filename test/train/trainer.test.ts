import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Trainer, NonFiniteError } from '../../src/train/trainer.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/model/seq2seq.js';
import { NumberWordsTask, numberWordsVocabularies } from '../../src/data/numberWords.js';
import { encodePair, evaluateNumberWords } from '../../src/demo/numberWords.js';
import { makeBatch } from '../../src/data/batch.js';

beforeAll(useTestBackend);

describe('Trainer', () => {
  it('keeps the live tensor count flat across training steps and evaluations', () => {
    const task = new NumberWordsTask({ minDigits: 2, maxDigits: 4, validSize: 50, longSize: 20 });
    const vocabs = numberWordsVocabularies();
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8 }, vocabs.source.size, vocabs.target.size);
    const trainer = new Trainer(model.params);
    const step = () => {
      const batch = makeBatch(Array.from({ length: 8 }, () => encodePair(task.nextTrain(), vocabs.source, vocabs.target)));
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
    const r = trainer.update(() => tf.sum(tf.mul(w, 100)) as tf.Scalar);
    expect(r.gradNorm).toBeCloseTo(100, 4);
    expect(w.dataSync()[0]).toBeCloseTo(-0.5, 6);
    params.dispose();
    trainer.dispose();
  });

  it('reports a NaN loss and leaves the weights untouched', () => {
    const params = new Params(new Rng(1));
    const w = params.create('w', [2], { kind: 'uniform', scale: 1 });
    const before = Array.from(w.dataSync());
    const trainer = new Trainer(params);
    expect(() => trainer.update(() => tf.sum(tf.mul(w, NaN)) as tf.Scalar)).toThrow(NonFiniteError);
    expect(Array.from(w.dataSync())).toEqual(before);
    params.dispose();
    trainer.dispose();
  });
});
