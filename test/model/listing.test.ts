import { describe, it, expect } from 'vitest';
import { modelListJson, type ListedModel } from '../../src/model/listing.js';

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
