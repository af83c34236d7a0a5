import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SectionedConfig,
  CustomField,
  ConfigError,
  checkField,
  mergeConfig,
  parseSetExpression,
  leavesOf,
  valueAt,
  changedKeys,
  pickDefined,
  schemaOf,
  sequenceLossSectionProblem,
  TRAINING_SCHEMA,
  SEQUENCE_LOSS_SCHEMA,
} from '../../src/train/config.js';
import { DEFAULT_TRAINING_OPTIONS, type TrainingOptions } from '../../src/train/options.js';
import { DEFAULT_SEQUENCE_LOSS, type SequenceLossOptions } from '../../src/loss/sequenceLoss.js';

interface ToyConfig {
  data: { files: string[]; lags: number[]; limit?: number; kind: 'a' | 'b' };
  model: { hiddenSize: number; cell: { kind: string; peepholes: boolean } };
  training: TrainingOptions;
  loss: Omit<SequenceLossOptions, 'steps'>;
}

const toy = new SectionedConfig<ToyConfig>({
  sections: {
    data: { files: 'string[]', lags: 'integer[]', limit: 'integer', kind: ['a', 'b'] },
    model: schemaOf({ hiddenSize: 8, cell: { kind: 'gru', peepholes: false } }),
    training: TRAINING_SCHEMA,
    loss: SEQUENCE_LOSS_SCHEMA,
  },
  defaults: {
    data: { files: [], lags: [], kind: 'a' },
    model: { hiddenSize: 8, cell: { kind: 'gru', peepholes: false } },
    training: DEFAULT_TRAINING_OPTIONS,
    loss: DEFAULT_SEQUENCE_LOSS,
  },
  problem: sequenceLossSectionProblem,
});

const file = (text: string): string => {
  const p = join(mkdtempSync(join(tmpdir(), 'train-config-')), 'run.json');
  writeFileSync(p, text);
  return p;
};

describe('SectionedConfig', () => {
  it('resolves defaults ← file ← flags ← --set, deep-merging nested objects and replacing lists', async () => {
    const f = await toy.readFile(
      file(JSON.stringify({ data: { files: ['a.txt', 'b.txt'], lags: [1] }, model: { cell: { kind: 'lstm' } } })),
    );
    const config = toy.resolve([
      f,
      { data: { lags: [12] } },
      toy.parseSet('model.cell.peepholes=true'),
      toy.parseSet('training.schedule.kind=cosine'),
    ]);
    expect(config.data).toEqual({ files: ['a.txt', 'b.txt'], lags: [12], kind: 'a' });
    expect(config.model).toEqual({ hiddenSize: 8, cell: { kind: 'lstm', peepholes: true } });
    expect(config.training).toEqual({ ...DEFAULT_TRAINING_OPTIONS, schedule: { kind: 'cosine' } });
    expect(toy.sectionNames).toEqual(['data', 'model', 'training', 'loss']);
  });

  it('names the source and the full key path of a bad key or value, in one line', async () => {
    const bad = file('{"model": {"cell": {"knid": "gru"}}}');
    await expect(toy.readFile(bad)).rejects.toThrow(`${bad}: unknown key "model.cell.knid" (known: kind, peepholes)`);
    expect(() => toy.check({ data: { files: 'a.txt' } }, 'flags')).toThrow(
      'flags: "data.files" must be a list of strings, got "a.txt"',
    );
    expect(() => toy.check({ data: { lags: [1, 1.5] } }, 'flags')).toThrow(
      '"data.lags" must be a list of integers, got [1,1.5]',
    );
    expect(() => toy.check({ data: { kind: 'c' } }, 'x')).toThrow('x: "data.kind" must be one of "a", "b", got "c"');
    expect(() => toy.check({ validation: {} }, 'x')).toThrow(
      'x: unknown section "validation" (known: data, model, training, loss)',
    );
    expect(() => toy.check([], 'x')).toThrow(
      'x: a config must be a JSON object with sections data, model, training, loss',
    );
    expect(() => toy.parseSet('training.steps=many')).toThrow(
      '--set training.steps=many: "training.steps" must be an integer, got "many"',
    );
    expect(() => toy.check({ loss: { softmax: 'sampled', labelSmoothing: 0.1 } }, 'f')).toThrow(
      /^f: loss: label smoothing/,
    );
    expect(() => toy.resolve([{ loss: { softmax: 'sampled' } }, { loss: { labelSmoothing: 0.1 } }])).toThrow(
      /^loss: label smoothing/,
    );
    await expect(toy.readFile(file('{'))).rejects.toThrow(/not valid JSON/);
    await expect(toy.readFile('/nonexistent/run.json')).rejects.toThrow('/nonexistent/run.json: cannot read (ENOENT)');
    for (const e of [() => toy.check({ data: { x: 1 } }, 'f'), () => toy.parseSet('nope')]) {
      expect(e).toThrow(ConfigError);
      try {
        e();
      } catch (err) {
        expect((err as Error).message).not.toContain('\n');
      }
    }
  });

  it('checks own keys only: prototype names are unknown keys and pollute nothing', () => {
    for (const key of ['constructor', '__proto__', 'toString']) {
      expect(() => toy.check(JSON.parse(`{"model": {"${key}": 1}}`), 'f')).toThrow(`unknown key "model.${key}"`);
      expect(() => toy.check(JSON.parse(`{"${key}": {}}`), 'f')).toThrow(`unknown section "${key}"`);
    }
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('the pieces', () => {
  it('parseSetExpression reads JSON values, else strings, and needs section.key=value', () => {
    expect(parseSetExpression('model.cell.kind=lstm')).toEqual({ model: { cell: { kind: 'lstm' } } });
    expect(parseSetExpression('data.lags=[1,12]')).toEqual({ data: { lags: [1, 12] } });
    expect(parseSetExpression('data.name="3"')).toEqual({ data: { name: '3' } });
    expect(parseSetExpression('a.b=x=y')).toEqual({ a: { b: 'x=y' } });
    expect(() => parseSetExpression('=1')).toThrow(/expected section.key=value/);
    expect(() => parseSetExpression('steps=1')).toThrow(/must be section.key/);
    expect(() => parseSetExpression('a..b=1')).toThrow(/must be section.key/);
  });

  it('checkField: custom fields, numbers that are not finite, integers', () => {
    const even = new CustomField('must be even', (v) => typeof v === 'number' && v % 2 === 0);
    expect(() => checkField(2, even, 'x', 'w')).not.toThrow();
    expect(() => checkField(3, even, 'x', 'w')).toThrow('w: "x" must be even, got 3');
    expect(() => checkField(Infinity, 'number', 'x', 'w')).toThrow(/must be a number/);
    expect(() => checkField(1.5, 'integer', 'x', 'w')).toThrow(/must be an integer/);
    expect(() => checkField('true', 'boolean', 'x', 'w')).toThrow(/must be true or false/);
  });

  it('mergeConfig, leavesOf, valueAt, changedKeys, pickDefined', () => {
    const base = { a: { b: [1, 2], c: 1 } };
    expect(mergeConfig(base, { a: { b: [3], d: undefined } })).toEqual({ a: { b: [3], c: 1 } });
    expect(base.a.b).toEqual([1, 2]);
    expect(leavesOf({ training: { steps: 5, schedule: { kind: 'cosine' } }, data: { files: ['x'] } })).toEqual([
      ['training.steps', 5],
      ['training.schedule.kind', 'cosine'],
      ['data.files', ['x']],
    ]);
    expect(valueAt({ a: { b: 2 } }, 'a.b')).toBe(2);
    expect(valueAt({ a: { b: 2 } }, 'a.constructor')).toBeUndefined();
    const saved = { training: { steps: 10, learningRate: 0.1 }, model: { hiddenSize: 8 } };
    const layers = [
      { training: { steps: 20 }, model: { hiddenSize: 8 } },
      { model: { hiddenSize: 16 } },
      { model: { hiddenSize: 16 } },
    ];
    expect(changedKeys(saved, layers, (k) => k === 'training.steps')).toEqual(['model.hiddenSize']);
    expect(pickDefined({ a: 1, b: undefined, c: false })).toEqual({ a: 1, c: false });
  });
});
