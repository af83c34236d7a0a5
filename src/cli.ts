#!/usr/bin/env node
// The `translate` command line. The only place that prints, draws progress and sets exit codes.
import { readFileSync } from 'node:fs';
import { Command, Help, Option, InvalidArgumentError } from 'commander';
import { selectBackend, parseBackendChoice, parseWasmThreads, BACKEND_CHOICES, BACKEND_ENV, WASM_THREADS_ENV } from './backend/select.js';
import { BLAS_CHOICES, BLAS_ENV, type BlasChoice } from './backend/blas.js';
import { ProgressBar } from './cli/progress.js';
import { runNumberWordsDemo } from './cli/demo.js';
import { dataStats } from './cli/dataStats.js';
import { isUserError } from './errors.js';
import { evaluateFiles, type EvalFlags } from './cli/evaluate.js';
import { registerCorpusCommands } from './cli/corpus.js';
import { registerTrainCommand } from './cli/train.js';
import { registerTranslateCommand } from './cli/translate.js';
import { registerSubwordCommands } from './cli/subwords.js';
import { registerAverageCommand } from './cli/average.js';
import { registerHeadCommands } from './cli/heads.js';
import { registerServeCommand } from './cli/serve.js';
import { registerWebCommand } from './cli/web.js';

function int(name: string, min = 1) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`${name} must be an integer ≥ ${min}`);
    return n;
  };
}

function num(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number`);
    return n;
  };
}

function share(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError(`${name} must be between 0 and 1`);
    return n;
  };
}

function nonNegative(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0`);
    return n;
  };
}

async function startBackend(choice: string | undefined): Promise<void> {
  const threads = parseWasmThreads(program.opts()['threads'] as string | undefined);
  const blas = program.opts()['blas'] as BlasChoice | undefined;
  const info = await selectBackend(choice === undefined ? undefined : parseBackendChoice(choice), process.env, {
    ...(threads === undefined ? {} : { wasmThreads: threads }),
    ...(blas === undefined ? {} : { blas }),
  });
  process.stderr.write(`backend: ${info.description}\n`);
  if (info.hint !== null) process.stderr.write(`${info.hint}\n`);
  if (info.choice === 'cpu') process.stderr.write('warning: the cpu backend is far too slow to train on; wasm or tfjs-node is recommended\n');
}

const program = new Command();
program
  .name('translate')
  .description('RNN sequence-to-sequence toolkit on TensorFlow.js: train, evaluate and run translation models')
  .addOption(new Option('--backend <name>', `tfjs backend (default: ${BACKEND_ENV} or auto)`).choices([...BACKEND_CHOICES]))
  .option('--threads <n>', `threads for matrix products: OpenBLAS's, else the wasm backend's (default: ${WASM_THREADS_ENV}, else one per core, at most 8)`)
  .addOption(new Option('--blas <name>', `native BLAS for the wasm backend's matrix products (default: ${BLAS_ENV} or auto: OpenBLAS when installed)`).choices([...BLAS_CHOICES]))
  // package.json sits one folder above both src/cli.ts and dist/cli.js.
  .version((JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version)
  // commander puts its "(Did you mean …?)" on a line of its own: keep the error to one line.
  // A repeatable flag's empty list is no default worth printing ("(default: [])"); subcommands inherit this.
  .configureHelp({ optionDescription: (o) => new Help().optionDescription(Array.isArray(o.defaultValue) && o.defaultValue.length === 0 ? Object.assign(Object.create(o) as Option, { defaultValue: undefined }) : o) })
  .configureOutput({ outputError: (text, write) => write(`translate: ${text.replace(/\n\(Did you mean/, ' (did you mean')}`) });

const demo = program.command('demo').description('built-in demonstrations');
demo
  .command('number-words')
  .description('train "one two five" → "125" (spelled digits read character by character), evaluate and save')
  .option('--steps <n>', 'training steps', int('--steps'), 1100)
  .option('--batch-size <n>', 'pairs per batch', int('--batch-size'), 64)
  .option('--hidden <n>', 'GRU units', int('--hidden'), 128)
  .option('--embedding <n>', 'embedding width', int('--embedding'), 64)
  .option('--learning-rate <x>', 'Adam learning rate', num('--learning-rate'), 3e-3)
  .addOption(new Option('--attention <kind>', 'attention: Luong dot or general, Bahdanau (additive), none').choices(['dot', 'general', 'bahdanau', 'none']).default('dot'))
  .option('--no-attention', "the tutorial's original model: the decoder sees only the encoder's final state (= --attention none)")
  .addOption(new Option('--cell <kind>', 'recurrent cell').choices(['gru', 'lstm', 'rnn']).default('gru'))
  .option('--peepholes', 'LSTM peephole connections')
  .option('--layers <n>', 'stacked layers in encoder and decoder', int('--layers'), 1)
  .option('--bidirectional', 'bidirectional encoder (each direction gets half the units)')
  .option('--residual', 'residual connections between stacked layers')
  .option('--dropout <keep>', 'keep probability of layer inputs and outputs in training (1 = no dropout)', num('--dropout'), 1)
  .option('--state-keep <keep>', 'keep probability of the recurrent state in training (variational)', num('--state-keep'), 1)
  .addOption(new Option('--bridge <kind>', 'encoder final states → decoder initial state').choices(['auto', 'copy', 'dense', 'zero']).default('auto'))
  .option('--min-digits <n>', 'fewest digits in training numbers', int('--min-digits'), 5)
  .option('--max-digits <n>', 'most digits in training numbers', int('--max-digits'), 10)
  .option('--short-share <x>', 'share of training numbers with fewer than --min-digits digits', share('--short-share'), 0.05)
  .option('--seed <n>', 'seed for data and weights', int('--seed', 0), 1)
  .option('--out <dir>', 'where to save the model', 'runs/number-words')
  .action(async (opts) => {
    await startBackend(program.opts()['backend']);
    await runNumberWordsDemo(opts, new ProgressBar());
  });

const data = program.command('data').description('inspect corpora as the training pipeline sees them');
data
  .command('stats')
  .description('pair counts, length histograms, bucket occupancy, padding share, UNK rate, dropped pairs with reasons')
  .requiredOption('--corpus <spec>', 'tsv:FILE[#src,tgt] | aligned:SRC,TGT | jsonl:FILE | a path (.tsv, .jsonl, dir/train.{de,en}.gz); gzip is detected')
  .option('--tokenizer <spec>', 'word | word:fr | char | space | sp:FILE.model', 'word')
  .option('--target-tokenizer <spec>', 'target side tokenizer (default: as --tokenizer)')
  .option('--lowercase', 'lowercase both sides')
  .option('--buckets <spec>', "'auto', 'default' ((5,10),(10,15),(20,25),(40,50)) or e.g. '5,10;10,15'", 'auto')
  .option('--bucket-count <n>', 'number of automatic buckets', int('--bucket-count'), 4)
  .option('--max-vocab <n>', 'vocabulary size limit, specials included', int('--max-vocab', 5))
  .option('--min-count <n>', 'drop tokens seen fewer times', int('--min-count'), 1)
  .option('--max-chars <n>', 'drop pairs with a side longer than this many characters', int('--max-chars'))
  .action(async (opts) => {
    process.stdout.write(`${await dataStats(opts)}\n`);
  });

program
  .command('eval')
  .description('BLEU (sacreBLEU-compatible: 13a, cased), chrF and exact match of a model on a test set, or of a hypothesis file')
  .option('--model <dir>', 'model to translate --src with')
  .option('--src <file>', 'source sentences, one per line')
  .option('--hyp <file>', 'score this hypothesis file instead of translating (no model needed)')
  .requiredOption('--ref <file...>', 'reference translations, one per line (several files: several references)')
  .option('--beam <k>', 'beam size, with length penalty (1 = greedy)', int('--beam'), 5)
  .option('--length-penalty <alpha>', 'GNMT length penalty α for beam search', nonNegative('--length-penalty'), 0.6)
  .option('--batch-size <n>', 'sentences per batch', int('--batch-size'), 64)
  .option('--lowercase', 'case-insensitive BLEU')
  .option('--out <file>', 'also write the hypotheses here')
  .action(async (opts: EvalFlags) => {
    const report = await evaluateFiles(opts, () => startBackend(program.opts()['backend']));
    process.stdout.write(report);
  });

registerCorpusCommands(program);
registerHeadCommands(program, startBackend);
registerTranslateCommand(program, startBackend);
registerSubwordCommands(program);
registerAverageCommand(program, startBackend);
registerTrainCommand(program, startBackend);
registerServeCommand(program, startBackend);
registerWebCommand(program, startBackend);
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
