// The public API (src/index.ts, the package's main): every export it lists is there at run time with the kind
// expected of it (class, function, constant), nothing else is, its errors are ToolkitErrors, and a short session
// through it alone works: build a vocabulary and a Seq2Seq, train a few steps, translate, save, load, translate again.
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as api from '../src/index.js';

type Kind = 'class' | 'function' | 'object' | 'array' | 'number' | 'string';

const EXPECTED: Record<string, Kind> = {
  // backend
  selectBackend: 'function',
  parseBackendChoice: 'function',
  BACKEND_CHOICES: 'array',
  BACKEND_ENV: 'string',
  BackendError: 'class',
  // translation
  Translator: 'class',
  EnsembleError: 'class',
  parsePhraseTable: 'function',
  averageWeights: 'function',
  AverageError: 'class',
  Seq2Seq: 'class',
  DEFAULT_SEQ2SEQ_CONFIG: 'object',
  resolveSeq2SeqConfig: 'function',
  Seq2SeqConfigError: 'class',
  readPretrainedVectors: 'function',
  loadPretrainedEmbeddings: 'function',
  TranslationTask: 'class',
  DEFAULT_TRANSLATION_TASK: 'object',
  prepareTranslation: 'function',
  readConfigFile: 'function',
  parseSet: 'function',
  resolveConfig: 'function',
  checkConfig: 'function',
  ConfigError: 'class',
  // heads
  TextLanguageModel: 'class',
  TextClassifier: 'class',
  SeriesForecaster: 'class',
  LanguageModel: 'class',
  DEFAULT_LANGUAGE_MODEL_CONFIG: 'object',
  makeLmBatch: 'function',
  SequenceClassifier: 'class',
  DEFAULT_CLASSIFIER_CONFIG: 'object',
  Forecaster: 'class',
  DEFAULT_FORECASTER_CONFIG: 'object',
  tokenBatch: 'function',
  featureBatch: 'function',
  LanguageModelTask: 'class',
  ClassifierTask: 'class',
  ForecasterTask: 'class',
  prepareForecaster: 'function',
  fitForecaster: 'function',
  rollingOriginScore: 'function',
  selectRecipe: 'function',
  DEFAULT_RECIPE: 'object',
  meanAndSd: 'function',
  pairedDifference: 'function',
  LM_CONFIG: 'object',
  resolveLmConfig: 'function',
  prepareLanguageModel: 'function',
  CLASSIFIER_CONFIG: 'object',
  resolveClassifierConfig: 'function',
  planClassifierRuns: 'function',
  prepareClassifierRun: 'function',
  scoreClassifierRun: 'function',
  FORECAST_CONFIG: 'object',
  resolveForecastConfig: 'function',
  planForecast: 'function',
  prepareForecastRun: 'function',
  prepareSines: 'function',
  // the sectioned config every task uses
  SectionedConfig: 'class',
  // data
  loadRecipes: 'function',
  fetchCorpus: 'function',
  Vocabulary: 'class',
  PAD: 'number',
  GO: 'number',
  EOS: 'number',
  UNK: 'number',
  SPECIAL_TOKENS: 'array',
  makeBatch: 'function',
  makeSourceBatch: 'function',
  createTokenizer: 'function',
  parseTokenizerSpec: 'function',
  tokenizerFiles: 'function',
  trainSentencePiece: 'function',
  WordTokenizer: 'class',
  CharTokenizer: 'class',
  SpaceTokenizer: 'class',
  SentencePieceTokenizer: 'class',
  trainSubwords: 'function',
  SUBWORD_TYPES: 'array',
  readSentencePiecePieces: 'function',
  produciblePieces: 'function',
  SeriesTransform: 'class',
  boxCox: 'function',
  inverseBoxCox: 'function',
  boxCoxLambda: 'function',
  difference: 'function',
  integrate: 'function',
  crossValidationSplits: 'function',
  loadParallelCorpus: 'function',
  parseCorpusSpec: 'function',
  BatchSampler: 'class',
  autoBuckets: 'function',
  DEFAULT_BUCKETS: 'array',
  NumberWordsTask: 'class',
  digitsToWords: 'function',
  trainNumberWords: 'function',
  evaluateNumberWords: 'function',
  DEFAULT_NUMBER_WORDS_DEMO: 'object',
  // training
  Trainer: 'class',
  DEFAULT_TRAINER_OPTIONS: 'object',
  NonFiniteError: 'class',
  train: 'function',
  resolveTrainingOptions: 'function',
  DEFAULT_TRAINING_OPTIONS: 'object',
  TrainingConfigError: 'class',
  readCheckpoint: 'function',
  saveCheckpoint: 'function',
  saveBest: 'function',
  CheckpointError: 'class',
  BEST_DIR: 'string',
  LearningRateSchedule: 'class',
  cosineLearningRate: 'function',
  DEFAULT_SCHEDULE: 'object',
  MetricTracker: 'class',
  DEFAULT_EARLY_STOPPING: 'object',
  TrainingLog: 'class',
  // loss, plots
  maskedCrossEntropy: 'function',
  lossWeights: 'function',
  sequenceLoss: 'function',
  DEFAULT_SEQUENCE_LOSS: 'object',
  sampledSoftmaxLoss: 'function',
  lineChart: 'function',
  // search, metrics, errors
  greedyDecode: 'function',
  greedySearch: 'function',
  Ensemble: 'class',
  beamSearch: 'function',
  MAX_BEAM_SIZE: 'number',
  sampleDecode: 'function',
  search: 'function',
  SearchStoppedError: 'class',
  corpusBleu: 'function',
  sentenceBleu: 'function',
  formatBleu: 'function',
  corpusChrF: 'function',
  sentenceChrF: 'function',
  ToolkitError: 'class',
};

function kindOf(value: unknown): string {
  if (typeof value === 'function') {
    return /^class\b/.test(Function.prototype.toString.call(value)) ? 'class' : 'function';
  }
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

/** The value exports src/index.ts lists (type-only ones left out), read from its text. */
function listedExports(): string[] {
  const text = readFileSync(resolve(import.meta.dirname, '../src/index.ts'), 'utf8');
  const names: string[] = [];
  for (const m of text.matchAll(/export\s+(type\s+)?\{([^}]*)\}\s*from/g)) {
    if (m[1] !== undefined) continue;
    for (const item of m[2]!
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (item.startsWith('type ')) continue;
      names.push(item.split(/\s+as\s+/).at(-1)!);
    }
  }
  return names;
}

describe('the public API', () => {
  it('exports exactly the values src/index.ts lists', () => {
    const listed = listedExports();
    expect(listed.length).toBeGreaterThan(100);
    expect(new Set(listed).size).toBe(listed.length);
    expect(Object.keys(api).sort()).toEqual([...listed].sort());
  });

  it('gives each export the expected kind: class, function or constant', () => {
    const got = Object.fromEntries(Object.entries(api).map(([k, v]) => [k, kindOf(v)]));
    expect(got).toEqual(EXPECTED);
  });

  it('its error classes are ToolkitErrors that name themselves', () => {
    const errors = Object.entries(api).filter(([name]) => name.endsWith('Error') && name !== 'ToolkitError');
    expect(errors.length).toBeGreaterThanOrEqual(8);
    for (const [name, Class] of errors) {
      const prototype = (Class as { prototype: object }).prototype;
      expect(Object.prototype.isPrototypeOf.call(api.ToolkitError.prototype, prototype), name).toBe(true);
    }
    const e = new api.ConfigError('no training corpus');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ConfigError');
  });

  it('its constants have their documented values', () => {
    expect([api.PAD, api.GO, api.EOS, api.UNK]).toEqual([0, 1, 2, 3]);
    expect(api.SPECIAL_TOKENS).toEqual(['<pad>', '<go>', '<eos>', '<unk>']);
    expect(api.BEST_DIR).toBe('best');
    expect(api.BACKEND_ENV).toBe('TRANSLATE_BACKEND');
    expect(api.BACKEND_CHOICES).toContain('wasm');
    expect(api.BACKEND_CHOICES).toContain('cpu');
    expect(api.SUBWORD_TYPES).toEqual(expect.arrayContaining(['unigram', 'bpe']));
    expect(api.digitsToWords('120')).toBe('one two zero');
  });

  it('trains, translates, saves and loads a tiny model through the package entry alone', async () => {
    const backend = await api.selectBackend(api.parseBackendChoice(process.env[api.BACKEND_ENV] ?? 'wasm'));
    expect(typeof backend.tfName).toBe('string');
    const words = (s: string): string[] => s.split('');
    const pairs = ['12', '305', '7', '48', '990', '61'].map((d) => ({
      source: words(d),
      target: api.digitsToWords(d).split(' '),
    }));
    const sv = api.Vocabulary.build(pairs.map((p) => p.source));
    const tv = api.Vocabulary.build(pairs.map((p) => p.target));
    const chars = new api.CharTokenizer();
    const config = { ...api.DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 12, embeddingSize: 6, seed: 2 };
    const model = new api.Seq2Seq(config, sv.size, tv.size);
    const translator = new api.Translator(model, sv, tv, chars, new api.SpaceTokenizer());
    const data = { train: pairs, valid: pairs.slice(0, 3) };
    const task = new api.TranslationTask(translator, data, { batchSize: 3, buckets: [[4, 5]] });
    const out = mkdtempSync(join(tmpdir(), 'api-e2e-'));
    const losses: number[] = [];
    const options = { steps: 30, evalEvery: 30, learningRate: 0.02 };
    const result = await api.train(task, options, { out, onProgress: (p) => losses.push(p.loss) });
    expect(result.reason).toBe('completed');
    expect(losses.slice(-3).reduce((a, b) => a + b) / 3).toBeLessThan(losses.slice(0, 3).reduce((a, b) => a + b) / 3);

    const [best] = translator.translate(['120'], { beamSize: 3, nBest: 2 });
    expect(best!.nBest).toHaveLength(2);
    expect(best!.text).toBe(best!.nBest[0]!.text);
    expect(best!.sourceTokens).toEqual(['1', '2', '0']);
    expect(best!.unknownTokens).toEqual([]);
    for (const h of best!.nBest) {
      expect(h.text.split(' ').every((w) => tv.has(w))).toBe(true);
      expect(h.logProb).toBeLessThan(0);
    }
    expect(best!.nBest[0]!.score).toBeGreaterThanOrEqual(best!.nBest[1]!.score);

    await translator.save(join(out, 'saved'));
    const loaded = await api.Translator.load(join(out, 'saved'));
    const lines = ['120', '7', '', '5x'];
    expect(loaded.translate(lines)).toEqual(translator.translate(lines));
    expect((await api.readCheckpoint(out)).training.step).toBe(30);
    loaded.dispose();
    const before = tf.memory().numTensors;
    translator.dispose();
    expect(tf.memory().numTensors).toBeLessThan(before);
  });
});
