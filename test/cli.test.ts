import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { useTestBackend } from './helpers/backend.js';
import { spawn } from 'node:child_process';
import { runCli, repoRoot, cliArgs, cliEnv } from './helpers/cli.js';
import { Translator } from '../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../src/data/text/numberWords.js';
import { CharTokenizer } from '../src/data/text/tokenizers.js';

const root = repoRoot;

/** Runs the CLI from source (tsx), on wasm. */
const cli = (args: string[], input?: string) => runCli(args, { input, timeout: 60_000 });

let modelDir = '';
let expected: string[] = [];
let expectedGreedy: string[] = [];
const inputs = ['one two five', '', 'nine nine'];

beforeAll(async () => {
  await useTestBackend();
  const v = numberWordsVocabularies();
  const chars = new CharTokenizer();
  const t = new Translator(
    new Seq2Seq(
      { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 11 },
      v.source.size,
      v.target.size,
    ),
    v.source,
    v.target,
    chars,
    chars,
  );
  modelDir = mkdtempSync(join(tmpdir(), 'seq2seq-cli-'));
  await t.save(modelDir);
  // The CLI searches with beam 5 and length penalty 0.6 unless told --beam 1.
  expected = t.translate(inputs, { beamSize: 5, lengthPenalty: 0.6 }).map((r) => r.text);
  expectedGreedy = t.translate(inputs).map((r) => r.text);
  t.dispose();
});

describe('translate CLI', () => {
  it('translates text arguments, one output line each, and says which backend runs', async () => {
    const r = await cli(['translate', '--model', modelDir, 'one two five', 'nine nine']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${expected[0]}\n${expected[2]}\n`);
    expect(r.stderr).toMatch(/backend: wasm/);
  });

  it('reads stdin line by line: one output line per input line, an empty line for an empty line', async () => {
    const r = await cli(['translate', '--model', modelDir], inputs.join('\n') + '\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected.map((l) => `${l}\n`).join(''));
    const greedy = await cli(['translate', '--model', modelDir, '--beam', '1'], inputs.join('\n') + '\n');
    expect(greedy.stdout).toBe(expectedGreedy.map((l) => `${l}\n`).join(''));
  });

  it('with --unknown error, names the line and the unknown characters, exits non-zero, prints no stack trace', async () => {
    const r = await cli(['translate', '--model', modelDir, '--unknown', 'error'], 'one two\nonq tw#\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stdin line 2: unknown "q", "#"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout.split('\n')).toHaveLength(3); // two lines out, the failed one empty
  });

  it('reports a missing or corrupt model directory without a stack trace', async () => {
    const missing = await cli(['translate', '--model', '/nonexistent/dir', 'one']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/translate: error: \/nonexistent\/dir: no such model directory/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const bad = mkdtempSync(join(tmpdir(), 'seq2seq-bad-'));
    writeFileSync(join(bad, 'model.json'), 'not json');
    const corrupt = await cli(['translate', '--model', bad, 'one']);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/model\.json: corrupt JSON/);
  });

  it('gives n-best lists with beam search, as Moses lines or JSON Lines, one JSON line per input', async () => {
    const moses = await cli([
      'translate',
      '--model',
      modelDir,
      '--beam',
      '3',
      '--n-best',
      '2',
      'one two five',
      'nine nine',
    ]);
    expect(moses.code).toBe(0);
    const rows = moses.stdout.trim().split('\n');
    expect(rows).toHaveLength(4);
    expect(rows.map((r) => r.split(' ||| ')[0])).toEqual(['0', '0', '1', '1']);
    const scores = rows.map((r) => Number(r.split(' ||| ')[2]));
    expect(scores[0]).toBeGreaterThanOrEqual(scores[1]!);
    const jsonl = await cli(
      ['translate', '--model', modelDir, '--format', 'jsonl', '--beam', '2', '--n-best', '2'],
      inputs.join('\n') + '\n',
    );
    const objs = jsonl.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(objs).toHaveLength(3);
    expect(objs[1]).toEqual({
      source: '',
      translation: '',
      nBest: [],
      unknown: [],
      sourceTokens: [],
      targetTokens: [],
      alignment: [],
    });
    expect(objs[0].nBest).toHaveLength(2);
    expect(objs[0].translation).toBe(objs[0].nBest[0].text);
    const bad = await cli(['translate', '--model', modelDir, '--beam', '2', '--n-best', '3', 'one']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--n-best 3 is larger than --beam 2/);
  });

  it('eval scores a hypothesis file (BLEU, chrF, exact match), and a model on a source file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-eval-'));
    writeFileSync(join(dir, 'ref.txt'), 'the cat sat on the mat\nhello world\n');
    writeFileSync(join(dir, 'hyp.txt'), 'the cat is on the mat\nhello world\n');
    const r = await cli(['eval', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'ref.txt')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^BLEU = \d+\.\d\d /m);
    expect(r.stdout).toMatch(/chrF2 = \d+\.\d\d/);
    expect(r.stdout).toMatch(/exact match = 50\.00%/);
    writeFileSync(join(dir, 'src.txt'), 'one two five\nnine nine\n');
    writeFileSync(join(dir, 'digits.txt'), `${expected[0]}\n${expected[2]}\n`);
    const m = await cli([
      'eval',
      '--model',
      modelDir,
      '--src',
      join(dir, 'src.txt'),
      '--ref',
      join(dir, 'digits.txt'),
      '--out',
      join(dir, 'out.txt'),
    ]);
    expect(m.code).toBe(0);
    expect(m.stdout).toMatch(/exact match = 100\.00%/);
    const short = await cli([
      'eval',
      '--hyp',
      join(dir, 'src.txt'),
      '--ref',
      join(dir, 'ref.txt'),
      '--ref',
      join(dir, 'hyp.txt'),
    ]);
    expect(short.code).toBe(0);
    writeFileSync(join(dir, 'one.txt'), 'one line\n');
    const mismatch = await cli(['eval', '--hyp', join(dir, 'one.txt'), '--ref', join(dir, 'ref.txt')]);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toMatch(/ref\.txt: 2 lines, but there is 1 hypothesis/);
    // Gzip files (as Multi30K ships) are read as they are; a missing file is named.
    writeFileSync(join(dir, 'ref.txt.gz'), gzipSync('the cat sat on the mat\nhello world\n'));
    const gz = await cli(['eval', '--hyp', join(dir, 'hyp.txt'), '--ref', join(dir, 'ref.txt.gz')]);
    expect(gz.stdout).toBe(r.stdout);
    const missing = await cli(['eval', '--hyp', join(dir, 'nope.txt'), '--ref', join(dir, 'ref.txt')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nope\.txt: cannot open \(no such file or directory\)/);
  });

  it('rejects an unknown backend and lists the choices, in the one-line form of every CLI error', async () => {
    const r = await cli(['--backend', 'gpu', 'translate', '--model', modelDir, 'one']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "translate: error: option '--backend <name>' argument 'gpu' is invalid. Allowed choices are auto, " +
        "tensorflow-gpu, tensorflow, wasm, cpu.\nsee 'translate --help'\n",
    );
    const missing = await cli(['--threads']);
    expect(missing.stderr).toBe("translate: error: option '--threads <n>' argument missing\nsee 'translate --help'\n");
  });

  it('translates on the threaded wasm build with --threads 2, as with one thread, and rejects a bad count', async () => {
    // --blas none: with OpenBLAS the threads would go to it, and wasm would start single-threaded.
    const one = await cli(['--blas', 'none', '--threads', '1', 'translate', '--model', modelDir, 'one two']);
    const two = await cli(['--blas', 'none', '--threads', '2', 'translate', '--model', modelDir, 'one two']);
    expect(two.code).toBe(0);
    expect(two.stderr).toMatch(/backend: wasm \(SIMD, 2 threads\)/);
    expect(one.stderr).toMatch(/backend: wasm \(SIMD, 1 thread\)/);
    expect(two.stdout).toBe(one.stdout);
    const bad = await cli(['--threads', 'zero', 'translate', '--model', modelDir, 'one']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^translate: error: --threads must be a positive integer, got "zero"$/m);
    // From the environment, the message names the variable.
    const env = await runCli(['--blas', 'none', 'translate', '--model', modelDir, 'one'], {
      timeout: 60_000,
      env: { TRANSLATE_WASM_THREADS: '0' },
    });
    expect(env.code).toBe(1);
    expect(env.stderr).toMatch(/TRANSLATE_WASM_THREADS must be a positive integer, got "0"/);
  });

  it('a reader that goes away (translate … | head -1) ends the command quietly, exit 0', async () => {
    const child = spawn(process.execPath, cliArgs(['translate', '--model', modelDir]), { cwd: root, env: cliEnv });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const exited = new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    // Far more lines than the first read takes, so the command writes on after the reader has gone.
    child.stdin.on('error', () => {});
    child.stdin.end('one two five\n'.repeat(20_000));
    expect(await exited).toBe(0);
    expect(stderr).not.toMatch(/EPIPE|Error|internal/);
  });

  it('--blas openblas gives the threads to OpenBLAS and translates as the wasm kernels do; an unknown --blas is rejected', async () => {
    const wasm = await cli(['--blas', 'none', '--threads', '1', 'translate', '--model', modelDir, 'one two']);
    const blas = await cli(['--blas', 'openblas', '--threads', '2', 'translate', '--model', modelDir, 'one two']);
    expect(blas.code).toBe(0);
    expect(blas.stderr).toMatch(/backend: wasm \(SIMD, 1 thread\) \+ OpenBLAS \d+\.\d+\.\d+ \(2 threads\)/);
    expect(blas.stdout).toBe(wasm.stdout);
    const bad = await cli(['--blas', 'mkl', 'translate', '--model', modelDir, 'one']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--blas <name>' argument 'mkl' is invalid/);
  });

  it('fails clearly when a forced native backend is not installed', async () => {
    const r = await cli(['--backend', 'tensorflow', 'translate', '--model', modelDir, 'one']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });
});

describe('the command line itself', () => {
  it('--version prints the version in package.json', async () => {
    const r = await cli(['--version']);
    expect(r.code).toBe(0);
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('a usage error is one line and where to read more, not the whole help', async () => {
    const unknown = await cli(['train', '--bogus']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe(
      "translate: error: unknown option '--bogus' (did you mean --corpus?)\nsee 'translate train --help'\n",
    );
    const bad = await cli(['eval', '--ref', 'x', '--beam', 'zero']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "translate: error: option '--beam <k>' argument 'zero' is invalid. --beam must be an integer from 1 to 1024\nsee 'translate eval --help'\n",
    );
    const command = await cli(['trian']);
    expect(command.stderr).toBe(
      "translate: error: unknown command 'trian' (did you mean train?)\nsee 'translate --help'\n",
    );
  });

  it('help shows each default once, in one style: "(default: x)"', async () => {
    for (const args of [
      ['eval', '--help'],
      ['train', '--help'],
      ['lm', 'generate', '--help'],
      ['translate', '--help'],
      ['demo', 'number-words', '--help'],
    ]) {
      // One option per entry: commander wraps long descriptions onto indented lines.
      const help = (await cli(args)).stdout.replace(/\n {6,}/g, ' ');
      expect(help).toMatch(/\(default: \w/);
      expect(help).not.toMatch(/\(default [^:]/);
      expect(help).not.toMatch(/\(default:[^)\n]*\)\s*\(default:/);
      expect(help).not.toMatch(/\(default: \[\]\)/);
    }
  });
});
