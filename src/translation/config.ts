// The configuration of a `translate train` run: five sections, each with documented defaults, read from a JSON
// file, overridden by command-line flags, overridden in turn by `--set section.path=value`. Every key is checked
// against the known ones (the model section against DEFAULT_SEQ2SEQ_CONFIG, so model fields added later are known
// without new code here); an unknown key or a value of the wrong type is an error naming where it came from.
//
//   {
//     "data":       { "corpus": "tsv:eng-fra.tsv", "tokenizer": "word", "batchSize": 64, … },
//     "model":      { "hiddenSize": 256, "attention": "dot", "cell": { "kind": "lstm" }, … },
//     "training":   { "steps": 5000, "optimizer": "adam", "schedule": { "kind": "loss-rise" }, … },
//     "loss":       { "softmax": "sampled", "numSampled": 512, "labelSmoothing": 0, "average": "token" },
//     "validation": { "decodeSentences": 200, "batchSize": 64 }
//   }
import { readFile } from 'node:fs/promises';
import { ToolkitError } from '../errors.js';
import { DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from './seq2seq.js';
import { DEFAULT_SEQUENCE_LOSS, sequenceLossProblem, type SequenceLossOptions } from '../loss/sequenceLoss.js';
import type { Bucket } from '../data/text/buckets.js';
import { DEFAULT_TRAINING_OPTIONS, type TrainingOptions } from '../train/loop.js';
import { SCHEDULE_KINDS } from '../train/schedule.js';

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

/** A config as written in a file or built from flags: every section and field optional. */
export interface PartialTrainConfig {
  data?: Partial<DataConfig>;
  model?: Partial<Seq2SeqConfig> & Record<string, unknown>;
  training?: Partial<TrainingOptions>;
  loss?: Partial<SequenceLossOptions>;
  validation?: Partial<ValidationConfig>;
}

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

export class ConfigError extends ToolkitError {
  override name = 'ConfigError';
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas: what each key may hold.

type FieldType = 'string' | 'number' | 'integer' | 'boolean' | 'buckets' | readonly string[] | { [key: string]: FieldType };

const DATA_SCHEMA: Record<keyof DataConfig, FieldType> = {
  corpus: 'string', valid: 'string', validSplit: 'number', tokenizer: 'string', targetTokenizer: 'string', lowercase: 'boolean',
  buckets: 'buckets', bucketCount: 'integer', maxVocab: 'integer', minCount: 'integer', maxChars: 'integer', maxLineBytes: 'integer', limit: 'integer',
  batchSize: 'integer', seed: 'integer', jointVocabulary: 'boolean', pretrainedSource: 'string', pretrainedTarget: 'string',
  subwords: 'integer', subwordType: ['unigram', 'bpe'],
};

const TRAINING_SCHEMA: Record<keyof TrainingOptions, FieldType> = {
  optimizer: ['adam', 'sgd'], learningRate: 'number', momentum: 'number', clipNorm: 'number', steps: 'integer',
  schedule: { kind: SCHEDULE_KINDS, factor: 'number', window: 'integer', patience: 'integer', minLearningRate: 'number', finalShare: 'number' },
  evalEvery: 'integer', checkpointEvery: 'integer', logEvery: 'integer', metric: 'string',
  earlyStopping: { patience: 'integer', minDelta: 'number' }, seed: 'integer', nonFinite: ['stop', 'skip'], maxSkips: 'integer',
  keepCheckpoints: 'integer',
};

const LOSS_SCHEMA: Record<keyof Omit<SequenceLossOptions, 'steps'>, FieldType> = {
  softmax: ['full', 'sampled'], numSampled: 'integer', labelSmoothing: 'number', average: ['token', 'sequence'],
};

const VALIDATION_SCHEMA: Record<keyof ValidationConfig, FieldType> = { decodeSentences: 'integer', batchSize: 'integer' };

/** The model section's schema, from the defaults: whatever fields the model config has, with their types. */
function schemaOf(value: unknown): FieldType {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'string') return 'string';
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, schemaOf(v)]));
  }
  return 'string';
}

const SECTIONS: Record<keyof TrainConfig, FieldType> = {
  data: DATA_SCHEMA,
  model: schemaOf(DEFAULT_SEQ2SEQ_CONFIG),
  training: TRAINING_SCHEMA,
  loss: LOSS_SCHEMA,
  validation: VALIDATION_SCHEMA,
};

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** Checks `value` against `type`; throws ConfigError "<where>: <path>: …". */
function check(value: unknown, type: FieldType, keyPath: string, where: string): void {
  const fail = (what: string): never => {
    throw new ConfigError(`${where}: "${keyPath}" ${what}, got ${JSON.stringify(value)}`);
  };
  if (Array.isArray(type)) {
    if (!type.includes(value as string)) fail(`must be one of ${type.map((t) => JSON.stringify(t)).join(', ')}`);
    return;
  }
  if (typeof type === 'object') {
    if (!isPlainObject(value)) fail('must be an object');
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      // Own keys only: "constructor" or "__proto__" must not find Object.prototype's members.
      const sub = Object.hasOwn(type, k) ? (type as Record<string, FieldType>)[k] : undefined;
      if (sub === undefined) {
        throw new ConfigError(`${where}: unknown key "${keyPath}.${k}" (known: ${Object.keys(type).join(', ')})`);
      }
      check(v, sub, `${keyPath}.${k}`, where);
    }
    return;
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') fail('must be a string');
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail('must be a number');
      return;
    case 'integer':
      if (!Number.isInteger(value)) fail('must be an integer');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('must be true or false');
      return;
    case 'buckets':
      if (typeof value === 'string') return;
      if (!Array.isArray(value) || value.length === 0 || !value.every((b) => Array.isArray(b) && b.length === 2 && b.every((n) => Number.isInteger(n) && n > 0))) {
        fail('must be "auto", "default", a string like "5,10;10,15" or a list of [source, target] pairs');
      }
  }
}

/** Checks a partial config (from a file, flags or --set); `where` names the source in messages. */
export function checkConfig(config: unknown, where: string): PartialTrainConfig {
  if (!isPlainObject(config)) throw new ConfigError(`${where}: a config must be a JSON object with sections ${Object.keys(SECTIONS).join(', ')}`);
  for (const [section, value] of Object.entries(config)) {
    const schema = Object.hasOwn(SECTIONS, section) ? SECTIONS[section as keyof TrainConfig] : undefined;
    if (schema === undefined) throw new ConfigError(`${where}: unknown section "${section}" (known: ${Object.keys(SECTIONS).join(', ')})`);
    check(value, schema, section, where);
  }
  const loss = (config as PartialTrainConfig).loss;
  if (loss !== undefined) {
    const problem = sequenceLossProblem(loss);
    if (problem !== null) throw new ConfigError(`${where}: loss: ${problem}`);
  }
  return config as PartialTrainConfig;
}

/** Reads and checks a JSON config file. */
export async function readConfigFile(file: string): Promise<PartialTrainConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ConfigError(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${file}: not valid JSON (${(e as Error).message})`);
  }
  return checkConfig(json, file);
}

/**
 * `section.path=value` → a partial config holding that one value. The value is parsed as JSON when it parses
 * (numbers, true/false, objects, quoted strings), else taken as a string: model.attention=bahdanau.
 */
export function parseSet(expr: string): PartialTrainConfig {
  const eq = expr.indexOf('=');
  if (eq <= 0) throw new ConfigError(`--set ${expr}: expected section.key=value, e.g. model.hiddenSize=256`);
  const keys = expr.slice(0, eq).trim().split('.');
  if (keys.length < 2 || keys.some((k) => k.length === 0)) throw new ConfigError(`--set ${expr}: the key must be section.key (e.g. training.steps), got "${expr.slice(0, eq)}"`);
  const raw = expr.slice(eq + 1);
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    value = raw;
  }
  let node: unknown = value;
  for (let i = keys.length - 1; i >= 0; i--) node = { [keys[i]!]: node };
  return checkConfig(node, `--set ${expr}`);
}

/** Deep merge: plain objects merge key by key, anything else (arrays included) replaces. */
export function mergeConfig<T>(base: T, override: unknown): T {
  if (!isPlainObject(base) || !isPlainObject(override)) return (override === undefined ? base : override) as T;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(override)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(out[k]) && isPlainObject(v) ? mergeConfig(out[k], v) : v;
  }
  return out as T;
}

/** Defaults ← each layer in order (file, flags, --set); the training corpus is required. */
export function resolveConfig(layers: readonly PartialTrainConfig[]): TrainConfig {
  const defaults = {
    data: DEFAULT_DATA_CONFIG,
    model: TRANSLATION_MODEL_DEFAULTS,
    training: TRANSLATION_TRAINING_DEFAULTS,
    loss: DEFAULT_SEQUENCE_LOSS,
    validation: DEFAULT_VALIDATION_CONFIG,
  };
  const merged = layers.reduce<unknown>((acc, layer) => mergeConfig(acc, layer), defaults) as TrainConfig;
  // Subwords unless told otherwise: a joint SentencePiece model learnt from the corpus reads any text (nothing is
  // unknown to it), and on Multi30K it scored above words on validation and on unseen text (see the README).
  const chosen = layers.some((l) => l.data !== undefined && ['tokenizer', 'targetTokenizer', 'subwords'].some((k) => Object.hasOwn(l.data!, k) && l.data![k as keyof DataConfig] !== undefined));
  if (!chosen) merged.data = { ...merged.data, subwords: DEFAULT_SUBWORDS };
  if (typeof merged.data.corpus !== 'string' || merged.data.corpus.length === 0) {
    throw new ConfigError('no training corpus: give --corpus or "data": { "corpus": … } in the config file');
  }
  const problem = sequenceLossProblem(merged.loss);
  if (problem !== null) throw new ConfigError(`loss: ${problem}`);
  return merged;
}
