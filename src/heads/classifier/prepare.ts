// Everything between a `translate classify train` config and the training loop: read the labelled examples, plan
// the runs (one seeded split, or one per seed and cross-validation fold), and for each run build the labels, the
// tokenizer and vocabulary (text) and the model (optionally with pretrained embeddings), wrapped as a
// ClassifierTask. After a run, scoreClassifierRun scores its best model on the held-out test part beside two
// baselines trained on the same train part: the majority class and a bag-of-words logistic regression.
import * as path from 'node:path';
import { Vocabulary } from '../../data/text/vocabulary.js';
import { createTokenizer, parseTokenizerSpec } from '../../data/text/tokenizers.js';
import { Labels, crossValidationSplits } from '../../data/text/labelled.js';
import {
  readPretrainedVectors,
  loadPretrainedEmbeddings,
  type PretrainedCoverage,
  type PretrainedVectors,
} from '../../layers/pretrained.js';
import type { SavedModelJson } from '../../model/modelFiles.js';
import { classificationReport } from '../../metrics/scores.js';
import type { Checkpoint } from '../../train/checkpoints.js';
import { ConfigError, type SavedRunConfig } from '../../train/config.js';
import { ToolkitError } from '../../errors.js';
import { SequenceClassifier } from './classifier.js';
import { ClassifierTask } from './classifierTask.js';
import { TextClassifier, type ClassifierExtra } from './textClassifier.js';
import { LogisticRegression, majorityClass } from './logisticRegression.js';
import { readClassifierData, classifierSplit, toModelExamples, type ClassifierSplit, type RawExample } from './data.js';
import type { ClassifierTrainConfig } from './config.js';

/** One training run of a plan: its seed, its fold (cross-validation), its split and its own config. */
export interface ClassifierRun {
  seed: number;
  fold?: number;
  /** "seed-N" or "seed-N-fold-K": the run's subdirectory when a plan has several runs. */
  name: string;
  split: ClassifierSplit;
  /** The config with the run's seed in data, model and training. */
  config: ClassifierTrainConfig;
}

export interface ClassifierPlan {
  runs: ClassifierRun[];
  /** Features per step (feature-sequence data). */
  featureSize?: number;
  /** The pretrained word vectors of data.pretrained (text data), read once for every run. */
  vectors: PretrainedVectors | null;
}

/** The config of the i-th seed: data, model and training seeds moved on by i. */
function withSeedOffset(config: ClassifierTrainConfig, i: number): ClassifierTrainConfig {
  return {
    ...config,
    data: { ...config.data, seed: config.data.seed + i },
    model: { ...config.model, seed: config.model.seed + i },
    training: { ...config.training, seed: config.training.seed + i },
  };
}

/** Reads the examples and plans the runs; `resuming`: continue one run (no seeds, no folds). */
export async function planClassifierRuns(config: ClassifierTrainConfig, resuming = false): Promise<ClassifierPlan> {
  const d = config.data;
  const { seeds, folds } = config.validation;
  if (resuming && (seeds > 1 || folds > 1))
    throw new ConfigError('--resume continues one run: it cannot be ' + 'combined with --seeds or --folds');
  const { examples, featureSize } = await readClassifierData(d.train, d);
  const runs: ClassifierRun[] = [];
  for (let i = 0; i < seeds; i++) {
    const run = withSeedOffset(config, i);
    const seed = run.data.seed;
    if (folds > 1) {
      let parts: ClassifierSplit[];
      try {
        parts = crossValidationSplits(examples, { folds, valid: d.validSplit, seed });
      } catch (e) {
        if (e instanceof ToolkitError) throw new ConfigError(`${d.train.join(', ')}: ${e.message}`);
        throw e;
      }
      parts.forEach((split, f) =>
        runs.push({ seed, fold: f + 1, name: `seed-${seed}-fold-${f + 1}`, split, config: run }),
      );
    } else if (d.valid !== undefined) {
      const s = classifierSplit(examples, { ...d, validSplit: 0, seed });
      const valid = (await readClassifierData([d.valid], d)).examples;
      runs.push({ seed, name: `seed-${seed}`, split: { train: s.train, valid, test: s.test }, config: run });
    } else {
      runs.push({ seed, name: `seed-${seed}`, split: classifierSplit(examples, { ...d, seed }), config: run });
    }
  }
  for (const r of runs)
    if (r.split.train.length === 0) {
      const held = r.split.valid.length + r.split.test.length;
      const why = held > 0 ? ` (${held} held out for validation and test)` : '';
      throw new ConfigError(`${d.train.join(', ')}: no training examples${why}`);
    }
  const vectors = d.pretrained === undefined || d.format !== 'tsv' ? null : await readPretrainedVectors(d.pretrained);
  return { runs, vectors, ...(featureSize !== undefined ? { featureSize } : {}) };
}

export interface PreparedClassifier {
  classifier: TextClassifier;
  task: ClassifierTask;
  /** The run's effective config, saved in the checkpoint (model.json's training.config) for --resume. */
  saved: SavedRunConfig<ClassifierTrainConfig>;
  /** Pretrained embeddings loaded into a new model: how many vocabulary words had a vector. */
  pretrained: (PretrainedCoverage & { file: string }) | null;
}

/** Builds the task of one run, new (`resume` absent) or continued from the checkpoint in `resume`. */
export async function prepareClassifierRun(
  run: ClassifierRun,
  plan: ClassifierPlan,
  resume?: Checkpoint,
): Promise<PreparedClassifier> {
  const { config, split } = run;
  const d = config.data;
  let classifier: TextClassifier;
  let pretrained: PreparedClassifier['pretrained'] = null;
  if (resume !== undefined) {
    const json = resume.json as SavedModelJson<never, ClassifierExtra>;
    classifier = await TextClassifier.fromSaved(json, resume.weights, `${resume.dir}/model.json`, {
      directory: resume.dir,
    });
  } else {
    const labels = Labels.build(split.train.map((e) => e.label));
    if (labels.size < 2) {
      throw new ConfigError(
        `${d.train.join(', ')}: the training examples have only one label (${labels.labels.join(', ')}); a classifier needs two or more`,
      );
    }
    const { embeddingSize, ...model } = config.model;
    const build = (input: ConstructorParameters<typeof SequenceClassifier>[0]['input']): SequenceClassifier =>
      new SequenceClassifier({ ...model, input, classes: labels.size });
    if (d.format === 'tsv') {
      const tokenizer = await createTokenizer(parseTokenizerSpec(d.tokenizer));
      const prep = (t: string): string => (d.lowercase ? t.toLowerCase() : t);
      const vocabulary = Vocabulary.build(
        split.train.map((e) => tokenizer.tokenize(prep(e.text!))),
        {
          minCount: d.minCount,
          ...(d.maxVocab !== undefined ? { maxSize: d.maxVocab } : {}),
        },
      );
      classifier = new TextClassifier(build({ kind: 'tokens', vocabSize: vocabulary.size, embeddingSize }), labels, {
        kind: 'tokens',
        vocabulary,
        tokenizer,
        lowercase: d.lowercase,
      });
      if (plan.vectors !== null) {
        const params = classifier.model.params;
        try {
          const found = loadPretrainedEmbeddings(
            { embedding: () => params.get('classifier/embedding') },
            'source',
            vocabulary,
            plan.vectors,
          );
          pretrained = { file: plan.vectors.file, ...found };
        } catch (e) {
          classifier.dispose();
          throw e;
        }
      }
    } else {
      const F = plan.featureSize!;
      classifier = new TextClassifier(build({ kind: 'features', size: F }), labels, {
        kind: 'features',
        featureSize: F,
      });
    }
  }
  try {
    const labelled = (part: RawExample[]) => ({
      examples: toModelExamples(classifier, part),
      labels: classifier.labels.encode(part),
    });
    const task = new ClassifierTask(
      classifier,
      { train: labelled(split.train), valid: labelled(split.valid) },
      { batchSize: d.batchSize, seed: d.seed },
    );
    return { classifier, task, saved: { config }, pretrained };
  } catch (e) {
    classifier.dispose();
    throw e;
  }
}

/** One run's held-out scores (shares in [0, 1]); the baselines trained on the same train part. */
export interface ClassifierRunScores {
  /** Accuracy on the validation part (NaN when it has no example of a known label). */
  valid: number;
  test: number;
  /** Macro-F1 on the test part. */
  testMacroF1: number;
  /** Bag-of-words logistic regression (text data). */
  logistic?: number;
  majority: number;
}

/** Scores `best` (the run's best model) on the split's test part, beside the baselines; examples of unknown labels are left out. */
export function scoreClassifierRun(
  best: TextClassifier,
  split: ClassifierSplit,
  format: 'tsv' | 'features',
): ClassifierRunScores {
  const known = (part: RawExample[]) => part.filter((e) => best.labels.has(e.label));
  const [train, valid, test] = [known(split.train), known(split.valid), known(split.test)];
  const expected = best.labels.encode(test);
  const report = best.evaluate(toModelExamples(best, test), expected);
  const validAccuracy =
    valid.length === 0 ? NaN : best.evaluate(toModelExamples(best, valid), best.labels.encode(valid)).accuracy;
  const majority = classificationReport(
    expected.map(() => majorityClass(best.labels.encode(train))),
    expected,
    best.labels.size,
  ).accuracy;
  let logistic: number | undefined;
  if (format === 'tsv') {
    const lr = LogisticRegression.train(
      train.map((e) => e.text!),
      best.labels.encode(train),
      best.labels.size,
    );
    logistic = classificationReport(lr.predictAll(test.map((e) => e.text!)), expected, best.labels.size).accuracy;
  }
  return {
    valid: validAccuracy,
    test: report.accuracy,
    testMacroF1: report.macroF1,
    majority,
    ...(logistic !== undefined ? { logistic } : {}),
  };
}

/** Where a run of a plan writes: `out` itself for a single run, else `out`/seed-N[-fold-K]. */
export function classifierRunDir(out: string, plan: ClassifierPlan, run: ClassifierRun): string {
  return plan.runs.length > 1 ? path.join(out, run.name) : out;
}
