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

const tmp = (): string => mkdtempSync(join(tmpdir(), 'forecast-cli-'));
const fast = ['--steps', '30', '--eval-every', '15', '--hidden', '16', '--batch-size', '16', '--quiet'];

describe('translate forecast', () => {
  it('train on a CSV → eval against the baselines with an SVG plot → predict; a non-numeric value names file, line and column', async () => {
    const dir = tmp();
    const n = 96;
    const csv = [
      'month,passengers',
      ...Array.from({ length: n }, (_, t) => `m${t},${(100 + t + 30 * Math.sin((2 * Math.PI * t) / 12)).toFixed(2)}`),
    ];
    writeFileSync(join(dir, 'series.csv'), csv.join('\n') + '\n');
    const out = join(dir, 'fc');
    const t = await cli([
      'forecast',
      'train',
      '--csv',
      join(dir, 'series.csv'),
      '--test',
      '12',
      '--window',
      '12',
      '--horizon',
      '1',
      '--out',
      out,
      '--learning-rate',
      '0.01',
      ...fast,
    ]);
    expect(t.code).toBe(0);
    expect(t.stderr).toMatch(/data: 72 training windows/);
    const svg = join(dir, 'plot.svg');
    const evalArgs = ['forecast', 'eval', '--model', out, '--csv', join(dir, 'series.csv'), '--test', '12'];
    const e = await cli([...evalArgs, '--season', '12', '--plot', svg]);
    expect(e.code).toBe(0);
    for (const name of ['model', 'naive \\(last value\\)', 'seasonal naive \\(12\\)', 'linear AR\\(12\\), horizon 1'])
      expect(e.stdout).toMatch(new RegExp(`${name}\\s+[\\d.]+`));
    expect(readFileSync(svg, 'utf8')).toMatch(/^<svg[\s\S]*seasonal naive[\s\S]*<\/svg>\s*$/);
    // A --plot that names the CSV itself is refused before anything runs: the chart would replace the data.
    const csvBefore = readFileSync(join(dir, 'series.csv'), 'utf8');
    const onCsv = await cli([...evalArgs, '--plot', join(dir, 'series.csv')]);
    expect(onCsv.code).toBe(1);
    expect(onCsv.stderr).toMatch(
      /--plot .*series\.csv is the --csv file .*series\.csv: writing there would replace it\n$/,
    );
    expect(readFileSync(join(dir, 'series.csv'), 'utf8')).toBe(csvBefore);
    const p = await cli(['forecast', 'predict', '--model', out, '--csv', join(dir, 'series.csv'), '--steps', '3']);
    expect(p.code).toBe(0);
    expect(p.stdout).toMatch(/^step,passengers\n1,[\d.-]+\n2,[\d.-]+\n3,[\d.-]+\n$/);
    // Written a window at a time: 500 steps are one header and 500 numbered rows, the first three as before.
    const long = await cli(['forecast', 'predict', '--model', out, '--csv', join(dir, 'series.csv'), '--steps', '500']);
    expect(long.code).toBe(0);
    const rows = long.stdout.trimEnd().split('\n');
    expect(rows).toHaveLength(501);
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(rows.slice(0, 4).join('\n') + '\n').toBe(p.stdout);
    // A series shorter than the window names its file.
    writeFileSync(
      join(dir, 'short.csv'),
      readFileSync(join(dir, 'series.csv'), 'utf8').split('\n').slice(0, 4).join('\n'),
    );
    const short = await cli(['forecast', 'predict', '--model', out, '--csv', join(dir, 'short.csv')]);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(
      /translate: error: .*short\.csv: the series has 3 rows, fewer than the model's window of \d+\n$/,
    );
    const bad = await cli([
      'forecast',
      'train',
      '--csv',
      join(fixtures, 'series.csv'),
      '--columns',
      'Sales',
      '--out',
      join(dir, 'w'),
      ...fast,
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /translate: error: .*series\.csv: 3 training rows are too few for a window of 12 raw rows/,
    );
    writeFileSync(join(dir, 'nan.csv'), 'month,value\nm1,1\nm2,oops\n');
    const nan = await cli(['forecast', 'train', '--csv', join(dir, 'nan.csv'), '--out', join(dir, 'v'), ...fast]);
    expect(nan.code).toBe(1);
    expect(nan.stderr).toMatch(/nan\.csv:3: column "value" is "oops", not a number/);
  });

  it('eval --synthetic sines --plot writes the first test windows with what followed and the forecast (issue 23)', async () => {
    const dir = tmp();
    const out = join(dir, 'sines');
    expect(
      (
        await cli([
          'forecast',
          'train',
          '--synthetic',
          'sines',
          '--out',
          out,
          '--steps',
          '10',
          '--eval-every',
          '10',
          '--hidden',
          '8',
          '--batch-size',
          '16',
          '--quiet',
        ])
      ).code,
    ).toBe(0);
    // The curves name the loss for what it is: an MSE, not nats per token.
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(
      /data-quantity="loss \(scaled units²\)"[\s\S]*>training loss \(MSE\)</,
    );
    const svg = join(dir, 'sines.svg');
    const e = await cli(['forecast', 'eval', '--synthetic', 'sines', '--model', out, '--plot', svg]);
    expect(e.code).toBe(0);
    expect(e.stdout).toContain(`plot: ${svg}`);
    const text = readFileSync(svg, 'utf8');
    expect([...text.matchAll(/<g class="panel"/g)]).toHaveLength(3);
    expect(text).toMatch(/class="legend"[^>]*>model forecast</);
  });

  it('--select chooses by rolling origin on the training rows; --seeds reports mean ± sd and paired differences with the baselines', async () => {
    const dir = tmp();
    const rng = new Rng(5);
    const csv = [
      'month,passengers',
      ...Array.from(
        { length: 84 },
        (_, t) =>
          `m${t},${(100 * Math.exp(0.01 * t) * (1 + 0.2 * Math.sin((2 * Math.PI * t) / 12)) + rng.uniform(-3, 3)).toFixed(2)}`,
      ),
    ];
    writeFileSync(join(dir, 'series.csv'), csv.join('\n') + '\n');
    const out = join(dir, 'sel');
    const t = await cli([
      'forecast',
      'train',
      '--csv',
      join(dir, 'series.csv'),
      '--test',
      '12',
      '--window',
      '6',
      '--select',
      '--budget-minutes',
      '5',
      '--origins',
      '2',
      '--origin-step',
      '6',
      '--seeds',
      '2',
      '--out',
      out,
      '--steps',
      '4',
      '--eval-every',
      '4',
      '--hidden',
      '4',
      '--batch-size',
      '8',
      '--quiet',
    ]);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/origins at rows 54, 60; RMSE of each fold, mean/);
    expect(t.stdout).toMatch(/← selected/);
    expect(t.stdout).toMatch(
      /selected: .*mean rolling-origin RMSE [\d.]+; the best linear model alone: .*AR\(6\) alone/,
    );
    expect(t.stdout).toMatch(/seed 1: RMSE of the last 12 rows \(passengers\) [\d.]+\nseed 2:|seed 2: RMSE/);
    const m = /test RMSE over 2 seeds: ([\d.]+) ± ([\d.]+)/.exec(t.stdout)!;
    const seeds = [...t.stdout.matchAll(/seed \d: RMSE of the last 12 rows \(passengers\) ([\d.]+)/g)].map((x) =>
      Number(x[1]),
    );
    expect(Number(m[1])).toBeCloseTo((seeds[0]! + seeds[1]!) / 2, 1);
    expect(t.stdout).toMatch(
      /vs seasonal naive \(12\)\s+[\d.]+: model − baseline [+-][\d.]+ \(standard error [\d.]+\)/,
    );
    expect(existsSync(join(out, 'seed-2', 'model.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'selection.json'), 'utf8')).candidates.length).toBe(72);
  });
});

describe('translate forecast train: --config, --set, --resume', () => {
  it('trains from a config file with a --set override, saves the effective config, resumes to more steps; bad keys are one-line errors', async () => {
    const dir = tmp();
    const csv = [
      'month,value',
      ...Array.from({ length: 48 }, (_, t) => `m${t},${(50 + t + 10 * Math.sin((2 * Math.PI * t) / 12)).toFixed(2)}`),
    ];
    writeFileSync(join(dir, 'series.csv'), csv.join('\n') + '\n');
    writeFileSync(
      join(dir, 'run.json'),
      JSON.stringify({
        data: { csv: join(dir, 'series.csv'), test: 6, window: 6, batchSize: 8, power: 'log' },
        model: { hiddenSize: 4 },
        training: { steps: 2, evalEvery: 2, learningRate: 0.01 },
      }),
    );
    const out = join(dir, 'fc');
    const t = await cli([
      'forecast',
      'train',
      '--config',
      join(dir, 'run.json'),
      '--set',
      'data.differences=[1]',
      '--out',
      out,
      '--quiet',
    ]);
    expect(t.stderr).not.toMatch(/error/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/training completed at step 2/);
    expect(t.stdout).toMatch(/seed 1: RMSE of the last 6 rows \(value\) [\d.]+/);
    const saved = () => JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).training.config.config;
    expect(saved()).toMatchObject({
      data: { csv: join(dir, 'series.csv'), test: 6, window: 6, power: 'log', differences: [1] },
      model: { hiddenSize: 4, horizon: 1, mode: 'vector' },
      training: { steps: 2, metric: 'mse' },
    });
    const r = await cli(['forecast', 'train', '--out', out, '--resume', '--steps', '3', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/resuming .* at step 2/);
    expect(r.stdout).toMatch(/training completed at step 3/);
    expect(saved().training.steps).toBe(3);

    const both = await cli([
      'forecast',
      'train',
      '--csv',
      join(dir, 'series.csv'),
      '--log',
      '--box-cox',
      '--out',
      join(dir, 'x'),
    ]);
    expect(both.code).toBe(1);
    expect(both.stderr).toBe('translate: error: --log and --box-cox both choose the power transform: give one\n');
    const set = await cli([
      'forecast',
      'train',
      '--csv',
      join(dir, 'series.csv'),
      '--set',
      'data.differences=12',
      '--out',
      join(dir, 'x'),
    ]);
    expect(set.code).toBe(1);
    expect(set.stderr).toBe(
      'translate: error: --set data.differences=12: "data.differences" must be a list of integers, got 12\n',
    );
    const none = await cli(['forecast', 'train', '--out', join(dir, 'x')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^translate: error: give a series: --csv FILE \(or --synthetic sines\)\n/);
    // A model field out of range is the config's, not the CSV's: named as it is, not after the series file.
    const hidden = await cli([
      'forecast',
      'train',
      '--csv',
      join(dir, 'series.csv'),
      '--set',
      'model.hiddenSize=0',
      '--out',
      join(dir, 'x'),
    ]);
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toMatch(/^(backend: .*\n)?translate: error: hiddenSize must be an integer ≥ 1, got 0\n$/);
    expect(existsSync(join(dir, 'x'))).toBe(false);
  });
});
