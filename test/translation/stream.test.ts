import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Translator, type TranslateOptions, type Translation } from '../../src/translation/translator.js';
import { TranslationStream, type StreamedTranslation } from '../../src/translation/stream.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { CharTokenizer } from '../../src/data/text/tokenizers.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

function makeTranslator(seed: number, attention: 'dot' | 'bahdanau' = 'dot'): Translator {
  const v = numberWordsVocabularies();
  const model = new Seq2Seq(
    { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, attention, seed },
    v.source.size,
    v.target.size,
  );
  const chars = new CharTokenizer();
  return new Translator(model, v.source, v.target, chars, chars);
}

const WORDS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

/** Random number-word lines of 0–6 words (some empty, some with characters outside the vocabulary). */
function randomLines(rng: Rng, n: number): string[] {
  return Array.from({ length: n }, (_, i) =>
    i % 7 === 3
      ? ''
      : Array.from({ length: 1 + Math.floor(rng.next() * 6) }, () => WORDS[Math.floor(rng.next() * 10)]!).join(' ') +
        (i % 5 === 2 ? ' Ω' : ''),
  );
}

/** Runs the lines through a stream, adding 1–4 lines every 0–2 steps; the translations in input order. */
function streamed(t: Translator, lines: string[], options: TranslateOptions, rng: Rng): Translation[] {
  const stream = new TranslationStream(t, options);
  const out: StreamedTranslation[] = [];
  let next = 0;
  let wait = 0;
  while (next < lines.length || stream.live > 0) {
    if (next < lines.length && wait-- <= 0) {
      const chunk = lines.slice(next, next + 1 + Math.floor(rng.next() * 4));
      expect(stream.add(chunk)).toBe(next);
      next += chunk.length;
      wait = Math.floor(rng.next() * 3);
    }
    out.push(...stream.step());
  }
  stream.dispose();
  expect(out.map((o) => o.index).sort((a, b) => a - b)).toEqual(lines.map((_, i) => i));
  return out.sort((a, b) => a.index - b.index).map((o) => o.translation);
}

/** Translations equal but for float rounding in scores and attention. */
function expectSame(got: Translation[], want: Translation[]): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    expect({ ...g, nBest: [] }).toEqual({ ...w, nBest: [] });
    expect(g.nBest.map((h) => [h.text, h.tokens, h.alignment])).toEqual(
      w.nBest.map((h) => [h.text, h.tokens, h.alignment]),
    );
    g.nBest.forEach((h, j) => {
      expect(h.score).toBeCloseTo(w.nBest[j]!.score, 4);
      expect(h.logProb).toBeCloseTo(w.nBest[j]!.logProb, 4);
      h.attention?.forEach((row, r) => row.forEach((x, c) => expect(x).toBeCloseTo(w.nBest[j]!.attention![r]![c]!, 5)));
    });
  });
}

describe('TranslationStream', () => {
  it('gives every line what Translator.translate gives it, whenever it joins: greedy, beam with n-best and alignments', () => {
    const rng = new Rng(11);
    for (const [seed, attention] of [
      [3, 'dot'],
      [4, 'bahdanau'],
    ] as const) {
      const t = makeTranslator(seed, attention);
      const lines = randomLines(rng, 24);
      for (const options of [
        {},
        { beamSize: 4, nBest: 3, lengthPenalty: 1, alignments: 'matrix' as const },
        { beamSize: 2, maxLengthRatio: 0.5, maxLengthMargin: 1, replaceUnknown: false },
      ]) {
        expectSame(streamed(t, lines, options, rng), t.translate(lines, options));
      }
      t.dispose();
    }
  });

  it('an ensemble streams too, and the live tensor count stays flat', () => {
    const ensemble = Translator.ensemble([makeTranslator(5), makeTranslator(6)]);
    const lines = randomLines(new Rng(2), 12);
    const options = { beamSize: 3, alignments: 'best' as const };
    const want = ensemble.translate(lines, options);
    const before = tf.memory().numTensors;
    expectSame(streamed(ensemble, lines, options, new Rng(4)), want);
    expect(tf.memory().numTensors).toBe(before);
    // Disposing mid-search frees what the search holds.
    const stream = new TranslationStream(ensemble, options);
    stream.add(lines.slice(0, 5));
    stream.step();
    stream.dispose();
    expect(stream.live).toBe(0);
    expect(tf.memory().numTensors).toBe(before);
    ensemble.dispose();
  });

  it('a dropped line is not returned and stops running; the others are translated as alone', () => {
    const t = makeTranslator(8);
    const lines = randomLines(new Rng(6), 6);
    const options = { beamSize: 2, alignments: 'best' as const };
    const stream = new TranslationStream(t, options);
    stream.add([...lines, '']);
    stream.drop(1);
    stream.drop(6);
    expect(stream.live).toBe(5);
    const out: StreamedTranslation[] = [];
    while (stream.live > 0) out.push(...stream.step());
    expect(out.map((o) => o.index).sort()).toEqual([0, 2, 3, 4, 5]);
    const want = t.translate(lines, options);
    for (const o of out) expect(o.translation.text).toBe(want[o.index]!.text);
    stream.dispose();
    t.dispose();
  });

  it('answers empty lines at the next step, without a search', () => {
    const t = makeTranslator(7);
    const stream = new TranslationStream(t, { beamSize: 2 });
    expect(stream.add(['', '  '])).toBe(0);
    expect(stream.live).toBe(2);
    expect(stream.size).toBe(0);
    const out = stream.step();
    expect(out.map((o) => [o.index, o.translation.text, o.translation.nBest])).toEqual([
      [0, '', []],
      [1, '', []],
    ]);
    expect(stream.live).toBe(0);
    stream.dispose();
    t.dispose();
  });
});

describe('TranslationStream misuse', () => {
  it('refuses options out of range when made, and lines that are not strings when added', () => {
    const t = makeTranslator(31);
    expect(() => new TranslationStream(t, { beamSize: 0 })).toThrow(/^beamSize/);
    expect(() => new TranslationStream(t, { maxLengthRatio: NaN })).toThrow(/^maxLengthRatio/);
    expect(() => new TranslationStream(t, { alignments: 'x' as 'best' })).toThrow(/^alignments/);
    const stream = new TranslationStream(t, {});
    expect(() => stream.add(['one', undefined as unknown as string])).toThrow(
      'texts[1]: expected a string, got undefined',
    );
    expect(stream.live).toBe(0);
    stream.dispose();
    t.dispose();
  });
});
