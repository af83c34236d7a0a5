// `npm run web -- --model DIR [--port 8080]`: builds the browser bundle and serves this folder with the model
// directory at /model/, so http://localhost:PORT/ translates with it in the page.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildWeb } from './build.mjs';

const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const model = resolve(flag('--model', 'runs/number-words'));
const port = Number(flag('--port', '8080'));
const here = fileURLToPath(new URL('.', import.meta.url));
await buildWeb();
const types = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json', '.bin': 'application/octet-stream' };

createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const file = path.startsWith('/model/') ? join(model, path.slice('/model/'.length)) : join(here, path === '/' ? 'index.html' : path);
  if (!file.startsWith(model) && !file.startsWith(here)) {
    res.statusCode = 403;
    res.end();
    return;
  }
  try {
    const data = await readFile(file);
    res.setHeader('content-type', types[extname(file)] ?? 'application/octet-stream');
    res.end(data);
  } catch {
    res.statusCode = 404;
    res.end('not found');
  }
}).listen(port, '127.0.0.1', () => process.stdout.write(`serving ${model} at http://127.0.0.1:${port}/ (Ctrl-C stops)\n`));
