import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { ModelConfigError } from '../../../src/model/configChecks.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { TextClassifier, ClassifierInputError } from '../../../src/heads/classifier/textClassifier.js';
import { SequenceClassifier, DEFAULT_CLASSIFIER_CONFIG } from '../../../src/heads/classifier/classifier.js';
import { Labels } from '../../../src/data/text/labelled.js';
import { Vocabulary } from '../../../src/data/text/vocabulary.js';
import { WordTokenizer } from '../../../src/data/text/tokenizers.js';

beforeAll(useTestBackend);

function textClassifier(): TextClassifier {
  const tok = new WordTokenizer();
  const vocabulary = Vocabulary.build([tok.tokenize('good bad film')]);
  const model = new SequenceClassifier({
    ...DEFAULT_CLASSIFIER_CONFIG,
    input: { kind: 'tokens', vocabSize: vocabulary.size, embeddingSize: 4 },
    classes: 2,
    hiddenSize: 6,
    seed: 2,
  });
  return new TextClassifier(model, new Labels(['neg', 'pos']), {
    kind: 'tokens',
    vocabulary,
    tokenizer: tok,
    lowercase: true,
  });
}

describe('TextClassifier', () => {
  it('encodes text (lowercased), predicts a label with probabilities summing to 1, and reloads with the same predictions', async () => {
    const c = textClassifier();
    expect(c.encodeText('GOOD film')).toEqual(c.encodeText('good film'));
    const p = c.predictTexts(['good film', 'bad', '']);
    expect(p).toHaveLength(3);
    for (const x of p) {
      expect(['neg', 'pos']).toContain(x.label);
      expect(x.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    const dir = mkdtempSync(join(tmpdir(), 'text-classifier-'));
    await c.save(dir);
    const loaded = await TextClassifier.load(dir);
    expect(loaded.predictTexts(['good film', 'bad', '']).map((x) => x.probability)).toEqual(
      p.map((x) => x.probability),
    );
    expect(loaded.evaluate([c.encodeText('good')], [1]).accuracy).toBe(
      c.evaluate([c.encodeText('good')], [1]).accuracy,
    );
    loaded.dispose();
    c.dispose();
  });

  it('feature models refuse text; a model.json with a bad input names it', async () => {
    const model = new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG,
      input: { kind: 'features', size: 2 },
      classes: 2,
      hiddenSize: 4,
    });
    const c = new TextClassifier(model, new Labels(['a', 'b']), { kind: 'features', featureSize: 2 });
    expect(() => c.encodeText('x')).toThrow(ClassifierInputError);
    expect(c.predict([Float32Array.from([0, 1, 1, 0])])).toHaveLength(1);
    const dir = mkdtempSync(join(tmpdir(), 'text-classifier-'));
    await c.save(dir);
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const { data } = c.model.params.serialize();
    await expect(
      TextClassifier.fromSaved(
        { ...json, extra: { ...json.extra, input: { kind: 'features', featureSize: 0 } } },
        data,
        'm.json',
      ),
    ).rejects.toThrow(/m\.json: extra\.input must be/);
    c.dispose();
  });
});

describe('TextClassifier misuse', () => {
  it('refuses a batch size that would loop forever (0) or return nothing (NaN), and texts that are not strings', () => {
    const c = textClassifier();
    const examples = [c.encodeText('good'), c.encodeText('bad film')];
    for (const bad of [0, -2, NaN, 1.5]) {
      expect(() => c.predict(examples, bad)).toThrow(`batchSize must be a whole number ≥ 1, got ${bad}`);
      expect(() => c.predictTexts(['good'], bad)).toThrow(RangeError);
    }
    expect(c.predict(examples, 1).map((p) => p.probability)).toEqual(c.predict(examples).map((p) => p.probability));
    expect(() => c.predictTexts(['good', 7 as unknown as string])).toThrow('texts[1]: expected a string, got number');
    c.dispose();
  });
});

describe('SequenceClassifier config', () => {
  it('refuses fields out of range by name before a weight is made (hidden size 0 reached OpenBLAS as an illegal argument)', async () => {
    const base = {
      ...DEFAULT_CLASSIFIER_CONFIG,
      input: { kind: 'tokens' as const, vocabSize: 5, embeddingSize: 3 },
      classes: 2,
    };
    const cases: [object, string][] = [
      [{ hiddenSize: 0 }, 'hiddenSize must be an integer ≥ 1, got 0'],
      [{ input: { kind: 'tokens', vocabSize: 5, embeddingSize: 0 } }, 'embeddingSize must be an integer ≥ 1, got 0'],
      [{ input: { kind: 'features', size: NaN } }, 'inputSize must be an integer ≥ 1, got NaN'],
      [
        { cell: { ...DEFAULT_CLASSIFIER_CONFIG.cell, kind: 'xyz' } },
        'cell.kind must be one of gru, lstm, rnn, got "xyz"',
      ],
      [{ pooling: 'sum' }, 'pooling must be one of final, mean, max, attention, got "sum"'],
      [{ seed: 1.5 }, 'seed must be an integer from 0 to 4294967295, got 1.5'],
      [{ classes: 1 }, 'classes must be an integer ≥ 2, got 1'],
    ];
    for (const [change, message] of cases)
      expect(() => new SequenceClassifier({ ...base, ...change })).toThrow(new ModelConfigError(message));
    // A saved model with such a field names its model.json.
    const c = textClassifier();
    const dir = mkdtempSync(join(tmpdir(), 'text-classifier-bad-'));
    await c.save(dir);
    c.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.config.hiddenSize = 0;
    delete json.checksum;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await expect(TextClassifier.load(dir)).rejects.toThrow(
      `${join(dir, 'model.json')}: config: hiddenSize must be an integer ≥ 1, got 0`,
    );
  });
});
