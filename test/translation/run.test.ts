// prepareTranslation: from a config to a task ready for the loop (corpus read and split, vocabularies, buckets,
// model, pretrained vectors, joint subwords), its fingerprint of the training pairs, its refusals, and resuming
// from a checkpoint (the checkpoint's vocabularies, tokenizers and weights; the same corpus required).
import { describe, it, expect, beforeAll } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { prepareTranslation, type SavedRunConfig } from '../../src/translation/run.js';
import { resolveConfig, ConfigError, type PartialTrainConfig } from '../../src/translation/config.js';
import { train } from '../../src/train/loop.js';
import { readCheckpoint, CheckpointError } from '../../src/train/checkpoints.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { SentencePieceTokenizer } from '../../src/data/text/sentencePieceTokenizer.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

let dir = '';
let corpus = '';
let validCorpus = '';
let lines: [string, string][] = [];

function toyLines(n: number, seed: number): [string, string][] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const words = Array.from({ length: rng.int(1, 5) }, () => `w${rng.int(0, 14)}`);
    return [words.join(' '), [...words].reverse().join(' ').toUpperCase()];
  });
}

const writeTsv = (file: string, pairs: readonly [string, string][]): void =>
  writeFileSync(file, pairs.map(([s, t]) => `${s}\t${t}\n`).join(''));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'seq2seq-run-'));
  lines = toyLines(60, 4);
  corpus = join(dir, 'train.tsv');
  validCorpus = join(dir, 'valid.tsv');
  writeTsv(corpus, lines);
  writeTsv(validCorpus, toyLines(7, 5));
});

const config = (extra: PartialTrainConfig = {}) =>
  resolveConfig([
    {
      data: { corpus, tokenizer: 'space', batchSize: 8, validSplit: 10, buckets: 'auto', bucketCount: 2 },
      model: { hiddenSize: 8, embeddingSize: 4 },
      training: { steps: 4, evalEvery: 2, logEvery: 1 },
      validation: { decodeSentences: 4, batchSize: 8 },
    },
    extra,
  ]);

/** The documented fingerprint: sha256 over "source tokens<TAB>target tokens\n" of every training pair in order. */
function fingerprint(pairs: readonly [string, string][]): string {
  const h = createHash('sha256');
  for (const [s, t] of pairs) h.update(`${s}\t${t}\n`);
  return h.digest('hex');
}

describe('prepareTranslation (a new run)', () => {
  it('splits off validSplit pairs, builds word vocabularies from the training pairs, fits the buckets', async () => {
    const p = await prepareTranslation(config());
    expect(p.summary.trainPairs).toBe(50);
    expect(p.summary.validPairs).toBe(10);
    expect(p.summary.dropped).toEqual({});
    expect(p.summary.pretrained).toEqual([]);
    const { sourceVocabulary: sv, targetVocabulary: tv } = p.translator;
    expect(p.summary.sourceVocab).toBe(sv.size);
    expect(p.summary.targetVocab).toBe(tv.size);
    // Every source word of the corpus is w0…w14; the training split holds most of them, upper case on the target side.
    expect(sv.tokens.slice(4).every((t) => /^w\d+$/.test(t))).toBe(true);
    expect(tv.tokens.slice(4).every((t) => /^W\d+$/.test(t))).toBe(true);
    expect(
      tv.tokens
        .slice(4)
        .map((t) => t.toLowerCase())
        .sort(),
    ).toEqual(sv.tokens.slice(4).slice().sort());
    // The buckets are resolved to a list, in the summary and in the effective config that is saved.
    expect(p.summary.buckets).toHaveLength(2);
    expect(p.config.data.buckets).toEqual(p.summary.buckets.map((b) => [b[0], b[1]]));
    expect(p.saved.config).toBe(p.config);
    expect(p.saved.corpus).toEqual({ trainPairs: 50, validPairs: 10, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    // The model is sized by the vocabularies; the task validates with the config's decoded sentences.
    expect(p.translator.model.sourceVocabSize).toBe(sv.size);
    expect(p.translator.model.targetVocabSize).toBe(tv.size);
    expect(p.task.translator).toBe(p.translator);
    expect(Object.keys(p.task.metrics)).toContain('bleu');
    expect(p.task.options).toMatchObject({ batchSize: 8, validBatchSize: 8, decodeSentences: 4, seed: 1 });
    // The same config gives the same split and fingerprint; another seed another split.
    const again = await prepareTranslation(config());
    expect(again.saved.corpus.sha256).toBe(p.saved.corpus.sha256);
    const reseeded = await prepareTranslation(config({ data: { seed: 2 } }));
    expect(reseeded.saved.corpus.sha256).not.toBe(p.saved.corpus.sha256);
    for (const x of [p, again, reseeded]) x.translator.dispose();
  });

  it('with a validation corpus trains on every pair: the fingerprint is that of the whole file', async () => {
    const p = await prepareTranslation(config({ data: { valid: validCorpus } }));
    expect(p.summary).toMatchObject({ trainPairs: 60, validPairs: 7 });
    expect(p.saved.corpus.sha256).toBe(fingerprint(lines));
    const built = Vocabulary.build(lines.map(([s]) => s.split(' ')));
    expect(p.translator.sourceVocabulary.tokens).toEqual(built.tokens);
    p.translator.dispose();
  });

  it('honours minCount, maxVocab and a joint vocabulary', async () => {
    const counts = new Map<string, number>();
    for (const [s] of lines) for (const w of s.split(' ')) counts.set(w, (counts.get(w) ?? 0) + 1);
    const rare = [...counts.entries()].filter(([, c]) => c < 12).length;
    expect(rare).toBeGreaterThan(0);
    const p = await prepareTranslation(config({ data: { valid: validCorpus, minCount: 12 } }));
    expect(p.summary.sourceVocab).toBe(4 + counts.size - rare);
    const small = await prepareTranslation(config({ data: { valid: validCorpus, maxVocab: 7 } }));
    expect([small.summary.sourceVocab, small.summary.targetVocab]).toEqual([7, 7]);
    const joint = await prepareTranslation(
      config({ data: { valid: validCorpus, jointVocabulary: true }, model: { shareEmbeddings: true } }),
    );
    expect(joint.translator.sourceVocabulary).toBe(joint.translator.targetVocabulary);
    expect(joint.summary.sourceVocab).toBe(4 + 2 * counts.size);
    expect(joint.translator.sourceVocabulary.has('w3') && joint.translator.sourceVocabulary.has('W3')).toBe(true);
    for (const x of [p, small, joint]) x.translator.dispose();
  });

  it('loads pretrained vectors into the embeddings of the words they cover, and reports the coverage', async () => {
    const vectors = join(dir, 'vectors.txt');
    writeFileSync(vectors, 'w1 0.5 -0.5 0.25 1\nw2 1 2 3 4\nzzz 9 9 9 9\n');
    const data = { valid: validCorpus, pretrainedSource: vectors, pretrainedTarget: vectors };
    const p = await prepareTranslation(config({ data }));
    const { sourceVocabulary: sv, targetVocabulary: tv } = p.translator;
    // Source words are found as written; the upper-case target words W1, W2 lowercased.
    expect(p.summary.pretrained).toEqual([
      { side: 'source', file: vectors, words: sv.size - 4, exact: 2, lowercase: 0, found: 2 },
      { side: 'target', file: vectors, words: tv.size - 4, exact: 0, lowercase: 2, found: 2 },
    ]);
    const source = p.translator.model.embedding('source').arraySync() as number[][];
    const target = p.translator.model.embedding('target').arraySync() as number[][];
    expect(source[sv.id('w1')]).toEqual([0.5, -0.5, 0.25, 1]);
    expect(source[sv.id('w2')]).toEqual([1, 2, 3, 4]);
    expect(target[tv.id('W2')]).toEqual([1, 2, 3, 4]);
    // Other rows keep their random initialisation.
    expect(source[sv.id('w3')]).not.toEqual([1, 2, 3, 4]);
    p.translator.dispose();
    const wide = config({ data: { valid: validCorpus, pretrainedSource: vectors }, model: { embeddingSize: 5 } });
    await expect(prepareTranslation(wide)).rejects.toThrow(
      /vectors\.txt: vectors are 4 wide, the model's source embeddings 5 \(set embeddingSize to 4\)/,
    );
  });

  it('refuses in one line naming the setting: no validation data, no pair left, subwords and a tokenizer', async () => {
    await expect(prepareTranslation(config({ data: { validSplit: 0 } }))).rejects.toThrow(ConfigError);
    await expect(prepareTranslation(config({ data: { validSplit: 0 } }))).rejects.toThrow(
      'data.validSplit must be > 0 when there is no validation corpus (data.valid / --valid)',
    );
    await expect(prepareTranslation(config({ data: { valid: validCorpus, maxChars: 1 } }))).rejects.toThrow(
      `${corpus}: no training pairs left (read 60, dropped 60)`,
    );
    // A split that holds out every pair says so.
    await expect(prepareTranslation(config({ data: { validSplit: 0.99999 } }))).rejects.toThrow(
      `${corpus}: no training pairs left (read 60, dropped 0, 60 held out by data.validSplit)`,
    );
    await expect(prepareTranslation(config({ data: { subwords: 40 } }))).rejects.toThrow(
      /^data\.subwords trains its own SentencePiece model: leave data\.tokenizer and data\.targetTokenizer unset/,
    );
    const missing = config({ data: { corpus: join(dir, 'missing.tsv') } });
    await expect(prepareTranslation(missing)).rejects.toThrow(/missing\.tsv/);
  });
});

describe('prepareTranslation (resume)', () => {
  it('takes vocabularies and weights from the checkpoint, and refuses a corpus that changed', async () => {
    const out = join(dir, 'resume-run');
    const c = config();
    const first = await prepareTranslation(c);
    const r = await train(first.task, c.training, { out, config: first.saved });
    expect(r.reason).toBe('completed');
    const ck = await readCheckpoint(out, 'seq2seq');
    expect((ck.training.config as SavedRunConfig).corpus).toEqual(first.saved.corpus);

    const resumed = await prepareTranslation(c, ck);
    expect(resumed.translator.sourceVocabulary.tokens).toEqual(first.translator.sourceVocabulary.tokens);
    expect(resumed.translator.targetVocabulary.tokens).toEqual(first.translator.targetVocabulary.tokens);
    const weights = (p: typeof first): number[] => Array.from(p.translator.model.params.serialize().data);
    expect(weights(resumed)).toEqual(weights(first));
    expect(resumed.saved.corpus).toEqual(first.saved.corpus);
    // The resumed task continues the loop from the checkpoint.
    const more = await train(resumed.task, { ...c.training, steps: 6 }, { out, config: resumed.saved, resume: ck });
    expect(more.step).toBe(6);

    // Eleven changed lines (one at least is a training pair): the same number of pairs, another fingerprint.
    const changed = join(dir, 'changed.tsv');
    writeTsv(
      changed,
      lines.map((l, i) => (i <= 10 ? ['w1 w1', 'W1 W1'] : l)),
    );
    const other = { ...c, data: { ...c.data, corpus: changed } };
    await expect(prepareTranslation(other, ck)).rejects.toThrow(CheckpointError);
    await expect(prepareTranslation(other, ck)).rejects.toThrow(
      `${changed}: the training pairs differ from those the checkpoint was trained on (50 pairs then, 50 now): ` +
        'resuming would not continue the same run',
    );
    for (const x of [first, resumed]) x.translator.dispose();
  });
});

// Needs spm_train (Debian's sentencepiece package), as `translate train` does by default.
describe('prepareTranslation (joint subwords)', () => {
  it('trains one SentencePiece model for both sides, its pieces the vocabulary; a resume reads it back', async () => {
    const c = resolveConfig([
      {
        data: {
          corpus,
          subwords: 300,
          validSplit: 10,
          batchSize: 8,
          buckets: [
            [8, 10],
            [16, 20],
          ],
        },
        model: { hiddenSize: 8, embeddingSize: 4 },
        training: { steps: 2, evalEvery: 2 },
        validation: { decodeSentences: 2 },
      },
    ]);
    const p = await prepareTranslation(c);
    const t = p.translator;
    expect(t.sourceTokenizer).toBe(t.targetTokenizer);
    expect(t.sourceTokenizer).toBeInstanceOf(SentencePieceTokenizer);
    const pieces = (t.sourceTokenizer as SentencePieceTokenizer).pieces;
    expect(t.sourceVocabulary.tokens).toEqual(new Vocabulary(pieces).tokens);
    expect(t.targetVocabulary.tokens).toEqual(t.sourceVocabulary.tokens);
    // Subwords read every word of the corpus: nothing is unknown.
    expect(t.sourceVocabulary.unkRate(lines.map(([s]) => t.sourceTokenizer.tokenize(s))).unknown).toBe(0);
    const out = join(dir, 'subword-run');
    await train(p.task, c.training, { out, config: p.saved });
    const ck = await readCheckpoint(out, 'seq2seq');
    const resumed = await prepareTranslation(c, ck);
    expect(resumed.translator.sourceTokenizer.tokenize('w1 w12 W3')).toEqual(t.sourceTokenizer.tokenize('w1 w12 W3'));
    expect(resumed.translator.sourceVocabulary.tokens).toEqual(t.sourceVocabulary.tokens);
    expect(readFileSync(join(out, 'model.json'), 'utf8')).toMatch(/\.model"/);
    t.dispose();
    resumed.translator.dispose();
  });
});
