import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { saveHead, loadHead } from '../../src/heads/saved.js';
import { Forecaster, DEFAULT_FORECASTER_CONFIG } from '../../src/heads/forecaster/forecaster.js';

beforeAll(useTestBackend);

const build = (hiddenSize: number) =>
  new Forecaster({ ...DEFAULT_FORECASTER_CONFIG, inputSize: 1, targets: 1, hiddenSize, seed: 3 });

describe('saved heads', () => {
  it('saveHead → loadHead gives the same weights and the extra', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'saved-head-'));
    const f = build(4);
    await saveHead(dir, 'forecaster', f, { note: 'x' });
    const { model, extra } = await loadHead<typeof f.config, { note: string }, Forecaster>(
      dir,
      'forecaster',
      (c) => new Forecaster(c),
    );
    expect(extra).toEqual({ note: 'x' });
    expect(Array.from(model.params.serialize().data)).toEqual(Array.from(f.params.serialize().data));
    model.dispose();
    f.dispose();
  });
});
