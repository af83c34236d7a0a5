import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { measurePipeline } from '../../../src/data/text/throughput.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');

describe('measurePipeline', () => {
  it('times file → batches on Tatoeba and batches every pair', async () => {
    const t = await measurePipeline(`tsv:${path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv')}`, {
      buckets: 'auto',
      batchSize: 50,
    });
    expect(t.pairs).toBe(4500);
    expect(t.batches).toBeGreaterThanOrEqual(90);
    expect(t.pairsPerSecond).toBeGreaterThan(1000);
    expect(t.readSeconds).toBeGreaterThan(0);
  });
});
