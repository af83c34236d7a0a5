// The browser page's translation speed against Node's, on the same model and sentences:
//   npm run bench -- --only page [--model DIR --src FILE[.gz] --lines 100]
//   npx tsx bench/page.ts --model runs/default-sw8k/best --src ../shared/corpora/multi30k/test_2016_flickr.de.gz
// The page (translate web's site, headless Chromium) translates the lines greedily and with beam 3 in its Web
// Worker, on wasm and on cpu, each after one warm-up sentence; Node does the same on its wasm backend (with
// OpenBLAS when installed, and without). Prints seconds and the page/Node speed ratios.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { selectBackend } from '../src/backend/select.js';
import { Translator } from '../src/translation/translator.js';
import { checkWebModels } from '../src/cli/web.js';
import { startWebSite } from '../src/web/site.js';
import { multi30kModel } from './serve.js';

const root = resolve(import.meta.dirname, '..');

interface Timing {
  greedy: number;
  beam3: number;
}

async function node(model: string, lines: string[], blas: 'auto' | 'none'): Promise<Timing> {
  await selectBackend('wasm', process.env, { blas, wasmThreads: 1 });
  const t = await Translator.load(model);
  try {
    t.translate(lines.slice(0, 1));
    let t0 = performance.now();
    t.translate(lines);
    const greedy = (performance.now() - t0) / 1000;
    t0 = performance.now();
    t.translate(lines, { beamSize: 3, nBest: 3 });
    return { greedy, beam3: (performance.now() - t0) / 1000 };
  } finally {
    t.dispose();
  }
}

/** Opens the page and waits for its report (POSTed to a local listener). */
async function page(chromium: string, url: string, lines: string[]): Promise<Timing & { backend: string }> {
  let deliver: (body: string) => void = () => {};
  const report = new Promise<string>((r) => (deliver = r));
  const listener = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      res.setHeader('access-control-allow-origin', '*');
      res.end('ok');
      deliver(body);
    });
  });
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  const reportUrl = `http://127.0.0.1:${(listener.address() as { port: number }).port}/`;
  const browser = spawn(
    chromium,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      `--user-data-dir=${mkdtempSync(join(tmpdir(), 'bench-page-'))}`,
      `${url}&report=${encodeURIComponent(reportUrl)}&inputs=${encodeURIComponent(JSON.stringify(lines))}`,
    ],
    { stdio: 'ignore' },
  );
  try {
    const got = JSON.parse(await report) as { seconds?: Timing; backend?: string; error?: string };
    if (got.error !== undefined) throw new Error(got.error);
    return { ...got.seconds!, backend: got.backend! };
  } finally {
    browser.kill('SIGKILL');
    listener.close();
  }
}

/**
 * `npm run bench -- --only page` (or `npx tsx bench/page.ts`): --model defaults to the serve bench's Multi30K-size
 * en→fr model (trained there once and cached), --src to test2016's English side.
 */
export async function runPageBench(args: string[]): Promise<void> {
  const flag = (name: string, fallback?: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : fallback;
  };
  const model = flag('--model') ?? multi30kModel();
  const src = flag('--src', join(root, '../shared/corpora/multi30k/test_2016_flickr.en.gz'))!;
  if (model === null) throw new Error('no --model given, and no Multi30K corpus to train the default one from');
  const count = Number(flag('--lines', '100'));
  const bytes = readFileSync(src);
  const lines = (src.endsWith('.gz') ? gunzipSync(bytes) : bytes)
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(0, count);
  const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find(
    (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0,
  );
  if (chromium === undefined) throw new Error('no Chromium (apt-get install chromium)');
  const fmt = (s: number): string => `${s.toFixed(2)} s`;
  const nodeBlas = await node(model, lines, 'auto');
  const nodePlain = await node(model, lines, 'none');
  const site = await startWebSite(await checkWebModels([model]), { port: 0 });
  try {
    const wasm = await page(chromium, `${site.url}?backend=wasm`, lines);
    const cpu = await page(chromium, `${site.url}?backend=cpu`, lines);
    process.stdout.write(`${lines.length} sentences of ${src}, model ${model}\n`);
    process.stdout.write(`                          greedy     beam 3 (3-best)\n`);
    process.stdout.write(`Node, wasm + OpenBLAS     ${fmt(nodeBlas.greedy).padEnd(10)} ${fmt(nodeBlas.beam3)}\n`);
    process.stdout.write(`Node, wasm                ${fmt(nodePlain.greedy).padEnd(10)} ${fmt(nodePlain.beam3)}\n`);
    process.stdout.write(
      `${`page, ${wasm.backend} (worker)`.padEnd(26)}${fmt(wasm.greedy).padEnd(10)} ${fmt(wasm.beam3)}\n`,
    );
    process.stdout.write(
      `${`page, ${cpu.backend} (worker)`.padEnd(26)}${fmt(cpu.greedy).padEnd(10)} ${fmt(cpu.beam3)}\n`,
    );
    const ratio = (p: Timing, n: Timing): string =>
      `greedy ${(n.greedy / p.greedy).toFixed(2)}×, beam ${(n.beam3 / p.beam3).toFixed(2)}×`;
    process.stdout.write(
      `page wasm speed / Node wasm speed: ${ratio(wasm, nodePlain)}; / Node wasm + OpenBLAS: ${ratio(wasm, nodeBlas)}\n`,
    );
  } finally {
    await site.close();
  }
}

if (process.argv[1] === import.meta.filename) {
  await runPageBench(process.argv.slice(2));
  process.exit(0);
}
