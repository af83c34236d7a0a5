import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { modelListJson, readListedModelFile, type ListedModel } from '../../src/model/listing.js';

describe('modelListJson', () => {
  const models: ListedModel[] = [
    {
      name: 'de-en',
      dir: '/srv/m/de-en',
      kind: 'seq2seq',
      languages: { source: 'de', target: 'en' },
      weights: 5,
      example: null,
    },
    { name: 'a b/c', dir: '/srv/m/x', kind: 'classifier', languages: null, weights: 7, example: 'good' },
  ];

  it('lists every model in order, each with the URL of its files, and no directory', () => {
    const text = modelListJson(models);
    expect(JSON.parse(text)).toEqual([
      {
        name: 'de-en',
        kind: 'seq2seq',
        url: 'models/de-en/',
        languages: { source: 'de', target: 'en' },
        weights: 5,
        example: null,
      },
      { name: 'a b/c', kind: 'classifier', url: 'models/a%20b%2Fc/', languages: null, weights: 7, example: 'good' },
    ]);
    expect(text).not.toContain('/srv/');
  });

  it('an empty list is an empty array', () => {
    expect(modelListJson([])).toBe('[]');
  });
});

describe('readListedModelFile', () => {
  it('gives model.json and the files it names, and nothing else of the folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'listing-'));
    expect(await readListedModelFile(dir, 'model.json')).toEqual({ missing: 'model.json' });
    const json = JSON.stringify({ weights: { file: 'weights-0123456789abcdef.bin', sha256: 'ab'.repeat(32) } });
    writeFileSync(join(dir, 'model.json'), json);
    writeFileSync(join(dir, 'weights-0123456789abcdef.bin'), 'w');
    writeFileSync(join(dir, 'secret.txt'), 's');
    expect(await readListedModelFile(dir, 'model.json')).toEqual({ body: json, modelJson: true });
    const weights = await readListedModelFile(dir, 'weights-0123456789abcdef.bin');
    expect(weights).toMatchObject({ modelJson: false });
    expect(String((weights as { body: Buffer }).body)).toBe('w');
    expect(await readListedModelFile(dir, 'secret.txt')).toEqual({ missing: 'secret.txt' });
    expect(await readListedModelFile(dir, '../model.json')).toEqual({ missing: '../model.json' });
  });
});
