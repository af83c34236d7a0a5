// `translate demo number-words`: train, report, save. Ctrl-C stops training after the current step; the model
// trained so far is still evaluated and saved.
import {
  trainNumberWords,
  evaluateNumberWords,
  DEFAULT_NUMBER_WORDS_DEMO,
  NUMBER_WORDS_TASK,
  type EvaluationResult,
} from '../demo/numberWords.js';
import { Translator } from '../translation/translator.js';
import { refuseForeignModelJson } from '../model/modelFiles.js';
import { CharTokenizer } from '../data/text/tokenizers.js';
import { Option, type Command } from 'commander';
import { ProgressBar } from './progress.js';
import { int, positive, keep, share } from './flags.js';
import { MAX_LAYERS } from '../recurrent/stack.js';
import { DEFAULT_CELL, type CellKind } from '../recurrent/cell.js';
import type { AttentionKind } from '../decoder/attention.js';
import type { BridgeKind } from '../encoder/bridge.js';
import type { Seq2SeqConfig } from '../translation/seq2seq.js';

export interface DemoFlags {
  steps: number;
  batchSize: number;
  hidden: number;
  embedding: number;
  learningRate: number;
  /** An attention kind, or false from --no-attention (= 'none'). */
  attention: AttentionKind | false;
  cell: CellKind;
  peepholes?: boolean;
  /** Encoder and decoder layers (default 1). */
  layers?: number;
  bidirectional?: boolean;
  residual?: boolean;
  /** Keep probability of layer inputs and outputs (default 1: no dropout). */
  dropout?: number;
  /** Keep probability of the recurrent state (variational; default 1). */
  stateKeep?: number;
  bridge?: BridgeKind;
  minDigits: number;
  maxDigits: number;
  shortShare: number;
  seed: number;
  out: string;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`;

function report(name: string, r: EvaluationResult): string {
  return `${name}: exact match ${pct(r.exactMatch)}, token accuracy ${pct(r.tokenAccuracy)} (${r.sentences} numbers)`;
}

/** One line naming the architecture, e.g. "2-layer bidirectional GRU encoder–decoder with bahdanau attention, 64 units". */
export function describeModel(m: Seq2SeqConfig): string {
  const layers =
    m.encoderLayers === m.decoderLayers
      ? m.encoderLayers > 1
        ? `${m.encoderLayers}-layer `
        : ''
      : `${m.encoderLayers}/${m.decoderLayers}-layer `;
  const parts = [`${layers}${m.bidirectional ? 'bidirectional ' : ''}${m.cell.kind.toUpperCase()} encoder–decoder`];
  parts.push(
    m.attention === 'none'
      ? 'without attention'
      : `with ${m.attention === 'dot' ? 'dot-product' : m.attention} attention`,
  );
  let text = `${parts.join(' ')}, ${m.hiddenSize} units`;
  if (m.residual) text += ', residual';
  const d = m.dropout;
  if (d.inputKeep < 1 || d.outputKeep < 1 || d.stateKeep < 1)
    text += `, dropout keep ${d.inputKeep}/${d.outputKeep}/${d.stateKeep} (input/output/state)`;
  return text;
}

export async function runNumberWordsDemo(flags: DemoFlags, bar: ProgressBar): Promise<void> {
  // Before the training: a --out whose model.json this toolkit did not write would refuse the save at the end.
  await refuseForeignModelJson(flags.out);
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) process.exit(130);
    process.stderr.write('\ninterrupted: finishing this step, then evaluating and saving (Ctrl-C again to quit now)\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  const started = performance.now();
  let tokens = 0;
  const layers = flags.layers ?? 1;
  const keep = flags.dropout ?? 1;
  const model: Seq2SeqConfig = {
    ...DEFAULT_NUMBER_WORDS_DEMO.model,
    hiddenSize: flags.hidden,
    embeddingSize: flags.embedding,
    attention: flags.attention === false ? 'none' : flags.attention,
    seed: flags.seed,
    cell: { ...DEFAULT_CELL, kind: flags.cell, peepholes: flags.peepholes ?? false },
    encoderLayers: layers,
    decoderLayers: layers,
    bidirectional: flags.bidirectional ?? false,
    residual: flags.residual ?? false,
    dropout: { inputKeep: keep, outputKeep: keep, stateKeep: flags.stateKeep ?? 1 },
    bridge: flags.bridge ?? 'auto',
  };
  const options = {
    ...DEFAULT_NUMBER_WORDS_DEMO,
    steps: flags.steps,
    batchSize: flags.batchSize,
    task: { minDigits: flags.minDigits, maxDigits: flags.maxDigits, shortShare: flags.shortShare, seed: flags.seed },
    model,
    trainer: { ...DEFAULT_NUMBER_WORDS_DEMO.trainer, learningRate: flags.learningRate },
  };
  process.stderr.write(
    `number-words: ${describeModel(model)}, ${flags.steps} steps of ${flags.batchSize}, digits ${flags.minDigits}–${flags.maxDigits}, seed ${flags.seed}\n`,
  );
  const run = await trainNumberWords(
    options,
    (p) => {
      tokens += p.tokens;
      const elapsed = (performance.now() - started) / 1000;
      bar.update({
        step: p.step,
        steps: p.steps,
        loss: p.loss,
        tokensPerSecond: tokens / elapsed,
        elapsedSeconds: elapsed,
      });
    },
    stop.signal,
  );
  bar.done();
  process.off('SIGINT', onSigint);
  try {
    const trainSeconds = run.trainSeconds;
    const valid = evaluateNumberWords(run.model, run.task.valid, run.vocabs);
    const long = evaluateNumberWords(run.model, run.task.long, run.vocabs);
    const short = run.task.short.length > 0 ? evaluateNumberWords(run.model, run.task.short, run.vocabs) : null;
    const [lo, hi] = run.task.options.longDigits;
    const out = process.stdout;
    out.write(
      `trained ${run.losses.length} steps in ${trainSeconds.toFixed(0)} s ` +
        `(${Math.round(tokens / trainSeconds)} target tokens/s), final loss ${run.losses.at(-1)?.toFixed(4)}\n`,
    );
    out.write(
      `${report(`validation, ${run.task.options.minDigits}–${run.task.options.maxDigits} digits (held out)`, valid)}\n`,
    );
    out.write(
      `accuracy per target position: ${valid.positionAccuracy.map((a, i) => `${i + 1}:${(100 * a).toFixed(1)}`).join(' ')}  (last = EOS after the longest)\n`,
    );
    out.write(`${report(`length generalisation, ${lo}–${hi} digits (longer than any in training)`, long)}\n`);
    if (short !== null)
      out.write(
        `${report(`short numbers, 1–${run.task.options.minDigits - 1} digits (${(100 * run.task.options.shortShare).toFixed(0)}% of training)`, short)}\n`,
      );
    const chars = new CharTokenizer();
    const translator = new Translator(run.model, run.vocabs.source, run.vocabs.target, chars, chars, {
      task: NUMBER_WORDS_TASK,
      steps: run.losses.length,
      trainSeconds: Math.round(trainSeconds),
      options,
      validation: valid,
      long,
      short,
    });
    await translator.save(flags.out);
    out.write(`saved to ${flags.out}  (try: npx translate translate --model ${flags.out} "one two five")\n`);
  } finally {
    run.model.dispose();
  }
}

export function registerDemoCommands(program: Command, startBackend: () => Promise<void>): void {
  const demo = program.command('demo').description('built-in demonstrations');
  demo
    .command('number-words')
    .description('train "one two five" → "125" (spelled digits read character by character), evaluate and save')
    .option('--steps <n>', 'training steps', int('--steps'), 1100)
    .option('--batch-size <n>', 'pairs per batch', int('--batch-size'), 64)
    .option('--hidden <n>', 'GRU units', int('--hidden'), 128)
    .option('--embedding <n>', 'embedding width', int('--embedding'), 64)
    .option('--learning-rate <x>', 'Adam learning rate', positive('--learning-rate'), 3e-3)
    .addOption(
      new Option('--attention <kind>', 'attention: Luong dot or general, Bahdanau (additive), none')
        .choices(['dot', 'general', 'bahdanau', 'none'])
        .default('dot'),
    )
    .option(
      '--no-attention',
      "the tutorial's original model: the decoder sees only the encoder's final state (= --attention none)",
    )
    .addOption(new Option('--cell <kind>', 'recurrent cell').choices(['gru', 'lstm', 'rnn']).default('gru'))
    .option('--peepholes', 'LSTM peephole connections')
    .option('--layers <n>', 'stacked layers in encoder and decoder', int('--layers', 1, MAX_LAYERS), 1)
    .option('--bidirectional', 'bidirectional encoder (each direction gets half the units)')
    .option('--residual', 'residual connections between stacked layers')
    .option(
      '--dropout <keep>',
      'keep probability of layer inputs and outputs in training (1 = no dropout)',
      keep('--dropout'),
      1,
    )
    .option(
      '--state-keep <keep>',
      'keep probability of the recurrent state in training (variational)',
      keep('--state-keep'),
      1,
    )
    .addOption(
      new Option('--bridge <kind>', 'encoder final states → decoder initial state')
        .choices(['auto', 'copy', 'dense', 'zero'])
        .default('auto'),
    )
    .option('--min-digits <n>', 'fewest digits in training numbers', int('--min-digits'), 5)
    .option('--max-digits <n>', 'most digits in training numbers', int('--max-digits'), 10)
    .option(
      '--short-share <x>',
      'share of training numbers with fewer than --min-digits digits',
      share('--short-share'),
      0.05,
    )
    .option('--seed <n>', 'seed for data and weights', int('--seed', 0), 1)
    .option('--out <dir>', 'where to save the model', 'runs/number-words')
    .action(async (opts: DemoFlags) => {
      await startBackend();
      await runNumberWordsDemo(opts, new ProgressBar());
    });
}
