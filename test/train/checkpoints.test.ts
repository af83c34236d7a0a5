import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { saveCheckpoint, readCheckpoint } from '../../src/train/checkpoints.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

describe('readCheckpoint', () => {
  it('an older checkpoint holding a NaN metric (written by JSON as null) resumes without it, instead of passing null on as a number', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-checkpoints-'));
    const params = new Params(new Rng(1));
    params.create('w', [2], { kind: 'zeros' });
    const window = { lossSum: 0, gradNormSum: 0, steps: 0, tokens: 0, seconds: 0 };
    await saveCheckpoint(
      dir,
      { kind: 'toy', config: {}, extra: {} },
      params,
      {
        step: 3,
        options: {},
        config: null,
        rng: [1, 2, 3, 4],
        sampler: null,
        schedule: { current: 1, history: [], stale: 0, decays: 0 },
        tracker: { best: null, bestStep: null, stale: 0 },
        learningRate: 1,
        logWindow: window,
        evalWindow: window,
        skipped: 0,
        lastMetrics: { loss: NaN, bleu: 3 },
      },
      { json: { optimizer: 'adam', momentum: 0, iterations: 3, slots: [] }, data: new Float32Array(0) },
    );
    expect(JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).training.lastMetrics).toEqual({
      loss: null,
      bleu: 3,
    });
    const ck = await readCheckpoint(dir);
    expect(ck.training.lastMetrics).toEqual({ bleu: 3 });
    params.dispose();
  });
});
