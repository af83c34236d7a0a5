import { describe, it, expect, beforeAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useTestBackend } from './helpers/backend.js';
import { Translator } from '../src/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../src/model/seq2seq.js';
import { numberWordsVocabularies } from '../src/data/numberWords.js';
import { CharTokenizer } from '../src/data/tokenizers.js';

const root = resolve(import.meta.dirname, '..');

/** Runs the CLI from source (tsx), on wasm. */
function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    input,
    encoding: 'utf8',
    env: { ...process.env, TRANSLATE_BACKEND: 'wasm' },
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let modelDir = '';
let expected: string[] = [];
const inputs = ['one two five', '', 'nine nine'];

beforeAll(async () => {
  await useTestBackend();
  const v = numberWordsVocabularies();
  const chars = new CharTokenizer();
  const t = new Translator(new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 11 }, v.source.size, v.target.size), v.source, v.target, chars, chars);
  modelDir = mkdtempSync(join(tmpdir(), 'seq2seq-cli-'));
  await t.save(modelDir);
  expected = t.translate(inputs).map((r) => r.text);
  t.dispose();
});

describe('translate CLI', () => {
  it('translates text arguments, one output line each, and says which backend runs', () => {
    const r = cli(['translate', '--model', modelDir, 'one two five', 'nine nine']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${expected[0]}\n${expected[2]}\n`);
    expect(r.stderr).toMatch(/backend: wasm/);
  });

  it('reads stdin line by line: one output line per input line, an empty line for an empty line', () => {
    const r = cli(['translate', '--model', modelDir], inputs.join('\n') + '\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(expected.map((l) => `${l}\n`).join(''));
  });

  it('names the line and the unknown characters, exits non-zero, prints no stack trace', () => {
    const r = cli(['translate', '--model', modelDir], 'one two\nonq tw#\n');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/stdin line 2: unknown "q", "#"/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stdout.split('\n')).toHaveLength(3); // two lines out, the failed one empty
  });

  it('reports a missing or corrupt model directory without a stack trace', () => {
    const missing = cli(['translate', '--model', '/nonexistent/dir', 'one']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/translate: error: \/nonexistent\/dir: no such model directory/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const bad = mkdtempSync(join(tmpdir(), 'seq2seq-bad-'));
    writeFileSync(join(bad, 'model.json'), 'not json');
    const corrupt = cli(['translate', '--model', bad, 'one']);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(/model\.json: corrupt JSON/);
  });

  it('rejects an unknown backend and lists the choices', () => {
    const r = cli(['--backend', 'gpu', 'translate', '--model', modelDir, 'one']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/tensorflow-gpu, tensorflow, wasm, cpu/);
  });

  it('fails clearly when a forced native backend is not installed', () => {
    const r = cli(['--backend', 'tensorflow', 'translate', '--model', modelDir, 'one']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/npm install @tensorflow\/tfjs-node@4\.22\.0/);
  });
});
