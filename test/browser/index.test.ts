// The browser entry in Node, without a browser (test/browser/web.test.ts runs its bundle in Chromium): loadTranslator
// over a fetch that serves a saved model directory gives the translations Translator.load gives, and refuses missing,
// corrupt or foreign files in one line naming the URL; useBackend picks cpu or wasm and falls back on cpu when wasm
// cannot start.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { runProcess } from '../helpers/process.js';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import {
  useBackend,
  currentBackend,
  loadTranslator,
  loadModel,
  createPageHandler,
  Translator,
  TextClassifier,
} from '../../src/browser/index.js';
import { TextClassifier as NodeClassifier } from '../../src/heads/classifier/textClassifier.js';
import { saveTinyClassifier } from '../helpers/serveModels.js';
import { Translator as NodeTranslator } from '../../src/translation/translator.js';
import { ModelFileError } from '../../src/model/modelFiles.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { CharTokenizer } from '../../src/data/text/tokenizers.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const BASE = 'https://models.example/number-words';
const inputs = ['one two five', 'seven zero', '', 'nine nine nine'];
let dir = '';
let weightsFile = '';

/** A fetch over `files` (URL → bytes or a status), recording the URLs asked for. */
function fakeFetch(files: Map<string, Uint8Array | number>, asked: string[] = []): typeof fetch {
  return (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    asked.push(url);
    const body = files.get(url);
    if (body === undefined) return Promise.resolve(new Response('not found', { status: 404 }));
    if (typeof body === 'number') return Promise.resolve(new Response('', { status: body }));
    return Promise.resolve(new Response(body as Uint8Array<ArrayBuffer>, { status: 200 }));
  };
}

function served(folder: string, base = BASE): Map<string, Uint8Array | number> {
  return new Map(readdirSync(folder).map((f) => [`${base}/${f}`, new Uint8Array(readFileSync(join(folder, f)))]));
}

beforeAll(async () => {
  expect(await useBackend('cpu')).toBe('cpu');
  dir = mkdtempSync(join(tmpdir(), 'browser-entry-'));
  const v = numberWordsVocabularies();
  const chars = new CharTokenizer();
  const config = { ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 12, embeddingSize: 6, seed: 8 };
  const model = new Seq2Seq(config, v.source.size, v.target.size);
  const t = new NodeTranslator(model, v.source, v.target, chars, chars);
  await t.save(dir);
  t.dispose();
  weightsFile = readdirSync(dir).find((f) => f.endsWith('.bin'))!;
});

describe('loadTranslator', () => {
  it('reads model.json, then the weights it names, beside it (with or without the trailing slash)', async () => {
    expect(currentBackend()).toBe('cpu');
    for (const base of [BASE, `${BASE}/`]) {
      const asked: string[] = [];
      const t = await loadTranslator(base, fakeFetch(served(dir), asked));
      expect(asked).toEqual([`${BASE}/model.json`, `${BASE}/${weightsFile}`]);
      expect(t).toBeInstanceOf(Translator);
      t.dispose();
    }
  });

  it('translates exactly as the model loaded from disk, greedy and beam', async () => {
    const browser = await loadTranslator(BASE, fakeFetch(served(dir)));
    const node = await NodeTranslator.load(dir);
    expect(browser.translate(inputs)).toEqual(node.translate(inputs));
    const beam = { beamSize: 3, nBest: 2 };
    expect(browser.translate(inputs, beam)).toEqual(node.translate(inputs, beam));
    expect(Array.from(browser.model.params.serialize().data)).toEqual(Array.from(node.model.params.serialize().data));
    browser.dispose();
    node.dispose();
  });

  it('refuses a missing or unreachable file, naming the URL and the status', async () => {
    const files = served(dir);
    await expect(loadTranslator(`${BASE}/elsewhere`, fakeFetch(files))).rejects.toThrow(ModelFileError);
    await expect(loadTranslator(`${BASE}/elsewhere`, fakeFetch(files))).rejects.toThrow(
      /^https:\/\/models\.example\/number-words\/elsewhere\/model\.json: HTTP 404$/,
    );
    files.set(`${BASE}/${weightsFile}`, 503);
    await expect(loadTranslator(BASE, fakeFetch(files))).rejects.toThrow(`${BASE}/${weightsFile}: HTTP 503`);
    const offline = (() => Promise.reject(new TypeError('network down'))) as typeof fetch;
    await expect(loadTranslator(BASE, offline)).rejects.toThrow(`${BASE}/model.json: cannot fetch (network down)`);
  });

  it('refuses corrupt JSON, a model of another kind, and damaged weights', async () => {
    const files = served(dir);
    files.set(`${BASE}/model.json`, new TextEncoder().encode('{"format": "seq2seq-ts/model@1", '));
    const corrupt = new RegExp(`^${BASE.replace(/[./]/g, '\\$&')}/model\\.json: corrupt JSON \\(`);
    await expect(loadTranslator(BASE, fakeFetch(files))).rejects.toThrow(corrupt);

    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    for (const wrong of [{ ...json, kind: 'classifier' }, { ...json, format: 'other' }, null, [1, 2]]) {
      const other = served(dir);
      other.set(`${BASE}/model.json`, new TextEncoder().encode(JSON.stringify(wrong)));
      await expect(loadTranslator(BASE, fakeFetch(other))).rejects.toThrow(
        `${BASE}/model.json: not a seq2seq-ts translation model`,
      );
    }

    const damaged = served(dir);
    const bytes = new Uint8Array(readFileSync(join(dir, weightsFile)));
    bytes[5] = bytes[5]! ^ 0x10;
    damaged.set(`${BASE}/${weightsFile}`, bytes);
    await expect(loadTranslator(BASE, fakeFetch(damaged))).rejects.toThrow(
      `${BASE}/${weightsFile}: checksum mismatch, the weights file is corrupt`,
    );
  });

  it('takes only the file name of the weights path model.json gives (never a path beside or above it)', async () => {
    const json = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8'));
    const files = served(dir);
    const moved = { ...json, weights: { ...json.weights, file: `../other/${weightsFile}` } };
    files.set(`${BASE}/model.json`, new TextEncoder().encode(JSON.stringify(moved)));
    const asked: string[] = [];
    const t = await loadTranslator(BASE, fakeFetch(files, asked));
    expect(asked[1]).toBe(`${BASE}/${weightsFile}`);
    t.dispose();
  });
});

describe('useBackend', () => {
  it("starts wasm (the toolkit's kernels registered) from a folder of its binaries, translating as Node", async () => {
    const wasmDir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    expect(await useBackend('wasm', `${wasmDir}/`)).toBe('wasm');
    expect(currentBackend()).toBe('wasm');
    const browser = await loadTranslator(BASE, fakeFetch(served(dir)));
    const node = await NodeTranslator.load(dir);
    expect(browser.translate(inputs).map((r) => r.text)).toEqual(node.translate(inputs).map((r) => r.text));
    browser.dispose();
    node.dispose();
    expect(await useBackend('cpu')).toBe('cpu');
    expect(currentBackend()).toBe('cpu');
  });

  it('falls back on cpu when the wasm binaries cannot be loaded, and again when asked again (in a fresh process: wasm starts once)', async () => {
    const code = [
      `import { useBackend, currentBackend } from ${JSON.stringify(join(repoRoot, 'src/browser/index.ts'))};`,
      "const got = await useBackend('wasm', '/nonexistent-wasm-folder/');",
      // Asked again (a page switching backends back and forth): cpu again, not tfjs's "already initialized".
      "const again = await useBackend('wasm', '/nonexistent-wasm-folder/');",
      'console.log(JSON.stringify({ got, again, current: currentBackend() }));',
    ].join('\n');
    const r = await runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: repoRoot,
      timeout: 60_000,
    });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout.trim().split('\n').at(-1)!)).toEqual({ got: 'cpu', again: 'cpu', current: 'cpu' });
    // tfjs said why on stderr.
    expect(r.stderr).toMatch(/nonexistent-wasm-folder\/tfjs-backend-wasm/);
  });
});

describe('loadModel and the page handler (every kind of model)', () => {
  it('loads a classifier as the page does and answers as in Node; refuses requests for another kind and unknown kinds', async () => {
    const classifierDir = await saveTinyClassifier();
    const base = 'https://models.example/sentiment';
    const loaded = await loadModel(base, fakeFetch(served(classifierDir, base)));
    expect(loaded.kind).toBe('classifier');
    expect(loaded.model).toBeInstanceOf(TextClassifier);
    const node = await NodeClassifier.load(classifierDir);
    const texts = ['good film', 'bad plot'];
    expect((loaded.model as TextClassifier).predictTexts(texts).map((p) => p.label)).toEqual(
      node.predictTexts(texts).map((p) => p.label),
    );
    loaded.model.dispose();
    // A translator load of a classifier is refused before its weights are fetched.
    const asked: string[] = [];
    await expect(loadTranslator(base, fakeFetch(served(classifierDir, base), asked))).rejects.toThrow(
      `${base}/model.json: not a seq2seq-ts translation model`,
    );
    expect(asked).toEqual([`${base}/model.json`]);
    const json = JSON.parse(readFileSync(join(classifierDir, 'model.json'), 'utf8'));
    const foreign = served(classifierDir, base);
    foreign.set(`${base}/model.json`, new TextEncoder().encode(JSON.stringify({ ...json, kind: 'tagger' })));
    await expect(loadModel(base, fakeFetch(foreign))).rejects.toThrow(
      `${base}/model.json: a "tagger" model, which the page cannot load`,
    );

    // The handler the worker and the page share loads through the global fetch: a stub serves the model's files.
    const realFetch = globalThis.fetch;
    globalThis.fetch = fakeFetch(served(classifierDir, base));
    try {
      const handle = createPageHandler('unused/');
      await expect(handle({ type: 'classify', lines: ['good'] })).rejects.toThrow('no model loaded');
      const answer = await handle({ type: 'load', url: base });
      expect(answer).toMatchObject({ kind: 'classifier', backend: 'cpu', labels: ['neg', 'pos'], input: 'tokens' });
      const { predictions } = (await handle({ type: 'classify', lines: ['good film', '', 'bad plot'] })) as {
        predictions: ({ label: string } | null)[];
      };
      expect(predictions.map((p) => p?.label ?? null)).toEqual([
        node.predictTexts(['good film'])[0]!.label,
        null,
        node.predictTexts(['bad plot'])[0]!.label,
      ]);
      await expect(handle({ type: 'translate', lines: ['x'] })).rejects.toThrow(
        'the loaded model is a classifier model, not a seq2seq model',
      );
    } finally {
      globalThis.fetch = realFetch;
      node.dispose();
    }
  });
});
