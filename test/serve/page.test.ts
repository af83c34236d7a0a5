// registerPage on a bare fastify instance: the page, its worker, tfjs's wasm binaries, the browser bundle (built in a
// temporary folder that closing the server removes), the list of the served models and each one's files, with
// nothing else of a model folder reachable; models still loading give 503, no translation model 404 at /model/.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import Fastify, { type FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { registerPage, type PageModel } from '../../src/serve/page.js';
import { RequestError } from '../../src/serve/requestError.js';
import { useTestBackend } from '../helpers/backend.js';
import { saveTinyTranslator } from '../helpers/serveModels.js';

const root = resolve(import.meta.dirname, '../..');
let modelDir = '';
let scratch = '';
const tmpBefore = process.env['TMPDIR'];

beforeAll(async () => {
  await useTestBackend();
  modelDir = await saveTinyTranslator(4);
  writeFileSync(join(modelDir, 'notes.txt'), 'not for the page');
  // The bundle's temporary folder goes under a folder of this file's own, so that it can be watched.
  scratch = mkdtempSync(join(tmpdir(), 'page-test-'));
  process.env['TMPDIR'] = scratch;
});

afterAll(() => {
  if (tmpBefore === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = tmpBefore;
});

/** The page's routes, with the server's mapping of RequestError to its status and message. */
function app(models: () => readonly PageModel[] | null): FastifyInstance {
  const a = Fastify();
  a.setErrorHandler((err, _req, reply) => {
    if (err instanceof RequestError) return reply.status(err.status).send({ error: err.message });
    return reply.status(500).send({ error: `unexpected: ${(err as Error).message}` });
  });
  registerPage(a, models);
  return a;
}

/** A served model of `dir`, as the server describes it to the page. */
const served = (dir: string, name = 'm', kind: PageModel['kind'] = 'seq2seq'): PageModel => ({
  name,
  dir,
  kind,
  languages: null,
  weights: 1,
  example: null,
});

describe('registerPage', () => {
  it('serves web/index.html at / and web/worker.js, as the files on disk', async () => {
    const a = app(() => [served(modelDir)]);
    const page = await a.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.body).toBe(readFileSync(join(root, 'web/index.html'), 'utf8'));
    const worker = await a.inject({ method: 'GET', url: '/worker.js' });
    expect(worker.statusCode).toBe(200);
    expect(worker.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(worker.body).toBe(readFileSync(join(root, 'web/worker.js'), 'utf8'));
    await a.close();
  });

  it('serves the three tfjs wasm binaries and nothing else under /wasm/', async () => {
    const a = app(() => [served(modelDir)]);
    for (const variant of ['', '-simd', '-threaded-simd']) {
      const name = `tfjs-backend-wasm${variant}.wasm`;
      const r = await a.inject({ method: 'GET', url: `/wasm/${name}` });
      expect(r.statusCode).toBe(200);
      expect(r.headers['content-type']).toBe('application/wasm');
      expect([...r.rawPayload.subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
    }
    for (const name of ['other.wasm', 'tfjs-backend-wasm.js', '..%2Fpackage.json', 'tfjs-backend-wasm-simd.wasm.map']) {
      const r = await a.inject({ method: 'GET', url: `/wasm/${name}` });
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe(`no file ${decodeURIComponent(name)} in /wasm/`);
    }
    await a.close();
  });

  it('serves model.json and the files it names, and nothing else of the model folder', async () => {
    const a = app(() => [served(modelDir)]);
    const json = await a.inject({ method: 'GET', url: '/model/model.json' });
    expect(json.statusCode).toBe(200);
    expect(json.headers['content-type']).toMatch(/^application\/json/);
    expect(json.body).toBe(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    const weightsFile = json.json().weights.file as string;
    const weights = await a.inject({ method: 'GET', url: `/model/${weightsFile}` });
    expect(weights.statusCode).toBe(200);
    expect(weights.headers['content-type']).toBe('application/octet-stream');
    expect(Buffer.compare(weights.rawPayload, readFileSync(join(modelDir, weightsFile)))).toBe(0);
    expect(readdirSync(modelDir)).toContain('notes.txt');
    for (const file of ['notes.txt', '..%2Fmodel.json', `..%2F${weightsFile}`, '%2Fetc%2Fpasswd']) {
      const r = await a.inject({ method: 'GET', url: `/model/${file}` });
      expect(r.statusCode).toBe(404);
      expect(r.json().error).toBe(`no file ${decodeURIComponent(file)} in the model`);
    }
    await a.close();
  });

  it('serves only files model.json names with a checksum, not any name that appears in it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'page-named-'));
    const json = JSON.parse(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    json.extra = { ...json.extra, notes: 'notes.txt' };
    writeFileSync(join(dir, 'model.json'), JSON.stringify(json));
    writeFileSync(join(dir, 'notes.txt'), 'private');
    writeFileSync(join(dir, json.weights.file), readFileSync(join(modelDir, json.weights.file)));
    const a = app(() => [served(dir)]);
    expect((await a.inject({ method: 'GET', url: '/model/notes.txt' })).statusCode).toBe(404);
    expect((await a.inject({ method: 'GET', url: `/model/${json.weights.file}` })).statusCode).toBe(200);
    const empty = mkdtempSync(join(tmpdir(), 'page-empty-'));
    const missing = await a
      .close()
      .then(() => app(() => [served(empty)]).inject({ method: 'GET', url: '/model/model.json' }));
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error).toBe('the served model has no model.json');
  });

  it('lists every served model at /models.json, in order, and serves the files of each at /models/NAME/', async () => {
    const second = await saveTinyTranslator(5);
    const models: PageModel[] = [
      { ...served(modelDir, 'sentiment', 'classifier'), weights: 10 },
      { ...served(modelDir, 'de-en'), languages: { source: 'de', target: 'en' }, weights: 20 },
      { ...served(second, 'number-words'), example: 'one two five', weights: 30 },
    ];
    const a = app(() => models);
    const list = await a.inject({ method: 'GET', url: '/models.json' });
    expect(list.statusCode).toBe(200);
    expect(list.headers['content-type']).toMatch(/^application\/json/);
    // What the page reads; the directories stay on the server.
    expect(list.json()).toEqual(
      models.map(({ name, kind, languages, weights, example }) => ({
        name,
        kind,
        url: `models/${name}/`,
        languages,
        weights,
        example,
      })),
    );
    expect(list.body).not.toContain(modelDir);
    for (const [name, dir] of [
      ['de-en', modelDir],
      ['number-words', second],
    ] as const) {
      const json = await a.inject({ method: 'GET', url: `/models/${name}/model.json` });
      expect(json.statusCode).toBe(200);
      expect(json.body).toBe(readFileSync(join(dir, 'model.json'), 'utf8'));
      const weightsFile = json.json().weights.file as string;
      const weights = await a.inject({ method: 'GET', url: `/models/${name}/${weightsFile}` });
      expect(Buffer.compare(weights.rawPayload, readFileSync(join(dir, weightsFile)))).toBe(0);
      expect((await a.inject({ method: 'GET', url: `/models/${name}/notes.txt` })).statusCode).toBe(404);
    }
    const unknown = await a.inject({ method: 'GET', url: '/models/fr-en/model.json' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error).toBe('no model "fr-en"');
    // /model/ stays the first translation model, past a classifier listed before it.
    const first = await a.inject({ method: 'GET', url: '/model/model.json' });
    expect(first.body).toBe(readFileSync(join(modelDir, 'model.json'), 'utf8'));
    await a.close();
  });

  it('answers 503 while the models load and 404 when no translation model is served', async () => {
    let list: PageModel[] | null = null;
    const a = app(() => list);
    const loading = await a.inject({ method: 'GET', url: '/model/model.json' });
    expect(loading.statusCode).toBe(503);
    expect(loading.json().error).toBe('the models are still loading');
    expect((await a.inject({ method: 'GET', url: '/models.json' })).statusCode).toBe(503);
    list = [served(modelDir, 'clf', 'classifier')];
    const none = await a.inject({ method: 'GET', url: '/model/model.json' });
    expect(none.statusCode).toBe(404);
    expect(none.json().error).toBe('no translation model is served, so the page has none to load');
    // The page itself is there either way; the model comes when it is loaded.
    expect((await a.inject({ method: 'GET', url: '/' })).statusCode).toBe(200);
    list = [served(modelDir)];
    expect((await a.inject({ method: 'GET', url: '/model/model.json' })).statusCode).toBe(200);
    await a.close();
  });

  it('builds the browser bundle once, outside the repository, and removes it when the server closes', async () => {
    const a = app(() => [served(modelDir)]);
    const bundleInRepo = existsSync(join(root, 'web/translate.js'));
    const [first, second] = await Promise.all([
      a.inject({ method: 'GET', url: '/translate.js' }),
      a.inject({ method: 'GET', url: '/translate.js' }),
    ]);
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(first.body).toContain('loadTranslator');
    expect(second.body).toBe(first.body);
    expect((await a.inject({ method: 'GET', url: '/translate.js' })).body).toBe(first.body);
    // sentencepiece-js, from the same build, for SentencePiece models.
    const sentencePiece = await a.inject({ method: 'GET', url: '/sentencepiece.js' });
    expect(sentencePiece.statusCode).toBe(200);
    expect(sentencePiece.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(sentencePiece.body).toContain('EncodeAsPieces');
    // One build, in one temporary folder under TMPDIR.
    const folders = readdirSync(scratch).filter((f) => f.startsWith('seq2seq-ts-web-'));
    expect(folders).toHaveLength(1);
    expect(readFileSync(join(scratch, folders[0]!, 'translate.js'), 'utf8')).toBe(first.body);
    expect(existsSync(join(root, 'web/translate.js'))).toBe(bundleInRepo);
    await a.close();
    expect(readdirSync(scratch).filter((f) => f.startsWith('seq2seq-ts-web-'))).toEqual([]);
  });

  it('closing a server that never built the bundle removes nothing and does not fail', async () => {
    const a = app(() => [served(modelDir)]);
    await a.inject({ method: 'GET', url: '/' });
    await expect(a.close()).resolves.toBeUndefined();
  });
});
