// `npm run bench`: the toolkit against its PyTorch peer (bench/pytorch/seq2seq_bench.py: the same model), run side
// by side in one run, one process per measurement so each peak memory is its own; plus data-pipeline throughput.
// Figures are medians of several timed runs; ratios are toolkit / PyTorch (higher is better for the toolkit,
// except memory). Results are printed and written to bench/out/results.json.
//
//   npm run bench                  all workloads (installs python3-torch + OpenBLAS via apt when missing)
//   npm run bench -- --quick       fewer repeats
//   npm run bench -- --no-peer     the toolkit alone
//   npm run bench -- --only small  one workload (number-words, small, small-attention, medium-256, standard, softmax, pipeline)
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { measurePipeline } from '../src/data/throughput.js';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '../shared/corpora');
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const noPeer = args.includes('--no-peer');
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;

interface Workload {
  name: string;
  what: string;
  config: Record<string, number | boolean>;
}

const repeats = quick ? 3 : 5;
const WORKLOADS: Workload[] = [
  {
    name: 'number-words',
    what: 'the demo model: chars→digits, GRU 128, emb 64, dot attention, source 45 / target 9 steps',
    config: { srcVocab: 20, tgtVocab: 14, emb: 64, hidden: 128, batch: 64, srcLen: 45, tgtLen: 9, attention: true, trainSteps: 10, warmupSteps: 3, repeats, decodeBatches: 5, beam: 5 },
  },
  {
    name: 'small',
    what: 'issue 8 small: vocab 1,000, emb 64, GRU 128, batch 64, 20/20 steps, full softmax, no attention',
    config: { srcVocab: 1000, tgtVocab: 1000, emb: 64, hidden: 128, batch: 64, srcLen: 20, tgtLen: 20, attention: false, trainSteps: 10, warmupSteps: 3, repeats, decodeBatches: 5, beam: 5 },
  },
  {
    name: 'small-attention',
    what: 'the small workload with dot attention',
    config: { srcVocab: 1000, tgtVocab: 1000, emb: 64, hidden: 128, batch: 64, srcLen: 20, tgtLen: 20, attention: true, trainSteps: 10, warmupSteps: 3, repeats, decodeBatches: 5, beam: 5 },
  },
  {
    name: 'medium-256',
    what: 'decoding at 256 units: vocab 8,000, emb 128, GRU 256, dot attention, batch 64, 20/20 steps',
    config: { srcVocab: 8000, tgtVocab: 8000, emb: 128, hidden: 256, batch: 64, srcLen: 20, tgtLen: 20, attention: true, trainSteps: 5, warmupSteps: 2, repeats: quick ? 2 : 3, decodeBatches: 3, beam: 5 },
  },
  {
    name: 'standard',
    what: 'issue 8 standard: vocab 8,000, emb 256, GRU 512, batch 64, 20/20 steps, full softmax, no attention',
    config: { srcVocab: 8000, tgtVocab: 8000, emb: 256, hidden: 512, batch: 64, srcLen: 20, tgtLen: 20, attention: false, trainSteps: 5, warmupSteps: 2, repeats: quick ? 2 : 3, decodeBatches: 2, beam: 5 },
  },
];

type Result = Record<string, unknown> & { train_tokens_per_s?: number; greedy_sentences_per_s?: number; beam_sentences_per_s?: number | null; greedy_latency_ms?: number; peak_rss_mib?: number };

function runJson(cmd: string, cmdArgs: string[], env: NodeJS.ProcessEnv = process.env): Result | { error: string } {
  const r = spawnSync(cmd, cmdArgs, { cwd: root, encoding: 'utf8', env, maxBuffer: 1 << 24 });
  const line = r.stdout?.trim().split('\n').at(-1);
  if (r.status !== 0 || !line) return { error: `${cmd} exited ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  try {
    return JSON.parse(line) as Result;
  } catch {
    return { error: `unparsable output: ${line.slice(0, 200)}` };
  }
}

function ensurePeer(): string | null {
  if (noPeer) return 'skipped (--no-peer)';
  const r = spawnSync('sh', [join(root, 'bench/pytorch/install.sh')], { encoding: 'utf8', stdio: ['ignore', 'inherit', 'inherit'] });
  return r.status === 0 ? null : 'PyTorch peer unavailable (bench/pytorch/install.sh failed)';
}

const fmt = (x: number | null | undefined, digits = 0): string => (x === null || x === undefined ? '—' : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }));
const ratio = (a: number | null | undefined, b: number | null | undefined): string => (a && b ? `${(a / b).toFixed(2)}×` : '—');

const peerProblem = ensurePeer();
const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, peer: peerProblem ?? 'pytorch', workloads: {} };
const lines: string[] = [];
for (const w of WORKLOADS) {
  if (only !== undefined && w.name !== only) continue;
  process.stderr.write(`bench: ${w.name} (toolkit)…\n`);
  const ours = runJson(process.execPath, ['--import', 'tsx', join(root, 'bench/workload.ts'), '--config', JSON.stringify(w.config)]);
  let peer: Result | { error: string } | null = null;
  if (peerProblem === null) {
    process.stderr.write(`bench: ${w.name} (pytorch)…\n`);
    peer = runJson('python3', [join(root, 'bench/pytorch/seq2seq_bench.py'), '--config', JSON.stringify(w.config)], { ...process.env, PYTHONUNBUFFERED: '1' });
  }
  (report['workloads'] as Record<string, unknown>)[w.name] = { what: w.what, toolkit: ours, pytorch: peer };
  lines.push(`\n${w.name}: ${w.what}`);
  if ('error' in ours) {
    lines.push(`  toolkit failed: ${ours.error}`);
    continue;
  }
  const p = peer !== null && !('error' in peer) ? peer : null;
  if (peer !== null && 'error' in peer) lines.push(`  pytorch failed: ${peer.error}`);
  const o = ours as Result;
  lines.push(`  ${'metric'.padEnd(28)}${'toolkit'.padStart(12)}${'pytorch'.padStart(12)}${'ratio'.padStart(9)}`);
  const row = (name: string, a: number | null | undefined, b: number | null | undefined, digits = 0, invert = false) =>
    lines.push(`  ${name.padEnd(28)}${fmt(a, digits).padStart(12)}${fmt(b, digits).padStart(12)}${(invert ? ratio(b, a) : ratio(a, b)).padStart(9)}`);
  row('train target tokens/s', o.train_tokens_per_s, p?.train_tokens_per_s);
  row('greedy sentences/s', o.greedy_sentences_per_s, p?.greedy_sentences_per_s);
  row('beam-5 sentences/s', o.beam_sentences_per_s, p?.beam_sentences_per_s);
  row('greedy latency, 1 sentence ms', o.greedy_latency_ms, p?.greedy_latency_ms, 2, true);
  row('peak RSS MiB', o.peak_rss_mib, p?.peak_rss_mib, 0, true);
}
lines.push('\n(ratio: toolkit/pytorch for throughput; pytorch/toolkit for latency and memory, so > 1× favours the toolkit)');

// Full against sampled softmax in training (toolkit only): the output layer's cost grows with the target
// vocabulary under the full softmax, with the 512 candidates under sampled softmax.
if (only === undefined || only === 'softmax') {
  const base = { srcVocab: 8000, emb: 128, hidden: 256, batch: 64, srcLen: 20, tgtLen: 20, attention: false, trainSteps: 3, warmupSteps: 1, repeats: quick ? 1 : 2, numSampled: 512, trainOnly: true };
  lines.push('\nsoftmax: training target tokens/s, full vs sampled softmax (512 candidates); emb 128, GRU 256, batch 64, 20/20 steps, no attention');
  lines.push(`  ${'target vocabulary'.padEnd(20)}${'full'.padStart(10)}${'sampled'.padStart(10)}${'sampled/full'.padStart(14)}`);
  const softmax: Record<string, unknown> = {};
  for (const tgtVocab of [8000, 32000]) {
    const r: Record<string, Result | { error: string }> = {};
    for (const kind of ['full', 'sampled'] as const) {
      process.stderr.write(`bench: softmax ${kind}, target vocabulary ${tgtVocab}…\n`);
      r[kind] = runJson(process.execPath, ['--import', 'tsx', join(root, 'bench/workload.ts'), '--config', JSON.stringify({ ...base, tgtVocab, softmax: kind })]);
    }
    const f = 'error' in r['full']! ? null : (r['full'] as Result).train_tokens_per_s;
    const s = 'error' in r['sampled']! ? null : (r['sampled'] as Result).train_tokens_per_s;
    softmax[String(tgtVocab)] = { full: r['full'], sampled: r['sampled'], speedup: f && s ? Math.round((s / f) * 100) / 100 : null };
    lines.push(`  ${tgtVocab.toLocaleString('en-US').padEnd(20)}${fmt(f).padStart(10)}${fmt(s).padStart(10)}${ratio(s, f).padStart(14)}`);
    for (const kind of ['full', 'sampled']) if ('error' in r[kind]!) lines.push(`  ${kind} failed: ${(r[kind] as { error: string }).error}`);
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
    lines.push(`  ${name.padEnd(24)} ${fmt(r.pairsPerSecond)} pairs/s (${fmt(r.pairs)} pairs, ${fmt(r.batches)} batches)`);
  }
  report['pipeline'] = pipeline;
}

process.stdout.write(lines.join('\n') + '\n');
mkdirSync(join(root, 'bench/out'), { recursive: true });
writeFileSync(join(root, 'bench/out/results.json'), JSON.stringify(report, null, 1) + '\n');
process.stdout.write('\nwritten: bench/out/results.json\n');
