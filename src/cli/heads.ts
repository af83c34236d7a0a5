// `translate lm|classify|forecast`: the heads beyond translation — language model, sequence classifier, time-series
// forecaster — trained by the same loop as `translate train` (progress on stderr, checkpoint + best/ + train.jsonl +
// curves.svg in --out, Ctrl-C saves, --resume continues), then used to generate, predict, score and evaluate.
import { Command, Option } from 'commander';
import { int, num, keep } from './flags.js';
import { writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import * as path from 'node:path';
import { trainWithProgress } from './trainingRun.js';
import { ToolkitError } from '../errors.js';
import type { TrainingOptions } from '../train/options.js';
import type { TrainingTask } from '../train/task.js';
import { readCheckpoint, BEST_DIR, type Checkpoint } from '../train/checkpoints.js';
import { SCHEDULE_KINDS, type ScheduleOptions } from '../train/schedule.js';
import { readLines } from '../data/readers.js';
import { splitCorpus } from '../data/split.js';
import { Vocabulary } from '../data/text/vocabulary.js';
import { createTokenizer, parseTokenizerSpec } from '../data/text/tokenizers.js';
import type { Tokenizer } from '../data/text/tokenizer.js';
import { readLabelled, Labels, crossValidationSplits } from '../data/text/labelled.js';
import { readPretrainedVectors, loadPretrainedEmbeddings, type PretrainedVectors } from '../layers/pretrained.js';
import { readFeatureSequences } from '../data/series/featureSequences.js';
import { readTimeSeriesCsv, makeWindows, type TimeSeries, type WindowExample } from '../data/series/timeSeries.js';
import { sinesDataset } from '../data/series/sines.js';
import { Scaler } from '../data/series/scaling.js';
import { CELL_KINDS, DEFAULT_CELL, type CellKind } from '../recurrent/cell.js';
import type { SavedModelJson } from '../model/modelFiles.js';
import { LanguageModel, DEFAULT_LANGUAGE_MODEL_CONFIG } from '../heads/lm/languageModel.js';
import { TextLanguageModel, LM_KIND } from '../heads/lm/textLanguageModel.js';
import { LanguageModelTask } from '../heads/lm/languageModelTask.js';
import { SequenceClassifier, DEFAULT_CLASSIFIER_CONFIG } from '../heads/classifier/classifier.js';
import { TextClassifier, CLASSIFIER_KIND, type ClassifierExample } from '../heads/classifier/textClassifier.js';
import { ClassifierTask } from '../heads/classifier/classifierTask.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from '../heads/forecaster/forecaster.js';
import { DEFAULT_RECIPE, prepareForecaster, selectRecipe, describeRecipe, type ForecastRecipe, type SelectionResult, type SeriesColumns } from '../heads/forecaster/forecastRecipe.js';
import { SeriesTransform } from '../data/series/seriesTransforms.js';
import { SeriesForecaster, FORECASTER_KIND } from '../heads/forecaster/seriesForecaster.js';
import { ForecasterTask } from '../heads/forecaster/forecasterTask.js';
import { classificationReport, renderConfusionMatrix, meanAndSd, pairedDifference } from '../metrics/scores.js';
import { UnigramModel } from '../heads/lm/unigram.js';
import { LogisticRegression, majorityClass } from '../heads/classifier/logisticRegression.js';
import { LinearAutoregression, naiveForecast, seasonalNaiveForecast, scoreForecasts, evaluateBaselines } from '../heads/forecaster/baselines.js';
import { forecastChart, windowForecastChart } from '../plot/forecastChart.js';

type StartBackend = (choice: string | undefined) => Promise<void>;

export class HeadsCliError extends ToolkitError {
  override name = 'HeadsCliError';
}

// ---------------------------------------------------------------------------------------------------------------
// Flags shared by the three `train` commands.


/** Training flags common to lm, classify and forecast (their values are saved with the run for --resume). */
export interface HeadTrainFlags {
  out: string;
  resume?: boolean;
  steps: number;
  batchSize: number;
  hidden: number;
  cell: CellKind;
  seed: number;
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  clipNorm: number;
  schedule?: ScheduleOptions['kind'];
  lrDecay?: number;
  evalEvery: number;
  checkpointEvery?: number;
  metric?: string;
  patience: number;
  quiet?: boolean;
}

function addTrainingFlags(c: Command, defaults: { steps: number; evalEvery: number; hidden: number; batchSize: number; learningRate: number; out: string }): Command {
  return c
    .option('--out <dir>', 'checkpoint directory: model.json + weights, best/, train.jsonl, curves.svg', defaults.out)
    .option('--resume', 'continue the run saved in --out with its saved flags (only --steps may change)')
    .option('--steps <n>', 'training steps (batches)', int('--steps'), defaults.steps)
    .option('--batch-size <n>', 'examples per batch', int('--batch-size'), defaults.batchSize)
    .option('--hidden <n>', 'recurrent units', int('--hidden'), defaults.hidden)
    .addOption(new Option('--cell <kind>', 'recurrent cell').choices([...CELL_KINDS]).default('gru'))
    .option('--seed <n>', 'seed of weights, data order, split and dropout', int('--seed', 0), 1)
    .addOption(new Option('--optimizer <name>', 'optimiser').choices(['adam', 'sgd']).default('adam'))
    .option('--learning-rate <x>', 'initial learning rate', num('--learning-rate', Number.MIN_VALUE), defaults.learningRate)
    .option('--clip-norm <x>', 'clip gradients to this global norm; 0 = off', num('--clip-norm'), 5)
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule (default: constant)').choices([...SCHEDULE_KINDS]))
    .option('--lr-decay <factor>', 'decay factor of the schedule', num('--lr-decay', Number.MIN_VALUE))
    .option('--eval-every <n>', 'validate every n steps', int('--eval-every'), defaults.evalEvery)
    .option('--checkpoint-every <n>', 'checkpoint every n steps (default: at every evaluation)', int('--checkpoint-every'))
    .option('--metric <name>', 'validation metric for best/, plateau and early stopping (default: the head\'s main one)')
    .option('--patience <n>', 'early stopping: evaluations without improvement (0 = off)', int('--patience', 0), 0)
    .option('--quiet', 'no progress lines (evaluations are still reported)');
}

/** Stacked layers and dropout of a head's recurrent reader (classifier, forecaster). */
function stackFlags(c: Command): Command {
  return c
    .option('--layers <n>', 'stacked recurrent layers', int('--layers'), 1)
    .option('--input-keep <p>', 'dropout: keep probability of layer inputs', keep('--input-keep'), 1)
    .option('--output-keep <p>', 'dropout: keep probability of layer outputs', keep('--output-keep'), 1)
    .option('--state-keep <p>', 'dropout: keep probability of the recurrent state (variational)', keep('--state-keep'), 1);
}

function trainingOptions(f: HeadTrainFlags, metric: string): Partial<TrainingOptions> {
  const schedule: Partial<ScheduleOptions> = {
    ...(f.schedule !== undefined ? { kind: f.schedule } : {}),
    ...(f.lrDecay !== undefined ? { factor: f.lrDecay } : {}),
  };
  return {
    steps: f.steps, optimizer: f.optimizer, learningRate: f.learningRate, clipNorm: f.clipNorm, evalEvery: f.evalEvery,
    ...(f.checkpointEvery !== undefined ? { checkpointEvery: f.checkpointEvery } : {}),
    metric: f.metric ?? metric, earlyStopping: { patience: f.patience }, seed: f.seed, schedule,
  };
}

/**
 * With --resume: the checkpoint and the flags the run was started with (only --steps taken from this command line).
 * Without: no checkpoint and the flags as given.
 */
async function resumeFlags<F extends HeadTrainFlags>(flags: F, kind: string, command: Command): Promise<{ flags: F; checkpoint?: Checkpoint }> {
  if (!flags.resume) return { flags };
  const checkpoint = await readCheckpoint(flags.out, kind);
  const saved = (checkpoint.training.config as { flags?: F } | null)?.flags;
  if (saved === undefined || saved === null || typeof saved !== 'object') throw new HeadsCliError(`${flags.out}/model.json: the checkpoint holds no run flags to resume with`);
  const changed = command.options
    .map((o) => o.attributeName())
    .filter((k) => command.getOptionValueSource(k) === 'cli' && !['resume', 'steps', 'out', 'quiet'].includes(k));
  if (changed.length > 0) throw new HeadsCliError(`--resume continues the run with its saved flags; only --steps may be given (got ${changed.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')})`);
  process.stderr.write(`resuming ${flags.out} at step ${checkpoint.training.step}\n`);
  return { flags: { ...saved, steps: flags.steps, out: flags.out, resume: true, quiet: flags.quiet }, checkpoint };
}

const fmt = (x: number | undefined, digits = 4): string => (x === undefined ? '—' : x.toFixed(digits));

/** Runs the loop with a progress bar, evaluation lines and Ctrl-C handling; returns the exit code. */
async function runTraining<B>(task: TrainingTask<B>, flags: HeadTrainFlags, metric: string, checkpoint: Checkpoint | undefined, describe: (m: Record<string, number>) => string): Promise<{ code: number }> {
  const { resume: _r, quiet: _q, ...saved } = flags;
  const code = await trainWithProgress(
    task,
    trainingOptions(flags, metric),
    { out: flags.out, config: { flags: saved }, ...(checkpoint !== undefined ? { resume: checkpoint } : {}) },
    { quiet: flags.quiet ?? false, describe },
  );
  return { code };
}

async function readTextLines(files: readonly string[], limit?: number): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    for await (const { text } of readLines(file)) {
      if (limit !== undefined && out.length >= limit) return out;
      out.push(text);
    }
  }
  return out;
}

async function readStdinLines(): Promise<string[]> {
  const lines: string[] = [];
  const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of rl) lines.push(line);
  return lines;
}

// ---------------------------------------------------------------------------------------------------------------
// lm

interface LmTrainFlags extends HeadTrainFlags {
  train: string[];
  valid?: string;
  validSplit: number;
  tokenizer: string;
  lowercase?: boolean;
  maxVocab?: number;
  minCount: number;
  limit?: number;
  embedding: number;
  softmax: 'full' | 'sampled';
  numSampled: number;
}

const describeLm = (m: Record<string, number>): string => `loss ${fmt(m['loss'])}, perplexity ${fmt(m['perplexity'], 3)}`;

async function lmTrain(given: LmTrainFlags, command: Command, startBackend: () => Promise<void>): Promise<number> {
  const { flags, checkpoint } = await resumeFlags(given, LM_KIND, command);
  const lines = (await readTextLines(flags.train, flags.limit)).filter((l) => l.trim().length > 0);
  let train: string[];
  let valid: string[];
  if (flags.valid !== undefined) {
    train = lines;
    valid = (await readTextLines([flags.valid])).filter((l) => l.trim().length > 0);
  } else {
    ({ train, valid } = splitCorpus(lines, { valid: flags.validSplit, test: 0, seed: flags.seed }));
  }
  if (train.length === 0) throw new HeadsCliError(`${flags.train.join(', ')}: no non-empty training lines`);
  await startBackend();
  let lm: TextLanguageModel;
  if (checkpoint !== undefined) {
    lm = await TextLanguageModel.fromSaved(checkpoint.json as SavedModelJson<never, never>, checkpoint.weights, `${checkpoint.dir}/model.json`);
  } else {
    const tokenizer = await createTokenizer(parseTokenizerSpec(flags.tokenizer));
    const prep = (l: string): string => (flags.lowercase ? l.toLowerCase() : l);
    const vocabulary = Vocabulary.build(train.map((l) => tokenizer.tokenize(prep(l))), { minCount: flags.minCount, ...(flags.maxVocab !== undefined ? { maxSize: flags.maxVocab } : {}) });
    const model = new LanguageModel({
      ...DEFAULT_LANGUAGE_MODEL_CONFIG, vocabSize: vocabulary.size, embeddingSize: flags.embedding, hiddenSize: flags.hidden,
      cell: { ...DEFAULT_CELL, kind: flags.cell }, seed: flags.seed,
    });
    lm = new TextLanguageModel(model, vocabulary, tokenizer, flags.lowercase === true);
  }
  try {
    const task = new LanguageModelTask(lm, { train: train.map((l) => lm.encode(l)), valid: valid.map((l) => lm.encode(l)) }, { batchSize: flags.batchSize, seed: flags.seed });
    process.stderr.write(
      `data: ${train.length} training lines, ${valid.length} validation lines; vocabulary ${lm.vocabulary.size} (${lm.tokenizer.toJSON().kind})\n` +
        `model: ${lm.model.config.cell.kind} ${lm.model.config.hiddenSize} units, embeddings ${lm.model.config.embeddingSize}, ${lm.model.params.count().toLocaleString('en-US')} weights\n`,
    );
    const loss = flags.softmax === 'sampled' ? { softmax: 'sampled' as const, numSampled: flags.numSampled } : undefined;
    // The sampled softmax reaches the model through the loss context.
    if (loss !== undefined) {
      const inner = task.model.loss;
      (task as { model: typeof task.model }).model = { params: task.model.params, loss: (b, c) => inner(b, { ...c, loss }) };
    }
    const { code } = await runTraining(task, flags, 'perplexity', checkpoint, describeLm);
    return code;
  } finally {
    lm.dispose();
  }
}

interface LmGenerateFlags {
  model: string;
  prompt: string[];
  temperature: number;
  topK: number;
  maxLength: number;
  count: number;
  seed: number;
}

async function lmGenerate(flags: LmGenerateFlags, startBackend: () => Promise<void>): Promise<void> {
  await startBackend();
  const lm = await TextLanguageModel.load(flags.model);
  try {
    const prompts = flags.prompt.length > 0 ? flags.prompt : [''];
    const all = prompts.flatMap((p) => Array.from({ length: flags.count }, () => p));
    const texts = lm.generate(all, { temperature: flags.temperature, topK: flags.topK, maxLength: flags.maxLength, seed: flags.seed });
    process.stdout.write(texts.map((t) => `${t}\n`).join(''));
  } finally {
    lm.dispose();
  }
}

interface LmScoreFlags {
  model: string;
  unigram?: string;
  batchSize: number;
}

async function lmScore(files: string[], flags: LmScoreFlags, startBackend: () => Promise<void>): Promise<void> {
  const lines = (await readTextLines(files)).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new HeadsCliError(`${files.join(', ')}: no non-empty lines to score`);
  await startBackend();
  const lm = await TextLanguageModel.load(flags.model);
  try {
    const r = lm.score(lines, flags.batchSize);
    const o = process.stdout;
    o.write(`${files.join(', ')}: ${lines.length} lines, ${r.tokens} predicted tokens (EOS included), ${r.unknown} out of vocabulary\n`);
    o.write(`model perplexity ${r.perplexity.toFixed(3)} (mean NLL ${r.meanNll.toFixed(4)} nats/token)\n`);
    if (flags.unigram !== undefined) {
      const prep = (l: string): string => (lm.lowercase ? l.toLowerCase() : l);
      const unigram = UnigramModel.train((await readTextLines([flags.unigram])).filter((l) => l.trim().length > 0).map(prep), { tokenizer: lm.tokenizer });
      const u = unigram.perplexity(lines.map(prep));
      o.write(`unigram baseline (add-one, trained on ${flags.unigram}, same tokenizer): perplexity ${u.perplexity.toFixed(3)}\n`);
    }
  } finally {
    lm.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// classify

interface ClassifyDataFlags {
  format: 'tsv' | 'features';
  validSplit: number;
  testSplit: number;
  seed: number;
  header?: boolean;
}

interface ClassifyTrainFlags extends HeadTrainFlags, ClassifyDataFlags {
  train: string[];
  valid?: string;
  tokenizer: string;
  lowercase?: boolean;
  maxVocab?: number;
  minCount: number;
  embedding: number;
  pooling: 'final' | 'mean' | 'max' | 'attention';
  attentionSize: number;
  embeddingKeep: number;
  pretrained?: string;
  seeds: number;
  folds: number;
  layers: number;
  bidirectional?: boolean;
  inputKeep: number;
  outputKeep: number;
  stateKeep: number;
}

/** A labelled example as read: text or feature values. */
interface RawExample {
  text?: string;
  values?: Float32Array;
  label: string;
  file: string;
  line: number;
}

async function readClassifierData(files: readonly string[], flags: Pick<ClassifyDataFlags, 'format' | 'header'>): Promise<{ examples: RawExample[]; featureSize?: number }> {
  if (flags.format === 'tsv') {
    const items = await readLabelled(files, { header: flags.header === true });
    return { examples: items.map((e) => ({ text: e.text, label: e.label, file: e.file, line: e.line })) };
  }
  const examples: RawExample[] = [];
  let featureSize: number | undefined;
  for (const file of files) {
    const read = await readFeatureSequences(file, featureSize !== undefined ? { featureSize } : {});
    featureSize = read.featureSize;
    for (const e of read.examples) examples.push({ values: e.values, label: e.label!, file: e.file, line: e.line });
  }
  return { examples, ...(featureSize !== undefined ? { featureSize } : {}) };
}

/** The seeded split of `classify train` (valid and test shares of the training files), reproduced by `classify eval`. */
function classifierSplit<T>(examples: readonly T[], flags: Pick<ClassifyDataFlags, 'validSplit' | 'testSplit' | 'seed'>): { train: T[]; valid: T[]; test: T[] } {
  return splitCorpus(examples, { valid: flags.validSplit, test: flags.testSplit, seed: flags.seed });
}

function toModelExamples(classifier: TextClassifier, examples: readonly RawExample[]): ClassifierExample[] {
  return examples.map((e) => (e.values !== undefined ? e.values : classifier.encodeText(e.text!)));
}

const describeClassifier = (m: Record<string, number>): string => `loss ${fmt(m['loss'])}, accuracy ${fmt(m['accuracy'], 2)}%, macro-F1 ${fmt(m['macroF1'], 2)}%`;

type ClassifierSplit = { train: RawExample[]; valid: RawExample[]; test: RawExample[] };

/** One training run's held-out scores (shares in [0, 1]); baselines trained on the same train part. */
interface ClassifierRunScores {
  valid: number;
  test: number;
  logistic?: number;
  majority: number;
}

async function classifyTrain(given: ClassifyTrainFlags, command: Command, startBackend: () => Promise<void>): Promise<number> {
  const { flags, checkpoint } = await resumeFlags(given, CLASSIFIER_KIND, command);
  if (checkpoint !== undefined && (flags.seeds > 1 || flags.folds > 1)) throw new HeadsCliError('--resume continues one run: it cannot be combined with --seeds or --folds');
  if (flags.folds > 1 && flags.valid !== undefined) throw new HeadsCliError('--folds holds validation examples out of each fold\'s training part: drop --valid');
  const { examples, featureSize } = await readClassifierData(flags.train, flags);
  // One run per seed (each on its own seeded split) or per seed and fold.
  const runs: { seed: number; fold?: number; split: ClassifierSplit }[] = [];
  for (let i = 0; i < flags.seeds; i++) {
    const seed = flags.seed + i;
    if (flags.folds > 1) {
      let folds: ClassifierSplit[];
      try {
        folds = crossValidationSplits(examples, { folds: flags.folds, valid: flags.validSplit, seed });
      } catch (e) {
        if (e instanceof ToolkitError) throw new HeadsCliError(`${flags.train.join(', ')}: ${e.message}`);
        throw e;
      }
      folds.forEach((split, fold) => runs.push({ seed, fold: fold + 1, split }));
    } else if (flags.valid !== undefined) {
      const s = classifierSplit(examples, { ...flags, validSplit: 0, seed });
      runs.push({ seed, split: { train: s.train, valid: (await readClassifierData([flags.valid], flags)).examples, test: s.test } });
    } else {
      runs.push({ seed, split: classifierSplit(examples, { ...flags, seed }) });
    }
  }
  for (const r of runs) if (r.split.train.length === 0) throw new HeadsCliError(`${flags.train.join(', ')}: no training examples`);
  await startBackend();
  const vectors = flags.pretrained === undefined || flags.format !== 'tsv' ? null : await readPretrainedVectors(flags.pretrained);
  const scores: ClassifierRunScores[] = [];
  for (const run of runs) {
    const name = run.fold === undefined ? `seed-${run.seed}` : `seed-${run.seed}-fold-${run.fold}`;
    const out = runs.length > 1 ? path.join(flags.out, name) : flags.out;
    const { code, scores: s } = await trainClassifierRun({ ...flags, seed: run.seed, out }, run.split, featureSize, checkpoint, vectors);
    if (code !== 0) return code;
    if (s !== null) scores.push(s);
  }
  if (runs.length > 1 && scores.length === runs.length) reportClassifierRuns(scores, runs.length, flags);
  return 0;
}

/** Mean ± sd over runs, and the paired differences with the baselines (model − baseline, in points). */
function reportClassifierRuns(scores: ClassifierRunScores[], runs: number, flags: ClassifyTrainFlags): void {
  const o = process.stdout;
  const pct = (xs: number[]) => {
    const s = meanAndSd(xs.map((x) => 100 * x));
    return `${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}%`;
  };
  const how = flags.folds > 1 ? `${flags.folds}-fold cross-validation × ${flags.seeds} seed${flags.seeds === 1 ? '' : 's'}` : `${flags.seeds} seeds, each on its own split`;
  o.write(`over ${runs} runs (${how}), mean ± sd:\n`);
  o.write(`  validation accuracy (best model)   ${pct(scores.map((s) => s.valid))}\n`);
  o.write(`  test accuracy (best model)         ${pct(scores.map((s) => s.test))}\n`);
  const test = scores.map((s) => 100 * s.test);
  const compare = (name: string, base: number[]) => {
    const d = pairedDifference(test, base);
    o.write(`  ${name.padEnd(34)} ${pct(base.map((x) => x / 100))}; model − baseline ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} points, standard error ${d.se.toFixed(2)} (${(d.mean / d.se).toFixed(2)} standard errors)\n`);
  };
  if (scores.every((s) => s.logistic !== undefined)) compare('bag-of-words logistic regression', scores.map((s) => 100 * s.logistic!));
  compare('majority class', scores.map((s) => 100 * s.majority));
}

/** Builds (or resumes), trains and scores one classifier on one split; scores are null when nothing is held out. */
async function trainClassifierRun(flags: ClassifyTrainFlags, split: ClassifierSplit, featureSize: number | undefined, checkpoint: Checkpoint | undefined, vectors: PretrainedVectors | null): Promise<{ code: number; scores: ClassifierRunScores | null }> {
  let classifier: TextClassifier;
  if (checkpoint !== undefined) {
    classifier = await TextClassifier.fromSaved(checkpoint.json as SavedModelJson<never, never>, checkpoint.weights, `${checkpoint.dir}/model.json`);
  } else {
    const labels = Labels.build(split.train.map((e) => e.label));
    const model = (input: ConstructorParameters<typeof SequenceClassifier>[0]['input']) => new SequenceClassifier({
      ...DEFAULT_CLASSIFIER_CONFIG, input, classes: labels.size, hiddenSize: flags.hidden, cell: { ...DEFAULT_CELL, kind: flags.cell }, pooling: flags.pooling,
      attentionSize: flags.attentionSize, embeddingKeep: flags.embeddingKeep, layers: flags.layers, bidirectional: flags.bidirectional === true,
      dropout: { inputKeep: flags.inputKeep, outputKeep: flags.outputKeep, stateKeep: flags.stateKeep }, seed: flags.seed,
    });
    if (labels.size < 2) throw new HeadsCliError(`${flags.train.join(', ')}: the training examples have only one label (${labels.labels.join(', ')}); a classifier needs two or more`);
    if (flags.format === 'tsv') {
      const tokenizer: Tokenizer = await createTokenizer(parseTokenizerSpec(flags.tokenizer));
      const prep = (t: string): string => (flags.lowercase ? t.toLowerCase() : t);
      const vocabulary = Vocabulary.build(split.train.map((e) => tokenizer.tokenize(prep(e.text!))), { minCount: flags.minCount, ...(flags.maxVocab !== undefined ? { maxSize: flags.maxVocab } : {}) });
      classifier = new TextClassifier(model({ kind: 'tokens', vocabSize: vocabulary.size, embeddingSize: flags.embedding }), labels, { kind: 'tokens', vocabulary, tokenizer, lowercase: flags.lowercase === true });
      if (vectors !== null) {
        const params = classifier.model.params;
        try {
          const c = loadPretrainedEmbeddings({ embedding: () => params.get('classifier/embedding') }, 'source', vocabulary, vectors);
          process.stderr.write(`pretrained embeddings from ${vectors.file}: ${c.found} of ${c.words} vocabulary words found (${c.exact} as written, ${c.lowercase} lowercased)\n`);
        } catch (e) {
          classifier.dispose();
          if (e instanceof ToolkitError) throw new HeadsCliError(e.message);
          throw e;
        }
      }
    } else {
      classifier = new TextClassifier(model({ kind: 'features', size: featureSize! }), labels, { kind: 'features', featureSize: featureSize! });
    }
  }
  try {
    const labelled = (part: RawExample[]) => ({ examples: toModelExamples(classifier, part), labels: classifier.labels.encode(part) });
    const task = new ClassifierTask(classifier, { train: labelled(split.train), valid: labelled(split.valid) }, { batchSize: flags.batchSize, seed: flags.seed });
    const c = classifier.model.config;
    process.stderr.write(
      `data: ${split.train.length} training, ${split.valid.length} validation, ${split.test.length} test examples (seeded split, seed ${flags.seed}); labels ${classifier.labels.labels.join(', ')}\n` +
        `model: ${c.layers}×${c.bidirectional ? 'bidirectional ' : ''}${c.cell.kind} ${c.hiddenSize} units, ${c.pooling} pooling${c.embeddingKeep < 1 ? `, embedding keep ${c.embeddingKeep}` : ''}, ${classifier.model.params.count().toLocaleString('en-US')} weights\n`,
    );
    const { code } = await runTraining(task, flags, 'accuracy', checkpoint, describeClassifier);
    if (code !== 0 || split.test.length === 0) return { code, scores: null };
    const best = await TextClassifier.load(path.join(flags.out, BEST_DIR));
    try {
      const known = (part: RawExample[]) => part.filter((e) => best.labels.has(e.label));
      const [valid, test] = [known(split.valid), known(split.test)];
      const report = best.evaluate(toModelExamples(best, test), best.labels.encode(test));
      const validAccuracy = valid.length === 0 ? NaN : best.evaluate(toModelExamples(best, valid), best.labels.encode(valid)).accuracy;
      const expected = best.labels.encode(test);
      const majority = classificationReport(expected.map(() => majorityClass(best.labels.encode(known(split.train)))), expected, best.labels.size).accuracy;
      let logistic: number | undefined;
      if (flags.format === 'tsv') {
        const train = known(split.train);
        const lr = LogisticRegression.train(train.map((e) => e.text!), best.labels.encode(train), best.labels.size);
        logistic = classificationReport(lr.predictAll(test.map((e) => e.text!)), expected, best.labels.size).accuracy;
      }
      process.stdout.write(`test (best model, ${split.test.length} held-out examples): accuracy ${(100 * report.accuracy).toFixed(2)}%, macro-F1 ${(100 * report.macroF1).toFixed(2)}%` +
        `${logistic === undefined ? '' : `; bag-of-words logistic regression on the same split ${(100 * logistic).toFixed(2)}%`}\n`);
      return { code, scores: { valid: validAccuracy, test: report.accuracy, majority, ...(logistic !== undefined ? { logistic } : {}) } };
    } finally {
      best.dispose();
    }
  } finally {
    classifier.dispose();
  }
}

interface ClassifyEvalFlags extends ClassifyDataFlags {
  model: string;
  part: 'all' | 'train' | 'valid' | 'test';
  baselines?: boolean;
}

async function classifyEval(files: string[], flags: ClassifyEvalFlags, startBackend: () => Promise<void>): Promise<void> {
  const { examples } = await readClassifierData(files, flags);
  const split = classifierSplit(examples, flags);
  const part = flags.part === 'all' ? examples : split[flags.part];
  if (part.length === 0) throw new HeadsCliError(`${files.join(', ')}: no examples in the ${flags.part} part (valid share ${flags.validSplit}, test share ${flags.testSplit}, seed ${flags.seed})`);
  await startBackend();
  const classifier = await TextClassifier.load(flags.model);
  const o = process.stdout;
  try {
    const expected = classifier.labels.encode(part);
    const report = classifier.evaluate(toModelExamples(classifier, part), expected);
    const where = flags.part === 'all' ? `all ${part.length} examples` : `the ${flags.part} part (${part.length} examples; shares valid ${flags.validSplit}, test ${flags.testSplit}, seed ${flags.seed})`;
    o.write(`${files.join(', ')}, ${where}\n`);
    o.write(`model: accuracy ${(100 * report.accuracy).toFixed(2)}%, macro-F1 ${(100 * report.macroF1).toFixed(2)}%\n`);
    o.write(`${renderConfusionMatrix(report.confusion, classifier.labels.labels)}\n`);
    if (flags.baselines) {
      if (flags.part === 'all' || flags.part === 'train') throw new HeadsCliError('--baselines trains on the train part: evaluate on --part valid or test');
      const trainPart = split.train;
      const trainY = trainPart.map((e) => (classifier.labels.has(e.label) ? classifier.labels.id(e.label) : -1)).filter((y) => y >= 0);
      const major = majorityClass(trainY);
      const m = classificationReport(expected.map(() => major), expected, classifier.labels.size);
      o.write(`majority class ("${classifier.labels.label(major)}" in the train part): accuracy ${(100 * m.accuracy).toFixed(2)}%, macro-F1 ${(100 * m.macroF1).toFixed(2)}%\n`);
      if (flags.format === 'tsv') {
        const kept = trainPart.filter((e) => classifier.labels.has(e.label));
        const lr = LogisticRegression.train(kept.map((e) => e.text!), kept.map((e) => classifier.labels.id(e.label)), classifier.labels.size);
        const r = classificationReport(lr.predictAll(part.map((e) => e.text!)), expected, classifier.labels.size);
        o.write(`bag-of-words logistic regression (binary features, L2 1e-3, trained on the train part): accuracy ${(100 * r.accuracy).toFixed(2)}%, macro-F1 ${(100 * r.macroF1).toFixed(2)}%\n`);
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

async function classifyPredict(files: string[], flags: ClassifyPredictFlags, startBackend: () => Promise<void>): Promise<void> {
  await startBackend();
  const classifier = await TextClassifier.load(flags.model);
  try {
    let examples: ClassifierExample[];
    if (classifier.input.kind === 'tokens') {
      const lines = files.length > 0 ? await readTextLines(files) : await readStdinLines();
      examples = lines.map((l) => classifier.encodeText(l));
    } else {
      if (files.length === 0) throw new HeadsCliError('a feature-sequence classifier reads a CSV file (label column optional), not stdin');
      examples = [];
      for (const f of files) examples.push(...(await readFeatureSequences(f, { label: null, featureSize: classifier.input.featureSize })).examples.map((e) => e.values));
    }
    const out = classifier.predict(examples, flags.batchSize).map((p) => `${p.label}\t${p.probability.toFixed(4)}\n`);
    process.stdout.write(out.join(''));
  } finally {
    classifier.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// forecast

interface ForecastDataFlags {
  csv?: string;
  synthetic?: 'sines';
  index?: string;
  columns?: string[];
  targets?: string[];
  test: number;
  ahead: number;
  dataSeed: number;
}

interface ForecastTrainFlags extends HeadTrainFlags, ForecastDataFlags {
  window: number;
  horizon: number;
  mode: 'vector' | 'sequence';
  valid: number;
  scale: 'standard' | 'minmax' | 'none';
  log?: boolean;
  boxCox?: boolean;
  difference?: number[];
  linearPart: number;
  select?: boolean;
  selectWindows?: number[];
  budgetMinutes: number;
  origins: number;
  originStep: number;
  originHorizon?: number;
  season: number;
  seeds: number;
  layers: number;
  inputKeep: number;
  outputKeep: number;
  stateKeep: number;
}

async function readSeries(flags: ForecastDataFlags): Promise<TimeSeries> {
  if (flags.csv === undefined) throw new HeadsCliError('give a series: --csv FILE (or --synthetic sines)');
  const index = flags.index === undefined ? 0 : flags.index === 'none' ? null : /^\d+$/.test(flags.index) ? Number(flags.index) : flags.index;
  const asColumn = (c: string): string | number => (/^\d+$/.test(c) ? Number(c) : c);
  return readTimeSeriesCsv(flags.csv, { index, ...(flags.columns !== undefined ? { values: flags.columns.map(asColumn) } : {}) });
}

const describeForecast = (m: Record<string, number>): string => `loss ${fmt(m['loss'])}, mse ${fmt(m['mse'], 5)}, rmse ${fmt(m['rmse'], 4)}, last-step mse ${fmt(m['lastStepMse'], 5)}`;

function recipeFromFlags(flags: ForecastTrainFlags): ForecastRecipe {
  if (flags.log && flags.boxCox) throw new HeadsCliError('--log and --box-cox both choose the power transform: give one');
  return {
    ...DEFAULT_RECIPE, power: flags.log ? 'log' : flags.boxCox ? 'box-cox' : 'none', differences: flags.difference ?? [], linearOrder: flags.linearPart,
    window: flags.window, horizon: flags.horizon, mode: flags.mode, scale: flags.scale, hidden: flags.hidden, cell: flags.cell, layers: flags.layers,
    dropout: { inputKeep: flags.inputKeep, outputKeep: flags.outputKeep, stateKeep: flags.stateKeep }, steps: flags.steps, batchSize: flags.batchSize,
    learningRate: flags.learningRate, seed: flags.seed,
  };
}

/** `forecast train --synthetic sines`: the two-sines task of "Hands-On Machine Learning"'s RNN chapter, windows already cut, no transform. */
async function forecastTrainSines(flags: ForecastTrainFlags, checkpoint: Checkpoint | undefined, startBackend: () => Promise<void>): Promise<number> {
  // 50 steps, k = --ahead values after them, 7,000 / 2,000 / 1,000 series (test kept for eval).
  const d = sinesDataset({ ahead: flags.ahead, mode: flags.mode, seed: flags.dataSeed });
  await startBackend();
  let forecaster: SeriesForecaster;
  if (checkpoint !== undefined) {
    forecaster = SeriesForecaster.fromSaved(checkpoint.json as SavedModelJson<never, never>, checkpoint.weights, `${checkpoint.dir}/model.json`);
  } else {
    const scaler = flags.scale === 'none' ? null : Scaler.fit([Float64Array.from(d.train.flatMap((e) => Array.from(e.input)))], { kind: flags.scale });
    const model = new Forecaster({
      ...DEFAULT_FORECASTER_CONFIG, inputSize: 1, targets: 1, horizon: flags.ahead, mode: flags.mode, hiddenSize: flags.hidden,
      cell: { ...DEFAULT_CELL, kind: flags.cell }, layers: flags.layers, dropout: { inputKeep: flags.inputKeep, outputKeep: flags.outputKeep, stateKeep: flags.stateKeep }, seed: flags.seed,
    });
    forecaster = new SeriesForecaster(model, { scaler, transform: new SeriesTransform(), window: 50, inputs: ['value'], targets: ['value'], linear: null });
  }
  try {
    const task = new ForecasterTask(forecaster, { train: d.train, valid: d.valid }, { batchSize: flags.batchSize, seed: flags.seed });
    const c = forecaster.model.config;
    process.stderr.write(`data: ${d.train.length} training windows, ${d.valid.length} validation windows; window 50, horizon ${c.horizon}, ${c.mode} mode\n` +
      `model: ${c.layers}×${c.cell.kind} ${c.hiddenSize} units, ${forecaster.model.params.count().toLocaleString('en-US')} weights\n`);
    const { code } = await runTraining(task, flags, 'mse', checkpoint, describeForecast);
    return code;
  } finally {
    forecaster.dispose();
  }
}

/** Prints the rolling-origin table of a selection (stdout), lowest mean first, and the choice. */
function reportSelection(result: SelectionResult): void {
  const o = process.stdout;
  const origins = result.candidates[0]!.score.origins;
  o.write(`rolling-origin validation on the training rows: origins at rows ${origins.join(', ')}; RMSE of each fold, mean\n`);
  const sorted = [...result.candidates].sort((a, b) => a.score.mean - b.score.mean);
  for (const c of sorted) {
    const mark = c === result.best ? '  ← selected' : c === result.bestLinear ? '  ← best linear alone' : '';
    o.write(`  ${describeRecipe(c.recipe).padEnd(55)} ${c.score.rmse.map((x) => x.toFixed(1).padStart(7)).join('')}  mean ${c.score.mean.toFixed(2)}${mark}\n`);
  }
  if (result.skipped > 0) o.write(`(${result.skipped} candidates not tried: the time budget ran out)\n`);
  o.write(`selected: ${describeRecipe(result.best.recipe)} (mean rolling-origin RMSE ${result.best.score.mean.toFixed(2)}` +
    `${result.bestLinear === null ? '' : `; the best linear model alone: ${describeRecipe(result.bestLinear.recipe)}, ${result.bestLinear.score.mean.toFixed(2)}`})\n`);
}

async function forecastTrain(given: ForecastTrainFlags, command: Command, startBackend: () => Promise<void>): Promise<number> {
  const { flags, checkpoint } = await resumeFlags(given, FORECASTER_KIND, command);
  if (flags.synthetic === 'sines') {
    if (flags.select || flags.seeds > 1) throw new HeadsCliError('--select and --seeds work on a --csv series (rolling origins need one series), not --synthetic sines');
    return forecastTrainSines(flags, checkpoint, startBackend);
  }
  if (checkpoint !== undefined && (flags.select || flags.seeds > 1)) throw new HeadsCliError('--resume continues one run: it cannot be combined with --select or --seeds');
  const series = await readSeries(flags);
  const inputs = series.names;
  const targets = flags.targets ?? inputs;
  for (const t of targets) if (!inputs.includes(t)) throw new HeadsCliError(`--targets: "${t}" is not one of the value columns (${inputs.join(', ')})`);
  const n = series.index.length;
  const trainRows = n - flags.test;
  const fitRows = trainRows - flags.valid;
  if (fitRows < 2) throw new HeadsCliError(`${flags.csv}: ${n} rows leave ${fitRows} training rows after --test ${flags.test} and --valid ${flags.valid}`);
  let recipe = recipeFromFlags(flags);
  await startBackend();
  let selection: SelectionResult | null = null;
  if (flags.select) {
    const training = { names: inputs, targets, columns: series.columns.map((c) => c.slice(0, trainRows)) };
    const horizon = flags.originHorizon ?? (flags.test > 0 ? flags.test : flags.season);
    selection = selectRecipe(training, recipe, {
      budgetSeconds: flags.budgetMinutes * 60, season: flags.season, ...(flags.selectWindows !== undefined ? { windows: flags.selectWindows } : {}), rollingOrigin: { origins: flags.origins, step: flags.originStep, horizon },
      onCandidate: (c, i, total) => process.stderr.write(`candidate ${i}/${total}: ${describeRecipe(c.recipe)}: rolling-origin RMSE ${c.score.rmse.map((x) => x.toFixed(1)).join(', ')} (mean ${c.score.mean.toFixed(2)})\n`),
    });
    reportSelection(selection);
    recipe = selection.best.recipe;
  }
  const fit = { names: inputs, targets, columns: series.columns.map((c) => c.slice(0, fitRows)) };
  const testScores: number[] = [];
  const trainColumns = series.columns.map((c) => c.slice(0, trainRows));
  const target0 = inputs.indexOf(targets[0]!);
  const truth = series.columns[target0]!.slice(trainRows);
  for (let i = 0; i < flags.seeds; i++) {
    const seed = flags.seed + i;
    const out = flags.seeds > 1 ? path.join(flags.out, `seed-${seed}`) : flags.out;
    let forecaster: SeriesForecaster;
    let trainRaw: WindowExample[];
    if (checkpoint !== undefined) {
      forecaster = SeriesForecaster.fromSaved(checkpoint.json as SavedModelJson<never, never>, checkpoint.weights, `${checkpoint.dir}/model.json`);
      trainRaw = makeWindows(fit.columns, { window: forecaster.rawWindow, horizon: forecaster.model.config.horizon, mode: forecaster.model.config.mode, targets: forecaster.targetColumns });
    } else {
      try {
        ({ forecaster, windows: trainRaw } = prepareForecaster(fit, { ...recipe, seed }));
      } catch (e) {
        if (e instanceof ToolkitError) throw new HeadsCliError(`${flags.csv}: ${e.message}`);
        throw e;
      }
    }
    try {
      // Validation windows end in the validation rows: they read the training rows before them.
      const validRaw = flags.valid > 0
        ? makeWindows(series.columns.map((c) => c.slice(fitRows - forecaster.rawWindow, trainRows)), { window: forecaster.rawWindow, horizon: forecaster.model.config.horizon, mode: forecaster.model.config.mode, targets: forecaster.targetColumns })
        : trainRaw;
      const task = new ForecasterTask(forecaster, { train: trainRaw, valid: validRaw }, { batchSize: flags.batchSize, seed });
      const c = forecaster.model.config;
      process.stderr.write(
        `data: ${trainRaw.length} training windows, ${validRaw.length} validation windows${flags.valid === 0 ? ' (the training windows: no --valid rows)' : ''}; horizon ${c.horizon}, ${c.mode} mode\n` +
          `model: ${c.layers}×${c.cell.kind} ${c.hiddenSize} units, ${forecaster.model.params.count().toLocaleString('en-US')} weights, seed ${seed}; ${forecaster.describe()}\n`,
      );
      const { code } = await runTraining(task, { ...flags, seed, out }, 'mse', checkpoint, describeForecast);
      if (code !== 0) return code;
      if (flags.test > 0) {
        // The last step's weights (as saved in the checkpoint), forecasting the held-out rows from the end of training.
        const rmse = scoreForecasts([forecaster.forecastAhead(trainColumns, flags.test)[0]!], [truth]).rmse;
        testScores.push(rmse);
        process.stdout.write(`seed ${seed}: RMSE of the last ${flags.test} rows (${targets[0]}) ${rmse.toFixed(2)}\n`);
      }
    } finally {
      forecaster.dispose();
    }
  }
  if (selection !== null) await writeFile(path.join(flags.out, 'selection.json'), JSON.stringify({ best: selection.best, bestLinear: selection.bestLinear, candidates: selection.candidates, skipped: selection.skipped }, null, 1) + '\n');
  if (flags.test > 0 && testScores.length > 0) reportForecastRuns(testScores, trainColumns, truth, target0, recipe, { ...fit, columns: trainColumns }, flags);
  return 0;
}

/** Test RMSE over seeds (mean ± sd) and the paired comparison with each baseline on the same rows. */
function reportForecastRuns(scores: number[], trainColumns: Float64Array[], truth: Float64Array, target: number, recipe: ForecastRecipe, data: SeriesColumns, flags: ForecastTrainFlags): void {
  const o = process.stdout;
  const T = truth.length;
  const hist = trainColumns[target]!;
  const rmse = (f: ArrayLike<number>) => scoreForecasts([f], [truth]).rmse;
  const baselines: [string, number][] = [['naive (last value)', rmse(naiveForecast(hist, T))], [`seasonal naive (${flags.season})`, rmse(seasonalNaiveForecast(hist, T, flags.season))]];
  const order = recipe.window;
  baselines.push([`linear AR(${order}) on raw values, recursive`, rmse(LinearAutoregression.fit(makeWindows([hist], { window: order }), { order }).forecast(hist, T))]);
  if (recipe.linearOrder > 0) {
    // The linear part of the same pipeline alone: what the network adds to it.
    const { forecaster } = prepareForecaster(data, { ...recipe, linearOnly: true });
    try {
      baselines.push([`${describeRecipe({ ...recipe, linearOnly: true })}`, rmse(forecaster.forecastAhead(trainColumns, T)[0]!)]);
    } finally {
      forecaster.dispose();
    }
  }
  const s = meanAndSd(scores);
  o.write(`test RMSE over ${s.n} seed${s.n === 1 ? '' : 's'}: ${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)} (mean ± sd)\n`);
  for (const [name, b] of baselines) {
    const d = pairedDifference(scores, scores.map(() => b));
    o.write(`  vs ${name.padEnd(52)} ${b.toFixed(2)}: model − baseline ${d.mean >= 0 ? '+' : ''}${d.mean.toFixed(2)} (standard error ${d.se.toFixed(2)})\n`);
  }
}

interface ForecastEvalFlags extends ForecastDataFlags {
  model: string;
  season?: number;
  linearOrder?: number;
  linearHorizon: number;
  plot?: string;
}

async function forecastEval(flags: ForecastEvalFlags, startBackend: () => Promise<void>): Promise<void> {
  await startBackend();
  const forecaster = await SeriesForecaster.load(flags.model);
  const o = process.stdout;
  const f4 = (x: number) => x.toFixed(4);
  try {
    const order = flags.linearOrder ?? forecaster.window;
    if (flags.synthetic === 'sines') {
      const k = forecaster.model.config.horizon;
      // Baselines and model on the same 1,000 test series, vector windows: the k values after step 50.
      const d = sinesDataset({ ahead: k, mode: 'vector', seed: flags.dataSeed });
      const forecasts = forecaster.forecastWindows(d.test.map((e) => e.input));
      const model = scoreForecasts(forecasts, d.test.map((e) => e.target));
      const base = evaluateBaselines(d.train, d.test, { linear: { order, horizon: flags.linearHorizon } });
      o.write(`sines (seed ${flags.dataSeed}), ${d.test.length} test series, ${k} step${k === 1 ? '' : 's'} ahead: MSE over all steps / of the last step\n`);
      o.write(`  model              ${f4(model.mse)} / ${f4(model.lastStepMse)}\n`);
      o.write(`  naive (last value) ${f4(base.naive.mse)} / ${f4(base.naive.lastStepMse)}\n`);
      o.write(`  linear AR(${order}), horizon ${flags.linearHorizon}: ${f4(base.linear.mse)} / ${f4(base.linear.lastStepMse)}\n`);
      if (flags.plot !== undefined) {
        const shown = d.test.slice(0, 3).map((e, i) => ({ input: e.input, target: e.target, forecast: forecasts[i]! }));
        await writeFile(flags.plot, windowForecastChart(`sines (seed ${flags.dataSeed}): the first ${shown.length} test series, ${k} step${k === 1 ? '' : 's'} ahead`, shown));
        o.write(`plot: ${flags.plot}\n`);
      }
      return;
    }
    const series = await readSeries(flags);
    const cols = forecaster.settings.inputs.map((name) => {
      const i = series.names.indexOf(name);
      if (i < 0) throw new HeadsCliError(`${flags.csv}: no column "${name}" (the model reads ${forecaster.settings.inputs.join(', ')}; the file has ${series.names.join(', ')})`);
      return series.columns[i]!;
    });
    const n = series.index.length;
    const T = flags.test;
    if (n - T < forecaster.window) throw new HeadsCliError(`${flags.csv}: ${n} rows leave ${n - T} before the --test ${T} rows, fewer than the model's window ${forecaster.window}`);
    const history = cols.map((c) => c.slice(0, n - T));
    const model = forecaster.forecastAhead(history, T);
    o.write(`${flags.csv}: forecasting the last ${T} of ${n} rows (${series.index[n - T]} … ${series.index[n - 1]}) from the ${n - T} before them\n`);
    let plotted: { name: string; values: ArrayLike<number> }[] = [];
    forecaster.settings.targets.forEach((name, g) => {
      const c = forecaster.targetColumns[g]!;
      const truth = cols[c]!.slice(n - T);
      const hist = history[c]!;
      const score = (f: ArrayLike<number>) => scoreForecasts([f], [truth]).rmse;
      const rows: [string, ArrayLike<number>][] = [['model', model[g]!], ['naive (last value)', naiveForecast(hist, T)]];
      if (flags.season !== undefined) rows.push([`seasonal naive (${flags.season})`, seasonalNaiveForecast(hist, T, flags.season)]);
      const windows = makeWindows([hist], { window: order, horizon: flags.linearHorizon });
      if (windows.length > order + 1) rows.push([`linear AR(${order}), horizon ${flags.linearHorizon}`, LinearAutoregression.fit(windows, { order, horizon: flags.linearHorizon }).forecast(hist, T)]);
      o.write(`  ${name}: RMSE\n`);
      for (const [label, f] of rows) o.write(`    ${label.padEnd(28)} ${score(f).toFixed(2)}\n`);
      if (g === 0) {
        plotted = rows.map(([name, values]) => ({ name, values }));
      }
    });
    if (flags.plot !== undefined) {
      const target = forecaster.targetColumns[0]!;
      await writeFile(flags.plot, forecastChart({ title: `${path.basename(flags.csv!)}: forecast of the last ${T} rows`, labels: series.index, observed: Array.from(cols[target]!), start: n - T, forecasts: plotted, yLabel: forecaster.settings.targets[0]! }));
      o.write(`plot: ${flags.plot}\n`);
    }
  } finally {
    forecaster.dispose();
  }
}

interface ForecastPredictFlags {
  model: string;
  csv: string;
  index?: string;
  steps?: number;
}

async function forecastPredict(flags: ForecastPredictFlags, startBackend: () => Promise<void>): Promise<void> {
  await startBackend();
  const forecaster = await SeriesForecaster.load(flags.model);
  try {
    const series = await readSeries({ ...flags, test: 0, ahead: 1, dataSeed: 1, columns: forecaster.settings.inputs });
    const steps = flags.steps ?? forecaster.model.config.horizon;
    const f = forecaster.forecastAhead(series.columns, steps);
    const lines = [`step,${forecaster.settings.targets.join(',')}`];
    for (let h = 0; h < steps; h++) lines.push(`${h + 1},${f.map((c) => c[h]!.toPrecision(6)).join(',')}`);
    process.stdout.write(lines.join('\n') + '\n');
  } finally {
    forecaster.dispose();
  }
}

// ---------------------------------------------------------------------------------------------------------------

export function registerHeadCommands(program: Command, startBackend: StartBackend): void {
  const backend = () => startBackend(program.opts()['backend'] as string | undefined);
  const setCode = (code: number): void => {
    if (code !== 0) process.exitCode = code;
  };

  const lm = program.command('lm').description('recurrent language model: train on monolingual text, generate, score perplexity');
  const lmTrainCmd = addTrainingFlags(lm.command('train').description('train a language model (word, char or SentencePiece tokens)'), { steps: 3000, evalEvery: 500, hidden: 256, batchSize: 32, learningRate: 3e-3, out: 'runs/lm' })
    .requiredOption('--train <file...>', 'training text, one sentence per line (plain or gzip)')
    .option('--valid <file>', 'validation text (default: hold out --valid-split of the training lines)')
    .option('--valid-split <x>', 'held-out share (< 1) or line count', num('--valid-split'), 0.05)
    .option('--tokenizer <spec>', 'char | word | word:fr | space | sp:FILE.model', 'char')
    .option('--lowercase', 'lowercase the text')
    .option('--max-vocab <n>', 'vocabulary size limit, specials included', int('--max-vocab', 5))
    .option('--min-count <n>', 'drop tokens seen fewer times', int('--min-count'), 1)
    .option('--limit <n>', 'read at most this many lines', int('--limit'))
    .option('--embedding <n>', 'embedding width', int('--embedding'), 64)
    .addOption(new Option('--softmax <kind>', 'training softmax').choices(['full', 'sampled']).default('full'))
    .option('--num-sampled <n>', 'sampled softmax candidates', int('--num-sampled'), 512);
  lmTrainCmd.action(async (opts: LmTrainFlags) => setCode(await lmTrain(opts, lmTrainCmd, backend)));
  lm.command('generate')
    .description('continue prompts by sampling (temperature, top-k) or greedily (--temperature 0)')
    .requiredOption('--model <dir>', 'language-model directory')
    .addOption(new Option('--prompt <text...>', 'prompts to continue').default([], 'one empty prompt'))
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', num('--temperature'), 1)
    .option('--top-k <k>', 'sample among the k most probable tokens (0 = all)', int('--top-k', 0), 0)
    .option('--max-length <n>', 'tokens to generate at most', int('--max-length'), 100)
    .option('--count <n>', 'samples per prompt', int('--count'), 1)
    .option('--seed <n>', 'sampling seed', int('--seed', 0), 1)
    .action(async (opts: LmGenerateFlags) => lmGenerate(opts, backend));
  lm.command('score')
    .description('perplexity of text files under the model (optionally beside an add-one unigram baseline)')
    .requiredOption('--model <dir>', 'language-model directory')
    .option('--unigram <train-file>', 'also score a unigram model trained on this file with the same tokenizer')
    .option('--batch-size <n>', 'lines per batch', int('--batch-size'), 64)
    .argument('<file...>', 'text to score, one sentence per line')
    .action(async (files: string[], opts: LmScoreFlags) => lmScore(files, opts, backend));

  const classify = program.command('classify').description('sequence classifier on text (TSV: text<TAB>label) or feature sequences (CSV)');
  const dataFlags = (c: Command): Command =>
    c
      .addOption(new Option('--format <format>', 'tsv (text<TAB>label) or features (CSV label,sequence)').choices(['tsv', 'features']).default('tsv'))
      .option('--header', 'TSV files start with a header line')
      .option('--valid-split <x>', 'validation share (< 1) or count of the seeded split', num('--valid-split'), 0.1)
      .option('--test-split <x>', 'test share (< 1) or count of the seeded split', num('--test-split'), 0.1);
  const classifyTrainCmd = dataFlags(addTrainingFlags(classify.command('train').description('train a classifier; prints the best model\'s accuracy on the held-out test part'), { steps: 2000, evalEvery: 100, hidden: 64, batchSize: 32, learningRate: 3e-3, out: 'runs/classify' }))
    .requiredOption('--train <file...>', 'labelled examples (split by --valid-split / --test-split and --seed)')
    .option('--valid <file>', 'validation examples (then only --test-split is held out of --train)')
    .option('--tokenizer <spec>', 'word | char | space | sp:FILE.model', 'word')
    .option('--lowercase', 'lowercase the text')
    .option('--max-vocab <n>', 'vocabulary size limit, specials included', int('--max-vocab', 5))
    .option('--min-count <n>', 'drop tokens seen fewer times', int('--min-count'), 1)
    .option('--embedding <n>', 'embedding width', int('--embedding'), 64)
    .addOption(new Option('--pooling <how>', 'summary of the sequence').choices(['final', 'mean', 'max', 'attention']).default('final'))
    .option('--attention-size <n>', '--pooling attention: width of the scorer', int('--attention-size'), 64)
    .option('--embedding-keep <p>', 'embedding dropout: keep probability of each word type in a batch', keep('--embedding-keep'), 1)
    .option('--pretrained <file>', 'initialise the embeddings from word vectors in GloVe text format (width = --embedding)')
    .option('--seeds <n>', 'train this many seeds (--seed, --seed + 1, …), each on its own split, in --out/seed-N; report mean ± sd and paired differences with the baselines', int('--seeds'), 1)
    .option('--folds <k>', 'k-fold cross-validation per seed (each fold tested once; --valid-split held out of the rest)', int('--folds'), 1)
    .option('--bidirectional', 'read each sequence in both directions');
  stackFlags(classifyTrainCmd);
  classifyTrainCmd.action(async (opts: ClassifyTrainFlags) => setCode(await classifyTrain(opts, classifyTrainCmd, backend)));
  dataFlags(classify.command('eval').description('accuracy, macro-F1 and confusion matrix on labelled files (or one part of their seeded split), with baselines'))
    .requiredOption('--model <dir>', 'classifier directory')
    .addOption(new Option('--part <part>', 'which part of the seeded split to evaluate').choices(['all', 'train', 'valid', 'test']).default('all'))
    .option('--seed <n>', 'seed of the split (as in training)', int('--seed', 0), 1)
    .option('--baselines', 'also the majority class and a bag-of-words logistic regression trained on the train part')
    .argument('<file...>', 'labelled examples')
    .action(async (files: string[], opts: ClassifyEvalFlags) => classifyEval(files, opts, backend));
  classify.command('predict')
    .description('label and probability of each stdin line (text models) or each sequence of CSV files (feature models)')
    .requiredOption('--model <dir>', 'classifier directory')
    .option('--batch-size <n>', 'examples per batch', int('--batch-size'), 64)
    .argument('[file...]', 'inputs (default: stdin lines)')
    .action(async (files: string[], opts: ClassifyPredictFlags) => classifyPredict(files, opts, backend));

  const forecast = program.command('forecast').description('time-series forecaster: sequence → the next value(s), with naive, seasonal-naive and linear baselines');
  const seriesFlags = (c: Command): Command =>
    c
      .option('--csv <file>', 'series: a CSV with a header, an index (date) column and value columns')
      .option('--index <column>', 'index column by name or position, or "none" (default: the first column)')
      .option('--columns <names...>', 'value columns to read (default: all but the index)')
      .option('--test <n>', 'rows at the end held out for testing', int('--test', 0), 0)
      .addOption(new Option('--synthetic <task>', "the two-sines task of \"Hands-On Machine Learning\" instead of a CSV: two sines plus noise, 50 steps, 7,000/2,000/1,000 series").choices(['sines']))
      .option('--ahead <k>', '--synthetic: values to predict after the 50 steps', int('--ahead'), 1)
      .option('--data-seed <n>', '--synthetic: seed of the generated series', int('--data-seed', 0), 1);
  const forecastTrainCmd = seriesFlags(addTrainingFlags(forecast.command('train').description('train on windows of the training rows (or the synthetic sines)'), { steps: 3000, evalEvery: 250, hidden: 64, batchSize: 32, learningRate: 3e-3, out: 'runs/forecast' }))
    .option('--targets <names...>', 'columns to predict (default: all value columns)')
    .option('--window <n>', 'steps per input window', int('--window'), 12)
    .option('--horizon <k>', 'values predicted after each step', int('--horizon'), 1)
    .addOption(new Option('--mode <mode>', 'vector: predict k after the last step; sequence: the next k at every step').choices(['vector', 'sequence']).default('vector'))
    .option('--valid <n>', 'training rows at their end used for validation windows (0: validate on the training windows)', int('--valid', 0), 0)
    .addOption(new Option('--scale <kind>', 'scaling fitted on the training rows').choices(['standard', 'minmax', 'none']).default('standard'))
    .option('--log', 'model log values (positive series with multiplicative seasonality)')
    .option('--box-cox', 'Box-Cox transform, λ by maximum likelihood on the training rows (positive series)')
    .option('--difference <lags...>', 'difference at these lags in turn after the transform, e.g. 1 12', (v: string, prev: number[] | undefined) => [...(prev ?? []), int('--difference')(v)])
    .option('--linear-part <p>', 'add a linear AR(p) to the network\'s output, which learns its residual (vector mode; 0 = none)', int('--linear-part', 0), 0)
    .option('--select', 'choose transform, differencing, linear part and direct/recursive by rolling-origin validation on the training rows')
    .option('--select-windows <n...>', '--select: window lengths to try (default: --window)', (v: string, prev: number[] | undefined) => [...(prev ?? []), int('--select-windows')(v)])
    .option('--budget-minutes <m>', '--select: stop trying candidates after this long', num('--budget-minutes', Number.MIN_VALUE), 10)
    .option('--origins <n>', '--select: rolling origins', int('--origins'), 3)
    .option('--origin-step <n>', '--select: rows between origins', int('--origin-step'), 12)
    .option('--origin-horizon <n>', '--select: rows forecast after each origin (default: --test, or --season)', int('--origin-horizon'))
    .option('--season <n>', 'season length: seasonal differencing in --select, the seasonal naive baseline', int('--season'), 12)
    .option('--seeds <n>', 'train this many seeds (--seed, --seed + 1, …; each in --out/seed-N) and report the test RMSE\'s mean ± sd and paired differences with the baselines', int('--seeds'), 1);
  stackFlags(forecastTrainCmd);
  forecastTrainCmd.action(async (opts: ForecastTrainFlags) => setCode(await forecastTrain(opts, forecastTrainCmd, backend)));
  seriesFlags(forecast.command('eval').description('RMSE of the model\'s forecast of the last --test rows vs naive, seasonal naive and linear; SVG plot'))
    .requiredOption('--model <dir>', 'forecaster directory')
    .option('--season <n>', 'season length for the seasonal naive baseline (e.g. 12 for months)', int('--season'))
    .option('--linear-order <p>', 'linear AR order (default: the model\'s window)', int('--linear-order'))
    .option('--linear-horizon <h>', 'values the linear AR predicts at once (longer forecasts feed back)', int('--linear-horizon'), 1)
    .option('--plot <file.svg>', 'write the series, the forecast and the baselines as an SVG line chart')
    .action(async (opts: ForecastEvalFlags) => forecastEval(opts, backend));
  forecast.command('predict')
    .description('forecast the values after the end of a CSV series (CSV on stdout)')
    .requiredOption('--model <dir>', 'forecaster directory')
    .requiredOption('--csv <file>', 'the series (the model\'s columns; at least its window of rows)')
    .option('--index <column>', 'index column by name or position, or "none" (default: the first column)')
    .option('--steps <n>', 'values to forecast (default: the model\'s horizon; longer forecasts feed back)', int('--steps'))
    .action(async (opts: ForecastPredictFlags) => forecastPredict(opts, backend));
}
