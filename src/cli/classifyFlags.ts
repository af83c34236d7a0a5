// The flags of `translate classify train|eval`: the data flags both share, the training flags of `classify train`,
// and their mapping onto a partial classifier config (and the config a checkpoint saved).
import { Option, type Command } from 'commander';
import { int, num, keep } from './flags.js';
import {
  addHeadTrainingFlags,
  addStackFlags,
  stackLayer,
  trainingLayer,
  type HeadTrainFlags,
  type StackFlags,
} from './headTraining.js';
import { pickDefined, isPlainObject } from '../train/config.js';
import {
  CLASSIFIER_CONFIG,
  CLASSIFIER_DATA_DEFAULTS,
  CLASSIFIER_MODEL_DEFAULTS,
  CLASSIFIER_TRAINING_DEFAULTS,
  type PartialClassifierTrainConfig,
} from '../heads/classifier/config.js';

/** The data flags train and eval share. */
export interface ClassifyDataFlags {
  format?: 'tsv' | 'features';
  header?: boolean;
  validSplit?: number;
  testSplit?: number;
  seed?: number;
}

export interface ClassifyTrainFlags extends HeadTrainFlags, ClassifyDataFlags, StackFlags {
  train?: string[];
  valid?: string;
  tokenizer?: string;
  lowercase?: boolean;
  maxVocab?: number;
  minCount?: number;
  embedding?: number;
  pooling?: 'final' | 'mean' | 'max' | 'attention';
  attentionSize?: number;
  embeddingKeep?: number;
  pretrained?: string;
  seeds?: number;
  folds?: number;
  bidirectional?: boolean;
}

/** The flags given, as a partial config (flags not given are absent, so the config file's values stand). */
export function classifyFlagsToConfig(f: ClassifyTrainFlags): PartialClassifierTrainConfig {
  const config: PartialClassifierTrainConfig = {
    data: pickDefined({
      train: f.train,
      format: f.format,
      header: f.header,
      valid: f.valid,
      validSplit: f.validSplit,
      testSplit: f.testSplit,
      tokenizer: f.tokenizer,
      lowercase: f.lowercase,
      maxVocab: f.maxVocab,
      minCount: f.minCount,
      pretrained: f.pretrained,
      batchSize: f.batchSize,
      seed: f.seed,
    }),
    model: {
      ...pickDefined({
        hiddenSize: f.hidden,
        pooling: f.pooling,
        attentionSize: f.attentionSize,
        embeddingKeep: f.embeddingKeep,
        bidirectional: f.bidirectional,
        embeddingSize: f.embedding,
        seed: f.seed,
      }),
      ...(f.cell !== undefined ? { cell: { kind: f.cell } } : {}),
      ...stackLayer(f),
    },
    training: trainingLayer(f),
    validation: pickDefined({ seeds: f.seeds, folds: f.folds }),
  };
  return CLASSIFIER_CONFIG.check(config, 'command-line flags');
}

/** A checkpoint's saved config: `{ config }`, or the `{ flags }` that runs saved before configs existed. */
export function classifySavedConfig(saved: unknown): PartialClassifierTrainConfig | null {
  if (!isPlainObject(saved)) return null;
  if (isPlainObject(saved['config'])) return saved['config'];
  if (isPlainObject(saved['flags']))
    return classifyFlagsToConfig({ set: [], out: '', ...(saved['flags'] as Partial<ClassifyTrainFlags>) });
  return null;
}

/** --format, --header, --valid-split, --test-split: with defaults for eval, optional (config file) for train. */
export function addDataFlags(c: Command, withDefaults: boolean): Command {
  const d = CLASSIFIER_DATA_DEFAULTS;
  const shown = (x: unknown) => (withDefaults ? '' : ` (default: ${String(x)})`);
  const format = new Option(
    '--format <format>',
    `tsv (text<TAB>label) or features (CSV label,sequence)${shown(d.format)}`,
  ).choices(['tsv', 'features']);
  return c
    .addOption(withDefaults ? format.default(d.format) : format)
    .option('--header', 'TSV files start with a header line')
    .option(
      '--valid-split <x>',
      `validation share (< 1) or count of the seeded split${shown(d.validSplit)}`,
      num('--valid-split'),
      ...(withDefaults ? [d.validSplit] : []),
    )
    .option(
      '--test-split <x>',
      `test share (< 1) or count of the seeded split${shown(d.testSplit)}`,
      num('--test-split'),
      ...(withDefaults ? [d.testSplit] : []),
    );
}

/** The flags of `classify train` after the run-config flags: training, data, model, seeds and folds, stack. */
export function addClassifyTrainFlags(train: Command): Command {
  const m = CLASSIFIER_MODEL_DEFAULTS;
  addDataFlags(
    addHeadTrainingFlags(train, {
      training: CLASSIFIER_TRAINING_DEFAULTS,
      batchSize: CLASSIFIER_DATA_DEFAULTS.batchSize,
      hidden: m.hiddenSize,
    }),
    false,
  )
    .option(
      '--train <file...>',
      'labelled examples (split by --valid-split / --test-split and --seed); required ' + 'unless in --config',
    )
    .option('--valid <file>', 'validation examples (then only --test-split is held out of --train)')
    .option(
      '--tokenizer <spec>',
      `word | char | space | sp:FILE.model (default: ${CLASSIFIER_DATA_DEFAULTS.tokenizer})`,
    )
    .option('--lowercase', 'lowercase the text')
    .option('--max-vocab <n>', 'vocabulary size limit, specials included', int('--max-vocab', 5))
    .option('--min-count <n>', 'drop tokens seen fewer times (default: 1)', int('--min-count'))
    .option('--embedding <n>', `embedding width (default: ${m.embeddingSize})`, int('--embedding'))
    .addOption(
      new Option('--pooling <how>', `summary of the sequence (default: ${m.pooling})`).choices([
        'final',
        'mean',
        'max',
        'attention',
      ]),
    )
    .option(
      '--attention-size <n>',
      `--pooling attention: width of the scorer (default: ${m.attentionSize})`,
      int('--attention-size'),
    )
    .option(
      '--embedding-keep <p>',
      'embedding dropout: keep probability of each word type in a batch (default: ' + '1)',
      keep('--embedding-keep'),
    )
    .option(
      '--pretrained <file>',
      'initialise the embeddings from word vectors in GloVe text format (width = ' + '--embedding)',
    )
    .option(
      '--seeds <n>',
      'train this many seeds (--seed, --seed + 1, …), each on its own split, in --out/seed-N; ' +
        'report mean ± sd and paired differences with the baselines (default: 1)',
      int('--seeds'),
    )
    .option(
      '--folds <k>',
      'k-fold cross-validation per seed (each fold tested once; --valid-split held out of the ' + 'rest) (default: 1)',
      int('--folds'),
    )
    .option('--bidirectional', 'read each sequence in both directions');
  return addStackFlags(train);
}
