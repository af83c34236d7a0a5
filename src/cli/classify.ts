// `translate classify train|eval|predict`: a sequence classifier on text (TSV: text<TAB>label) or feature sequences
// (CSV), trained by the same loop as `translate train` (config file, flags, --set, --resume), scored on a held-out
// test part beside the majority class and a bag-of-words logistic regression, over several seeds or folds.
import { Option, type Command } from 'commander';
import * as path from 'node:path';
import { int } from './flags.js';
import { placedLines, DEFAULT_MAX_INPUT_LINE_BYTES, type PlacedLine } from './lineInput.js';
import { addRunConfigFlags, resolveRun } from './runConfig.js';
import { runHeadTraining } from './headTraining.js';
import {
  addClassifyTrainFlags,
  addDataFlags,
  classifyFlagsToConfig,
  classifySavedConfig,
  type ClassifyTrainFlags,
} from './classifyFlags.js';
import {
  LOGISTIC_NAME,
  accuracyLine,
  classifierRunSummary,
  classifierRunsReport,
  describeClassifier,
  evalHeader,
  majorityName,
  pretrainedLine,
  runTestLine,
} from './classifyReport.js';
import { ConfigError } from '../train/config.js';
import { BEST_DIR } from '../train/checkpoints.js';
import { readFeatureSequences } from '../data/series/featureSequences.js';
import { classificationReport, renderConfusionMatrix } from '../metrics/scores.js';
import { CLASSIFIER_CONFIG, resolveClassifierConfig } from '../heads/classifier/config.js';
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
import { writeWaiting } from './stdout.js';

type StartBackend = () => Promise<void>;

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
      if (prepared.pretrained !== null) err.write(pretrainedLine(prepared.pretrained));
      err.write(
        classifierRunSummary({
          train: split.train.length,
          valid: split.valid.length,
          test: split.test.length,
          seed: run.seed,
          labels: classifier.labels.labels,
          model: classifier.model.config,
          weights: classifier.model.params.count(),
        }),
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
      process.stdout.write(runTestLine(split.test.length, s));
      scores.push(s);
    } finally {
      best.dispose();
    }
  }
  if (plan.runs.length > 1 && scores.length === plan.runs.length)
    process.stdout.write(classifierRunsReport(scores, config.validation));
  return 0;
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
    o.write(evalHeader(files, flags.part, part.length, flags));
    o.write(accuracyLine('model', report));
    o.write(`${renderConfusionMatrix(report.confusion, classifier.labels.labels)}\n`);
    if (flags.baselines) {
      const kept = split.train.filter((e) => classifier.labels.has(e.label));
      const major = majorityClass(kept.map((e) => classifier.labels.id(e.label)));
      const m = classificationReport(
        expected.map(() => major),
        expected,
        classifier.labels.size,
      );
      o.write(accuracyLine(majorityName(classifier.labels.label(major)), m));
      if (flags.format === 'tsv') {
        const lr = LogisticRegression.train(
          kept.map((e) => e.text!),
          kept.map((e) => classifier.labels.id(e.label)),
          classifier.labels.size,
        );
        const r = classificationReport(lr.predictAll(part.map((e) => e.text!)), expected, classifier.labels.size);
        o.write(accuracyLine(LOGISTIC_NAME, r));
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

/**
 * Classifies text lines batch by batch and writes a line for each as its batch ends (memory: one batch, whatever the
 * input's size). An over-long line costs that line: its output line is empty and stderr names it. Returns how many
 * lines were refused.
 */
async function predictTextLines(
  classifier: TextClassifier,
  files: readonly string[],
  batchSize: number,
): Promise<number> {
  let refused = 0;
  let batch: PlacedLine[] = [];
  const flush = async (): Promise<void> => {
    const accepted = batch.filter((l) => !l.overLong);
    const predictions = classifier.predict(
      accepted.map((l) => classifier.encodeText(l.text)),
      batchSize,
    );
    let k = 0;
    const out = batch.map((l) => {
      if (!l.overLong) {
        const p = predictions[k++]!;
        return `${p.label}\t${p.probability.toFixed(4)}\n`;
      }
      refused++;
      process.stderr.write(`classify: ${l.where}: longer than ${DEFAULT_MAX_INPUT_LINE_BYTES} bytes, not classified\n`);
      return '\n';
    });
    batch = [];
    await writeWaiting(out.join(''));
  };
  for await (const l of placedLines(files)) {
    batch.push(l);
    if (batch.length >= batchSize) await flush();
  }
  if (batch.length > 0) await flush();
  return refused;
}

async function classifyPredict(
  files: string[],
  flags: ClassifyPredictFlags,
  startBackend: StartBackend,
): Promise<void> {
  await startBackend();
  const classifier = await TextClassifier.load(flags.model);
  try {
    if (classifier.input.kind === 'tokens') {
      if ((await predictTextLines(classifier, files, flags.batchSize)) > 0) process.exitCode = 1;
      return;
    }
    if (files.length === 0)
      throw new ConfigError('a feature-sequence classifier reads a CSV file (label column ' + 'optional), not stdin');
    const examples: ClassifierExample[] = [];
    for (const f of files) {
      examples.push(
        ...(await readFeatureSequences(f, { label: null, featureSize: classifier.input.featureSize })).examples.map(
          (e) => e.values,
        ),
      );
    }
    const out = classifier.predict(examples, flags.batchSize).map((p) => `${p.label}\t${p.probability.toFixed(4)}\n`);
    await writeWaiting(out.join(''));
  } finally {
    classifier.dispose();
  }
}

export function registerClassifyCommands(program: Command, startBackend: StartBackend): void {
  const classify = program
    .command('classify')
    .description('sequence classifier on text (TSV: text<TAB>label) or ' + 'feature sequences (CSV)');
  const train = classify
    .command('train')
    .description("train a classifier; prints the best model's accuracy on the " + 'held-out test part');
  addRunConfigFlags(train, CLASSIFIER_CONFIG.sectionNames, 'runs/classify');
  addClassifyTrainFlags(train).action(async (opts: ClassifyTrainFlags) => {
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
