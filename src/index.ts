// The library's public entry point.
export { selectBackend, parseBackendChoice, BACKEND_CHOICES, BACKEND_ENV, BackendError, type BackendChoice, type BackendInfo } from './backend/select.js';
export { Translator, type TranslateOptions, type Translation, type ScoredTranslation } from './translator.js';
export { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, resolveSeq2SeqConfig, Seq2SeqConfigError, type Seq2SeqConfig, type LossContext } from './model/seq2seq.js';
export { type AttentionKind } from './decoder/attention.js';
export { type BridgeKind } from './encoder/bridge.js';
export { readPretrainedVectors, loadPretrainedEmbeddings, type PretrainedVectors, type PretrainedCoverage } from './layers/pretrained.js';
export { TextLanguageModel, type LanguageModelExtra } from './heads/textLanguageModel.js';
export { TextClassifier, type ClassifierExtra, type Prediction } from './heads/textClassifier.js';
export { SeriesForecaster, type ForecasterExtra } from './heads/seriesForecaster.js';
export { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG, makeLmBatch, type LanguageModelConfig } from './heads/languageModel.js';
export { SequenceClassifier, DEFAULT_CLASSIFIER_CONFIG, type ClassifierConfig } from './heads/classifier.js';
export { Forecaster, DEFAULT_FORECASTER_CONFIG, type ForecasterConfig } from './heads/forecaster.js';
export { tokenBatch, featureBatch, type SequenceBatch, type InputSpec } from './heads/sequenceInput.js';
export { LanguageModelTask } from './heads/languageModelTask.js';
export { ClassifierTask } from './heads/classifierTask.js';
export { ForecasterTask } from './heads/forecasterTask.js';
export { loadRecipes, fetchCorpus, type Recipe } from './data/fetch.js';
export { Trainer, DEFAULT_TRAINER_OPTIONS, NonFiniteError, type TrainerOptions } from './train/trainer.js';
export {
  train, resolveTrainingOptions, DEFAULT_TRAINING_OPTIONS, TrainingConfigError,
  type TrainableModel, type TrainingTask, type TrainingBatch, type TrainingOptions, type RunOptions, type TrainingResult, type TrainingEvent, type ProgressInfo, type StopReason,
} from './train/loop.js';
export { readCheckpoint, saveCheckpoint, saveBest, CheckpointError, BEST_DIR, type Checkpoint, type SavedModelForm, type TrainingStateJson } from './train/checkpoints.js';
export { LearningRateSchedule, cosineLearningRate, DEFAULT_SCHEDULE, type ScheduleOptions, type ScheduleKind } from './train/schedule.js';
export { MetricTracker, DEFAULT_EARLY_STOPPING, type EarlyStoppingOptions, type MetricDirection } from './train/earlyStopping.js';
export { TrainingLog, type LogRecord } from './train/trainingLog.js';
export { TranslationTask, DEFAULT_TRANSLATION_TASK, type TranslationTaskOptions } from './train/translationTask.js';
export { prepareTranslation, type PreparedTranslation } from './train/translationRun.js';
export { readConfigFile, parseSet, resolveConfig, checkConfig, ConfigError, type TrainConfig, type PartialTrainConfig, type DataConfig } from './train/config.js';
export { maskedCrossEntropy, lossWeights, type CrossEntropyOptions, type LossAverage } from './loss/crossEntropy.js';
export { sequenceLoss, DEFAULT_SEQUENCE_LOSS, type SequenceLossOptions } from './loss/sequenceLoss.js';
export { sampledSoftmaxLoss, type SampledSoftmaxOptions } from './loss/sampledSoftmax.js';
export { lineChart, type LineChartOptions, type Series } from './plot/lineChart.js';
export { Vocabulary, PAD, GO, EOS, UNK, SPECIAL_TOKENS } from './data/vocabulary.js';
export { makeBatch, makeSourceBatch, type Batch, type SourceBatch, type BatchOptions } from './data/batch.js';
export { createTokenizer, parseTokenizerSpec, WordTokenizer, CharTokenizer, SpaceTokenizer, SentencePieceTokenizer, type Tokenizer, type TokenizerConfig } from './data/tokenizers.js';
export { loadParallelCorpus, parseCorpusSpec, type CorpusSpec } from './data/corpus.js';
export { BatchSampler, autoBuckets, DEFAULT_BUCKETS, type Bucket } from './data/buckets.js';
export { NumberWordsTask, digitsToWords } from './data/numberWords.js';
export { trainNumberWords, evaluateNumberWords, DEFAULT_NUMBER_WORDS_DEMO } from './demo/numberWords.js';
export { greedyDecode } from './search/greedy.js';
export { beamSearch } from './search/beam.js';
export { sampleDecode } from './search/sample.js';
export { search, type SearchOptions } from './search/search.js';
export { corpusBleu, sentenceBleu, formatBleu } from './search/bleu.js';
export { corpusChrF, sentenceChrF } from './search/chrf.js';
export { ToolkitError } from './errors.js';
