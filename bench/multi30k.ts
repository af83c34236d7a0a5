// The toolkit's side of the `multi30k` workload: training the model of corpora/configs/multi30k-de-en.json
// (bidirectional GRU encoder, dot attention, dropout, sampled softmax) on real Multi30K de→en batches, against the
// same model in PyTorch (bench/pytorch/multi30k.py). Two steps, each its own process:
//
//   node --import tsx bench/multi30k.ts --prepare FILE --config '{"warmupSteps":4,"trainSteps":24}'   → FILE
//   node --import tsx bench/multi30k.ts --config '{"batches":FILE,"warmupSteps":4,"trainSteps":24,"repeats":5}'
//
// --prepare builds the run exactly as `translate train --config corpora/configs/multi30k-de-en.json` does
// (resolveConfig, then prepareTranslation: word tokenizer, vocabularies with minCount 2, six automatic buckets,
// seed 1) and writes the first warmupSteps + trainSteps batches its sampler draws, as the toolkit lays them out
// (time-major, sources reversed and front-padded to their bucket), with the resolved config. Both sides then train
// on that file, so that they see the same batches and neither side's peak memory holds the corpus.
import * as tf from '@tensorflow/tfjs-core';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { selectBackend, parseBackendChoice } from '../src/backend/select.js';
import { readConfigFile, resolveConfig, type TrainConfig } from '../src/translation/config.js';
import { prepareTranslation } from '../src/translation/run.js';
import { Seq2Seq } from '../src/translation/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { Rng } from '../src/random.js';
import type { Batch } from '../src/data/text/batch.js';

export interface Multi30kConfig {
  /** Untimed steps, on the first batches drawn. */
  warmupSteps: number;
  /** Steps per timed run, on the next batches drawn (the same ones in every run). */
  trainSteps: number;
  /** Timed runs. */
  repeats: number;
  /** The file --prepare wrote (training reads it). */
  batches?: string;
}

/** What --prepare writes and both sides read. */
export interface PreparedBatches {
  /** The resolved `translate train` config (buckets fitted). */
  config: TrainConfig;
  sourceVocab: number;
  targetVocab: number;
  /** Batch fields as plain arrays. */
  batches: Record<keyof Batch, number | number[]>[];
}

const root = resolve(import.meta.dirname, '..');
const configFile = resolve(root, 'corpora/configs/multi30k-de-en.json');
/** Where the corpus is read: the shared copy, else where `translate corpus fetch multi30k` puts it. */
const corpusDirs = [resolve(root, '../shared/corpora/multi30k'), resolve(root, 'corpora/downloads/multi30k')];

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** The config file's run with its corpus paths pointed at the corpus found here. */
async function runConfig(): Promise<TrainConfig> {
  const dir = corpusDirs.find((d) => existsSync(resolve(d, 'train.de.gz')));
  if (dir === undefined) throw new Error(`no Multi30K corpus in ${corpusDirs.join(' or ')}`);
  const data = { corpus: `aligned:${dir}/train.{de,en}.gz`, valid: `aligned:${dir}/val.{de,en}.gz` };
  return resolveConfig([await readConfigFile(configFile), { data }]);
}

async function prepare(file: string, c: Multi30kConfig): Promise<void> {
  const prepared = await prepareTranslation(await runConfig());
  const batches = Array.from({ length: c.warmupSteps + c.trainSteps }, () => {
    const { batch } = prepared.task.nextBatch();
    return Object.fromEntries(
      Object.entries(batch).map(([k, v]) => [k, typeof v === 'number' ? v : Array.from(v as ArrayLike<number>)]),
    ) as PreparedBatches['batches'][number];
  });
  const s = prepared.summary;
  const out: PreparedBatches = {
    config: prepared.config,
    sourceVocab: s.sourceVocab,
    targetVocab: s.targetVocab,
    batches,
  };
  writeFileSync(file, JSON.stringify(out));
  prepared.translator.dispose();
  const n = (x: number) => x.toLocaleString('en-US');
  const what =
    `the first ${batches.length} batches of ${n(s.trainPairs)} training pairs; vocabularies ${n(s.sourceVocab)} / ` +
    `${n(s.targetVocab)}; buckets ${s.buckets.map((b) => b.join(',')).join(' ')}`;
  process.stdout.write(JSON.stringify({ what, trainPairs: s.trainPairs, buckets: s.buckets }) + '\n');
}

function toBatch(b: PreparedBatches['batches'][number]): Batch {
  const ints = (k: keyof Batch) => Int32Array.from(b[k] as number[]);
  const floats = (k: keyof Batch) => Float32Array.from(b[k] as number[]);
  return {
    size: b.size as number,
    sourceSteps: b.sourceSteps as number,
    targetSteps: b.targetSteps as number,
    source: ints('source'),
    sourceMask: floats('sourceMask'),
    sourceLengths: ints('sourceLengths'),
    targetIn: ints('targetIn'),
    targetOut: ints('targetOut'),
    targetMask: floats('targetMask'),
    targetLengths: ints('targetLengths'),
  };
}

async function train(file: string, c: Multi30kConfig): Promise<void> {
  const info = await selectBackend(parseBackendChoice(process.env['TRANSLATE_BACKEND'] ?? 'wasm'));
  const started = performance.now();
  const prepared = JSON.parse(readFileSync(file, 'utf8')) as PreparedBatches;
  const { config } = prepared;
  // The model, optimiser and loss as prepareTranslation and the training loop make them; the loop's learning-rate
  // schedule is left out (over these first steps the cosine schedule stays within 1% of the initial rate).
  const model = new Seq2Seq(config.model, prepared.sourceVocab, prepared.targetVocab);
  const t = config.training;
  const trainer = new Trainer(model.params, {
    optimizer: t.optimizer,
    learningRate: t.learningRate,
    momentum: t.momentum,
    clipNorm: t.clipNorm,
  });
  const rng = new Rng(t.seed);
  const batches = prepared.batches.map(toBatch);
  // Real target tokens, EOS included (what the training loop's tokens/s counts): the peer counts the same.
  const tokens = (b: Batch) => b.targetLengths.reduce((a, n) => a + n, 0);
  const step = (b: Batch) => trainer.update(() => model.loss(b, { training: true, rng, loss: config.loss })).loss;
  for (const b of batches.slice(0, c.warmupSteps)) step(b);
  const timed = batches.slice(c.warmupSteps);
  const runTokens = timed.reduce((a, b) => a + tokens(b), 0);
  const runs: number[] = [];
  let lastLoss = NaN;
  const tensorsBefore = tf.memory().numTensors;
  for (let r = 0; r < c.repeats; r++) {
    const t0 = performance.now();
    for (const b of timed) lastLoss = step(b);
    runs.push(runTokens / ((performance.now() - t0) / 1000));
  }
  process.stdout.write(
    JSON.stringify({
      engine: 'seq2seq-ts',
      backend: info.description,
      config: c,
      model: config.model,
      loss: config.loss,
      vocabularies: [prepared.sourceVocab, prepared.targetVocab],
      shapes: timed.map((b) => [b.sourceSteps, b.targetSteps]),
      tokens_per_run: runTokens,
      train_tokens_per_s: Math.round(median(runs) * 10) / 10,
      train_tokens_per_s_runs: runs.map((x) => Math.round(x)),
      train_final_loss: Math.round(lastLoss * 1e4) / 1e4,
      peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      live_tensors_delta_over_training: tf.memory().numTensors - tensorsBefore,
      wall_s: Math.round((performance.now() - started) / 10) / 100,
    }) + '\n',
  );
  trainer.dispose();
  model.dispose();
}

const arg = (name: string): string | undefined => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const c: Multi30kConfig = {
  warmupSteps: 4,
  trainSteps: 24,
  repeats: 4,
  ...(JSON.parse(arg('--config') ?? '{}') as Partial<Multi30kConfig>),
};
const prepareTo = arg('--prepare');
if (prepareTo !== undefined) await prepare(prepareTo, c);
else if (c.batches !== undefined) await train(c.batches, c);
else throw new Error(`usage: bench/multi30k.ts --prepare FILE [--config JSON] | --config '{"batches":FILE,…}'`);
