// The browser path end to end: the bundle of src/browser (web/build.mjs) loads a model directory saved by the toolkit
// in headless Chromium, translates, and gives exactly what the toolkit gives in Node on the same (cpu) backend.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:http';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  cpSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { selectBackend } from '../../src/backend/select.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { CharTokenizer, WordTokenizer } from '../../src/data/text/tokenizers.js';
import { TextClassifier } from '../../src/heads/classifier/textClassifier.js';
import { TextLanguageModel } from '../../src/heads/lm/textLanguageModel.js';
import { SeriesForecaster } from '../../src/heads/forecaster/seriesForecaster.js';
import {
  saveTinyClassifier,
  saveTinyForecaster,
  saveTinyLanguageModel,
  tinySentencePieceTranslator,
} from '../helpers/serveModels.js';
import { Vocabulary } from '../../src/data/text/vocabulary.js';
import { checkWebModels } from '../../src/cli/web.js';
import { startWebSite } from '../../src/web/site.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildWeb } from '../../web/build.mjs';

const root = resolve(import.meta.dirname, '../..');

function findChromium(): string | undefined {
  for (const name of [process.env['CHROMIUM'], 'chromium', 'chromium-browser', 'google-chrome']) {
    if (name && spawnSync('sh', ['-c', `command -v "${name}"`]).status === 0) return name;
  }
  return undefined;
}

const chromium = findChromium();
// CI installs Chromium (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing browser fails instead of skipping.
const requireTools = process.env['REQUIRE_SYSTEM_TOOLS'] === '1';

const inputs = ['one two five', 'seven zero zero', '', 'nine nine nine nine'];
let site = '';
let server: Server;
let base = '';
let reports: ((body: string) => void)[] = [];
let expected: { greedy: string[]; beam: string[] };

beforeAll(async () => {
  await selectBackend('cpu');
  site = mkdtempSync(join(tmpdir(), 'web-test-'));
  await buildWeb(join(site, 'translate.js'));
  copyFileSync(join(root, 'web/index.html'), join(site, 'index.html'));
  const v = numberWordsVocabularies();
  const chars = new CharTokenizer();
  const config = {
    ...DEFAULT_SEQ2SEQ_CONFIG,
    hiddenSize: 24,
    embeddingSize: 12,
    cell: { ...DEFAULT_SEQ2SEQ_CONFIG.cell, kind: 'lstm' as const, peepholes: true },
    seed: 5,
  };
  const t = new Translator(new Seq2Seq(config, v.source.size, v.target.size), v.source, v.target, chars, chars);
  await t.save(join(site, 'model'));
  expected = {
    greedy: t.translate(inputs).map((r) => r.text),
    beam: t.translate(inputs, { beamSize: 3 }).map((r) => r.text),
  };
  t.dispose();
  // The same model with a damaged weights file.
  cpSync(join(site, 'model'), join(site, 'broken'), { recursive: true });
  const weights = readdirSync(join(site, 'broken')).find((f) => f.endsWith('.bin'))!;
  const bytes = readFileSync(join(site, 'broken', weights));
  bytes[0] = bytes[0]! ^ 0xff;
  writeFileSync(join(site, 'broken', weights), bytes);

  const types: Record<string, string> = {
    '.html': 'text/html',
    '.js': 'text/javascript',
    '.json': 'application/json',
    '.bin': 'application/octet-stream',
  };
  server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (req.method === 'POST' && url.pathname === '/result') {
      // The page of `translate web` reports from its own origin.
      res.setHeader('access-control-allow-origin', '*');
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        res.end('ok');
        reports.shift()?.(body);
      });
      return;
    }
    try {
      const file = join(site, decodeURIComponent(url.pathname));
      if (!file.startsWith(site)) throw new Error('outside');
      const data = readFileSync(file);
      res.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream');
      res.end(data);
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}, 120_000);

afterAll(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

interface PageReport {
  kind?: string;
  predictions?: ({ label: string; probability: number } | null)[];
  generations?: string[];
  forecast?: Record<string, number[]>;
  shown?: string;
  greedy?: string[];
  beam?: string[];
  nBest?: string[][];
  unknown?: string[][];
  backend?: string;
  where?: string;
  status?: string;
  probe?: { seconds: number; inputHandledDuring: boolean };
  alignment?: number[][];
  heatmaps?: { rows: number; columns: number }[];
  error?: string;
}

/** Opens the page in headless Chromium and waits for what it POSTs to /result. */
async function openPage(model: string): Promise<PageReport> {
  return openUrl(
    `${base}/index.html?model=${encodeURIComponent(model)}&backend=cpu&report=/result&inputs=${encodeURIComponent(JSON.stringify(inputs))}`,
  );
}

async function openUrl(url: string): Promise<PageReport> {
  const profile = mkdtempSync(join(tmpdir(), 'chromium-profile-'));
  const result = new Promise<string>((r) => reports.push(r));
  let browser: ChildProcess | undefined;
  try {
    browser = spawn(
      chromium!,
      ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, url],
      { stdio: 'ignore' },
    );
    const timeout = new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error('no result from the page within 90 s')), 90_000),
    );
    return JSON.parse(await Promise.race([result, timeout])) as PageReport;
  } finally {
    browser?.kill('SIGKILL');
    reports = [];
  }
}

describe.skipIf(chromium === undefined && !requireTools)('the browser page (headless Chromium)', () => {
  it('finds a browser', () => {
    expect(chromium, 'install Chromium (apt-get install chromium) or set CHROMIUM').toBeDefined();
  });

  it('loads a saved model over HTTP and translates exactly as the toolkit does in Node (greedy and beam 3)', async () => {
    const got = await openPage('model/');
    expect(got.error).toBeUndefined();
    expect(got.greedy).toEqual(expected.greedy);
    expect(got.beam).toEqual(expected.beam);
    expect(got.greedy![2]).toBe('');
  }, 120_000);

  it('refuses a model whose weights file was damaged, naming it', async () => {
    const got = await openPage('broken/');
    expect(got.error).toMatch(/broken\/weights-[0-9a-f]{16}\.bin: checksum mismatch/);
  }, 120_000);
});

describe.skipIf(chromium === undefined && !requireTools)('translate web (headless Chromium)', () => {
  const sentences = ['the cat sat on the mat', 'a dog ran', 'the dog sat', 'a cat ran on the mat'];
  const french = [
    'le chat était assis sur le tapis',
    'un chien courait',
    'le chien était assis',
    'un chat courait sur le tapis',
  ];
  const webInputs = ['the cat ran', 'a dog sat on the zebra', '', 'mat mat'];

  it('serves a word model checked in Node; the page translates exactly as Node does (greedy and beam 3, n-best, attention), names the model, languages and backend, and warns of unknown words', async () => {
    const words = new WordTokenizer();
    const source = Vocabulary.build(sentences.map((l) => words.tokenize(l)));
    const target = Vocabulary.build(french.map((l) => words.tokenize(l)));
    const t = new Translator(
      new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 16, embeddingSize: 8, seed: 3 }, source.size, target.size),
      source,
      target,
      words,
      words,
      { corpus: 'train.{en,fr}' },
    );
    const dir = join(mkdtempSync(join(tmpdir(), 'web-word-')), 'animals');
    await t.save(dir);
    const greedy = t.translate(webInputs);
    const beam = t.translate(webInputs, { beamSize: 3, nBest: 3 });
    const aligned = t.translate(webInputs, { alignments: 'best' });
    t.dispose();
    const bundleInRepo = join(root, 'web/translate.js');
    const before = existsSync(bundleInRepo) ? statSync(bundleInRepo).mtimeMs : null;
    const models = await checkWebModels([dir]);
    expect(models).toEqual([
      {
        name: 'animals',
        dir,
        kind: 'seq2seq',
        languages: { source: 'en', target: 'fr' },
        weights: expect.any(Number),
        example: null,
      },
    ]);
    const site = await startWebSite(models, { port: 0 });
    const open = (extra: string): Promise<PageReport> =>
      openUrl(
        `${site.url}?report=${encodeURIComponent(`${base}/result`)}&inputs=${encodeURIComponent(JSON.stringify(webInputs))}${extra}`,
      );
    try {
      const got = await open('&backend=cpu');
      expect(got.error).toBeUndefined();
      expect(got.greedy).toEqual(greedy.map((r) => r.text));
      expect(got.beam).toEqual(beam.map((r) => r.text));
      expect(got.nBest).toEqual(beam.map((r) => r.nBest.map((h) => h.text)));
      expect(got.unknown).toEqual(greedy.map((r) => r.unknownTokens));
      expect(got.unknown![1]).toEqual(['zebra']);
      expect(got.where).toBe('in a Web Worker');
      expect(got.backend).toBe('cpu');
      expect(got.status).toMatch(/^model animals \(en → fr\), [\d,]+ weights; backend cpu, in a Web Worker$/);
      // The attention heat maps: where each output token attended most, as in Node, a row per output token and a
      // column per source token (the empty line has none).
      expect(got.alignment).toEqual(aligned.map((r) => r.nBest[0]?.alignment ?? []));
      const shown = aligned.filter((r) => (r.nBest[0]?.alignment?.length ?? 0) > 0).slice(0, 3);
      expect(shown.length).toBeGreaterThan(1);
      expect(got.heatmaps).toEqual(
        shown.map((r) => ({ rows: r.nBest[0]!.alignment!.length, columns: r.sourceTokens.length })),
      );
      // The page's default: the wasm backend with the toolkit's kernels, as Node's wasm backend translates.
      await selectBackend('wasm', process.env, { blas: 'none', wasmThreads: 1 });
      const onWasm = await Translator.load(dir);
      const wasmGreedy = onWasm.translate(webInputs).map((r) => r.text);
      const wasmBeam = onWasm.translate(webInputs, { beamSize: 3 }).map((r) => r.text);
      onWasm.dispose();
      await selectBackend('cpu');
      const wasm = await open('');
      expect(wasm.error).toBeUndefined();
      expect(wasm.backend).toBe('wasm');
      expect(wasm.greedy).toEqual(wasmGreedy);
      expect(wasm.beam).toEqual(wasmBeam);
    } finally {
      await site.close();
    }
    // The bundle was built outside the repository.
    expect(existsSync(bundleInRepo) ? statSync(bundleInRepo).mtimeMs : null).toBe(before);
  }, 180_000);

  it('serves a SentencePiece model: the page fetches its .model file and sentencepiece.js, and translates exactly as Node does (greedy and beam 3)', async () => {
    const t = await tinySentencePieceTranslator({ corpus: 'train.{de,en}' });
    const dir = join(mkdtempSync(join(tmpdir(), 'web-sp-')), 'subwords');
    await t.save(dir);
    // Text the pieces were not made for, too: characters outside the model and an emoji.
    const spInputs = ['Ich freue mich , dass ich da bin .', 'Größe „Graffiti“ 😀', '', 'ein Haus'];
    const greedy = t.translate(spInputs).map((r) => r.text);
    const beam = t.translate(spInputs, { beamSize: 3 }).map((r) => r.text);
    t.dispose();
    const models = await checkWebModels([dir]);
    expect(models.map((m) => m.languages)).toEqual([{ source: 'de', target: 'en' }]);
    const served = await startWebSite(models, { port: 0 });
    try {
      const got = await openUrl(
        `${served.url}?report=${encodeURIComponent(`${base}/result`)}&inputs=${encodeURIComponent(JSON.stringify(spInputs))}&backend=cpu`,
      );
      expect(got.error).toBeUndefined();
      expect(got.greedy).toEqual(greedy);
      expect(got.beam).toEqual(beam);
      expect(got.greedy!.filter((line) => line !== '')).toHaveLength(3);
    } finally {
      await served.close();
    }
  }, 180_000);

  it('serves the heads: a classifier, a language model and a forecaster each load in the page, with their own form, and answer as in Node', async () => {
    const dirs = {
      sentiment: await saveTinyClassifier(),
      letters: await saveTinyLanguageModel(),
      series: await saveTinyForecaster(),
    };
    const texts = ['good film', 'bad plot', '', 'film film'];
    const prompts = ['abc', 'j'];
    const rows = ['1', '2', '3', '4', '5', '6'];
    const classifier = await TextClassifier.load(dirs.sentiment);
    const predictions = classifier.predictTexts(texts.filter((t) => t !== ''));
    classifier.dispose();
    const lm = await TextLanguageModel.load(dirs.letters);
    const generations = lm.generate(prompts, { maxLength: 12, temperature: 1, seed: 5 });
    lm.dispose();
    const forecaster = await SeriesForecaster.load(dirs.series);
    const horizon = forecaster.model.config.horizon;
    const forecast = Array.from(forecaster.forecastAhead([rows.map(Number)], horizon)[0]!);
    forecaster.dispose();
    const models = await checkWebModels(Object.entries(dirs).map(([name, dir]) => `${name}=${dir}`));
    expect(models.map((m) => m.kind)).toEqual(['classifier', 'lm', 'forecaster']);
    const served = await startWebSite(models, { port: 0 });
    const open = (name: string, inputs: string[]): Promise<PageReport> =>
      openUrl(
        `${served.url}?model=models/${name}/&backend=cpu&report=${encodeURIComponent(`${base}/result`)}&inputs=${encodeURIComponent(JSON.stringify(inputs))}`,
      );
    try {
      const c = await open('sentiment', texts);
      expect(c.error).toBeUndefined();
      expect(c.kind).toBe('classifier');
      const labels: (string | null)[] = predictions.map((p) => p.label);
      labels.splice(2, 0, null); // the empty line
      expect(c.predictions!.map((p) => p?.label ?? null)).toEqual(labels);
      c.predictions!.filter((p) => p !== null).forEach((p, i) =>
        expect(p.probability).toBeCloseTo(predictions[i]!.probability, 5),
      );
      expect(c.shown!.split('\n')[0]).toMatch(/^(neg|pos) \(probability 0\.\d{3}\)$/);
      expect(c.status).toMatch(/^model models\/sentiment\/, [\d,]+ weights; backend cpu, in a Web Worker/);
      const g = await open('letters', prompts);
      expect(g.error).toBeUndefined();
      expect(g.kind).toBe('lm');
      expect(g.generations).toEqual(generations);
      const f = await open('series', rows);
      expect(f.error).toBeUndefined();
      expect(f.kind).toBe('forecaster');
      expect(Object.keys(f.forecast!)).toEqual(['y']);
      f.forecast!['y']!.forEach((v, i) => expect(v).toBeCloseTo(forecast[i]!, 4));
      expect(f.shown).toMatch(/^y: [-\d.e]+, [-\d.e]+$/);
    } finally {
      await served.close();
    }
  }, 180_000);

  it('stays responsive while translating: an input event queued during a long translation is handled before it ends (in the page without the worker, it is not)', async () => {
    const served = await startWebSite(await checkWebModels([join(site, 'model')]), { port: 0 });
    try {
      const open = (extra: string): Promise<PageReport> =>
        openUrl(
          `${served.url}?report=${encodeURIComponent(`${base}/result`)}&inputs=${encodeURIComponent(JSON.stringify(inputs))}&backend=cpu&probe=400${extra}`,
        );
      const worker = await open('');
      expect(worker.error).toBeUndefined();
      expect(worker.where).toBe('in a Web Worker');
      expect(worker.probe!.seconds).toBeGreaterThan(0.1);
      expect(worker.probe!.inputHandledDuring).toBe(true);
      // The control: the same translation in the page's own thread blocks the event until it ends.
      const page = await open('&no-worker');
      expect(page.where).toBe('in the page');
      expect(page.probe!.inputHandledDuring).toBe(false);
    } finally {
      await served.close();
    }
  }, 180_000);
});

describe('the browser bundle', () => {
  it('leaves out Node-only code paths and the native tfjs packages; carries the wasm backend (its binaries are fetched beside it)', () => {
    const bundle = readFileSync(join(site, 'translate.js'), 'utf8');
    // sentencepiece-js (its WebAssembly inlined) is a file of its own, loaded only for SentencePiece models.
    expect(bundle).toContain('sentencepiece.js');
    expect(bundle).not.toContain('EncodeAsPieces');
    expect(readFileSync(join(site, 'sentencepiece.js'), 'utf8')).toContain('EncodeAsPieces');
    expect(bundle).toContain('loadTranslator');
    expect(bundle).toContain('useBackend');
    expect(bundle).toContain('tfjs-backend-wasm-simd.wasm');
    // tfjs-core's hint names tfjs-node in a string; its code and the native BLAS binding stay out.
    expect(bundle).not.toMatch(/require\("@tensorflow\/tfjs-node|koffi/);
    expect(bundle.length).toBeLessThan(1_500_000);
  });
});
