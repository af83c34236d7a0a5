import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../../helpers/backend.js';
import { Rng } from '../../../src/random.js';
import { resolveClassifierConfig } from '../../../src/heads/classifier/config.js';
import {
  planClassifierRuns,
  prepareClassifierRun,
  scoreClassifierRun,
  classifierRunDir,
} from '../../../src/heads/classifier/prepare.js';

beforeAll(useTestBackend);

const dir = mkdtempSync(join(tmpdir(), 'classifier-prepare-'));
const rng = new Rng(5);
writeFileSync(
  join(dir, 'data.tsv'),
  Array.from({ length: 40 }, () => {
    const pos = rng.next() < 0.5;
    return `the ${pos ? 'good' : 'bad'} film\t${pos ? 'pos' : 'neg'}`;
  }).join('\n') + '\n',
);
const data = { train: [join(dir, 'data.tsv')], batchSize: 4 };

describe('classifier runs', () => {
  it('plans one run per seed (seeds offset in data, model and training) or per seed and fold', async () => {
    const seeds = await planClassifierRuns(
      resolveClassifierConfig([{ data: { ...data, seed: 7 }, model: { seed: 7 }, validation: { seeds: 2 } }]),
    );
    expect(seeds.runs.map((r) => [r.name, r.config.data.seed, r.config.model.seed])).toEqual([
      ['seed-7', 7, 7],
      ['seed-8', 8, 8],
    ]);
    expect(classifierRunDir('out', seeds, seeds.runs[1]!)).toBe(join('out', 'seed-8'));
    const folds = await planClassifierRuns(resolveClassifierConfig([{ data, validation: { folds: 4 } }]));
    expect(folds.runs.map((r) => r.name)).toEqual(['seed-1-fold-1', 'seed-1-fold-2', 'seed-1-fold-3', 'seed-1-fold-4']);
    expect(folds.runs.reduce((n, r) => n + r.split.test.length, 0)).toBe(40);
    await expect(
      planClassifierRuns(resolveClassifierConfig([{ data, validation: { seeds: 2 } }]), true),
    ).rejects.toThrow(/--resume continues one run/);
    await expect(planClassifierRuns(resolveClassifierConfig([{ data, validation: { folds: 41 } }]))).rejects.toThrow(
      /data\.tsv: folds must be/,
    );
  });

  it('builds labels, vocabulary, model and task from the config, and scores the run beside the baselines', async () => {
    const config = resolveClassifierConfig([{ data, model: { hiddenSize: 4, embeddingSize: 3, pooling: 'mean' } }]);
    const plan = await planClassifierRuns(config);
    const p = await prepareClassifierRun(plan.runs[0]!, plan);
    try {
      expect(p.classifier.labels.labels).toEqual(['neg', 'pos']);
      expect(p.classifier.model.config).toMatchObject({
        hiddenSize: 4,
        pooling: 'mean',
        classes: 2,
        input: { kind: 'tokens', embeddingSize: 3 },
      });
      expect(p.saved).toEqual({ config });
      expect(p.pretrained).toBeNull();
      const s = scoreClassifierRun(p.classifier, plan.runs[0]!.split, 'tsv');
      for (const x of [s.test, s.testMacroF1, s.majority, s.logistic!]) expect(x).toBeGreaterThanOrEqual(0);
      expect(s.logistic).toBe(1); // "good" / "bad" decide the label
    } finally {
      p.classifier.dispose();
    }
  });

  it('refuses training examples with one label', async () => {
    writeFileSync(join(dir, 'one.tsv'), 'a\tx\nb\tx\nc\tx\n');
    const config = resolveClassifierConfig([{ data: { train: [join(dir, 'one.tsv')], validSplit: 0, testSplit: 0 } }]);
    const plan = await planClassifierRuns(config);
    await expect(prepareClassifierRun(plan.runs[0]!, plan)).rejects.toThrow(/only one label \(x\)/);
  });

  it('says when the split holds out every example', async () => {
    writeFileSync(join(dir, 'two.tsv'), 'a\tx\nb\ty\nc\tx\nd\ty\n');
    const config = resolveClassifierConfig([
      { data: { train: [join(dir, 'two.tsv')], validSplit: 0.5, testSplit: 0.49999 } },
    ]);
    await expect(planClassifierRuns(config)).rejects.toThrow(
      /two\.tsv: no training examples \(4 held out for validation and test\)$/,
    );
  });
});
