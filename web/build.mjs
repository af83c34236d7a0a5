// Bundles src/browser/index.ts for web pages: translate.js (an ES module; dist/web/ unless told where). Node-only modules the toolkit imports
// (file system, child processes) become empty stubs: the browser entry never calls the code that uses them.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

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
        : 'module.exports = {};',
      loader: 'js',
    }));
  },
};

export async function buildWeb(outfile = `${root}dist/web/translate.js`) {
  await build({
    entryPoints: [`${root}src/browser/index.ts`],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    outfile,
    plugins: [nodeStubs],
    logLevel: 'warning',
    legalComments: 'none',
    minify: true,
    define: { 'process.env.NODE_ENV': '"production"' },
  });
  return outfile;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = await buildWeb(process.argv[2]);
  process.stdout.write(`${out}\n`);
}
