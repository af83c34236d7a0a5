// The library's public entry point.
export { selectBackend, parseBackendChoice, BACKEND_CHOICES, BACKEND_ENV, BackendError, type BackendChoice, type BackendInfo } from './backend/select.js';
export { Translator, type TranslateOptions, type Translation, type ScoredTranslation } from './translator.js';
export { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './model/seq2seq.js';
export { Trainer, DEFAULT_TRAINER_OPTIONS, NonFiniteError, type TrainerOptions } from './train/trainer.js';
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
