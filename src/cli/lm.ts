// `translate lm train|generate|score`: a recurrent language model trained by the same loop as `translate train`
// (config file, flags, --set, --resume; progress on stderr; checkpoint, best/, train.jsonl, curves.svg in --out),
// then used to continue prompts and to score perplexity beside an add-one unigram baseline.
import { Option, type Command } from 'commander';
import { int, num } from './flags.js';
import { writeWaiting } from './stdout.js';
import { addRunConfigFlags, resolveRun } from './runConfig.js';
import { addHeadTrainingFlags, trainingLayer, runHeadTraining, fmt, type HeadTrainFlags } from './headTraining.js';
import { ConfigError, pickDefined, isPlainObject } from '../train/config.js';
import {
  LM_CONFIG,
  LM_DATA_DEFAULTS,
  LM_MODEL_DEFAULTS,
  LM_TRAINING_DEFAULTS,
  resolveLmConfig,
  type PartialLmTrainConfig,
} from '../heads/lm/config.js';
import { prepareLanguageModel } from '../heads/lm/prepare.js';
import { TextLanguageModel, LM_KIND } from '../heads/lm/textLanguageModel.js';
import { UnigramModel } from '../heads/lm/unigram.js';
import { readTextLines } from '../heads/textLines.js';
import { placedLines, DEFAULT_MAX_INPUT_LINE_BYTES } from './lineInput.js';
import { perplexity } from '../metrics/scores.js';

type StartBackend = () => Promise<void>;

export interface LmTrainFlags extends HeadTrainFlags {
  train?: string[];
  valid?: string;
  validSplit?: number;
  tokenizer?: string;
  lowercase?: boolean;
  maxVocab?: number;
  minCount?: number;
  limit?: number;
  embedding?: number;
  softmax?: 'full' | 'sampled';
  numSampled?: number;
}

/** The flags given, as a partial config (flags not given are absent, so the config file's values stand). */
export function lmFlagsToConfig(f: LmTrainFlags): PartialLmTrainConfig {
  const config: PartialLmTrainConfig = {
    data: pickDefined({
      train: f.train,
      valid: f.valid,
      validSplit: f.validSplit,
      tokenizer: f.tokenizer,
      lowercase: f.lowercase,
      maxVocab: f.maxVocab,
      minCount: f.minCount,
      limit: f.limit,
      batchSize: f.batchSize,
      seed: f.seed,
    }),
    model: {
      ...pickDefined({ embeddingSize: f.embedding, hiddenSize: f.hidden, seed: f.seed }),
      ...(f.cell !== undefined ? { cell: { kind: f.cell } } : {}),
    },
    training: trainingLayer(f),
    loss: pickDefined({ softmax: f.softmax, numSampled: f.numSampled }),
  };
  return LM_CONFIG.check(config, 'command-line flags');
}

/** A checkpoint's saved config: `{ config }`, or the `{ flags }` that runs saved before configs existed. */
export function lmSavedConfig(saved: unknown): PartialLmTrainConfig | null {
  if (!isPlainObject(saved)) return null;
  if (isPlainObject(saved['config'])) return saved['config'];
  if (isPlainObject(saved['flags']))
    return lmFlagsToConfig({ set: [], out: '', ...(saved['flags'] as Partial<LmTrainFlags>) });
  return null;
}

const describeLm = (m: Record<string, number>): string =>
  `loss ${fmt(m['loss'])}, perplexity ${fmt(m['perplexity'], 3)}`;

export async function lmTrain(flags: LmTrainFlags, startBackend: StartBackend): Promise<number> {
  const { config, checkpoint } = await resolveRun(flags, {
    system: LM_CONFIG,
    flagLayer: lmFlagsToConfig(flags),
    resolve: resolveLmConfig,
    kind: LM_KIND,
    savedConfig: lmSavedConfig,
  });
  if (checkpoint !== undefined) process.stderr.write(`resuming ${flags.out} at step ${checkpoint.training.step}\n`);
  await startBackend();
  const prepared = await prepareLanguageModel(config, checkpoint);
  try {
    const s = prepared.summary;
    const m = prepared.lm.model.config;
    const loss = config.loss.softmax === 'sampled' ? `; loss: sampled softmax (${config.loss.numSampled} sampled)` : '';
    process.stderr.write(
      `data: ${s.trainLines} training lines, ${s.validLines} validation lines; vocabulary ${s.vocabulary} (${s.tokenizer})\n` +
        `model: ${m.cell.kind} ${m.hiddenSize} units, embeddings ${m.embeddingSize}, ${s.weights.toLocaleString('en-US')} weights${loss}\n`,
    );
    return await runHeadTraining(prepared.task, {
      out: flags.out,
      training: config.training,
      saved: prepared.saved,
      loss: config.loss,
      flags,
      describe: describeLm,
      ...(checkpoint !== undefined ? { checkpoint } : {}),
    });
  } finally {
    prepared.lm.dispose();
  }
}

export interface LmGenerateFlags {
  model: string;
  prompt: string[];
  temperature: number;
  topK: number;
  maxLength: number;
  count: number;
  seed: number;
}

/** Samples `lm generate` runs and writes at once. */
const GENERATE_BATCH = 64;

async function lmGenerate(flags: LmGenerateFlags, startBackend: StartBackend): Promise<void> {
  await startBackend();
  const lm = await TextLanguageModel.load(flags.model);
  try {
    const prompts = flags.prompt.length > 0 ? flags.prompt : [''];
    // Each prompt `count` times, a batch at a time, written as each batch ends: memory stays one batch whatever
    // --count asks, and sample i (of the whole run) draws from stream i of the seed, as one call would.
    const total = prompts.length * flags.count;
    for (let first = 0; first < total; first += GENERATE_BATCH) {
      const chunk = Array.from(
        { length: Math.min(GENERATE_BATCH, total - first) },
        (_, k) => prompts[Math.floor((first + k) / flags.count)]!,
      );
      const texts = lm.generate(chunk, {
        temperature: flags.temperature,
        topK: flags.topK,
        maxLength: flags.maxLength,
        seed: flags.seed,
        firstPrompt: first,
        batchSize: GENERATE_BATCH,
      });
      await writeWaiting(texts.map((t) => `${t}\n`).join(''));
    }
  } finally {
    lm.dispose();
  }
}

export interface LmScoreFlags {
  model: string;
  unigram?: string;
  batchSize: number;
}

/** Lines scored at once: memory holds one chunk, whatever the files' size. */
const SCORE_CHUNK = 4096;

/**
 * Perplexity of the files' non-empty lines, read and scored a chunk at a time; the sums over all chunks are what one
 * pass over every line gives (each line's score does not depend on its batch-mates). A line over the reader's bound
 * is left out, named on stderr, and the exit code is 1.
 */
async function lmScore(files: string[], flags: LmScoreFlags, startBackend: StartBackend): Promise<void> {
  await startBackend();
  const lm = await TextLanguageModel.load(flags.model);
  try {
    const prep = (l: string): string => (lm.lowercase ? l.toLowerCase() : l);
    const unigram =
      flags.unigram === undefined
        ? null
        : UnigramModel.train((await readTextLines([flags.unigram], { nonEmpty: true })).map(prep), {
            tokenizer: lm.tokenizer,
          });
    const sum = { lines: 0, tokens: 0, nll: 0, unknown: 0, skipped: 0, unigramTokens: 0, unigramNll: 0 };
    let chunk: string[] = [];
    const scoreChunk = (): void => {
      const r = lm.score(chunk, flags.batchSize);
      sum.lines += chunk.length;
      sum.tokens += r.tokens;
      sum.nll += r.meanNll * r.tokens;
      sum.unknown += r.unknown;
      if (unigram !== null) {
        const u = unigram.perplexity(chunk.map(prep));
        sum.unigramTokens += u.tokens;
        sum.unigramNll += u.meanNll * u.tokens;
      }
      chunk = [];
    };
    for await (const l of placedLines(files)) {
      if (l.overLong) {
        sum.skipped++;
        process.stderr.write(`lm score: ${l.where}: longer than ${DEFAULT_MAX_INPUT_LINE_BYTES} bytes, not scored\n`);
      } else if (l.text.trim().length > 0) {
        chunk.push(l.text);
        if (chunk.length >= SCORE_CHUNK) scoreChunk();
      }
    }
    if (chunk.length > 0) scoreChunk();
    if (sum.lines === 0) throw new ConfigError(`${files.join(', ')}: no non-empty lines to score`);
    const meanNll = sum.nll / sum.tokens;
    const skipped = sum.skipped > 0 ? `, ${sum.skipped} over ${DEFAULT_MAX_INPUT_LINE_BYTES} bytes left out` : '';
    const o = process.stdout;
    o.write(
      `${files.join(', ')}: ${sum.lines} lines${skipped}, ${sum.tokens} predicted tokens (EOS included), ` +
        `${sum.unknown} out of vocabulary\n`,
    );
    o.write(`model perplexity ${perplexity(meanNll).toFixed(3)} (mean NLL ${meanNll.toFixed(4)} nats/token)\n`);
    if (unigram !== null)
      o.write(
        `unigram baseline (add-one, trained on ${flags.unigram}, same tokenizer): perplexity ` +
          `${perplexity(sum.unigramNll / sum.unigramTokens).toFixed(3)}\n`,
      );
    if (sum.skipped > 0) process.exitCode = 1;
  } finally {
    lm.dispose();
  }
}

export function registerLmCommands(program: Command, startBackend: StartBackend): void {
  const lm = program
    .command('lm')
    .description('recurrent language model: train on monolingual text, generate, ' + 'score perplexity');
  const train = lm.command('train').description('train a language model (word, char or SentencePiece tokens)');
  addRunConfigFlags(train, LM_CONFIG.sectionNames, 'runs/lm');
  addHeadTrainingFlags(train, {
    training: LM_TRAINING_DEFAULTS,
    batchSize: LM_DATA_DEFAULTS.batchSize,
    hidden: LM_MODEL_DEFAULTS.hiddenSize,
  })
    .option('--train <file...>', 'training text, one sentence per line (plain or gzip); required unless in --config')
    .option('--valid <file>', 'validation text (default: hold out --valid-split of the training lines)')
    .option(
      '--valid-split <x>',
      `held-out share (< 1) or line count (default: ${LM_DATA_DEFAULTS.validSplit})`,
      num('--valid-split'),
    )
    .option(
      '--tokenizer <spec>',
      `char | word | word:fr | space | sp:FILE.model (default: ${LM_DATA_DEFAULTS.tokenizer})`,
    )
    .option('--lowercase', 'lowercase the text')
    .option('--max-vocab <n>', 'vocabulary size limit, specials included', int('--max-vocab', 5))
    .option('--min-count <n>', 'drop tokens seen fewer times (default: 1)', int('--min-count'))
    .option('--limit <n>', 'read at most this many lines', int('--limit'))
    .option('--embedding <n>', `embedding width (default: ${LM_MODEL_DEFAULTS.embeddingSize})`, int('--embedding'))
    .addOption(new Option('--softmax <kind>', 'training softmax (default: full)').choices(['full', 'sampled']))
    .option('--num-sampled <n>', 'sampled softmax candidates (default: 512)', int('--num-sampled'))
    .action(async (opts: LmTrainFlags) => {
      const code = await lmTrain(opts, startBackend);
      if (code !== 0) process.exitCode = code;
    });
  lm.command('generate')
    .description('continue prompts by sampling (temperature, top-k) or greedily (--temperature 0)')
    .requiredOption('--model <dir>', 'language-model directory')
    .addOption(new Option('--prompt <text...>', 'prompts to continue').default([], 'one empty prompt'))
    .option('--temperature <t>', 'sampling temperature; 0 = greedy', num('--temperature'), 1)
    .option('--top-k <k>', 'sample among the k most probable tokens (0 = all)', int('--top-k', 0), 0)
    .option('--max-length <n>', 'tokens to generate at most', int('--max-length'), 100)
    .option('--count <n>', 'samples per prompt', int('--count'), 1)
    .option('--seed <n>', 'sampling seed', int('--seed', 0, 0xffffffff), 1)
    .action(async (opts: LmGenerateFlags) => lmGenerate(opts, startBackend));
  lm.command('score')
    .description('perplexity of text files under the model (optionally beside an add-one unigram baseline)')
    .requiredOption('--model <dir>', 'language-model directory')
    .option('--unigram <train-file>', 'also score a unigram model trained on this file with the same tokenizer')
    .option('--batch-size <n>', 'lines per batch', int('--batch-size'), 64)
    .argument('<file...>', 'text to score, one sentence per line')
    .action(async (files: string[], opts: LmScoreFlags) => lmScore(files, opts, startBackend));
}
