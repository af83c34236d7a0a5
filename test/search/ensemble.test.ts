import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Ensemble } from '../../src/search/ensemble.js';
import { beamSearch } from '../../src/search/beam.js';
import { makeSourceBatch } from '../../src/data/text/batch.js';
import { GO, EOS } from '../../src/data/text/vocabulary.js';
import { search } from '../../src/search/search.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';

beforeAll(useTestBackend);

const make = (seed: number) =>
  new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed }, 20, 12);
const batch = makeSourceBatch([[5, 6, 7], [8], [9, 10, 11, 12, 13]], { reverseSource: true });

describe('Ensemble', () => {
  it("steps with the mean of its members' log-probabilities", () => {
    const a = make(1),
      b = make(2);
    const e = new Ensemble([a, b]);
    beamSearch(e, batch, { beamSize: 1, maxLength: 2 }); // builds the members' cached decoder tables
    const before = tf.memory().numTensors;
    const memory = e.encode(batch);
    const state = e.initialState(memory);
    const previous = new Int32Array(3).fill(GO);
    const { logProbs, state: next } = e.step(memory, state, previous, { scores: 'logits' });
    const got = logProbs.dataSync();
    logProbs.dispose();
    e.disposeState(next);
    e.disposeState(state);
    e.disposeMemory(memory);
    expect(tf.memory().numTensors).toBe(before);
    const one = (m: Seq2Seq) => {
      const mem = m.encode(batch);
      const s = m.initialState(mem);
      const out = m.step(mem, s, previous, { scores: 'logProbs' });
      const values = out.logProbs.dataSync().slice();
      out.logProbs.dispose();
      m.disposeState(out.state);
      m.disposeState(s);
      m.disposeMemory(mem);
      return values;
    };
    const [pa, pb] = [one(a), one(b)];
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo((pa[i]! + pb[i]!) / 2, 5);
    a.dispose();
    b.dispose();
  });

  it('scores hypotheses by the sum of its averaged log-probabilities, not renormalised, greedy and beam alike', () => {
    const a = make(4),
      b = make(5);
    const e = new Ensemble([a, b]);
    // The members' mean log-prob of each output token and the final EOS, teacher-forced on the search's output.
    const forced = (source: number[], ids: number[]): number => {
      let sum = 0;
      for (const m of [a, b]) {
        const one = makeSourceBatch([source], { reverseSource: true });
        const mem = m.encode(one);
        let s = m.initialState(mem);
        [GO, ...ids].forEach((prev, t) => {
          const out = m.step(mem, s, Int32Array.of(prev), { scores: 'logProbs' });
          sum += out.logProbs.dataSync()[t < ids.length ? ids[t]! : EOS]! / 2;
          out.logProbs.dispose();
          m.disposeState(s);
          s = out.state;
        });
        m.disposeState(s);
        m.disposeMemory(mem);
      }
      return sum;
    };
    const sources = [[5, 6, 7], [8], [9, 10, 11, 12, 13]];
    const greedy = search(e, batch, { method: 'greedy', maxLength: 6 });
    const beam = beamSearch(e, batch, { beamSize: 3, nBest: 2, maxLength: 6, lengthPenalty: 0 });
    sources.forEach((source, i) => {
      for (const h of [...greedy[i]!, ...beam[i]!]) expect(h.logProb).toBeCloseTo(forced(source, h.ids), 4);
    });
    a.dispose();
    b.dispose();
  });

  it('of copies of one model searches as that model does', () => {
    const a = make(3);
    const alone = beamSearch(a, batch, { beamSize: 3, nBest: 2, maxLength: 8 });
    const twice = beamSearch(new Ensemble([a, a]), batch, { beamSize: 3, nBest: 2, maxLength: 8 });
    expect(twice.map((l) => l.map((h) => h.ids))).toEqual(alone.map((l) => l.map((h) => h.ids)));
    twice.forEach((l, b) => l.forEach((h, k) => expect(h.logProb).toBeCloseTo(alone[b]![k]!.logProb, 4)));
    a.dispose();
  });
});
