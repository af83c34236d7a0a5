import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  parseCorpusSpec,
  loadParallelCorpus,
  tokenizeCorpus,
  encodePairs,
  readCorpus,
  countTokens,
  CorpusSpecError,
  CorpusError,
} from '../../../src/data/text/corpus.js';
import { CharTokenizer, SpaceTokenizer } from '../../../src/data/text/tokenizers.js';
import { SentencePieceTokenizer } from '../../../src/data/text/sentencePieceTokenizer.js';
import { Vocabulary, UNK } from '../../../src/data/text/vocabulary.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');
const fixture = (name: string) => path.join(here, '../fixtures', name);

describe('parseCorpusSpec', () => {
  it('reads explicit formats', () => {
    expect(parseCorpusSpec('tsv:a/eng-fra.txt')).toEqual({ format: 'tsv', paths: ['a/eng-fra.txt'] });
    expect(parseCorpusSpec('aligned:train.de,train.en')).toEqual({
      format: 'aligned',
      paths: ['train.de', 'train.en'],
    });
    expect(parseCorpusSpec('jsonl:x.json')).toEqual({ format: 'jsonl', paths: ['x.json'] });
  });

  it('reads TSV columns by index or by header name', () => {
    expect(parseCorpusSpec('tsv:d.tsv#0,2')).toEqual({ format: 'tsv', paths: ['d.tsv'], columns: [0, 2] });
    expect(parseCorpusSpec('dev.tsv#src,trg')).toEqual({ format: 'tsv', paths: ['dev.tsv'], columns: ['src', 'trg'] });
  });

  it('implies the format from the extension, a comma or braces', () => {
    expect(parseCorpusSpec('c/eng-fra.tsv.gz').format).toBe('tsv');
    expect(parseCorpusSpec('pairs.ndjson').format).toBe('jsonl');
    expect(parseCorpusSpec('a.de,a.en').format).toBe('aligned');
    expect(parseCorpusSpec('m/train.{de,en}.gz')).toEqual({
      format: 'aligned',
      paths: ['m/train.de.gz', 'm/train.en.gz'],
    });
  });

  it('says what it expected when it cannot tell or the file count is wrong', () => {
    expect(() => parseCorpusSpec('corpus.txt')).toThrow(/cannot tell the format/);
    expect(() => parseCorpusSpec('aligned:only.de')).toThrow(/two files/);
    expect(() => parseCorpusSpec('tsv:a.tsv,b.tsv')).toThrow(CorpusSpecError);
    expect(() => parseCorpusSpec('tsv:a.tsv#0')).toThrow(/columns after #/);
  });
});

describe('loadParallelCorpus', () => {
  it('loads Tatoeba from the CLI string with word tokens', async () => {
    const c = await loadParallelCorpus(`${path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv')}`);
    expect(c.pairs).toHaveLength(4500);
    expect(c.read).toBe(4500);
    expect(c.pairs[0]).toEqual({ source: ['Go', '.'], target: ['Va', '!'] });
  });

  it('loads gzip multi30k with a SentencePiece source and char target, respecting limit', async () => {
    const sp = await SentencePieceTokenizer.load(path.join(corpora, 'joeynmt-toy-de-en/sp200.model'));
    const c = await loadParallelCorpus(`aligned:${path.join(corpora, 'multi30k/val.{de,en}.gz')}`, {
      sourceTokenizer: sp,
      targetTokenizer: new CharTokenizer(),
      limit: 5,
    });
    expect(c.pairs).toHaveLength(5);
    expect(sp.detokenize(c.pairs[0]!.source)).toMatch(/^Eine Gruppe von Männern/);
    expect(c.pairs[0]!.target.slice(0, 5)).toEqual(['A', '▁', 'g', 'r', 'o']);
  });

  it('normalises before tokenizing (lowercase) and counts drops from the readers', async () => {
    const c = await loadParallelCorpus(
      { format: 'tsv', paths: [fixture('pairs.tsv')] },
      { normalize: { lowercase: true }, maxTokens: 3 },
    );
    expect(c.pairs).toEqual([
      { source: ['go', '.'], target: ['va', '!'] },
      { source: ['good', 'morning', '.'], target: ['bonjour', '.'] },
    ]);
    expect(c.dropped.toJSON()).toEqual({ empty: 3, 'too-long': 1 });
    expect(c.read).toBe(6);
  });

  it('passes reader errors through with file and line', async () => {
    await expect(loadParallelCorpus(`jsonl:${fixture('bad.jsonl')}`)).rejects.toThrow(CorpusError);
    await expect(loadParallelCorpus(`jsonl:${fixture('bad.jsonl')}`)).rejects.toThrow(/bad\.jsonl:2/);
  });

  it('streams opennmt-morph with the space tokenizer', async () => {
    let n = 0;
    for await (const p of tokenizeCorpus(
      {
        format: 'aligned',
        paths: [path.join(corpora, 'opennmt-morph/src.valid'), path.join(corpora, 'opennmt-morph/tgt.valid')],
      },
      { sourceTokenizer: new SpaceTokenizer() },
    )) {
      expect(p.source.every((t) => [...t].length === 1)).toBe(true);
      n++;
    }
    expect(n).toBe(196);
  });

  it('reads raw pairs of a JSON Lines corpus', async () => {
    const raw = [];
    for await (const p of readCorpus({ format: 'jsonl', paths: [fixture('pairs.jsonl')] })) raw.push(p);
    expect(raw).toHaveLength(3);
  });
});

describe('loadParallelCorpus: line limit', () => {
  it('drops pairs whose line is over maxLineBytes, counted as line-too-long, and keeps the rest', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'corpus-limit-'));
    const file = path.join(dir, 'c.tsv');
    writeFileSync(file, `a b\tA B\n${'x '.repeat(100)}\tX\nc\tC\n`);
    const corpus = await loadParallelCorpus(`tsv:${file}`, { sourceTokenizer: new SpaceTokenizer(), maxLineBytes: 50 });
    expect(corpus.pairs.map((p) => p.source)).toEqual([['a', 'b'], ['c']]);
    expect(corpus.dropped.toJSON()).toEqual({ 'line-too-long': 1 });
    expect(corpus.read).toBe(3);
    expect((await loadParallelCorpus(`tsv:${file}`, { sourceTokenizer: new SpaceTokenizer() })).pairs).toHaveLength(3);
  });
});

describe('countTokens', () => {
  it('streams token counts that build the same vocabulary as the loaded pairs', async () => {
    const spec = `aligned:${path.join(corpora, 'joeynmt-toy-de-en/train.{de,en}')}`;
    const counts = await countTokens(spec);
    const loaded = await loadParallelCorpus(spec);
    expect(counts.pairs).toBe(1000);
    expect(counts.source.get('Gallo')).toBe(loaded.pairs.flatMap((p) => p.source).filter((t) => t === 'Gallo').length);
    const a = Vocabulary.fromCounts(counts.target, { maxSize: 500 });
    const b = Vocabulary.build(
      loaded.pairs.map((p) => p.target),
      { maxSize: 500 },
    );
    expect(a.tokens).toEqual(b.tokens);
  });
});

describe('encodePairs', () => {
  it('maps each side through its own vocabulary, unknown tokens to UNK', () => {
    const src = new Vocabulary(['go']);
    const tgt = new Vocabulary(['va', '!']);
    expect(encodePairs([{ source: ['go', '.'], target: ['va', '!'] }], src, tgt)).toEqual([
      { source: [4, UNK], target: [4, 5] },
    ]);
  });
});
