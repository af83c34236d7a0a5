// Labelled text for the classifier: a TSV reader of `text \t label` lines (e.g. the UCI sentiment sentences,
// "sentence \t 0/1") and the label vocabulary that turns label strings into class ids and back.
import { CorpusError, DropTally, readLines } from '../readers.js';
import { ToolkitError } from '../../errors.js';
import { Rng } from '../../random.js';

export interface LabelledText {
  text: string;
  label: string;
  /** Where the example was read, for errors raised later (e.g. a label unknown to a trained model). */
  file: string;
  line: number;
}

export interface LabelledOptions {
  /** The first line names the columns and is skipped (default false). */
  header?: boolean;
  /** Where blank lines are counted as 'empty' (default: a private tally). */
  dropped?: DropTally;
}

/**
 * Reads `text \t label` lines from one or more files (plain or gzip), in order. Text and label are trimmed (some
 * sentences end in spaces); a blank line is skipped and counted; anything else malformed is an error at its line.
 */
export async function readLabelled(
  files: string | readonly string[],
  options: LabelledOptions = {},
): Promise<LabelledText[]> {
  const dropped = options.dropped ?? new DropTally();
  const out: LabelledText[] = [];
  for (const file of typeof files === 'string' ? [files] : files) {
    for await (const { text, line } of readLines(file)) {
      if (options.header && line === 1) continue;
      if (text.trim().length === 0) {
        dropped.add('empty', `${file}:${line}`);
        continue;
      }
      const fields = text.split('\t');
      if (fields.length !== 2) {
        throw new CorpusError(
          file,
          line,
          fields.length === 1
            ? 'has no tab: expected "text<TAB>label"'
            : `has ${fields.length} tab-separated columns, expected 2 (text, label)`,
        );
      }
      const sentence = fields[0]!.trim();
      const label = fields[1]!.trim();
      if (sentence.length === 0) throw new CorpusError(file, line, 'the text before the tab is empty');
      if (label.length === 0) throw new CorpusError(file, line, 'the label after the tab is empty');
      out.push({ text: sentence, label, file, line });
    }
  }
  return out;
}

export interface LabelsOptions {
  /**
   * 'sorted' (default): ids follow the sorted labels — numerically when every label is a number ("0".."9" get ids
   * 0..9), else by code point — so ids do not depend on which file or line came first.
   * 'first-seen': ids in order of first appearance.
   */
  order?: 'sorted' | 'first-seen';
}

export interface LabelsJson {
  format: 'seq2seq-ts/labels@1';
  labels: string[];
}

export class LabelError extends ToolkitError {
  override name = 'LabelError';
}

/** Class labels ↔ ids 0..C−1 (no reserved ids, unlike the token Vocabulary). */
export class Labels {
  readonly labels: readonly string[];
  private readonly index: Map<string, number>;

  constructor(labels: readonly string[]) {
    const index = new Map<string, number>();
    labels.forEach((l, i) => {
      if (index.has(l)) throw new LabelError(`label "${l}" is listed twice`);
      index.set(l, i);
    });
    this.labels = [...labels];
    this.index = index;
  }

  /** The distinct labels of `labels`, numbered as `order` says. */
  static build(labels: Iterable<string>, options: LabelsOptions = {}): Labels {
    const distinct = [...new Set(labels)];
    if ((options.order ?? 'sorted') === 'sorted') {
      const numeric = distinct.every((l) => /^[+-]?\d+(\.\d+)?$/.test(l));
      distinct.sort(numeric ? (a, b) => Number(a) - Number(b) : (a, b) => (a < b ? -1 : a > b ? 1 : 0));
    }
    return new Labels(distinct);
  }

  get size(): number {
    return this.labels.length;
  }

  has(label: string): boolean {
    return this.index.has(label);
  }

  /** The id of a label; an unknown label is an error (a classifier has no "unknown class"). */
  id(label: string): number {
    const i = this.index.get(label);
    if (i === undefined) throw new LabelError(`unknown label "${label}" (known: ${this.labels.join(', ')})`);
    return i;
  }

  label(id: number): string {
    const l = this.labels[id];
    if (l === undefined) throw new LabelError(`class id ${id} is outside 0..${this.size - 1}`);
    return l;
  }

  /** Ids of read examples; an unknown label is reported at its file and line. */
  encode(examples: readonly { label?: string | undefined; file: string; line: number }[]): number[] {
    return examples.map((e) => {
      if (e.label === undefined) throw new CorpusError(e.file, e.line, 'has no label');
      const i = this.index.get(e.label);
      if (i === undefined)
        throw new CorpusError(
          e.file,
          e.line,
          `label "${e.label}" is not one of the model's labels (${this.labels.join(', ')})`,
        );
      return i;
    });
  }

  toJSON(): LabelsJson {
    return { format: 'seq2seq-ts/labels@1', labels: [...this.labels] };
  }

  static fromJSON(json: unknown, source = 'labels'): Labels {
    const j = json as Partial<LabelsJson> | null;
    if (j === null || typeof j !== 'object' || j.format !== 'seq2seq-ts/labels@1' || !Array.isArray(j.labels)) {
      throw new LabelError(
        `${source}: not a seq2seq-ts label list (expected {"format":"seq2seq-ts/labels@1","labels":[...]})`,
      );
    }
    if (!j.labels.every((l) => typeof l === 'string')) throw new LabelError(`${source}: labels must be strings`);
    return new Labels(j.labels);
  }
}

export class CrossValidationError extends ToolkitError {
  override name = 'CrossValidationError';
}

/**
 * K-fold cross-validation: positions shuffled with the seed and cut into k folds of (nearly) equal size; fold i is
 * the test part of split i, and `valid` of the remaining examples (a fraction of all examples, or a count) are held
 * out for validation (early stopping, choosing options), the first ones in the shuffled order. Every example is tested
 * exactly once; every split keeps the input's order.
 */
export function crossValidationSplits<T>(
  items: readonly T[],
  options: { folds: number; valid: number; seed: number },
): { train: T[]; valid: T[]; test: T[] }[] {
  const n = items.length;
  const k = options.folds;
  if (!(Number.isInteger(k) && k >= 2 && k <= n))
    throw new CrossValidationError(`folds must be a whole number from 2 to the ${n} examples, got ${k}`);
  const nValid = options.valid < 1 ? Math.round(options.valid * n) : options.valid;
  if (!(Number.isInteger(nValid) && nValid >= 0))
    throw new CrossValidationError(
      `the validation share must be a fraction in [0, 1) or a count, got ${options.valid}`,
    );
  const order = new Rng(options.seed).shuffle(Array.from({ length: n }, (_, i) => i));
  return Array.from({ length: k }, (_, f) => {
    const [from, to] = [Math.floor((f * n) / k), Math.floor(((f + 1) * n) / k)];
    if (nValid > n - (to - from) - 1)
      throw new CrossValidationError(
        `${nValid} validation examples leave no training examples beside a test fold of ${to - from}`,
      );
    const which = new Uint8Array(n); // 0 train, 1 valid, 2 test
    for (let j = from; j < to; j++) which[order[j]!] = 2;
    const rest = [...order.slice(0, from), ...order.slice(to)];
    for (let j = 0; j < nValid; j++) which[rest[j]!] = 1;
    const out = { train: [] as T[], valid: [] as T[], test: [] as T[] };
    items.forEach((item, i) => (which[i] === 0 ? out.train : which[i] === 1 ? out.valid : out.test).push(item));
    return out;
  });
}
