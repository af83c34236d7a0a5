import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/random.js';
import { runCli, repoRoot } from '../helpers/cli.js';

const root = repoRoot;
const fixtures = join(root, 'test/data/fixtures');

/** Runs the CLI from source (tsx), on wasm. */
const cli = (args: string[], input?: string) => runCli(args, { input, timeout: 90_000 });

const tmp = (): string => mkdtempSync(join(tmpdir(), 'heads-cli-'));
const fast = ['--steps', '30', '--eval-every', '15', '--hidden', '16', '--batch-size', '16', '--quiet'];

describe('translate lm', () => {
  it('train → generate → score (with the unigram baseline); a missing training file is a clear error', () => {
    const dir = tmp();
    const rng = new Rng(1);
    const lines = Array.from({ length: 200 }, () => 'abcdefghij'.slice(rng.int(0, 4), rng.int(6, 10)));
    writeFileSync(join(dir, 'train.txt'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'valid.txt'), lines.slice(0, 20).join('\n') + '\n');
    const out = join(dir, 'lm');
    const t = cli(['lm', 'train', '--train', join(dir, 'train.txt'), '--tokenizer', 'char', '--out', out, '--learning-rate', '0.02', ...fast]);
    expect(t.stderr).toMatch(/vocabulary 14 \(char\)/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/training completed at step 30/);
    expect(existsSync(join(out, 'curves.svg'))).toBe(true);
    const g = cli(['lm', 'generate', '--model', out, '--prompt', 'abc', '--count', '2', '--temperature', '0.5', '--top-k', '3', '--max-length', '5']);
    expect(g.code).toBe(0);
    const samples = g.stdout.trimEnd().split('\n');
    expect(samples).toHaveLength(2);
    samples.forEach((s) => expect(s.startsWith('abc')).toBe(true));
    const s = cli(['lm', 'score', '--model', out, '--unigram', join(dir, 'train.txt'), join(dir, 'valid.txt')]);
    expect(s.code).toBe(0);
    const model = Number(/model perplexity ([\d.]+)/.exec(s.stdout)![1]);
    const unigram = Number(/unigram baseline .* perplexity ([\d.]+)/.exec(s.stdout)![1]);
    expect(model).toBeLessThan(unigram);
    const bad = cli(['lm', 'train', '--train', join(dir, 'missing.txt'), '--out', join(dir, 'x'), ...fast]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/translate: error: .*missing\.txt/);
  });
});

describe('translate classify', () => {
  it('train on TSV → predict from stdin → eval on the held-out part with baselines; a line without a tab names file and line', () => {
    const dir = tmp();
    const rng = new Rng(2);
    const rows = Array.from({ length: 240 }, () => {
      const pos = rng.next() < 0.5;
      return `${['the', 'film', 'was', 'plot'][rng.int(0, 3)]} ${pos ? 'good' : 'bad'} ${['indeed', 'really', 'yes'][rng.int(0, 2)]}\t${pos ? 'pos' : 'neg'}`;
    });
    writeFileSync(join(dir, 'data.tsv'), rows.join('\n') + '\n');
    const out = join(dir, 'clf');
    const t = cli(['classify', 'train', '--train', join(dir, 'data.tsv'), '--out', out, '--pooling', 'max', '--learning-rate', '0.03', ...fast]);
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/192 training, 24 validation, 24 test examples/);
    expect(t.stdout).toMatch(/test \(best model, 24 held-out examples\): accuracy [\d.]+%/);
    const p = cli(['classify', 'predict', '--model', join(out, 'best')], 'a good film\nbad plot\n');
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^pos\t0\.\d{4}\nneg\t0\.\d{4}\n$/);
    const e = cli(['classify', 'eval', '--model', join(out, 'best'), '--part', 'test', '--baselines', join(dir, 'data.tsv')]);
    expect(e.code).toBe(0);
    expect(e.stdout).toMatch(/the test part \(24 examples/);
    expect(e.stdout).toMatch(/true\\pred\s+neg\s+pos/);
    expect(e.stdout).toMatch(/majority class .*accuracy [\d.]+%/);
    expect(e.stdout).toMatch(/bag-of-words logistic regression .*accuracy [\d.]+%/);
    writeFileSync(join(dir, 'bad.tsv'), 'fine text\tpos\nno tab here\n');
    const bad = cli(['classify', 'train', '--train', join(dir, 'bad.tsv'), '--out', join(dir, 'y'), ...fast]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.tsv:2: has no tab/);
  });

  it('--seeds runs each seed on its own split, --folds tests every example once; both report mean ± sd and the paired difference with logistic regression', () => {
    const dir = tmp();
    const rng = new Rng(3);
    const rows = Array.from({ length: 120 }, () => {
      const pos = rng.next() < 0.5;
      return `${['the', 'film', 'was'][rng.int(0, 2)]} ${pos ? 'good' : 'bad'}\t${pos ? 'pos' : 'neg'}`;
    });
    writeFileSync(join(dir, 'data.tsv'), rows.join('\n') + '\n');
    const s = cli(['classify', 'train', '--train', join(dir, 'data.tsv'), '--out', join(dir, 'seeds'), '--seeds', '2', '--pooling', 'attention', '--embedding-keep', '0.9', '--learning-rate', '0.03', ...fast]);
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/over 2 runs \(2 seeds, each on its own split\), mean ± sd:/);
    const tests = [...s.stdout.matchAll(/accuracy ([\d.]+)%, macro-F1 [\d.]+%; bag-of-words logistic regression on the same split ([\d.]+)%/g)];
    expect(tests).toHaveLength(2);
    const mean = (tests.reduce((a, m) => a + Number(m[1]), 0) / 2).toFixed(2);
    expect(s.stdout).toContain(`test accuracy (best model)         ${mean} ±`);
    expect(s.stdout).toMatch(/bag-of-words logistic regression\s+[\d.]+ ± [\d.]+%; model − baseline [+-][\d.]+ points, standard error [\d.]+/);
    expect(existsSync(join(dir, 'seeds', 'seed-2', 'best', 'model.json'))).toBe(true);
    const f = cli(['classify', 'train', '--train', join(dir, 'data.tsv'), '--out', join(dir, 'folds'), '--folds', '3', '--learning-rate', '0.03', ...fast]);
    expect(f.code).toBe(0);
    expect(f.stdout).toMatch(/over 3 runs \(3-fold cross-validation × 1 seed\)/);
    expect([...f.stdout.matchAll(/test \(best model, 40 held-out examples\)/g)]).toHaveLength(3);
  });

  it('feature sequences: a step with the wrong number of features is an error at its line', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.csv'), 'label,sequence\n1,0 1;1 0\n0,0 1;1\n');
    const bad = cli(['classify', 'train', '--format', 'features', '--train', join(dir, 'bad.csv'), '--out', join(dir, 'z'), ...fast]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.csv:3: step 2 has 1 feature, expected 2/);
  });
});

describe('translate forecast', () => {
  it('train on a CSV → eval against the baselines with an SVG plot → predict; a non-numeric value names file, line and column', () => {
    const dir = tmp();
    const n = 96;
    const csv = ['month,passengers', ...Array.from({ length: n }, (_, t) => `m${t},${(100 + t + 30 * Math.sin((2 * Math.PI * t) / 12)).toFixed(2)}`)];
    writeFileSync(join(dir, 'series.csv'), csv.join('\n') + '\n');
    const out = join(dir, 'fc');
    const t = cli(['forecast', 'train', '--csv', join(dir, 'series.csv'), '--test', '12', '--window', '12', '--horizon', '1', '--out', out, '--learning-rate', '0.01', ...fast]);
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/data: 72 training windows/);
    const svg = join(dir, 'plot.svg');
    const e = cli(['forecast', 'eval', '--model', out, '--csv', join(dir, 'series.csv'), '--test', '12', '--season', '12', '--plot', svg]);
    expect(e.code).toBe(0);
    for (const name of ['model', 'naive \\(last value\\)', 'seasonal naive \\(12\\)', 'linear AR\\(12\\), horizon 1']) expect(e.stdout).toMatch(new RegExp(`${name}\\s+[\\d.]+`));
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*seasonal naive[\s\S]*<\/svg>\s*$/);
    const p = cli(['forecast', 'predict', '--model', out, '--csv', join(dir, 'series.csv'), '--steps', '3']);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^step,passengers\n1,[\d.-]+\n2,[\d.-]+\n3,[\d.-]+\n$/);
    const bad = cli(['forecast', 'train', '--csv', join(fixtures, 'series.csv'), '--columns', 'Sales', '--out', join(dir, 'w'), ...fast]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/translate: error: .*series\.csv: 3 training rows are too few for a window of 12 raw rows/);
    writeFileSync(join(dir, 'nan.csv'), 'month,value\nm1,1\nm2,oops\n');
    const nan = cli(['forecast', 'train', '--csv', join(dir, 'nan.csv'), '--out', join(dir, 'v'), ...fast]);
    expect(nan.code).toBe(1);
    expect(nan.stderr).toMatch(/nan\.csv:3: column "value" is "oops", not a number/);
  });

  it('eval --synthetic sines --plot writes the first test windows with what followed and the forecast (issue 23)', () => {
    const dir = tmp();
    const out = join(dir, 'sines');
    expect(cli(['forecast', 'train', '--synthetic', 'sines', '--out', out, '--steps', '10', '--eval-every', '10', '--hidden', '8', '--batch-size', '16', '--quiet']).code).toBe(0);
    // The curves name the loss for what it is: an MSE, not nats per token.
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/data-quantity="loss \(scaled units²\)"[\s\S]*>training loss \(MSE\)</);
    const svg = join(dir, 'sines.svg');
    const e = cli(['forecast', 'eval', '--synthetic', 'sines', '--model', out, '--plot', svg]);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain(`plot: ${svg}`);
    const text = readFileSync(svg, 'utf8');
    expect([...text.matchAll(/<g class="panel"/g)]).toHaveLength(3);
    expect(text).toMatch(/class="legend"[^>]*>model forecast</);
  });

  it('--select chooses by rolling origin on the training rows; --seeds reports mean ± sd and paired differences with the baselines', () => {
    const dir = tmp();
    const rng = new Rng(5);
    const csv = ['month,passengers', ...Array.from({ length: 84 }, (_, t) => `m${t},${(100 * Math.exp(0.01 * t) * (1 + 0.2 * Math.sin((2 * Math.PI * t) / 12)) + rng.uniform(-3, 3)).toFixed(2)}`)];
    writeFileSync(join(dir, 'series.csv'), csv.join('\n') + '\n');
    const out = join(dir, 'sel');
    const t = cli(['forecast', 'train', '--csv', join(dir, 'series.csv'), '--test', '12', '--window', '6', '--select', '--budget-minutes', '5', '--origins', '2', '--origin-step', '6',
      '--seeds', '2', '--out', out, '--steps', '4', '--eval-every', '4', '--hidden', '4', '--batch-size', '8', '--quiet']);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/origins at rows 54, 60; RMSE of each fold, mean/);
    expect(t.stdout).toMatch(/← selected/);
    expect(t.stdout).toMatch(/selected: .*mean rolling-origin RMSE [\d.]+; the best linear model alone: .*AR\(6\) alone/);
    expect(t.stdout).toMatch(/seed 1: RMSE of the last 12 rows \(passengers\) [\d.]+\nseed 2:|seed 2: RMSE/);
    const m = /test RMSE over 2 seeds: ([\d.]+) ± ([\d.]+)/.exec(t.stdout)!;
    const seeds = [...t.stdout.matchAll(/seed \d: RMSE of the last 12 rows \(passengers\) ([\d.]+)/g)].map((x) => Number(x[1]));
    expect(Number(m[1])).toBeCloseTo((seeds[0]! + seeds[1]!) / 2, 1);
    expect(t.stdout).toMatch(/vs seasonal naive \(12\)\s+[\d.]+: model − baseline [+-][\d.]+ \(standard error [\d.]+\)/);
    expect(existsSync(join(out, 'seed-2', 'model.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'selection.json'), 'utf8')).candidates.length).toBe(72);
  });
});
