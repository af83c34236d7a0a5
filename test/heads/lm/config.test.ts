import { describe, it, expect } from 'vitest';
import { LM_CONFIG, resolveLmConfig, LM_MODEL_DEFAULTS } from '../../../src/heads/lm/config.js';
import { DEFAULT_LANGUAGE_MODEL_CONFIG } from '../../../src/heads/lm/languageModel.js';

describe('lm train config', () => {
  it('has documented defaults: char tokens, a 256-unit GRU, 3,000 steps by perplexity, the full softmax', () => {
    const c = resolveLmConfig([{ data: { train: ['t.txt'] } }]);
    expect(c.data).toEqual({
      train: ['t.txt'],
      validSplit: 0.05,
      tokenizer: 'char',
      lowercase: false,
      minCount: 1,
      batchSize: 32,
      seed: 1,
    });
    expect(c.model).toEqual(LM_MODEL_DEFAULTS);
    expect(c.model).toMatchObject({ embeddingSize: 64, hiddenSize: 256, cell: { kind: 'gru' } });
    expect(c.training).toMatchObject({
      steps: 3000,
      evalEvery: 500,
      learningRate: 3e-3,
      metric: 'perplexity',
      earlyStopping: { patience: 0 },
    });
    expect(c.loss.softmax).toBe('full');
    expect(c.validation).toEqual({ batchSize: 128 });
  });

  it('knows every model field the library has, and refuses others and a missing training file', () => {
    for (const [k, v] of Object.entries(DEFAULT_LANGUAGE_MODEL_CONFIG))
      expect(() => LM_CONFIG.parseSet(`model.${k}=${JSON.stringify(v)}`)).not.toThrow();
    expect(() => LM_CONFIG.parseSet('model.vocabSize=10')).toThrow('unknown key "model.vocabSize"');
    expect(() => LM_CONFIG.parseSet('data.train=a.txt')).toThrow('"data.train" must be a list of strings');
    expect(() => LM_CONFIG.check({ loss: { softmax: 'sampled', labelSmoothing: 0.1 } }, 'f')).toThrow(
      /f: loss: label smoothing/,
    );
    expect(() => resolveLmConfig([])).toThrow(/no training text/);
  });
});
