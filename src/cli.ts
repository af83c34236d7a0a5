#!/usr/bin/env node
// The `translate` command line. The only place that prints, draws progress and sets exit codes.
import { readFileSync } from 'node:fs';
import { Command, Help, Option } from 'commander';
import { selectBackend, parseBackendChoice, BACKEND_CHOICES, BACKEND_ENV, WASM_THREADS_ENV } from './backend/select.js';
import { BLAS_CHOICES, BLAS_ENV, SERVING_SMALL_PRODUCT, type BlasChoice } from './backend/blas.js';
import { isUserError } from './errors.js';
import { commandsFor, runsTraining } from './cli/commands.js';
import { threadsFlag, type StartBackend } from './cli/flags.js';

/** Starts the backend the global flags ask for (StartBackend, cli/flags.ts), and prints what it started. */
const startBackend: StartBackend = async (choice, serving = false, how = {}) => {
  const threads = how.threads ?? threadsFlag(program);
  const blas = program.opts()['blas'] as BlasChoice | undefined;
  const info = await selectBackend(choice === undefined ? undefined : parseBackendChoice(choice), process.env, {
    ...(threads === undefined ? {} : { wasmThreads: threads }),
    ...(blas === undefined ? {} : { blas }),
    ...(serving ? { blasSingleThreadBelow: SERVING_SMALL_PRODUCT } : {}),
    gradients: training,
  });
  const lines = [`backend: ${info.description}`];
  if (info.hint !== null) lines.push(info.hint);
  if (info.choice === 'cpu')
    lines.push('warning: the cpu backend is far too slow to train on; wasm or tfjs-node is recommended');
  if (how.say !== undefined) how.say(lines);
  else for (const line of lines) process.stderr.write(`${line}\n`);
};

/** The global options, on the program and on the probe that finds which command runs (cli/commands.ts). */
function withGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--backend <name>', `tfjs backend (default: ${BACKEND_ENV} or auto)`).choices([...BACKEND_CHOICES]),
    )
    .option(
      '--threads <n>',
      `threads for matrix products: OpenBLAS's, else the wasm backend's (default: ${WASM_THREADS_ENV}, else one per core, at most 8)`,
    )
    .addOption(
      new Option(
        '--blas <name>',
        `native BLAS for the wasm backend's matrix products (default: ${BLAS_ENV} or auto: OpenBLAS when installed)`,
      ).choices([...BLAS_CHOICES]),
    );
}

const program = withGlobalOptions(
  new Command()
    .name('translate')
    .description('RNN sequence-to-sequence toolkit on TensorFlow.js: train, evaluate and run translation models'),
)
  // package.json sits one folder above both src/cli.ts and dist/cli.js.
  .version(
    (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version,
  )
  // commander puts its "(Did you mean …?)" on a line of its own: keep the error to one line.
  // A repeatable flag's empty list is no default worth printing ("(default: [])"); subcommands inherit this.
  .configureHelp({
    optionDescription: (o) =>
      new Help().optionDescription(
        Array.isArray(o.defaultValue) && o.defaultValue.length === 0
          ? Object.assign(Object.create(o) as Option, { defaultValue: undefined })
          : o,
      ),
  })
  .configureOutput({
    outputError: (text, write) => write(`translate: ${text.replace(/\n\(Did you mean/, ' (did you mean')}`),
  });

const backend = (): Promise<void> => startBackend(program.opts()['backend'] as string | undefined);
const commands = commandsFor(process.argv.slice(2), withGlobalOptions(new Command()));
const training = runsTraining(commands, process.argv.slice(2), withGlobalOptions(new Command()));

// A reader that goes away (`translate translate … | head -2`, a log pipe that closes) is no error. Output on stdout
// is what the command makes, so with no one to read it the command stops, quietly; training goes on to its
// checkpoints, as a server does to its next request, and what they would write is dropped.
const stopsWithoutReader = !training && !commands.some((c) => c.serves === true);
for (const stream of [process.stdout, process.stderr])
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e;
    if (stream === process.stdout && stopsWithoutReader) process.exit(process.exitCode ?? 0);
  });
for (const command of commands) await command.register(program, { backend, startBackend });
// A usage error is one line and where to read more, not the whole help (which scrolls the message away).
(function hintHelp(cmd: Command, name: string): void {
  cmd.showHelpAfterError(`see '${name} --help'`);
  for (const sub of cmd.commands) hintHelp(sub, `${name} ${sub.name()}`);
})(program, 'translate');

program.parseAsync(process.argv).catch((e: unknown) => {
  if (isUserError(e)) {
    process.stderr.write(`translate: error: ${(e as Error).message}\n`);
  } else {
    process.stderr.write(`translate: internal error (please report): ${e instanceof Error ? e.stack : String(e)}\n`);
  }
  process.exitCode = 1;
});
