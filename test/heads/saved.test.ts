import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { saveHead, loadHead, withSavedWeights } from '../../src/heads/saved.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from '../../src/heads/forecaster/forecaster.js';

beforeAll(useTestBackend);

const build = (hiddenSize: number) => new Forecaster({ ...DEFAULT_FORECASTER_CONFIG, inputSize: 1, targets: 1, hiddenSize, seed: 3 });

describe('saved heads', () => {
  it('saveHead → loadHead gives the same weights and the extra', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'saved-head-'));
    const f = build(4);
    await saveHead(dir, 'forecaster', f, { note: 'x' });
    const { model, extra } = await loadHead<typeof f.config, { note: string }, Forecaster>(dir, 'forecaster', (c) => new Forecaster(c));
    expect(extra).toEqual({ note: 'x' });
    expect(Array.from(model.params.serialize().data)).toEqual(Array.from(f.params.serialize().data));
    model.dispose();
    f.dispose();
  });

  it('withSavedWeights disposes the new model when the weights do not fit: a failed load leaks no tensors', async () => {
    const f = build(4);
    const { manifest, data } = f.params.serialize();
    const json = { weights: { file: 'w.bin', sha256: '', manifest } };
    const before = tf.memory().numTensors;
    expect(() => withSavedWeights(build(5), json, data, 'here/model.json')).toThrow(/here\/model\.json/);
    expect(tf.memory().numTensors).toBe(before);
    const ok = withSavedWeights(build(4), json, data, 'here/model.json');
    expect(Array.from(ok.params.serialize().data)).toEqual(Array.from(data));
    ok.dispose();
    f.dispose();
  });
});
