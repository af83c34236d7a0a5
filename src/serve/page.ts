// The browser page at / (web/index.html): the page loads the toolkit's browser bundle (/translate.js) and the first
// translation model's files (/model/…) and translates in the browser, as `npm run web` does. The bundle is built
// with web/build.mjs on the first request for it, into a temporary folder that is removed when the server closes.
import type { FastifyInstance } from 'fastify';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RequestError } from './server.js';

// src/serve/ and dist/serve/ both sit two levels below the package root, beside web/.
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));

/**
 * Routes for the page. `modelDir()` is the directory of the model the page loads: null while the models load,
 * undefined when no translation model is served.
 */
export function registerPage(app: FastifyInstance, modelDir: () => string | null | undefined): void {
  let bundle: Promise<string> | undefined;
  let folder: string | undefined;

  const buildBundle = async (): Promise<string> => {
    folder = await mkdtemp(path.join(tmpdir(), 'seq2seq-ts-web-'));
    // A path computed at run time: web/build.mjs is plain JavaScript outside the TypeScript project.
    const build = (await import(path.join(WEB, 'build.mjs'))) as { buildWeb(outfile: string): Promise<string> };
    return readFile(await build.buildWeb(path.join(folder, 'translate.js')), 'utf8');
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

  app.get('/translate.js', async (_req, reply) => {
    bundle ??= buildBundle();
    let js: string;
    try {
      js = await bundle;
    } catch (e) {
      bundle = undefined;
      throw new RequestError(503, `the browser bundle cannot be built here (${(e as Error).message.split('\n')[0]})`);
    }
    return reply.type('text/javascript; charset=utf-8').send(js);
  });

  app.get<{ Params: { file: string } }>('/model/:file', async (req, reply) => {
    const dir = modelDir();
    if (dir === null) throw new RequestError(503, 'the models are still loading');
    if (dir === undefined) throw new RequestError(404, 'no translation model is served, so the page has none to load');
    const json = await readFile(path.join(dir, 'model.json'), 'utf8');
    const file = req.params.file;
    // Only model.json and the files it names (weights, tokenizer models): nothing else of the folder is exposed.
    if (file !== 'model.json' && !(path.basename(file) === file && json.includes(JSON.stringify(file)))) {
      throw new RequestError(404, `no file ${file} in the model`);
    }
    if (file === 'model.json') return reply.type('application/json').send(json);
    return reply.type('application/octet-stream').send(await readFile(path.join(dir, file)));
  });
}
