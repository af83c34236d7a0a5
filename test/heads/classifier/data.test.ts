import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { readClassifierData, classifierSplit } from '../../../src/heads/classifier/data.js';

const fixtures = join(import.meta.dirname, '../../data/fixtures');

describe('classifier data', () => {
  it('reads TSV examples with file and line, and feature sequences with their width', async () => {
    const tsv = await readClassifierData([join(fixtures, 'labelled.tsv')], { format: 'tsv' });
    expect(tsv.examples[0]).toMatchObject({ label: '1', file: join(fixtures, 'labelled.tsv'), line: 1 });
    expect(tsv.examples[0]!.text).toMatch(/^Great phone/);
    expect(tsv.featureSize).toBeUndefined();
    const features = await readClassifierData([join(fixtures, 'feature-sequences.csv')], { format: 'features' });
    expect(features.featureSize).toBeGreaterThan(0);
    expect(features.examples[0]!.values).toBeInstanceOf(Float32Array);
  });

  it('splits by shares or counts, reproducibly by seed, each example in one part', () => {
    const items = Array.from({ length: 20 }, (_, i) => i);
    const a = classifierSplit(items, { validSplit: 0.1, testSplit: 5, seed: 3 });
    expect([a.train.length, a.valid.length, a.test.length]).toEqual([13, 2, 5]);
    expect([...a.train, ...a.valid, ...a.test].sort((x, y) => x - y)).toEqual(items);
    expect(classifierSplit(items, { validSplit: 0.1, testSplit: 5, seed: 3 })).toEqual(a);
    expect(classifierSplit(items, { validSplit: 0.1, testSplit: 5, seed: 4 })).not.toEqual(a);
  });
});
