import { describe, it, expect, beforeAll } from 'vitest';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { readPretrainedVectors, loadPretrainedEmbeddings, PretrainedError } from '../../src/layers/pretrained.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';

beforeAll(useTestBackend);

const fixture = (name: string) => join(import.meta.dirname, 'fixtures', name);

describe('readPretrainedVectors (GloVe text format)', () => {
  it('reads words and vectors, keeps the first of a repeated word, skips blank lines', async () => {
    const v = await readPretrainedVectors(fixture('glove-4d.txt'));
    expect(v.dimension).toBe(4);
    expect([...v.vectors.keys()]).toEqual(['the', 'milk', 'drink', 'Berlin', 'berlin', 'paris']);
    expect(Array.from(v.vectors.get('the')!)).toEqual([0.1, 0.2, 0.3, 0.4].map(Math.fround));
    expect(Array.from(v.vectors.get('drink')!)).toEqual([-0.5, 0, 0.2, 1.5].map(Math.fround));
  });

  it('reads gzip-compressed files and fastText .vec files (count-dim header)', async () => {
    const plain = await readPretrainedVectors(fixture('glove-4d.txt'));
    const gz = await readPretrainedVectors(fixture('glove-4d.txt.gz'));
    expect([...gz.vectors.entries()]).toEqual([...plain.vectors.entries()]);
    const vec = await readPretrainedVectors(fixture('vectors-4d.vec'));
    expect(vec.dimension).toBe(4);
    expect([...vec.vectors.keys()]).toEqual(['the', 'milk', 'drink']);
  });

  it('keeps only the words asked for (and their lowercase forms)', async () => {
    const v = await readPretrainedVectors(fixture('glove-4d.txt'), { words: ['Milk', 'BERLIN'] });
    expect([...v.vectors.keys()].sort()).toEqual(['berlin', 'milk']);
  });

  it('names the file and line of a vector of the wrong width', async () => {
    const file = fixture('glove-bad-width.txt');
    await expect(readPretrainedVectors(file)).rejects.toThrow(PretrainedError);
    await expect(readPretrainedVectors(file)).rejects.toThrow(`${file}:2: 3 numbers after "milk", expected 4`);
  });

  it('names the file, line and field that is not a number', async () => {
    const file = fixture('glove-bad-number.txt');
    await expect(readPretrainedVectors(file)).rejects.toThrow(`${file}:2: "abc" (number 3 of "milk") is not a number`);
  });

  it('says so when the file is missing', async () => {
    await expect(readPretrainedVectors(fixture('nope.txt'))).rejects.toThrow(/nope\.txt: cannot read/);
  });
});

describe('loadPretrainedEmbeddings', () => {
  it('sets the rows of found words, tries lowercase second, leaves other rows, and reports the counts', async () => {
    const vectors = await readPretrainedVectors(fixture('glove-4d.txt'));
    const source = new Vocabulary(['milk', 'Paris', 'Berlin', 'unknownword']);
    const target = new Vocabulary(['the', 'drink', 'x']);
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, embeddingSize: 4, hiddenSize: 6 }, source.size, target.size);
    const before = model.embedding('source').arraySync() as number[][];
    const coverage = loadPretrainedEmbeddings(model, 'source', source, vectors);
    expect(coverage).toEqual({ words: 4, exact: 2, lowercase: 1, found: 3 });
    const after = model.embedding('source').arraySync() as number[][];
    expect(after[source.id('milk')]).toEqual([1, -1, 0.5, 0.25]);
    expect(after[source.id('Paris')]).toEqual([0.5, 0.5, 0.5, -0.5]); // via "paris"
    expect(after[source.id('Berlin')]).toEqual([3, 3, 3, 3]); // the exact form wins over "berlin"
    expect(after[source.id('unknownword')]).toEqual(before[source.id('unknownword')]);
    expect(after.slice(0, 4)).toEqual(before.slice(0, 4)); // reserved tokens untouched
    expect(loadPretrainedEmbeddings(model, 'target', target, vectors)).toEqual({
      words: 3,
      exact: 2,
      lowercase: 0,
      found: 2,
    });
    model.dispose();
  });

  it('refuses vectors of another width than the embeddings, naming both', async () => {
    const vectors = await readPretrainedVectors(fixture('glove-4d.txt'));
    const vocab = new Vocabulary(['milk']);
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, embeddingSize: 5, hiddenSize: 6 }, vocab.size, vocab.size);
    expect(() => loadPretrainedEmbeddings(model, 'source', vocab, vectors)).toThrow(
      /vectors are 4 wide, the model's source embeddings 5 \(set embeddingSize to 4\)/,
    );
    model.dispose();
  });
});
