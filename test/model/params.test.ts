import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Params, MAX_WEIGHT_VALUES, MAX_MODEL_VALUES } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

describe('Params.derived', () => {
  it('computes once while the weights it reads are unchanged, again after any of them is assigned, and frees it on dispose', () => {
    const start = tf.memory().numTensors;
    const params = new Params(new Rng(1));
    const a = params.create('a', [2, 3], { kind: 'uniform', scale: 1 });
    const b = params.create('b', [3], { kind: 'uniform', scale: 1 });
    let calls = 0;
    const sum = () =>
      tf.tidy(() =>
        params.derived('sum', [a, b], () => {
          calls++;
          return tf.add(a, b);
        }),
      );
    const first = sum();
    const expected = tf.tidy(() => tf.add(a, b).arraySync());
    expect(first.arraySync()).toEqual(expected);
    // Kept across tidy scopes and reused.
    expect(sum()).toBe(first);
    expect(calls).toBe(1);
    const afterFirst = tf.memory().numTensors;

    tf.tidy(() => b.assign(tf.fill([3], 10)));
    const second = sum();
    expect(calls).toBe(2);
    expect(first.isDisposed).toBe(true);
    expect(second.arraySync()).toEqual(tf.tidy(() => tf.add(a, tf.fill([3], 10)).arraySync()));
    // The old value is freed when the new one is made: no growth.
    expect(tf.memory().numTensors).toBe(afterFirst);

    tf.tidy(() => a.assign(tf.zeros([2, 3])));
    expect(sum().arraySync()).toEqual([
      [10, 10, 10],
      [10, 10, 10],
    ]);
    expect(calls).toBe(3);

    params.dispose();
    expect(tf.memory().numTensors).toBe(start);
  });

  it('keeps separate keys apart', () => {
    const params = new Params(new Rng(1));
    const a = params.create('a', [2], { kind: 'zeros' });
    const x = params.derived('x', [a], () => tf.add(a, 1));
    const y = params.derived('y', [a], () => tf.add(a, 2));
    expect(x.arraySync()).toEqual([1, 1]);
    expect(y.arraySync()).toEqual([2, 2]);
    params.dispose();
    expect(x.isDisposed && y.isDisposed).toBe(true);
  });
});

describe('Params.load', () => {
  const make = (): Params => {
    const p = new Params(new Rng(1));
    p.create('a', [2], { kind: 'zeros' });
    p.create('b', [3], { kind: 'zeros' });
    return p;
  };
  const data = Float32Array.of(1, 2, 3, 4, 5);

  it('loads a matching manifest', () => {
    const p = make();
    p.load(
      [
        { name: 'a', shape: [2], offset: 0 },
        { name: 'b', shape: [3], offset: 2 },
      ],
      data,
      'm',
    );
    expect(Array.from(p.get('b').dataSync())).toEqual([3, 4, 5]);
    p.dispose();
  });

  it('checks the whole manifest before touching a weight: a bad later entry leaves the earlier ones unloaded', () => {
    const bad: [string, { name: string; shape: number[]; offset: number }[], RegExp][] = [
      [
        'wrong shape',
        [
          { name: 'a', shape: [2], offset: 0 },
          { name: 'b', shape: [1, 3], offset: 2 },
        ],
        /"b" has shape \[1,3\], the model expects \[3\]/,
      ],
      [
        'twice',
        [
          { name: 'a', shape: [2], offset: 0 },
          { name: 'a', shape: [2], offset: 2 },
        ],
        /"a" appears twice/,
      ],
      [
        'fractional offset',
        [
          { name: 'a', shape: [2], offset: 0 },
          { name: 'b', shape: [3], offset: 1.5 },
        ],
        /"b" has offset 1.5/,
      ],
      [
        'truncated',
        [
          { name: 'a', shape: [2], offset: 0 },
          { name: 'b', shape: [3], offset: 3 },
        ],
        /truncated \(weight "b"\)/,
      ],
      ['missing', [{ name: 'a', shape: [2], offset: 0 }], /weight "b" is missing/],
    ];
    for (const [, manifest, message] of bad) {
      const p = make();
      const before = tf.memory().numTensors;
      expect(() => p.load(manifest, data, 'm')).toThrow(message);
      expect(Array.from(p.get('a').dataSync())).toEqual([0, 0]);
      expect(tf.memory().numTensors).toBe(before);
      p.dispose();
    }
  });
});

describe('Params.create', () => {
  it('with the manifest it will be loaded from, refuses a weight the manifest lacks or shapes differently, before allocating', () => {
    const p = new Params(new Rng(1), { expected: [{ name: 'a', shape: [2, 3], offset: 0 }], source: 'dir/model.json' });
    const before = tf.memory().numTensors;
    expect(() => p.create('a', [1_000_000, 1_000_000], { kind: 'zeros' })).toThrow(
      'dir/model.json: the config makes weight "a" [1000000,1000000], the weights manifest has [2,3]',
    );
    expect(() => p.create('b', [2], { kind: 'zeros' })).toThrow(
      'dir/model.json: the config makes a weight "b" that the weights manifest does not have',
    );
    expect(tf.memory().numTensors).toBe(before);
    p.create('a', [2, 3], { kind: 'zeros' });
    p.dispose();
  });

  it('refuses a weight over MAX_WEIGHT_VALUES or with a shape that is not whole sizes', () => {
    const p = new Params(new Rng(1));
    expect(() => p.create('w', [2 ** 15, 2 ** 14 + 1], { kind: 'zeros' })).toThrow(
      `over the limit of ${MAX_WEIGHT_VALUES}`,
    );
    expect(() => p.create('w', [2.5], { kind: 'zeros' })).toThrow(/not whole sizes/);
    expect(p.count()).toBe(0);
    p.dispose();
  });

  it('refuses the weight that takes the model past maxValues in all (default MAX_MODEL_VALUES), allocating nothing for it', () => {
    expect(MAX_MODEL_VALUES).toBe(2 ** 28);
    const p = new Params(new Rng(1), { maxValues: 100, source: 'cfg.json' });
    p.create('a', [6, 10], { kind: 'zeros' });
    p.create('b', [40], { kind: 'zeros' });
    const before = tf.memory().numTensors;
    expect(() => p.create('c', [1], { kind: 'zeros' })).toThrow(
      'cfg.json: the weights would have more than 100 values in all (101 with "c", weight 3): make the model smaller',
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(p.count()).toBe(100);
    p.dispose();
  });
});

describe('Params.dispose', () => {
  it('frees every weight, and a later use says the weights were disposed rather than naming a missing weight', () => {
    const before = tf.memory().numTensors;
    const p = new Params(new Rng(1), { source: 'runs/x/model.json' });
    p.create('w', [2, 3], { kind: 'uniform', scale: 0.1 });
    expect(() => p.get('nope')).toThrow('no parameter "nope"');
    p.dispose();
    expect(tf.memory().numTensors).toBe(before);
    expect(() => p.get('w')).toThrow('runs/x/model.json: used after dispose(), which freed its weights');
    p.dispose();
  });
});
