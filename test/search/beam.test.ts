import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { beamSearch, lengthNormaliser, BeamSession, type FinishedSentence } from '../../src/search/beam.js';
import { MAX_BEAM_SIZE } from '../../src/search/beamRows.js';
import type { Hypothesis } from '../../src/search/decodable.js';
import { greedyDecode } from '../../src/search/greedy.js';
import { search } from '../../src/search/search.js';
import type { Decodable, StepOptions } from '../../src/search/decodable.js';
import type { Memory, DecoderState } from '../../src/decoder/decoder.js';
import { Ensemble } from '../../src/search/ensemble.js';
import { makeSourceBatch, type SourceBatch } from '../../src/data/text/batch.js';
import { argMax } from '../../src/search/keptAttention.js';
import { keepAll } from '../helpers/attention.js';
import { GO, EOS } from '../../src/data/text/vocabulary.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const A = 4,
  B = 5,
  C = 6;

/** Next-token probabilities after `prefix` (tokens without GO) for a sentence whose first source token is `source`. */
type Table = (prefix: readonly number[], source: number) => Readonly<Record<number, number>>;

/**
 * A hand-built model: no network, just a table of next-token probabilities per prefix (tokens it leaves out have
 * probability 0). Its state is each row's prefix, so selectState really reorders hypotheses. Counts step() calls
 * and records each step's rows.
 */
class TreeModel implements Decodable<number[], number[][]> {
  steps = 0;
  readonly rows: number[] = [];
  constructor(
    private readonly vocabSize: number,
    private readonly table: Table,
  ) {}

  encode(batch: SourceBatch): number[] {
    // Batches are built unreversed and back-padded, so step 0 holds each sentence's first token.
    return Array.from(batch.source.subarray(0, batch.size));
  }
  selectMemory(memory: number[], rows: Int32Array): number[] {
    return Array.from(rows, (r) => memory[r]!);
  }
  initialState(memory: number[]): number[][] {
    return memory.map(() => []);
  }
  step(memory: number[], state: number[][], previous: Int32Array): { logProbs: tf.Tensor2D; state: number[][] } {
    this.steps++;
    this.rows.push(previous.length);
    const next = state.map((prefix, i) => (previous[i] === GO ? [] : [...prefix, previous[i]!]));
    const logProbs = new Float32Array(next.length * this.vocabSize).fill(-Infinity);
    next.forEach((prefix, i) => {
      for (const [token, p] of Object.entries(this.table(prefix, memory[i]!)))
        logProbs[i * this.vocabSize + Number(token)] = Math.log(p);
    });
    return { logProbs: tf.tensor2d(logProbs, [next.length, this.vocabSize]), state: next };
  }
  selectState(state: number[][], indices: Int32Array): number[][] {
    return Array.from(indices, (i) => state[i]!);
  }
  disposeState(): void {}
  disposeMemory(): void {}
}

/** Table from prefixes written as 'A B'; unknown prefixes end the sentence. */
function tableOf(entries: Record<string, Record<number, number>>): Table {
  const names: Record<number, string> = { [A]: 'A', [B]: 'B', [C]: 'C' };
  return (prefix) => entries[prefix.map((t) => names[t] ?? String(t)).join(' ')] ?? { [EOS]: 1 };
}

const oneSentence = makeSourceBatch([[A]], { reverseSource: false });

/** Every hypothesis of at most maxLength tokens, by brute force, ranked as beam search ranks them. */
function exhaustive(table: Table, source: number, maxLength: number, alpha: number): Hypothesis[] {
  const out: Hypothesis[] = [];
  const walk = (prefix: number[], logProb: number): void => {
    const probs = table(prefix, source);
    const final = logProb + Math.log(probs[EOS] ?? 0);
    out.push({ ids: prefix, logProb: final, score: final / lengthNormaliser(prefix.length + 1, alpha) });
    if (prefix.length === maxLength) return;
    for (const [token, p] of Object.entries(probs))
      if (Number(token) !== EOS) walk([...prefix, Number(token)], logProb + Math.log(p));
  };
  walk([], 0);
  return out.sort((a, b) => b.score - a.score);
}

/** A random table with a distribution over {A, B, C, EOS} per prefix, the same whoever asks first. */
function randomTable(seed: number): Table {
  return (prefix, source) => {
    const rng = new Rng(prefix.reduce((h, t) => Math.imul(h ^ t, 0x01000193) >>> 0, (seed * 31 + source) >>> 0));
    const w = [A, B, C, EOS].map(() => 0.05 + rng.next());
    const total = w.reduce((x, y) => x + y, 0);
    return { [A]: w[0]! / total, [B]: w[1]! / total, [C]: w[2]! / total, [EOS]: w[3]! / total };
  };
}

describe('beamSearch on a real Seq2Seq', () => {
  const srcVocab = 20;
  const tgtVocab = 15;
  const sources = [[4, 5, 6], [7, 8, 9, 10, 11, 12], [13], [4, 19, 18, 17]];

  it('with one beam gives greedy decoding ids for every sentence, whatever the length penalty', () => {
    for (const seed of [3, 4, 5]) {
      const model = new Seq2Seq(
        { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed },
        srcVocab,
        tgtVocab,
      );
      const batch = makeSourceBatch(sources);
      const greedy = greedyDecode(model, batch, { maxLength: 8 });
      for (const lengthPenalty of [0, 0.6, 1, 2]) {
        const beam = beamSearch(model, batch, { beamSize: 1, maxLength: 8, lengthPenalty });
        expect(beam.map((n) => n[0]!.ids)).toEqual(greedy);
      }
      expect(search(model, batch, { method: 'greedy', maxLength: 8 }).map((n) => n[0]!.ids)).toEqual(greedy);
      model.dispose();
    }
  });

  it('returns n-best lists sorted by score, of distinct hypotheses, scored as logProb / lp', () => {
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 },
      srcVocab,
      tgtVocab,
    );
    const nBest = beamSearch(model, makeSourceBatch(sources), {
      beamSize: 5,
      nBest: 5,
      maxLength: 6,
      lengthPenalty: 0.6,
    });
    expect(nBest).toHaveLength(sources.length);
    for (const list of nBest) {
      expect(list).toHaveLength(5);
      for (let i = 1; i < list.length; i++) expect(list[i - 1]!.score).toBeGreaterThanOrEqual(list[i]!.score);
      expect(new Set(list.map((h) => h.ids.join(' '))).size).toBe(list.length);
      for (const h of list) {
        expect(h.ids.length).toBeLessThanOrEqual(6);
        expect(h.ids).not.toContain(EOS);
        expect(h.score).toBeCloseTo(h.logProb / lengthNormaliser(h.ids.length + 1, 0.6), 10);
      }
    }
    model.dispose();
  });

  it('a batch gives each sentence what it gets alone, finished sentences dropped on the way (beam 3, 2-best)', () => {
    for (const seed of [6, 7]) {
      const model = new Seq2Seq(
        { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, attention: 'bahdanau', seed },
        srcVocab,
        tgtVocab,
      );
      const rng = new Rng(seed);
      const many = Array.from({ length: 10 }, () =>
        Array.from({ length: 1 + Math.floor(rng.next() * 8) }, () => 4 + Math.floor(rng.next() * 16)),
      );
      // Limits from 0 to 9 tokens: sentences end (and leave the batch) at different steps.
      const maxLength = many.map((_, i) => i % 10);
      const options = { beamSize: 3, nBest: 2, lengthPenalty: 0.6 };
      const batch = makeSourceBatch(many);
      const together = beamSearch(model, batch, { ...options, maxLength, attention: keepAll(batch, true) });
      const alignments = beamSearch(model, batch, { ...options, maxLength, attention: keepAll(batch, false) });
      many.forEach((s, b) => {
        const single = makeSourceBatch([s]);
        const [alone] = beamSearch(model, single, {
          ...options,
          maxLength: maxLength[b]!,
          attention: keepAll(single, true),
        });
        expect(together[b]!.map((h) => h.ids)).toEqual(alone!.map((h) => h.ids));
        together[b]!.forEach((h, i) => {
          expect(h.logProb).toBeCloseTo(alone![i]!.logProb, 4);
          // Attention follows each hypothesis through the reshuffles: a row per output token and EOS over the
          // sentence's own tokens (all its weight), equal to the sentence's alone; the alignment is each row's
          // first largest weight, and the same when no weights are kept.
          expect(h.attention).toHaveLength(h.ids.length + 1);
          h.attention!.forEach((row, t) => {
            expect(row).toHaveLength(s.length);
            expect(row.reduce((sum, w) => sum + w, 0)).toBeCloseTo(1, 5);
            row.forEach((w, j) => expect(w).toBeCloseTo(alone![i]!.attention![t]![j]!, 5));
          });
          expect(h.alignment).toEqual(h.attention!.map((row) => argMax(row)));
          expect(h.alignment).toEqual(alone![i]!.alignment);
          expect(alignments[b]![i]!.alignment).toEqual(h.alignment);
          expect(alignments[b]![i]!.attention).toBeUndefined();
        });
      });
      model.dispose();
    }
  });

  it('scores only live hypotheses (one row a sentence at first), with the results of scoring every row', () => {
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 9 },
      srcVocab,
      tgtVocab,
    );
    // The same model, recording each step's scored rows; and one that ignores `rows` and scores every row.
    const scored: number[] = [];
    const recording: Decodable<Memory, DecoderState> = Object.assign(Object.create(model) as Seq2Seq, {
      step: (m: Memory, s: DecoderState, p: Int32Array, o?: StepOptions) => {
        const out = model.step(m, s, p, o);
        scored.push(out.logProbs.shape[0]);
        return out;
      },
    });
    const everyRow: Decodable<Memory, DecoderState> = Object.assign(Object.create(model) as Seq2Seq, {
      step: (m: Memory, s: DecoderState, p: Int32Array, o?: StepOptions) =>
        model.step(m, s, p, { ...o, rows: undefined }),
    });
    const batch = makeSourceBatch(sources);
    const options = { beamSize: 4, nBest: 3, maxLength: 7, attention: keepAll(batch, true) };
    const got = beamSearch(recording, batch, options);
    const want = beamSearch(everyRow, batch, options);
    expect(scored[0]).toBe(sources.length);
    expect(scored.some((n, t) => t > 0 && n < sources.length * 4)).toBe(true);
    expect(got.map((l) => l.map((h) => h.ids))).toEqual(want.map((l) => l.map((h) => h.ids)));
    got.forEach((l, b) =>
      l.forEach((h, i) => {
        expect(h.logProb).toBeCloseTo(want[b]![i]!.logProb, 5);
        h.attention!.forEach((row, t) =>
          row.forEach((w, j) => expect(w).toBeCloseTo(want[b]![i]!.attention![t]![j]!, 6)),
        );
      }),
    );
    // An ensemble whose members differ (one honours `rows`, one scores every row) averages the same rows.
    const mixed = beamSearch(new Ensemble([model, everyRow]), batch, options);
    const plain = beamSearch(new Ensemble([everyRow, everyRow]), batch, options);
    expect(mixed.map((l) => l.map((h) => h.ids))).toEqual(plain.map((l) => l.map((h) => h.ids)));
    model.dispose();
  });

  it('leaks no tensors', () => {
    const start = tf.memory().numTensors;
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 },
      srcVocab,
      tgtVocab,
    );
    const batch = makeSourceBatch(sources);
    // The first search projects the embedding tables and keeps them with the weights (Params.derived).
    search(model, batch, { method: 'greedy', maxLength: 1 });
    const before = tf.memory().numTensors;
    beamSearch(model, batch, { beamSize: 4, nBest: 2, maxLength: 7 });
    beamSearch(model, batch, { beamSize: 1, maxLength: 0 });
    search(model, batch, { method: 'greedy', maxLength: 5 });
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });
});

describe('BeamSession: sentences joining a running search', () => {
  const srcVocab = 20;
  const tgtVocab = 15;
  const configs = [
    { attention: 'dot' as const },
    { attention: 'general' as const, cell: { ...DEFAULT_SEQ2SEQ_CONFIG.cell, kind: 'lstm' as const } },
    { attention: 'bahdanau' as const, bidirectional: true },
    { attention: 'none' as const, decoderLayers: 2, encoderLayers: 2 },
  ];

  /** Random sources of 1–9 tokens, with random limits of 0–9 tokens. */
  function sentences(rng: Rng, n: number): { source: number[]; limit: number }[] {
    return Array.from({ length: n }, () => ({
      source: Array.from({ length: 1 + Math.floor(rng.next() * 9) }, () => 4 + Math.floor(rng.next() * 16)),
      limit: Math.floor(rng.next() * 10),
    }));
  }

  it('every sentence gets what it gets alone, whichever step it joins at and whoever it runs beside', () => {
    for (const [c, config] of configs.entries()) {
      const model = new Seq2Seq(
        { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 20 + c, ...config },
        srcVocab,
        tgtVocab,
      );
      const rng = new Rng(c);
      const all = sentences(rng, 14);
      // minLength 1, as translate asks: sentences that just joined and older ones are on both sides of it.
      const keep = c !== 3;
      const options = { beamSize: 3, nBest: 2, lengthPenalty: 0.6, minLength: 1 };
      const session = new BeamSession(model, { ...options, ...(keep ? { attention: { weights: true } } : {}) });
      const got = new Map<number, FinishedSentence['hypotheses']>();
      // Batches of 1–4 sentences join every 0–3 steps.
      let next = 0;
      let wait = 0;
      while (next < all.length || session.live > 0) {
        if (next < all.length && wait-- <= 0) {
          const chunk = all.slice(next, next + 1 + Math.floor(rng.next() * 4));
          const batch = makeSourceBatch(chunk.map((s) => s.source));
          const first = session.add(
            batch,
            chunk.map((s) => s.limit),
            keep ? keepAll(batch, true).columns : undefined,
          );
          expect(first).toBe(next);
          next += chunk.length;
          wait = Math.floor(rng.next() * 4);
        }
        for (const { id, hypotheses } of session.step()) got.set(id, hypotheses);
      }
      expect(session.size).toBe(0);
      all.forEach((s, id) => {
        const single = makeSourceBatch([s.source]);
        const [alone] = beamSearch(model, single, {
          ...options,
          maxLength: s.limit,
          ...(keep ? { attention: keepAll(single, true) } : {}),
        });
        const mine = got.get(id)!;
        expect(mine.map((h) => h.ids)).toEqual(alone!.map((h) => h.ids));
        mine.forEach((h, i) => {
          expect(h.logProb).toBeCloseTo(alone![i]!.logProb, 4);
          expect(h.score).toBeCloseTo(alone![i]!.score, 4);
          if (!keep) return expect(h.attention ?? h.alignment).toBeUndefined();
          // Attention over the sentence's own tokens, read at their positions in the batch it joined with (later
          // batches may be longer: padding).
          expect(h.attention).toHaveLength(h.ids.length + 1);
          h.attention!.forEach((row, t) =>
            row.forEach((w, j) => expect(w).toBeCloseTo(alone![i]!.attention![t]![j]!, 5)),
          );
          expect(h.alignment).toEqual(alone![i]!.alignment);
        });
      });
      session.dispose();
      model.dispose();
    }
  });

  it('an ensemble joins too; the session empties, takes new sentences, and leaks no tensors', () => {
    const members = [3, 4].map(
      (seed) => new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed }, srcVocab, tgtVocab),
    );
    const ensemble = new Ensemble(members);
    const all = sentences(new Rng(5), 6);
    const options = { beamSize: 2, minLength: 1 };
    // Warm-up: the first search projects the embedding tables and keeps them with the weights (Params.derived).
    beamSearch(ensemble, makeSourceBatch([[4]]), { ...options, maxLength: 1 });
    const before = tf.memory().numTensors;
    const session = new BeamSession(ensemble, options);
    const got: FinishedSentence[] = [];
    for (let round = 0; round < 2; round++) {
      session.add(makeSourceBatch(all.slice(0, 3).map((s) => s.source)), 9);
      got.push(...session.step());
      session.add(makeSourceBatch(all.slice(3).map((s) => s.source)), 9);
      while (session.live > 0) got.push(...session.step());
      expect(session.step()).toEqual([]);
    }
    expect(tf.memory().numTensors).toBe(before);
    // Ids go on counting across rounds; each round gives every sentence what it gets alone.
    expect(got.map((f) => f.id).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    for (const { id, hypotheses } of got) {
      const [alone] = beamSearch(ensemble, makeSourceBatch([all[id % 6]!.source]), { ...options, maxLength: 9 });
      expect(hypotheses.map((h) => h.ids)).toEqual(alone!.map((h) => h.ids));
    }
    // Disposing mid-search frees what the session holds.
    session.add(makeSourceBatch([all[0]!.source]), 9);
    session.step();
    session.dispose();
    expect(session.live).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    members.forEach((m) => m.dispose());
  });

  it('a dropped sentence stops running and is never returned; the others get what they get alone', () => {
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 12 },
      srcVocab,
      tgtVocab,
    );
    const all = sentences(new Rng(9), 8);
    const options = { beamSize: 3, nBest: 2, minLength: 1 };
    // Warm-up: the first search projects the embedding tables and keeps them with the weights (Params.derived).
    beamSearch(model, makeSourceBatch([[4]]), { ...options, maxLength: 1 });
    const before = tf.memory().numTensors;
    const session = new BeamSession(model, options);
    const batch = makeSourceBatch(all.map((s) => s.source));
    session.add(batch, 40);
    session.step();
    session.drop(2);
    session.drop(5);
    session.drop(5);
    session.drop(99);
    expect(session.live).toBe(6);
    const got = new Map<number, Hypothesis[]>();
    while (session.live > 0) for (const { id, hypotheses } of session.step()) got.set(id, hypotheses);
    expect([...got.keys()].sort()).toEqual([0, 1, 3, 4, 6, 7]);
    for (const [id, hypotheses] of got) {
      const [alone] = beamSearch(model, makeSourceBatch([all[id]!.source]), { ...options, maxLength: 40 });
      expect(hypotheses.map((h) => h.ids)).toEqual(alone!.map((h) => h.ids));
    }
    // Dropping every sentence empties the session, which takes new ones.
    session.add(makeSourceBatch([[4, 5]]), 9);
    session.step();
    session.drop(8);
    expect([session.live, session.size]).toEqual([0, 0]);
    expect(tf.memory().numTensors).toBe(before);
    expect(session.add(makeSourceBatch([[6]]), 3)).toBe(9);
    while (session.live > 0) session.step();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });

  it('a model that cannot join memories runs one batch at a time', () => {
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 8, embeddingSize: 4 }, srcVocab, tgtVocab);
    const plain: Decodable<Memory, DecoderState> = Object.assign(Object.create(model) as Seq2Seq, {
      joinMemory: undefined,
      joinState: undefined,
    });
    const session = new BeamSession(plain, { beamSize: 2 });
    session.add(makeSourceBatch([[4, 5]]), 5);
    session.step();
    expect(() => session.add(makeSourceBatch([[6]]), 5)).toThrow(/cannot take sentences into a running search/);
    while (session.live > 0) session.step();
    expect(session.add(makeSourceBatch([[6]]), 5)).toBe(1);
    session.dispose();
    model.dispose();
  });
});

describe('beamSearch on hand-built models', () => {
  // Greedy takes A (0.6) and then can do no better than EOS (0.4): p = 0.24. B (0.4) continues with EOS (0.9):
  // p = 0.36, found by two beams.
  const trap = tableOf({
    '': { [A]: 0.6, [B]: 0.4 },
    A: { [A]: 0.3, [B]: 0.3, [EOS]: 0.4 },
    B: { [A]: 0.1, [EOS]: 0.9 },
  });

  it('finds a better sequence than greedy when greedy’s first choice continues poorly', () => {
    expect(greedyDecode(new TreeModel(8, trap), oneSentence, { maxLength: 5 })).toEqual([[A]]);
    const one = beamSearch(new TreeModel(8, trap), oneSentence, { beamSize: 1, maxLength: 5, lengthPenalty: 0 });
    expect(one[0]![0]!.ids).toEqual([A]);
    expect(one[0]![0]!.logProb).toBeCloseTo(Math.log(0.6) + Math.log(0.4), 6);
    const [[best]] = beamSearch(new TreeModel(8, trap), oneSentence, {
      beamSize: 2,
      maxLength: 5,
      lengthPenalty: 0,
    }) as [[Hypothesis]];
    expect(best.ids).toEqual([B]);
    expect(best.logProb).toBeCloseTo(Math.log(0.4) + Math.log(0.9), 6); // log 0.36 = −1.0217
    expect(best.score).toBe(best.logProb);
  });

  it('ranks n-best lists of distinct hypotheses by score', () => {
    // Step 1's four best continuations of A and B: B·EOS 0.36, A·EOS 0.24, A·A 0.18, A·B 0.18; the two EOS ones
    // finish, A A and A B go on and end with EOS (p 1) at step 2.
    const [list] = beamSearch(new TreeModel(8, trap), oneSentence, {
      beamSize: 4,
      nBest: 4,
      maxLength: 5,
      lengthPenalty: 0,
    });
    expect(list!.map((h) => h.ids)).toEqual([[B], [A], [A, A], [A, B]]);
    expect(list!.map((h) => Math.exp(h.logProb))).toEqual([0.36, 0.24, 0.18, 0.18].map((p) => expect.closeTo(p, 6)));
  });

  // Short: A EOS, p = 0.5, |Y| = 2. Long: B B B B EOS, p = 0.4, |Y| = 5.
  //   α = 0: scores ln 0.5 = −0.6931 > ln 0.4 = −0.9163: the short one wins.
  //   α = 1: lp(2) = 7/6, lp(5) = 10/6: −0.6931 / (7/6) = −0.5941 < −0.9163 / (10/6) = −0.5498: the long one wins.
  const lengths = tableOf({
    '': { [A]: 0.5, [B]: 0.4, [C]: 0.1 },
    A: { [EOS]: 1 },
    B: { [B]: 1 },
    'B B': { [B]: 1 },
    'B B B': { [B]: 1 },
    'B B B B': { [EOS]: 1 },
  });

  it('length penalty changes the ranking: the shorter hypothesis wins with α = 0, the longer with α = 1', () => {
    const [[raw]] = beamSearch(new TreeModel(8, lengths), oneSentence, {
      beamSize: 2,
      maxLength: 10,
      lengthPenalty: 0,
    }) as [[Hypothesis]];
    expect(raw.ids).toEqual([A]);
    expect(raw.score).toBeCloseTo(-0.693147, 5);
    const [[normalised]] = beamSearch(new TreeModel(8, lengths), oneSentence, {
      beamSize: 2,
      maxLength: 10,
      lengthPenalty: 1,
    }) as [[Hypothesis]];
    expect(normalised.ids).toEqual([B, B, B, B]);
    expect(normalised.logProb).toBeCloseTo(Math.log(0.4), 6);
    expect(normalised.score).toBeCloseTo(-0.549774, 5);
  });

  it('keeps a hypothesis that finished early while the other beam goes on', () => {
    // A EOS finishes at step 1 and frees its slot; B B B B carries on to step 4. Both are in the 2-best list.
    const [list] = beamSearch(new TreeModel(8, lengths), oneSentence, {
      beamSize: 2,
      nBest: 2,
      maxLength: 10,
      lengthPenalty: 1,
    });
    expect(list!.map((h) => h.ids)).toEqual([[B, B, B, B], [A]]);
    expect(list![1]!.logProb).toBeCloseTo(Math.log(0.5), 6);
    expect(list![1]!.score).toBeCloseTo(-0.594126, 5);
  });

  it('stops as soon as no live hypothesis can beat the n-best', () => {
    const count = (table: Table, options: Parameters<typeof beamSearch>[2]): number => {
      const model = new TreeModel(8, table);
      beamSearch(model, oneSentence, options);
      return model.steps;
    };
    // Both beams end with EOS at step 1: two steps.
    expect(count(trap, { beamSize: 2, maxLength: 50, lengthPenalty: 0 })).toBe(2);
    // α = 0: after step 1, A EOS (ln 0.5) beats the live B B (ln 0.4), whose log-prob can only fall: two steps.
    expect(count(lengths, { beamSize: 2, maxLength: 50, lengthPenalty: 0 })).toBe(2);
    // ... unless two hypotheses are wanted: B B B B ends at step 4.
    expect(count(lengths, { beamSize: 2, nBest: 2, maxLength: 50, lengthPenalty: 0 })).toBe(5);
    // α = 1: the live B B could still reach ln 0.4 / lp(51) = −0.0982 > −0.5941, so it goes on to its EOS at step 4.
    expect(count(lengths, { beamSize: 2, maxLength: 50, lengthPenalty: 1 })).toBe(5);
    // ... but not when maxLength = 3 caps it at 3 tokens: ln 0.4 / lp(4) = −0.6109 < −0.5941, two steps.
    expect(count(lengths, { beamSize: 2, maxLength: 3, lengthPenalty: 1 })).toBe(2);
    // maxLength caps the search at maxLength + 1 steps (the last one forcing EOS).
    expect(count(lengths, { beamSize: 2, nBest: 2, maxLength: 2, lengthPenalty: 1 })).toBe(3);
  });

  it('ends unfinished hypotheses at maxLength with EOS', () => {
    const [list] = beamSearch(new TreeModel(8, lengths), oneSentence, {
      beamSize: 2,
      nBest: 2,
      maxLength: 2,
      lengthPenalty: 0,
    });
    // B B is cut at two tokens; its forced EOS has probability 0 under the table.
    expect(list!.map((h) => h.ids)).toEqual([[A], [B, B]]);
    expect(list![1]!.logProb).toBe(-Infinity);
  });

  it('finishes sentences of a batch independently', () => {
    // Sentence 0 follows `trap`, sentence 1 `lengths`: the batch runs until the longer one is done.
    const table: Table = (prefix, source) => (source === A ? trap : lengths)(prefix, source);
    const model = new TreeModel(8, table);
    const batch = makeSourceBatch([[A], [B, C]], { reverseSource: false });
    const result = beamSearch(model, batch, { beamSize: 2, nBest: 2, maxLength: 10, lengthPenalty: 1 });
    expect(result.map((list) => list.map((h) => h.ids))).toEqual([
      [[B], [A]],
      [[B, B, B, B], [A]],
    ]);
    expect(model.steps).toBe(5);
  });

  it('drops done sentences from the batch; every sentence gets the n-best it gets alone (random tables)', () => {
    for (const seed of [1, 2, 3, 4]) {
      const rng = new Rng(seed);
      // Per sentence a limit of 0–6 tokens, so they finish at different steps.
      const sources = Array.from({ length: 9 }, () => [4 + Math.floor(rng.next() * 40)]);
      const limits = sources.map(() => Math.floor(rng.next() * 7));
      const table = randomTable(seed);
      const options = { beamSize: 3, nBest: 2, lengthPenalty: 0.6 };
      const model = new TreeModel(50, table);
      const together = beamSearch(model, makeSourceBatch(sources, { reverseSource: false }), {
        ...options,
        maxLength: limits,
      });
      sources.forEach((source, b) => {
        const alone = beamSearch(new TreeModel(50, table), makeSourceBatch([source], { reverseSource: false }), {
          ...options,
          maxLength: limits[b]!,
        });
        expect(together[b]!.map((h) => h.ids)).toEqual(alone[0]!.map((h) => h.ids));
        together[b]!.forEach((h, i) => expect(h.logProb).toBeCloseTo(alone[0]![i]!.logProb, 10));
      });
      // Rows are a multiple of the beam and never grow; the last steps run without the sentences already done.
      expect(model.rows.every((r, t) => r % 3 === 0 && (t === 0 || r <= model.rows[t - 1]!))).toBe(true);
      expect(model.rows[0]).toBe(27);
      expect(model.rows.at(-1)!).toBeLessThan(27);
    }
  });

  it('with a beam as wide as the tree, finds the exact n-best of an exhaustive search', () => {
    // Three tokens and EOS, at most 3 tokens: 1 + 3 + 9 + 27 = 40 hypotheses in all, so K = 40 never prunes.
    for (const seed of [1, 2, 3]) {
      for (const alpha of [0, 0.6, 1.5]) {
        const table = randomTable(seed);
        const expected = exhaustive(table, A, 3, alpha).slice(0, 5);
        const [list] = beamSearch(new TreeModel(8, table), oneSentence, {
          beamSize: 40,
          nBest: 5,
          maxLength: 3,
          lengthPenalty: alpha,
        });
        expect(list!.map((h) => h.ids)).toEqual(expected.map((h) => h.ids));
        list!.forEach((h, i) => expect(h.score).toBeCloseTo(expected[i]!.score, 5));
      }
    }
  });

  it('rejects impossible options', () => {
    const model = new TreeModel(8, trap);
    expect(() => beamSearch(model, oneSentence, { beamSize: 0, maxLength: 5 })).toThrow(RangeError);
    expect(() => beamSearch(model, oneSentence, { beamSize: 2, nBest: 3, maxLength: 5 })).toThrow(RangeError);
    expect(() => beamSearch(model, oneSentence, { beamSize: 2, maxLength: 5, lengthPenalty: -1 })).toThrow(RangeError);
    // A beam past MAX_BEAM_SIZE is refused before anything is allocated (10⁵ once asked for 10¹⁰ floats).
    for (const beamSize of [MAX_BEAM_SIZE + 1, 100_000, 2.5, Number.NaN, Infinity])
      expect(() => beamSearch(model, oneSentence, { beamSize, maxLength: 5 })).toThrow(
        /beamSize must be an integer from 1 to 1024/,
      );
    expect(model.steps).toBe(0);
    // The widest beam allowed runs: every continuation of the tree fits in it.
    const [widest] = beamSearch(new TreeModel(8, lengths), oneSentence, {
      beamSize: MAX_BEAM_SIZE,
      nBest: 3,
      maxLength: 4,
    });
    const [narrow] = beamSearch(new TreeModel(8, lengths), oneSentence, { beamSize: 40, nBest: 3, maxLength: 4 });
    expect(widest!.map((h) => h.ids)).toEqual(narrow!.map((h) => h.ids));
  });

  it('leaks no tensors', () => {
    const before = tf.memory().numTensors;
    beamSearch(new TreeModel(8, lengths), oneSentence, { beamSize: 3, nBest: 3, maxLength: 10 });
    expect(tf.memory().numTensors).toBe(before);
  });
});
