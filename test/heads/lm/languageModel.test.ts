import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelConfigError } from '../../../src/model/configChecks.js';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { Trainer } from '../../../src/train/trainer.js';
import { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG, makeLmBatch } from '../../../src/heads/lm/languageModel.js';
import { saveHead, loadHead } from '../../../src/heads/saved.js';
import { GO, EOS, PAD } from '../../../src/data/text/vocabulary.js';
import { SearchStoppedError } from '../../../src/search/decodable.js';

beforeAll(useTestBackend);

// A deterministic "language": counting up from a random start, 4..8 tokens, ids 4..15 (wrapping).
function sentence(rng: Rng): number[] {
  const start = rng.int(0, 11);
  const n = rng.int(4, 8);
  return Array.from({ length: n }, (_, i) => 4 + ((start + i) % 12));
}

describe('LanguageModel', () => {
  it('batches GO w1 … wn → w1 … wn EOS with a mask over the n + 1 real positions', () => {
    const b = makeLmBatch([[7, 8], [9]]);
    expect(Array.from(b.ids!)).toEqual([GO, GO, 7, 9, 8, PAD]);
    expect(Array.from(b.targets)).toEqual([7, 9, 8, EOS, EOS, PAD]);
    expect(Array.from(b.mask)).toEqual([1, 1, 1, 1, 1, 0]);
  });

  it('learns a counting language: perplexity falls far below uniform, and generation continues a prompt', async () => {
    const rng = new Rng(3);
    const lm = new LanguageModel({ ...DEFAULT_LANGUAGE_MODEL_CONFIG, vocabSize: 16, embeddingSize: 8, hiddenSize: 32 });
    const trainer = new Trainer(lm.params, { learningRate: 0.01 });
    const valid = makeLmBatch(Array.from({ length: 100 }, () => sentence(new Rng(1000 + rng.int(0, 1e6)))));
    const before = lm.score(valid);
    for (let i = 0; i < 150; i++)
      trainer.update(() =>
        lm.loss(makeLmBatch(Array.from({ length: 32 }, () => sentence(rng))), { training: true, rng }),
      );
    const after = lm.score(valid);
    const ppl = Math.exp(after.nll / after.tokens);
    expect(Math.exp(before.nll / before.tokens)).toBeGreaterThan(12);
    // After the first token the rest is nearly determined; only the start and the length are uncertain.
    expect(ppl).toBeLessThan(3);
    const [greedy] = lm.generate([[6, 7, 8]], { temperature: 0, maxLength: 3 });
    expect(greedy!.slice(0, 2)).toEqual([9, 10]);
    const sampled = lm.generate([[], [5]], { temperature: 1, topK: 3, seed: 4, maxLength: 10 });
    expect(sampled).toEqual(lm.generate([[], [5]], { temperature: 1, topK: 3, seed: 4, maxLength: 10 }));
    // Batches of any size, or a run made call by call (firstPrompt), sample as one call does.
    const prompts = Array.from({ length: 9 }, (_, i) => (i % 3 === 0 ? [] : [4 + (i % 5)]));
    const options = { temperature: 1, seed: 4, maxLength: 10 };
    const one = lm.generate(prompts, options);
    expect(new Set(one.map((g) => g.join(' '))).size).toBeGreaterThan(3);
    for (const batchSize of [1, 2, 4]) expect(lm.generate(prompts, { ...options, batchSize })).toEqual(one);
    expect(lm.generate(prompts.slice(5), { ...options, firstPrompt: 5 })).toEqual(one.slice(5));
    expect(lm.generate([prompts[7]!, prompts[2]!], { ...options, streams: [7, 2] })).toEqual([one[7], one[2]]);
    expect(() => lm.generate(prompts, { ...options, streams: [1] })).toThrow(RangeError);
    expect(() => lm.generate(prompts, { ...options, batchSize: 0 })).toThrow(RangeError);
    const memory = tf.memory().numTensors;
    lm.generate([[4]], { maxLength: 5 });
    expect(tf.memory().numTensors).toBe(memory);
    expect(() => lm.generate([[4]], { maxLength: 5, shouldStop: () => true })).toThrow(SearchStoppedError);
    expect(tf.memory().numTensors).toBe(memory);
    const dir = mkdtempSync(join(tmpdir(), 'lm-'));
    await saveHead(dir, 'lm', lm, {});
    const { model } = await loadHead(dir, 'lm', (config) => new LanguageModel(config as never));
    expect(model.score(valid)).toEqual(after);
    model.dispose();
    trainer.dispose();
    lm.dispose();
  });

  it('trains with sampled softmax when asked (the loss is only the training loss)', () => {
    const rng = new Rng(8);
    const lm = new LanguageModel({
      ...DEFAULT_LANGUAGE_MODEL_CONFIG,
      vocabSize: 200,
      embeddingSize: 8,
      hiddenSize: 16,
    });
    const batch = makeLmBatch([
      [5, 6, 7],
      [8, 9],
    ]);
    const full = tf.tidy(() => lm.loss(batch).dataSync()[0]!);
    const sampled = tf.tidy(
      () => lm.loss(batch, { training: true, rng, loss: { softmax: 'sampled', numSampled: 20 } }).dataSync()[0]!,
    );
    expect(sampled).not.toBeCloseTo(full, 3);
    expect(
      tf.tidy(() => lm.loss(batch, { training: false, loss: { softmax: 'sampled', numSampled: 20 } }).dataSync()[0]!),
    ).toBeCloseTo(full, 6);
    lm.dispose();
  });
});

describe('LanguageModel config', () => {
  it('refuses fields out of range by name before a weight is made (a hidden size of 0 reached OpenBLAS)', () => {
    const before = tf.memory().numTensors;
    const base = { ...DEFAULT_LANGUAGE_MODEL_CONFIG, vocabSize: 10 };
    const cases: [object, string][] = [
      [{ hiddenSize: 0 }, 'hiddenSize must be an integer ≥ 1, got 0'],
      [{ embeddingSize: 0 }, 'embeddingSize must be an integer ≥ 1, got 0'],
      [{ vocabSize: 0 }, 'vocabSize must be an integer ≥ 1, got 0'],
      [{ seed: NaN }, 'seed must be an integer from 0 to 4294967295, got NaN'],
      [
        { cell: { ...DEFAULT_LANGUAGE_MODEL_CONFIG.cell, kind: 'xyz' } },
        'cell.kind must be one of gru, lstm, rnn, got "xyz"',
      ],
    ];
    for (const [change, message] of cases)
      expect(() => new LanguageModel({ ...base, ...change })).toThrow(new ModelConfigError(message));
    expect(tf.memory().numTensors).toBe(before);
  });
});
