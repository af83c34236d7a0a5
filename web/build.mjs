// Bundles src/browser/index.ts for web pages: translate.js (an ES module; dist/web/ unless told where), and beside it
// sentencepiece.js (sentencepiece-js as an ES module, 750 kB, which translate.js imports only for a model that needs
// it). Node-only modules the toolkit imports (file system, child processes) become empty stubs: the browser entry
// never calls the code that uses them. sentencepiece-js reads its model with fs.readFileSync(argument): the `fs`
// stand-in hands back the bytes it is given (SentencePieceTokenizer.fromBytes passes the fetched bytes).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { readFile } from 'node:fs/promises';

const root = fileURLToPath(new URL('..', import.meta.url));

const nodeStubs = {
  name: 'node-stubs',
  setup(b) {
    b.onResolve({ filter: /^node:|^(fs|path|os|crypto|child_process|module|zlib|util|stream|url)$/ }, (args) => ({
      path: args.path,
      namespace: 'node-stub',
    }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (args) => ({
      // natural's tokenizers build their classes with util.inherits at load time: that one is provided.
      contents: /^(node:)?util$/.test(args.path)
        ? 'module.exports = { inherits(c, s) { Object.setPrototypeOf(c.prototype, s.prototype); Object.setPrototypeOf(c, s); } };'
        : /^(node:)?fs$/.test(args.path)
          ? 'module.exports = { readFileSync(x) { if (x instanceof Uint8Array) return x; throw new Error("no file system in a web page: " + x); } };'
          : 'module.exports = {};',
      loader: 'js',
    }));
  },
};

const common = {
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2022',
  plugins: [nodeStubs],
  logLevel: 'warning',
  legalComments: 'none',
  minify: true,
  define: { 'process.env.NODE_ENV': '"production"' },
};

/** Writes translate.js to `outfile` and sentencepiece.js beside it; returns `outfile`. */
export async function buildWeb(outfile = `${root}dist/web/translate.js`) {
  await build({ ...common, entryPoints: [`${root}src/browser/index.ts`], outfile });
  await build({
    ...common,
    stdin: { contents: "export { SentencePieceProcessor } from 'sentencepiece-js';", resolveDir: root, loader: 'js' },
    outfile: join(dirname(outfile), 'sentencepiece.js'),
    // Its CommonJS build computes import.meta.url from `document`, else from Node's __filename, as it loads: in a
    // Web Worker (no document) that would throw. A stand-in document with no current script answers instead.
    banner: {
      js: 'var document = globalThis.document ?? { currentScript: null, baseURI: globalThis.location?.href ?? "" };',
    },
  });
  return outfile;
}

/** Builds both files into `folder` and returns their text by file name (what `translate web` and `serve` serve). */
export async function buildWebFiles(folder) {
  await buildWeb(join(folder, 'translate.js'));
  const names = ['translate.js', 'sentencepiece.js'];
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, await readFile(join(folder, n), 'utf8')])));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2]);
  process.stdout.write(`${out}\n`);
}
