// The configuration of a `translate lm train` run: sections data, model, training, loss and validation, each with
// documented defaults, layered as every task's config is (src/train/config.ts): defaults ← a JSON file ← flags ←
// `--set section.path=value`.
//
//   {
//     "data":       { "train": ["wiki.txt"], "tokenizer": "char", "validSplit": 0.05, "batchSize": 32, … },
//     "model":      { "embeddingSize": 64, "hiddenSize": 256, "cell": { "kind": "lstm" } },
//     "training":   { "steps": 3000, "evalEvery": 500, "learningRate": 0.003, … },
//     "loss":       { "softmax": "sampled", "numSampled": 512 },
//     "validation": { "batchSize": 128 }
//   }
import { DEFAULT_SEQUENCE_LOSS, type SequenceLossOptions } from '../../loss/sequenceLoss.js';
import { DEFAULT_TRAINING_OPTIONS, type TrainingOptions } from '../../train/options.js';
import {
  ConfigError,
  SectionedConfig,
  schemaOf,
  sequenceLossSectionProblem,
  TRAINING_SCHEMA,
  SEQUENCE_LOSS_SCHEMA,
  type FieldType,
  type PartialConfig,
} from '../../train/config.js';
import { DEFAULT_LANGUAGE_MODEL_CONFIG, type LanguageModelConfig } from './languageModel.js';
import { DEFAULT_LANGUAGE_MODEL_TASK } from './languageModelTask.js';

export interface LmDataConfig {
  /** Training text files, one sentence per line, plain or gzip (required). */
  train: string[];
  /** Validation text (default: hold out `validSplit` of the training lines). */
  valid?: string;
  /** Held-out share (< 1) or line count when there is no `valid` file (default 0.05). */
  validSplit: number;
  /** char | word | word:fr | space | sp:FILE.model (default "char"). */
  tokenizer: string;
  /** Lowercase the text (default false). */
  lowercase: boolean;
  /** Vocabulary size limit, specials included (default: no limit). */
  maxVocab?: number;
  /** Drop tokens seen fewer times (default 1: keep all). */
  minCount: number;
  /** Read at most this many lines (default: all). */
  limit?: number;
  /** Lines per training batch (default 32). */
  batchSize: number;
  /** Seed of the validation split and of the order of training lines (default 1). */
  seed: number;
}

export interface LmValidationConfig {
  /** Lines per validation batch (default 128). */
  batchSize: number;
}

/** The model section: the language model's config but its vocabulary size, which the data decides. */
export type LmModelConfig = Omit<LanguageModelConfig, 'vocabSize'>;

export interface LmTrainConfig {
  data: LmDataConfig;
  model: LmModelConfig;
  training: TrainingOptions;
  loss: Omit<SequenceLossOptions, 'steps'>;
  validation: LmValidationConfig;
}

export type PartialLmTrainConfig = PartialConfig<LmTrainConfig>;

export const LM_DATA_DEFAULTS: Omit<LmDataConfig, 'train'> = {
  validSplit: 0.05,
  tokenizer: 'char',
  lowercase: false,
  minCount: 1,
  batchSize: DEFAULT_LANGUAGE_MODEL_TASK.batchSize,
  seed: 1,
};

/** Embeddings 64, a 256-unit GRU (DEFAULT_LANGUAGE_MODEL_CONFIG). */
export const LM_MODEL_DEFAULTS: LmModelConfig = { ...DEFAULT_LANGUAGE_MODEL_CONFIG };

/** Adam 3e-3, 3,000 steps, validation every 500; best/ by validation perplexity; no early stopping. */
export const LM_TRAINING_DEFAULTS: TrainingOptions = {
  ...DEFAULT_TRAINING_OPTIONS,
  steps: 3000,
  evalEvery: 500,
  learningRate: 3e-3,
  metric: 'perplexity',
  earlyStopping: { patience: 0 },
};

const DATA_SCHEMA: Record<keyof LmDataConfig, FieldType> = {
  train: 'string[]',
  valid: 'string',
  validSplit: 'number',
  tokenizer: 'string',
  lowercase: 'boolean',
  maxVocab: 'integer',
  minCount: 'integer',
  limit: 'integer',
  batchSize: 'integer',
  seed: 'integer',
};

export const LM_CONFIG = new SectionedConfig<LmTrainConfig>({
  sections: {
    data: DATA_SCHEMA,
    model: schemaOf(LM_MODEL_DEFAULTS),
    training: TRAINING_SCHEMA,
    loss: SEQUENCE_LOSS_SCHEMA,
    validation: { batchSize: 'integer' },
  },
  // The training files have no default: resolveLmConfig requires them.
  defaults: {
    data: { ...LM_DATA_DEFAULTS, train: [] },
    model: LM_MODEL_DEFAULTS,
    training: LM_TRAINING_DEFAULTS,
    loss: DEFAULT_SEQUENCE_LOSS,
    validation: { batchSize: DEFAULT_LANGUAGE_MODEL_TASK.validBatchSize },
  },
  problem: sequenceLossSectionProblem,
});

/** Defaults ← each layer in order (file, flags, --set); the training text is required. */
export function resolveLmConfig(layers: readonly PartialLmTrainConfig[]): LmTrainConfig {
  const config = LM_CONFIG.resolve(layers);
  if (config.data.train.length === 0)
    throw new ConfigError('no training text: give --train FILE or "data": { ' + '"train": [FILE] } in the config file');
  return config;
}
