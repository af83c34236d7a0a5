import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { greedyDecode, greedySearch } from '../../src/search/greedy.js';
import { beamSearch } from '../../src/search/beam.js';
import { makeSourceBatch } from '../../src/data/text/batch.js';
import { argMax } from '../../src/search/keptAttention.js';
import { keepAll } from '../helpers/attention.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

function randomSources(rng: Rng, n: number, vocab: number): number[][] {
  return Array.from({ length: n }, () =>
    Array.from({ length: 1 + Math.floor(rng.next() * 9) }, () => 4 + Math.floor(rng.next() * (vocab - 4))),
  );
}

describe('greedySearch (the fast path of translate, eval and validation)', () => {
  for (const attention of ['dot', 'bahdanau', 'none'] as const) {
    it(`gives one-beam search's ids and log-probs (${attention} attention, random models and sentences)`, () => {
      for (const seed of [1, 2, 3]) {
        const model = new Seq2Seq(
          { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, attention, seed },
          20,
          12,
        );
        const sources = randomSources(new Rng(seed), 7, 20);
        const batch = makeSourceBatch(sources, { reverseSource: true });
        // Short limits for some sentences: their hypotheses end with a forced EOS, which both must count.
        const maxLength = sources.map((s, i) => (i % 3 === 0 ? 1 : 2 * s.length + 3));
        greedySearch(model, batch, { maxLength }); // builds the decoder's cached tables (Params.derived)
        const before = tf.memory().numTensors;
        const fast = greedySearch(model, batch, { maxLength });
        expect(tf.memory().numTensors).toBe(before);
        const beam = beamSearch(model, batch, { beamSize: 1, lengthPenalty: 0, maxLength });
        expect(fast.map((h) => h[0]!.ids)).toEqual(beam.map((h) => h[0]!.ids));
        expect(fast.map((h) => h[0]!.ids)).toEqual(greedyDecode(model, batch, { maxLength }));
        fast.forEach((h, b) => {
          expect(h[0]!.logProb).toBeCloseTo(beam[b]![0]!.logProb, 4);
          expect(h[0]!.score).toBe(h[0]!.logProb);
        });
        model.dispose();
      }
    });
  }
});

describe('greedySearch over a batch', () => {
  it('gives each sentence what it gets alone, finished sentences dropped on the way (random models)', () => {
    for (const seed of [4, 5]) {
      const model = new Seq2Seq(
        { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, attention: 'bahdanau', seed },
        20,
        12,
      );
      const sources = randomSources(new Rng(seed), 12, 20);
      // Limits from 0 to 11 tokens: sentences end (and leave the batch) at different steps.
      const maxLength = sources.map((_, i) => i);
      const batch = makeSourceBatch(sources, { reverseSource: true });
      const together = greedySearch(model, batch, { maxLength, attention: keepAll(batch, true) });
      const alignments = greedySearch(model, batch, { maxLength, attention: keepAll(batch, false) });
      sources.forEach((s, b) => {
        const single = makeSourceBatch([s], { reverseSource: true });
        const [alone] = greedySearch(model, single, { maxLength: maxLength[b]!, attention: keepAll(single, true) });
        const [h, a] = [together[b]![0]!, alone![0]!];
        expect(h.ids).toEqual(a.ids);
        expect(h.logProb).toBeCloseTo(a.logProb, 4);
        // Attention: a row per output token and EOS over the sentence's own tokens (all its weight: padding has
        // none), equal alone; the alignment is each row's first largest weight, kept alone when no weights are.
        expect(h.attention).toHaveLength(h.ids.length + 1);
        h.attention!.forEach((row, t) => {
          expect(row).toHaveLength(s.length);
          expect(row.reduce((sum, w) => sum + w, 0)).toBeCloseTo(1, 5);
          row.forEach((w, j) => expect(w).toBeCloseTo(a.attention![t]![j]!, 5));
        });
        expect(h.alignment).toEqual(h.attention!.map((row) => argMax(row)));
        expect(h.alignment).toEqual(a.alignment);
        expect(alignments[b]![0]!.alignment).toEqual(h.alignment);
        expect(alignments[b]![0]!.attention).toBeUndefined();
      });
      expect(
        greedySearch(model, batch, { maxLength }).every(
          ([h]) => h!.attention === undefined && h!.alignment === undefined,
        ),
      ).toBe(true);
      model.dispose();
    }
  });
});

describe('minLength', () => {
  it('keeps EOS out of the first tokens in greedy and beam search alike, log-probs normalised over all tokens', () => {
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 9 }, 20, 12);
    // Make EOS the most likely token everywhere: without minLength every output would be empty.
    const [, bias] = model.params.entries().find(([name]) => name.endsWith('output/b'))!;
    const b = new Float32Array(12);
    b[2] = 6;
    bias.assign(tf.tensor1d(b));
    const batch = makeSourceBatch(randomSources(new Rng(4), 5, 20), { reverseSource: true });
    expect(greedySearch(model, batch, { maxLength: 10 }).every((h) => h[0]!.ids.length === 0)).toBe(true);
    const fast = greedySearch(model, batch, { maxLength: 10, minLength: 1 });
    const beam = beamSearch(model, batch, { beamSize: 1, lengthPenalty: 0, maxLength: 10, minLength: 1 });
    expect(fast.every((h) => h[0]!.ids.length === 1)).toBe(true);
    expect(fast.map((h) => h[0]!.ids)).toEqual(beam.map((h) => h[0]!.ids));
    fast.forEach((h, i) => expect(h[0]!.logProb).toBeCloseTo(beam[i]![0]!.logProb, 4));
    expect(
      beamSearch(model, batch, { beamSize: 4, nBest: 4, maxLength: 10, minLength: 2 }).every((l) =>
        l.every((h) => h.ids.length >= 2),
      ),
    ).toBe(true);
    model.dispose();
  });
});
