// `translate serve`: a long-lived HTTP server that loads its models once and answers translation (and head)
// requests, batching concurrent requests (src/serve/). One JSON access-log line per request on stderr (--quiet: none).
// SIGTERM or Ctrl-C: stop accepting connections, answer the requests in flight, exit 0. --workers N: N processes, each
// with its own models, share the listening socket (serveWorkers.ts).
import cluster from 'node:cluster';
import type { Command } from 'commander';
import { int, num, collect, backendFlag, threadsFlag, type StartBackend } from './flags.js';
import { MAX_BEAM_SIZE } from '../search/beamRows.js';
import { isUserError } from '../errors.js';
import { BACKEND_ENV } from '../backend/select.js';
import {
  handoffsSettled,
  nativeTfjsInstalled,
  runWorkers,
  workerCount,
  workerLink,
  type WorkerLink,
} from './serveWorkers.js';
import { buildServer, DEFAULT_SERVER_OPTIONS } from '../serve/server.js';
import { DEFAULT_BATCHER_OPTIONS } from '../serve/batcher.js';
import {
  checkModelSpecs,
  parseModelSpec,
  loadServedModels,
  disposeModels,
  ServeError,
  type ModelSpec,
} from '../serve/models.js';

export interface ServeFlags {
  model: string[];
  host: string;
  port: number;
  maxBatchSize: number;
  maxWaitMs: number;
  batching: string;
  maxTexts: number;
  maxChars: number;
  maxBeam: number;
  bodyLimit: number;
  requestTimeoutMs: number;
  page: boolean;
  workers: string;
  quiet?: boolean;
}

const say = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** The --batching flag's value, or a ServeError naming the choices. */
function batchingMode(value: string): 'fixed' | 'continuous' {
  if (value === 'fixed' || value === 'continuous') return value;
  throw new ServeError(`--batching: expected fixed or continuous, got ${JSON.stringify(value)}`);
}

/** What can be read from the flags before any model loads (the primary checks it before workers start). */
function checkFlags(flags: ServeFlags): { batching: 'fixed' | 'continuous'; specs: ModelSpec[] } {
  if (flags.model.length === 0)
    throw new ServeError('--model DIR is required (repeat --model NAME=DIR for more models)');
  const specs = flags.model.map(parseModelSpec);
  checkModelSpecs(specs);
  return { batching: batchingMode(flags.batching), specs };
}

/** Runs one server in this process; a worker (`worker`) tells its primary what it would print at start-up. */
export async function serve(flags: ServeFlags, worker: WorkerLink | null = null): Promise<void> {
  const { batching, specs } = checkFlags(flags);
  const loading = loadServedModels(specs);
  const app = buildServer(loading, {
    batcher: { maxBatchSize: flags.maxBatchSize, maxWaitMs: flags.maxWaitMs },
    batching,
    maxTexts: flags.maxTexts,
    maxChars: flags.maxChars,
    maxBeam: flags.maxBeam,
    bodyLimit: flags.bodyLimit,
    requestTimeoutMs: flags.requestTimeoutMs,
    page: flags.page,
    ...(flags.quiet === true ? {} : { accessLog: (e) => say(JSON.stringify(e)) }),
    onInternalError: (e) =>
      say(`translate serve: internal error (please report): ${e instanceof Error ? e.stack : String(e)}`),
  });

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // A worker's primary says this once for all workers.
    if (worker === null) say(`translate serve: ${signal}: no new connections; finishing the requests in flight`);
    // A worker first takes the connections its primary accepted before the signal (see handoffsSettled).
    else await handoffsSettled(app.server);
    await app.close();
    disposeModels(await loading.catch(() => []));
    if (worker === null) say('translate serve: stopped');
    // The wasm backend's worker threads would keep the process alive.
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));

  let address: string;
  try {
    address = await app.listen({ host: flags.host, port: flags.port });
  } catch (e) {
    throw new ServeError(
      `cannot listen on ${flags.host}:${flags.port} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    );
  }
  const names = specs.map((s) => s.name);
  if (worker === null) say(`translate serve: listening on ${address}; loading ${names.join(', ')}`);
  else await worker.send({ kind: 'listening', url: address, models: names });
  try {
    const models = await loading;
    const summary = models.map((m) => `${m.name} (${m.kind}, ${m.weights.toLocaleString('en-US')} weights)`).join(', ');
    if (worker === null) say(`translate serve: ready: ${summary}`);
    else await worker.send({ kind: 'ready', summary });
  } catch (e) {
    stopping = true;
    await app.close();
    throw e;
  }
}

export function registerServeCommand(program: Command, startBackend: StartBackend): void {
  const d = DEFAULT_SERVER_OPTIONS;
  program
    .command('serve')
    .description(
      'HTTP server: POST /v1/translate (/v1/classify, /v1/generate, /v1/forecast for heads), GET /v1/models, /health, the browser page at /',
    )
    .option(
      '--model <[name=]dir>',
      'model directory to serve (repeatable; NAME=DIR names it; the first of each kind is the default)',
      collect,
      [],
    )
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free port)', int('--port', 0, 65535), 8080)
    .option(
      '--max-batch-size <n>',
      'texts per decoder batch (or continuous batch) at most',
      int('--max-batch-size'),
      DEFAULT_BATCHER_OPTIONS.maxBatchSize,
    )
    .option(
      '--max-wait-ms <ms>',
      'how long the first text of a batch waits for batch-mates (or to join a running continuous batch)',
      num('--max-wait-ms'),
      DEFAULT_BATCHER_OPTIONS.maxWaitMs,
    )
    .option(
      '--batching <mode>',
      'translation decoding: fixed (batches run to their end) or continuous (texts join running batches between steps)',
      d.batching,
    )
    .option('--max-texts <n>', 'texts per request at most', int('--max-texts'), d.maxTexts)
    .option('--max-chars <n>', 'characters per text at most', int('--max-chars'), d.maxChars)
    .option('--max-beam <k>', 'largest beam size a request may ask for', int('--max-beam', 1, MAX_BEAM_SIZE), d.maxBeam)
    .option('--body-limit <bytes>', 'largest request body', int('--body-limit'), d.bodyLimit)
    .option(
      '--request-timeout-ms <ms>',
      'answer 503 to a request not answered within this time',
      int('--request-timeout-ms'),
      d.requestTimeoutMs,
    )
    .option(
      '--workers <n>',
      'server processes, each with its own copy of the models (auto: one per core on wasm, 1 on tfjs-node); ' +
        'with more than one, each runs its products on --threads threads (default 1)',
      'auto',
    )
    .option('--no-page', 'do not serve the browser page at /')
    .option('--quiet', 'no access log on stderr')
    .action(async (flags: ServeFlags) => {
      const link = workerLink();
      if (link !== null) return serveAsWorker(flags, link, program, startBackend);
      checkFlags(flags);
      const backend = backendFlag(program) ?? process.env[BACKEND_ENV];
      const workers = workerCount(flags.workers, backend, nativeTfjsInstalled);
      if (workers === 1 || !cluster.isPrimary) {
        await startBackend(backendFlag(program), true);
        await serve(flags);
        return;
      }
      const threads = threadsFlag(program) ?? 1;
      await runWorkers({ workers, threads, say });
    });
}

/**
 * One worker of `--workers N`: the backend on the worker's share of threads, then the server. What it would print
 * at start-up, and the error that stops it, go to the primary, which prints them once for all workers.
 */
async function serveAsWorker(
  flags: ServeFlags,
  link: WorkerLink,
  program: Command,
  startBackend: StartBackend,
): Promise<void> {
  try {
    const threads = threadsFlag(program) ?? 1;
    await startBackend(backendFlag(program), true, {
      threads,
      say: (lines) => void link.send({ kind: 'backend', lines }),
    });
    await serve(flags, link);
  } catch (e) {
    await link.send({
      kind: 'error',
      message: isUserError(e) ? (e as Error).message : e instanceof Error ? (e.stack ?? e.message) : String(e),
      internal: !isUserError(e),
    });
    // The cluster channel (and the wasm backend's threads) would keep the worker alive.
    process.exit(1);
  }
}
