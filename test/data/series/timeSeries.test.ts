import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CorpusError } from '../../../src/data/readers.js';
import {
  readTimeSeriesCsv,
  splitCsvLine,
  splitChronological,
  makeWindows,
  TimeSeriesError,
} from '../../../src/data/series/timeSeries.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const airline = path.resolve(here, '../../../../shared/corpora/airline-passengers/airline-passengers.csv');
const fixture = path.join(here, '../fixtures', 'series.csv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'timeseries-test-'));

function csv(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

async function corpusError(promise: Promise<unknown>): Promise<CorpusError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(CorpusError);
    return e as CorpusError;
  }
  throw new Error('expected a CorpusError');
}

describe('splitCsvLine', () => {
  it('keeps commas inside quotes, turns "" into one quote and counts a trailing comma as an empty field', () => {
    expect(splitCsvLine('"a,b",1,"say ""hi"""', 'f', 1)).toEqual(['a,b', '1', 'say "hi"']);
    expect(splitCsvLine('x, y ,', 'f', 1)).toEqual(['x', 'y', '']);
    expect(splitCsvLine('""', 'f', 1)).toEqual(['']);
  });

  it('names file and line for an unclosed quote or text after a closing quote', () => {
    expect(() => splitCsvLine('1,"open', 'data.csv', 7)).toThrow(
      'data.csv:7: field 2 opens a quote that is not closed',
    );
    expect(() => splitCsvLine('"a"b,1', 'data.csv', 3)).toThrow('data.csv:3: field 1 has text after its closing quote');
  });
});

describe('readTimeSeriesCsv', () => {
  it('reads the 144 months of airline passengers with the date column as index', async () => {
    const s = await readTimeSeriesCsv(airline);
    expect(s.indexName).toBe('Date');
    expect(s.names).toEqual(['Count']);
    expect(s.index).toHaveLength(144);
    expect([s.index[0], s.index[143]]).toEqual(['1949-01', '1960-12']);
    expect([s.columns[0]![0], s.columns[0]![1], s.columns[0]![143]]).toEqual([112, 118, 432]);
  });

  it('reads several value columns (quoted numbers, CRLF, blank lines, spaces around a value)', async () => {
    const s = await readTimeSeriesCsv(fixture);
    expect(s.names).toEqual(['Sales', 'Price']);
    expect(s.index).toEqual(['2020-01', '2020-02', '2020-03']);
    expect(Array.from(s.columns[0]!)).toEqual([10, 12, 9]);
    expect(Array.from(s.columns[1]!)).toEqual([1.5, 1.75, 2]);
  });

  it('selects value columns by name or position, and reads files without an index column', async () => {
    const byName = await readTimeSeriesCsv(fixture, { values: ['Price'] });
    expect(byName.names).toEqual(['Price']);
    expect(byName.columns).toHaveLength(1);
    const noIndex = await readTimeSeriesCsv(csv('noindex.csv', 'a,b\n1,2\n3,4\n'), { index: null });
    expect(noIndex.indexName).toBeNull();
    expect(noIndex.index).toEqual(['0', '1']);
    expect(noIndex.columns.map((c) => Array.from(c))).toEqual([
      [1, 3],
      [2, 4],
    ]);
    const byPosition = await readTimeSeriesCsv(csv('pos.csv', 'a,b,when\n1,2,x\n'), { index: 2, values: [1] });
    expect([byPosition.indexName, byPosition.names, byPosition.index]).toEqual(['when', ['b'], ['x']]);
  });

  it('reports a value that is not a number by file, line and column', async () => {
    const file = csv('nan.csv', 'Date,Count\n1949-01,112\n1949-02,12x\n');
    const e = await corpusError(readTimeSeriesCsv(file));
    expect(e.line).toBe(3);
    expect(e.message).toBe(`${file}:3: column "Count" is "12x", not a number`);
    const empty = await corpusError(readTimeSeriesCsv(csv('empty-value.csv', 'Date,Count\n1949-01,\n')));
    expect(empty.message).toContain(':2: column "Count" is "", not a number');
  });

  it('reports a row with the wrong number of fields, an unknown column and an empty file', async () => {
    const wrong = await corpusError(readTimeSeriesCsv(csv('wrong.csv', 'Date,Count\n1949-01,112\n1949-02,118,5\n')));
    expect(wrong.message).toContain(':3: has 3 comma-separated fields, the header has 2');
    const unknown = await corpusError(readTimeSeriesCsv(fixture, { values: ['Volume'] }));
    expect(unknown.message).toBe(`${fixture}:1: no column named "Volume" in the header (Date, Sales, Price)`);
    const outside = await corpusError(readTimeSeriesCsv(fixture, { index: 5 }));
    expect(outside.message).toContain(':1: column 5 does not exist');
    const nothing = await corpusError(readTimeSeriesCsv(csv('nothing.csv', '')));
    expect(nothing.message).toContain('is empty');
    const headerOnly = await corpusError(readTimeSeriesCsv(csv('header-only.csv', 'Date,Count\n')));
    expect(headerOnly.message).toContain('has a header but no rows');
  });
});

describe('splitChronological', () => {
  it('takes the first 120 months for training and the last 24 for testing, in order', async () => {
    const { train, valid, test } = splitChronological(await readTimeSeriesCsv(airline), { train: 120, test: 24 });
    expect([train.index.length, valid.index.length, test.index.length]).toEqual([120, 0, 24]);
    expect([train.index.at(-1), test.index[0]]).toEqual(['1958-12', '1959-01']);
    expect(test.columns[0]![0]).toBe(360);
    expect(test.names).toEqual(['Count']);
  });

  it('puts validation rows right after training and refuses more rows than there are', async () => {
    const s = await readTimeSeriesCsv(fixture);
    const split = splitChronological(s, { train: 1, valid: 1 });
    expect([split.train.index, split.valid.index, split.test.index]).toEqual([['2020-01'], ['2020-02'], ['2020-03']]);
    expect(() => splitChronological(s, { train: 2, test: 2 })).toThrow(TimeSeriesError);
    expect(() => splitChronological(s, { train: 1.5 })).toThrow('train must be a whole number of rows');
  });
});

describe('makeWindows', () => {
  const ramp = [1, 2, 3, 4, 5, 6];

  it('sequence-to-vector: each window of 3 with the 2 values after it, only where both are known', () => {
    const w = makeWindows([ramp], { window: 3, horizon: 2 });
    expect(w.map((e) => [Array.from(e.input), Array.from(e.target), e.start])).toEqual([
      [[1, 2, 3], [4, 5], 0],
      [[2, 3, 4], [5, 6], 1],
    ]);
  });

  it('sequence-to-sequence: at every step the next k values', () => {
    const w = makeWindows([[1, 2, 3, 4, 5]], { window: 3, horizon: 2, mode: 'sequence' });
    expect(w).toHaveLength(1);
    // step 0 → 2,3; step 1 → 3,4; step 2 → 4,5
    expect(Array.from(w[0]!.target)).toEqual([2, 3, 3, 4, 4, 5]);
  });

  it('interleaves several input columns step-major and predicts only the target columns', () => {
    const w = makeWindows(
      [
        [1, 2, 3, 4],
        [10, 20, 30, 40],
      ],
      { window: 2, targets: [1] },
    );
    expect(w.map((e) => [Array.from(e.input), Array.from(e.target)])).toEqual([
      [[1, 10, 2, 20], [30]],
      [[2, 20, 3, 30], [40]],
    ]);
  });

  it('steps window starts by the stride and rejects bad sizes', () => {
    expect(makeWindows([ramp], { window: 2, stride: 2 }).map((e) => e.start)).toEqual([0, 2]);
    expect(makeWindows([ramp], { window: 6 })).toEqual([]);
    expect(() => makeWindows([ramp], { window: 0 })).toThrow('window must be a whole number ≥ 1');
    expect(() => makeWindows([ramp, [1, 2]], { window: 2 })).toThrow('columns differ in length');
    expect(() => makeWindows([ramp], { window: 2, targets: [3] })).toThrow('column 3 does not exist');
  });
});
