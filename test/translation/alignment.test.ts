import { describe, it, expect, beforeAll } from 'vitest';
import { useTestBackend } from '../helpers/backend.js';
import { parsePhraseTable, outputTokens, alignmentOf, argMax } from '../../src/translation/alignment.js';
import { Vocabulary, PAD, GO, UNK } from '../../src/data/text/vocabulary.js';

beforeAll(useTestBackend);

describe('parsePhraseTable', () => {
  it('reads phrase tables and names a malformed line', () => {
    expect([...parsePhraseTable('Haus ||| house\n\nHaus ||| home\nBaum\ttree')]).toEqual([
      ['Haus', 'house'],
      ['Baum', 'tree'],
    ]);
    expect(() => parsePhraseTable('a ||| b\nnothing here', 'pt.txt')).toThrow(/pt.txt:2: expected/);
  });
});

describe('outputTokens and alignmentOf', () => {
  const target = new Vocabulary(['a', 'man', 'dog']);
  const [a, man] = [target.id('a'), target.id('man')];
  // Output positions GO, a, <unk>, man, <unk>, PAD; each row attends most to one source position.
  const ids = [GO, a, UNK, man, UNK, PAD];
  const weights = [
    [0.5, 0.3, 0.2],
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.2, 0.6],
    [0.1, 0.1, 0.8],
    [0.4, 0.4, 0.2],
    [0.3, 0.3, 0.4], // the EOS prediction
  ];
  const source = ['ein', 'Graffiti', 'Hund'];

  it('drops PAD and GO, and keeps <unk> without attention', () => {
    expect(outputTokens(ids, target, undefined, source)).toEqual({
      tokens: ['a', '<unk>', 'man', '<unk>'],
      replaced: 0,
    });
  });

  it('replaces each <unk> by the source token it attends to most, through the phrase table', () => {
    const table = new Map([['Hund', 'dog']]);
    expect(outputTokens(ids, target, { rows: weights, columns: [0, 1, 2] }, source, table)).toEqual({
      tokens: ['a', 'Graffiti', 'man', 'dog'],
      replaced: 2,
    });
  });

  it('aligns each output token with its most attended source position; the EOS row is left out', () => {
    const { alignment, attention } = alignmentOf(ids, { rows: weights, columns: [0, 1, 2] });
    expect(alignment).toEqual([0, 1, 2, 2]);
    expect(attention).toEqual(weights.slice(1, 5));
    expect(alignmentOf(ids, { rows: weights, columns: [0, 1, 2] }, false)).toEqual({ alignment: [0, 1, 2, 2] });
  });

  it('reads rows through their columns: source token j is column columns[j] (a reversed, padded batch)', () => {
    // Steps: <pad> Hund Graffiti ein, so token j of [ein, Graffiti, Hund] is step 3 − j.
    const columns = [3, 2, 1];
    const stepped = weights.map((row) => [0, ...[...row].reverse()]);
    expect(outputTokens(ids, target, { rows: stepped, columns }, source)).toEqual({
      tokens: ['a', 'Graffiti', 'man', 'Hund'],
      replaced: 2,
    });
    expect(alignmentOf(ids, { rows: stepped, columns })).toEqual({
      alignment: [0, 1, 2, 2],
      attention: weights.slice(1, 5),
    });
  });

  it('argMax takes the first of equal maxima', () => {
    expect(argMax([1, 3, 3, 2])).toBe(1);
    expect(argMax([5])).toBe(0);
    expect(argMax([9, 1, 3, 3], [1, 3, 2])).toBe(1);
  });
});
