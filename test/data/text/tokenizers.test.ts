import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  WordTokenizer,
  CharTokenizer,
  SpaceTokenizer,
  createTokenizer,
  tokenizerConfigFromJSON,
  tokenizerFiles,
  parseTokenizerSpec,
} from '../../../src/data/text/tokenizers.js';
import { TokenizerError, SPACE_SYMBOL, type TokenizerConfig } from '../../../src/data/text/tokenizer.js';
import { SentencePieceTokenizer } from '../../../src/data/text/sentencePieceTokenizer.js';
import { readTsv, readAligned } from '../../../src/data/readers.js';
import { normalize } from '../../../src/data/text/normalize.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');
const spModel = path.join(corpora, 'joeynmt-toy-de-en/sp200.model');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tokenizers-test-'));

describe('WordTokenizer', () => {
  const en = new WordTokenizer();
  const fr = new WordTokenizer({ language: 'fr' });

  it("splits French elided articles off the next word but keeps aujourd'hui whole", () => {
    expect(fr.tokenize("Je n'aime pas l'homme d'aujourd'hui.")).toEqual([
      'Je',
      "n'",
      'aime',
      'pas',
      "l'",
      'homme',
      "d'",
      "aujourd'hui",
      '.',
    ]);
    expect(fr.tokenize("Qu'est-ce que c’est ?")).toEqual(["Qu'", 'est-ce', 'que', 'c’', 'est', '?']);
  });

  it('keeps accented and ligature letters inside words', () => {
    expect(en.tokenize('Größe Übung, straße: cœur façade')).toEqual([
      'Größe',
      'Übung',
      ',',
      'straße',
      ':',
      'cœur',
      'façade',
    ]);
  });

  it('keeps English contractions, numbers, times and ellipses whole', () => {
    expect(en.tokenize("Don't go... It's 8:30, $3.50!")).toEqual([
      "Don't",
      'go',
      '...',
      "It's",
      '8:30',
      ',',
      '$',
      '3.50',
      '!',
    ]);
  });

  it('with splitElisions off keeps "l\'homme" as one token', () => {
    expect(new WordTokenizer({ splitElisions: false }).tokenize("l'homme")).toEqual(["l'homme"]);
  });

  it('returns no tokens for blank text', () => {
    expect(en.tokenize('   ')).toEqual([]);
  });

  it('detokenizes without spaces before punctuation or after elisions and opening brackets', () => {
    expect(en.detokenize(['Hello', ',', 'world', '!', '(', 'yes', ')', 'He', 'said', '"', 'hi', '"', '.'])).toBe(
      'Hello, world! (yes) He said "hi".',
    );
    expect(fr.detokenize(['Je', "n'", 'aime', 'pas', "l'", 'homme', '.'])).toBe("Je n'aime pas l'homme.");
  });

  it('detokenizes French with a space before ! ? ; : and inside « »', () => {
    expect(fr.detokenize(['«', 'Va', '!', '»', 'Quoi', '?'])).toBe('« Va ! » Quoi ?');
    expect(en.detokenize(['Go', '!'])).toBe('Go!');
  });

  it('round-trips almost every normalised Tatoeba sentence, English and French', async () => {
    let n = 0;
    let sameEn = 0;
    let sameFr = 0;
    for await (const p of readTsv(path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv'))) {
      const s = normalize(p.source);
      const t = normalize(p.target);
      n++;
      if (en.detokenize(en.tokenize(s)) === s) sameEn++;
      if (fr.detokenize(fr.tokenize(t)) === t) sameFr++;
    }
    expect(n).toBe(4500);
    expect(sameEn / n).toBeGreaterThan(0.995);
    expect(sameFr / n).toBeGreaterThan(0.995);
  });
});

describe('CharTokenizer', () => {
  const chars = new CharTokenizer();

  it('makes one token per code point with spaces visible', () => {
    expect(chars.tokenize('où 😀')).toEqual(['o', 'ù', SPACE_SYMBOL, '😀']);
  });

  it('detokenizes every Tatoeba French sentence exactly', async () => {
    for await (const p of readTsv(path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv'))) {
      if (chars.detokenize(chars.tokenize(p.target)) !== p.target) throw new Error(`no round trip: ${p.target}`);
    }
  });
});

describe('SpaceTokenizer', () => {
  it('splits opennmt-morph lines into their characters and joins them back', async () => {
    const space = new SpaceTokenizer();
    const it = readAligned(
      path.join(corpora, 'opennmt-morph/src.valid'),
      path.join(corpora, 'opennmt-morph/tgt.valid'),
    );
    for await (const p of it) {
      const toks = space.tokenize(p.target);
      expect(toks.every((t) => [...t].length === 1)).toBe(true);
      expect(space.detokenize(toks)).toBe(p.target);
    }
  });
});

describe('createTokenizer and the config JSON', () => {
  const configs: TokenizerConfig[] = [
    { kind: 'word', splitElisions: false, language: 'fr' },
    { kind: 'char' },
    { kind: 'space' },
    { kind: 'sentencepiece', model: spModel },
  ];

  for (const config of configs) {
    it(`rebuilds an equivalent ${config.kind} tokenizer from its JSON`, async () => {
      const a = await createTokenizer(config);
      const json = JSON.parse(JSON.stringify(a.toJSON())) as unknown;
      // A saved SentencePiece tokenizer names its model file inside the model directory: write it there.
      const dir = mkdtempSync(path.join(tmp, 'saved-'));
      for (const f of tokenizerFiles([a])) writeFileSync(path.join(dir, f.name), f.bytes);
      const b = await createTokenizer(tokenizerConfigFromJSON(json), { directory: dir });
      expect(b.toJSON()).toEqual(a.toJSON());
      const text = "L'homme d'aujourd'hui est là !";
      expect(b.tokenize(text)).toEqual(a.tokenize(text));
    });
  }

  it('rejects an unknown kind and a sentencepiece config without model', () => {
    expect(() => tokenizerConfigFromJSON({ kind: 'bpe' })).toThrow(/unknown tokenizer kind "bpe"/);
    expect(() => tokenizerConfigFromJSON({ kind: 'sentencepiece' })).toThrow(/needs "model"/);
    expect(() => tokenizerConfigFromJSON(null)).toThrow(TokenizerError);
  });

  it('parses the CLI short forms', () => {
    expect(parseTokenizerSpec('word:fr')).toEqual({ kind: 'word', language: 'fr' });
    expect(parseTokenizerSpec('char')).toEqual({ kind: 'char' });
    expect(parseTokenizerSpec('sp:x.model')).toEqual({ kind: 'sentencepiece', model: 'x.model' });
    expect(() => parseTokenizerSpec('sentencepiece')).toThrow(TokenizerError);
  });
});

describe('SentencePiece models inside a model directory', () => {
  it('saves as a content-named file with its checksum, and loads only from inside the directory', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    const json = sp.toJSON();
    expect(json.model).toMatch(/^sentencepiece-[0-9a-f]{16}\.model$/);
    expect(json.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(tokenizerFiles([sp, sp])).toHaveLength(1); // one file when both sides share the model
    const dir = mkdtempSync(path.join(tmp, 'inside-'));
    writeFileSync(path.join(dir, json.model), sp.bytes);
    const back = await createTokenizer(json, { directory: dir });
    expect(back.tokenize('ein Haus')).toEqual(sp.tokenize('ein Haus'));
    // Paths that leave the directory are refused, whatever exists there.
    mkdirSync(path.join(dir, 'sub'));
    copyFileSync(spModel, path.join(dir, 'sub', 'x.model'));
    for (const model of ['../x.model', spModel, 'sub/x.model', '..', '']) {
      await expect(createTokenizer({ kind: 'sentencepiece', model }, { directory: dir })).rejects.toThrow(
        /outside the model directory/,
      );
    }
  });

  it('refuses a damaged model file, a device file and a directory', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    const dir = mkdtempSync(path.join(tmp, 'damaged-'));
    const bytes = Uint8Array.from(sp.bytes);
    bytes[bytes.length - 10] = bytes[bytes.length - 10]! ^ 0xff;
    writeFileSync(path.join(dir, sp.fileName), bytes);
    await expect(createTokenizer(sp.toJSON(), { directory: dir })).rejects.toThrow(/checksum mismatch/);
    await expect(SentencePieceTokenizer.load('/dev/zero')).rejects.toThrow(/not a regular file/);
    await expect(SentencePieceTokenizer.load(dir)).rejects.toThrow(/not a regular file/);
  });
});

describe('SentencePiece models given as bytes (as a web page has them)', () => {
  it('tokenizes as the model loaded from its directory; refuses a missing, damaged or misplaced file', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    const json = sp.toJSON();
    const files = new Map([[json.model, Uint8Array.from(sp.bytes)]]);
    const back = await createTokenizer(json, { files });
    for (const text of ['ein Haus', 'Größe „graffiti“ 😀', '']) expect(back.tokenize(text)).toEqual(sp.tokenize(text));
    expect(back.toJSON()).toEqual(json);
    await expect(createTokenizer(json, { files: new Map() })).rejects.toThrow(/was not given/);
    const damaged = Uint8Array.from(sp.bytes);
    damaged[damaged.length - 10] = damaged[damaged.length - 10]! ^ 0xff;
    await expect(createTokenizer(json, { files: new Map([[json.model, damaged]]) })).rejects.toThrow(
      /checksum mismatch/,
    );
    for (const model of ['../x.model', 'sub/x.model', 'sub\\x.model', '..'])
      await expect(createTokenizer({ kind: 'sentencepiece', model }, { files })).rejects.toThrow(
        /outside the model directory/,
      );
  });
});
