// The library's public entry point.
//
// tfjs's gradients, as before selectBackend took a `gradients` option: a program that trains on a backend it set
// itself (tf.setBackend) never calls selectBackend, and the library's trainers need them.
import '@tensorflow/tfjs';
export {
  selectBackend,
  parseBackendChoice,
  BACKEND_CHOICES,
  BACKEND_ENV,
  BackendError,
  type BackendChoice,
  type BackendInfo,
} from './backend/select.js';
export {
  Translator,
  EnsembleError,
  type TranslateOptions,
  type Translation,
  type ScoredTranslation,
} from './translation/translator.js';
export { parsePhraseTable } from './translation/alignment.js';
export { averageWeights, AverageError } from './model/average.js';
export {
  Seq2Seq,
  DEFAULT_SEQ2SEQ_CONFIG,
  resolveSeq2SeqConfig,
  Seq2SeqConfigError,
  type Seq2SeqConfig,
} from './translation/seq2seq.js';
export { type AttentionKind } from './decoder/attention.js';
export { type BridgeKind } from './encoder/bridge.js';
export {
  readPretrainedVectors,
  loadPretrainedEmbeddings,
  type PretrainedVectors,
  type PretrainedCoverage,
} from './layers/pretrained.js';
export { TextLanguageModel, type LanguageModelExtra } from './heads/lm/textLanguageModel.js';
export { TextClassifier, type ClassifierExtra, type Prediction } from './heads/classifier/textClassifier.js';
export { SeriesForecaster, type ForecasterExtra } from './heads/forecaster/seriesForecaster.js';
export {
  LanguageModel,
  DEFAULT_LANGUAGE_MODEL_CONFIG,
  makeLmBatch,
  type LanguageModelConfig,
} from './heads/lm/languageModel.js';
export { SequenceClassifier, DEFAULT_CLASSIFIER_CONFIG, type ClassifierConfig } from './heads/classifier/classifier.js';
export { Forecaster, DEFAULT_FORECASTER_CONFIG, type ForecasterConfig } from './heads/forecaster/forecaster.js';
export { tokenBatch, featureBatch, type SequenceBatch, type InputSpec } from './heads/sequenceInput.js';
export { LanguageModelTask } from './heads/lm/languageModelTask.js';
export { ClassifierTask } from './heads/classifier/classifierTask.js';
export { ForecasterTask } from './heads/forecaster/forecasterTask.js';
export {
  prepareForecaster,
  fitForecaster,
  rollingOriginScore,
  selectRecipe,
  DEFAULT_RECIPE,
  type ForecastRecipe,
} from './heads/forecaster/forecastRecipe.js';
export { meanAndSd, pairedDifference } from './metrics/scores.js';
export { loadRecipes, fetchCorpus, type Recipe } from './data/download/fetch.js';
export { Trainer, DEFAULT_TRAINER_OPTIONS, NonFiniteError, type TrainerOptions } from './train/trainer.js';
export {
  train,
  type RunOptions,
  type TrainingResult,
  type TrainingEvent,
  type ProgressInfo,
  type StopReason,
} from './train/loop.js';
export {
  resolveTrainingOptions,
  DEFAULT_TRAINING_OPTIONS,
  TrainingConfigError,
  type TrainingOptions,
} from './train/options.js';
export type { TrainableModel, TrainingTask, TrainingBatch, LossContext } from './train/task.js';
export {
  readCheckpoint,
  saveCheckpoint,
  saveBest,
  CheckpointError,
  BEST_DIR,
  type Checkpoint,
  type SavedModelForm,
  type TrainingStateJson,
} from './train/checkpoints.js';
export {
  LearningRateSchedule,
  cosineLearningRate,
  DEFAULT_SCHEDULE,
  type ScheduleOptions,
  type ScheduleKind,
} from './train/schedule.js';
export {
  MetricTracker,
  DEFAULT_EARLY_STOPPING,
  type EarlyStoppingOptions,
  type MetricDirection,
} from './train/earlyStopping.js';
export { TrainingLog, type LogRecord } from './train/trainingLog.js';
export { TranslationTask, DEFAULT_TRANSLATION_TASK, type TranslationTaskOptions } from './translation/task.js';
export { prepareTranslation, type PreparedTranslation } from './translation/run.js';
export {
  readConfigFile,
  parseSet,
  resolveConfig,
  checkConfig,
  ConfigError,
  type TrainConfig,
  type PartialTrainConfig,
  type DataConfig,
} from './translation/config.js';
export { SectionedConfig, type PartialConfig, type SavedRunConfig } from './train/config.js';
export { LM_CONFIG, resolveLmConfig, type LmTrainConfig } from './heads/lm/config.js';
export { prepareLanguageModel, type PreparedLanguageModel } from './heads/lm/prepare.js';
export { CLASSIFIER_CONFIG, resolveClassifierConfig, type ClassifierTrainConfig } from './heads/classifier/config.js';
export { planClassifierRuns, prepareClassifierRun, scoreClassifierRun } from './heads/classifier/prepare.js';
export { FORECAST_CONFIG, resolveForecastConfig, type ForecastTrainConfig } from './heads/forecaster/config.js';
export { planForecast, prepareForecastRun, prepareSines } from './heads/forecaster/prepare.js';
export { maskedCrossEntropy, lossWeights, type CrossEntropyOptions, type LossAverage } from './loss/crossEntropy.js';
export { sequenceLoss, DEFAULT_SEQUENCE_LOSS, type SequenceLossOptions } from './loss/sequenceLoss.js';
export { sampledSoftmaxLoss, type SampledSoftmaxOptions } from './loss/sampledSoftmax.js';
export { lineChart, type LineChartOptions, type Series } from './plot/lineChart.js';
export { Vocabulary, PAD, GO, EOS, UNK, SPECIAL_TOKENS } from './data/text/vocabulary.js';
export { makeBatch, makeSourceBatch, type Batch, type SourceBatch, type BatchOptions } from './data/text/batch.js';
export {
  createTokenizer,
  parseTokenizerSpec,
  tokenizerFiles,
  WordTokenizer,
  CharTokenizer,
  SpaceTokenizer,
} from './data/text/tokenizers.js';
export type { Tokenizer, TokenizerConfig } from './data/text/tokenizer.js';
export { trainSentencePiece, SentencePieceTokenizer } from './data/text/sentencePieceTokenizer.js';
export { trainSubwords, SUBWORD_TYPES, type SubwordOptions, type SubwordType } from './data/text/subwords.js';
export { readSentencePiecePieces, produciblePieces, type Piece } from './data/text/sentencePieceModel.js';
export {
  SeriesTransform,
  boxCox,
  inverseBoxCox,
  boxCoxLambda,
  difference,
  integrate,
  type SeriesTransformOptions,
} from './data/series/seriesTransforms.js';
export { crossValidationSplits } from './data/text/labelled.js';
export { loadParallelCorpus, parseCorpusSpec, type CorpusSpec } from './data/text/corpus.js';
export { BatchSampler, autoBuckets, DEFAULT_BUCKETS, type Bucket } from './data/text/buckets.js';
export { NumberWordsTask, digitsToWords } from './data/text/numberWords.js';
export { trainNumberWords, evaluateNumberWords, DEFAULT_NUMBER_WORDS_DEMO } from './demo/numberWords.js';
export { greedyDecode, greedySearch } from './search/greedy.js';
export { Ensemble } from './search/ensemble.js';
export { beamSearch } from './search/beam.js';
export { MAX_BEAM_SIZE } from './search/beamRows.js';
export { sampleDecode } from './search/sample.js';
export { search, type SearchOptions } from './search/search.js';
export { SearchStoppedError, type Hypothesis } from './search/decodable.js';
export { type KeepAttention } from './search/keptAttention.js';
export { corpusBleu, sentenceBleu, formatBleu } from './metrics/bleu.js';
export { corpusChrF, sentenceChrF } from './metrics/chrf.js';
export { ToolkitError } from './errors.js';
