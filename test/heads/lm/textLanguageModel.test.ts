import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, renameSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { TextLanguageModel } from '../../../src/heads/lm/textLanguageModel.js';
import { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG } from '../../../src/heads/lm/languageModel.js';
import { SentencePieceTokenizer } from '../../../src/data/text/sentencePieceTokenizer.js';
import { Vocabulary } from '../../../src/data/text/vocabulary.js';
import { repoRoot } from '../../helpers/cli.js';
import { WordTokenizer } from '../../../src/data/text/tokenizers.js';

beforeAll(useTestBackend);

describe('TextLanguageModel save and load', () => {
  it('keeps a SentencePiece tokenizer inside its directory: a moved model scores text identically', async () => {
    const sp = await SentencePieceTokenizer.load(resolve(repoRoot, '../shared/corpora/joeynmt-toy-de-en/sp200.model'));
    const vocabulary = new Vocabulary(sp.pieces);
    const lm = new TextLanguageModel(
      new LanguageModel({
        ...DEFAULT_LANGUAGE_MODEL_CONFIG,
        hiddenSize: 16,
        embeddingSize: 8,
        vocabSize: vocabulary.size,
      }),
      vocabulary,
      sp,
    );
    const root = mkdtempSync(join(tmpdir(), 'seq2seq-lm-'));
    await lm.save(join(root, 'a'));
    expect(readFileSync(join(root, 'a', 'model.json'), 'utf8')).toContain(sp.fileName);
    renameSync(join(root, 'a'), join(root, 'b'));
    const back = await TextLanguageModel.load(join(root, 'b'));
    const text = ['Ein Mann fährt Fahrrad.', 'Graffiti „überall“'];
    expect(back.score(text)).toEqual(lm.score(text));
    back.dispose();
    lm.dispose();
  });
});

describe('TextLanguageModel misuse', () => {
  it('refuses prompts and lines that are not strings, and a scoring batch size of 0 (which looped forever)', () => {
    const vocabulary = Vocabulary.build([['a', 'b', 'c']]);
    const lm = new TextLanguageModel(
      new LanguageModel({
        ...DEFAULT_LANGUAGE_MODEL_CONFIG,
        hiddenSize: 8,
        embeddingSize: 4,
        vocabSize: vocabulary.size,
      }),
      vocabulary,
      new WordTokenizer(),
    );
    expect(() => lm.generate(['a', null as unknown as string], { maxLength: 3 })).toThrow(
      'texts[1]: expected a string, got null',
    );
    expect(() => lm.score([5 as unknown as string])).toThrow(TypeError);
    for (const bad of [0, NaN, -1])
      expect(() => lm.score(['a b'], bad)).toThrow('batchSize must be a whole number ≥ 1');
    expect(lm.score(['a b', 'c'], 1).perplexity).toBeCloseTo(lm.score(['a b', 'c']).perplexity, 4);
    lm.dispose();
  });
});
