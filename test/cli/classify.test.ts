import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/random.js';
import { runCli } from '../helpers/cli.js';

/** Runs the CLI from source (tsx), on wasm. */
const cli = (args: string[], input?: string) => runCli(args, { input, timeout: 90_000 });

const tmp = (): string => mkdtempSync(join(tmpdir(), 'classify-cli-'));
const fast = ['--steps', '30', '--eval-every', '15', '--hidden', '16', '--batch-size', '16', '--quiet'];

describe('translate classify', () => {
  it('train on TSV → predict from stdin → eval on the held-out part with baselines; a line without a tab names file and line', async () => {
    const dir = tmp();
    const rng = new Rng(2);
    const rows = Array.from({ length: 240 }, () => {
      const pos = rng.next() < 0.5;
      return `${['the', 'film', 'was', 'plot'][rng.int(0, 3)]} ${pos ? 'good' : 'bad'} ${['indeed', 'really', 'yes'][rng.int(0, 2)]}\t${pos ? 'pos' : 'neg'}`;
    });
    writeFileSync(join(dir, 'data.tsv'), rows.join('\n') + '\n');
    const out = join(dir, 'clf');
    const t = await cli([
      'classify',
      'train',
      '--train',
      join(dir, 'data.tsv'),
      '--out',
      out,
      '--pooling',
      'max',
      '--learning-rate',
      '0.03',
      ...fast,
    ]);
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/192 training, 24 validation, 24 test examples/);
    expect(t.stdout).toMatch(/test \(best model, 24 held-out examples\): accuracy [\d.]+%/);
    const p = await cli(['classify', 'predict', '--model', join(out, 'best')], 'a good film\nbad plot\n');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^pos\t0\.\d{4}\nneg\t0\.\d{4}\n$/);
    // A line over the input bound costs that line (an empty output line, named on stderr, exit 1), not the run: the
    // run used to stop at it with nothing written. The same from a file, named by file and line.
    const huge = 'x'.repeat((1 << 20) + 10);
    const h = await cli(['classify', 'predict', '--model', join(out, 'best')], `a good film\n${huge}\nbad plot\n`);
    expect(h.code).toBe(1);
    expect(h.stdout).toMatch(/^pos\t0\.\d{4}\n\nneg\t0\.\d{4}\n$/);
    expect(h.stderr).toMatch(/classify: stdin line 2: longer than 1048576 bytes, not classified\n/);
    writeFileSync(join(dir, 'huge.txt'), `${huge}\na good film\n`);
    const hf = await cli(['classify', 'predict', '--model', join(out, 'best'), join(dir, 'huge.txt')]);
    expect(hf.code).toBe(1);
    expect(hf.stdout).toMatch(/^\npos\t0\.\d{4}\n$/);
    expect(hf.stderr).toContain(`classify: ${join(dir, 'huge.txt')}:1: longer than 1048576 bytes, not classified`);
    const e = await cli([
      'classify',
      'eval',
      '--model',
      join(out, 'best'),
      '--part',
      'test',
      '--baselines',
      join(dir, 'data.tsv'),
    ]);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/the test part \(24 examples/);
    expect(e.stdout).toMatch(/true\\pred\s+neg\s+pos/);
    expect(e.stdout).toMatch(/majority class .*accuracy [\d.]+%/);
    expect(e.stdout).toMatch(/bag-of-words logistic regression .*accuracy [\d.]+%/);
    writeFileSync(join(dir, 'bad.tsv'), 'fine text\tpos\nno tab here\n');
    const bad = await cli(['classify', 'train', '--train', join(dir, 'bad.tsv'), '--out', join(dir, 'y'), ...fast]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.tsv:2: has no tab/);
  });

  it('--seeds runs each seed on its own split, --folds tests every example once; both report mean ± sd and the paired difference with logistic regression', async () => {
    const dir = tmp();
    const rng = new Rng(3);
    const rows = Array.from({ length: 120 }, () => {
      const pos = rng.next() < 0.5;
      return `${['the', 'film', 'was'][rng.int(0, 2)]} ${pos ? 'good' : 'bad'}\t${pos ? 'pos' : 'neg'}`;
    });
    writeFileSync(join(dir, 'data.tsv'), rows.join('\n') + '\n');
    const s = await cli([
      'classify',
      'train',
      '--train',
      join(dir, 'data.tsv'),
      '--out',
      join(dir, 'seeds'),
      '--seeds',
      '2',
      '--pooling',
      'attention',
      '--embedding-keep',
      '0.9',
      '--learning-rate',
      '0.03',
      ...fast,
    ]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/over 2 runs \(2 seeds, each on its own split\), mean ± sd:/);
    const tests = [
      ...s.stdout.matchAll(
        /accuracy ([\d.]+)%, macro-F1 [\d.]+%; bag-of-words logistic regression on the same split ([\d.]+)%/g,
      ),
    ];
    expect(tests).toHaveLength(2);
    const mean = (tests.reduce((a, m) => a + Number(m[1]), 0) / 2).toFixed(2);
    expect(s.stdout).toContain(`test accuracy (best model)         ${mean} ±`);
    expect(s.stdout).toMatch(
      /bag-of-words logistic regression\s+[\d.]+ ± [\d.]+%; model − baseline [+-][\d.]+ points, standard error [\d.]+/,
    );
    expect(existsSync(join(dir, 'seeds', 'seed-2', 'best', 'model.json'))).toBe(true);
    const f = await cli([
      'classify',
      'train',
      '--train',
      join(dir, 'data.tsv'),
      '--out',
      join(dir, 'folds'),
      '--folds',
      '3',
      '--learning-rate',
      '0.03',
      ...fast,
    ]);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/over 3 runs \(3-fold cross-validation × 1 seed\)/);
    expect([...f.stdout.matchAll(/test \(best model, 40 held-out examples\)/g)]).toHaveLength(3);
  });

  it('feature sequences: a step with the wrong number of features is an error at its line', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.csv'), 'label,sequence\n1,0 1;1 0\n0,0 1;1\n');
    const bad = await cli([
      'classify',
      'train',
      '--format',
      'features',
      '--train',
      join(dir, 'bad.csv'),
      '--out',
      join(dir, 'z'),
      ...fast,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.csv:3: step 2 has 1 feature, expected 2/);
  });
});

describe('translate classify train: --config, --set, --resume', () => {
  it('trains from a config file with a --set override, saves the effective config, resumes to more steps; bad keys are one-line errors', async () => {
    const dir = tmp();
    const rng = new Rng(6);
    const rows = Array.from({ length: 60 }, () => {
      const pos = rng.next() < 0.5;
      return `${['the', 'film'][rng.int(0, 1)]} ${pos ? 'good' : 'bad'}\t${pos ? 'pos' : 'neg'}`;
    });
    writeFileSync(join(dir, 'data.tsv'), rows.join('\n') + '\n');
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify({
        data: { train: [join(dir, 'data.tsv')], batchSize: 8, testSplit: 0 },
        model: { hiddenSize: 8, embeddingSize: 4, pooling: 'mean' },
        training: { steps: 2, evalEvery: 2, learningRate: 0.02 },
      }),
    );
    const out = join(dir, 'clf');
    const t = await cli([
      'classify',
      'train',
      '--config',
      join(dir, 'run.json'),
      '--set',
      'model.pooling=max',
      '--out',
      out,
      '--quiet',
    ]);
    expect(t.stderr).not.toMatch(/error/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/training completed at step 2/);
    expect(t.stderr).toMatch(/1×gru 8 units, max pooling/);
    const saved = () => JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training.config.config;
    expect(saved()).toMatchObject({
      data: { train: [join(dir, 'data.tsv')], batchSize: 8, testSplit: 0, format: 'tsv' },
      model: { hiddenSize: 8, embeddingSize: 4, pooling: 'max' },
      training: { steps: 2, metric: 'accuracy' },
      validation: { seeds: 1, folds: 1 },
    });
    const r = await cli(['classify', 'train', '--out', out, '--resume', '--steps', '4', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/resuming .* at step 2/);
    expect(r.stdout).toMatch(/training completed at step 4/);
    expect(saved().training.steps).toBe(4);
    const seeds = await cli(['classify', 'train', '--out', out, '--resume', '--seeds', '2']);
    expect(seeds.code).toBe(1);
    expect(seeds.stderr).toMatch(
      /^translate: error: --resume continues the run with its saved configuration; .*\(got validation\.seeds\)\n$/,
    );

    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ validation: { folds: '3' } }));
    const bad = await cli([
      'classify',
      'train',
      '--config',
      join(dir, 'bad.json'),
      '--train',
      join(dir, 'data.tsv'),
      '--out',
      join(dir, 'x'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `translate: error: ${join(dir, 'bad.json')}: "validation.folds" must be an integer, got "3"\n`,
    );
    const section = await cli([
      'classify',
      'train',
      '--train',
      join(dir, 'data.tsv'),
      '--set',
      'loss.softmax=full',
      '--out',
      join(dir, 'x'),
    ]);
    expect(section.code).toBe(1);
    expect(section.stderr).toBe(
      'translate: error: --set loss.softmax=full: unknown section "loss" (known: data, model, training, validation)\n',
    );
  });
});
