import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CorpusError, DropTally } from '../../../src/data/readers.js';
import {
  readLabelled,
  Labels,
  LabelError,
  crossValidationSplits,
  CrossValidationError,
} from '../../../src/data/text/labelled.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const sentiment = path.resolve(here, '../../../../shared/corpora/sentiment-sentences');
const fixture = path.join(here, '../fixtures', 'labelled.tsv');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'labelled-test-'));

function tsv(name: string, text: string): string {
  const file = path.join(tmp, name);
  writeFileSync(file, text);
  return file;
}

describe('readLabelled', () => {
  it('reads the 3,000 sentiment sentences of the three files, trimmed, 1,500 of each label', async () => {
    const files = ['amazon_cells_labelled.txt', 'imdb_labelled.txt', 'yelp_labelled.txt'].map((f) =>
      path.join(sentiment, f),
    );
    const all = await readLabelled(files);
    expect(all).toHaveLength(3000);
    expect(all[1000]).toEqual({
      text: 'A very, very, very slow-moving, aimless movie about a distressed, drifting young man.',
      label: '0',
      file: files[1],
      line: 1,
    });
    expect(all.filter((e) => e.label === '1')).toHaveLength(1500);
    expect(all.every((e) => e.text === e.text.trim())).toBe(true);
  });

  it('skips and counts blank lines, keeps quotes and commas in the text', async () => {
    const dropped = new DropTally();
    const rows = await readLabelled(fixture, { dropped });
    expect(rows.map((r) => [r.text, r.label, r.line])).toEqual([
      ['Great phone, works well.', '1', 1],
      ['Terrible battery.', '0', 2],
      ['It is "okay", I guess.', 'meh', 4],
    ]);
    expect(dropped.toJSON()).toEqual({ empty: 1 });
  });

  it('reports malformed lines by file and line', async () => {
    const noTab = tsv('notab.tsv', 'good\t1\njust text\n');
    await expect(readLabelled(noTab)).rejects.toThrow(`${noTab}:2: has no tab: expected "text<TAB>label"`);
    await expect(readLabelled(tsv('three.tsv', 'a\tb\t1\n'))).rejects.toThrow(
      ':1: has 3 tab-separated columns, expected 2 (text, label)',
    );
    await expect(readLabelled(tsv('nolabel.tsv', 'ok\t1\nfine\t \n'))).rejects.toThrow(
      ':2: the label after the tab is empty',
    );
    await expect(readLabelled(tsv('notext.tsv', '  \t1\n'))).rejects.toBeInstanceOf(CorpusError);
    await expect(readLabelled(path.join(tmp, 'missing.tsv'))).rejects.toThrow('cannot open');
  });

  it('skips a header line when asked', async () => {
    const rows = await readLabelled(tsv('header.tsv', 'text\tlabel\nnice\tpos\n'), { header: true });
    expect(rows.map((r) => r.label)).toEqual(['pos']);
  });
});

describe('Labels', () => {
  it('numbers sorted labels numerically when all are numbers, else by code point', () => {
    expect(Labels.build(['10', '9', '2', '9']).labels).toEqual(['2', '9', '10']);
    expect(Labels.build(['pos', 'neg', 'Neutral']).labels).toEqual(['Neutral', 'neg', 'pos']);
  });

  it('numbers labels in order of first appearance when asked', () => {
    const l = Labels.build(['pos', 'neg', 'pos', 'mixed'], { order: 'first-seen' });
    expect(l.labels).toEqual(['pos', 'neg', 'mixed']);
    expect([l.id('neg'), l.label(2), l.size]).toEqual([1, 'mixed', 3]);
  });

  it('refuses unknown labels and ids, naming file and line for read examples', () => {
    const l = Labels.build(['0', '1']);
    expect(() => l.id('2')).toThrow(LabelError);
    expect(() => l.label(5)).toThrow('class id 5 is outside 0..1');
    expect(l.encode([{ label: '1', file: 'a.tsv', line: 1 }])).toEqual([1]);
    expect(() => l.encode([{ label: 'x', file: 'a.tsv', line: 4 }])).toThrow(
      'a.tsv:4: label "x" is not one of the model\'s labels (0, 1)',
    );
  });

  it('round-trips through JSON', () => {
    const l = Labels.build(['b', 'a'], { order: 'first-seen' });
    const copy = Labels.fromJSON(JSON.parse(JSON.stringify(l)));
    expect(copy.labels).toEqual(['b', 'a']);
    expect(() => Labels.fromJSON({ labels: ['a'] }, 'labels.json')).toThrow('labels.json: not a seq2seq-ts label list');
    expect(() => new Labels(['a', 'a'])).toThrow('listed twice');
  });
});

describe('crossValidationSplits', () => {
  it('tests every example exactly once; train, valid and test of a split are disjoint and cover all', () => {
    const items = Array.from({ length: 23 }, (_, i) => i);
    const splits = crossValidationSplits(items, { folds: 5, valid: 0.1, seed: 3 });
    expect(splits).toHaveLength(5);
    expect(splits.flatMap((s) => s.test).sort((a, b) => a - b)).toEqual(items);
    for (const s of splits) {
      expect([4, 5]).toContain(s.test.length);
      expect(s.valid).toHaveLength(2);
      expect([...s.train, ...s.valid, ...s.test].sort((a, b) => a - b)).toEqual(items);
      expect(s.train).toEqual([...s.train].sort((a, b) => a - b)); // input order kept
    }
    // The same seed gives the same folds, another seed others.
    expect(crossValidationSplits(items, { folds: 5, valid: 0.1, seed: 3 })).toEqual(splits);
    expect(crossValidationSplits(items, { folds: 5, valid: 0.1, seed: 4 })[0]!.test).not.toEqual(splits[0]!.test);
  });

  it('refuses too few examples for the folds or the validation share', () => {
    expect(() => crossValidationSplits([1, 2, 3], { folds: 4, valid: 0, seed: 1 })).toThrow(CrossValidationError);
    expect(() => crossValidationSplits([1, 2, 3, 4], { folds: 2, valid: 2, seed: 1 })).toThrow(
      /leave no training examples/,
    );
  });
});
