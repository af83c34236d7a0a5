import { describe, it, expect, beforeAll } from 'vitest';
import { useTestBackend } from '../helpers/backend.js';
import { parsePhraseTable, outputTokens, alignmentOf } from '../../src/translation/alignment.js';
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
  // Output positions GO, a, <unk>, man, <unk>, PAD, then the EOS prediction; per position the source token attended
  // to most (Hypothesis.alignment) and the weights (Hypothesis.attention).
  const ids = [GO, a, UNK, man, UNK, PAD];
  const alignment = [0, 0, 1, 2, 2, 0, 2];
  const weights = [
    [0.5, 0.3, 0.2],
    [0.7, 0.2, 0.1],
    [0.1, 0.8, 0.1],
    [0.2, 0.2, 0.6],
    [0.1, 0.1, 0.8],
    [0.4, 0.4, 0.2],
    [0.3, 0.3, 0.4],
  ].map((row) => Float32Array.from(row));
  const source = ['ein', 'Graffiti', 'Hund'];

  it('drops PAD and GO, and keeps <unk> without an alignment', () => {
    expect(outputTokens(ids, target, undefined, source)).toEqual({
      tokens: ['a', '<unk>', 'man', '<unk>'],
      replaced: 0,
    });
  });

  it('replaces each <unk> by the source token it attends to most, through the phrase table', () => {
    const table = new Map([['Hund', 'dog']]);
    expect(outputTokens(ids, target, alignment, source, table)).toEqual({
      tokens: ['a', 'Graffiti', 'man', 'dog'],
      replaced: 2,
    });
  });

  it('gives each output token its most attended source token and the weights when given; no EOS row', () => {
    expect(alignmentOf(ids, alignment)).toEqual({ alignment: [0, 1, 2, 2] });
    const { alignment: best, attention } = alignmentOf(ids, alignment, weights);
    expect(best).toEqual([0, 1, 2, 2]);
    expect(attention).toEqual(weights.slice(1, 5).map((row) => Array.from(row)));
    expect(attention![0]).toBeInstanceOf(Array);
  });
});
