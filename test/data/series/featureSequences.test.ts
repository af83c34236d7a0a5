import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CorpusError } from '../../../src/data/readers.js';
import { readFeatureSequences, formatFeatureSequences } from '../../../src/data/series/featureSequences.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const fixture = path.join(here, '../fixtures', 'feature-sequences.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'features-test-'));

function csv(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describe('readFeatureSequences', () => {
  it('reads steps of F features, step-major, with variable lengths, quoted labels and an ignored id column', async () => {
    const { featureSize, examples } = await readFeatureSequences(fixture);
    expect(featureSize).toBe(2);
    expect(examples.map((e) => [e.label, e.steps, Array.from(e.values), e.line])).toEqual([
      ['7', 3, [0, 0.5, 1, 0.25, 0, 0], 2],
      ['three, or 3', 1, [1, 2], 3],
      // the trailing ";" does not add an empty step; float32 storage rounds 1e-3
      ['7', 2, [0.5, 0.5, -1, Math.fround(1e-3)], 5],
    ]);
  });

  it('reads without labels for prediction', async () => {
    const { examples } = await readFeatureSequences(fixture, { label: null });
    expect(examples.every((e) => e.label === undefined)).toBe(true);
    expect(examples).toHaveLength(3);
  });

  it('reports a step with the wrong number of features, a non-number and an empty step by line and step', async () => {
    const uneven = csv('uneven.csv', 'label,sequence\na,1 2;3 4\nb,1 2;3\n');
    await expect(readFeatureSequences(uneven)).rejects.toThrow(`${uneven}:3: step 2 has 1 feature, expected 2`);
    await expect(readFeatureSequences(csv('nan.csv', 'label,sequence\na,1 x\n'))).rejects.toThrow(
      ':2: step 1, feature 2 is "x", not a number',
    );
    await expect(readFeatureSequences(csv('gap.csv', 'label,sequence\na,1;;2\n'))).rejects.toThrow(
      ':2: step 2 of the sequence is empty',
    );
    await expect(readFeatureSequences(fixture, { featureSize: 28 })).rejects.toThrow(
      ':2: step 1 has 2 features, expected 28',
    );
  });

  it('reports missing columns, wrong field counts, empty labels and empty files', async () => {
    await expect(readFeatureSequences(fixture, { sequence: 'pixels' })).rejects.toThrow(
      `${fixture}:1: no column named "pixels"`,
    );
    await expect(readFeatureSequences(csv('fields.csv', 'label,sequence\na,1,2\n'))).rejects.toThrow(
      ':2: has 3 comma-separated fields, the header has 2',
    );
    await expect(readFeatureSequences(csv('nolabel.csv', 'label,sequence\n,1\n'))).rejects.toThrow(
      ':2: the label ("label") is empty',
    );
    await expect(readFeatureSequences(csv('empty.csv', ''))).rejects.toBeInstanceOf(CorpusError);
    await expect(readFeatureSequences(csv('header.csv', 'label,sequence\n'))).rejects.toThrow(
      'has a header but no sequences',
    );
  });

  it('reads back what formatFeatureSequences writes (MNIST-style rows of pixels)', async () => {
    const digit = { values: Float32Array.from({ length: 4 * 3 }, (_, i) => i / 8), label: '4' };
    const odd = { values: Float32Array.from([1, 2, 3]), label: 'a "b", c' };
    const file = csv('written.csv', formatFeatureSequences([digit, odd], 3));
    const { featureSize, examples } = await readFeatureSequences(file);
    expect(featureSize).toBe(3);
    expect(examples.map((e) => [e.label, e.steps, Array.from(e.values)])).toEqual([
      ['4', 4, Array.from(digit.values)],
      ['a "b", c', 1, [1, 2, 3]],
    ]);
    expect(() => formatFeatureSequences([{ values: [1, 2] }], 3)).toThrow('do not make whole steps');
  });
});
