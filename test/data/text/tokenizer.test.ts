import { describe, it, expect } from 'vitest';
import {
  checkTexts,
  TokenizerError,
  SPACE_SYMBOL,
  type Tokenizer,
  type TokenizerConfig,
} from '../../../src/data/text/tokenizer.js';
import { ToolkitError, isUserError } from '../../../src/errors.js';

describe('the tokenizer interface', () => {
  it('TokenizerError is a ToolkitError with its own name and the message given', () => {
    const e = new TokenizerError('bad tokenizer');
    expect(e).toBeInstanceOf(ToolkitError);
    expect(e).toBeInstanceOf(Error);
    expect(isUserError(e)).toBe(true); // the CLI prints its message alone
    expect(e.name).toBe('TokenizerError');
    expect(e.message).toBe('bad tokenizer');
  });

  it('the visible space is U+2581, the symbol SentencePiece marks word starts with', () => {
    expect(SPACE_SYMBOL).toBe('\u2581');
    expect([...SPACE_SYMBOL]).toHaveLength(1);
    expect(SPACE_SYMBOL.trim()).toBe(SPACE_SYMBOL); // not whitespace: it survives splitting on spaces
  });

  it('a tokenizer written against the interface round-trips its config through JSON', () => {
    // A minimal implementation: whitespace split, its config the space kind.
    const tokenizer: Tokenizer = {
      tokenize: (text) => text.split(' ').filter((t) => t.length > 0),
      detokenize: (tokens) => tokens.join(' '),
      toJSON: (): TokenizerConfig => ({ kind: 'space' }),
    };
    expect(tokenizer.detokenize(tokenizer.tokenize(' a  b c'))).toBe('a b c');
    expect(JSON.parse(JSON.stringify(tokenizer)) as TokenizerConfig).toEqual({ kind: 'space' });
  });
});

describe('checkTexts', () => {
  it('takes arrays of strings, empty ones included', () => {
    expect(() => checkTexts([])).not.toThrow();
    expect(() => checkTexts(['', 'a b', ' '])).not.toThrow();
  });

  it("refuses a JavaScript caller's other values, naming the first bad index and what it was", () => {
    expect(() => checkTexts(['a', 5 as unknown as string])).toThrow(
      new TypeError('texts[1]: expected a string, got number'),
    );
    expect(() => checkTexts([null as unknown as string])).toThrow('texts[0]: expected a string, got null');
    expect(() => checkTexts(['a', 'b', undefined as unknown as string])).toThrow(
      'texts[2]: expected a string, got undefined',
    );
    expect(() => checkTexts('one two' as unknown as string[])).toThrow('expected an array of strings, got string');
  });
});
