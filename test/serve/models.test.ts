import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import {
  saveTinyTranslator,
  saveTinyClassifier,
  saveTinyLanguageModel,
  saveTinyForecaster,
  tempDir,
} from '../helpers/serveModels.js';
import { parseModelSpec, languagesOf, loadServedModels, disposeModels } from '../../src/serve/models.js';

beforeAll(useTestBackend);

describe('parseModelSpec', () => {
  it("NAME=DIR, or DIR named after its folder (the run's folder for best/)", () => {
    expect(parseModelSpec('en-fr=runs/m30k/best')).toEqual({ name: 'en-fr', dir: 'runs/m30k/best' });
    expect(parseModelSpec('runs/number-words')).toEqual({ name: 'number-words', dir: 'runs/number-words' });
    expect(parseModelSpec('runs/m30k/best/')).toEqual({ name: 'm30k', dir: 'runs/m30k/best/' });
    // An "=" that does not follow a plain name belongs to the path (whose folder name cannot name a model).
    expect(() => parseModelSpec('runs/a=b')).toThrow(
      /--model runs\/a=b: cannot name a model after its folder "a=b"; give NAME=DIR/,
    );
    expect(() => parseModelSpec('/')).toThrow(/give NAME=DIR/);
  });
});

describe('languagesOf', () => {
  it('reads the pair from the info, or from the training corpus spec', () => {
    expect(languagesOf({ languages: { source: 'de', target: 'en' } })).toEqual({ source: 'de', target: 'en' });
    expect(languagesOf({ corpus: 'corpora/multi30k/train.{en,fr}.gz' })).toEqual({ source: 'en', target: 'fr' });
    expect(languagesOf({ corpus: 'aligned:data/train.de,data/train.en.gz' })).toEqual({ source: 'de', target: 'en' });
    expect(languagesOf({ corpus: 'tsv:pairs.tsv' })).toBeNull();
    expect(languagesOf({})).toBeNull();
  });
});

describe('loadServedModels', () => {
  it('loads every kind from its directory, with its size in weights; disposing releases every tensor', async () => {
    const before = tf.memory().numTensors;
    const models = await loadServedModels([
      { name: 't', dir: await saveTinyTranslator() },
      { name: 'c', dir: await saveTinyClassifier() },
      { name: 'l', dir: await saveTinyLanguageModel() },
      { name: 'f', dir: await saveTinyForecaster() },
    ]);
    expect(models.map((m) => [m.name, m.kind])).toEqual([
      ['t', 'seq2seq'],
      ['c', 'classifier'],
      ['l', 'lm'],
      ['f', 'forecaster'],
    ]);
    const t = models[0]!;
    if (t.kind !== 'seq2seq') throw new Error('not a translator');
    expect(t.weights).toBe(t.translator.model.params.count());
    expect(t.languages).toEqual({ source: 'en', target: 'fr' });
    disposeModels(models);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses duplicate names, no model, and kinds it cannot serve; what loaded before a failure is released', async () => {
    const dir = await saveTinyTranslator();
    await expect(
      loadServedModels([
        { name: 'a', dir },
        { name: 'a', dir },
      ]),
    ).rejects.toThrow(/two models are named "a"; name them with --model NAME=DIR/);
    await expect(loadServedModels([])).rejects.toThrow(/no model given/);
    const odd = tempDir('serve-odd-');
    const other = await saveTinyTranslator();
    const json = JSON.parse(readFileSync(join(other, 'model.json'), 'utf8'));
    writeFileSync(join(odd, 'model.json'), JSON.stringify({ ...json, kind: 'tagger', checksum: undefined }));
    writeFileSync(join(odd, json.weights.file), readFileSync(join(other, json.weights.file)));
    const before = tf.memory().numTensors;
    await expect(
      loadServedModels([
        { name: 'a', dir },
        { name: 'b', dir: odd },
      ]),
    ).rejects.toThrow(/a "tagger" model, which the server cannot serve/);
    await expect(
      loadServedModels([
        { name: 'a', dir },
        { name: 'b', dir: '/nonexistent/model' },
      ]),
    ).rejects.toThrow(/no such model directory/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
