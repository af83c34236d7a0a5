// Real-valued sequences for the classifier (e.g. an MNIST digit read as 28 rows of 28 pixels), one example a line.
//
// Format: CSV with a header naming the columns; one column holds the label, one the sequence, others are ignored
// (e.g. an id). A sequence is its steps separated by ";", each step its F features separated by spaces:
//
//   label,sequence
//   7,0 0 0.5;0 0.25 1;0 0 0        ← 3 steps × 3 features
//   3,1 0 0;0 1 0                   ← 2 steps: lengths may differ, F may not
//
// Fields may be quoted as in any CSV (a label with a comma). Values are stored step-major, [steps · F], the layout
// featureBatch in src/heads/sequenceInput.ts takes.
import { CorpusError, readLines } from '../readers.js';
import { parseNumber, resolveColumn, splitCsvLine } from './timeSeries.js';

export interface FeatureSequence {
  /** [steps · F] values, step-major. */
  values: Float32Array;
  steps: number;
  /** Absent when the file is read without a label column (e.g. for prediction). */
  label?: string;
  file: string;
  line: number;
}

export interface FeatureSequences {
  /** F, the same for every step of every example. */
  featureSize: number;
  examples: FeatureSequence[];
}

export interface FeatureSequencesOptions {
  /** Header name of the label column, or null to read sequences without labels (default 'label'). */
  label?: string | null;
  /** Header name of the sequence column (default 'sequence'). */
  sequence?: string;
  /** Features per step that every step must have (default: whatever the first example has). */
  featureSize?: number;
}

/** Reads a feature-sequence CSV (plain or gzip); any malformed value is an error naming its line and step. */
export async function readFeatureSequences(
  file: string,
  options: FeatureSequencesOptions = {},
): Promise<FeatureSequences> {
  const labelName = options.label === undefined ? 'label' : options.label;
  const sequenceName = options.sequence ?? 'sequence';
  let header: string[] | null = null;
  let labelColumn: number | null = null;
  let sequenceColumn = 0;
  let F = options.featureSize ?? null;
  const examples: FeatureSequence[] = [];
  for await (const { text, line } of readLines(file)) {
    if (text.trim().length === 0) continue;
    const fields = splitCsvLine(text, file, line);
    if (header === null) {
      header = fields;
      sequenceColumn = resolveColumn(header, sequenceName, file);
      labelColumn = labelName === null ? null : resolveColumn(header, labelName, file);
      continue;
    }
    if (fields.length !== header.length) {
      throw new CorpusError(
        file,
        line,
        `has ${fields.length} comma-separated field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
      );
    }
    const steps = fields[sequenceColumn]!.split(';');
    // A trailing ";" would otherwise read as an empty last step.
    if (steps.length > 1 && steps.at(-1)!.trim() === '') steps.pop();
    const values: number[] = [];
    steps.forEach((step, t) => {
      const parts = step
        .trim()
        .split(/\s+/)
        .filter((p) => p.length > 0);
      if (parts.length === 0) throw new CorpusError(file, line, `step ${t + 1} of the sequence is empty`);
      if (F === null) F = parts.length;
      if (parts.length !== F)
        throw new CorpusError(
          file,
          line,
          `step ${t + 1} has ${parts.length} feature${parts.length === 1 ? '' : 's'}, expected ${F}`,
        );
      parts.forEach((p, f) => {
        const x = parseNumber(p);
        if (x === null)
          throw new CorpusError(file, line, `step ${t + 1}, feature ${f + 1} is ${JSON.stringify(p)}, not a number`);
        values.push(x);
      });
    });
    const example: FeatureSequence = { values: Float32Array.from(values), steps: steps.length, file, line };
    if (labelColumn !== null) {
      const label = fields[labelColumn]!.trim();
      if (label.length === 0) throw new CorpusError(file, line, `the label ("${labelName}") is empty`);
      example.label = label;
    }
    examples.push(example);
  }
  if (header === null) throw new CorpusError(file, undefined, `is empty (expected a header such as "label,sequence")`);
  if (F === null) throw new CorpusError(file, undefined, 'has a header but no sequences');
  return { featureSize: F, examples };
}

/** Writes examples in the format readFeatureSequences reads (header included), e.g. to convert MNIST. */
export function formatFeatureSequences(
  examples: readonly { values: ArrayLike<number>; label?: string }[],
  featureSize: number,
): string {
  const quote = (s: string) => (/[",]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s);
  const lines = ['label,sequence'];
  for (const e of examples) {
    if (e.values.length === 0 || e.values.length % featureSize !== 0)
      throw new RangeError(`${e.values.length} values do not make whole steps of ${featureSize} features`);
    const steps: string[] = [];
    for (let t = 0; t < e.values.length / featureSize; t++)
      steps.push(Array.from({ length: featureSize }, (_, f) => String(e.values[t * featureSize + f])).join(' '));
    lines.push(`${quote(e.label ?? '')},${steps.join(';')}`);
  }
  return lines.join('\n') + '\n';
}
