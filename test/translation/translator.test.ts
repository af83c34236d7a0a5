import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { CharTokenizer, WordTokenizer } from '../../src/data/text/tokenizers.js';
import { SentencePieceTokenizer } from '../../src/data/text/sentencePieceTokenizer.js';
import { Vocabulary, UNK } from '../../src/data/text/vocabulary.js';
import { EnsembleError } from '../../src/translation/translator.js';
import { parsePhraseTable } from '../../src/translation/alignment.js';
import { renameSync, mkdirSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBatch } from '../../src/data/text/batch.js';
import { ModelFileError } from '../../src/model/modelFiles.js';

beforeAll(useTestBackend);

function makeTranslator(seed: number): Translator {
  const v = numberWordsVocabularies();
  const model = new Seq2Seq(
    { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed },
    v.source.size,
    v.target.size,
  );
  const chars = new CharTokenizer();
  return new Translator(model, v.source, v.target, chars, chars, { note: 'test' });
}

const lines = ['one two five', 'nine', '', 'three three eight zero'];

describe('Translator attention', () => {
  it("keeps each hypothesis' attention from the search: equal to the teacher-forced weights on its output, greedy and beam, one model and an ensemble", () => {
    const a = makeTranslator(5);
    const b = makeTranslator(6);
    const ensemble = Translator.ensemble([a, b]);
    const sources = ['one two five', 'nine', 'three three eight zero seven', 'four'];
    for (const [t, members] of [
      [a, [a]],
      [ensemble, [a, b]],
    ] as const) {
      for (const options of [{ beamSize: 1 }, { beamSize: 3, nBest: 2 }]) {
        const out = t.translate(sources, { ...options, alignments: 'matrix', replaceUnknown: false });
        out.forEach((r) => {
          const source = t.sourceVocabulary.encode(r.sourceTokens);
          for (const h of r.nBest) {
            const target = t.targetVocabulary.encode(h.tokens!);
            // One teacher-forced pass per member on (source, output); rows for the output tokens, EOS's dropped.
            const forced = members.map(
              (m) =>
                m.model.attentionWeights(
                  makeBatch([{ source, target }], { reverseSource: m.model.config.reverseSource }),
                )[0]!,
            );
            expect(h.attention).toHaveLength(target.length);
            h.attention!.forEach((row, i) => {
              expect(row).toHaveLength(source.length);
              row.forEach((w, j) => {
                const mean = forced.reduce((sum, f) => sum + f[i]![j]!, 0) / forced.length;
                expect(Math.abs(w - mean)).toBeLessThan(1e-5);
              });
            });
            expect(h.alignment).toEqual(h.attention!.map((row) => row.indexOf(Math.max(...row))));
          }
        });
      }
    }
    a.dispose();
    b.dispose();
  });
});

describe('Translator save and load', () => {
  it('a saved model loads and gives identical outputs (text and logits)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-model-'));
    const a = makeTranslator(3);
    await a.save(dir);
    const b = await Translator.load(dir);
    expect(b.translate(lines).map((r) => r.text)).toEqual(a.translate(lines).map((r) => r.text));
    const batch = makeBatch([
      { source: [5, 6, 7], target: [4, 5] },
      { source: [8], target: [6] },
    ]);
    const la = tf.tidy(() => Array.from(a.model.logits(batch).dataSync()));
    const lb = tf.tidy(() => Array.from(b.model.logits(batch).dataSync()));
    expect(lb).toEqual(la);
    expect(b.info).toEqual({ note: 'test' });
    expect(b.model.config).toEqual(a.model.config);
    a.dispose();
    b.dispose();
  });

  it('gives an empty line for an empty input line, keeping input order', () => {
    const t = makeTranslator(4);
    const out = t.translate(lines);
    expect(out).toHaveLength(4);
    expect(out[2]!.text).toBe('');
    // Batching sorts by length internally; each result must still be the one for its own input.
    const alone = lines.map((l) => t.translate([l])[0]!.text);
    expect(out.map((r) => r.text)).toEqual(alone);
    t.dispose();
  });

  it("translateIdsText, validation's unscored greedy decoding, gives translateIds' texts in input order", () => {
    const t = makeTranslator(6);
    const v = numberWordsVocabularies();
    const ids = [...lines, 'seven', 'four four four four four four'].map((l) =>
      l === '' ? [] : v.source.encode([...l]),
    );
    const scored = t.translateIds(ids, { batchSize: 3 });
    expect(t.translateIdsText(ids, { batchSize: 3 })).toEqual(scored.map((n) => n[0]?.text ?? ''));
    expect(t.translateIdsText(ids, { batchSize: 3 })[2]).toBe('');
    t.dispose();
  });

  it('reports source tokens missing from the vocabulary', () => {
    const t = makeTranslator(5);
    expect(t.translate(['one twq'])[0]!.unknownTokens).toEqual(['q']);
    t.dispose();
  });

  it('replaces a model atomically: the old weights file goes only after model.json names the new one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-model-'));
    const a = makeTranslator(6);
    await a.save(dir);
    const first = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weights.file;
    const b = makeTranslator(7);
    await b.save(dir);
    const second = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).weights.file;
    expect(second).not.toBe(first);
    // (and the list of files the writer made, which is how it knows the old weights file was its own)
    expect(readdirSync(dir).sort()).toEqual(['.seq2seq-written', 'model.json', second].sort());
    a.dispose();
    b.dispose();
  });

  it('names the problem for a missing, empty or corrupt model directory', async () => {
    await expect(Translator.load('/nonexistent/model')).rejects.toThrow(/no such model directory/);
    const empty = mkdtempSync(join(tmpdir(), 'seq2seq-empty-'));
    await expect(Translator.load(empty)).rejects.toThrow(/not a model directory/);
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-model-'));
    const t = makeTranslator(8);
    await t.save(dir);
    t.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const weights = join(dir, json.weights.file);
    const bytes = readFileSync(weights);
    bytes[10] = bytes[10]! ^ 0xff;
    writeFileSync(weights, bytes);
    await expect(Translator.load(dir)).rejects.toThrow(/checksum mismatch/);
    writeFileSync(join(dir, 'model.json'), '{"format": "seq2seq-ts/model@1", ');
    await expect(Translator.load(dir)).rejects.toThrow(ModelFileError);
    await expect(Translator.load(dir)).rejects.toThrow(/corrupt JSON/);
  });
});

describe('a SentencePiece model directory is self-contained', () => {
  it('translates identically after the directory moves and from another working directory', async () => {
    const spFile = resolve(
      dirname(fileURLToPath(import.meta.url)),
      '../../../shared/corpora/joeynmt-toy-de-en/sp200.model',
    );
    const sp = await SentencePieceTokenizer.load(spFile);
    const vocab = new Vocabulary(sp.pieces);
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 4 },
      vocab.size,
      vocab.size,
    );
    const a = new Translator(model, vocab, vocab, sp, sp);
    const root = mkdtempSync(join(tmpdir(), 'seq2seq-move-'));
    await a.save(join(root, 'first'));
    const json = readFileSync(join(root, 'first', 'model.json'), 'utf8');
    expect(json).not.toContain(spFile); // the model file is copied in, not pointed at
    expect(existsSync(join(root, 'first', sp.fileName))).toBe(true);
    mkdirSync(join(root, 'elsewhere'));
    renameSync(join(root, 'first'), join(root, 'elsewhere', 'moved'));
    const third = mkdtempSync(join(tmpdir(), 'seq2seq-cwd-'));
    const cwd = process.cwd();
    process.chdir(third);
    try {
      const b = await Translator.load(join(root, 'elsewhere', 'moved'));
      const text = ['Ein Mann fährt Fahrrad.', 'Zwei Hunde „spielen“ im Schnee 🐕'];
      expect(b.translate(text, { beamSize: 2 })).toEqual(a.translate(text, { beamSize: 2 }));
      b.dispose();
    } finally {
      process.chdir(cwd);
    }
    a.dispose();
  });
});

describe('text nobody tuned for', () => {
  const words = new WordTokenizer({});
  const source = new Vocabulary(['ein', 'Mann', 'Hund', '.']);
  const target = new Vocabulary(['a', 'man', 'dog', '.']);
  /** A word model whose output layer favours <unk> (so that replacement has something to do). */
  function unkModel(seed: number, favourUnk: boolean): Translator {
    const model = new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed },
      source.size,
      target.size,
    );
    if (favourUnk) {
      const [, bias] = model.params.entries().find(([name]) => name.endsWith('output/b'))!;
      const b = new Float32Array(target.size);
      b[UNK] = 8;
      bias.assign(tf.tensor1d(b));
    }
    return new Translator(model, source, target, words, words);
  }
  const lines = ['ein Mann mit Graffiti .', 'Zwölf „Hunde“ 🐕', 'ein Hund', ''];

  it('translates every non-empty line, whatever words it holds, and reports the unknown ones', () => {
    const t = unkModel(1, false);
    const out = t.translate(lines, { beamSize: 3 });
    expect(out.map((r) => r.text.length > 0)).toEqual([true, true, true, false]);
    expect(out[0]!.unknownTokens).toEqual(['mit', 'Graffiti']);
    expect(out[2]!.unknownTokens).toEqual([]);
    t.dispose();
  });

  it('replaces each <unk> written by the source token it attends to most, through the phrase table', () => {
    const t = unkModel(2, true);
    const table = parsePhraseTable('Graffiti ||| graffiti\nHunde\tdogs\n');
    const out = t.translate(lines, { alignments: 'matrix', phraseTable: table });
    const kept = t.translate(lines, { replaceUnknown: false });
    for (const [i, r] of out.entries()) {
      if (lines[i] === '') continue;
      const best = r.nBest[0]!;
      const raw = kept[i]!.nBest[0]!.tokens!;
      expect(raw.filter((x) => x === '<unk>').length).toBeGreaterThan(0);
      expect(r.replacedUnknown).toBe(raw.filter((x) => x === '<unk>').length);
      expect(best.alignment).toHaveLength(raw.length);
      raw.forEach((tok, k) => {
        const row = best.attention![k]!;
        expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
        expect(best.alignment![k]).toBe(row.indexOf(Math.max(...row)));
        const word = r.sourceTokens[best.alignment![k]!]!;
        expect(best.tokens![k]).toBe(tok === '<unk>' ? (table.get(word) ?? word) : tok);
      });
      expect(r.text).not.toContain('<unk>');
    }
    t.dispose();
  });

  it('decodes an ensemble with averaged log-probabilities, and refuses models of other vocabularies', () => {
    const a = unkModel(3, false);
    const b = unkModel(4, false);
    const e = Translator.ensemble([a, unkModel(3, false)]);
    // Two copies of one model decode as that model.
    expect(e.translate(lines, { beamSize: 3 }).map((r) => r.text)).toEqual(
      a.translate(lines, { beamSize: 3 }).map((r) => r.text),
    );
    const v = numberWordsVocabularies();
    const other = new Translator(
      new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8 }, v.source.size, v.target.size),
      v.source,
      v.target,
      words,
      words,
    );
    expect(() => Translator.ensemble([b, other], ['A', 'B'])).toThrow(EnsembleError);
    expect(() => Translator.ensemble([b, other], ['A', 'B'])).toThrow(/B has another target vocabulary than A/);
    e.dispose();
    a.dispose();
    b.dispose();
    other.dispose();
  });
});

describe('a model.json whose config disagrees with its manifest', () => {
  it('is refused before the model is built, naming the weight', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-mismatch-'));
    const t = makeTranslator(8);
    await t.save(dir);
    t.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.config.hiddenSize = 4096; // 4096² weights per matrix if it were built
    delete json.checksum; // as an older directory without one
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    const before = tf.memory().numTensors;
    await expect(Translator.load(dir)).rejects.toThrow(/model\.json.*(shape|manifest)/);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Translator misuse from JavaScript', () => {
  it('refuses lines that are not strings and options out of range, before any work', () => {
    const t = makeTranslator(21);
    expect(() => t.translate(['one', 5 as unknown as string])).toThrow(
      new TypeError('texts[1]: expected a string, got number'),
    );
    expect(() => t.translate('one two' as unknown as string[])).toThrow('expected an array of strings, got string');
    expect(() => t.translate(['one'], { batchSize: NaN })).toThrow('batchSize must be a whole number ≥ 1, got NaN');
    expect(() => t.translate(['one'], { lengthPenalty: -1 })).toThrow(/^lengthPenalty/);
    expect(() => t.translate(['one'], { alignments: 'all' as 'best' })).toThrow(
      'alignments must be one of none, best, matrix, got all',
    );
    expect(() => t.translateIds([[4, 5]], { maxLengthRatio: NaN })).toThrow(RangeError);
    expect(t.translate(['one two'], { batchSize: 1 })[0]!.text).toBe(t.translate(['one two'])[0]!.text);
    t.dispose();
  });

  it('says so when used after dispose()', () => {
    const t = makeTranslator(22);
    t.dispose();
    expect(() => t.translate(['one'])).toThrow(/used after dispose\(\), which freed its weights/);
  });
});

describe('a model.json whose config has a field out of range', () => {
  it('is refused naming the file and the field', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-badconfig-'));
    const t = makeTranslator(9);
    await t.save(dir);
    t.dispose();
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    json.config.seed = -3;
    delete json.checksum;
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    await expect(Translator.load(dir)).rejects.toThrow(
      `${join(dir, 'model.json')}: config: seed must be an integer from 0 to 4294967295, got -3`,
    );
  });
});
