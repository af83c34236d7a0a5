import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { Trainer } from '../../../src/train/trainer.js';
import {
  SequenceClassifier,
  DEFAULT_CLASSIFIER_CONFIG,
  type ClassifierBatch,
} from '../../../src/heads/classifier/classifier.js';
import { tokenBatch, featureBatch } from '../../../src/heads/sequenceInput.js';
import { saveHead, loadHead } from '../../../src/heads/saved.js';

beforeAll(useTestBackend);

function tokenTask(rng: Rng, n: number): ClassifierBatch {
  // Label 1 when token 3 occurs anywhere in a sequence of 2–8 tokens from 2..9: needs memory over the sequence.
  const seqs: number[][] = [];
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const len = 2 + rng.int(0, 6);
    const s = Array.from({ length: len }, () => rng.int(4, 9));
    if (rng.uniform(0, 1) < 0.5) {
      s[rng.int(0, len - 1)] = 3;
      labels[i] = 1;
    }
    seqs.push(s);
  }
  return { ...tokenBatch(seqs), labels };
}

describe('SequenceClassifier', () => {
  it('pools the final state, the mean or the max over real steps only', () => {
    const seqs = [[4, 5, 6], [7]];
    for (const pooling of ['final', 'mean', 'max'] as const) {
      const c = new SequenceClassifier({
        ...DEFAULT_CLASSIFIER_CONFIG,
        hiddenSize: 5,
        pooling,
        input: { kind: 'tokens', vocabSize: 10, embeddingSize: 4 },
        classes: 3,
      });
      const batch = tokenBatch(seqs);
      const logits = tf.tidy(() => c.logits(batch).arraySync());
      expect(logits).toHaveLength(2);
      // The short sequence alone gives the same logits: padding never reaches the summary.
      const alone = tf.tidy(() => c.logits(tokenBatch([[7]])).arraySync());
      alone[0]!.forEach((v, i) => expect(logits[1]![i]).toBeCloseTo(v, 5));
      // By hand from the reader's outputs for sequence 0.
      const { outputs, final } = c.reader.read(tokenBatch([seqs[0]!]));
      const o = outputs.arraySync();
      const summary =
        pooling === 'final'
          ? final.arraySync()[0]!
          : o[0]![0]!.map((_, j) =>
              pooling === 'mean'
                ? (o[0]![0]![j]! + o[1]![0]![j]! + o[2]![0]![j]!) / 3
                : Math.max(o[0]![0]![j]!, o[1]![0]![j]!, o[2]![0]![j]!),
            );
      tf.dispose([outputs, final]);
      const W = c.params.get('classifier/output/W').arraySync() as number[][];
      for (let k = 0; k < 3; k++)
        expect(logits[0]![k]).toBeCloseTo(
          summary.reduce((s, x, j) => s + x * W[j]![k]!, 0),
          5,
        );
      c.dispose();
    }
  });

  it('attention pooling: weights over real steps only sum to 1; with a zero scorer it is mean pooling; padding changes nothing', () => {
    const input = { kind: 'tokens' as const, vocabSize: 10, embeddingSize: 4 };
    const c = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      hiddenSize: 5,
      pooling: 'attention',
      attentionSize: 3,
      input,
      classes: 3,
      seed: 4,
    });
    const seqs = [
      [4, 5, 6, 8],
      [7, 2],
    ];
    const weights = c.attentionWeights(tokenBatch(seqs));
    expect(weights.map((w) => w.length)).toEqual([4, 2]);
    weights.forEach((w) => expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5));
    // u·v is not constant, so the weights are not uniform.
    expect(Math.max(...weights[0]!) - Math.min(...weights[0]!)).toBeGreaterThan(1e-4);
    const padded = tf.tidy(() => c.logits(tokenBatch(seqs)).arraySync());
    const alone = tf.tidy(() => c.logits(tokenBatch([[7, 2]])).arraySync());
    alone[0]!.forEach((v, i) => expect(padded[1]![i]).toBeCloseTo(v, 5));
    // v = 0 scores every step alike: the summary is the mean of the outputs, as mean pooling computes it.
    tf.tidy(() => c.params.get('classifier/attention/v').assign(tf.zeros([3, 1])));
    const mean = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      hiddenSize: 5,
      pooling: 'mean',
      input,
      classes: 3,
      seed: 4,
    });
    for (const [name, v] of mean.params.entries()) tf.tidy(() => v.assign(c.params.get(name)));
    const a = tf.tidy(() => c.logits(tokenBatch(seqs)).arraySync());
    const m = tf.tidy(() => mean.logits(tokenBatch(seqs)).arraySync());
    a.flat().forEach((v, i) => expect(v).toBeCloseTo(m.flat()[i]!, 5));
    c.dispose();
    mean.dispose();
  });

  it('attention pooling and embedding dropout learn the token task with a flat tensor count', () => {
    const rng = new Rng(7);
    const c = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      hiddenSize: 16,
      pooling: 'attention',
      embeddingKeep: 0.9,
      input: { kind: 'tokens', vocabSize: 10, embeddingSize: 8 },
      classes: 2,
    });
    const trainer = new Trainer(c.params, { learningRate: 0.01 });
    const dropRng = new Rng(1);
    trainer.update(() => c.loss(tokenTask(rng, 32), { training: true, rng: dropRng }));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 150; i++) trainer.update(() => c.loss(tokenTask(rng, 32), { training: true, rng: dropRng }));
    expect(tf.memory().numTensors).toBe(before);
    const test = tokenTask(new Rng(99), 300);
    const correct = c.predict(test).filter((p, i) => (p[1]! > p[0]! ? 1 : 0) === test.labels[i]).length;
    expect(correct / 300).toBeGreaterThanOrEqual(0.9);
    trainer.dispose();
    c.dispose();
  });

  it('learns which sequences contain a token (≥ 90 % on held-out data), with a flat tensor count', () => {
    const rng = new Rng(7);
    const c = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      hiddenSize: 16,
      input: { kind: 'tokens', vocabSize: 10, embeddingSize: 8 },
      classes: 2,
    });
    const trainer = new Trainer(c.params, { learningRate: 0.01 });
    trainer.update(() => c.loss(tokenTask(rng, 32)));
    const before = tf.memory().numTensors;
    for (let i = 0; i < 150; i++) trainer.update(() => c.loss(tokenTask(rng, 32)));
    expect(tf.memory().numTensors).toBe(before);
    const test = tokenTask(new Rng(99), 300);
    const probs = c.predict(test);
    const correct = probs.filter((p, i) => (p[1]! > p[0]! ? 1 : 0) === test.labels[i]).length;
    expect(correct / 300).toBeGreaterThanOrEqual(0.9);
    trainer.dispose();
    c.dispose();
  });

  it('reads real-valued feature sequences and round-trips through save/load', async () => {
    const c = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      hiddenSize: 6,
      pooling: 'mean',
      input: { kind: 'features', size: 2 },
      classes: 4,
      seed: 3,
    });
    const batch = featureBatch([Float32Array.from([0.5, 1, -1, 2]), Float32Array.from([3, 3])], 2);
    const before = c.predict(batch);
    const dir = mkdtempSync(join(tmpdir(), 'classifier-'));
    await saveHead(dir, 'classifier', c, { labels: ['a', 'b', 'c', 'd'] });
    const { model, extra } = await loadHead(dir, 'classifier', (config) => new SequenceClassifier(config as never));
    expect(extra).toEqual({ labels: ['a', 'b', 'c', 'd'] });
    expect(model.predict(batch)).toEqual(before);
    await expect(loadHead(dir, 'forecaster', (config) => new SequenceClassifier(config as never))).rejects.toThrow(
      /a "classifier" model, expected "forecaster"/,
    );
    model.dispose();
    c.dispose();
  });
});
