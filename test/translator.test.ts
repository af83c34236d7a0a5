import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from './helpers/backend.js';
import { Translator } from '../src/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../src/model/seq2seq.js';
import { numberWordsVocabularies } from '../src/data/numberWords.js';
import { CharTokenizer, SentencePieceTokenizer } from '../src/data/tokenizers.js';
import { Vocabulary } from '../src/data/vocabulary.js';
import { renameSync, mkdirSync, existsSync } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeBatch } from '../src/data/batch.js';
import { ModelFileError } from '../src/model/checkpoint.js';

beforeAll(useTestBackend);

function makeTranslator(seed: number): Translator {
  const v = numberWordsVocabularies();
  const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed }, v.source.size, v.target.size);
  const chars = new CharTokenizer();
  return new Translator(model, v.source, v.target, chars, chars, { note: 'test' });
}

const lines = ['one two five', 'nine', '', 'three three eight zero'];

describe('Translator save and load', () => {
  it('a saved model loads and gives identical outputs (text and logits)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-model-'));
    const a = makeTranslator(3);
    await a.save(dir);
    const b = await Translator.load(dir);
    expect(b.translate(lines).map((r) => r.text)).toEqual(a.translate(lines).map((r) => r.text));
    const batch = makeBatch([{ source: [5, 6, 7], target: [4, 5] }, { source: [8], target: [6] }]);
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
    expect(readdirSync(dir).sort()).toEqual(['model.json', second].sort());
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
    const spFile = resolve(dirname(fileURLToPath(import.meta.url)), '../../shared/corpora/joeynmt-toy-de-en/sp200.model');
    const sp = await SentencePieceTokenizer.load(spFile);
    const vocab = new Vocabulary(sp.pieces);
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 4 }, vocab.size, vocab.size);
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
