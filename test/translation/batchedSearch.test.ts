import { describe, it, expect, beforeAll } from 'vitest';
import { useTestBackend } from '../helpers/backend.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { searchInBatches, outputLimit } from '../../src/translation/batchedSearch.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

describe('searchInBatches', () => {
  const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 }, 30, 20);
  const rng = new Rng(8);
  const sources = Array.from({ length: 11 }, (_, i) =>
    i === 4 ? [] : Array.from({ length: 1 + Math.floor(rng.next() * 9) }, () => 4 + Math.floor(rng.next() * 26)),
  );

  it('answers in input order, [] for an empty source, whatever the batch size', () => {
    const whole = searchInBatches(model, sources, { batchSize: 64 }, true, false, true).hyps;
    expect(whole[4]).toEqual([]);
    for (const batchSize of [1, 3, 7]) {
      const got = searchInBatches(model, sources, { batchSize }, true, false, true).hyps;
      expect(got.map((h) => h.map((x) => x.ids))).toEqual(whole.map((h) => h.map((x) => x.ids)));
      got.forEach((h, i) => h.forEach((x, j) => expect(x.logProb).toBeCloseTo(whole[i]![j]!.logProb, 4)));
    }
    // Each sentence's own limit: ratio × its tokens + margin.
    const short = searchInBatches(model, sources, { maxLengthRatio: 0, maxLengthMargin: 2 }, true, false, true).hyps;
    for (const h of short)
      for (const x of h)
        expect(x.ids.length).toBeLessThanOrEqual(outputLimit(0, { maxLengthRatio: 0, maxLengthMargin: 2 }));
  });

  it('unscored greedy gives the scored ids with NaN scores; beam search scores either way', () => {
    const scored = searchInBatches(model, sources, {}, true, false, true).hyps;
    const unscored = searchInBatches(model, sources, {}, true, false, false).hyps;
    expect(unscored.map((h) => h.map((x) => x.ids))).toEqual(scored.map((h) => h.map((x) => x.ids)));
    for (const h of unscored) for (const x of h) expect(x.score).toBeNaN();
    for (const h of scored) for (const x of h) expect(Number.isFinite(x.score)).toBe(true);
    const beam = searchInBatches(model, sources, { beamSize: 3, nBest: 2 }, true, false, false).hyps;
    expect(beam[0]).toHaveLength(2);
    for (const h of beam) for (const x of h) expect(Number.isFinite(x.score)).toBe(true);
  });

  it('gives attention rows and source columns when asked', () => {
    const { hyps, columns } = searchInBatches(model, sources, { batchSize: 4 }, true, true, false);
    sources.forEach((s, i) => {
      expect(columns[i]).toHaveLength(s.length);
      for (const x of hyps[i]!) expect(x.attention).toHaveLength(x.ids.length + 1);
    });
  });
});
