// Checkpoint averaging end to end: train --keep-checkpoints keeps the last evaluations, average --last writes a
// model directory that translates.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/random.js';
import { runCli } from '../helpers/cli.js';

const cli = (...a: string[]) => runCli(a, { timeout: 120_000 });

describe('translate train --keep-checkpoints and translate average', () => {
  it('keeps the last N evaluations, leaves foreign files alone, and averages them into a working model', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-average-'));
    const rng = new Rng(3);
    const lines = Array.from({ length: 120 }, () => {
      const words = Array.from({ length: rng.int(1, 4) }, () => `w${rng.int(0, 9)}`);
      return `${words.join(' ')}\t${[...words].reverse().join(' ')}`;
    });
    writeFileSync(join(dir, 'toy.tsv'), lines.join('\n') + '\n');
    const out = join(dir, 'run');
    const train = await cli(
      'train',
      '--corpus',
      join(dir, 'toy.tsv'),
      '--tokenizer',
      'space',
      '--valid-split',
      '20',
      '--embedding',
      '8',
      '--hidden',
      '16',
      '--steps',
      '12',
      '--eval-every',
      '3',
      '--batch-size',
      '16',
      '--decode-sentences',
      '5',
      '--keep-checkpoints',
      '2',
      '--patience',
      '0',
      '--out',
      out,
      '--quiet',
    );
    expect(train.stderr).not.toMatch(/error/);
    expect(train.code).toBe(0);
    expect(readdirSync(join(out, 'evaluations'))).toEqual(['step-0000009', 'step-0000012']);
    const steps = ['step-0000009', 'step-0000012'].map(
      (s) => JSON.parse(readFileSync(join(out, 'evaluations', s, 'model.json'), 'utf8')).training.step,
    );
    expect(steps).toEqual([9, 12]);

    const avg = join(dir, 'avg');
    const r = await cli('average', '--out', avg, '--last', '2', out);
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/averaged 2 models/);
    const t = await cli('translate', '--model', avg, '--beam', '2', 'w1 w2 w3');
    expect(t.code).toBe(0);
    expect(t.stdout.trim().length).toBeGreaterThan(0);

    // The average never goes over a model: neither one of its own (whose weights it would replace) nor any other,
    // even one whose model.json this toolkit did not write; nothing there changes.
    const first = join(out, 'evaluations', 'step-0000009');
    const before = readFileSync(join(first, 'model.json'), 'utf8');
    const onInput = await cli('average', '--out', first, first, join(out, 'evaluations', 'step-0000012'));
    expect(onInput.code).toBe(1);
    expect(onInput.stderr).toMatch(
      /--out .*step-0000009 is one of the models being averaged: choose another directory\n$/,
    );
    expect(readFileSync(join(first, 'model.json'), 'utf8')).toBe(before);
    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'model.json'), '{"mine": true}\n');
    const onForeign = await cli('average', '--out', foreign, '--last', '2', out);
    expect(onForeign.code).toBe(1);
    expect(onForeign.stderr).toMatch(
      /foreign already holds a model \(model\.json\): choose another output directory\n$/,
    );
    expect(readFileSync(join(foreign, 'model.json'), 'utf8')).toBe('{"mine": true}\n');
    expect(readdirSync(foreign)).toEqual(['model.json']);

    // A model of another architecture is refused by name.
    const bad = await cli('average', '--out', join(dir, 'bad'), join(out, 'best'), join(dir, 'nowhere'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/nowhere: no such model directory/);
  });
});
