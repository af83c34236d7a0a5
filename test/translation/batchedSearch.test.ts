import { describe, it, expect, beforeAll } from 'vitest';
import { useTestBackend } from '../helpers/backend.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import {
  searchInBatches,
  outputLimit,
  sentencesPerBatch,
  checkBatchedSearchOptions,
  MAX_SEARCH_ROWS,
} from '../../src/translation/batchedSearch.js';
import { MAX_OUTPUT_LENGTH } from '../../src/search/decodable.js';
import type { Decodable } from '../../src/search/decodable.js';
import { Rng } from '../../src/random.js';
import { argMax } from '../../src/search/keptAttention.js';
import { SearchStoppedError } from '../../src/search/decodable.js';
import * as tf from '@tensorflow/tfjs-core';

beforeAll(useTestBackend);

describe('searchInBatches', () => {
  const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 }, 30, 20);
  const rng = new Rng(8);
  const sources = Array.from({ length: 11 }, (_, i) =>
    i === 4 ? [] : Array.from({ length: 1 + Math.floor(rng.next() * 9) }, () => 4 + Math.floor(rng.next() * 26)),
  );

  it('answers in input order, [] for an empty source, whatever the batch size', () => {
    const whole = searchInBatches(model, sources, { batchSize: 64 }, true, 'none', true);
    expect(whole[4]).toEqual([]);
    for (const batchSize of [1, 3, 7]) {
      const got = searchInBatches(model, sources, { batchSize }, true, 'none', true);
      expect(got.map((h) => h.map((x) => x.ids))).toEqual(whole.map((h) => h.map((x) => x.ids)));
      got.forEach((h, i) => h.forEach((x, j) => expect(x.logProb).toBeCloseTo(whole[i]![j]!.logProb, 4)));
    }
    // Each sentence's own limit: ratio × its tokens + margin.
    const short = searchInBatches(model, sources, { maxLengthRatio: 0, maxLengthMargin: 2 }, true, 'none', true);
    for (const h of short)
      for (const x of h)
        expect(x.ids.length).toBeLessThanOrEqual(outputLimit(0, { maxLengthRatio: 0, maxLengthMargin: 2 }));
  });

  it('unscored greedy gives the scored ids with NaN scores; beam search scores either way', () => {
    const scored = searchInBatches(model, sources, {}, true, 'none', true);
    const unscored = searchInBatches(model, sources, {}, true, 'none', false);
    expect(unscored.map((h) => h.map((x) => x.ids))).toEqual(scored.map((h) => h.map((x) => x.ids)));
    for (const h of unscored) for (const x of h) expect(x.score).toBeNaN();
    for (const h of scored) for (const x of h) expect(Number.isFinite(x.score)).toBe(true);
    const beam = searchInBatches(model, sources, { beamSize: 3, nBest: 2 }, true, 'none', false);
    expect(beam[0]).toHaveLength(2);
    for (const h of beam) for (const x of h) expect(Number.isFinite(x.score)).toBe(true);
  });

  it("keeps each hypothesis' alignment, and the weights over its own source tokens when asked", () => {
    const weights = searchInBatches(model, sources, { batchSize: 4, beamSize: 2 }, true, 'weights', false);
    const best = searchInBatches(model, sources, { batchSize: 4, beamSize: 2 }, true, 'alignment', false);
    sources.forEach((s, i) => {
      weights[i]!.forEach((x, j) => {
        expect(x.attention).toHaveLength(x.ids.length + 1);
        for (const row of x.attention!) expect(row).toHaveLength(s.length);
        expect(x.alignment).toEqual(x.attention!.map((row) => argMax(row)));
        expect(best[i]![j]!.alignment).toEqual(x.alignment);
        expect(best[i]![j]!.attention).toBeUndefined();
      });
    });
    for (const h of searchInBatches(model, sources, {}, true, 'none', true))
      for (const x of h) expect(x.alignment ?? x.attention).toBeUndefined();
  });

  it('stops before a step when shouldStop says so, and leaks no tensors', () => {
    // The first search keeps projected embedding tables with the weights (Params.derived): count after it.
    const plain = searchInBatches(model, sources, { beamSize: 3 }, true, 'none', true);
    const before = tf.memory().numTensors;
    let steps = 0;
    const shouldStop = () => ++steps > 3;
    for (const beamSize of [1, 3])
      for (const attention of ['none', 'alignment'] as const) {
        steps = 0;
        expect(() =>
          searchInBatches(model, sources, { beamSize, shouldStop }, true, attention, attention === 'none'),
        ).toThrow(SearchStoppedError);
        expect(steps).toBe(4);
      }
    expect(tf.memory().numTensors).toBe(before);
    // Never stopping changes nothing.
    const asked = searchInBatches(model, sources, { beamSize: 3, shouldStop: () => false }, true, 'none', true);
    expect(asked.map((h) => h.map((x) => x.ids))).toEqual(plain.map((h) => h.map((x) => x.ids)));
  });

  it('takes fewer sentences a batch where a wide beam would pass MAX_SEARCH_ROWS rows, with the same results', () => {
    expect(sentencesPerBatch(64, 5)).toBe(64);
    expect(sentencesPerBatch(64, 16)).toBe(64);
    expect(sentencesPerBatch(64, 200)).toBe(Math.floor(MAX_SEARCH_ROWS / 200));
    expect(sentencesPerBatch(64, MAX_SEARCH_ROWS)).toBe(1);
    expect(sentencesPerBatch(64, 5000)).toBe(1);
    // A batch size past the row budget is the user's: greedy keeps it, a beam divides it.
    expect(sentencesPerBatch(4096, 1)).toBe(4096);
    expect(sentencesPerBatch(4096, 8)).toBe(512);
    for (let i = 0; i < 200; i++) {
      const batchSize = 1 + Math.floor(rng.next() * 3000);
      const beam = 1 + Math.floor(rng.next() * 2000);
      const n = sentencesPerBatch(batchSize, beam);
      expect(n).toBeGreaterThanOrEqual(1);
      expect(n).toBeLessThanOrEqual(batchSize);
      if (n > 1) expect(n * beam).toBeLessThanOrEqual(Math.max(batchSize, MAX_SEARCH_ROWS));
    }
    // What the model is asked to encode: batches of at most ⌊1024 / 300⌋ = 3 sentences at beam 300.
    const sizes: number[] = [];
    const counting = Object.create(model) as Decodable<unknown, unknown>;
    counting.encode = (batch) => {
      sizes.push(batch.size);
      return model.encode(batch);
    };
    const some = sources.slice(0, 5); // 4 sentences and the empty one
    const wide = searchInBatches(counting, some, { beamSize: 300, maxLengthMargin: 3 }, true, 'none', true);
    expect(sizes).toEqual([3, 1]);
    const narrow = searchInBatches(
      model,
      some,
      { beamSize: 300, batchSize: 1, maxLengthMargin: 3 },
      true,
      'none',
      true,
    );
    expect(wide.map((h) => h.map((x) => x.ids))).toEqual(narrow.map((h) => h.map((x) => x.ids)));
  });
});

describe('checkBatchedSearchOptions', () => {
  it('takes the defaults and values in range', () => {
    expect(() => checkBatchedSearchOptions({})).not.toThrow();
    const ok = { batchSize: 1, beamSize: 1024, nBest: 1024, maxLengthRatio: 0, maxLengthMargin: 0, lengthPenalty: 0 };
    expect(() => checkBatchedSearchOptions(ok)).not.toThrow();
    expect(() => checkBatchedSearchOptions({ maxLengthRatio: 1.5, lengthPenalty: 0.6 })).not.toThrow();
  });

  it('names the first option out of range: NaN, ∞, fractions and negatives a library caller might pass', () => {
    const cases: [Record<string, number>, RegExp][] = [
      [{ batchSize: 0 }, /^batchSize must be a whole number ≥ 1, got 0$/],
      [{ batchSize: NaN }, /^batchSize .* got NaN$/],
      [{ beamSize: 0 }, /^beamSize must be a whole number from 1 to 1024, got 0$/],
      [{ beamSize: 1025 }, /^beamSize/],
      [{ nBest: 2 }, /^nBest must be a whole number from 1 to 1, got 2$/],
      [{ beamSize: 4, nBest: 5 }, /^nBest must be a whole number from 1 to 4, got 5$/],
      [{ maxLengthMargin: -1 }, /^maxLengthMargin must be a whole number ≥ 0, got -1$/],
      [{ maxLengthMargin: Infinity }, /^maxLengthMargin/],
      [{ maxLengthMargin: 2.5 }, /^maxLengthMargin/],
      [{ maxLengthRatio: NaN }, /^maxLengthRatio must be a finite number ≥ 0, got NaN$/],
      [{ maxLengthRatio: -0.5 }, /^maxLengthRatio/],
      [{ lengthPenalty: -1 }, /^lengthPenalty must be a finite number ≥ 0, got -1$/],
      [{ lengthPenalty: Infinity }, /^lengthPenalty/],
    ];
    for (const [options, message] of cases) expect(() => checkBatchedSearchOptions(options)).toThrow(message);
  });

  it('is checked before any search: a NaN batch size or ratio no longer returns empty translations', () => {
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 8, embeddingSize: 4 }, 12, 12);
    const sources = [[4, 5, 6], [7]];
    for (const options of [{ batchSize: NaN }, { maxLengthRatio: NaN }, { maxLengthMargin: Infinity }])
      expect(() => searchInBatches(model, sources, options, true, 'none', true)).toThrow(RangeError);
    model.dispose();
  });

  it("caps a huge ratio's limit at the most a search can take, instead of failing on it", () => {
    expect(outputLimit(7, { maxLengthRatio: 1e12 })).toBe(MAX_OUTPUT_LENGTH);
    expect(outputLimit(7, { maxLengthRatio: 3, maxLengthMargin: 4 })).toBe(25);
  });
});
