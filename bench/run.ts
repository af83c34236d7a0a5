// `npm run bench`: the toolkit against its PyTorch peer (bench/pytorch/seq2seq_bench.py: the same model), run side
// by side in one run, one process per measurement so each peak memory is its own; plus data-pipeline throughput.
// The small workloads run three rounds, each one process per side, alternating which side goes first (toolkit then
// PyTorch, PyTorch then toolkit, …) so that drift in the machine's speed hits both sides; figures are medians over
// rounds of each process's median of several timed runs, after the same warm-up on both sides, and each ratio is
// the median of the per-round ratios. Ratios are toolkit / PyTorch (higher is better for the toolkit, except
// latency and memory). The toolkit runs on OpenBLAS when it is installed (TRANSLATE_BLAS=none: the wasm kernels);
// the peer is PyTorch in its fastest form here (bench/pytorch/README.md). The multi30k workload trains the model of
// corpora/configs/multi30k-de-en.json on real Multi30K batches that the toolkit's data pipeline makes once, into a
// temporary file both sides read (bench/multi30k.ts, bench/pytorch/multi30k.py).
// Results are printed and written to bench/out/results.json.
//
//   npm run bench                  all workloads (installs python3-torch + OpenBLAS via apt when missing)
//   npm run bench -- --quick       fewer repeats
//   npm run bench -- --no-peer     the toolkit alone
//   npm run bench -- --only small  one workload (number-words, small, small-attention, medium-256, standard, multi30k,
//                                  softmax, pipeline, serve, page)
//   npm run bench -- --openblas-core auto|keep|NAME
//                                  OpenBLAS's kernel set for both sides: auto (default) measures which runs fastest
//                                  here (bench/blasCore.ts), keep leaves OPENBLAS_CORETYPE as it is, NAME sets it
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { measurePipeline } from '../src/data/text/throughput.js';
import { workloads } from './workloads.js';
import { chooseOpenBlasCore, type CoreChoice } from './blasCore.js';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '../shared/corpora');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const noPeer = args.includes('--no-peer');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const coreFlag = args.includes('--openblas-core') ? args[args.indexOf('--openblas-core') + 1] : 'auto';
if (coreFlag === undefined || coreFlag.startsWith('-')) {
  process.stderr.write('bench: --openblas-core needs auto, keep or a kernel set (e.g. SkylakeX)\n');
  process.exit(2);
}
const coreArg: string = coreFlag;

// Both sides (and the server of `--only serve`) load the same OpenBLAS, and inherit this process's environment: so
// the kernel set chosen here is the one both run.
function setOpenBlasCore(): CoreChoice | string | null {
  if (only === 'page' || process.env['TRANSLATE_BLAS'] === 'none' || coreArg === 'keep') return null;
  if (coreArg !== 'auto') {
    process.env['OPENBLAS_CORETYPE'] = coreArg;
    return coreArg;
  }
  process.stderr.write('bench: timing OpenBLAS kernel sets…\n');
  const choice = chooseOpenBlasCore(root);
  if (choice === null) return null;
  if (choice.coretype === undefined) delete process.env['OPENBLAS_CORETYPE'];
  else process.env['OPENBLAS_CORETYPE'] = choice.coretype;
  const others = choice.trials
    .map((t) => `${t.coretype === 'detected' ? `detected ${t.core}` : t.coretype} ${t.geomean.toFixed(0)}`)
    .join(', ');
  process.stderr.write(
    `bench: OpenBLAS kernels for this run's processes: ${choice.core} (geometric mean µs of the probe's products: ${others}` +
      `${choice.before !== undefined ? `; the environment had OPENBLAS_CORETYPE=${choice.before}` : ''})\n`,
  );
  return choice;
}
const openblasCore = setOpenBlasCore();
// `--only serve`: the HTTP server under load (bench/serve.ts).
if (only === 'serve') {
  await (await import('./serve.js')).runServeBench(args);
  process.exit(0);
}
// `--only page`: the browser page's translation speed against Node's (bench/page.ts).
if (only === 'page') {
  await (await import('./page.js')).runPageBench(args);
  process.exit(0);
}

type Result = Record<string, unknown> & {
  train_tokens_per_s?: number;
  greedy_sentences_per_s?: number;
  beam_sentences_per_s?: number | null;
  beam_lp_sentences_per_s?: number | null;
  greedy_latency_ms?: number;
  beam_lp_latency_ms?: number | null;
  peak_rss_mib?: number;
};

function runJson(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env): Result | { error: string } {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const line = r.stdout?.trim().split('\n').at(-1);
  if (r.status !== 0 || !line)
    return { error: `${cmd} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  try {
    return JSON.parse(line) as Result;
  } catch {
    return { error: `unparsable output: ${line.slice(0, 200)}` };
  }
}

function ensurePeer(): string | null {
  if (noPeer) return 'skipped (--no-peer)';
  const r = spawnSync('sh', [join(root, 'bench/pytorch/install.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return r.status === 0 ? null : 'PyTorch peer unavailable (bench/pytorch/install.sh failed)';
}

const THROUGHPUT_KEYS = [
  'train_tokens_per_s',
  'greedy_sentences_per_s',
  'beam_sentences_per_s',
  'beam_lp_sentences_per_s',
  'greedy_latency_ms',
  'beam_lp_latency_ms',
  'peak_rss_mib',
] as const;
type Key = (typeof THROUGHPUT_KEYS)[number];

const median = (xs: number[]): number | null => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The median over rounds of toolkit/PyTorch (PyTorch/toolkit when `invert`: latency, memory) for one figure. */
function roundRatio(
  ours: (Result | { error: string })[],
  peer: (Result | { error: string })[],
  key: Key,
  invert: boolean,
): number | null {
  const xs: number[] = [];
  ours.forEach((o, i) => {
    const p = peer[i];
    if ('error' in o || p === undefined || 'error' in p) return;
    const a = o[key];
    const b = p[key];
    if (typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0) xs.push(invert ? b / a : a / b);
  });
  return median(xs);
}

/** One result from several rounds: the median of each figure over the rounds that succeeded. */
function combine(rounds: (Result | { error: string })[]): Result | { error: string } {
  const ok = rounds.filter((r): r is Result => !('error' in r));
  if (ok.length === 0) return rounds[0] ?? { error: 'no runs' };
  const out: Result = { ...ok[0]! };
  for (const key of THROUGHPUT_KEYS) {
    const xs = ok
      .map((r) => r[key])
      .filter((x): x is number => typeof x === 'number')
      .sort((a, b) => a - b);
    if (xs.length > 0)
      out[key] = xs.length % 2 ? xs[(xs.length - 1) / 2]! : (xs[xs.length / 2 - 1]! + xs[xs.length / 2]!) / 2;
  }
  return out;
}

const fmt = (x: number | null | undefined, digits = 0): string =>
  x === null || x === undefined
    ? '—'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | null | undefined, b: number | null | undefined): string =>
  a && b ? `${(a / b).toFixed(2)}×` : '—';

const peerProblem = ensurePeer();
const report: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  peer: peerProblem ?? 'pytorch',
  openblas_core: openblasCore,
  workloads: {},
};
const lines: string[] = [];
for (const w of workloads(quick)) {
  if (only !== undefined && w.name !== only) continue;
  const toolkit = join(root, w.toolkit ?? 'bench/workload.ts');
  // Batches made once by the toolkit's data pipeline, in a file both sides read (config.batches).
  let config = w.config;
  let prepared: Result | null = null;
  const tmp = w.prepare === true ? mkdtempSync(join(tmpdir(), 'seq2seq-bench-')) : null;
  if (tmp !== null) {
    process.stderr.write(`bench: ${w.name} (preparing the batches)…\n`);
    const batches = join(tmp, 'batches.json');
    const made = runJson(process.execPath, [
      '--import',
      'tsx',
      toolkit,
      '--prepare',
      batches,
      '--config',
      JSON.stringify(config),
    ]);
    if ('error' in made) {
      lines.push(`\n${w.name}: ${w.what}`, `  skipped: preparing the batches failed: ${String(made.error)}`);
      rmSync(tmp, { recursive: true, force: true });
      continue;
    }
    config = { ...config, batches };
    prepared = made;
  }
  // Rounds alternate the two sides, one process each, so that a machine whose speed drifts (shared hosts do) slows
  // both alike; each figure is the median over rounds of each process's own median.
  const oursRounds: (Result | { error: string })[] = [];
  const peerRounds: (Result | { error: string })[] = [];
  for (let round = 0; round < w.rounds; round++) {
    const runOurs = () => {
      process.stderr.write(`bench: ${w.name} (toolkit, round ${round + 1}/${w.rounds})…\n`);
      oursRounds.push(runJson(process.execPath, ['--import', 'tsx', toolkit, '--config', JSON.stringify(config)]));
    };
    const runPeer = () => {
      if (peerProblem !== null) return;
      process.stderr.write(`bench: ${w.name} (pytorch, round ${round + 1}/${w.rounds})…\n`);
      peerRounds.push(
        runJson('python3', [join(root, 'bench/pytorch/seq2seq_bench.py'), '--config', JSON.stringify(config)], {
          ...process.env,
          PYTHONUNBUFFERED: '1',
        }),
      );
    };
    // Odd rounds let PyTorch go first, so that neither side always runs on a machine the other just warmed.
    if (round % 2 === 0) {
      runOurs();
      runPeer();
    } else {
      runPeer();
      runOurs();
    }
  }
  if (tmp !== null) rmSync(tmp, { recursive: true, force: true });
  const ours = combine(oursRounds);
  const peer = peerProblem === null ? combine(peerRounds) : null;
  (report['workloads'] as Record<string, unknown>)[w.name] = {
    what: w.what,
    toolkit: ours,
    pytorch: peer,
    rounds: { toolkit: oursRounds, pytorch: peerRounds },
    ...(prepared !== null ? { batches: prepared } : {}),
  };
  lines.push(`\n${w.name}: ${w.what}`);
  if (prepared !== null) lines.push(`  batches: ${String(prepared['what'])}`);
  if ('error' in ours) {
    lines.push(`  toolkit failed: ${String(ours.error)}`);
    continue;
  }
  const p = peer !== null && !('error' in peer) ? peer : null;
  if (peer !== null && 'error' in peer) lines.push(`  pytorch failed: ${String(peer.error)}`);
  const o = ours;
  lines.push(`  ${'metric'.padEnd(34)}${'toolkit'.padStart(12)}${'pytorch'.padStart(12)}${'ratio'.padStart(9)}`);
  const ratios: Partial<Record<Key, number | null>> = {};
  const row = (name: string, key: Key, digits = 0, invert = false) => {
    const r = p === null ? null : roundRatio(oursRounds, peerRounds, key, invert);
    ratios[key] = r === null ? null : Math.round(r * 100) / 100;
    lines.push(
      `  ${name.padEnd(34)}${fmt(o[key], digits).padStart(12)}${fmt(p?.[key], digits).padStart(12)}${(r === null ? '—' : `${r.toFixed(2)}×`).padStart(9)}`,
    );
  };
  row('train target tokens/s', 'train_tokens_per_s');
  if (w.trainOnly !== true) {
    row('greedy sentences/s', 'greedy_sentences_per_s');
    row('beam-5 sentences/s', 'beam_sentences_per_s');
    row('beam-5 α=0.6 sentences/s, batch 64', 'beam_lp_sentences_per_s');
    row('greedy latency, 1 sentence ms', 'greedy_latency_ms', 2, true);
    row('beam-5 α=0.6 latency, 1 sent. ms', 'beam_lp_latency_ms', 2, true);
  }
  row('peak RSS MiB', 'peak_rss_mib', 0, true);
  (report['workloads'] as Record<string, Record<string, unknown>>)[w.name]!['ratios'] = ratios;
  if (w.rounds > 1 && p !== null) {
    const per = (key: Key, invert = false) =>
      oursRounds
        .map((r, i) => {
          const q = peerRounds[i];
          if ('error' in r || q === undefined || 'error' in q) return '—';
          return invert ? ratio(q[key], r[key]) : ratio(r[key], q[key]);
        })
        .join(', ');
    const figures =
      w.trainOnly === true
        ? `memory ${per('peak_rss_mib', true)}`
        : `greedy ${per('greedy_sentences_per_s')}; beam ${per('beam_sentences_per_s')}`;
    lines.push(`  per round (rounds 1, 3, … toolkit first): train ${per('train_tokens_per_s')}; ${figures}`);
  }
}
lines.push(
  '\n(ratio: median over rounds of toolkit/pytorch for throughput, pytorch/toolkit for latency and memory, so > 1× favours the toolkit)',
);

// Full against sampled softmax in training (toolkit only): the output layer's cost grows with the target
// vocabulary under the full softmax, with the 512 candidates under sampled softmax.
if (only === undefined || only === 'softmax') {
  const base = {
    srcVocab: 8000,
    emb: 128,
    hidden: 256,
    batch: 64,
    srcLen: 20,
    tgtLen: 20,
    attention: false,
    trainSteps: 3,
    warmupSteps: 1,
    repeats: quick ? 1 : 2,
    numSampled: 512,
    trainOnly: true,
  };
  lines.push(
    '\nsoftmax: training target tokens/s, full vs sampled softmax (512 candidates); emb 128, GRU 256, batch 64, 20/20 steps, no attention',
  );
  lines.push(
    `  ${'target vocabulary'.padEnd(20)}${'full'.padStart(10)}${'sampled'.padStart(10)}${'sampled/full'.padStart(14)}`,
  );
  const softmax: Record<string, unknown> = {};
  for (const tgtVocab of [8000, 32000]) {
    const r: Record<string, Result | { error: string }> = {};
    for (const kind of ['full', 'sampled'] as const) {
      process.stderr.write(`bench: softmax ${kind}, target vocabulary ${tgtVocab}…\n`);
      r[kind] = runJson(process.execPath, [
        '--import',
        'tsx',
        join(root, 'bench/workload.ts'),
        '--config',
        JSON.stringify({ ...base, tgtVocab, softmax: kind }),
      ]);
    }
    const f = 'error' in r['full']! ? null : (r['full'] as Result).train_tokens_per_s;
    const s = 'error' in r['sampled']! ? null : (r['sampled'] as Result).train_tokens_per_s;
    softmax[String(tgtVocab)] = {
      full: r['full'],
      sampled: r['sampled'],
      speedup: f && s ? Math.round((s / f) * 100) / 100 : null,
    };
    lines.push(
      `  ${tgtVocab.toLocaleString('en-US').padEnd(20)}${fmt(f).padStart(10)}${fmt(s).padStart(10)}${ratio(s, f).padStart(14)}`,
    );
    for (const kind of ['full', 'sampled'])
      if ('error' in r[kind]!) lines.push(`  ${kind} failed: ${(r[kind] as { error: string }).error}`);
  }
  report['softmax'] = softmax;
}

if (only === undefined || only === 'pipeline') {
  lines.push('\ndata pipeline (file → tokenized, encoded, bucketed batches):');
  const pipeline: Record<string, unknown> = {};
  for (const [name, spec] of [
    ['tatoeba-eng-fra', `tsv:${join(shared, 'tatoeba-eng-fra/eng-fra.tsv')}`],
    ['multi30k de-en train', `aligned:${join(shared, 'multi30k/train.de.gz')},${join(shared, 'multi30k/train.en.gz')}`],
  ] as const) {
    if (!existsSync(spec.replace(/^[a-z]+:/, '').split(',')[0]!)) continue;
    const r = await measurePipeline(spec, { buckets: 'auto', batchSize: 64 });
    pipeline[name] = r;
    lines.push(
      `  ${name.padEnd(24)} ${fmt(r.pairsPerSecond)} pairs/s (${fmt(r.pairs)} pairs, ${fmt(r.batches)} batches)`,
    );
  }
  report['pipeline'] = pipeline;
}

process.stdout.write(lines.join('\n') + '\n');
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/results.json'), JSON.stringify(report, null, 1) + '\n');
process.stdout.write('\nwritten: bench/out/results.json\n');
