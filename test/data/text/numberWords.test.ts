import { describe, it, expect } from 'vitest';
import {
  NumberWordsTask,
  digitsToWords,
  numberWordsVocabularies,
  wordsToTokens,
} from '../../../src/data/text/numberWords.js';
import { PAD, GO, EOS, UNK } from '../../../src/data/text/vocabulary.js';

describe('number-words generator', () => {
  it('spells digits as lowercase words joined by single spaces', () => {
    expect(digitsToWords('125')).toBe('one two five');
    expect(digitsToWords('0907')).toBe('zero nine zero seven');
    expect(() => digitsToWords('1a')).toThrow(/not a digit/);
  });

  it('reads the words side character by character, spaces included', () => {
    expect(wordsToTokens('one two')).toEqual(['o', 'n', 'e', '▁', 't', 'w', 'o']);
  });

  it('draws min..max digits, and the same seed gives the same data', () => {
    const a = new NumberWordsTask({ seed: 7 });
    const b = new NumberWordsTask({ seed: 7 });
    const c = new NumberWordsTask({ seed: 8 });
    const xs = Array.from({ length: 500 }, () => a.nextTrain());
    expect(Array.from({ length: 500 }, () => b.nextTrain())).toEqual(xs);
    expect(Array.from({ length: 500 }, () => c.nextTrain())).not.toEqual(xs);
    const lengths = new Set(xs.map((p) => p.digits.length));
    expect(Math.min(...lengths)).toBe(5);
    expect(Math.max(...lengths)).toBe(10);
    for (const p of xs) expect(p.words).toBe(digitsToWords(p.digits));
  });

  it('holds out 1,000 distinct validation numbers that training never produces', () => {
    // 2–3 digits: only 1,100 strings exist, so collisions with the held-out set would be frequent if not excluded.
    const t = new NumberWordsTask({ minDigits: 2, maxDigits: 3, validSize: 300, seed: 3 });
    const held = new Set(t.valid.map((p) => p.digits));
    expect(held.size).toBe(300);
    for (let i = 0; i < 5000; i++) expect(held.has(t.nextTrain().digits)).toBe(false);
    const d = new NumberWordsTask({});
    expect(new Set(d.valid.map((p) => p.digits)).size).toBe(1000);
  });

  it('makes a length-generalisation set of 11–12 digit numbers', () => {
    const t = new NumberWordsTask({});
    expect(t.long).toHaveLength(1000);
    for (const p of t.long) expect([11, 12]).toContain(p.digits.length);
  });

  it('mixes in the requested share of short numbers, and none by default', () => {
    const classic = new NumberWordsTask({ seed: 2 });
    expect(Array.from({ length: 2000 }, () => classic.nextTrain()).every((p) => p.digits.length >= 5)).toBe(true);
    const mixed = new NumberWordsTask({ seed: 2, shortShare: 0.1 });
    const short = Array.from({ length: 5000 }, () => mixed.nextTrain()).filter((p) => p.digits.length < 5);
    expect(short.length / 5000).toBeGreaterThan(0.08);
    expect(short.length / 5000).toBeLessThan(0.12);
    expect(mixed.valid.every((p) => p.digits.length >= 5)).toBe(true);
    expect(mixed.short.every((p) => p.digits.length >= 1 && p.digits.length <= 4)).toBe(true);
  });

  it('gives PAD, GO, EOS and UNK ids of their own, shared with no real symbol', () => {
    const { source, target } = numberWordsVocabularies();
    expect(target.encode([...'0123456789'])).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 12, 13]);
    for (const id of [PAD, GO, EOS, UNK]) {
      expect(target.token(id)).toMatch(/^<.*>$/);
      expect(source.token(id)).toMatch(/^<.*>$/);
    }
    expect(source.encode(wordsToTokens('zero one two three four five six seven eight nine'))).not.toContain(UNK);
  });
});
