// The configuration of a `translate classify train` run: sections data, model, training and validation, each with
// documented defaults, layered as every task's config is (src/train/config.ts): defaults ← a JSON file ← flags ←
// `--set section.path=value`. The classifier's loss is the cross-entropy of its labels: there is no loss section.
//
//   {
//     "data":       { "train": ["reviews.tsv"], "format": "tsv", "tokenizer": "word", "testSplit": 0.1, … },
//     "model":      { "hiddenSize": 64, "pooling": "attention", "bidirectional": true, "embeddingSize": 64, … },
//     "training":   { "steps": 2000, "evalEvery": 100, "learningRate": 0.003, … },
//     "validation": { "seeds": 3, "folds": 1 }
//   }
import { DEFAULT_TRAINING_OPTIONS, type TrainingOptions } from '../../train/options.js';
import {
  ConfigError,
  SectionedConfig,
  schemaOf,
  TRAINING_SCHEMA,
  type FieldType,
  type PartialConfig,
} from '../../train/config.js';
import { DEFAULT_CLASSIFIER_CONFIG, type ClassifierConfig } from './classifier.js';

export interface ClassifierDataConfig {
  /** Labelled examples (required), split into train, validation and test parts by the shares and `seed`. */
  train: string[];
  /** 'tsv' (text<TAB>label, default) or 'features' (CSV: label,sequence of feature steps). */
  format: 'tsv' | 'features';
  /** TSV files start with a header line (default false). */
  header: boolean;
  /** Validation examples (then only `testSplit` is held out of `train`). */
  valid?: string;
  /** Validation share (< 1) or count of the seeded split (default 0.1). */
  validSplit: number;
  /** Test share (< 1) or count of the seeded split (default 0.1). */
  testSplit: number;
  /** word | char | space | sp:FILE.model (default "word"). */
  tokenizer: string;
  /** Lowercase the text (default false). */
  lowercase: boolean;
  /** Vocabulary size limit, specials included (default: no limit). */
  maxVocab?: number;
  /** Drop tokens seen fewer times (default 1). */
  minCount: number;
  /** GloVe-format word vectors initialising the embeddings of a new model (width = model.embeddingSize). */
  pretrained?: string;
  /** Examples per training batch (default 32). */
  batchSize: number;
  /** Seed of the split and the order of training examples (default 1). */
  seed: number;
}

/** The model section: the classifier's config but its input and classes (the data decides), plus the embedding width. */
export interface ClassifierModelConfig extends Omit<ClassifierConfig, 'input' | 'classes'> {
  /** Embedding width of text models (default 64). */
  embeddingSize: number;
}

export interface ClassifierValidationConfig {
  /** Train this many seeds (seed, seed + 1, …), each on its own split, and report mean ± sd (default 1). */
  seeds: number;
  /** k-fold cross-validation per seed: each example tested once (default 1: one split). */
  folds: number;
}

export interface ClassifierTrainConfig {
  data: ClassifierDataConfig;
  model: ClassifierModelConfig;
  training: TrainingOptions;
  validation: ClassifierValidationConfig;
}

export type PartialClassifierTrainConfig = PartialConfig<ClassifierTrainConfig>;

export const CLASSIFIER_DATA_DEFAULTS: Omit<ClassifierDataConfig, 'train'> = {
  format: 'tsv',
  header: false,
  validSplit: 0.1,
  testSplit: 0.1,
  tokenizer: 'word',
  lowercase: false,
  minCount: 1,
  batchSize: 32,
  seed: 1,
};

/** A 64-unit GRU reading embeddings 64, its final state classified (DEFAULT_CLASSIFIER_CONFIG otherwise). */
export const CLASSIFIER_MODEL_DEFAULTS: ClassifierModelConfig = {
  ...DEFAULT_CLASSIFIER_CONFIG,
  hiddenSize: 64,
  embeddingSize: 64,
};

/** Adam 3e-3, 2,000 steps, validation every 100; best/ by validation accuracy; no early stopping. */
export const CLASSIFIER_TRAINING_DEFAULTS: TrainingOptions = {
  ...DEFAULT_TRAINING_OPTIONS,
  steps: 2000,
  evalEvery: 100,
  learningRate: 3e-3,
  metric: 'accuracy',
  earlyStopping: { patience: 0 },
};

const DATA_SCHEMA: Record<keyof ClassifierDataConfig, FieldType> = {
  train: 'string[]',
  format: ['tsv', 'features'],
  header: 'boolean',
  valid: 'string',
  validSplit: 'number',
  testSplit: 'number',
  tokenizer: 'string',
  lowercase: 'boolean',
  maxVocab: 'integer',
  minCount: 'integer',
  pretrained: 'string',
  batchSize: 'integer',
  seed: 'integer',
};

export const CLASSIFIER_CONFIG = new SectionedConfig<ClassifierTrainConfig>({
  sections: {
    data: DATA_SCHEMA,
    model: {
      ...(schemaOf(CLASSIFIER_MODEL_DEFAULTS) as Record<string, FieldType>),
      pooling: ['final', 'mean', 'max', 'attention'],
    },
    training: TRAINING_SCHEMA,
    validation: { seeds: 'integer', folds: 'integer' },
  },
  defaults: {
    data: { ...CLASSIFIER_DATA_DEFAULTS, train: [] },
    model: CLASSIFIER_MODEL_DEFAULTS,
    training: CLASSIFIER_TRAINING_DEFAULTS,
    validation: { seeds: 1, folds: 1 },
  },
});

/** Defaults ← each layer in order (file, flags, --set); the training examples are required. */
export function resolveClassifierConfig(layers: readonly PartialClassifierTrainConfig[]): ClassifierTrainConfig {
  const config = CLASSIFIER_CONFIG.resolve(layers);
  if (config.data.train.length === 0)
    throw new ConfigError(
      'no training examples: give --train FILE or "data": { ' + '"train": [FILE] } in the config file',
    );
  const v = config.validation;
  if (!(Number.isInteger(v.seeds) && v.seeds >= 1) || !(Number.isInteger(v.folds) && v.folds >= 1)) {
    throw new ConfigError(`validation.seeds and validation.folds must be ≥ 1 (got ${v.seeds} and ${v.folds})`);
  }
  if (v.folds > 1 && config.data.valid !== undefined) {
    throw new ConfigError("--folds holds validation examples out of each fold's training part: drop --valid");
  }
  return config;
}
