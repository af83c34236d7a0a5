// The configuration of a `translate train` run: five sections, each with documented defaults, read from a JSON
// file, overridden by command-line flags, overridden in turn by `--set section.path=value` (the machinery every
// task shares is src/train/config.ts). Every key is checked against the known ones (the model section against
// DEFAULT_SEQ2SEQ_CONFIG, so model fields added later are known without new code here); an unknown key or a value
// of the wrong type is an error naming where it came from.
//
//   {
//     "data":       { "corpus": "tsv:eng-fra.tsv", "tokenizer": "word", "batchSize": 64, … },
//     "model":      { "hiddenSize": 256, "attention": "dot", "cell": { "kind": "lstm" }, … },
//     "training":   { "steps": 5000, "optimizer": "adam", "schedule": { "kind": "loss-rise" }, … },
//     "loss":       { "softmax": "sampled", "numSampled": 512, "labelSmoothing": 0, "average": "token" },
//     "validation": { "decodeSentences": 200, "batchSize": 64 }
//   }
import { DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './seq2seq.js';
import { DEFAULT_SEQUENCE_LOSS, type SequenceLossOptions } from '../loss/sequenceLoss.js';
import type { Bucket } from '../data/text/buckets.js';
import { DEFAULT_TRAINING_OPTIONS, type TrainingOptions } from '../train/options.js';
import {
  ConfigError,
  CustomField,
  SectionedConfig,
  mergeConfig,
  schemaOf,
  sequenceLossSectionProblem,
  TRAINING_SCHEMA,
  SEQUENCE_LOSS_SCHEMA,
  type FieldType,
  type PartialConfig,
} from '../train/config.js';

export interface DataConfig {
  /** Training corpus: tsv:FILE[#src,tgt] | aligned:SRC,TGT | jsonl:FILE | a path (required). */
  corpus: string;
  /** Validation corpus, same forms (default: hold out `validSplit` of the training corpus). */
  valid?: string;
  /** Held-out validation share when there is no `valid` corpus: a fraction < 1 or a number of pairs (default 0.05). */
  validSplit: number;
  /** Source tokenizer: word | word:fr | char | space | sp:FILE.model (default "word"). */
  tokenizer: string;
  /** Target tokenizer (default: as `tokenizer`). */
  targetTokenizer?: string;
  /** Lowercase both sides (default false). */
  lowercase: boolean;
  /** "auto" (fitted to the corpus, default), "default" (the tutorial's) or e.g. "5,10;10,15", or a list of [source, target]. */
  buckets: string | Bucket[];
  /** Buckets fitted by "auto" (default 4). */
  bucketCount: number;
  /** Vocabulary size limit per side, specials included (default: no limit). */
  maxVocab?: number;
  /** Drop tokens seen fewer times (default 1: keep all). */
  minCount: number;
  /** Drop pairs with a side longer than this many characters (default: no limit). */
  maxChars?: number;
  /** Drop pairs whose line is longer than this many bytes, never reading it whole (default 1 MiB). */
  maxLineBytes?: number;
  /** Read at most this many pairs of the corpus (default: all). */
  limit?: number;
  /** Pairs per training batch (default 64). */
  batchSize: number;
  /** Seed of the validation split and of the order of training pairs (default 1). */
  seed: number;
  /** One vocabulary built from both sides, for model.shareEmbeddings (default false). */
  jointVocabulary: boolean;
  /** GloVe-format vectors (word v1 … vd, plain or .gz) initialising the source embeddings of a new model. */
  pretrainedSource?: string;
  /** The same for the target embeddings. */
  pretrainedTarget?: string;
  /**
   * Train a joint SentencePiece model of this many pieces on both sides of the training corpus (spm_train, byte
   * fallback) and use it as both tokenizers; the model file is stored in the model directory. 0: off. Default:
   * DEFAULT_SUBWORDS (8000) when no tokenizer is chosen, else 0.
   */
  subwords: number;
  /** The SentencePiece algorithm for `subwords`: 'unigram' (default) or 'bpe'. */
  subwordType: 'unigram' | 'bpe';
}

export interface ValidationConfig {
  /** Validation sentences greedily translated for exact match and BLEU at each evaluation (default 200; 0: none). */
  decodeSentences: number;
  /** Pairs per validation batch (default 64). */
  batchSize: number;
}

export interface TrainConfig {
  data: DataConfig;
  model: Seq2SeqConfig;
  training: TrainingOptions;
  loss: Omit<SequenceLossOptions, 'steps'>;
  validation: ValidationConfig;
}

/** A config as written in a file or built from flags: every section and field optional (nested fields too). */
export type PartialTrainConfig = PartialConfig<TrainConfig>;

/** Pieces of the joint SentencePiece model `translate train` learns when no tokenizer is given. */
export const DEFAULT_SUBWORDS = 8000;

export const DEFAULT_DATA_CONFIG: Omit<DataConfig, 'corpus'> = {
  validSplit: 0.05,
  tokenizer: 'word',
  lowercase: false,
  buckets: 'auto',
  bucketCount: 4,
  minCount: 1,
  batchSize: 64,
  seed: 1,
  jointVocabulary: false,
  subwords: 0,
  subwordType: 'unigram',
};

export const DEFAULT_VALIDATION_CONFIG: ValidationConfig = { decodeSentences: 200, batchSize: 64 };

/**
 * The model `translate train` builds when a run says nothing, chosen on Multi30K validation BLEU (README, "The
 * default model"): a bidirectional GRU encoder (2 × 128) whose final states a bridge maps to a 256-unit GRU decoder,
 * Bahdanau (additive) attention, embeddings 256, dropout keep 0.8 on layer inputs and outputs. The library's
 * DEFAULT_SEQ2SEQ_CONFIG stays the small model the demo and tests build.
 */
export const TRANSLATION_MODEL_DEFAULTS: Seq2SeqConfig = {
  ...DEFAULT_SEQ2SEQ_CONFIG,
  embeddingSize: 256,
  hiddenSize: 256,
  bidirectional: true,
  attention: 'bahdanau',
  bridge: 'auto',
  dropout: { inputKeep: 0.8, outputKeep: 0.8, stateKeep: 1 },
};

/**
 * `translate train`'s training when a run says nothing: Adam 2e-3 with cosine decay over 4,000 steps, validation
 * every 500, the best checkpoint and early stopping (4 evaluations without gain) by validation BLEU.
 */
export const TRANSLATION_TRAINING_DEFAULTS: TrainingOptions = {
  ...DEFAULT_TRAINING_OPTIONS,
  learningRate: 2e-3,
  steps: 4000,
  schedule: { kind: 'cosine', finalShare: 0.05 },
  metric: 'bleu',
  earlyStopping: { patience: 4 },
};

export { ConfigError, mergeConfig };

const BUCKETS_FIELD = new CustomField(
  'must be "auto", "default", a string like "5,10;10,15" or a list of [source, target] pairs',
  (value) =>
    typeof value === 'string' ||
    (Array.isArray(value) &&
      value.length > 0 &&
      value.every((b) => Array.isArray(b) && b.length === 2 && b.every((n) => Number.isInteger(n) && n > 0))),
);

const DATA_SCHEMA: Record<keyof DataConfig, FieldType> = {
  corpus: 'string',
  valid: 'string',
  validSplit: 'number',
  tokenizer: 'string',
  targetTokenizer: 'string',
  lowercase: 'boolean',
  buckets: BUCKETS_FIELD,
  bucketCount: 'integer',
  maxVocab: 'integer',
  minCount: 'integer',
  maxChars: 'integer',
  maxLineBytes: 'integer',
  limit: 'integer',
  batchSize: 'integer',
  seed: 'integer',
  jointVocabulary: 'boolean',
  pretrainedSource: 'string',
  pretrainedTarget: 'string',
  subwords: 'integer',
  subwordType: ['unigram', 'bpe'],
};

const VALIDATION_SCHEMA: Record<keyof ValidationConfig, FieldType> = {
  decodeSentences: 'integer',
  batchSize: 'integer',
};

/**
 * `translate train`'s sections (the generic machinery is src/train/config.ts). The model section's schema comes from
 * DEFAULT_SEQ2SEQ_CONFIG: whatever fields the model config has, with their types.
 */
export const TRANSLATION_CONFIG = new SectionedConfig<TrainConfig>({
  sections: {
    data: DATA_SCHEMA,
    model: schemaOf(DEFAULT_SEQ2SEQ_CONFIG),
    training: TRAINING_SCHEMA,
    loss: SEQUENCE_LOSS_SCHEMA,
    validation: VALIDATION_SCHEMA,
  },
  // The corpus has no default: resolveConfig requires it.
  defaults: {
    data: DEFAULT_DATA_CONFIG as DataConfig,
    model: TRANSLATION_MODEL_DEFAULTS,
    training: TRANSLATION_TRAINING_DEFAULTS,
    loss: DEFAULT_SEQUENCE_LOSS,
    validation: DEFAULT_VALIDATION_CONFIG,
  },
  problem: sequenceLossSectionProblem,
});

/** Checks a partial config (from a file, flags or --set); `where` names the source in messages. */
export function checkConfig(config: unknown, where: string): PartialTrainConfig {
  return TRANSLATION_CONFIG.check(config, where);
}

/** Reads and checks a JSON config file. */
export async function readConfigFile(file: string): Promise<PartialTrainConfig> {
  return TRANSLATION_CONFIG.readFile(file);
}

/**
 * `section.path=value` → a partial config holding that one value. The value is parsed as JSON when it parses
 * (numbers, true/false, objects, quoted strings), else taken as a string: model.attention=bahdanau.
 */
export function parseSet(expr: string): PartialTrainConfig {
  return TRANSLATION_CONFIG.parseSet(expr);
}

/** Defaults ← each layer in order (file, flags, --set); the training corpus is required. */
export function resolveConfig(layers: readonly PartialTrainConfig[]): TrainConfig {
  const merged = layers.reduce<unknown>(
    (acc, layer) => mergeConfig(acc, layer),
    TRANSLATION_CONFIG.defaults,
  ) as TrainConfig;
  // Subwords unless told otherwise: a joint SentencePiece model learnt from the corpus reads any text (nothing is
  // unknown to it), and on Multi30K it scored above words on validation and on unseen text (see the README).
  const chosen = layers.some(
    (l) =>
      l.data !== undefined &&
      ['tokenizer', 'targetTokenizer', 'subwords'].some(
        (k) => Object.hasOwn(l.data!, k) && l.data![k as keyof DataConfig] !== undefined,
      ),
  );
  if (!chosen) merged.data = { ...merged.data, subwords: DEFAULT_SUBWORDS };
  if (typeof merged.data.corpus !== 'string' || merged.data.corpus.length === 0) {
    throw new ConfigError('no training corpus: give --corpus or "data": { "corpus": … } in the config file');
  }
  const problem = sequenceLossSectionProblem(merged);
  if (problem !== null) throw new ConfigError(problem);
  return merged;
}
