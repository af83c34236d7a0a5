// The browser page at / (web/index.html), as `translate web` serves it: the page, its worker (web/worker.js), the
// toolkit's browser bundle (/translate.js, and /sentencepiece.js for SentencePiece models), tfjs's wasm binaries
// (/wasm/…), the list of the served models (/models.json, which gives the page its model menu) and each one's files
// (/models/NAME/…; /model/… is the first translation model's); it runs the models in the browser. The bundle is
// built with web/build.mjs on the first request for it, into a temporary folder that is removed when the server
// closes.
import type { FastifyInstance, FastifyReply } from 'fastify';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { RequestError } from './requestError.js';
import { modelListJson, readListedModelFile, type ListedModel } from '../model/listing.js';

// src/serve/ and dist/serve/ both sit two levels below the package root, beside web/.
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
/** tfjs-backend-wasm's binaries (plain, SIMD, threaded SIMD) for the page's wasm backend. */
const WASM_FILES = /^tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm$/;

/** A served model as the page lists it (GET /models.json, as `translate web`'s list). */
export type PageModel = ListedModel;

/** Routes for the page. `models()` is what the server holds, in its order: null while the models load. */
export function registerPage(app: FastifyInstance, models: () => readonly PageModel[] | null): void {
  let bundle: Promise<Record<string, string>> | undefined;
  let folder: string | undefined;

  /** The bundle's two files by name. */
  const buildBundle = async (): Promise<Record<string, string>> => {
    folder = await mkdtemp(path.join(tmpdir(), 'seq2seq-ts-web-'));
    // A path computed at run time: web/build.mjs is plain JavaScript outside the TypeScript project.
    const build = (await import(path.join(WEB, 'build.mjs'))) as {
      buildWebFiles(folder: string): Promise<Record<string, string>>;
    };
    return build.buildWebFiles(folder);
  };

  app.addHook('onClose', async () => {
    if (folder !== undefined) await rm(folder, { recursive: true, force: true });
  });

  app.get('/', async (_req, reply) => {
    const html = await readFile(path.join(WEB, 'index.html'), 'utf8').catch(() => {
      throw new RequestError(404, 'the browser page is not installed (web/index.html)');
    });
    return reply.type('text/html; charset=utf-8').send(html);
  });

  app.get('/worker.js', async (_req, reply) => {
    const js = await readFile(path.join(WEB, 'worker.js'), 'utf8').catch(() => {
      throw new RequestError(404, 'the browser page is not installed (web/worker.js)');
    });
    return reply.type('text/javascript; charset=utf-8').send(js);
  });

  app.get<{ Params: { file: string } }>('/wasm/:file', async (req, reply) => {
    if (!WASM_FILES.test(req.params.file)) throw new RequestError(404, `no file ${req.params.file} in /wasm/`);
    const dir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    return reply.type('application/wasm').send(await readFile(path.join(dir, req.params.file)));
  });

  for (const name of ['translate.js', 'sentencepiece.js'])
    app.get(`/${name}`, async (_req, reply) => {
      bundle ??= buildBundle();
      let files: Record<string, string>;
      try {
        files = await bundle;
      } catch (e) {
        bundle = undefined;
        throw new RequestError(503, `the browser bundle cannot be built here (${(e as Error).message.split('\n')[0]})`);
      }
      return reply.type('text/javascript; charset=utf-8').send(files[name]);
    });

  const loaded = (): readonly PageModel[] => {
    const list = models();
    if (list === null) throw new RequestError(503, 'the models are still loading');
    return list;
  };

  app.get('/models.json', async (_req, reply) => reply.type('application/json').send(modelListJson(loaded())));

  app.get<{ Params: { name: string; file: string } }>('/models/:name/:file', async (req, reply) => {
    const model = loaded().find((m) => m.name === req.params.name);
    if (model === undefined) throw new RequestError(404, `no model "${req.params.name}"`);
    return sendModelFile(reply, model.dir, req.params.file);
  });

  app.get<{ Params: { file: string } }>('/model/:file', async (req, reply) => {
    const model = loaded().find((m) => m.kind === 'seq2seq');
    if (model === undefined)
      throw new RequestError(404, 'no translation model is served, so the page has none to load');
    return sendModelFile(reply, model.dir, req.params.file);
  });
}

/** model.json of `dir`, or a file it names (readListedModelFile): 404 for anything else. */
async function sendModelFile(reply: FastifyReply, dir: string, file: string): Promise<FastifyReply> {
  const read = await readListedModelFile(dir, file);
  if ('missing' in read)
    throw new RequestError(
      404,
      read.missing === 'model.json' ? 'the served model has no model.json' : `no file ${file} in the model`,
    );
  return reply.type(read.modelJson ? 'application/json' : 'application/octet-stream').send(read.body);
}
