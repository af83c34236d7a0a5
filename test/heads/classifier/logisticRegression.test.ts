import { describe, it, expect } from 'vitest';
import {
  BagOfWords,
  LogisticRegression,
  majorityClass,
  BaselineError,
} from '../../../src/heads/classifier/logisticRegression.js';

describe('BagOfWords', () => {
  it('lowercases, splits with the word tokenizer and numbers words by first appearance', () => {
    const bow = BagOfWords.fit(['Good, good film.', 'Bad film'], { features: 'counts' });
    expect(bow.words).toEqual(['good', ',', 'film', '.', 'bad']);
    const v = bow.vectorize('GOOD good bad unseen');
    expect([Array.from(v.indices), Array.from(v.values)]).toEqual([
      [0, 4],
      [2, 1],
    ]);
  });

  it('binary features are 1 however often a word occurs; minCount drops rare words', () => {
    const bow = BagOfWords.fit(['a a b', 'a c'], { minCount: 2 });
    expect(bow.words).toEqual(['a']);
    expect(Array.from(bow.vectorize('a a a').values)).toEqual([1]);
  });
});

const positive = ['great film', 'a great story', 'really great', 'great acting and music', 'good and great'];
const negative = ['awful film', 'an awful story', 'really awful', 'awful acting and music', 'bad and awful'];
const texts = [...positive, ...negative];
const labels = [...positive.map(() => 1), ...negative.map(() => 0)];

describe('LogisticRegression', () => {
  it('learns the words that decide the class and generalises to unseen sentences', () => {
    const model = LogisticRegression.train(texts, labels, 2);
    expect(model.accuracy(texts, labels)).toBe(1);
    expect(model.predictAll(['what a great day', 'so awful, really'])).toEqual([1, 0]);
    const p = model.probabilities('great');
    expect(p[1]).toBeGreaterThan(0.9);
    expect(p[0]! + p[1]!).toBeCloseTo(1, 12);
  });

  it('reaches the maximum-likelihood answer: with one shared word, the class frequencies (the bias is not penalised)', () => {
    // 3 of 4 texts are class 0: the optimum of the mean cross-entropy predicts 0.75 / 0.25 / 0 for every text.
    const model = LogisticRegression.train(['x', 'x', 'x', 'x'], [0, 0, 0, 1], 3, { epochs: 2000, l2: 0.1 });
    const p = model.probabilities('x');
    expect(p[0]).toBeCloseTo(0.75, 2);
    expect(p[1]).toBeCloseTo(0.25, 2);
    expect(p[2]).toBeLessThan(0.01);
  });

  it('separates three classes with minibatches', () => {
    const three = ['red apple', 'red cherry', 'green apple', 'green pear', 'blue sky', 'blue sea'];
    const y = [0, 0, 1, 1, 2, 2];
    const model = LogisticRegression.train(three, y, 3, { batchSize: 2, epochs: 200 });
    expect(model.predictAll(['red', 'green', 'blue'])).toEqual([0, 1, 2]);
  });

  it('is deterministic: the same options give the same model, full batch or minibatch', () => {
    for (const options of [{}, { batchSize: 3, seed: 4 }]) {
      const a = LogisticRegression.train(texts, labels, 2, options).probabilities('great story');
      const b = LogisticRegression.train(texts, labels, 2, options).probabilities('great story');
      expect(Array.from(a)).toEqual(Array.from(b));
    }
  });

  it('refuses labels outside the classes and mismatched inputs', () => {
    expect(() => LogisticRegression.train(['a', 'b'], [0, 2], 2)).toThrow('label 2 of text 1 is outside 0..1');
    expect(() => LogisticRegression.train(['a'], [0, 1], 2)).toThrow(BaselineError);
  });
});

describe('majorityClass', () => {
  it('is the most frequent label, the lowest id on a tie', () => {
    expect(majorityClass([2, 1, 2, 0])).toBe(2);
    expect(majorityClass([1, 0, 1, 0])).toBe(0);
  });
});
