import { describe, it, expect, beforeAll } from 'vitest';
import { useTestBackend } from '../helpers/backend.js';
import {
  trainNumberWords,
  evaluateNumberWords,
  pageExample,
  DEFAULT_NUMBER_WORDS_DEMO,
  NUMBER_WORDS_TASK,
} from '../../src/demo/numberWords.js';
import { Translator } from '../../src/translation/translator.js';
import { CharTokenizer } from '../../src/data/text/tokenizers.js';
import { describeModel } from '../../src/cli/demo.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

beforeAll(useTestBackend);

describe('number-words end to end', () => {
  it('trains a tiny setting (2–4 digits) to high exact match on held-out numbers', async () => {
    const run = await trainNumberWords({
      ...DEFAULT_NUMBER_WORDS_DEMO,
      task: { minDigits: 2, maxDigits: 4, validSize: 200, longSize: 50, seed: 5 },
      model: { ...DEFAULT_NUMBER_WORDS_DEMO.model, hiddenSize: 48, embeddingSize: 16, seed: 5 },
      steps: 350,
      batchSize: 32,
    });
    const r = evaluateNumberWords(run.model, run.task.valid, run.vocabs);
    run.model.dispose();
    expect(run.losses.at(-1)!).toBeLessThan(run.losses[0]! / 20);
    expect(r.exactMatch).toBeGreaterThanOrEqual(0.95);
    expect(r.positionAccuracy).toHaveLength(5); // 4 digits + the EOS position
  });

  it('trains with an LSTM (forget bias, peepholes) too, and the saved model loads with identical outputs', async () => {
    const run = await trainNumberWords({
      ...DEFAULT_NUMBER_WORDS_DEMO,
      task: { minDigits: 2, maxDigits: 4, validSize: 200, longSize: 50, seed: 6 },
      model: {
        ...DEFAULT_NUMBER_WORDS_DEMO.model,
        hiddenSize: 48,
        embeddingSize: 16,
        seed: 6,
        cell: { kind: 'lstm', forgetBias: 1, peepholes: true, activation: 'tanh' },
      },
      steps: 350,
      batchSize: 32,
    });
    const r = evaluateNumberWords(run.model, run.task.valid, run.vocabs);
    expect(r.exactMatch).toBeGreaterThanOrEqual(0.9);
    const chars = new CharTokenizer();
    const t = new Translator(run.model, run.vocabs.source, run.vocabs.target, chars, chars);
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-lstm-'));
    await t.save(dir);
    const loaded = await Translator.load(dir);
    expect(loaded.model.config.cell.kind).toBe('lstm');
    const lines = run.task.valid.slice(0, 20).map((p) => p.words);
    expect(loaded.translate(lines, { beamSize: 3 }).map((x) => x.text)).toEqual(
      t.translate(lines, { beamSize: 3 }).map((x) => x.text),
    );
    loaded.dispose();
    t.dispose();
  });

  it('trains a bidirectional encoder with Bahdanau attention and dropout to high exact match', async () => {
    const model = {
      ...DEFAULT_NUMBER_WORDS_DEMO.model,
      hiddenSize: 32,
      embeddingSize: 16,
      seed: 7,
      bidirectional: true,
      attention: 'bahdanau' as const,
      dropout: { inputKeep: 0.9, outputKeep: 0.9, stateKeep: 0.9 },
    };
    expect(describeModel(model)).toBe(
      'bidirectional GRU encoder–decoder with bahdanau attention, 32 units, dropout keep 0.9/0.9/0.9 (input/output/state)',
    );
    const run = await trainNumberWords({
      ...DEFAULT_NUMBER_WORDS_DEMO,
      task: { minDigits: 2, maxDigits: 4, validSize: 200, longSize: 50, seed: 7 },
      model,
      trainer: { ...DEFAULT_NUMBER_WORDS_DEMO.trainer, learningRate: 1e-2 },
      steps: 350,
      batchSize: 32,
    });
    const r = evaluateNumberWords(run.model, run.task.valid, run.vocabs);
    run.model.dispose();
    expect(r.exactMatch).toBeGreaterThanOrEqual(0.9);
  });

  it('the same seed gives the same losses, with dropout too', async () => {
    const dropout = {
      ...DEFAULT_NUMBER_WORDS_DEMO.model,
      hiddenSize: 8,
      embeddingSize: 4,
      seed: 9,
      dropout: { inputKeep: 0.8, outputKeep: 0.8, stateKeep: 0.8 },
    };
    const runs = await Promise.all(
      [0, 1].map(async () => {
        const r = await trainNumberWords({
          ...DEFAULT_NUMBER_WORDS_DEMO,
          task: { minDigits: 2, maxDigits: 3, validSize: 10, longSize: 10, seed: 9 },
          model: dropout,
          steps: 5,
          batchSize: 4,
        });
        r.model.dispose();
        return r.losses;
      }),
    );
    expect(runs[1]).toEqual(runs[0]);
  });

  it('the same seed gives the same losses', async () => {
    const opts = {
      ...DEFAULT_NUMBER_WORDS_DEMO,
      task: { minDigits: 2, maxDigits: 3, validSize: 10, longSize: 10, seed: 9 },
      model: { ...DEFAULT_NUMBER_WORDS_DEMO.model, hiddenSize: 8, embeddingSize: 4, seed: 9 },
      steps: 5,
      batchSize: 4,
    };
    const a = await trainNumberWords(opts);
    const b = await trainNumberWords(opts);
    a.model.dispose();
    b.model.dispose();
    expect(b.losses).toEqual(a.losses);
  });
});

describe('pageExample', () => {
  it("gives the demo's examples for the demo's models only", () => {
    expect(pageExample({ task: NUMBER_WORDS_TASK })).toBe('one two five\nseven zero zero');
    for (const info of [{}, { task: 'multi30k' }, { task: 'Number-Words' }]) expect(pageExample(info)).toBeNull();
  });
});
