import { describe, it, expect, beforeAll } from 'vitest';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import { runCli, cliArgs, cliEnv, repoRoot } from '../helpers/cli.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { CharTokenizer } from '../../src/data/text/tokenizers.js';

let dir = '';

beforeAll(async () => {
  await useTestBackend();
  const v = numberWordsVocabularies();
  const chars = new CharTokenizer();
  const t = new Translator(
    new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 8, embeddingSize: 4, seed: 1 }, v.source.size, v.target.size),
    v.source,
    v.target,
    chars,
    chars,
    { task: 'number-words' },
  );
  dir = join(mkdtempSync(join(tmpdir(), 'web-cli-')), 'digits');
  await t.save(dir);
  t.dispose();
});

describe('translate web', () => {
  it('checks the models before serving: a missing directory is one line and exit 1', async () => {
    const r = await runCli(['web', '--model', '/nonexistent/model', '--port', '0'], { timeout: 60_000 });
    expect(r.code).toBe(1);
    expect(
      r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('backend:')),
    ).toEqual(['translate: error: /nonexistent/model: no such model directory']);
    const none = await runCli(['web'], { timeout: 60_000 });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/translate: error: --model DIR is required/);
  });

  it('serves the page, the bundle, the model list and only the files model.json names; SIGTERM stops it', async () => {
    const child = spawn(process.execPath, cliArgs(['web', '--model', `digits=${dir}`, '--port', '0']), {
      cwd: repoRoot,
      env: cliEnv,
    });
    let stderr = '';
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
        const m = /at (http:\/\/\S+) /.exec(stderr);
        if (m !== null) resolve(m[1]!);
      });
      child.on('exit', () => reject(new Error(`exited: ${stderr}`)));
    });
    try {
      expect(stderr).toMatch(/translate web: digits at http:\/\/127\.0\.0\.1:\d+\/ \(Ctrl-C stops\)/);
      const page = await fetch(url);
      expect(page.headers.get('content-type')).toMatch(/text\/html/);
      expect(await page.text()).toContain('<button id="go"');
      expect(await (await fetch(`${url}models.json`)).json()).toEqual([
        {
          name: 'digits',
          kind: 'seq2seq',
          url: 'models/digits/',
          languages: null,
          weights: expect.any(Number),
          example: 'one two five\nseven zero zero',
        },
      ]);
      expect(await (await fetch(`${url}translate.js`)).text()).toContain('loadTranslator');
      expect((await fetch(`${url}worker.js`)).status).toBe(200);
      const wasm = await fetch(`${url}wasm/tfjs-backend-wasm-simd.wasm`);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      // A WebAssembly module begins with the bytes 0 'a' 's' 'm'.
      expect([...new Uint8Array(await wasm.arrayBuffer()).slice(0, 4)]).toEqual([0, 97, 115, 109]);
      const json = (await (await fetch(`${url}models/digits/model.json`)).json()) as { weights: { file: string } };
      expect((await fetch(`${url}models/digits/${json.weights.file}`)).status).toBe(200);
      for (const bad of [
        'models/digits/written-files.json',
        'models/other/model.json',
        'models/digits/..%2Fdigits%2Fmodel.json',
        'package.json',
        'wasm/package.json',
        'wasm/..%2Fpackage.json',
      ]) {
        expect((await fetch(`${url}${bad}`)).status, bad).toBe(404);
      }
    } finally {
      const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      expect(await exit).toBe(0);
    }
  }, 120_000);
});
