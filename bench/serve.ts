// `npm run bench -- --only serve`: `translate serve` under load, on loopback only. One server holds two models: the
// number-words demo model and the Multi30K English→French recipe's model (corpora/configs/multi30k-en-fr.json:
// embeddings 256, bidirectional GRU 256, dot attention, 5.8 M weights), each trained here once (400 and 300 steps;
// cached in the temporary folder), with the server's default workers (one per core). 1, 8 and 64 concurrent clients
// each send one-sentence requests back to back (keep-alive, the API's defaults: beam 5, length penalty 0.6,
// alignments), in three rounds alternating the levels: sentences/s (median over rounds) and p50/p95/p99 latency.
// Then scale-out: one server process of one worker against two such processes, the 64 clients split between them.
// Then a soak of up to 100,000 requests (64 clients, number-words) bounded in time, sampling the server's resident
// memory (its processes' together). Results are printed and written to bench/out/serve.json.
//
//   npm run bench -- --only serve                       the full run
//   npm run bench -- --only serve --quick               shorter levels, a 10,000-request soak
//   npm run bench -- --only serve --soak N --soak-seconds S --seconds S (per level and round) --rounds R --beam K
//                                 --batching fixed|continuous (the servers' --batching) --workers N|auto (the main
//                                 server's --workers; default auto)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir, availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const shared = resolve(root, '../shared/corpora');
const cache = join(tmpdir(), 'seq2seq-ts-bench-serve');

interface Level {
  model: string;
  clients: number;
  requests: number;
  errors: number;
  seconds: number;
  sentencesPerSecond: number;
  p50: number;
  p95: number;
  p99: number;
  /** Sentences/s of each round, ascending. */
  perRound?: number[];
}

const quantile = (sorted: number[], q: number): number =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

function flag(args: string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

/** The demo model, trained once and kept in the cache folder. */
function numberWordsModel(): string {
  const dir = join(cache, 'number-words');
  if (existsSync(join(dir, 'model.json'))) return dir;
  process.stderr.write('bench serve: training the number-words model (400 steps)…\n');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli.ts'), 'demo', 'number-words', '--steps', '400', '--out', dir],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TRANSLATE_BACKEND: 'wasm' } },
  );
  if (r.status !== 0) throw new Error(`training the number-words model failed (exit ${r.status})`);
  return dir;
}

const gzLines = (file: string): string[] =>
  gunzipSync(readFileSync(file))
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');

/**
 * A model of the Multi30K en→fr recipe (corpora/configs/multi30k-en-fr.json) trained for 300 steps only (about 8
 * minutes here, once; cached): far from its BLEU, but it has learnt how long a French sentence runs for an English
 * one, which is what decoding time depends on (an untrained model's outputs run to the length limit, or stop at once).
 */
export function multi30kModel(): string | null {
  const dir = join(cache, 'multi30k-300-steps');
  if (existsSync(join(dir, 'model.json'))) return dir;
  const corpus = join(shared, 'multi30k');
  if (!existsSync(join(corpus, 'train.en.gz'))) return null;
  process.stderr.write('bench serve: training the Multi30K-size model (300 steps)…\n');
  const r = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      join(root, 'src/cli.ts'),
      'train',
      '--config',
      join(root, 'corpora/configs/multi30k-en-fr.json'),
      '--corpus',
      `aligned:${corpus}/train.en.gz,${corpus}/train.fr.gz`,
      '--valid',
      `aligned:${corpus}/val.en.gz,${corpus}/val.fr.gz`,
      '--steps',
      '300',
      '--eval-every',
      '300',
      '--decode-sentences',
      '100',
      '--quiet',
      '--out',
      dir,
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, TRANSLATE_BACKEND: 'wasm' } },
  );
  if (r.status !== 0) throw new Error(`training the Multi30K-size model failed (exit ${r.status})`);
  return dir;
}

/** Spelled-out numbers of 5 to 10 digits, as the demo model was trained on. */
function numberSentences(n: number): string[] {
  const words = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
  let x = 12345;
  const next = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  return Array.from({ length: n }, () =>
    Array.from({ length: 5 + Math.floor(next() * 6) }, () => words[Math.floor(next() * 10)]).join(' '),
  );
}

/**
 * A server process; `threads` limits its wasm and OpenBLAS threads (default: theirs, one per core, or 1 a worker with
 * several workers); `batching` is its --batching (default: the server's, fixed); `workers` its --workers (default:
 * the server's, one per core).
 */
function startServer(
  models: string[],
  threads?: number,
  batching?: string,
  workers?: string,
): Promise<{ child: ChildProcess; url: string }> {
  const limit = threads === undefined ? [] : ['--threads', String(threads)];
  const args = [
    '--import',
    'tsx',
    join(root, 'src/cli.ts'),
    ...limit,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--quiet',
    '--max-texts',
    '64',
    ...(batching === undefined ? [] : ['--batching', batching]),
    ...(workers === undefined ? [] : ['--workers', workers]),
    ...models.flatMap((m) => ['--model', m]),
  ];
  const env = {
    ...process.env,
    TRANSLATE_BACKEND: 'wasm',
    ...(threads === undefined ? {} : { OPENBLAS_NUM_THREADS: String(threads) }),
  };
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      err += c.toString();
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)?.[1];
      if (url !== undefined && err.includes('ready:')) resolve({ child, url });
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}: ${err}`)));
  });
}

/** Resident memory of a process and its children (a server's workers), in MiB (Linux). */
function rssMiB(pid: number): number {
  let children: number[] = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    // no such file: the process alone
  }
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return (m === null ? NaN : Number(m[1]) / 1024) + children.reduce((n, c) => n + rssMiB(c), 0);
}

/**
 * One POST on a keep-alive connection of `agent`: the status and the parsed body. node:http rather than fetch: the
 * clients share the server's two cores, and undici's fetch costs several times more CPU per request, which the
 * server would lose.
 */
function post(agent: Agent, url: string, body: string): Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
          } catch (e) {
            reject(e instanceof Error ? e : new Error(String(e)));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** `clients` loops each sending one-sentence requests until `requests` are sent or `seconds` pass; client c talks to urls[c mod n]. */
async function load(
  urls: string | string[],
  model: string,
  sentences: string[],
  clients: number,
  requests: number,
  seconds: number,
  onRequest?: (done: number) => void,
  beam?: number,
): Promise<ReturnType<typeof summary>> {
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const agent = new Agent({ keepAlive: true, maxSockets: clients });
  const client = async (c: number): Promise<void> => {
    const url = typeof urls === 'string' ? urls : urls[c % urls.length]!;
    while (sent < requests && performance.now() < deadline) {
      const text = sentences[sent++ % sentences.length]!;
      const t0 = performance.now();
      try {
        const res = await post(
          agent,
          `${url}/v1/translate`,
          JSON.stringify(beam === undefined ? { model, texts: [text] } : { model, texts: [text], beam }),
        );
        const body = res.json as { translations?: unknown[] };
        if (res.status !== 200 || body.translations?.length !== 1) errors++;
        else latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
      onRequest?.(latencies.length + errors);
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => client(c)));
  agent.destroy();
  return summary([{ latencies, errors, seconds: (performance.now() - start) / 1000 }]);
}

interface Round {
  latencies: number[];
  errors: number;
  seconds: number;
}

/** Rounds of one level: sentences/s is the median over rounds, latencies are pooled. */
function summary(rounds: Round[]): Omit<Level, 'model' | 'clients'> & { rounds: Round[]; perRound: number[] } {
  const latencies = rounds.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const perRound = rounds.map((r) => r.latencies.length / r.seconds).sort((a, b) => a - b);
  const errors = rounds.reduce((n, r) => n + r.errors, 0);
  return {
    requests: latencies.length + errors,
    errors,
    seconds: rounds.reduce((n, r) => n + r.seconds, 0),
    sentencesPerSecond: perRound[Math.floor(perRound.length / 2)]!,
    p50: quantile(latencies, 0.5),
    p95: quantile(latencies, 0.95),
    p99: quantile(latencies, 0.99),
    rounds,
    perRound,
  };
}

export async function runServeBench(args: string[]): Promise<void> {
  const quick = args.includes('--quick');
  const levelSeconds = flag(args, '--seconds', quick ? 5 : 10);
  const rounds = flag(args, '--rounds', quick ? 1 : 3);
  const beam = args.includes('--beam') ? flag(args, '--beam', 5) : undefined;
  const batching = args.includes('--batching') ? args[args.indexOf('--batching') + 1] : undefined;
  const workers = args.includes('--workers') ? args[args.indexOf('--workers') + 1] : undefined;
  const soakRequests = flag(args, '--soak', quick ? 10_000 : 100_000);
  const soakSeconds = flag(args, '--soak-seconds', quick ? 120 : 900);
  mkdirSync(cache, { recursive: true });
  const nw = numberWordsModel();
  const m30k = multi30kModel();
  const specs = [`number-words=${nw}`, ...(m30k === null ? [] : [`multi30k=${m30k}`])];
  const workloads: [string, string[]][] = [['number-words', numberSentences(1000)]];
  if (m30k !== null) workloads.push(['multi30k', gzLines(join(shared, 'multi30k/val.en.gz'))]);

  const { child, url } = await startServer(specs, undefined, batching, workers);
  const workerCount = workers === undefined || workers === 'auto' ? availableParallelism() : Number(workers);
  const levels: Level[] = [];
  const lines: string[] = [];
  try {
    for (const [model, sentences] of workloads) {
      // Warm-up: the first batches of each size compile and fill caches.
      await load(url, model, sentences, 64, 128, 60, undefined, beam);
      // Rounds alternate the levels, so that the load other processes put on the machine, which drifts, falls on
      // every level alike; each level's sentences/s is its median over rounds.
      const byLevel = new Map<number, Round[]>();
      for (let round = 0; round < rounds; round++) {
        for (const clients of [1, 8, 64]) {
          process.stderr.write(
            `bench serve: ${model}, ${clients} client(s), round ${round + 1}/${rounds}, ${levelSeconds} s…\n`,
          );
          byLevel.set(clients, [
            ...(byLevel.get(clients) ?? []),
            ...(await load(url, model, sentences, clients, Infinity, levelSeconds, undefined, beam)).rounds,
          ]);
        }
      }
      for (const [clients, rs] of byLevel) {
        const { rounds: _r, ...level } = summary(rs);
        levels.push({ model, clients, ...level });
      }
    }
    // Scale-out, as behind a load balancer (each client keeps its connection to one process): server processes of
    // one worker with the number-words model, one with all the cores' threads against two with half each, the 64
    // clients split between the two. Rounds alternate them.
    const half = Math.max(1, Math.floor(availableParallelism() / 2));
    const single = await startServer([`number-words=${nw}`], undefined, batching, '1');
    const pair = [
      await startServer([`number-words=${nw}`], half, batching, '1'),
      await startServer([`number-words=${nw}`], half, batching, '1'),
    ];
    const one: Round[] = [];
    const two: Round[] = [];
    try {
      for (const p of [single, ...pair])
        await load(p.url, 'number-words', workloads[0]![1], 64, 128, 60, undefined, beam);
      for (let round = 0; round < rounds; round++) {
        process.stderr.write(
          `bench serve: scale-out, 1 process then 2 (${half} thread(s) each), 64 clients, round ${round + 1}/${rounds}…\n`,
        );
        one.push(
          ...(await load(single.url, 'number-words', workloads[0]![1], 64, Infinity, levelSeconds, undefined, beam))
            .rounds,
        );
        two.push(
          ...(
            await load(
              pair.map((p) => p.url),
              'number-words',
              workloads[0]![1],
              64,
              Infinity,
              levelSeconds,
              undefined,
              beam,
            )
          ).rounds,
        );
      }
    } finally {
      for (const p of [single, ...pair]) p.child.kill('SIGTERM');
    }
    const { rounds: _one, ...oneProcess } = summary(one);
    const { rounds: _two, ...scaleOut } = summary(two);
    // The soak: memory sampled every 1,000 requests; the first 5 % are the baseline (caches filled, heap grown).
    process.stderr.write(
      `bench serve: soak, up to ${soakRequests.toLocaleString('en-US')} requests or ${soakSeconds} s, 64 clients…\n`,
    );
    const samples: { done: number; rss: number; heapUsed?: number; tensors?: number }[] = [];
    let nextSample = 0;
    const sample = (done: number) => {
      const at = { done, rss: rssMiB(child.pid!) };
      samples.push(at);
      // The server's own view (of the worker that answers): V8 heap in use and live tensors (a leak shows in one of
      // them, not only in RSS).
      void fetch(`${url}/health`)
        .then((r) => r.json())
        .then(
          (h: { memory?: { heapUsedMiB: number; tensors: number } }) => {
            if (h.memory !== undefined)
              Object.assign(at, { heapUsed: h.memory.heapUsedMiB, tensors: h.memory.tensors });
          },
          () => undefined,
        );
    };
    const { rounds: _soakRounds, ...soak } = await load(
      url,
      'number-words',
      workloads[0]![1],
      64,
      soakRequests,
      soakSeconds,
      (done) => {
        if (done >= nextSample) {
          sample(done);
          nextSample += 1000;
        }
      },
      beam,
    );
    sample(soak.requests);
    await new Promise((r) => setTimeout(r, 500));
    // RSS follows V8's heap, a sawtooth between major collections (garbage of finished requests waits for the next
    // one): a leak shows as a rising floor, so the floors — the lowest samples — of the first and last quarters after
    // the first 5 % (caches filled, heap grown) are compared, beside the whole range.
    const steady = samples.filter((s) => s.done >= soak.requests * 0.05);
    const quarter = (from: number, to: number) =>
      steady.filter((s) => s.done >= soak.requests * from && s.done <= soak.requests * to);
    const floor = (xs: typeof samples) => xs.reduce((a, b) => (b.rss < a.rss ? b : a), xs[0] ?? samples.at(-1)!);
    const first = floor(quarter(0.05, 0.3));
    const last = floor(quarter(0.75, 1));
    const end = samples.at(-1)!;
    const max = Math.max(...steady.map((s) => s.rss));
    const min = Math.min(...steady.map((s) => s.rss));
    const change = (last.rss - first.rss) / first.rss;
    const soakReport = {
      ...soak,
      floorFirstMiB: first.rss,
      floorLastMiB: last.rss,
      change,
      endMiB: end.rss,
      minMiB: min,
      maxMiB: max,
      heapUsedMiB: [first.heapUsed, last.heapUsed],
      tensors: [first.tensors, end.tensors],
    };

    const f = (x: number, d = 0) => x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
    lines.push(
      `translate serve on loopback: one-sentence requests, ${beam === undefined ? 'beam 5 (the API default)' : `beam ${beam}`}, ${batching ?? 'fixed'} batching, one server process of ${workerCount} worker(s)`,
    );
    lines.push(
      `  ${'model'.padEnd(15)}${'clients'.padStart(8)}${'requests'.padStart(10)}${'errors'.padStart(8)}${'sent/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p95 ms'.padStart(9)}${'p99 ms'.padStart(9)}`,
    );
    for (const l of levels)
      lines.push(
        `  ${l.model.padEnd(15)}${String(l.clients).padStart(8)}${f(l.requests).padStart(10)}${f(l.errors).padStart(8)}${f(l.sentencesPerSecond, 1).padStart(9)}${f(l.p50, 1).padStart(9)}${f(l.p95, 1).padStart(9)}${f(l.p99, 1).padStart(9)}`,
      );
    lines.push("  targets: 64 clients ≥ 5× one client's sentences/s; p99 ≤ 10× p50; no errors");
    for (const [model] of workloads) {
      const one = levels.find((l) => l.model === model && l.clients === 1)!;
      const many = levels.find((l) => l.model === model && l.clients === 64)!;
      const speedup = many.sentencesPerSecond / one.sentencesPerSecond;
      const tail = Math.max(...levels.filter((l) => l.model === model).map((l) => l.p99 / l.p50));
      const errors = levels.filter((l) => l.model === model).reduce((n, l) => n + l.errors, 0);
      lines.push(
        `  ${model}: 64 clients ${f(speedup, 1)}× one client ${speedup >= 5 ? '(met)' : '(NOT met)'}; worst p99/p50 ${f(tail, 1)} ${tail <= 10 ? '(met)' : '(NOT met)'}; errors ${errors}`,
      );
    }
    lines.push(
      `scale-out: number-words, 64 clients, processes of one worker: 1 process ${f(oneProcess.sentencesPerSecond, 1)} sentences/s (p99 ${f(oneProcess.p99, 1)} ms); 2 processes of ${half} thread(s) ${f(scaleOut.sentencesPerSecond, 1)} sentences/s (${f(scaleOut.sentencesPerSecond / oneProcess.sentencesPerSecond, 2)}×, p99 ${f(scaleOut.p99, 1)} ms), ${oneProcess.errors + scaleOut.errors} errors`,
    );
    lines.push(
      `soak: ${f(soak.requests)} requests in ${f(soak.seconds)} s (${f(soak.sentencesPerSecond)}/s, ${soak.errors} errors, p50 ${f(soak.p50, 1)} ms, p99 ${f(soak.p99, 1)} ms)`,
    );
    lines.push(
      `  server RSS floor ${f(first.rss)} MiB in the first quarter → ${f(last.rss)} MiB in the last (${change >= 0 ? '+' : ''}${f(change * 100, 1)} %) ${Math.abs(change) <= 0.1 ? '(flat within ±10 %: met)' : '(NOT flat within ±10 %)'}; ${f(end.rss)} MiB at the end; range ${f(min)}–${f(max)} MiB (V8's collection sawtooth)`,
    );
    lines.push(
      `  a worker's V8 heap in use at those floors ${f(first.heapUsed ?? NaN)} → ${f(last.heapUsed ?? NaN)} MiB; live tensors ${first.tensors} → ${end.tensors}`,
    );
    process.stdout.write(lines.join('\n') + '\n');
    mkdirSync(join(root, 'bench/out'), { recursive: true });
    writeFileSync(
      join(root, 'bench/out/serve.json'),
      JSON.stringify(
        {
          date: new Date().toISOString(),
          node: process.version,
          // The kernel set the server's OpenBLAS ran (npm run bench chooses it, bench/blasCore.ts).
          openblas_coretype: process.env['OPENBLAS_CORETYPE'] ?? 'detected',
          models: specs,
          beam: beam ?? 'API default (5)',
          batching: batching ?? 'fixed (the default)',
          workers: workerCount,
          levels,
          scaleOut: { oneProcess, twoProcesses: scaleOut, threadsEach: half },
          soak: soakReport,
          memory: samples,
        },
        null,
        1,
      ) + '\n',
    );
    process.stdout.write('\nwritten: bench/out/serve.json\n');
  } finally {
    child.kill('SIGTERM');
  }
}

if (process.argv[1] === import.meta.filename) await runServeBench(process.argv.slice(2));
