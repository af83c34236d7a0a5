import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { train } from '../../../src/train/loop.js';
import { Labels } from '../../../src/data/text/labelled.js';
import { Vocabulary } from '../../../src/data/text/vocabulary.js';
import { WordTokenizer } from '../../../src/data/text/tokenizers.js';
import { SequenceClassifier, DEFAULT_CLASSIFIER_CONFIG } from '../../../src/heads/classifier/classifier.js';
import { TextClassifier } from '../../../src/heads/classifier/textClassifier.js';
import { ClassifierTask } from '../../../src/heads/classifier/classifierTask.js';

beforeAll(useTestBackend);

/** "good"/"bad" words decide the label among filler words; texts of 3–8 words. */
function reviews(n: number, seed: number): { texts: string[]; labels: string[] } {
  const rng = new Rng(seed);
  const filler = ['the', 'film', 'was', 'a', 'plot', 'and', 'it', 'very', 'actors', 'this'];
  const texts: string[] = [];
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const words = Array.from({ length: rng.int(3, 8) }, () => filler[rng.int(0, filler.length - 1)]!);
    const positive = rng.next() < 0.5;
    words[rng.int(0, words.length - 1)] = positive
      ? rng.next() < 0.5
        ? 'good'
        : 'great'
      : rng.next() < 0.5
        ? 'bad'
        : 'awful';
    texts.push(words.join(' '));
    labels.push(positive ? 'pos' : 'neg');
  }
  return { texts, labels };
}

describe('ClassifierTask', () => {
  it('text input, bidirectional with mean pooling and dropout: validation accuracy rises to ≥ 90 %; save → load predicts the same', async () => {
    const tr = reviews(400, 1);
    const va = reviews(100, 2);
    const tokenizer = new WordTokenizer();
    const vocabulary = Vocabulary.build(tr.texts.map((t) => tokenizer.tokenize(t)));
    const labels = Labels.build(tr.labels);
    const model = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      input: { kind: 'tokens', vocabSize: vocabulary.size, embeddingSize: 8 },
      classes: 2,
      hiddenSize: 12,
      pooling: 'mean',
      bidirectional: true,
      dropout: { inputKeep: 0.9, outputKeep: 0.9, stateKeep: 1 },
      seed: 4,
    });
    const classifier = new TextClassifier(model, labels, { kind: 'tokens', vocabulary, tokenizer, lowercase: false });
    const data = (d: typeof tr) => ({
      examples: d.texts.map((t) => classifier.encodeText(t)),
      labels: d.labels.map((l) => labels.id(l)),
    });
    const task = new ClassifierTask(classifier, { train: data(tr), valid: data(va) }, { batchSize: 20, seed: 2 });
    const before = task.validate();
    const out = mkdtempSync(join(tmpdir(), 'classifier-task-'));
    const result = await train(task, { steps: 60, evalEvery: 30, learningRate: 0.02, metric: 'accuracy' }, { out });
    expect(result.metrics!.accuracy).toBeGreaterThanOrEqual(90);
    expect(result.metrics!.accuracy).toBeGreaterThan(before.accuracy!);
    expect(result.metrics!.macroF1).toBeGreaterThan(85);

    const loaded = await TextClassifier.load(join(out, 'best'));
    expect(loaded.model.config.bidirectional).toBe(true);
    const texts = ['the film was good', 'awful plot', 'this'];
    const a = classifier.predictTexts(texts);
    const b = loaded.predictTexts(texts);
    if (result.best!.step === result.step) expect(b).toEqual(a);
    expect(loaded.predictTexts(['a very good film'])[0]!.label).toBe('pos');
    expect(loaded.predictTexts(['a very bad film'])[0]!.label).toBe('neg');
    loaded.dispose();
    classifier.dispose();
  });

  it('feature input, 2 layers: learns a threshold on the mean value; dropout is off at evaluation (same logits twice)', async () => {
    const rng = new Rng(7);
    const make = (n: number) => {
      const examples: Float32Array[] = [];
      const ys: number[] = [];
      for (let i = 0; i < n; i++) {
        const steps = rng.int(2, 6);
        const shift = rng.next() < 0.5 ? 0.5 : -0.5;
        examples.push(Float32Array.from({ length: steps * 2 }, () => shift + rng.uniform(-0.4, 0.4)));
        ys.push(shift > 0 ? 1 : 0);
      }
      return { examples, labels: ys };
    };
    const model = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      input: { kind: 'features', size: 2 },
      classes: 2,
      hiddenSize: 8,
      layers: 2,
      dropout: { inputKeep: 0.8, outputKeep: 1, stateKeep: 0.8 },
      seed: 1,
    });
    const classifier = new TextClassifier(model, new Labels(['low', 'high']), { kind: 'features', featureSize: 2 });
    const task = new ClassifierTask(classifier, { train: make(200), valid: make(60) }, { batchSize: 20 });
    const batch = classifier.batch([Float32Array.from([0.1, 0.2, 0.3, 0.4])]);
    const twice = [0, 1].map(() => tf.tidy(() => Array.from(model.logits(batch).dataSync())));
    expect(twice[0]).toEqual(twice[1]);
    const result = await train(
      task,
      { steps: 40, evalEvery: 40, learningRate: 0.02 },
      { out: mkdtempSync(join(tmpdir(), 'classifier-features-')) },
    );
    expect(result.metrics!.accuracy).toBeGreaterThanOrEqual(95);
    classifier.dispose();
  });
});
