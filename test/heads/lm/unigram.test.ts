import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readLines } from '../../../src/data/readers.js';
import { UnigramModel, UnigramError } from '../../../src/heads/lm/unigram.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const multi30k = path.resolve(here, '../../../../shared/corpora/multi30k');

async function lines(file: string): Promise<string[]> {
  const out: string[] = [];
  for await (const { text } of readLines(file)) out.push(text);
  return out;
}

describe('UnigramModel', () => {
  it('add-one smoothing over characters and end-of-sentence, worked by hand', () => {
    // Training tokens a b </s> a </s>: N = 5; types a, b, </s> plus <unk>: V = 4; denominators N + V = 9.
    const model = UnigramModel.train(['ab', 'a']);
    expect([model.total, model.types]).toEqual([5, 4]);
    expect(model.probability('a')).toBeCloseTo(3 / 9, 12);
    expect(model.probability('b')).toBeCloseTo(2 / 9, 12);
    expect(model.probability('z')).toBeCloseTo(1 / 9, 12);
    // "ac" scores a (3/9), c unseen (1/9), </s> (3/9): perplexity = (9/3 · 9 · 9/3)^(1/3) = 81^(1/3).
    const r = model.perplexity(['ac']);
    expect(r.tokens).toBe(3);
    expect(r.unknown).toBe(1);
    expect(r.perplexity).toBeCloseTo(Math.cbrt(81), 10);
    expect(r.meanNll).toBeCloseTo(Math.log(Math.cbrt(81)), 10);
  });

  it('counts spaces as characters and, at word level, words and punctuation', () => {
    expect(UnigramModel.train(['a b'], { endOfSentence: false }).tokens('a b')).toEqual(['a', '▁', 'b']);
    const words = UnigramModel.train(['The cat sat.'], { level: 'word', lowercase: true });
    expect(words.tokens('The dog.')).toEqual(['the', 'dog', '.', '</s>']);
    // N = 5 (the cat sat . </s>), V = 6: "the" has (1 + 1) / 11.
    expect(words.probability('the')).toBeCloseTo(2 / 11, 12);
  });

  it('without end-of-sentence a uniform text over k symbols has perplexity near k', () => {
    const model = UnigramModel.train(['abcd'.repeat(1000)], { endOfSentence: false });
    expect(model.perplexity(['dcba']).perplexity).toBeCloseTo(4, 2);
  });

  it('on multi30k English val: character perplexity about 20, word perplexity in the hundreds', async () => {
    const train = await lines(path.join(multi30k, 'train.en.gz'));
    const val = await lines(path.join(multi30k, 'val.en.gz'));
    const char = UnigramModel.train(train).perplexity(val);
    const word = UnigramModel.train(train, { level: 'word' }).perplexity(val);
    expect(char.perplexity).toBeGreaterThan(15);
    expect(char.perplexity).toBeLessThan(25);
    expect(word.perplexity).toBeGreaterThan(150);
    expect(word.perplexity).toBeLessThan(500);
  });

  it('refuses to train or score on nothing', () => {
    expect(() => UnigramModel.train([], { endOfSentence: false })).toThrow(UnigramError);
    expect(() => UnigramModel.train(['a']).perplexity([])).toThrow('no tokens to score');
  });
});
