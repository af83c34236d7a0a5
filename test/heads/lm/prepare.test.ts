import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { resolveLmConfig } from '../../../src/heads/lm/config.js';
import { prepareLanguageModel, readLmText } from '../../../src/heads/lm/prepare.js';
import { train } from '../../../src/train/loop.js';
import { readCheckpoint } from '../../../src/train/checkpoints.js';

beforeAll(useTestBackend);

const dir = mkdtempSync(join(tmpdir(), 'lm-prepare-'));
const rng = new Rng(3);
writeFileSync(
  join(dir, 'train.txt'),
  Array.from({ length: 50 }, () => 'abcdefg'.slice(rng.int(0, 2), rng.int(4, 7))).join('\n') + '\n\n',
);

describe('prepareLanguageModel', () => {
  it("reads, splits, builds vocabulary and model from the config; the task uses the config's loss", async () => {
    const config = resolveLmConfig([
      {
        data: { train: [join(dir, 'train.txt')], validSplit: 10, batchSize: 4 },
        model: { hiddenSize: 6, embeddingSize: 3 },
        loss: { softmax: 'sampled', numSampled: 3 },
      },
    ]);
    const p = await prepareLanguageModel(config);
    try {
      expect(p.summary).toMatchObject({ trainLines: 40, validLines: 10, vocabulary: 4 + 7, tokenizer: 'char' });
      expect(p.saved).toEqual({ config });
      expect(p.task.options.loss).toEqual(config.loss);
      expect(p.lm.model.config).toMatchObject({ hiddenSize: 6, embeddingSize: 3 });
      // The sampled softmax is the task's own: its training loss differs from the full softmax's.
      const { batch } = p.task.nextBatch();
      const sampled = p.task.model.loss(batch, { training: true, rng: new Rng(1) });
      const full = p.lm.model.loss(batch, { training: true, rng: new Rng(1) });
      expect(sampled.dataSync()[0]).not.toBeCloseTo(full.dataSync()[0]!, 4);
      sampled.dispose();
      full.dispose();
    } finally {
      p.lm.dispose();
    }
  });

  it('resumes from a checkpoint: the saved vocabulary and model, the same data', async () => {
    const config = resolveLmConfig([
      {
        data: { train: [join(dir, 'train.txt')], validSplit: 10, batchSize: 4 },
        model: { hiddenSize: 6, embeddingSize: 3 },
      },
    ]);
    const out = join(dir, 'run');
    const first = await prepareLanguageModel(config);
    await train(first.task, { steps: 2, evalEvery: 2 }, { out, config: first.saved });
    const weights = Array.from(first.lm.model.params.serialize().data);
    first.lm.dispose();
    const checkpoint = await readCheckpoint(out, 'lm');
    expect(checkpoint.training.config).toEqual({ config });
    const again = await prepareLanguageModel(config, checkpoint);
    expect(Array.from(again.lm.model.params.serialize().data)).toEqual(weights);
    again.lm.dispose();
  });

  it('refuses a file with no non-empty lines; limit and a validation file are honoured', async () => {
    writeFileSync(join(dir, 'empty.txt'), '\n \n');
    await expect(readLmText(resolveLmConfig([{ data: { train: [join(dir, 'empty.txt')] } }]))).rejects.toThrow(
      /empty\.txt: no non-empty training lines$/,
    );
    // A split that holds out every line says so.
    const all = resolveLmConfig([{ data: { train: [join(dir, 'train.txt')], validSplit: 0.99999 } }]);
    await expect(readLmText(all)).rejects.toThrow(
      /train\.txt: no non-empty training lines \(\d+ held out by data\.validSplit\)$/,
    );
    const text = await readLmText(
      resolveLmConfig([{ data: { train: [join(dir, 'train.txt')], valid: join(dir, 'train.txt'), limit: 5 } }]),
    );
    expect(text.train).toHaveLength(5);
    expect(text.valid).toHaveLength(50);
  });
});
