import { describe, it, expect } from 'vitest';
import { normalize, makeNormalizer } from '../../../src/data/text/normalize.js';

describe('normalize', () => {
  it('composes a letter and a combining accent into one code point (NFC, the default)', () => {
    const decomposed = 'e\u0301te\u0301';
    expect(decomposed).toHaveLength(5);
    expect(normalize(decomposed)).toBe('été');
    expect(normalize(decomposed)).toHaveLength(3);
  });

  it('folds compatibility characters only with NFKC', () => {
    expect(normalize('ﬁn １２')).toBe('ﬁn １２');
    expect(normalize('ﬁn １２', { form: 'NFKC' })).toBe('fin 12');
  });

  it('leaves text alone with form none and no whitespace collapsing', () => {
    expect(normalize('e\u0301  x', { form: 'none', collapseWhitespace: false })).toBe('e\u0301  x');
  });

  it('lowercases on request, locale-aware when a locale is given', () => {
    expect(normalize('Où EST Größe')).toBe('Où EST Größe');
    expect(normalize('Où EST Größe', { lowercase: true })).toBe('où est größe');
    expect(normalize('I', { lowercase: true, locale: 'tr' })).toBe('ı');
  });

  it('collapses tabs and no-break spaces into single spaces and trims', () => {
    expect(normalize(' Cours\u00a0!\t\tVite  ')).toBe('Cours ! Vite');
  });

  it('makeNormalizer resolves options once and behaves like normalize', () => {
    const f = makeNormalizer({ form: 'NFKC', lowercase: true });
    expect(f('Ｈｅｌｌｏ')).toBe('hello');
  });
});
