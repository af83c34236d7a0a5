// `translate serve`: a long-lived HTTP server that loads its models once and answers translation (and head)
// requests, batching concurrent requests (src/serve/). One JSON access-log line per request on stderr (--quiet: none).
// SIGTERM or Ctrl-C: stop accepting connections, answer the requests in flight, exit 0.
import type { Command } from 'commander';
import { int, num, collect, backendFlag } from './flags.js';
import { buildServer, DEFAULT_SERVER_OPTIONS } from '../serve/server.js';
import { DEFAULT_BATCHER_OPTIONS } from '../serve/batcher.js';
import { parseModelSpec, loadServedModels, disposeModels, ServeError } from '../serve/models.js';

type StartBackend = (choice: string | undefined, serving?: boolean) => Promise<void>;

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

export async function serve(flags: ServeFlags): Promise<void> {
  if (flags.model.length === 0)
    throw new ServeError('--model DIR is required (repeat --model NAME=DIR for more models)');
  const batching = batchingMode(flags.batching);
  const specs = flags.model.map(parseModelSpec);
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
    say(`translate serve: ${signal}: no new connections; finishing the requests in flight`);
    await app.close();
    disposeModels(await loading.catch(() => []));
    say('translate serve: stopped');
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
  say(`translate serve: listening on ${address}; loading ${specs.map((s) => s.name).join(', ')}`);
  try {
    const models = await loading;
    say(
      `translate serve: ready: ${models.map((m) => `${m.name} (${m.kind}, ${m.weights.toLocaleString('en-US')} weights)`).join(', ')}`,
    );
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
    .option('--port <n>', 'port (0: any free port)', int('--port', 0), 8080)
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
    .option('--max-beam <k>', 'largest beam size a request may ask for', int('--max-beam'), d.maxBeam)
    .option('--body-limit <bytes>', 'largest request body', int('--body-limit'), d.bodyLimit)
    .option(
      '--request-timeout-ms <ms>',
      'answer 503 to a request not answered within this time',
      int('--request-timeout-ms'),
      d.requestTimeoutMs,
    )
    .option('--no-page', 'do not serve the browser page at /')
    .option('--quiet', 'no access log on stderr')
    .action(async (flags: ServeFlags) => {
      await startBackend(backendFlag(program), true);
      await serve(flags);
    });
}
