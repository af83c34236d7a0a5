import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  readConfigFile,
  parseSet,
  resolveConfig,
  checkConfig,
  mergeConfig,
  TRANSLATION_MODEL_DEFAULTS,
  DEFAULT_SUBWORDS,
} from '../../src/translation/config.js';
import { DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';

const file = (text: string): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'seq2seq-config-')), 'run.json');
  writeFileSync(p, text);
  return p;
};

describe('train config', () => {
  it('layers defaults ← file ← flags ← --set, deep-merging sections and nested objects', async () => {
    const f = await readConfigFile(
      file(
        JSON.stringify({
          data: { corpus: 'a.tsv', batchSize: 32 },
          model: { hiddenSize: 256, cell: { kind: 'lstm' } },
          training: { steps: 100, schedule: { kind: 'loss-rise' } },
        }),
      ),
    );
    const config = resolveConfig([
      f,
      { training: { steps: 200 } },
      parseSet('model.cell.peepholes=true'),
      parseSet('training.schedule.factor=0.9'),
    ]);
    expect(config.data).toMatchObject({ corpus: 'a.tsv', batchSize: 32, tokenizer: 'word' });
    expect(config.model.hiddenSize).toBe(256);
    expect(config.model.cell).toEqual({ ...DEFAULT_SEQ2SEQ_CONFIG.cell, kind: 'lstm', peepholes: true });
    expect(config.training.steps).toBe(200);
    expect(config.training.schedule).toEqual({ kind: 'loss-rise', factor: 0.9, finalShare: 0.05 });
    expect(config.loss.softmax).toBe('full');
  });

  it('gives translate train the default model chosen on Multi30K: bidirectional GRU, Bahdanau attention, dropout, BLEU with early stopping', () => {
    const config = resolveConfig([{ data: { corpus: 'a.tsv' } }]);
    expect(config.model).toEqual(TRANSLATION_MODEL_DEFAULTS);
    expect(config.model).toMatchObject({
      bidirectional: true,
      attention: 'bahdanau',
      bridge: 'auto',
      embeddingSize: 256,
      hiddenSize: 256,
      cell: { kind: 'gru' },
    });
    expect(config.model.dropout).toEqual({ inputKeep: 0.8, outputKeep: 0.8, stateKeep: 1 });
    expect(config.training).toMatchObject({
      steps: 4000,
      learningRate: 2e-3,
      metric: 'bleu',
      earlyStopping: { patience: 4 },
      schedule: { kind: 'cosine' },
    });
    // The library's own default stays the small model.
    expect(DEFAULT_SEQ2SEQ_CONFIG.bidirectional).toBe(false);
    // A unidirectional run says so.
    expect(resolveConfig([{ data: { corpus: 'a.tsv' }, model: { bidirectional: false } }]).model.bidirectional).toBe(
      false,
    );
  });

  it('--set parses JSON values and keeps other text as a string, for any model field the defaults have', () => {
    expect(parseSet('model.attention=none')).toEqual({ model: { attention: 'none' } });
    expect(parseSet('training.learningRate=0.5')).toEqual({ training: { learningRate: 0.5 } });
    expect(parseSet('data.buckets=[[5,10],[10,15]]')).toEqual({
      data: {
        buckets: [
          [5, 10],
          [10, 15],
        ],
      },
    });
    // Every field of DEFAULT_SEQ2SEQ_CONFIG is settable without code here (fields the model engineer adds included).
    for (const [k, v] of Object.entries(DEFAULT_SEQ2SEQ_CONFIG))
      expect(() => parseSet(`model.${k}=${JSON.stringify(v)}`)).not.toThrow();
  });

  it('names the file and key of an unknown key or a wrong value', async () => {
    const bad = file('{"training": {"stpes": 5}}');
    await expect(readConfigFile(bad)).rejects.toThrow(`${bad}: unknown key "training.stpes"`);
    await expect(readConfigFile(file('{"modle": {}}'))).rejects.toThrow(/unknown section "modle"/);
    await expect(readConfigFile(file('{"data": {"batchSize": "64"}}'))).rejects.toThrow(
      /"data.batchSize" must be an integer, got "64"/,
    );
    await expect(readConfigFile(file('{"training": {"optimizer": "rmsprop"}}'))).rejects.toThrow(
      /"training.optimizer" must be one of "adam", "sgd"/,
    );
    await expect(readConfigFile(file('{"data": {'))).rejects.toThrow(/not valid JSON/);
    await expect(readConfigFile('/nonexistent/run.json')).rejects.toThrow(/run.json: cannot read \(ENOENT\)/);
    expect(() => parseSet('model.nosuch=1')).toThrow('--set model.nosuch=1: unknown key "model.nosuch"');
    expect(() => parseSet('steps=1')).toThrow(/must be section.key/);
    expect(() => checkConfig({ loss: { softmax: 'sampled', labelSmoothing: 0.1 } }, 'flags')).toThrow(
      /flags: loss: label smoothing is not available with sampled softmax/,
    );
    expect(() => resolveConfig([{}])).toThrow(/no training corpus/);
  });

  it('checks own keys only: constructor, __proto__, toString are unknown keys, not Object.prototype members (they used to pass)', async () => {
    for (const key of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(readConfigFile(file(`{"data": {"${key}": 5}}`))).rejects.toThrow(`unknown key "data.${key}"`);
      await expect(readConfigFile(file(`{"training": {"schedule": {"${key}": {}}}}`))).rejects.toThrow(
        `unknown key "training.schedule.${key}"`,
      );
      await expect(readConfigFile(file(`{"${key}": {}}`))).rejects.toThrow(`unknown section "${key}"`);
      expect(() => parseSet(`model.${key}=1`)).toThrow(`unknown key "model.${key}"`);
    }
    // Nothing reached a prototype.
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('mergeConfig replaces arrays and leaves the base untouched', () => {
    const base = { a: { b: [1, 2], c: 1 } };
    expect(mergeConfig(base, { a: { b: [3] } })).toEqual({ a: { b: [3], c: 1 } });
    expect(base.a.b).toEqual([1, 2]);
  });
});

describe('the shipped training configs (corpora/configs)', () => {
  it('parse and resolve: Multi30K de→en and en→fr, bidirectional GRU, dot attention, dropout, sampled softmax, BLEU as the metric', async () => {
    const configs = [
      ['multi30k-de-en', 'word'],
      ['multi30k-en-fr', 'word:fr'],
      ['multi30k-de-en-sp', 'subwords'],
      ['multi30k-en-fr-sp', 'subwords'],
    ] as const;
    for (const [name, target] of configs) {
      const config = resolveConfig([
        await readConfigFile(join(import.meta.dirname, '../../corpora/configs', `${name}.json`)),
      ]);
      // The runs in the README's table: dot attention (they predate the default's choice of Bahdanau).
      expect(config.model).toMatchObject({
        bidirectional: true,
        attention: 'dot',
        hiddenSize: 256,
        dropout: { inputKeep: 0.8, outputKeep: 0.8 },
      });
      expect(config.loss.softmax).toBe('sampled');
      expect(config.training.metric).toBe('bleu');
      // The subword configs learn their SentencePiece model in the run: no path to a file made beforehand.
      if (target === 'subwords')
        expect(config.data).toMatchObject({ subwords: 8000, subwordType: 'unigram', tokenizer: 'word' });
      else
        expect({
          tokenizer: config.data.targetTokenizer ?? config.data.tokenizer,
          subwords: config.data.subwords,
        }).toEqual({ tokenizer: target, subwords: 0 });
      expect(config.data.corpus).toMatch(/^corpora\/downloads\/multi30k\/train\./);
    }
  });
});

describe('the default tokenizer', () => {
  it('is a joint SentencePiece model of 8,000 pieces unless a tokenizer (or subwords) is chosen', () => {
    expect(resolveConfig([{ data: { corpus: 'c.tsv' } }]).data.subwords).toBe(DEFAULT_SUBWORDS);
    expect(resolveConfig([{ data: { corpus: 'c.tsv', tokenizer: 'word' } }]).data.subwords).toBe(0);
    expect(resolveConfig([{ data: { corpus: 'c.tsv' } }, { data: { targetTokenizer: 'word:fr' } }]).data.subwords).toBe(
      0,
    );
    expect(resolveConfig([{ data: { corpus: 'c.tsv', subwords: 4000, subwordType: 'bpe' } }]).data).toMatchObject({
      subwords: 4000,
      subwordType: 'bpe',
    });
    expect(resolveConfig([{ data: { corpus: 'c.tsv', subwords: 0 } }]).data.subwords).toBe(0);
  });
});
