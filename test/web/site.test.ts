// startWebSite over real HTTP, without a browser (test/browser/web.test.ts drives Chromium against it): the page,
// worker, bundle, wasm binaries, the model list (model folders not disclosed) and each model's files, with nothing
// else reachable; 404 for the rest, 405 for other methods, a port in use refused in one line, and the bundle's
// temporary folder removed on close and on a failed start.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startWebSite, WebSiteError, DEFAULT_WEB_SITE, type WebModel } from '../../src/web/site.js';
import { ToolkitError } from '../../src/errors.js';
import { useTestBackend } from '../helpers/backend.js';
import { saveTinyTranslator } from '../helpers/serveModels.js';

const root = resolve(import.meta.dirname, '../..');
let models: WebModel[] = [];
let scratch = '';
const tmpBefore = process.env['TMPDIR'];

beforeAll(async () => {
  await useTestBackend();
  const a = await saveTinyTranslator(5);
  const b = await saveTinyTranslator(6);
  writeFileSync(join(a, 'notes.txt'), 'private');
  models = [
    {
      name: 'numbers',
      dir: a,
      kind: 'seq2seq',
      languages: { source: 'en', target: 'fr' },
      weights: 123,
      example: 'one two',
    },
    { name: 'a b/é', dir: b, kind: 'seq2seq', languages: null, weights: 456, example: null },
  ];
  // The bundle's temporary folder goes under a folder of this file's own, so that it can be watched.
  scratch = mkdtempSync(join(tmpdir(), 'site-test-'));
  process.env['TMPDIR'] = scratch;
});

afterAll(() => {
  if (tmpBefore === undefined) delete process.env['TMPDIR'];
  else process.env['TMPDIR'] = tmpBefore;
});

const bundles = (): string[] => readdirSync(scratch).filter((f) => f.startsWith('seq2seq-ts-web-'));

describe('startWebSite', () => {
  it('defaults to 127.0.0.1:8080', () => {
    expect(DEFAULT_WEB_SITE).toEqual({ host: '127.0.0.1', port: 8080 });
  });

  it("serves the page, worker, bundle, model list (no folders), each model's named files, nothing else", async () => {
    const site = await startWebSite(models, { port: 0 });
    try {
      expect(site.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      expect(site.url).toBe(`http://127.0.0.1:${(site.server.address() as { port: number }).port}/`);
      expect(bundles()).toHaveLength(1);
      for (const path of ['', 'index.html']) {
        const page = await fetch(site.url + path);
        expect(page.status).toBe(200);
        expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(page.headers.get('cache-control')).toBe('no-cache');
        expect(await page.text()).toBe(readFileSync(join(root, 'web/index.html'), 'utf8'));
      }
      const worker = await fetch(`${site.url}worker.js`);
      expect(worker.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await worker.text()).toBe(readFileSync(join(root, 'web/worker.js'), 'utf8'));
      const bundle = await (await fetch(`${site.url}translate.js`)).text();
      expect(bundle).toContain('loadTranslator');
      expect(bundle).toBe(readFileSync(join(scratch, bundles()[0]!, 'translate.js'), 'utf8'));
      const sentencePiece = await fetch(`${site.url}sentencepiece.js`);
      expect(sentencePiece.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await sentencePiece.text()).toContain('EncodeAsPieces');
      const list = await fetch(`${site.url}models.json`);
      expect(list.headers.get('content-type')).toBe('application/json');
      expect(await list.json()).toEqual([
        {
          name: 'numbers',
          kind: 'seq2seq',
          url: 'models/numbers/',
          languages: { source: 'en', target: 'fr' },
          weights: 123,
          example: 'one two',
        },
        { name: 'a b/é', kind: 'seq2seq', url: 'models/a%20b%2F%C3%A9/', languages: null, weights: 456, example: null },
      ]);
      expect(JSON.stringify(await (await fetch(`${site.url}models.json`)).json())).not.toContain(models[0]!.dir);
      const head = await fetch(`${site.url}models.json`, { method: 'HEAD' });
      expect(head.status).toBe(200);

      // Each model's model.json and the files it names, by the name in the list; nothing else.
      for (const m of models) {
        const base = `${site.url}models/${encodeURIComponent(m.name)}/`;
        const json = await fetch(`${base}model.json`);
        expect(json.status).toBe(200);
        const text = await json.text();
        expect(text).toBe(readFileSync(join(m.dir, 'model.json'), 'utf8'));
        const file = JSON.parse(text).weights.file as string;
        const weights = await fetch(base + file);
        expect(weights.headers.get('content-type')).toBe('application/octet-stream');
        expect(Buffer.from(await weights.arrayBuffer()).equals(readFileSync(join(m.dir, file)))).toBe(true);
      }
      const notFound = [
        'models/numbers/notes.txt',
        'models/numbers/..%2Fnotes.txt',
        'models/nobody/model.json',
        'models/numbers/',
        'models/numbers',
        'wasm/other.wasm',
        'wasm/tfjs-backend-wasm.js',
        'package.json',
        'src/index.ts',
        '..%2Fpackage.json',
        'web/index.html',
      ];
      for (const path of notFound) {
        const r = await fetch(site.url + path);
        expect(r.status, path).toBe(404);
        expect(r.headers.get('content-type')).toBe('text/plain');
        expect(await r.text()).toMatch(/^not found: \/.*\n$/);
      }
      const wasm = await fetch(`${site.url}wasm/tfjs-backend-wasm-simd.wasm`);
      expect(wasm.headers.get('content-type')).toBe('application/wasm');
      expect([...new Uint8Array(await wasm.arrayBuffer()).subarray(0, 4)]).toEqual([0, 0x61, 0x73, 0x6d]);
      for (const method of ['POST', 'PUT', 'DELETE']) expect((await fetch(site.url, { method })).status).toBe(405);
    } finally {
      await site.close();
    }
    expect(bundles()).toEqual([]);
  });

  it('refuses a port in use in one line, naming host and port, and leaves no bundle folder behind', async () => {
    const blocker = createServer();
    await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
    const port = (blocker.address() as { port: number }).port;
    try {
      const error = await startWebSite(models, { port }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WebSiteError);
      expect((error as Error).message).toBe(`cannot listen on 127.0.0.1:${port} (EADDRINUSE)`);
      expect(bundles()).toEqual([]);
    } finally {
      await new Promise<void>((done) => blocker.close(() => done()));
    }
    expect(new WebSiteError('x')).toBeInstanceOf(ToolkitError);
  });

  it('writes nothing into the repository, and serves an empty model list', async () => {
    const before = existsSync(join(root, 'web/translate.js'));
    const site = await startWebSite([], { port: 0 });
    try {
      expect(await (await fetch(`${site.url}models.json`)).json()).toEqual([]);
    } finally {
      await site.close();
    }
    expect(existsSync(join(root, 'web/translate.js'))).toBe(before);
    expect(bundles()).toEqual([]);
  });
});
