// Labelled text for the classifier: a TSV reader of `text \t label` lines (e.g. the UCI sentiment sentences,
// "sentence \t 0/1") and the label vocabulary that turns label strings into class ids and back.
import { CorpusError, DropTally, readLines } from './readers.js';
import { ToolkitError } from '../errors.js';

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
export async function readLabelled(files: string | readonly string[], options: LabelledOptions = {}): Promise<LabelledText[]> {
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
        throw new CorpusError(file, line, fields.length === 1 ? 'has no tab: expected "text<TAB>label"' : `has ${fields.length} tab-separated columns, expected 2 (text, label)`);
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
      if (i === undefined) throw new CorpusError(e.file, e.line, `label "${e.label}" is not one of the model's labels (${this.labels.join(', ')})`);
      return i;
    });
  }

  toJSON(): LabelsJson {
    return { format: 'seq2seq-ts/labels@1', labels: [...this.labels] };
  }

  static fromJSON(json: unknown, source = 'labels'): Labels {
    const j = json as Partial<LabelsJson> | null;
    if (j === null || typeof j !== 'object' || j.format !== 'seq2seq-ts/labels@1' || !Array.isArray(j.labels)) {
      throw new LabelError(`${source}: not a seq2seq-ts label list (expected {"format":"seq2seq-ts/labels@1","labels":[...]})`);
    }
    if (!j.labels.every((l) => typeof l === 'string')) throw new LabelError(`${source}: labels must be strings`);
    return new Labels(j.labels);
  }
}
