import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { sampleDecode } from '../../src/search/sample.js';
import { greedyDecode } from '../../src/search/greedy.js';
import { search } from '../../src/search/search.js';
import { SearchStoppedError, type Decodable } from '../../src/search/decodable.js';
import { makeSourceBatch, type SourceBatch } from '../../src/data/text/batch.js';
import { EOS } from '../../src/data/text/vocabulary.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';

beforeAll(useTestBackend);

const V = 8;
// High entropy, the same at every step: tokens 4–7 and EOS; PAD, GO and UNK have probability 0.
const PROBS: Record<number, number> = { 4: 0.1, 5: 0.2, 6: 0.3, 7: 0.25, [EOS]: 0.15 };

/** A hand-built model whose next-token distribution never changes; memory and state are just row counts. */
class FixedModel implements Decodable<number, number> {
  encode(batch: SourceBatch): number {
    return batch.size;
  }
  selectMemory(_rows: number, indices: Int32Array): number {
    return indices.length;
  }
  initialState(rows: number): number {
    return rows;
  }
  step(rows: number): { logProbs: tf.Tensor2D; state: number } {
    const logProbs = new Float32Array(rows * V).fill(-Infinity);
    for (let i = 0; i < rows; i++)
      for (const [t, p] of Object.entries(PROBS)) logProbs[i * V + Number(t)] = Math.log(p);
    return { logProbs: tf.tensor2d(logProbs, [rows, V]), state: rows };
  }
  selectState(_rows: number, indices: Int32Array): number {
    return indices.length;
  }
  disposeState(): void {}
  disposeMemory(): void {}
}

const sentences = (n: number): SourceBatch => makeSourceBatch(Array.from({ length: n }, () => [4]));
const ids = (hs: { ids: number[] }[]): number[][] => hs.map((h) => h.ids);

describe('sampleDecode', () => {
  it('gives the same samples for the same seed and different ones for different seeds', () => {
    const model = new FixedModel();
    const a = ids(sampleDecode(model, sentences(20), { maxLength: 10, seed: 7 }));
    expect(ids(sampleDecode(model, sentences(20), { maxLength: 10, seed: 7 }))).toEqual(a);
    expect(ids(sampleDecode(model, sentences(20), { maxLength: 10, seed: 8 }))).not.toEqual(a);
    // Not one sequence repeated: the 20 sentences draw different samples.
    expect(new Set(a.map((s) => s.join(' '))).size).toBeGreaterThan(10);
  });

  it('gives each sentence its own stream: its sample depends on its place in the run, not on the batch it is in', () => {
    const model = new FixedModel();
    const whole = ids(sampleDecode(model, sentences(20), { maxLength: 10, seed: 7 }));
    // The run split into batches of 3 (firstSentence: where each starts) samples as the whole batch did.
    const split: number[][] = [];
    for (let i = 0; i < 20; i += 3)
      split.push(
        ...ids(sampleDecode(model, sentences(Math.min(3, 20 - i)), { maxLength: 10, seed: 7, firstSentence: i })),
      );
    expect(split).toEqual(whole);
    // A sentence alone at its index draws what it drew beside 19 others.
    expect(ids(sampleDecode(model, sentences(1), { maxLength: 10, seed: 7, firstSentence: 13 }))).toEqual([whole[13]]);
    // Streams given one by one (sentences of several runs in one batch) draw what they draw at those places.
    expect(ids(sampleDecode(model, sentences(3), { maxLength: 10, seed: 7, streams: [13, 2, 13] }))).toEqual([
      whole[13],
      whole[2],
      whole[13],
    ]);
    expect(() => sampleDecode(model, sentences(3), { maxLength: 10, streams: [1, 2] })).toThrow(RangeError);
    expect(() => sampleDecode(model, sentences(1), { maxLength: 10, streams: [-1] })).toThrow(RangeError);
    for (const bad of [{ seed: -1 }, { seed: 1.5 }, { firstSentence: -1 }, { firstSentence: 2 ** 32 - 5 }])
      expect(() => sampleDecode(model, sentences(20), { maxLength: 10, ...bad })).toThrow(RangeError);
  });

  it('reports the model’s log-probability of the sample, EOS included', () => {
    for (const h of sampleDecode(new FixedModel(), sentences(20), { maxLength: 10, seed: 3, temperature: 2 })) {
      const expected = h.ids.reduce((sum, t) => sum + Math.log(PROBS[t]!), Math.log(PROBS[EOS]!));
      expect(h.logProb).toBeCloseTo(expected, 5);
      expect(h.score).toBe(h.logProb);
    }
  });

  it('draws the first token with the model’s probabilities (2,000 samples, within 0.035 ≈ 3σ)', () => {
    // σ of a frequency over n = 2,000 draws is at most √(0.25 / 2000) = 0.0112.
    const n = 2000;
    const count = (options: { temperature?: number; topK?: number }): Record<number, number> => {
      const freq: Record<number, number> = {};
      for (const h of sampleDecode(new FixedModel(), sentences(n), { maxLength: 1, seed: 11, ...options })) {
        const first = h.ids[0] ?? EOS;
        freq[first] = (freq[first] ?? 0) + 1 / n;
      }
      return freq;
    };
    const plain = count({});
    for (const [t, p] of Object.entries(PROBS)) expect(Math.abs((plain[Number(t)] ?? 0) - p)).toBeLessThan(0.035);
    // topK = 2 keeps tokens 6 (0.3) and 7 (0.25), renormalised: 0.545 and 0.455.
    const top2 = count({ topK: 2 });
    expect(Object.keys(top2).map(Number).sort()).toEqual([6, 7]);
    expect(Math.abs(top2[6]! - 0.3 / 0.55)).toBeLessThan(0.035);
    // Temperature 0.5 squares the probabilities: p² / Σp² with Σp² = 0.01 + 0.04 + 0.09 + 0.0625 + 0.0225 = 0.225.
    const sharp = count({ temperature: 0.5 });
    for (const [t, p] of Object.entries(PROBS))
      expect(Math.abs((sharp[Number(t)] ?? 0) - (p * p) / 0.225)).toBeLessThan(0.035);
  });

  describe('on a real Seq2Seq', () => {
    const sources = [[4, 5, 6], [7, 8, 9, 10, 11, 12], [13], [4, 19, 18, 17]];

    it('equals greedy decoding at temperature 1e-6, at temperature 0 and with topK = 1', () => {
      for (const seed of [3, 4, 5]) {
        const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed }, 20, 15);
        const batch = makeSourceBatch(sources);
        const greedy = greedyDecode(model, batch, { maxLength: 8 });
        expect(ids(sampleDecode(model, batch, { maxLength: 8, temperature: 1e-6, seed }))).toEqual(greedy);
        expect(ids(sampleDecode(model, batch, { maxLength: 8, temperature: 0 }))).toEqual(greedy);
        expect(ids(sampleDecode(model, batch, { maxLength: 8, topK: 1, seed }))).toEqual(greedy);
        // Greedy through search() carries the same log-prob as the zero-temperature sample.
        const viaSearch = search(model, batch, { method: 'greedy', maxLength: 8 });
        const zero = sampleDecode(model, batch, { maxLength: 8, temperature: 0 });
        viaSearch.forEach((list, b) => expect(list[0]!.logProb).toBeCloseTo(zero[b]!.logProb, 4));
        model.dispose();
      }
    });

    it('leaks no tensors', () => {
      const start = tf.memory().numTensors;
      const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 }, 20, 15);
      const batch = makeSourceBatch(sources);
      // The first decode projects the embedding tables and keeps them with the weights (Params.derived).
      sampleDecode(model, batch, { maxLength: 1, seed: 1 });
      const before = tf.memory().numTensors;
      sampleDecode(model, batch, { maxLength: 8, seed: 1, topK: 5 });
      search(model, batch, { method: 'sample', maxLength: 8, seed: 2 });
      expect(tf.memory().numTensors).toBe(before);
      // Stopped before its third step: an error, and nothing left behind.
      let asked = 0;
      expect(() => sampleDecode(model, batch, { maxLength: 8, seed: 1, shouldStop: () => ++asked > 2 })).toThrow(
        SearchStoppedError,
      );
      expect(asked).toBe(3);
      expect(tf.memory().numTensors).toBe(before);
      model.dispose();
      expect(tf.memory().numTensors).toBe(start);
    });
  });

  it('rejects impossible options', () => {
    const model = new FixedModel();
    expect(() => sampleDecode(model, sentences(1), { maxLength: 5, temperature: -1 })).toThrow(RangeError);
    expect(() => sampleDecode(model, sentences(1), { maxLength: 5, topK: 1.5 })).toThrow(RangeError);
  });
});
