import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { DEFAULT_CELL } from '../../src/recurrent/cell.js';
import {
  SequenceReader,
  tokenBatch,
  featureBatch,
  embeddingDropoutScales,
  checkReaderOptions,
  DEFAULT_READER,
} from '../../src/heads/sequenceInput.js';
import { MAX_LAYERS } from '../../src/recurrent/stack.js';

beforeAll(useTestBackend);

const read = (reader: SequenceReader, batch: ReturnType<typeof tokenBatch>) =>
  tf.tidy(() => {
    const r = reader.read(batch);
    return { outputs: r.outputs.arraySync(), final: r.final.arraySync() };
  });

describe('tokenBatch / featureBatch', () => {
  it('pad at the back, time-major, with masks and lengths', () => {
    const b = tokenBatch([[5, 6, 7], [8]]);
    expect(Array.from(b.ids!)).toEqual([5, 8, 6, 0, 7, 0]);
    expect(Array.from(b.mask)).toEqual([1, 1, 1, 0, 1, 0]);
    expect(Array.from(b.lengths)).toEqual([3, 1]);
    const f = featureBatch([Float32Array.from([1, 2, 3, 4]), Float32Array.from([5, 6])], 2);
    expect(f.steps).toBe(2);
    expect(Array.from(f.features!)).toEqual([1, 2, 5, 6, 3, 4, 0, 0]);
    expect(Array.from(f.mask)).toEqual([1, 1, 1, 0]);
    expect(() => featureBatch([Float32Array.from([1, 2, 3])], 2)).toThrow(/not a multiple of 2/);
  });
});

describe('SequenceReader', () => {
  for (const kind of ['gru', 'lstm'] as const) {
    it(`${kind}, token inputs: a padded batch gives each sequence's own outputs (zero past its length) and final state`, () => {
      const reader = new SequenceReader(
        new Params(new Rng(3)),
        'r',
        { kind: 'tokens', vocabSize: 12, embeddingSize: 5 },
        6,
        { ...DEFAULT_CELL, kind },
      );
      const seqs = [[4, 5, 6, 7], [8, 9], [10]];
      const together = read(reader, tokenBatch(seqs));
      seqs.forEach((s, b) => {
        const alone = read(reader, tokenBatch([s]));
        for (let t = 0; t < 4; t++) {
          const expected = t < s.length ? alone.outputs[t]![0]! : new Array(6).fill(0);
          together.outputs[t]![b]!.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
        }
        together.final[b]!.forEach((v, i) => expect(v).toBeCloseTo(alone.final[0]![i]!, 5));
      });
    });
  }

  it('feature inputs are projected by x·W + b and read with the same masking', () => {
    const params = new Params(new Rng(4));
    const reader = new SequenceReader(params, 'f', { kind: 'features', size: 3 }, 4);
    const a = Float32Array.from([0.1, -0.2, 0.3, 0.5, 0.4, -0.1]);
    const b = Float32Array.from([1, 0, -1]);
    const batch = featureBatch([a, b], 3);
    const xp = tf.tidy(() => reader.project(batch).arraySync());
    const W = params.get('f/W').arraySync() as number[][];
    const bias = params.get('f/b').arraySync() as number[];
    // Row t·B + b is step t of sequence b; check the first step of sequence 0 by hand.
    bias.forEach((bi, j) => expect(xp[0]![j]).toBeCloseTo(bi + 0.1 * W[0]![j]! - 0.2 * W[1]![j]! + 0.3 * W[2]![j]!, 5));
    const together = read(reader, batch);
    const alone = read(reader, featureBatch([b], 3));
    together.final[1]!.forEach((v, i) => expect(v).toBeCloseTo(alone.final[0]![i]!, 5));
    expect(together.outputs[1]![1]!.every((v) => v === 0)).toBe(true);
    expect(() => reader.project(tokenBatch([[1]]))).toThrow(/feature vectors/);
  });
});

describe('embedding dropout', () => {
  it('every occurrence of a word shares one draw; kept words are scaled by 1/keep', () => {
    const ids = Int32Array.from([5, 6, 5, 7, 6, 5, 0, 0]);
    const scales = embeddingDropoutScales(ids, 0.5, new Rng(3));
    const byId = new Map<number, Set<number>>();
    ids.forEach((id, i) => byId.set(id, (byId.get(id) ?? new Set()).add(scales[i]!)));
    for (const values of byId.values()) expect(values.size).toBe(1);
    scales.forEach((v) => expect([0, 2]).toContain(v));
    // Over many draws a word is kept about half the time.
    const rng = new Rng(4);
    let kept = 0;
    for (let i = 0; i < 2000; i++) kept += embeddingDropoutScales(Int32Array.from([9]), 0.5, rng)[0]! > 0 ? 1 : 0;
    expect(kept / 2000).toBeGreaterThan(0.45);
    expect(kept / 2000).toBeLessThan(0.55);
  });

  it('a dropped word reads a zero embedding in training; outside training nothing is dropped', () => {
    const params = new Params(new Rng(2));
    const reader = new SequenceReader(
      params,
      'r',
      { kind: 'tokens', vocabSize: 12, embeddingSize: 3 },
      4,
      DEFAULT_CELL,
      { embeddingKeep: 0.5 },
    );
    const batch = tokenBatch([[5, 6, 5, 7]]);
    const scales = embeddingDropoutScales(batch.ids!, 0.5, new Rng(11));
    expect(new Set(scales)).toEqual(new Set([0, 2])); // this seed drops some words and keeps others
    // The same draws by hand: the embedding of each step times its scale, read without dropout by a reader on those inputs.
    const table = params.get('r/embedding').arraySync() as number[][];
    const dropped = tf.tidy(() => reader.read(batch, undefined, new Rng(11)).outputs.arraySync());
    // A feature reader with the token reader's recurrent weights reads given embeddings.
    const featureParams = new Params(new Rng(5));
    const feature = new SequenceReader(featureParams, 'f', { kind: 'features', size: 3 }, 4, DEFAULT_CELL);
    for (const [name, v] of featureParams.entries()) tf.tidy(() => v.assign(params.get(name.replace(/^f\//, 'r/'))));
    const inputs = Float32Array.from([5, 6, 5, 7].flatMap((id, t) => table[id]!.map((x) => x * scales[t]!)));
    const byHand = tf.tidy(() => feature.read(featureBatch([inputs], 3)).outputs.arraySync());
    dropped.flat(2).forEach((v, i) => expect(v).toBeCloseTo(byHand.flat(2)[i]!, 5));
    const plain = tf.tidy(() => reader.read(batch).outputs.arraySync());
    const noDrop = tf.tidy(() =>
      feature.read(featureBatch([Float32Array.from([5, 6, 5, 7].flatMap((id) => table[id]!))], 3)).outputs.arraySync(),
    );
    plain.flat(2).forEach((v, i) => expect(v).toBeCloseTo(noDrop.flat(2)[i]!, 5));
    params.dispose();
    featureParams.dispose();
  });

  it('checks its options: 1 to MAX_LAYERS layers, keep probabilities in (0, 1]', () => {
    expect(() => checkReaderOptions({ ...DEFAULT_READER, layers: MAX_LAYERS })).not.toThrow();
    for (const layers of [0, 2.5, MAX_LAYERS + 1])
      expect(() => checkReaderOptions({ ...DEFAULT_READER, layers })).toThrow(
        `layers must be an integer from 1 to ${MAX_LAYERS}, got ${layers}`,
      );
    expect(() => checkReaderOptions({ ...DEFAULT_READER, embeddingKeep: 0 })).toThrow(/embeddingKeep/);
  });
});
