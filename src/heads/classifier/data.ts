// A classifier's labelled examples as read from files (text<TAB>label TSV, or feature-sequence CSV), the seeded
// split `classify train` makes of them (and `classify eval` reproduces), and their model inputs.
import { splitCorpus } from '../../data/split.js';
import { readLabelled } from '../../data/text/labelled.js';
import { readFeatureSequences } from '../../data/series/featureSequences.js';
import type { ClassifierExample, TextClassifier } from './textClassifier.js';

/** A labelled example as read: text or feature values, with where it came from. */
export interface RawExample {
  text?: string;
  values?: Float32Array;
  label: string;
  file: string;
  line: number;
}

export interface ClassifierSplit {
  train: RawExample[];
  valid: RawExample[];
  test: RawExample[];
}

export interface ClassifierDataOptions {
  /** 'tsv': text<TAB>label; 'features': CSV of label,sequence. */
  format: 'tsv' | 'features';
  /** TSV files start with a header line. */
  header?: boolean;
}

/** The examples of `files`; feature files must agree on the features per step (`featureSize`). */
export async function readClassifierData(
  files: readonly string[],
  options: ClassifierDataOptions,
): Promise<{ examples: RawExample[]; featureSize?: number }> {
  if (options.format === 'tsv') {
    const items = await readLabelled(files, { header: options.header === true });
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

/** The seeded split of `classify train` (valid and test shares or counts), reproduced by `classify eval`. */
export function classifierSplit<T>(
  examples: readonly T[],
  options: { validSplit: number; testSplit: number; seed: number },
): { train: T[]; valid: T[]; test: T[] } {
  return splitCorpus(examples, {
    valid: options.validSplit,
    test: options.testSplit,
    seed: options.seed,
    unit: 'examples',
  });
}

/** Examples as the classifier reads them: token ids of texts, or the feature values. */
export function toModelExamples(classifier: TextClassifier, examples: readonly RawExample[]): ClassifierExample[] {
  return examples.map((e) => (e.values !== undefined ? e.values : classifier.encodeText(e.text!)));
}
