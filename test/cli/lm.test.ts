import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/random.js';
import { runCli } from '../helpers/cli.js';
import { useTestBackend } from '../helpers/backend.js';
import { TextLanguageModel } from '../../src/heads/lm/textLanguageModel.js';

/** Runs the CLI from source (tsx), on wasm. */
const cli = (args: string[], input?: string) => runCli(args, { input, timeout: 90_000 });

const tmp = (): string => mkdtempSync(join(tmpdir(), 'lm-cli-'));
const fast = ['--steps', '30', '--eval-every', '15', '--hidden', '16', '--batch-size', '16', '--quiet'];

describe('translate lm', () => {
  it('train → generate → score (with the unigram baseline); a missing training file is a clear error', async () => {
    const dir = tmp();
    const rng = new Rng(1);
    const lines = Array.from({ length: 200 }, () => 'abcdefghij'.slice(rng.int(0, 4), rng.int(6, 10)));
    writeFileSync(join(dir, 'train.txt'), lines.join('\n') + '\n');
    writeFileSync(join(dir, 'valid.txt'), lines.slice(0, 20).join('\n') + '\n');
    const out = join(dir, 'lm');
    const t = await cli([
      'lm',
      'train',
      '--train',
      join(dir, 'train.txt'),
      '--tokenizer',
      'char',
      '--out',
      out,
      '--learning-rate',
      '0.02',
      ...fast,
    ]);
    expect(t.stderr).toMatch(/vocabulary 14 \(char\)/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/training completed at step 30/);
    expect(existsSync(join(out, 'curves.svg'))).toBe(true);
    const g = await cli([
      'lm',
      'generate',
      '--model',
      out,
      '--prompt',
      'abc',
      '--count',
      '2',
      '--temperature',
      '0.5',
      '--top-k',
      '3',
      '--max-length',
      '5',
    ]);
    expect(g.code).toBe(0);
    const samples = g.stdout.trimEnd().split('\n');
    expect(samples).toHaveLength(2);
    samples.forEach((s) => expect(s.startsWith('abc')).toBe(true));
    // Two prompts 70 times each: written a batch of 64 at a time, prompt by prompt; sample i is the same whatever
    // batch it ran in (here beside 63 others, and alone with the first two).
    const sample = (prompts: string[], count: number) =>
      cli(['lm', 'generate', '--model', out, '--prompt', ...prompts, '--count', String(count), '--max-length', '5']);
    const many = await sample(['abc', 'de'], 70);
    expect(many.code).toBe(0);
    const written = many.stdout.trimEnd().split('\n');
    expect(written).toHaveLength(140);
    written.forEach((l, i) => expect(l.startsWith(i < 70 ? 'abc' : 'de')).toBe(true));
    expect(new Set(written).size).toBeGreaterThan(10);
    expect((await sample(['abc'], 2)).stdout.trimEnd().split('\n')).toEqual(written.slice(0, 2));
    const s = await cli(['lm', 'score', '--model', out, '--unigram', join(dir, 'train.txt'), join(dir, 'valid.txt')]);
    expect(s.code).toBe(0);
    const model = Number(/model perplexity ([\d.]+)/.exec(s.stdout)![1]);
    const unigram = Number(/unigram baseline .* perplexity ([\d.]+)/.exec(s.stdout)![1]);
    expect(model).toBeLessThan(unigram);
    // More lines than one scoring chunk (4,096), and one over the reader's bound: read and scored a chunk at a time,
    // the sums equal one pass over every line (the library's score), and the long line is left out, named, exit 1.
    const manyLines = Array.from({ length: 5000 }, (_, i) => lines[i % lines.length]!);
    writeFileSync(
      join(dir, 'manyLines.txt'),
      [manyLines[0], 'x'.repeat((1 << 20) + 1), ...manyLines.slice(1)].join('\n') + '\n',
    );
    const m = await cli([
      'lm',
      'score',
      '--model',
      out,
      '--unigram',
      join(dir, 'train.txt'),
      join(dir, 'manyLines.txt'),
    ]);
    expect(m.code).toBe(1);
    expect(m.stderr).toContain(`lm score: ${join(dir, 'manyLines.txt')}:2: longer than 1048576 bytes, not scored`);
    expect(m.stdout).toMatch(/: 5000 lines, 1 over 1048576 bytes left out, \d+ predicted tokens/);
    await useTestBackend();
    const lm = await TextLanguageModel.load(out);
    const whole = lm.score(manyLines);
    lm.dispose();
    expect(Number(/model perplexity ([\d.]+)/.exec(m.stdout)![1])).toBeCloseTo(whole.perplexity, 3);
    expect(m.stdout).toContain(`${whole.tokens} predicted tokens`);
    const bad = await cli(['lm', 'train', '--train', join(dir, 'missing.txt'), '--out', join(dir, 'x'), ...fast]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/translate: error: .*missing\.txt/);
  });
});

const savedConfig = (dir: string) => JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')).training.config;

describe('translate lm train: --config, --set, --resume', () => {
  it('trains from a config file with --set overrides, saves the effective config, resumes from it to more steps', async () => {
    const dir = tmp();
    const rng = new Rng(4);
    writeFileSync(
      join(dir, 'train.txt'),
      Array.from({ length: 60 }, () => 'abcdefgh'.slice(rng.int(0, 3), rng.int(5, 8))).join('\n') + '\n',
    );
    const config = {
      data: { train: [join(dir, 'train.txt')], tokenizer: 'char', batchSize: 8, validSplit: 10 },
      model: { hiddenSize: 8, embeddingSize: 4 },
      training: { steps: 2, evalEvery: 2, learningRate: 0.01 },
      loss: { softmax: 'sampled', numSampled: 5 },
    };
    writeFileSync(join(dir, 'run.json'), JSON.stringify(config));
    const out = join(dir, 'lm');
    const t = await cli([
      'lm',
      'train',
      '--config',
      join(dir, 'run.json'),
      '--set',
      'training.steps=3',
      '--set',
      'model.cell.kind=lstm',
      '--out',
      out,
      '--quiet',
    ]);
    expect(t.stderr).not.toMatch(/error/);
    expect(t.code).toBe(0);
    expect(t.stdout).toMatch(/training completed at step 3/);
    expect(t.stderr).toMatch(/model: lstm 8 units, embeddings 4, .* weights; loss: sampled softmax \(5 sampled\)/);
    const saved = savedConfig(out).config;
    expect(saved.data).toMatchObject({
      train: [join(dir, 'train.txt')],
      tokenizer: 'char',
      batchSize: 8,
      validSplit: 10,
    });
    expect(saved.model).toMatchObject({ hiddenSize: 8, embeddingSize: 4, cell: { kind: 'lstm' } });
    expect(saved.training).toMatchObject({ steps: 3, evalEvery: 2, learningRate: 0.01, metric: 'perplexity' });
    expect(saved.loss).toMatchObject({ softmax: 'sampled', numSampled: 5 });
    expect(readFileSync(join(out, 'curves.svg'), 'utf8')).toMatch(/sampled softmax, 5 candidates/);

    const r = await cli(['lm', 'train', '--out', out, '--resume', '--steps', '5', '--quiet']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/resuming .* at step 3/);
    expect(r.stdout).toMatch(/training completed at step 5/);
    expect(savedConfig(out).config.training.steps).toBe(5);
    expect(savedConfig(out).config.model.cell.kind).toBe('lstm');

    // Only how the run is optimised may change on --resume.
    const changed = await cli(['lm', 'train', '--out', out, '--resume', '--steps', '6', '--hidden', '16']);
    expect(changed.code).toBe(1);
    expect(changed.stderr).toMatch(
      /^translate: error: --resume continues the run with its saved configuration; .*\(got model\.hiddenSize\)\n$/,
    );

    // A run saved before configs existed ({ flags }) still resumes.
    const json = JSON.parse(readFileSync(join(out, 'model.json'), 'utf8'));
    json.training.config = {
      flags: {
        train: [join(dir, 'train.txt')],
        tokenizer: 'char',
        hidden: 8,
        embedding: 4,
        cell: 'lstm',
        steps: 5,
        evalEvery: 2,
        batchSize: 8,
        validSplit: 10,
        learningRate: 0.01,
        softmax: 'sampled',
        numSampled: 5,
        seed: 1,
        optimizer: 'adam',
        clipNorm: 5,
        patience: 0,
        minCount: 1,
      },
    };
    writeFileSync(join(out, 'model.json'), JSON.stringify(json));
    const old = await cli(['lm', 'train', '--out', out, '--resume', '--steps', '6', '--quiet']);
    expect(old.code).toBe(0);
    expect(old.stdout).toMatch(/training completed at step 6/);
    expect(savedConfig(out).config.model.hiddenSize).toBe(8);
  });

  it('a bad config key or --set value is one line naming where it came from, exit 1', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'bad.json'), JSON.stringify({ data: { train: ['x.txt'] }, model: { hiden: 3 } }));
    const bad = await cli(['lm', 'train', '--config', join(dir, 'bad.json'), '--out', join(dir, 'o')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `translate: error: ${join(dir, 'bad.json')}: unknown key "model.hiden" (known: embeddingSize, hiddenSize, cell, seed)\n`,
    );
    const set = await cli([
      'lm',
      'train',
      '--train',
      'x.txt',
      '--set',
      'loss.softmax=partial',
      '--out',
      join(dir, 'o'),
    ]);
    expect(set.code).toBe(1);
    expect(set.stderr).toBe(
      'translate: error: --set loss.softmax=partial: "loss.softmax" must be one of "full", "sampled", got "partial"\n',
    );
    const none = await cli(['lm', 'train', '--out', join(dir, 'o')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^translate: error: no training text: give --train FILE/);
  });

  it('a model field out of range is one line naming it, exit 1, and nothing written (hidden 0 reached OpenBLAS)', async () => {
    const dir = tmp();
    const text = Array.from({ length: 40 }, (_, i) => `the cat sat on mat ${i}`).join('\n') + '\n';
    writeFileSync(join(dir, 'train.txt'), text);
    for (const [set, message] of [
      ['model.hiddenSize=0', 'hiddenSize must be an integer ≥ 1, got 0'],
      ['model.cell.kind=xyz', 'cell.kind must be one of gru, lstm, rnn, got "xyz"'],
      ['model.seed=-1', 'seed must be an integer from 0 to 4294967295, got -1'],
    ]) {
      const out = join(dir, 'o');
      const r = await cli(['lm', 'train', '--train', join(dir, 'train.txt'), '--set', set!, '--out', out, ...fast]);
      expect(r.code).toBe(1);
      expect(r.stderr.split('\n').filter((l) => !l.startsWith('backend:'))).toEqual([
        `translate: error: ${message}`,
        '',
      ]);
      expect(existsSync(out)).toBe(false);
    }
  });
});
