import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { train } from '../../../src/train/loop.js';
import { Vocabulary } from '../../../src/data/text/vocabulary.js';
import { CharTokenizer } from '../../../src/data/text/tokenizers.js';
import { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG } from '../../../src/heads/lm/languageModel.js';
import { TextLanguageModel } from '../../../src/heads/lm/textLanguageModel.js';
import { LanguageModelTask } from '../../../src/heads/lm/languageModelTask.js';

beforeAll(useTestBackend);

/** Lines that count up from a random letter: "cdefg", "mnop" … (each next character is predictable). */
function countingLines(n: number, seed: number): string[] {
  const rng = new Rng(seed);
  const abc = 'abcdefghijklmnopqrstuvwxyz';
  return Array.from({ length: n }, () => {
    const start = rng.int(0, 15);
    return abc.slice(start, start + rng.int(3, 9));
  });
}

function newLm(train: string[]): TextLanguageModel {
  const tok = new CharTokenizer();
  const vocabulary = Vocabulary.build(train.map((l) => tok.tokenize(l)));
  return new TextLanguageModel(
    new LanguageModel({
      ...DEFAULT_LANGUAGE_MODEL_CONFIG,
      vocabSize: vocabulary.size,
      embeddingSize: 12,
      hiddenSize: 32,
      seed: 2,
    }),
    vocabulary,
    tok,
  );
}

describe('LanguageModelTask', () => {
  it('trains through the shared loop: validation perplexity falls, the checkpoint reloads with identical scores and generation', async () => {
    const trainLines = countingLines(300, 1);
    const validLines = countingLines(40, 2);
    const lm = newLm(trainLines);
    const task = new LanguageModelTask(
      lm,
      { train: trainLines.map((l) => lm.encode(l)), valid: validLines.map((l) => lm.encode(l)) },
      { batchSize: 16, seed: 3 },
    );
    const before = task.validate();
    expect(before.perplexity).toBeCloseTo(Math.exp(before.loss!), 6);
    const out = mkdtempSync(join(tmpdir(), 'lm-task-'));
    const result = await train(task, { steps: 80, evalEvery: 40, learningRate: 0.02, metric: 'perplexity' }, { out });
    expect(result.metrics!.perplexity).toBeLessThan(before.perplexity! / 2);
    expect(task.epoch()).toBeGreaterThanOrEqual(4); // 300 lines / 16 = 19 batches an epoch

    const loaded = await TextLanguageModel.load(out);
    expect(loaded.score(validLines).perplexity).toBeCloseTo(lm.score(validLines).perplexity, 5);
    expect(loaded.score(validLines).perplexity).toBeCloseTo(result.metrics!.perplexity!, 4);
    const greedy = loaded.generate(['cde'], { temperature: 0, maxLength: 3 });
    expect(greedy).toEqual(lm.generate(['cde'], { temperature: 0, maxLength: 3 }));
    expect(greedy[0]!.startsWith('cde')).toBe(true);
    loaded.dispose();
    lm.dispose();
  });

  it('refuses to train without validation lines', () => {
    const lm = newLm(['abc']);
    expect(() => new LanguageModelTask(lm, { train: [lm.encode('abc')], valid: [] })).toThrow(/validation lines/);
    lm.dispose();
  });
});
