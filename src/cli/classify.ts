// `translate classify train|eval|predict`: a sequence classifier on text (TSV: text<TAB>label) or feature sequences
// (CSV), trained by the same loop as `translate train` (config file, flags, --set, --resume), scored on a held-out
// test part beside the majority class and a bag-of-words logistic regression, over several seeds or folds.
import { Option, type Command } from 'commander';
import * as path from 'node:path';
import { int, num, keep } from './flags.js';
import { readInputLines } from './lineInput.js';
import { addRunConfigFlags, resolveRun } from './runConfig.js';
import {
  addHeadTrainingFlags,
  addStackFlags,
  stackLayer,
  trainingLayer,
  runHeadTraining,
  fmt,
  type HeadTrainFlags,
  type StackFlags,
} from './headTraining.js';
import { ConfigError, pickDefined, isPlainObject } from '../train/config.js';
import { BEST_DIR } from '../train/checkpoints.js';
import { readFeatureSequences } from '../data/series/featureSequences.js';
import { classificationReport, renderConfusionMatrix, meanAndSd, pairedDifference } from '../metrics/scores.js';
import {
  CLASSIFIER_CONFIG,
  CLASSIFIER_DATA_DEFAULTS,
  CLASSIFIER_MODEL_DEFAULTS,
  CLASSIFIER_TRAINING_DEFAULTS,
  resolveClassifierConfig,
  type ClassifierTrainConfig,
  type PartialClassifierTrainConfig,
} from '../heads/classifier/config.js';
import {
  planClassifierRuns,
  prepareClassifierRun,
  scoreClassifierRun,
  classifierRunDir,
  type ClassifierRunScores,
} from '../heads/classifier/prepare.js';
import { readClassifierData, classifierSplit, toModelExamples } from '../heads/classifier/data.js';
import { TextClassifier, CLASSIFIER_KIND, type ClassifierExample } from '../heads/classifier/textClassifier.js';
import { LogisticRegression, majorityClass } from '../heads/classifier/logisticRegression.js';
import { readTextLines } from '../heads/textLines.js';

type StartBackend = () => Promise<void>;

/** The data flags train and eval share. */
interface ClassifyDataFlags {
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

const describeClassifier = (m: Record<string, number>): string =>
  `loss ${fmt(m['loss'])}, accuracy ${fmt(m['accuracy'], 2)}%, macro-F1 ${fmt(m['macroF1'], 2)}%`;
const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

export async function classifyTrain(flags: ClassifyTrainFlags, startBackend: StartBackend): Promise<number> {
  const { config, checkpoint } = await resolveRun(flags, {
    system: CLASSIFIER_CONFIG,
    flagLayer: classifyFlagsToConfig(flags),
    resolve: resolveClassifierConfig,
    kind: CLASSIFIER_KIND,
    savedConfig: classifySavedConfig,
  });
  if (checkpoint !== undefined) process.stderr.write(`resuming ${flags.out} at step ${checkpoint.training.step}\n`);
  const plan = await planClassifierRuns(config, checkpoint !== undefined);
  await startBackend();
  const scores: ClassifierRunScores[] = [];
  for (const run of plan.runs) {
    const out = classifierRunDir(flags.out, plan, run);
    const prepared = await prepareClassifierRun(run, plan, checkpoint);
    const { classifier } = prepared;
    const split = run.split;
    try {
      const err = process.stderr;
      if (prepared.pretrained !== null) {
        const p = prepared.pretrained;
        err.write(
          `pretrained embeddings from ${p.file}: ${p.found} of ${p.words} vocabulary words found (${p.exact} as written, ${p.lowercase} lowercased)\n`,
        );
      }
      const c = classifier.model.config;
      err.write(
        `data: ${split.train.length} training, ${split.valid.length} validation, ${split.test.length} test examples (seeded split, seed ${run.seed}); ` +
          `labels ${classifier.labels.labels.join(', ')}\n` +
          `model: ${c.layers}×${c.bidirectional ? 'bidirectional ' : ''}${c.cell.kind} ${c.hiddenSize} units, ${c.pooling} pooling` +
          `${c.embeddingKeep < 1 ? `, embedding keep ${c.embeddingKeep}` : ''}, ${classifier.model.params.count().toLocaleString('en-US')} weights\n`,
      );
      const code = await runHeadTraining(prepared.task, {
        out,
        training: run.config.training,
        saved: prepared.saved,
        flags,
        describe: describeClassifier,
        ...(checkpoint !== undefined ? { checkpoint } : {}),
      });
      if (code !== 0) return code;
    } finally {
      classifier.dispose();
    }
    if (split.test.length === 0) continue;
    const best = await TextClassifier.load(path.join(out, BEST_DIR));
    try {
      const s = scoreClassifierRun(best, split, config.data.format);
      process.stdout.write(
        `test (best model, ${split.test.length} held-out examples): accuracy ${pct(s.test)}, macro-F1 ${pct(s.testMacroF1)}` +
          `${s.logistic === undefined ? '' : `; bag-of-words logistic regression on the same split ${pct(s.logistic)}`}\n`,
      );
      scores.push(s);
    } finally {
      best.dispose();
    }
  }
  if (plan.runs.length > 1 && scores.length === plan.runs.length) reportClassifierRuns(scores, config);
  return 0;
}

/** Mean ± sd over runs, and the paired differences with the baselines (model − baseline, in points). */
function reportClassifierRuns(scores: ClassifierRunScores[], config: ClassifierTrainConfig): void {
  const o = process.stdout;
  const { seeds, folds } = config.validation;
  const meanSd = (xs: number[]) => {
    const s = meanAndSd(xs.map((x) => 100 * x));
    return `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}%`;
  };
  const how =
    folds > 1
      ? `${folds}-fold cross-validation × ${seeds} seed${seeds === 1 ? '' : 's'}`
      : `${seeds} seeds, each on its own split`;
  o.write(`over ${scores.length} runs (${how}), mean ± sd:\n`);
  o.write(`  validation accuracy (best model)   ${meanSd(scores.map((s) => s.valid))}\n`);
  o.write(`  test accuracy (best model)         ${meanSd(scores.map((s) => s.test))}\n`);
  const test = scores.map((s) => 100 * s.test);
  const compare = (name: string, base: number[]) => {
    const d = pairedDifference(test, base);
    o.write(
      `  ${name.padEnd(34)} ${meanSd(base.map((x) => x / 100))}; model − baseline ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} points, ` +
        `standard error ${d.se.toFixed(2)} (${(d.mean / d.se).toFixed(2)} standard errors)\n`,
    );
  };
  if (scores.every((s) => s.logistic !== undefined))
    compare(
      'bag-of-words logistic regression',
      scores.map((s) => 100 * s.logistic!),
    );
  compare(
    'majority class',
    scores.map((s) => 100 * s.majority),
  );
}

interface ClassifyEvalFlags {
  model: string;
  format: 'tsv' | 'features';
  header?: boolean;
  validSplit: number;
  testSplit: number;
  seed: number;
  part: 'all' | 'train' | 'valid' | 'test';
  baselines?: boolean;
}

async function classifyEval(files: string[], flags: ClassifyEvalFlags, startBackend: StartBackend): Promise<void> {
  const { examples } = await readClassifierData(files, flags);
  const split = classifierSplit(examples, flags);
  const part = flags.part === 'all' ? examples : split[flags.part];
  const shares = `valid share ${flags.validSplit}, test share ${flags.testSplit}, seed ${flags.seed}`;
  if (part.length === 0)
    throw new ConfigError(`${files.join(', ')}: no examples in the ${flags.part} part (${shares})`);
  if (flags.baselines && (flags.part === 'all' || flags.part === 'train')) {
    throw new ConfigError('--baselines trains on the train part: evaluate on --part valid or test');
  }
  await startBackend();
  const classifier = await TextClassifier.load(flags.model);
  const o = process.stdout;
  try {
    const expected = classifier.labels.encode(part);
    const report = classifier.evaluate(toModelExamples(classifier, part), expected);
    const where =
      flags.part === 'all'
        ? `all ${part.length} examples`
        : `the ${flags.part} part (${part.length} examples; shares valid ${flags.validSplit}, test ${flags.testSplit}, seed ${flags.seed})`;
    o.write(`${files.join(', ')}, ${where}\n`);
    o.write(`model: accuracy ${pct(report.accuracy)}, macro-F1 ${pct(report.macroF1)}\n`);
    o.write(`${renderConfusionMatrix(report.confusion, classifier.labels.labels)}\n`);
    if (flags.baselines) {
      const kept = split.train.filter((e) => classifier.labels.has(e.label));
      const major = majorityClass(kept.map((e) => classifier.labels.id(e.label)));
      const m = classificationReport(
        expected.map(() => major),
        expected,
        classifier.labels.size,
      );
      o.write(
        `majority class ("${classifier.labels.label(major)}" in the train part): accuracy ${pct(m.accuracy)}, macro-F1 ${pct(m.macroF1)}\n`,
      );
      if (flags.format === 'tsv') {
        const lr = LogisticRegression.train(
          kept.map((e) => e.text!),
          kept.map((e) => classifier.labels.id(e.label)),
          classifier.labels.size,
        );
        const r = classificationReport(lr.predictAll(part.map((e) => e.text!)), expected, classifier.labels.size);
        o.write(
          `bag-of-words logistic regression (binary features, L2 1e-3, trained on the train part): accuracy ${pct(r.accuracy)}, macro-F1 ${pct(r.macroF1)}\n`,
        );
      }
    }
  } finally {
    classifier.dispose();
  }
}

interface ClassifyPredictFlags {
  model: string;
  batchSize: number;
}

/** Stdin's lines (bounded in length, as `translate` reads them); an over-long line is an error naming it. */
async function stdinLines(): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of readInputLines(process.stdin)) {
    if (l.overLong) throw new ConfigError(`stdin line ${l.line}: too long`);
    lines.push(l.text);
  }
  return lines;
}

async function classifyPredict(
  files: string[],
  flags: ClassifyPredictFlags,
  startBackend: StartBackend,
): Promise<void> {
  await startBackend();
  const classifier = await TextClassifier.load(flags.model);
  try {
    let examples: ClassifierExample[];
    if (classifier.input.kind === 'tokens') {
      const lines = files.length > 0 ? await readTextLines(files) : await stdinLines();
      examples = lines.map((l) => classifier.encodeText(l));
    } else {
      if (files.length === 0)
        throw new ConfigError('a feature-sequence classifier reads a CSV file (label column ' + 'optional), not stdin');
      examples = [];
      for (const f of files) {
        examples.push(
          ...(await readFeatureSequences(f, { label: null, featureSize: classifier.input.featureSize })).examples.map(
            (e) => e.values,
          ),
        );
      }
    }
    const out = classifier.predict(examples, flags.batchSize).map((p) => `${p.label}\t${p.probability.toFixed(4)}\n`);
    process.stdout.write(out.join(''));
  } finally {
    classifier.dispose();
  }
}

/** --format, --header, --valid-split, --test-split: with defaults for eval, optional (config file) for train. */
function addDataFlags(c: Command, withDefaults: boolean): Command {
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

export function registerClassifyCommands(program: Command, startBackend: StartBackend): void {
  const classify = program
    .command('classify')
    .description('sequence classifier on text (TSV: text<TAB>label) or ' + 'feature sequences (CSV)');
  const train = classify
    .command('train')
    .description("train a classifier; prints the best model's accuracy on the " + 'held-out test part');
  addRunConfigFlags(train, CLASSIFIER_CONFIG.sectionNames, 'runs/classify');
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
  addStackFlags(train).action(async (opts: ClassifyTrainFlags) => {
    const code = await classifyTrain(opts, startBackend);
    if (code !== 0) process.exitCode = code;
  });
  addDataFlags(
    classify
      .command('eval')
      .description(
        'accuracy, macro-F1 and confusion matrix on labelled files (or ' +
          'one part of their seeded split), with baselines',
      ),
    true,
  )
    .requiredOption('--model <dir>', 'classifier directory')
    .addOption(
      new Option('--part <part>', 'which part of the seeded split to evaluate')
        .choices(['all', 'train', 'valid', 'test'])
        .default('all'),
    )
    .option('--seed <n>', 'seed of the split (as in training)', int('--seed', 0), 1)
    .option('--baselines', 'also the majority class and a bag-of-words logistic regression trained on the train part')
    .argument('<file...>', 'labelled examples')
    .action(async (files: string[], opts: ClassifyEvalFlags) => classifyEval(files, opts, startBackend));
  classify
    .command('predict')
    .description(
      'label and probability of each stdin line (text models) or each sequence of CSV files (feature ' + 'models)',
    )
    .requiredOption('--model <dir>', 'classifier directory')
    .option('--batch-size <n>', 'examples per batch', int('--batch-size'), 64)
    .argument('[file...]', 'inputs (default: stdin lines)')
    .action(async (files: string[], opts: ClassifyPredictFlags) => classifyPredict(files, opts, startBackend));
}
