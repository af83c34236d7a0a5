// `translate train`: train a translation model on a parallel corpus, with a config file and/or flags, progress on
// stderr, a checkpoint (a model directory) plus best/, train.jsonl and curves.svg in --out, and --resume.
// Ctrl-C finishes the current step, writes the checkpoint and exits; a second Ctrl-C exits at once.
import { Command, Option } from 'commander';
import { int, num, positive, keep, backendFlag } from './flags.js';
import { MAX_LAYERS } from '../recurrent/stack.js';
import * as path from 'node:path';
import { trainWithProgress } from './trainingRun.js';
import { trainingLayer } from './headTraining.js';
import { resolveConfig, checkConfig, TRANSLATION_CONFIG, type PartialTrainConfig } from '../translation/config.js';
import { prepareTranslation } from '../translation/run.js';
import { BEST_DIR } from '../train/checkpoints.js';
import { addRunConfigFlags, resolveRun, type RunConfigFlags } from './runConfig.js';
import { SCHEDULE_KINDS, type ScheduleKind } from '../train/schedule.js';

export interface TrainFlags extends RunConfigFlags {
  // data
  corpus?: string;
  valid?: string;
  validSplit?: number;
  tokenizer?: string;
  targetTokenizer?: string;
  subwords?: number;
  subwordType?: 'unigram' | 'bpe';
  keepCheckpoints?: number;
  lowercase?: boolean;
  buckets?: string;
  bucketCount?: number;
  maxVocab?: number;
  minCount?: number;
  maxChars?: number;
  maxLineBytes?: number;
  limit?: number;
  batchSize?: number;
  // model
  embedding?: number;
  hidden?: number;
  cell?: string;
  attention?: string;
  bidirectional?: boolean;
  encoderLayers?: number;
  decoderLayers?: number;
  encoderHidden?: number;
  residual?: boolean;
  dropout?: number;
  stateKeep?: number;
  bridge?: string;
  shareEmbeddings?: boolean;
  freezeEmbeddings?: 'source' | 'target' | 'both';
  pretrainedSource?: string;
  pretrainedTarget?: string;
  reverseSource?: boolean;
  seed?: number;
  // training
  steps?: number;
  optimizer?: 'adam' | 'sgd';
  learningRate?: number;
  momentum?: number;
  clipNorm?: number;
  schedule?: ScheduleKind;
  lrDecay?: number;
  evalEvery?: number;
  checkpointEvery?: number;
  metric?: string;
  patience?: number;
  nonFinite?: 'stop' | 'skip';
  // loss
  softmax?: 'full' | 'sampled';
  numSampled?: number;
  labelSmoothing?: number;
  average?: 'token' | 'sequence';
  // validation
  decodeSentences?: number;
  quiet?: boolean;
}

/** The flags given, as a partial config (flags not given are absent, so the config file's values stand). */
export function flagsToConfig(f: TrainFlags): PartialTrainConfig {
  const pick = <T extends object>(o: T): T =>
    Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
  const model: Record<string, unknown> = pick({
    embeddingSize: f.embedding,
    hiddenSize: f.hidden,
    attention: f.attention,
    reverseSource: f.reverseSource,
    seed: f.seed,
    bidirectional: f.bidirectional,
    encoderLayers: f.encoderLayers,
    decoderLayers: f.decoderLayers,
    encoderHiddenSize: f.encoderHidden,
    residual: f.residual,
    bridge: f.bridge,
    shareEmbeddings: f.shareEmbeddings,
    freezeSourceEmbeddings: f.freezeEmbeddings === undefined ? undefined : f.freezeEmbeddings !== 'target',
    freezeTargetEmbeddings: f.freezeEmbeddings === undefined ? undefined : f.freezeEmbeddings !== 'source',
  });
  if (f.cell !== undefined) model['cell'] = { kind: f.cell };
  if (f.dropout !== undefined || f.stateKeep !== undefined)
    model['dropout'] = pick({ inputKeep: f.dropout, outputKeep: f.dropout, stateKeep: f.stateKeep });
  const config: PartialTrainConfig = {
    data: pick({
      corpus: f.corpus,
      valid: f.valid,
      validSplit: f.validSplit,
      tokenizer: f.tokenizer,
      targetTokenizer: f.targetTokenizer,
      lowercase: f.lowercase,
      buckets: f.buckets,
      bucketCount: f.bucketCount,
      maxVocab: f.maxVocab,
      minCount: f.minCount,
      maxChars: f.maxChars,
      maxLineBytes: f.maxLineBytes,
      limit: f.limit,
      batchSize: f.batchSize,
      seed: f.seed,
      pretrainedSource: f.pretrainedSource,
      pretrainedTarget: f.pretrainedTarget,
      jointVocabulary: f.shareEmbeddings,
      subwords: f.subwords,
      subwordType: f.subwordType,
    }),
    model,
    // The heads' training flags, and translation's own two.
    training: { ...trainingLayer(f), ...pick({ nonFinite: f.nonFinite, keepCheckpoints: f.keepCheckpoints }) },
    loss: pick({ softmax: f.softmax, numSampled: f.numSampled, labelSmoothing: f.labelSmoothing, average: f.average }),
    validation: pick({ decodeSentences: f.decodeSentences }),
  };
  return checkConfig(config, 'command-line flags');
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined ? '—' : x.toFixed(digits));

function describeMetrics(m: Record<string, number>): string {
  const parts = [`loss ${fmt(m['loss'], 4)}`, `ppl ${fmt(m['perplexity'], 2)}`, `acc ${fmt(m['tokenAccuracy'], 1)}%`];
  if (m['bleu'] !== undefined) parts.push(`exact ${fmt(m['exactMatch'], 1)}%`, `BLEU ${fmt(m['bleu'], 2)}`);
  return parts.join(', ');
}

export async function runTrain(flags: TrainFlags, startBackend: () => Promise<void>): Promise<number> {
  const err = process.stderr;
  const out = flags.out;
  const { config, checkpoint } = await resolveRun(flags, {
    system: TRANSLATION_CONFIG,
    flagLayer: flagsToConfig(flags),
    resolve: resolveConfig,
    kind: 'seq2seq',
  });
  if (checkpoint !== undefined) err.write(`resuming ${out} at step ${checkpoint.training.step}\n`);
  await startBackend();
  const prepared = await prepareTranslation(config, checkpoint);
  const s = prepared.summary;
  const m = prepared.config.model;
  err.write(
    `data: ${s.trainPairs} training pairs, ${s.validPairs} validation pairs` +
      `${Object.keys(s.dropped).length > 0 ? `, dropped ${JSON.stringify(s.dropped)}` : ''}` +
      `${s.overBucket > 0 ? `, ${s.overBucket} longer than every bucket` : ''}; ` +
      `vocabularies ${s.sourceVocab} / ${s.targetVocab}; buckets ${s.buckets.map((b) => `${b[0]},${b[1]}`).join(' ')}\n` +
      `model: ${m.bidirectional ? 'bidirectional ' : ''}${m.cell.kind} ${m.hiddenSize} units ` +
      `(${m.encoderLayers}+${m.decoderLayers} layers), embeddings ${m.embeddingSize}, attention ${m.attention}, ` +
      `${prepared.translator.model.params.count().toLocaleString('en-US')} weights; ` +
      `loss: ${prepared.config.loss.softmax} softmax${prepared.config.loss.softmax === 'sampled' ? ` (${prepared.config.loss.numSampled} sampled)` : ''}\n`,
  );
  for (const p of s.pretrained) {
    err.write(
      `pretrained ${p.side} embeddings from ${p.file}: ${p.found} of ${p.words} vocabulary words found (${p.exact} as written, ${p.lowercase} lowercased)\n`,
    );
  }

  try {
    return await trainWithProgress(
      prepared.task,
      prepared.config.training,
      {
        out,
        loss: prepared.config.loss,
        config: prepared.saved,
        ...(checkpoint !== undefined ? { resume: checkpoint } : {}),
        resetOptimizer: flags.resetOptimizer ?? false,
        reschedule: flags.reschedule ?? false,
      },
      {
        quiet: flags.quiet ?? false,
        describe: describeMetrics,
        usage: `translate with: npx translate translate --model ${path.join(out, BEST_DIR)}`,
      },
    );
  } finally {
    prepared.translator.dispose();
  }
}

export function registerTrainCommand(
  program: Command,
  startBackend: (choice: string | undefined) => Promise<void>,
): void {
  const command = program
    .command('train')
    .description(
      'train a translation model on a parallel corpus (config file and/or flags; checkpoint, log and curves in --out)',
    );
  addRunConfigFlags(command, TRANSLATION_CONFIG.sectionNames, 'runs/train')
    .option('--corpus <spec>', 'training corpus: tsv:FILE[#src,tgt] | aligned:SRC,TGT | jsonl:FILE | a path')
    .option('--valid <spec>', 'validation corpus (default: hold out --valid-split of the training corpus)')
    .option('--valid-split <x>', 'held-out share (< 1) or pair count (default: 0.05)', num('--valid-split'))
    .option('--tokenizer <spec>', 'word | word:fr | char | space | sp:FILE.model (default: word)')
    .option('--target-tokenizer <spec>', 'target side tokenizer (default: as --tokenizer)')
    .option(
      '--subwords <n>',
      'train a joint SentencePiece model of n pieces on the corpus (spm_train) as both tokenizers',
      int('--subwords'),
    )
    .addOption(
      new Option('--subword-type <type>', 'SentencePiece algorithm for --subwords (default: unigram)').choices([
        'unigram',
        'bpe',
      ]),
    )
    .option('--lowercase', 'lowercase both sides')
    .option('--buckets <spec>', "'auto', 'default' or e.g. '5,10;10,15' (default: auto)")
    .option('--bucket-count <n>', 'automatic buckets (default: 4)', int('--bucket-count'))
    .option('--max-vocab <n>', 'vocabulary size limit per side, specials included', int('--max-vocab', 5))
    .option('--min-count <n>', 'drop tokens seen fewer times (default: 1)', int('--min-count'))
    .option('--max-chars <n>', 'drop pairs with a side longer than this many characters', int('--max-chars'))
    .option(
      '--max-line-bytes <n>',
      'drop pairs whose corpus line is longer than this many bytes, counted as line-too-long (default: 1048576)',
      int('--max-line-bytes'),
    )
    .option('--limit <n>', 'read at most this many pairs', int('--limit'))
    .option('--batch-size <n>', 'pairs per batch (default: 64)', int('--batch-size'))
    .option('--embedding <n>', 'embedding width (default: 256)', int('--embedding'))
    .option(
      '--hidden <n>',
      "decoder units; the encoder's per direction are half when bidirectional (default: 256)",
      int('--hidden'),
    )
    .addOption(new Option('--cell <kind>', 'recurrent cell (default: gru)').choices(['gru', 'lstm', 'rnn']))
    .addOption(
      new Option('--attention <kind>', 'attention (default: bahdanau)').choices(['dot', 'general', 'bahdanau', 'none']),
    )
    .option(
      '--bidirectional',
      'bidirectional encoder, each direction hidden/2 units unless --encoder-hidden (the default)',
    )
    .option('--no-bidirectional', 'unidirectional encoder')
    .option('--encoder-layers <n>', 'stacked encoder layers (default: 1)', int('--encoder-layers', 1, MAX_LAYERS))
    .option('--decoder-layers <n>', 'stacked decoder layers (default: 1)', int('--decoder-layers', 1, MAX_LAYERS))
    .option(
      '--encoder-hidden <n>',
      'encoder units per direction (default: hidden, halved when bidirectional)',
      int('--encoder-hidden'),
    )
    .option('--residual', 'residual connections between stacked layers')
    .option(
      '--dropout <keep>',
      "keep probability of recurrent layers' inputs and outputs in training (default: 0.8; 1: off)",
      keep('--dropout'),
    )
    .option(
      '--state-keep <keep>',
      'keep probability of the recurrent state (variational; default 1)',
      keep('--state-keep'),
    )
    .addOption(
      new Option('--bridge <kind>', 'encoder final states → decoder initial state (default: auto)').choices([
        'auto',
        'copy',
        'dense',
        'zero',
      ]),
    )
    .option('--share-embeddings', 'one joint vocabulary and one embedding table for source and target')
    .addOption(
      new Option('--freeze-embeddings <side>', 'do not train these embeddings (e.g. pretrained)').choices([
        'source',
        'target',
        'both',
      ]),
    )
    .option('--pretrained-source <file>', 'GloVe-format vectors for the source embeddings (width = --embedding)')
    .option('--pretrained-target <file>', 'GloVe-format vectors for the target embeddings')
    .option('--no-reverse-source', 'feed sources in reading order (default: reversed)')
    .option('--seed <n>', 'seed of weights, data order, split, dropout and sampling (default: 1)', int('--seed', 0))
    .option('--steps <n>', 'training steps (default: 4000)', int('--steps'))
    .addOption(new Option('--optimizer <name>', 'optimiser (default: adam)').choices(['adam', 'sgd']))
    .option('--learning-rate <x>', 'initial learning rate (default: 0.002)', positive('--learning-rate'))
    .option('--momentum <x>', 'SGD momentum (default: 0)', num('--momentum'))
    .option('--clip-norm <x>', 'clip gradients to this global norm; 0 = off (default: 5)', num('--clip-norm'))
    .addOption(new Option('--schedule <kind>', 'learning-rate schedule (default: cosine)').choices([...SCHEDULE_KINDS]))
    .option(
      '--lr-decay <factor>',
      'decay factor of loss-rise (default: 0.99) and plateau (default: 0.5)',
      positive('--lr-decay'),
    )
    .option('--eval-every <n>', 'validate every n steps (default: 500)', int('--eval-every'))
    .option(
      '--keep-checkpoints <n>',
      'keep the weights of the last n evaluations in --out/evaluations/ for translate average (default: 0)',
      int('--keep-checkpoints', 0),
    )
    .option(
      '--checkpoint-every <n>',
      'checkpoint every n steps (default: at every evaluation)',
      int('--checkpoint-every'),
    )
    .option(
      '--metric <name>',
      'validation metric for best/, plateau and early stopping: bleu, loss, perplexity, tokenAccuracy, exactMatch (default: bleu)',
    )
    .option(
      '--patience <n>',
      'early stopping: evaluations without improvement (default: 4; 0 = off)',
      int('--patience', 0),
    )
    .addOption(
      new Option('--non-finite <policy>', 'NaN/Inf loss: stop, or skip the batch (default: stop)').choices([
        'stop',
        'skip',
      ]),
    )
    .addOption(new Option('--softmax <kind>', 'training softmax (default: full)').choices(['full', 'sampled']))
    .option('--num-sampled <n>', 'sampled softmax candidates (default: 512)', int('--num-sampled'))
    .option('--label-smoothing <x>', 'label smoothing ε (default: 0)', num('--label-smoothing'))
    .addOption(new Option('--average <how>', 'loss average (default: token)').choices(['token', 'sequence']))
    .option(
      '--decode-sentences <n>',
      'validation sentences translated for exact match and BLEU (default: 200; 0 = none)',
      int('--decode-sentences', 0),
    )
    .option('--quiet', 'no progress lines (evaluations are still reported)')
    .action(async (opts: TrainFlags) => {
      // commander sets reverseSource true unless --no-reverse-source: keep it only when the flag was given.
      if (command.getOptionValueSource('reverseSource') === 'default') delete opts.reverseSource;
      // Likewise --bidirectional / --no-bidirectional: only when given, so config files and saved runs decide otherwise.
      if (command.getOptionValueSource('bidirectional') === 'default') delete opts.bidirectional;
      const code = await runTrain(opts, () => startBackend(backendFlag(program)));
      if (code !== 0) process.exitCode = code;
    });
}
