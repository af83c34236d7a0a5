// Everything between a `translate train` config and the training loop: read and tokenize the corpora, split off
// validation pairs, build vocabularies, fit buckets, build the model, and wrap it all as a TranslationTask. On
// resume the vocabularies, tokenizers and model come from the checkpoint, and the corpus is checked to be the one
// the run started with (same pairs, by checksum), so that the restored sampler position means the same batches.
import { createHash } from 'node:crypto';
import { loadParallelCorpus, type TokenizedPair } from '../data/text/corpus.js';
import { createTokenizer, parseTokenizerSpec, tokenizerConfigFromJSON } from '../data/text/tokenizers.js';
import { TokenizerError, type Tokenizer } from '../data/text/tokenizer.js';
import { SentencePieceTokenizer, SPM_TRAIN_MISSING } from '../data/text/sentencePieceTokenizer.js';
import { trainSubwords, corpusText } from '../data/text/subwords.js';
import { autoBuckets, parseBuckets, DEFAULT_BUCKETS, type Bucket } from '../data/text/buckets.js';
import { Vocabulary } from '../data/text/vocabulary.js';
import { DropTally } from '../data/readers.js';
import { splitCorpus } from '../data/split.js';
import { Seq2Seq, type Seq2SeqConfig } from './seq2seq.js';
import { readPretrainedVectors, loadPretrainedEmbeddings, type PretrainedCoverage } from '../layers/pretrained.js';
import { Translator, type TranslatorExtra } from './translator.js';
import type { SavedModelJson } from '../model/modelFiles.js';
import { TranslationTask } from './task.js';
import { ConfigError, DEFAULT_DATA_CONFIG, type TrainConfig } from './config.js';
import { CheckpointError, type Checkpoint } from '../train/checkpoints.js';

/** What a run saves as its configuration: the effective config and a fingerprint of the data it trained on. */
export interface SavedRunConfig {
  config: TrainConfig;
  corpus: { trainPairs: number; validPairs: number; sha256: string };
}

export interface PreparedTranslation {
  translator: Translator;
  task: TranslationTask;
  /** The effective config, buckets resolved to a list. */
  config: TrainConfig;
  saved: SavedRunConfig;
  /** Facts for the user: pairs, dropped pairs, vocabulary sizes, buckets. */
  summary: {
    trainPairs: number;
    validPairs: number;
    dropped: Record<string, number>;
    overBucket: number;
    sourceVocab: number;
    targetVocab: number;
    buckets: Bucket[];
    /** Pretrained embeddings loaded into a new model: how many vocabulary words had a vector. */
    pretrained: ({ side: 'source' | 'target'; file: string } & PretrainedCoverage)[];
  };
}

const DEFAULT_TOKENIZER = DEFAULT_DATA_CONFIG.tokenizer;

function resolveBuckets(spec: string | Bucket[], pairs: readonly TokenizedPair[], count: number): Bucket[] {
  if (Array.isArray(spec)) return spec.map((b) => [b[0], b[1]] as const);
  if (spec === 'auto')
    return autoBuckets(
      pairs.map((p) => ({ source: p.source.length, target: p.target.length })),
      { count },
    );
  if (spec === 'default') return [...DEFAULT_BUCKETS];
  return parseBuckets(spec);
}

function fingerprint(pairs: readonly TokenizedPair[]): string {
  const h = createHash('sha256');
  for (const p of pairs) h.update(`${p.source.join(' ')}\t${p.target.join(' ')}\n`);
  return h.digest('hex');
}

/** Builds the task for a new run (`resume` absent) or for continuing the run saved in `resume`. */
export async function prepareTranslation(config: TrainConfig, resume?: Checkpoint): Promise<PreparedTranslation> {
  const d = config.data;
  const extra = resume?.json.extra as TranslatorExtra | undefined;
  let sourceTokenizer: Tokenizer;
  let targetTokenizer: Tokenizer;
  if (extra !== undefined && resume !== undefined) {
    // The checkpoint's own tokenizers: a SentencePiece model is read from the checkpoint directory.
    sourceTokenizer = await createTokenizer(tokenizerConfigFromJSON(extra.sourceTokenizer), { directory: resume.dir });
    targetTokenizer = await createTokenizer(tokenizerConfigFromJSON(extra.targetTokenizer), { directory: resume.dir });
  } else if (d.subwords > 0) {
    sourceTokenizer = targetTokenizer = await jointSubwords(config);
  } else {
    sourceTokenizer = await createTokenizer(parseTokenizerSpec(d.tokenizer));
    targetTokenizer =
      d.targetTokenizer !== undefined ? await createTokenizer(parseTokenizerSpec(d.targetTokenizer)) : sourceTokenizer;
  }
  const dropped = new DropTally();
  const load = {
    sourceTokenizer,
    targetTokenizer,
    normalize: { lowercase: d.lowercase },
    dropped,
    ...(d.maxChars !== undefined ? { maxChars: d.maxChars } : {}),
    ...(d.maxLineBytes !== undefined ? { maxLineBytes: d.maxLineBytes } : {}),
  };
  const corpus = await loadParallelCorpus(d.corpus, { ...load, ...(d.limit !== undefined ? { limit: d.limit } : {}) });
  let train: TokenizedPair[];
  let valid: TokenizedPair[];
  if (d.valid !== undefined) {
    train = corpus.pairs;
    valid = (await loadParallelCorpus(d.valid, { ...load, dropped: new DropTally() })).pairs;
  } else {
    if (!(d.validSplit > 0))
      throw new ConfigError('data.validSplit must be > 0 when there is no validation corpus (data.valid / --valid)');
    ({ train, valid } = splitCorpus(corpus.pairs, { valid: d.validSplit, test: 0, seed: d.seed }));
  }
  if (train.length === 0) {
    const held = d.valid === undefined && valid.length > 0 ? `, ${valid.length} held out by data.validSplit` : '';
    throw new ConfigError(`${d.corpus}: no training pairs left (read ${corpus.read}, dropped ${dropped.total}${held})`);
  }
  if (valid.length === 0)
    throw new ConfigError('no validation pairs: give a validation corpus (--valid) or a larger data.validSplit');
  const saved: SavedRunConfig = {
    config,
    corpus: { trainPairs: train.length, validPairs: valid.length, sha256: fingerprint(train) },
  };
  if (resume !== undefined) {
    const before = (resume.training.config as SavedRunConfig | null)?.corpus;
    if (before !== undefined && before.sha256 !== saved.corpus.sha256) {
      throw new CheckpointError(
        `${d.corpus}: the training pairs differ from those the checkpoint was trained on ` +
          `(${before.trainPairs} pairs then, ${train.length} now): resuming would not continue the same run`,
      );
    }
  }
  const buckets = resolveBuckets(d.buckets, train, d.bucketCount);
  const effective: TrainConfig = { ...config, data: { ...d, buckets: buckets.map((b) => [b[0], b[1]] as Bucket) } };
  saved.config = effective;

  let translator: Translator;
  const pretrained: PreparedTranslation['summary']['pretrained'] = [];
  if (resume !== undefined) {
    translator = await Translator.fromSaved(
      resume.json as SavedModelJson<Partial<Seq2SeqConfig>, TranslatorExtra>,
      resume.weights,
      `${resume.dir}/model.json`,
      { directory: resume.dir },
    );
  } else {
    const vocabOptions = { minCount: d.minCount, ...(d.maxVocab !== undefined ? { maxSize: d.maxVocab } : {}) };
    // A subword side's vocabulary is its SentencePiece model's pieces, all of them: a piece the training data
    // happens to lack is still a piece the tokenizer produces, never an unknown token. Word sides count tokens.
    const pieces = (t: Tokenizer) => (t instanceof SentencePieceTokenizer ? new Vocabulary(t.pieces) : null);
    // A joint vocabulary (both sides' tokens) lets source and target share one embedding table.
    const sv = d.jointVocabulary
      ? ((sourceTokenizer === targetTokenizer ? pieces(sourceTokenizer) : null) ??
        Vocabulary.build(
          train.flatMap((p) => [p.source, p.target]),
          vocabOptions,
        ))
      : (pieces(sourceTokenizer) ??
        Vocabulary.build(
          train.map((p) => p.source),
          vocabOptions,
        ));
    const tv = d.jointVocabulary
      ? sv
      : (pieces(targetTokenizer) ??
        Vocabulary.build(
          train.map((p) => p.target),
          vocabOptions,
        ));
    const model = new Seq2Seq(config.model, sv.size, tv.size);
    for (const [side, file, vocabulary] of [
      ['source', d.pretrainedSource, sv],
      ['target', d.pretrainedTarget, tv],
    ] as const) {
      if (file === undefined) continue;
      const vectors = await readPretrainedVectors(file, { words: vocabulary.tokens });
      const found = loadPretrainedEmbeddings(model, side, vocabulary, vectors);
      pretrained.push({ side, file, ...found });
    }
    translator = new Translator(model, sv, tv, sourceTokenizer, targetTokenizer, {
      task: 'translate train',
      corpus: d.corpus,
      ...(d.valid !== undefined ? { valid: d.valid } : {}),
    });
  }
  const task = new TranslationTask(
    translator,
    { train, valid },
    {
      batchSize: d.batchSize,
      buckets,
      seed: d.seed,
      validBatchSize: config.validation.batchSize,
      decodeSentences: config.validation.decodeSentences,
    },
  );
  return {
    translator,
    task,
    config: effective,
    saved,
    summary: {
      trainPairs: train.length,
      validPairs: valid.length,
      dropped: dropped.toJSON(),
      overBucket: task.sampler.over,
      sourceVocab: translator.sourceVocabulary.size,
      targetVocab: translator.targetVocabulary.size,
      buckets,
      pretrained,
    },
  };
}

/**
 * `data.subwords`: a joint SentencePiece model trained on both sides of the training corpus, read as the run reads
 * it (normalisation, length limit, `limit`), validation pairs included when they are split off the same file.
 */
async function jointSubwords(config: TrainConfig): Promise<SentencePieceTokenizer> {
  const d = config.data;
  if (d.tokenizer !== DEFAULT_TOKENIZER || d.targetTokenizer !== undefined) {
    throw new ConfigError(
      'data.subwords trains its own SentencePiece model: leave data.tokenizer and data.targetTokenizer unset (or drop --subwords)',
    );
  }
  const lines = await corpusText(d.corpus, {
    normalize: { lowercase: d.lowercase },
    ...(d.maxChars !== undefined ? { maxChars: d.maxChars } : {}),
    ...(d.maxLineBytes !== undefined ? { maxLineBytes: d.maxLineBytes } : {}),
    ...(d.limit !== undefined ? { limit: d.limit } : {}),
  });
  // spm_train aborts on no text at all; say which corpus has none.
  if (lines.every((l) => l.trim() === ''))
    throw new ConfigError(`${d.corpus}: no training pairs to learn subwords from`);
  try {
    return await trainSubwords(lines, { size: d.subwords, type: d.subwordType, seed: d.seed });
  } catch (e) {
    if (e instanceof TokenizerError && e.message === SPM_TRAIN_MISSING) {
      throw new ConfigError(
        'translate train learns subwords with spm_train by default, and it was not found: install it ' +
          '(`apt-get install sentencepiece` on Debian or Ubuntu), or train on words with --tokenizer word',
      );
    }
    throw e;
  }
}
