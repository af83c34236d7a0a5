// The README's library example runs as written (against a small saved model instead of the demo's).
import { describe, it, expect, beforeAll } from 'vitest';
import { runProcess } from './helpers/process.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { useTestBackend } from './helpers/backend.js';
import { Translator, Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, CharTokenizer } from '../src/index.js';
import { numberWordsVocabularies } from '../src/data/text/numberWords.js';

const root = resolve(import.meta.dirname, '..');
let modelDir = '';

beforeAll(async () => {
  await useTestBackend();
  const v = numberWordsVocabularies();
  const chars = new CharTokenizer();
  const t = new Translator(
    new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8 }, v.source.size, v.target.size),
    v.source,
    v.target,
    chars,
    chars,
  );
  modelDir = mkdtempSync(join(tmpdir(), 'seq2seq-readme-'));
  await t.save(modelDir);
  t.dispose();
});

describe('README', () => {
  it('the library API example runs', async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Library API'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const script = code!
      .replace(`from 'seq2seq-ts'`, `from ${JSON.stringify(join(root, 'src/index.ts'))}`)
      .replace(`'runs/number-words'`, JSON.stringify(modelDir));
    const file = join(mkdtempSync(join(tmpdir(), 'seq2seq-readme-')), 'example.mts');
    writeFileSync(file, script);
    const r = await runProcess(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, TRANSLATE_BACKEND: 'wasm' },
      timeout: 60_000,
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\[\s*\{\s*text:/); // the n-best list is printed
  });
});
