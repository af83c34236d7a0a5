import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, existsSync, readFileSync, writeFileSync, mkdirSync, copyFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  WordTokenizer,
  CharTokenizer,
  SpaceTokenizer,
  SentencePieceTokenizer,
  createTokenizer,
  tokenizerConfigFromJSON,
  tokenizerFiles,
  parseTokenizerSpec,
  trainSentencePiece,
  TokenizerError,
  SPACE_SYMBOL,
  type TokenizerConfig,
} from '../../../src/data/text/tokenizers.js';
import { readTsv, readAligned } from '../../../src/data/readers.js';
import { normalize } from '../../../src/data/text/normalize.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');
const spModel = path.join(corpora, 'joeynmt-toy-de-en/sp200.model');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'tokenizers-test-'));

function hasSpmTrain(): boolean {
  // CI installs spm_train (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing tool fails instead of skipping.
  if (process.env['REQUIRE_SYSTEM_TOOLS'] === '1') return true;
  try {
    execFileSync('sh', ['-c', 'command -v spm_train'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('WordTokenizer', () => {
  const en = new WordTokenizer();
  const fr = new WordTokenizer({ language: 'fr' });

  it("splits French elided articles off the next word but keeps aujourd'hui whole", () => {
    expect(fr.tokenize("Je n'aime pas l'homme d'aujourd'hui.")).toEqual(['Je', "n'", 'aime', 'pas', "l'", 'homme', "d'", "aujourd'hui", '.']);
    expect(fr.tokenize("Qu'est-ce que c’est ?")).toEqual(["Qu'", 'est-ce', 'que', 'c’', 'est', '?']);
  });

  it('keeps accented and ligature letters inside words', () => {
    expect(en.tokenize('Größe Übung, straße: cœur façade')).toEqual(['Größe', 'Übung', ',', 'straße', ':', 'cœur', 'façade']);
  });

  it('keeps English contractions, numbers, times and ellipses whole', () => {
    expect(en.tokenize("Don't go... It's 8:30, $3.50!")).toEqual(["Don't", 'go', '...', "It's", '8:30', ',', '$', '3.50', '!']);
  });

  it('with splitElisions off keeps "l\'homme" as one token', () => {
    expect(new WordTokenizer({ splitElisions: false }).tokenize("l'homme")).toEqual(["l'homme"]);
  });

  it('returns no tokens for blank text', () => {
    expect(en.tokenize('   ')).toEqual([]);
  });

  it('detokenizes without spaces before punctuation or after elisions and opening brackets', () => {
    expect(en.detokenize(['Hello', ',', 'world', '!', '(', 'yes', ')', 'He', 'said', '"', 'hi', '"', '.'])).toBe('Hello, world! (yes) He said "hi".');
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
    const it = readAligned(path.join(corpora, 'opennmt-morph/src.valid'), path.join(corpora, 'opennmt-morph/tgt.valid'));
    for await (const p of it) {
      const toks = space.tokenize(p.target);
      expect(toks.every((t) => [...t].length === 1)).toBe(true);
      expect(space.detokenize(toks)).toBe(p.target);
    }
  });
});

describe('SentencePieceTokenizer', () => {
  it('loads sp200.model and splits German into its pieces', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    const pieces = sp.tokenize('Ich freue mich , dass ich da bin .');
    expect(pieces[0]).toBe('▁I');
    expect(pieces.length).toBe(sp.encodeIds('Ich freue mich , dass ich da bin .').length);
    expect(pieces.length).toBeGreaterThan(8);
  });

  it('detokenizes every joeynmt training sentence exactly', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    let n = 0;
    for await (const p of readAligned(path.join(corpora, 'joeynmt-toy-de-en/train.de'), path.join(corpora, 'joeynmt-toy-de-en/train.en'))) {
      for (const text of [p.source, p.target]) if (sp.detokenize(sp.tokenize(text)) !== text) throw new Error(`no round trip: ${text}`);
      n++;
    }
    expect(n).toBe(1000);
  });

  it('decodes byte-fallback pieces back to UTF-8', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    expect(sp.detokenize(['▁a', '<0xE2>', '<0x82>', '<0xAC>', '▁b'])).toBe('a€ b');
  });

  it('does not leave process-wide error listeners behind', async () => {
    const before = process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException');
    await SentencePieceTokenizer.load(spModel);
    expect(process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException')).toBe(before);
  });

  it('rejects a file that is not a model, and a missing file', async () => {
    await expect(SentencePieceTokenizer.load(path.join(corpora, 'joeynmt-toy-de-en/dev.de'))).rejects.toThrow(/is not a SentencePiece model/);
    await expect(SentencePieceTokenizer.load(path.join(tmp, 'missing.model'))).rejects.toThrow(TokenizerError);
  });
});

describe('createTokenizer and the config JSON', () => {
  const configs: TokenizerConfig[] = [{ kind: 'word', splitElisions: false, language: 'fr' }, { kind: 'char' }, { kind: 'space' }, { kind: 'sentencepiece', model: spModel }];

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

describe('trainSentencePiece', () => {
  it('says how to install spm_train when it is missing', async () => {
    await expect(trainSentencePiece({ input: path.join(corpora, 'joeynmt-toy-de-en/train.de'), modelPrefix: path.join(tmp, 'x'), spmTrain: path.join(tmp, 'no/spm_train') })).rejects.toThrow(
      /apt-get install sentencepiece/,
    );
  });

  it.skipIf(!hasSpmTrain())('trains a model with spm_train that sentencepiece-js loads and that round-trips text', async () => {
    const prefix = path.join(tmp, 'de100');
    const out = await trainSentencePiece({ input: path.join(corpora, 'joeynmt-toy-de-en/train.de'), modelPrefix: prefix, vocabSize: 100 });
    expect(existsSync(out.model)).toBe(true);
    expect(readFileSync(out.vocab, 'utf8').trim().split('\n')).toHaveLength(100);
    const sp = await SentencePieceTokenizer.load(out.model);
    const text = 'Wir werden Ihnen einige Geschichten über das Meer erzählen.';
    expect(sp.detokenize(sp.tokenize(text))).toBe(text);
  });

  it.skipIf(!hasSpmTrain())('reports spm_train failures with its message', async () => {
    await expect(trainSentencePiece({ input: path.join(here, 'fixtures/short.de'), modelPrefix: path.join(tmp, 'tiny'), vocabSize: 5000 })).rejects.toThrow(/spm_train failed/);
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
      await expect(createTokenizer({ kind: 'sentencepiece', model }, { directory: dir })).rejects.toThrow(/outside the model directory/);
    }
  });

  it('refuses a damaged model file, a device file and a directory', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    const dir = mkdtempSync(path.join(tmp, 'damaged-'));
    const bytes = Uint8Array.from(sp.bytes);
    bytes[bytes.length - 10] ^= 0xff;
    writeFileSync(path.join(dir, sp.fileName), bytes);
    await expect(createTokenizer(sp.toJSON(), { directory: dir })).rejects.toThrow(/checksum mismatch/);
    await expect(SentencePieceTokenizer.load('/dev/zero')).rejects.toThrow(/not a regular file/);
    await expect(SentencePieceTokenizer.load(dir)).rejects.toThrow(/not a regular file/);
  });
});
