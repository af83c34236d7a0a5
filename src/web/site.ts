// The site of `translate web`: the browser page (web/index.html), its script and worker (web/worker.js), the toolkit
// bundled for the browser (translate.js and sentencepiece.js, built by web/build.mjs into a temporary folder, never
// into the package), tfjs's wasm binaries, a list of the models, and each model's files. Nothing else on disk is
// reachable.
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { ToolkitError } from '../errors.js';
import { modelListJson, readListedModelFile, type ListedModel } from '../model/listing.js';

// src/web/ and dist/web/ both sit two levels below the package root, beside web/.
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
/** tfjs-backend-wasm's binaries (plain, SIMD, threaded SIMD), served at /wasm/ for the page's wasm backend. */
const WASM_FILES = /^tfjs-backend-wasm(-simd|-threaded-simd)?\.wasm$/;

export class WebSiteError extends ToolkitError {
  override name = 'WebSiteError';
}

/** What the page is told about a model (GET /models.json). */
export type WebModel = ListedModel;

export interface WebSiteOptions {
  host: string;
  /** 0: any free port. */
  port: number;
}

export const DEFAULT_WEB_SITE: WebSiteOptions = { host: '127.0.0.1', port: 8080 };

export interface WebSite {
  server: Server;
  /** http://host:port/ */
  url: string;
  /** Stops serving and removes the built bundle. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
};

/** Builds the browser bundle into a temporary folder; returns the folder and its files' text by name. */
async function buildBundle(): Promise<{ folder: string; files: Record<string, string> }> {
  const folder = await mkdtemp(path.join(tmpdir(), 'seq2seq-ts-web-'));
  try {
    // A path computed at run time: web/build.mjs is plain JavaScript outside the TypeScript project.
    const build = (await import(path.join(WEB, 'build.mjs'))) as {
      buildWebFiles(folder: string): Promise<Record<string, string>>;
    };
    return { folder, files: await build.buildWebFiles(folder) };
  } catch (e) {
    await rm(folder, { recursive: true, force: true });
    throw new WebSiteError(`the browser bundle cannot be built here (${(e as Error).message.split('\n')[0]})`);
  }
}

/** Builds the bundle, then serves the page and the models; resolves once listening. */
export async function startWebSite(
  models: readonly WebModel[],
  options: Partial<WebSiteOptions> = {},
): Promise<WebSite> {
  const o = { ...DEFAULT_WEB_SITE, ...options };
  const { folder, files } = await buildBundle();
  const byName = new Map(models.map((m) => [m.name, m]));
  const wasmDir = path.dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
  const list = modelListJson(models);

  const answer = async (pathname: string): Promise<{ type: string; body: string | Buffer } | null> => {
    if (pathname === '/' || pathname === '/index.html')
      return { type: TYPES['.html']!, body: await readFile(path.join(WEB, 'index.html')) };
    if (pathname === '/worker.js') return { type: TYPES['.js']!, body: await readFile(path.join(WEB, 'worker.js')) };
    const bundled = /^\/(translate|sentencepiece)\.js$/.test(pathname) ? files[pathname.slice(1)] : undefined;
    if (bundled !== undefined) return { type: TYPES['.js']!, body: bundled };
    if (pathname === '/models.json') return { type: TYPES['.json']!, body: list };
    const wasm = /^\/wasm\/([^/]+)$/.exec(pathname);
    if (wasm !== null && WASM_FILES.test(wasm[1]!))
      return { type: 'application/wasm', body: await readFile(path.join(wasmDir, wasm[1]!)) };
    const m = /^\/models\/([^/]+)\/([^/]+)$/.exec(pathname);
    const model = m === null ? undefined : byName.get(decodeURIComponent(m[1]!));
    if (model === undefined) return null;
    const read = await readListedModelFile(model.dir, decodeURIComponent(m![2]!));
    if ('missing' in read) return null;
    return { type: read.modelJson ? TYPES['.json']! : 'application/octet-stream', body: read.body };
  };

  const server = createServer((req, res) => {
    const pathname = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    answer(pathname).then(
      (found) => {
        if (found === null) res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}\n`);
        else res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-cache' }).end(found.body);
      },
      () => res.writeHead(404, { 'content-type': 'text/plain' }).end(`not found: ${pathname}\n`),
    );
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port, o.host, () => resolve());
    });
  } catch (e) {
    await rm(folder, { recursive: true, force: true });
    throw new WebSiteError(
      `cannot listen on ${o.host}:${o.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const port = (server.address() as { port: number }).port;
  return {
    server,
    url: `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}/`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await rm(folder, { recursive: true, force: true });
    },
  };
}
