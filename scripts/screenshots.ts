// `npm run screenshots [-- OUT_DIR]`: PNGs of the browser page and of each kind of plot, for the README (default
// docs/screenshots/). Everything shown is made here by small real runs of the CLI: the number-words demo (the page),
// a short translation training on spelled-out numbers (curves.svg, metrics.svg), a forecaster on a synthetic monthly
// series and one on the synthetic sines (forecast plots). Chromium renders the SVGs and the page (headless).
// A few minutes on two cores.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { selectBackend } from '../src/backend/select.js';
import { checkWebModels } from '../src/cli/web.js';
import { startWebSite } from '../src/web/site.js';

const root = resolve(import.meta.dirname, '..');
const out = resolve(process.argv[2] ?? join(root, 'docs/screenshots'));
const work = mkdtempSync(join(tmpdir(), 'seq2seq-screenshots-'));
const chromium = ['chromium', 'chromium-browser', 'google-chrome'].find(
  (c) => spawnSync('sh', ['-c', `command -v ${c}`]).status === 0,
);
if (chromium === undefined) {
  process.stderr.write('screenshots: no Chromium found (apt-get install chromium)\n');
  process.exit(1);
}

function cli(...args: string[]): string {
  process.stderr.write(`$ translate ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'src/cli.ts'), ...args], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error(`translate ${args.join(' ')} exited ${r.status}`);
  return r.stdout;
}

/**
 * Renders a URL (a page or an SVG file) at the given size into out/name.png. Asynchronous: the page's server runs
 * in this process and must go on answering while Chromium loads it.
 */
async function shoot(url: string, name: string, width: number, height: number, waitMs = 0): Promise<void> {
  const file = join(out, `${name}.png`);
  const profile = mkdtempSync(join(work, 'profile-'));
  const browser = spawn(
    chromium!,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      `--user-data-dir=${profile}`,
      `--window-size=${width},${height}`,
      ...(waitMs > 0 ? [`--virtual-time-budget=${waitMs}`] : []),
      `--screenshot=${file}`,
      url,
    ],
    { stdio: 'ignore' },
  );
  const timer = setTimeout(() => browser.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | null>((r) => browser.on('exit', (c) => r(c)));
  clearTimeout(timer);
  if (code !== 0) throw new Error(`chromium could not render ${url}`);
  process.stderr.write(`wrote ${file}\n`);
}

async function shootSvg(svgFile: string, name: string): Promise<void> {
  const head = readFileSync(svgFile, 'utf8').slice(0, 300);
  const [, w, h] = /width="(\d+)" height="(\d+)"/.exec(head) ?? [];
  await shoot(`file://${svgFile}`, name, Number(w ?? 760), Number(h ?? 420));
}

const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];

try {
  mkdirSync(out, { recursive: true });

  // Training curves and validation metrics: spelled-out numbers → their digits, one word each ("one two" → "1 2").
  let seed = 7;
  const random = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const pairs = Array.from({ length: 4000 }, () => {
    const digits = Array.from({ length: 3 + Math.floor(random() * 5) }, () => Math.floor(random() * 10));
    return `${digits.map((d) => words[d]).join(' ')}\t${digits.join(' ')}`;
  });
  writeFileSync(join(work, 'numbers.tsv'), pairs.join('\n') + '\n');
  const run = join(work, 'numbers');
  cli(
    'train',
    '--corpus',
    `tsv:${join(work, 'numbers.tsv')}`,
    '--tokenizer',
    'word',
    '--out',
    run,
    '--steps',
    '800',
    '--eval-every',
    '100',
    '--hidden',
    '64',
    '--embedding',
    '32',
    '--softmax',
    'sampled',
    '--num-sampled',
    '8',
    '--decode-sentences',
    '100',
    '--quiet',
  );
  await shootSvg(join(run, 'curves.svg'), 'curves');
  await shootSvg(join(run, 'metrics.svg'), 'metrics');

  // A forecast with dates: a synthetic monthly series (trend × season, 1949-01 to 1960-12), the last 24 months held out.
  const months = Array.from(
    { length: 144 },
    (_, i) => `${1949 + Math.floor(i / 12)}-${String((i % 12) + 1).padStart(2, '0')}`,
  );
  const values = months.map(
    (_, i) => (120 + 2.4 * i) * (1 + 0.22 * Math.sin((2 * Math.PI * (i - 3)) / 12)) + 6 * Math.sin(i * 1.7),
  );
  writeFileSync(
    join(work, 'monthly.csv'),
    ['month,value', ...months.map((m, i) => `${m},${values[i]!.toFixed(1)}`)].join('\n') + '\n',
  );
  const monthly = join(work, 'monthly');
  cli(
    'forecast',
    'train',
    '--csv',
    join(work, 'monthly.csv'),
    '--test',
    '24',
    '--window',
    '24',
    '--out',
    monthly,
    '--steps',
    '400',
    '--quiet',
  );
  cli(
    'forecast',
    'eval',
    '--model',
    monthly,
    '--csv',
    join(work, 'monthly.csv'),
    '--test',
    '24',
    '--season',
    '12',
    '--plot',
    join(work, 'forecast.svg'),
  );
  await shootSvg(join(work, 'forecast.svg'), 'forecast');

  // The synthetic sines: windows, what followed and the forecast.
  const sines = join(work, 'sines');
  cli(
    'forecast',
    'train',
    '--synthetic',
    'sines',
    '--ahead',
    '5',
    '--out',
    sines,
    '--steps',
    '300',
    '--hidden',
    '32',
    '--quiet',
  );
  cli('forecast', 'eval', '--synthetic', 'sines', '--model', sines, '--plot', join(work, 'sines.svg'));
  await shootSvg(join(work, 'sines.svg'), 'sines');
  await shootSvg(join(sines, 'curves.svg'), 'forecaster-curves');

  // The page, with the number-words demo's model, after translating two lines (one with an unknown character).
  const demo = join(work, 'number-words');
  cli('demo', 'number-words', '--steps', '600', '--hidden', '64', '--out', demo);
  await selectBackend();
  const site = await startWebSite(await checkWebModels([`number-words=${demo}`]), { port: 0 });
  try {
    // In the page's own thread: headless Chromium's virtual time waits for it, not for a worker.
    const text = encodeURIComponent('one two five\nseven zero zero three\nfour four tw#');
    await shoot(`${site.url}?no-worker&text=${text}&beam=3&n=2`, 'page', 800, 1250, 30_000);
  } finally {
    await site.close();
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
process.exit(0);
