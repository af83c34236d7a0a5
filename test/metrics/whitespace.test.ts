// Whitespace as Python's str.split() / str.rstrip() see it. The set below is Python 3's own
// ([c for c in map(chr, range(0x110000)) if c.isspace()]), written out so that no Python is needed here.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { splitWhitespace, trimEndWhitespace, removeWhitespace } from '../../src/metrics/whitespace.js';
import { fuzzRuns } from '../fuzz/settings.js';

const PYTHON_SPACE = [
  0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004,
  0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
].map((c) => String.fromCharCode(c));
const isSpace = (c: string): boolean => PYTHON_SPACE.includes(c);

/** Python's str.split() with no argument, character by character. */
function pySplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  for (const c of text) {
    if (isSpace(c)) {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += c;
    }
  }
  if (word !== '') words.push(word);
  return words;
}

function pyRstrip(text: string): string {
  let end = text.length;
  while (end > 0 && isSpace(text[end - 1]!)) end--;
  return text.slice(0, end);
}

// Characters that JavaScript's \s and Python disagree on, and look-alikes that are no whitespace in either.
const TRICKY = ['\u001c', '\u001f', '\u0085', '\ufeff', '\u200b', '\u180e', '\u00a0', '\u3000', '\u2028', '\u000b'];
const text = fc.oneof(
  fc
    .array(fc.constantFrom(...PYTHON_SPACE, ...TRICKY, 'a', 'é', '😀', 'x y', '\ud800'), { maxLength: 20 })
    .map((a) => a.join('')),
  fc.string({ unit: 'binary', maxLength: 30 }),
);

describe('Python whitespace', () => {
  it('splitWhitespace is str.split(): U+001C–U+001F and NEL split, U+FEFF and U+200B do not', () => {
    expect(splitWhitespace('a\u0085b\ufeffc\u200bd')).toEqual(['a', 'b\ufeffc\u200bd']);
    expect(splitWhitespace('\u001c x\u001dy\u001e\u001fz ')).toEqual(['x', 'y', 'z']);
    expect(splitWhitespace('  one\t\ttwo\n\u3000three\u00a0')).toEqual(['one', 'two', 'three']);
    expect(splitWhitespace('')).toEqual([]);
    expect(splitWhitespace(' \t\n ')).toEqual([]);
    // JavaScript's own \s would have split at U+FEFF and kept U+0085 inside the word.
    expect('a\u0085b\ufeffc'.split(/\s+/)).toEqual(['a\u0085b', 'c']);
  });

  it('trimEndWhitespace is str.rstrip(): only the end, and U+FEFF stays', () => {
    expect(trimEndWhitespace('  a b \u0085\u001f\t')).toBe('  a b');
    expect(trimEndWhitespace('a\ufeff')).toBe('a\ufeff');
    expect(trimEndWhitespace('a\ufeff ')).toBe('a\ufeff');
    expect(trimEndWhitespace('   ')).toBe('');
    expect(trimEndWhitespace('')).toBe('');
  });

  it("removeWhitespace is ''.join(text.split())", () => {
    expect(removeWhitespace(' a b\u0085c\ufeff d ')).toBe('abc\ufeffd');
  });

  it('all three agree with the character-by-character reference on arbitrary text (property)', () => {
    fc.assert(
      fc.property(text, (s) => {
        expect(splitWhitespace(s)).toEqual(pySplit(s));
        expect(trimEndWhitespace(s)).toBe(pyRstrip(s));
        expect(removeWhitespace(s)).toBe(pySplit(s).join(''));
        // The global regular expressions keep no state between calls.
        expect(splitWhitespace(s)).toEqual(pySplit(s));
      }),
      fuzzRuns(400),
    );
  });

  it('every one of the 29 characters is whitespace on its own, and no other BMP character is', () => {
    for (const c of PYTHON_SPACE) expect(splitWhitespace(`a${c}b`)).toEqual(['a', 'b']);
    for (let code = 0; code < 0x10000; code++) {
      const c = String.fromCharCode(code);
      if (isSpace(c)) continue;
      if (removeWhitespace(c) !== c) throw new Error(`U+${code.toString(16)} was taken for whitespace`);
    }
  });
});
