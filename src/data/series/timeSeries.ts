// Time series for the forecaster: a CSV reader (a date or index column and one or more value columns), the windowing
// of a series into training examples, and the chronological split (never shuffled: the test months must come after
// the training months, or the forecaster sees the future).
//
// Layout, shared with src/heads/sequenceInput.ts: a window is step-major, [steps · F] with the F input columns of step
// t at t·F … t·F+F−1; a target is [k · targets], the k future steps, each with the target columns.
//
// The CSV dialect is the common one (RFC 4180 without line breaks inside quotes): comma-separated fields, a field in
// double quotes may hold commas, and "" inside quotes is one quote character.
import { CorpusError, readLines } from '../readers.js';
import { ToolkitError } from '../../errors.js';

export interface TimeSeries {
  /** Name of the index column (e.g. "Date"), or null when the file has none and rows are numbered from 0. */
  indexName: string | null;
  /** The index column's value of each row, as written (e.g. "1949-01"); row numbers when there is no index column. */
  index: string[];
  /** Names of the value columns, in the order of `columns`. */
  names: string[];
  /** One array per value column, each with one value per row, in file order. */
  columns: Float64Array[];
}

export interface TimeSeriesCsvOptions {
  /** The index (date) column, by header name or 0-based position; null when every column is a value (default 0). */
  index?: string | number | null;
  /** Value columns, by header name or 0-based position (default: every column but the index). */
  values?: readonly (string | number)[];
}

export class TimeSeriesError extends ToolkitError {
  override name = 'TimeSeriesError';
}

/**
 * Splits one CSV line into fields. `where` names the file and line in the error for an unterminated quote or text
 * after a closing quote.
 */
export function splitCsvLine(text: string, file: string, line: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0)
          throw new CorpusError(file, line, `field ${fields.length + 1} opens a quote that is not closed on this line`);
        value += text.slice(i, close);
        if (text[close + 1] === '"') {
          value += '"';
          i = close + 2;
          continue;
        }
        i = close + 1;
        break;
      }
      if (i < text.length && text[i] !== ',')
        throw new CorpusError(file, line, `field ${fields.length + 1} has text after its closing quote`);
      fields.push(value);
    } else {
      const comma = text.indexOf(',', i);
      const end = comma < 0 ? text.length : comma;
      fields.push(text.slice(i, end).trim());
      i = end;
    }
    if (i >= text.length) return fields;
    i++; // past the comma; a trailing comma means one more, empty, field
    if (i === text.length) {
      fields.push('');
      return fields;
    }
  }
}

/** Parses a numeric field strictly: Number("") is 0 and parseFloat("12abc") is 12, both of which would hide bad data. */
export function parseNumber(field: string): number | null {
  const s = field.trim();
  if (s.length === 0) return null;
  const x = Number(s);
  return Number.isFinite(x) ? x : null;
}

/** Resolves a column given by name or position against the header; errors point at the header line. */
export function resolveColumn(header: readonly string[], column: string | number, file: string): number {
  if (typeof column === 'number') {
    if (!Number.isInteger(column) || column < 0 || column >= header.length) {
      throw new CorpusError(
        file,
        1,
        `column ${column} does not exist (the header has ${header.length} columns: ${header.join(', ')})`,
      );
    }
    return column;
  }
  const i = header.indexOf(column);
  if (i < 0) throw new CorpusError(file, 1, `no column named "${column}" in the header (${header.join(', ')})`);
  return i;
}

/** Reads a CSV with a header line into a TimeSeries (plain or gzip). Blank lines are skipped. */
export async function readTimeSeriesCsv(file: string, options: TimeSeriesCsvOptions = {}): Promise<TimeSeries> {
  let header: string[] | null = null;
  let indexColumn: number | null = null;
  let valueColumns: number[] = [];
  const index: string[] = [];
  const values: number[][] = [];
  for await (const { text, line } of readLines(file)) {
    if (text.trim().length === 0) continue;
    const fields = splitCsvLine(text, file, line);
    if (header === null) {
      header = fields;
      const indexOption = options.index === undefined ? 0 : options.index;
      indexColumn = indexOption === null ? null : resolveColumn(header, indexOption, file);
      valueColumns = options.values
        ? options.values.map((c) => resolveColumn(header!, c, file))
        : header.map((_, i) => i).filter((i) => i !== indexColumn);
      if (valueColumns.length === 0)
        throw new CorpusError(file, 1, 'no value columns: the header names only the index column');
      if (indexColumn !== null && valueColumns.includes(indexColumn))
        throw new CorpusError(file, 1, `column "${header[indexColumn]}" is both the index and a value column`);
      values.push(...valueColumns.map(() => []));
      continue;
    }
    if (fields.length !== header.length) {
      throw new CorpusError(
        file,
        line,
        `has ${fields.length} comma-separated field${fields.length === 1 ? '' : 's'}, the header has ${header.length}`,
      );
    }
    index.push(indexColumn === null ? String(index.length) : fields[indexColumn]!);
    valueColumns.forEach((c, j) => {
      const x = parseNumber(fields[c]!);
      if (x === null)
        throw new CorpusError(file, line, `column "${header![c]}" is ${JSON.stringify(fields[c])}, not a number`);
      values[j]!.push(x);
    });
  }
  if (header === null) throw new CorpusError(file, undefined, 'is empty (expected a header line and rows of values)');
  if (index.length === 0) throw new CorpusError(file, undefined, 'has a header but no rows');
  return {
    indexName: indexColumn === null ? null : header[indexColumn]!,
    index,
    names: valueColumns.map((c) => header[c]!),
    columns: values.map((v) => Float64Array.from(v)),
  };
}

/** Rows [from, to) of a series, keeping names and index. */
export function sliceSeries(series: TimeSeries, from: number, to: number): TimeSeries {
  return {
    indexName: series.indexName,
    index: series.index.slice(from, to),
    names: [...series.names],
    columns: series.columns.map((c) => c.slice(from, to)),
  };
}

export interface ChronologicalSplitOptions {
  /** Rows at the start used for training (required). */
  train: number;
  /** Rows at the end held out for testing (default: all rows after train and valid). */
  test?: number;
  /** Rows right after the training rows held out for validation (default 0). */
  valid?: number;
}

/** Splits by position: the first `train` rows, then `valid`, then the last `test`; rows in none of them are left out. */
export function splitChronological(
  series: TimeSeries,
  options: ChronologicalSplitOptions,
): { train: TimeSeries; valid: TimeSeries; test: TimeSeries } {
  const n = series.index.length;
  const { train } = options;
  const valid = options.valid ?? 0;
  const test = options.test ?? n - train - valid;
  for (const [name, count] of [
    ['train', train],
    ['valid', valid],
    ['test', test],
  ] as const) {
    if (!Number.isInteger(count) || count < 0)
      throw new TimeSeriesError(`${name} must be a whole number of rows, got ${count}`);
  }
  if (train + valid + test > n)
    throw new TimeSeriesError(`train (${train}) + valid (${valid}) + test (${test}) is more than the ${n} rows`);
  return {
    train: sliceSeries(series, 0, train),
    valid: sliceSeries(series, train, train + valid),
    test: sliceSeries(series, n - test, n),
  };
}

export interface WindowOptions {
  /** Steps in each input window (required). */
  window: number;
  /** Future values predicted, k (default 1). */
  horizon?: number;
  /**
   * 'vector' (sequence-to-vector): the target is the k values after the window's last step, [k · targets].
   * 'sequence' (sequence-to-sequence): the target holds, at every step t of the window, the k values after t,
   * [window · k · targets] (default 'vector').
   */
  mode?: 'vector' | 'sequence';
  /** Rows between the starts of consecutive windows (default 1). */
  stride?: number;
  /** Columns read as input, by position in `columns` (default all). */
  inputs?: readonly number[];
  /** Columns predicted (default: the same as `inputs`). */
  targets?: readonly number[];
}

export interface WindowExample {
  /** [window · inputs], step-major. */
  input: Float32Array;
  /** 'vector': [k · targets]; 'sequence': [window · k · targets], step-major. */
  target: Float32Array;
  /** Row of the window's first step. */
  start: number;
}

/**
 * Cuts a multi-column series into overlapping windows, keeping only windows whose every target is known (so the
 * last window ends k rows before the series does).
 */
export function makeWindows(columns: readonly ArrayLike<number>[], options: WindowOptions): WindowExample[] {
  const W = options.window;
  const k = options.horizon ?? 1;
  const stride = options.stride ?? 1;
  const mode = options.mode ?? 'vector';
  const inputs = options.inputs ?? columns.map((_, i) => i);
  const targets = options.targets ?? inputs;
  if (columns.length === 0) throw new TimeSeriesError('makeWindows needs at least one column');
  const n = columns[0]!.length;
  if (columns.some((c) => c.length !== n)) throw new TimeSeriesError('makeWindows: columns differ in length');
  for (const [name, v] of [
    ['window', W],
    ['horizon', k],
    ['stride', stride],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new TimeSeriesError(`${name} must be a whole number ≥ 1, got ${v}`);
  }
  for (const c of [...inputs, ...targets])
    if (!(c >= 0 && c < columns.length))
      throw new TimeSeriesError(`column ${c} does not exist (${columns.length} columns)`);
  const F = inputs.length;
  const G = targets.length;
  const out: WindowExample[] = [];
  // Every target must exist: the last step s+W−1 needs rows up to s+W−1+k.
  for (let s = 0; s + W + k <= n; s += stride) {
    const input = new Float32Array(W * F);
    for (let t = 0; t < W; t++) for (let f = 0; f < F; f++) input[t * F + f] = columns[inputs[f]!]![s + t]!;
    const firstTargetStep = mode === 'vector' ? W - 1 : 0;
    const positions = W - firstTargetStep;
    const target = new Float32Array(positions * k * G);
    for (let p = 0; p < positions; p++) {
      const t = s + firstTargetStep + p;
      for (let h = 1; h <= k; h++)
        for (let g = 0; g < G; g++) target[(p * k + (h - 1)) * G + g] = columns[targets[g]!]![t + h]!;
    }
    out.push({ input, target, start: s });
  }
  return out;
}
