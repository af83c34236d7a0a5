// The vocabulary: the four reserved ids, deterministic building (by count, ties in code point order), lookups,
// decoding (stops at EOS, skips PAD and GO), the unknown-token rate and the JSON round trip.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Vocabulary, VocabularyError, PAD, GO, EOS, UNK, SPECIAL_TOKENS } from '../../../src/data/text/vocabulary.js';
import { ToolkitError } from '../../../src/errors.js';
import { fuzzRuns } from '../../fuzz/settings.js';

/** The ordering build() documents, written out independently: count descending, then code point order. */
function referenceOrder(sequences: readonly (readonly string[])[], minCount = 1, maxSize = Infinity): string[] {
  const counts: Record<string, number> = {};
  for (const s of sequences) for (const t of s) counts[t] = (counts[t] ?? 0) + 1;
  const compare = (a: string, b: string): number => {
    // UTF-16 code unit order, what the source's < compares: code point order except that astral characters
    // (surrogate pairs) sort before U+E000–U+FFFF; the generated tokens stay clear of that range.
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
    }
    return a.length - b.length;
  };
  return Object.keys(counts)
    .filter((t) => counts[t]! >= minCount && !(SPECIAL_TOKENS as readonly string[]).includes(t))
    .sort((a, b) => counts[b]! - counts[a]! || compare(a, b))
    .slice(0, maxSize - 4);
}

describe('reserved ids', () => {
  it('are 0 <pad>, 1 <go>, 2 <eos>, 3 <unk>, and every vocabulary starts with them', () => {
    expect([PAD, GO, EOS, UNK]).toEqual([0, 1, 2, 3]);
    expect(SPECIAL_TOKENS).toEqual(['<pad>', '<go>', '<eos>', '<unk>']);
    const v = new Vocabulary([]);
    expect(v.size).toBe(4);
    expect(v.tokens).toEqual(['<pad>', '<go>', '<eos>', '<unk>']);
    SPECIAL_TOKENS.forEach((t, i) => {
      expect(v.id(t)).toBe(i);
      expect(v.token(i)).toBe(t);
      expect(v.has(t)).toBe(true);
    });
  });

  it('the constructor numbers tokens from 4 in the order given, skipping repeats and the reserved tokens', () => {
    const v = new Vocabulary(['b', 'a', '<eos>', 'b', 'c', '<unk>']);
    expect(v.tokens).toEqual(['<pad>', '<go>', '<eos>', '<unk>', 'b', 'a', 'c']);
    expect(v.encode(['a', 'b', 'c', '<eos>'])).toEqual([5, 4, 6, 2]);
  });
});

describe('Vocabulary.build', () => {
  it('orders by count, then by code point (not locale) order, whatever order the tokens came in', () => {
    const v = Vocabulary.build([['b', 'a', 'é', 'B', 'z'], ['z', 'a'], ['z']]);
    // z ×3, a ×2, then the singletons in code point order: B (66) < b (98) < é (233).
    expect(v.tokens.slice(4)).toEqual(['z', 'a', 'B', 'b', 'é']);
    const reordered = Vocabulary.build([['z'], ['a'], ['z', 'a']].reverse());
    expect(reordered.tokens).toEqual(Vocabulary.build([['z', 'a'], ['a'], ['z']]).tokens);
  });

  it('minCount drops rare tokens; maxSize counts the reserved ids; reserved tokens in the data are not added', () => {
    const seqs = [['a', 'a', 'a', 'b', 'b', 'c', '<unk>', '<unk>', '<pad>']];
    expect(Vocabulary.build(seqs, { minCount: 2 }).tokens.slice(4)).toEqual(['a', 'b']);
    expect(Vocabulary.build(seqs, { maxSize: 5 }).tokens).toEqual([...SPECIAL_TOKENS, 'a']);
    expect(Vocabulary.build(seqs, { maxSize: 4 }).size).toBe(4);
    expect(Vocabulary.build(seqs).size).toBe(7);
  });

  it('refuses a maxSize with no room for the reserved tokens', () => {
    expect(() => Vocabulary.build([['a']], { maxSize: 3 })).toThrow(VocabularyError);
    expect(() => Vocabulary.fromCounts(new Map([['a', 1]]), { maxSize: 2 })).toThrow(
      /^maxSize 2 leaves no room for the 4 reserved tokens$/,
    );
  });

  it('matches the documented order on random corpora (property), and fromCounts agrees with build', () => {
    const token = fc.oneof(
      fc.constantFrom('a', 'b', 'B', 'é', '<unk>', '<go>', 'aa', 'a ', '😀', 'Z'),
      fc.string({ maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.array(fc.array(token, { maxLength: 8 }), { maxLength: 8 }),
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.integer({ min: 4, max: 12 }), { nil: undefined }),
        (seqs, minCount, maxSize) => {
          const options = { minCount, ...(maxSize !== undefined ? { maxSize } : {}) };
          const v = Vocabulary.build(seqs, options);
          expect(v.tokens.slice(4)).toEqual(referenceOrder(seqs, minCount, maxSize));
          const counts = new Map<string, number>();
          for (const s of seqs) for (const t of s) counts.set(t, (counts.get(t) ?? 0) + 1);
          expect(Vocabulary.fromCounts(counts, options).tokens).toEqual(v.tokens);
        },
      ),
      fuzzRuns(200),
    );
  });
});

describe('lookups', () => {
  const v = new Vocabulary(['the', 'cat', 'sat']);

  it('maps unknown tokens to UNK, and has() tells them apart', () => {
    expect(v.id('cat')).toBe(5);
    expect(v.id('dog')).toBe(UNK);
    expect(v.has('dog')).toBe(false);
    expect(v.has('Cat')).toBe(false);
    expect(v.encode(['the', 'dog', 'sat'])).toEqual([4, UNK, 6]);
  });

  it('token() names the id and the size when an id is outside the vocabulary', () => {
    expect(v.token(6)).toBe('sat');
    for (const bad of [7, -1, 1.5, 100]) {
      expect(() => v.token(bad)).toThrow(VocabularyError);
      expect(() => v.token(bad)).toThrow(`id ${bad} is outside the vocabulary (size 7)`);
    }
    expect(new VocabularyError('x')).toBeInstanceOf(ToolkitError);
  });

  it('decode stops at the first EOS, skips PAD and GO, keeps UNK as <unk>, and reads typed arrays', () => {
    expect(v.decode([GO, 4, PAD, 5, UNK, 6, EOS, 5, 5])).toEqual(['the', 'cat', '<unk>', 'sat']);
    expect(v.decode(Int32Array.from([4, 5, 6]))).toEqual(['the', 'cat', 'sat']);
    expect(v.decode([EOS, 4])).toEqual([]);
    expect(v.decode([])).toEqual([]);
    // An id past the end is an error even after skipped ones; one after EOS is never read.
    expect(() => v.decode([GO, 4, 99])).toThrow(/id 99 is outside the vocabulary/);
    expect(v.decode([4, EOS, 99])).toEqual(['the']);
  });

  it('decode(encode(x)) gives x with unknown tokens as <unk> (property)', () => {
    const words = ['the', 'cat', 'sat', 'dog', 'mat', '<pad>', '<eos>'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...words), { maxLength: 12 }), (tokens) => {
        const expected: string[] = [];
        for (const t of tokens) {
          if (t === '<eos>') break;
          if (t === '<pad>') continue;
          expected.push(v.has(t) ? t : '<unk>');
        }
        expect(v.decode(v.encode(tokens))).toEqual(expected);
      }),
      fuzzRuns(200),
    );
  });

  it('unkRate counts tokens missing from the vocabulary; an empty corpus has rate 0', () => {
    const corpus = [
      ['the', 'dog'],
      ['cat', 'sat', 'on', 'the', 'mat'],
    ];
    expect(v.unkRate(corpus)).toEqual({ unknown: 3, total: 7, rate: 3 / 7 });
    expect(v.unkRate([])).toEqual({ unknown: 0, total: 0, rate: 0 });
    expect(v.unkRate([[], []])).toEqual({ unknown: 0, total: 0, rate: 0 });
    // The reserved tokens' spellings are in the vocabulary.
    expect(v.unkRate([['<unk>']]).unknown).toBe(0);
  });
});

describe('JSON', () => {
  it('saves the non-reserved tokens with a format tag and reads them back (through JSON text)', () => {
    const v = Vocabulary.build([['x', 'y', 'y', 'é', '"', '\\', '\u2028']]);
    const json = v.toJSON();
    expect(json.format).toBe('seq2seq-ts/vocabulary@1');
    expect(json.tokens).toEqual(v.tokens.slice(4));
    const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v)));
    expect(back.tokens).toEqual(v.tokens);
    expect(back.encode(['y', 'é', 'nope'])).toEqual(v.encode(['y', 'é', 'nope']));
  });

  it('round-trips any list of tokens (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 5 }), { maxLength: 20 }), (tokens) => {
        const v = new Vocabulary(tokens);
        const back = Vocabulary.fromJSON(JSON.parse(JSON.stringify(v.toJSON())));
        expect(back.tokens).toEqual(v.tokens);
        for (const t of tokens) expect(back.id(t)).toBe(v.id(t));
      }),
      fuzzRuns(200),
    );
  });

  it('refuses what is not a vocabulary, naming the source', () => {
    const shape = new RegExp(
      '^vocab\\.json: not a seq2seq-ts vocabulary ' +
        '\\(expected \\{"format":"seq2seq-ts/vocabulary@1","tokens":\\[\\.\\.\\.\\]\\}\\)$',
    );
    const format = 'seq2seq-ts/vocabulary@1';
    const bad = [
      null,
      3,
      'x',
      [],
      {},
      { format: 'seq2seq-ts/vocabulary@2', tokens: [] },
      { format },
      { format, tokens: 'a' },
    ];
    for (const json of bad) {
      expect(() => Vocabulary.fromJSON(json, 'vocab.json')).toThrow(shape);
    }
    expect(() => Vocabulary.fromJSON({ format: 'seq2seq-ts/vocabulary@1', tokens: ['a', 2] }, 'model.json')).toThrow(
      /^model\.json: tokens must be strings$/,
    );
    expect(() => Vocabulary.fromJSON(undefined)).toThrow(/^vocabulary: not a seq2seq-ts vocabulary/);
    expect(() => Vocabulary.fromJSON(null)).toThrow(VocabularyError);
  });
});
