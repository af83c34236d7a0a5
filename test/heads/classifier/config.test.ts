import { describe, it, expect } from 'vitest';
import { CLASSIFIER_CONFIG, resolveClassifierConfig } from '../../../src/heads/classifier/config.js';

describe('classify train config', () => {
  it('has documented defaults: TSV, word tokens, 10 % validation and test, a 64-unit GRU, 2,000 steps by accuracy, one run', () => {
    const c = resolveClassifierConfig([{ data: { train: ['d.tsv'] } }]);
    expect(c.data).toMatchObject({
      format: 'tsv',
      header: false,
      validSplit: 0.1,
      testSplit: 0.1,
      tokenizer: 'word',
      batchSize: 32,
      seed: 1,
    });
    expect(c.model).toMatchObject({
      hiddenSize: 64,
      embeddingSize: 64,
      pooling: 'final',
      layers: 1,
      bidirectional: false,
      cell: { kind: 'gru' },
    });
    expect(c.training).toMatchObject({ steps: 2000, evalEvery: 100, learningRate: 3e-3, metric: 'accuracy' });
    expect(c.validation).toEqual({ seeds: 1, folds: 1 });
  });

  it('checks pooling, sections and the runs; --folds with a validation file is refused', () => {
    expect(() => CLASSIFIER_CONFIG.parseSet('model.pooling=sum')).toThrow(
      '"model.pooling" must be one of "final", "mean", "max", "attention"',
    );
    expect(() => CLASSIFIER_CONFIG.parseSet('loss.softmax=full')).toThrow('unknown section "loss"');
    expect(() => resolveClassifierConfig([{ data: { train: ['d.tsv'] }, validation: { seeds: 0 } }])).toThrow(
      /validation\.seeds and validation\.folds must be ≥ 1/,
    );
    expect(() =>
      resolveClassifierConfig([{ data: { train: ['d.tsv'], valid: 'v.tsv' }, validation: { folds: 3 } }]),
    ).toThrow(/drop --valid/);
    expect(() => resolveClassifierConfig([{}])).toThrow(/no training examples/);
  });
});
