// search(): one entry for greedy, beam and sampling, each giving an n-best list per sentence. Checked on a
// hand-built bigram model whose distributions are known, against exhaustive enumeration of every output.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { search, type SearchOptions } from '../../src/search/search.js';
import { greedySearch } from '../../src/search/greedy.js';
import { beamSearch } from '../../src/search/beam.js';
import { sampleDecode } from '../../src/search/sample.js';
import type { Decodable, Hypothesis } from '../../src/search/decodable.js';
import { makeSourceBatch, type SourceBatch } from '../../src/data/text/batch.js';
import { PAD, GO, EOS } from '../../src/data/text/vocabulary.js';

beforeAll(useTestBackend);

// Tokens 0 <pad>, 1 <go>, 2 <eos>, 3 <unk>, 4 a, 5 b, 6 c. The next token depends on the previous one and on the
// sentence: logits = BIGRAM[previous] + SHIFT · (source length), so sentences of different lengths differ.
const V = 7;
const BIGRAM = [
  [-30, -30, 0, 0, 0, 0, 0],
  [-30, -30, -1.5, -3, 0.4, 0.1, 0.2],
  [-30, -30, 0, 0, 0, 0, 0],
  [-30, -30, 0.3, -2, 0.1, 0.5, -1],
  [-30, -30, -0.4, -2.5, -0.6, 1.1, 0.3],
  [-30, -30, 0.9, -2, 0.8, -0.5, 0.2],
  [-30, -30, 0.2, -1, 0.6, 0.1, -0.2],
];
const SHIFT = [0, 0, 0.3, 0, 0.1, -0.2, 0.15];

function logSoftmax(row: readonly number[]): number[] {
  const m = Math.max(...row);
  const z = Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0)) + m;
  return row.map((x) => x - z);
}
/** log p(next | previous) for a sentence of source length n. */
const logProbs = (n: number, previous: number): number[] =>
  logSoftmax(BIGRAM[previous]!.map((x, v) => x + SHIFT[v]! * n));

/** Memory: source lengths [rows, 1]. State: the previous tokens are all the model needs, so it is a dummy [rows, 1]. */
class BigramModel implements Decodable<tf.Tensor2D, tf.Tensor2D> {
  live = 0;
  encode(batch: SourceBatch): tf.Tensor2D {
    this.live++;
    return tf.tensor2d(Array.from(batch.sourceLengths), [batch.size, 1]);
  }
  selectMemory(memory: tf.Tensor2D, rows: Int32Array): tf.Tensor2D {
    this.live++;
    return tf.tidy(() => tf.gather(memory, tf.tensor1d(rows, 'int32')));
  }
  initialState(memory: tf.Tensor2D): tf.Tensor2D {
    this.live++;
    return tf.zeros<tf.Rank.R2>([memory.shape[0], 1]);
  }
  step(memory: tf.Tensor2D, state: tf.Tensor2D, previous: Int32Array) {
    this.live++;
    const lengths = memory.dataSync();
    const rows = Array.from(previous, (p, i) => logProbs(lengths[i]!, p));
    return { logProbs: tf.tensor2d(rows, [previous.length, V]), state: tf.clone(state) };
  }
  selectState(state: tf.Tensor2D, indices: Int32Array): tf.Tensor2D {
    this.live++;
    return tf.tidy(() => tf.gather(state, tf.tensor1d(indices, 'int32')));
  }
  disposeState(state: tf.Tensor2D): void {
    this.live--;
    state.dispose();
  }
  disposeMemory(memory: tf.Tensor2D): void {
    this.live--;
    memory.dispose();
  }
}

const lengthNormaliser = (len: number, alpha: number): number => ((5 + len) / 6) ** alpha;

/** Every output of at most maxLength tokens (EOS forced at maxLength), with its log-prob and score, best first. */
function enumerate(n: number, maxLength: number, alpha: number): Hypothesis[] {
  const out: Hypothesis[] = [];
  const grow = (ids: number[], lp: number): void => {
    const previous = ids.length === 0 ? GO : ids[ids.length - 1]!;
    const row = logProbs(n, previous);
    const end = lp + row[EOS]!;
    out.push({ ids, logProb: end, score: end / lengthNormaliser(ids.length + 1, alpha) });
    if (ids.length === maxLength) return;
    for (let v = 0; v < V; v++) if (v !== PAD && v !== GO && v !== EOS) grow([...ids, v], lp + row[v]!);
  };
  grow([], 0);
  return out.sort((a, b) => b.score - a.score);
}

/** Greedy: the most probable token (not PAD or GO) each step, EOS forced at maxLength. */
function referenceGreedy(n: number, maxLength: number): Hypothesis {
  const ids: number[] = [];
  let lp = 0;
  for (;;) {
    const row = logProbs(n, ids.length === 0 ? GO : ids[ids.length - 1]!);
    if (ids.length === maxLength) return { ids, logProb: lp + row[EOS]!, score: lp + row[EOS]! };
    let best = EOS;
    for (let v = 3; v < V; v++) if (row[v]! > row[best]!) best = v;
    lp += row[best]!;
    if (best === EOS) return { ids, logProb: lp, score: lp };
    ids.push(best);
  }
}

function expectHypotheses(got: Hypothesis[], want: Hypothesis[]): void {
  expect(got.map((h) => h.ids)).toEqual(want.map((h) => h.ids));
  got.forEach((h, i) => {
    expect(h.logProb).toBeCloseTo(want[i]!.logProb, 5);
    expect(h.score).toBeCloseTo(want[i]!.score, 5);
  });
}

// Source lengths 1, 4 and 7 (the source ids themselves do not matter to the model).
const sources = [[4], [5, 5, 5, 5], [6, 6, 6, 6, 6, 6, 6]];
const batch = makeSourceBatch(sources);
const lengths = sources.map((s) => s.length);

describe('search', () => {
  it('greedy: one hypothesis per sentence, the argmax path, its score the log-prob; the same as greedySearch', () => {
    const model = new BigramModel();
    const before = tf.memory().numTensors;
    const got = search(model, batch, { method: 'greedy', maxLength: 6 });
    expect(tf.memory().numTensors).toBe(before);
    expect(model.live).toBe(0);
    expect(got).toHaveLength(3);
    got.forEach((list, b) => {
      expect(list).toHaveLength(1);
      expectHypotheses(list, [referenceGreedy(lengths[b]!, 6)]);
    });
    expect(got).toEqual(greedySearch(model, batch, { maxLength: 6 }));
    // The paths are not all trivial: the three sentences' greedy outputs differ (a b, a c and c).
    expect(got.map((l) => l[0]!.ids)).toEqual([[4, 5], [4, 6], [6]]);
    // Per-sentence limits, a forced EOS at 0 and 2 tokens.
    const limited = search(model, batch, { method: 'greedy', maxLength: [0, 2, 6] });
    limited.forEach((list, b) => expectHypotheses(list, [referenceGreedy(lengths[b]!, [0, 2, 6][b]!)]));
  });

  for (const alpha of [0, 0.6, 1.5]) {
    it(`beam: a beam wide enough to keep every output gives the exhaustive n-best (length penalty ${alpha})`, () => {
      const model = new BigramModel();
      const before = tf.memory().numTensors;
      // 4 tokens can continue (<unk>, a, b, c), at most 3 times: 1 + 4 + 16 + 64 = 85 outputs.
      const got = search(model, batch, { method: 'beam', beamSize: 85, nBest: 5, maxLength: 3, lengthPenalty: alpha });
      expect(tf.memory().numTensors).toBe(before);
      expect(model.live).toBe(0);
      got.forEach((list, b) => expectHypotheses(list, enumerate(lengths[b]!, 3, alpha).slice(0, 5)));
      expect(got).toEqual(beamSearch(model, batch, { beamSize: 85, nBest: 5, maxLength: 3, lengthPenalty: alpha }));
    });
  }

  it('beam: one beam is greedy search', () => {
    const model = new BigramModel();
    const got = search(model, batch, { method: 'beam', beamSize: 1, maxLength: 6, lengthPenalty: 0 });
    got.forEach((list, b) => expectHypotheses(list, [referenceGreedy(lengths[b]!, 6)]));
  });

  it("sample: each sentence's one sample wrapped in a list, the same as sampleDecode with the same seed", () => {
    const model = new BigramModel();
    const before = tf.memory().numTensors;
    const got = search(model, batch, { method: 'sample', maxLength: 5, seed: 3 });
    expect(tf.memory().numTensors).toBe(before);
    expect(model.live).toBe(0);
    expect(got.map((l) => l.length)).toEqual([1, 1, 1]);
    expect(got.map((l) => l[0])).toEqual(sampleDecode(model, batch, { maxLength: 5, seed: 3 }));
    // Its log-prob is the model's, EOS included.
    got.forEach(([h], b) => {
      let lp = 0;
      let previous = GO;
      for (const id of h!.ids) {
        lp += logProbs(lengths[b]!, previous)[id]!;
        previous = id;
      }
      lp += logProbs(lengths[b]!, previous)[EOS]!;
      expect(h!.logProb).toBeCloseTo(lp, 5);
      expect(h!.score).toBe(h!.logProb);
    });
    // Temperature 0 samples the argmax: greedy's outputs.
    const cold = search(model, batch, { method: 'sample', maxLength: 6, temperature: 0 });
    cold.forEach((list, b) => expectHypotheses(list, [referenceGreedy(lengths[b]!, 6)]));
  });

  it("sample: first tokens drawn with the model's probabilities (PAD and GO excluded)", () => {
    const model = new BigramModel();
    const n = 3000;
    const many = makeSourceBatch(Array.from({ length: n }, () => [4, 4]));
    const got = search(model, many, { method: 'sample', maxLength: 1, seed: 8 });
    const counts = new Array<number>(V).fill(0);
    for (const [h] of got) counts[h!.ids[0] ?? EOS]!++;
    const p = logProbs(2, GO).map(Math.exp);
    const total = p.slice(2).reduce((a, b) => a + b, 0);
    for (let v = 2; v < V; v++) {
      const expected = (n * p[v]!) / total;
      // Within 4.5 standard deviations of the binomial count.
      expect(Math.abs(counts[v]! - expected)).toBeLessThan(4.5 * Math.sqrt(expected) + 1);
    }
    expect(counts[PAD]).toBe(0);
    expect(counts[GO]).toBe(0);
  });

  it('every method gives the same list shape, one entry per sentence, even for an empty batch', () => {
    const model = new BigramModel();
    const empty = makeSourceBatch([]);
    for (const options of [
      { method: 'greedy', maxLength: 3 },
      { method: 'beam', maxLength: 3, beamSize: 2 },
      { method: 'sample', maxLength: 3 },
    ] as const) {
      expect(search(model, empty, options)).toEqual([]);
      const lists = search(model, batch, options);
      expect(lists).toHaveLength(3);
      for (const h of lists.flat()) expect(Object.keys(h).sort()).toEqual(['ids', 'logProb', 'score']);
    }
    expect(model.live).toBe(0);
  });

  it("passes each method's option errors on", () => {
    const model = new BigramModel();
    expect(() => search(model, batch, { method: 'beam', maxLength: 3, beamSize: 2, nBest: 3 })).toThrow(
      /nBest must be an integer in \[1, beamSize=2\], got 3/,
    );
    expect(() => search(model, batch, { method: 'sample', maxLength: 3, temperature: -1 })).toThrow(
      /temperature must be ≥ 0, got -1/,
    );
  });

  it('refuses an unknown method (from JavaScript or JSON) instead of returning nothing', () => {
    const options = { method: 'exhaustive', maxLength: 3 } as unknown as SearchOptions;
    expect(() => search(new BigramModel(), batch, options)).toThrow(
      'unknown search method "exhaustive" (greedy, beam or sample)',
    );
  });
});
