import { describe, it, expect } from 'vitest';
import { Command } from 'commander';
import {
  addClassifyTrainFlags,
  addDataFlags,
  classifyFlagsToConfig,
  classifySavedConfig,
  type ClassifyTrainFlags,
} from '../../src/cli/classifyFlags.js';
import { ConfigError } from '../../src/train/config.js';

const command = (): Command => new Command('t').exitOverride().configureOutput({ writeErr: () => undefined });
const base = { set: [], out: 'runs/x' };

describe('classify flags', () => {
  it('classifyFlagsToConfig: only the flags given, each in its section; --seed seeds data, model and training', () => {
    expect(classifyFlagsToConfig(base)).toEqual({ data: {}, model: {}, training: {}, validation: {} });
    expect(
      classifyFlagsToConfig({ ...base, train: ['a.tsv'], pooling: 'max', seed: 2, folds: 3, embedding: 8 }),
    ).toEqual({
      data: { train: ['a.tsv'], seed: 2 },
      model: { pooling: 'max', embeddingSize: 8, seed: 2 },
      training: { seed: 2 },
      validation: { folds: 3 },
    });
    expect(classifyFlagsToConfig({ ...base, cell: 'lstm', bidirectional: true }).model).toEqual({
      bidirectional: true,
      cell: { kind: 'lstm' },
    });
  });

  it('classifyFlagsToConfig: a value the config rejects is a config error naming the flags and the key', () => {
    const bad = { ...base, pooling: 'sum' as never };
    expect(() => classifyFlagsToConfig(bad)).toThrow(ConfigError);
    expect(() => classifyFlagsToConfig(bad)).toThrow(
      'command-line flags: "model.pooling" must be one of "final", "mean", "max", "attention", got "sum"',
    );
  });

  it("classifySavedConfig: a checkpoint's { config }, or the { flags } of older runs, else null", () => {
    const config = { data: { train: ['a'] } };
    expect(classifySavedConfig({ config })).toBe(config);
    expect(classifySavedConfig({ flags: { train: ['a'], hidden: 4 } })).toEqual({
      data: { train: ['a'] },
      model: { hiddenSize: 4 },
      training: {},
      validation: {},
    });
    expect(classifySavedConfig('x')).toBeNull();
    expect(classifySavedConfig({})).toBeNull();
  });

  it('addDataFlags: defaults for eval, none for train (a config file stands) but shown in the help', () => {
    const evalFlags = addDataFlags(command(), true);
    evalFlags.parse([], { from: 'user' });
    expect(evalFlags.opts()).toEqual({ format: 'tsv', validSplit: 0.1, testSplit: 0.1 });
    const trainFlags = addDataFlags(command(), false);
    trainFlags.parse([], { from: 'user' });
    expect(trainFlags.opts()).toEqual({});
    expect(trainFlags.options.find((o) => o.long === '--format')?.description).toBe(
      'tsv (text<TAB>label) or features (CSV label,sequence) (default: tsv)',
    );
    expect(() => addDataFlags(command(), false).parse(['--test-split', '-1'], { from: 'user' })).toThrow(
      /--test-split must be a number ≥ 0/,
    );
  });

  it('addClassifyTrainFlags: parses the model flags; a bad value names its flag', () => {
    const c = addClassifyTrainFlags(command());
    c.parse(['--train', 'a.tsv', 'b.tsv', '--pooling', 'attention', '--embedding-keep', '0.5', '--layers', '2'], {
      from: 'user',
    });
    expect(c.opts<ClassifyTrainFlags>()).toMatchObject({
      train: ['a.tsv', 'b.tsv'],
      pooling: 'attention',
      embeddingKeep: 0.5,
      layers: 2,
    });
    expect(() => addClassifyTrainFlags(command()).parse(['--embedding-keep', '0'], { from: 'user' })).toThrow(
      /--embedding-keep must be a keep probability in \(0, 1\]/,
    );
    expect(() => addClassifyTrainFlags(command()).parse(['--max-vocab', '4'], { from: 'user' })).toThrow(
      /--max-vocab must be an integer ≥ 5/,
    );
  });
});
