import { describe, it, expect } from 'vitest';
import { tokenize13a } from '../../src/metrics/tokenize13a.js';

// Each expected string was derived by hand from the mteval-v13a rules and then confirmed with sacreBLEU 2.6.0's own
// Tokenizer13a (source from github.com/mjpost/sacrebleu at f615c72, run with Debian's python3 3.11):
//   from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a; print(repr(Tokenizer13a()(line)))
describe('tokenize13a', () => {
  it('splits punctuation off words', () => {
    expect(tokenize13a('Hello, world!')).toBe('Hello , world !');
  });

  it('keeps periods and commas inside numbers but splits them elsewhere', () => {
    // "$" is in the symbol class; "3.50," keeps "." (digits both sides) and splits "," (a space follows).
    expect(tokenize13a('It costs $3.50, or 1,000.5 units.')).toBe('It costs $ 3.50 , or 1,000.5 units .');
    // "U." and "S." have letters before the period; "4." has a space after it; ".5" has a space before it.
    expect(tokenize13a('U.S. 4. .5')).toBe('U . S . 4 . . 5');
  });

  it('splits a dash only after a digit', () => {
    expect(tokenize13a('From 1990-2000 a well-known co-op.')).toBe('From 1990 - 2000 a well-known co-op .');
    expect(tokenize13a('5-6 a-5 -7')).toBe('5 - 6 a-5 -7');
  });

  it('splits every ASCII symbol of the class except the apostrophe, period, comma and dash', () => {
    // The class ranges are { to ~, [ to `, space to &, ( to +, : to @, and /; the apostrophe (0x27) falls between two.
    expect(tokenize13a("can't stop (now) [x] {y} a/b ~z^ _q_ `t`")).toBe(
      "can't stop ( now ) [ x ] { y } a / b ~ z ^ _ q _ ` t `",
    );
  });

  it('unescapes exactly four entities, &quot; then &amp; then &lt; and &gt;', () => {
    expect(tokenize13a('&quot;Hi&quot; &amp; &lt;b&gt;')).toBe('" Hi " & < b >');
    // &amp; is undone before &lt;, so a double-escaped "<" comes out as "<".
    expect(tokenize13a('&amp;lt;')).toBe('<');
  });

  it('drops <skipped> and joins words hyphenated across a line break', () => {
    expect(tokenize13a('<skipped> text')).toBe('text');
    expect(tokenize13a('hyphen-\nated line\nbreak')).toBe('hyphenated line break');
  });

  it('leaves non-ASCII punctuation alone', () => {
    expect(tokenize13a('naïve „Zitat“ – ok')).toBe('naïve „Zitat“ – ok');
  });

  it('collapses whitespace as Python does, NEL (U+0085) included', () => {
    expect(tokenize13a('Tab\tand  spaces ')).toBe('Tab and spaces');
    expect(tokenize13a('a\u0085b')).toBe('a b');
  });

  it('returns an empty string for an empty line', () => {
    expect(tokenize13a('')).toBe('');
  });
});
