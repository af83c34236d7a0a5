import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { averageWeights, AverageError } from '../../src/model/average.js';

const manifest = [
  { name: 'W', shape: [2, 2], offset: 0 },
  { name: 'b', shape: [2], offset: 4 },
];

describe('averageWeights', () => {
  it('is the element-wise mean (property over random weight sets)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.float({ min: -10, max: 10, noNaN: true }), { minLength: 6, maxLength: 6 }), {
          minLength: 1,
          maxLength: 5,
        }),
        (sets) => {
          const avg = averageWeights(sets.map((d, i) => ({ manifest, data: Float32Array.from(d), name: `m${i}` })));
          for (let j = 0; j < 6; j++) {
            const mean = sets.reduce((s, d) => s + Math.fround(d[j]!), 0) / sets.length;
            expect(avg[j]).toBeCloseTo(mean, 5);
          }
        },
      ),
    );
  });

  it('refuses weights of another layout, naming the model', () => {
    const other = [
      { name: 'W', shape: [2, 2], offset: 0 },
      { name: 'c', shape: [2], offset: 4 },
    ];
    expect(() =>
      averageWeights([
        { manifest, data: new Float32Array(6), name: 'a' },
        { manifest: other, data: new Float32Array(6), name: 'b' },
      ]),
    ).toThrow(AverageError);
    expect(() =>
      averageWeights([
        { manifest, data: new Float32Array(6), name: 'a' },
        { manifest, data: new Float32Array(5), name: 'b' },
      ]),
    ).toThrow(/b has other weights/);
    expect(() => averageWeights([])).toThrow(AverageError);
  });
});
