// Tiny untrained models of every kind the server serves, saved in temporary model directories.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { CharTokenizer, WordTokenizer } from '../../src/data/text/tokenizers.js';
import { SentencePieceTokenizer } from '../../src/data/text/sentencePieceTokenizer.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { Labels } from '../../src/data/text/labelled.js';
import { Scaler } from '../../src/data/series/scaling.js';
import { SequenceClassifier, DEFAULT_CLASSIFIER_CONFIG } from '../../src/heads/classifier/classifier.js';
import { TextClassifier } from '../../src/heads/classifier/textClassifier.js';
import { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG } from '../../src/heads/lm/languageModel.js';
import { TextLanguageModel } from '../../src/heads/lm/textLanguageModel.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from '../../src/heads/forecaster/forecaster.js';
import { FORECASTER_KIND } from '../../src/heads/forecaster/seriesForecaster.js';
import { saveModelFiles } from '../../src/model/modelFiles.js';
import type { FastifyInstance } from 'fastify';
import { buildServer, type AccessLogEntry, type ServerOptions } from '../../src/serve/server.js';
import { loadServedModels, type ServedModel } from '../../src/serve/models.js';
import type { BatchInfo } from '../../src/serve/batcher.js';

export const tempDir = (prefix: string): string => mkdtempSync(join(tmpdir(), prefix));

/** A number-words translator (spelled digits, character tokens), untrained: its outputs are arbitrary but fixed. */
export function tinyTranslator(
  seed = 3,
  info: Record<string, unknown> = { corpus: 'data/train.{en,fr}.gz' },
): Translator {
  const v = numberWordsVocabularies();
  const model = new Seq2Seq(
    { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed },
    v.source.size,
    v.target.size,
  );
  const chars = new CharTokenizer();
  return new Translator(model, v.source, v.target, chars, chars, info);
}

/**
 * An untrained translator on the joeynmt toy set's 200 SentencePiece pieces (both sides, every piece in the
 * vocabulary), from ../shared.
 */
export async function tinySentencePieceTranslator(info: Record<string, unknown> = {}): Promise<Translator> {
  const sp = await SentencePieceTokenizer.load(
    join(import.meta.dirname, '../../../shared/corpora/joeynmt-toy-de-en/sp200.model'),
  );
  const pieces = new Vocabulary(sp.pieces);
  const model = new Seq2Seq(
    { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 4 },
    pieces.size,
    pieces.size,
  );
  return new Translator(model, pieces, pieces, sp, sp, info);
}

export async function saveTinyTranslator(seed = 3): Promise<string> {
  const dir = tempDir('serve-seq2seq-');
  const t = tinyTranslator(seed);
  await t.save(dir);
  t.dispose();
  return dir;
}

export async function saveTinyClassifier(): Promise<string> {
  const dir = tempDir('serve-classifier-');
  const tokenizer = new WordTokenizer();
  const vocabulary = Vocabulary.build([['good', 'bad', 'film', 'plot']]);
  const model = new SequenceClassifier({
    ...DEFAULT_CLASSIFIER_CONFIG,
    input: { kind: 'tokens', vocabSize: vocabulary.size, embeddingSize: 4 },
    classes: 2,
    hiddenSize: 6,
    seed: 2,
  });
  const c = new TextClassifier(model, new Labels(['neg', 'pos']), {
    kind: 'tokens',
    vocabulary,
    tokenizer,
    lowercase: true,
  });
  await c.save(dir);
  c.dispose();
  return dir;
}

export async function saveTinyLanguageModel(): Promise<string> {
  const dir = tempDir('serve-lm-');
  const tokenizer = new CharTokenizer();
  const vocabulary = Vocabulary.build([[...'abcdefghij']]);
  const lm = new TextLanguageModel(
    new LanguageModel({
      ...DEFAULT_LANGUAGE_MODEL_CONFIG,
      vocabSize: vocabulary.size,
      embeddingSize: 4,
      hiddenSize: 8,
      seed: 2,
    }),
    vocabulary,
    tokenizer,
  );
  await lm.save(dir);
  lm.dispose();
  return dir;
}

export async function saveTinyForecaster(): Promise<string> {
  const dir = tempDir('serve-forecaster-');
  const model = new Forecaster({
    ...DEFAULT_FORECASTER_CONFIG,
    inputSize: 1,
    targets: 1,
    horizon: 2,
    hiddenSize: 6,
    seed: 3,
  });
  // Written in the forecaster's first saved form (transform "none"), which every later loader reads.
  const extra = {
    scaler: Scaler.fit([[1, 2, 3, 4, 5, 6]]).toJSON(),
    transform: 'none',
    window: 4,
    inputs: ['y'],
    targets: ['y'],
  };
  const { manifest, data } = model.params.serialize();
  await saveModelFiles(dir, FORECASTER_KIND, model.config, manifest, data, extra);
  model.dispose();
  return dir;
}

/** One tiny model of every kind, loaded as `translate serve` loads them: translators "words" (seed 3) and "other"
 * (seed 4), classifier "sentiment", language model "letters", forecaster "series". */
export async function loadTinyServedModels(): Promise<ServedModel[]> {
  return loadServedModels([
    { name: 'words', dir: await saveTinyTranslator(3) },
    { name: 'other', dir: await saveTinyTranslator(4) },
    { name: 'sentiment', dir: await saveTinyClassifier() },
    { name: 'letters', dir: await saveTinyLanguageModel() },
    { name: 'series', dir: await saveTinyForecaster() },
  ]);
}

/** A server over `served`, recording its access log, its batches and its internal errors. */
export function recordingServer(
  served: Promise<readonly ServedModel[]> | readonly ServedModel[],
  options: Partial<ServerOptions> = {},
) {
  const log: AccessLogEntry[] = [];
  const batches: BatchInfo[] = [];
  const internal: unknown[] = [];
  const app = buildServer(served, {
    accessLog: (e) => log.push(e),
    onBatch: (b) => batches.push(b),
    onInternalError: (e) => internal.push(e),
    ...options,
  });
  return { app, log, batches, internal };
}

/** POSTs `body` as JSON to `url` of `app`, in-process. */
export const post = (app: FastifyInstance, url: string, body: unknown) =>
  app.inject({ method: 'POST', url, payload: body as object });
