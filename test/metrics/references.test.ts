// Reference streams (stream-major, as sacreBLEU takes them) turned into per-sentence lists, with mis-shaped input
// refused (sacreBLEU would silently drop sentences).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { referencesBySentence, MetricInputError } from '../../src/metrics/references.js';
import { ToolkitError } from '../../src/errors.js';
import { fuzzRuns } from '../fuzz/settings.js';

describe('referencesBySentence', () => {
  it('transposes the streams: bySentence[i][k] = references[k][i]', () => {
    expect(
      referencesBySentence(
        ['h0', 'h1'],
        [
          ['a0', 'a1'],
          ['b0', 'b1'],
          ['c0', 'c1'],
        ],
      ),
    ).toEqual([
      ['a0', 'b0', 'c0'],
      ['a1', 'b1', 'c1'],
    ]);
    expect(referencesBySentence(['h'], [['only']])).toEqual([['only']]);
    expect(referencesBySentence([], [[], []])).toEqual([]);
  });

  it('is the transpose for any shape (property), and copies rather than aliases the input', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 }), (n, k) => {
        const hyps = Array.from({ length: n }, (_, i) => `h${i}`);
        const refs = Array.from({ length: k }, (_, s) => Array.from({ length: n }, (_, i) => `r${s}.${i}`));
        const out = referencesBySentence(hyps, refs);
        expect(out).toHaveLength(n);
        out.forEach((row, i) => {
          expect(row).toHaveLength(k);
          row.forEach((r, s) => expect(r).toBe(refs[s]![i]));
          expect(refs).not.toContain(row);
        });
      }),
      fuzzRuns(100),
    );
  });

  it('refuses no streams at all', () => {
    expect(() => referencesBySentence(['h'], [])).toThrow(MetricInputError);
    expect(() => referencesBySentence(['h'], [])).toThrow(
      'need at least one reference stream: references[k][i] is the k-th reference of sentence i',
    );
  });

  it('refuses a stream whose length differs from the hypotheses, naming the stream and both counts', () => {
    const call = (): string[][] =>
      referencesBySentence(
        ['a', 'b', 'c'],
        [
          ['1', '2', '3'],
          ['1', '2'],
        ],
      );
    expect(call).toThrow(MetricInputError);
    expect(call).toThrow(/^reference stream 1 has 2 sentences but there are 3 hypotheses \(/);
    expect(() => referencesBySentence(['a'], [['1', '2']])).toThrow(
      /^reference stream 0 has 2 sentences but there are 1 hypotheses/,
    );
    // A flat list of references for one sentence, instead of one stream per reference, is caught too.
    expect(() => referencesBySentence(['a'], [['x'], ['y'], ['z', 'w']])).toThrow(/reference stream 2 has 2 sentences/);
  });

  it('its error is a user error of the toolkit, one line long', () => {
    let error: unknown;
    try {
      referencesBySentence(['a'], [[]]);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ToolkitError);
    expect((error as Error).name).toBe('MetricInputError');
    expect((error as Error).message).not.toContain('\n');
  });
});
