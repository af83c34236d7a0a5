// `translate subwords train` and `translate train --subwords`: a joint SentencePiece model learnt from the corpus,
// stored inside the model directory.
import { describe, it, expect } from 'vitest';
import {
  mkdtempSync,
  existsSync,
  readFileSync,
  renameSync,
  readdirSync,
  symlinkSync,
  mkdirSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runCli, cliArgs, cliEnv, repoRoot } from '../helpers/cli.js';
import { runProcess } from '../helpers/process.js';

const toy = resolve(repoRoot, '../shared/corpora/joeynmt-toy-de-en');

function hasSpmTrain(): boolean {
  // CI installs spm_train (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing tool fails instead of skipping.
  if (process.env['REQUIRE_SYSTEM_TOOLS'] === '1') return true;
  return spawnSync('spm_train', ['--help'], { stdio: 'ignore' }).error === undefined;
}
const cli = (...a: string[]) => runCli(a, { timeout: 180_000 });

describe('translate subwords train', () => {
  it.runIf(hasSpmTrain())('writes a SentencePiece model of both sides of a parallel corpus', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'seq2seq-subwords-cli-')), 'toy');
    const r = await cli('subwords', 'train', '--corpus', `${toy}/train.{de,en}`, '--size', '500', '--out', out);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/toy\.model: \d+ pieces \(unigram\) from 2000 lines/);
    expect(existsSync(`${out}.model`)).toBe(true);
  });

  it('a corpus or text with no line to learn from is a one-line error naming it, in subwords train and in train', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-subwords-empty-'));
    writeFileSync(join(dir, 'empty.txt'), '');
    writeFileSync(join(dir, 'blank.txt'), '\n  \n');
    const text = await cli(
      'subwords',
      'train',
      '--text',
      join(dir, 'empty.txt'),
      join(dir, 'blank.txt'),
      '--out',
      join(dir, 'x'),
    );
    expect(text.code).toBe(1);
    expect(text.stderr).toBe(
      `translate: error: ${join(dir, 'empty.txt')}, ${join(dir, 'blank.txt')}: no text to learn subwords from (every line is empty)\n`,
    );
    const corpus = `aligned:${join(dir, 'blank.txt')},${join(dir, 'blank.txt')}`;
    const train = await cli('train', '--corpus', corpus, '--out', join(dir, 'run'));
    expect(train.code).toBe(1);
    expect(train.stderr).toMatch(
      new RegExp(`translate: error: ${corpus.replace(/[/.-]/g, '\\$&')}: no training pairs to learn subwords from\n$`),
    );
    expect(existsSync(join(dir, 'x.model'))).toBe(false);
  });

  it('without spm_train, translate train (subwords by default) says how to install it or how to choose words', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'seq2seq-nobin-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await runProcess(
      join(bin, 'node'),
      cliArgs(['train', '--corpus', `${toy}/dev.{de,en}`, '--out', join(bin, 'run')]),
      { cwd: repoRoot, env: { ...cliEnv, PATH: bin } },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spm_train.*not found: install it \(`apt-get install sentencepiece`.*--tokenizer word/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('without spm_train, says which package to install', async () => {
    const bin = mkdtempSync(join(tmpdir(), 'seq2seq-nobin-'));
    symlinkSync(process.execPath, join(bin, 'node'));
    const r = await runProcess(
      join(bin, 'node'),
      cliArgs(['subwords', 'train', '--corpus', `${toy}/dev.{de,en}`, '--out', join(bin, 'x')]),
      { cwd: repoRoot, env: { ...cliEnv, PATH: bin } },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/spm_train was not found.*apt-get install sentencepiece/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe.runIf(hasSpmTrain())('translate train --subwords', () => {
  it('trains with its own joint model, kept inside the model directory, which then translates from anywhere', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-train-subwords-'));
    const out = join(dir, 'run');
    const r = await cli(
      'train',
      '--corpus',
      `${toy}/train.{de,en}`,
      '--valid',
      `${toy}/dev.{de,en}`,
      '--subwords',
      '400',
      '--max-chars',
      '120',
      '--embedding',
      '8',
      '--hidden',
      '16',
      '--steps',
      '4',
      '--eval-every',
      '4',
      '--batch-size',
      '8',
      '--decode-sentences',
      '4',
      '--out',
      out,
      '--quiet',
    );
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    const json = JSON.parse(readFileSync(join(out, 'best', 'model.json'), 'utf8'));
    expect(json.extra.sourceTokenizer).toEqual(json.extra.targetTokenizer);
    expect(json.extra.sourceTokenizer.model).toMatch(/^sentencepiece-[0-9a-f]{16}\.model$/);
    expect(readdirSync(join(out, 'best'))).toContain(json.extra.sourceTokenizer.model);
    // Every piece of the model is in both vocabularies (plus the four reserved tokens, <unk> among them).
    expect(json.extra.sourceVocabulary.tokens.length).toBeGreaterThan(256);
    const text = 'Graffiti „überall“ 🎨';
    const before = await cli('translate', '--model', join(out, 'best'), '--beam', '1', text);
    mkdirSync(join(dir, 'moved'));
    renameSync(join(out, 'best'), join(dir, 'moved', 'model'));
    // From a third working directory (tsx by its absolute path, since it is not installed there).
    const fromElsewhere = [
      '--import',
      join(repoRoot, 'node_modules/tsx/dist/loader.mjs'),
      ...cliArgs(['translate', '--model', join(dir, 'moved', 'model'), '--beam', '1', text]).slice(2),
    ];
    const after = await runProcess(process.execPath, fromElsewhere, {
      cwd: mkdtempSync(join(tmpdir(), 'seq2seq-cwd-')),
      env: cliEnv,
    });
    expect(after.code).toBe(0);
    expect(after.stdout).toBe(before.stdout);
    expect(after.stdout.trim().length).toBeGreaterThan(0);
    expect(after.stderr).not.toMatch(/outside the model's vocabulary/); // no piece is unknown to a subword model
  });
});
