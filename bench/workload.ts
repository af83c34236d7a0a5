// The toolkit's side of a benchmark workload: the same model, data and measurements as
// bench/pytorch/seq2seq_bench.py, printed as one JSON line with the same keys. Run in its own process so that
// its peak memory is its own:  node --import tsx bench/workload.ts --config '{"srcVocab":1000,...}'
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, parseBackendChoice } from '../src/backend/select.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../src/translation/seq2seq.js';
import { Trainer } from '../src/train/trainer.js';
import { makeBatch, makeSourceBatch, type Batch } from '../src/data/text/batch.js';
import { greedyDecode } from '../src/search/greedy.js';
import { beamSearch } from '../src/search/beam.js';
import { Rng } from '../src/random.js';
import { EOS } from '../src/data/text/vocabulary.js';

export interface WorkloadConfig {
  srcVocab: number;
  tgtVocab: number;
  emb: number;
  hidden: number;
  batch: number;
  srcLen: number;
  /** Target steps, EOS included. */
  tgtLen: number;
  attention: boolean;
  trainSteps: number;
  warmupSteps: number;
  /**
   * Warm-up also lasts at least this long, in training and before each decoding measurement (untimed rounds), on
   * both sides: V8 compiles the hot functions over the first seconds, on a background thread that takes a core from
   * OpenBLAS's second thread meanwhile; a training run, a file's translation or a server runs long past them.
   */
  warmupSeconds: number;
  repeats: number;
  decodeBatches: number;
  beam: number;
  seed: number;
  /** Training softmax: 'full' (default) or 'sampled' (sampled softmax with numSampled candidates). */
  softmax: 'full' | 'sampled';
  numSampled: number;
  /** Measure training only (no decoding): the softmax comparison. */
  trainOnly: boolean;
}

/** The GNMT length penalty α `translate` uses by default. */
const LENGTH_PENALTY = 0.6;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function randomBatch(rng: Rng, c: WorkloadConfig): Batch {
  const ids = (n: number, v: number) => Array.from({ length: n }, () => rng.int(4, v - 1));
  return makeBatch(
    Array.from({ length: c.batch }, () => ({
      source: ids(c.srcLen, c.srcVocab),
      target: ids(c.tgtLen - 1, c.tgtVocab),
    })),
  );
}

async function main(): Promise<void> {
  const i = process.argv.indexOf('--config');
  const given = JSON.parse(process.argv[i + 1] ?? '{}') as Partial<WorkloadConfig>;
  const c = {
    attention: false,
    trainSteps: 10,
    warmupSteps: 3,
    warmupSeconds: 2,
    repeats: 3,
    decodeBatches: 5,
    beam: 5,
    seed: 1234,
    softmax: 'full',
    numSampled: 512,
    trainOnly: false,
    ...given,
  } as WorkloadConfig;
  const info = await selectBackend(parseBackendChoice(process.env['TRANSLATE_BACKEND'] ?? 'wasm'));
  const started = performance.now();
  const rng = new Rng(c.seed);
  const model = new Seq2Seq(
    {
      ...DEFAULT_SEQ2SEQ_CONFIG,
      embeddingSize: c.emb,
      hiddenSize: c.hidden,
      attention: c.attention ? 'dot' : 'none',
      seed: c.seed,
    },
    c.srcVocab,
    c.tgtVocab,
  );
  const trainer = new Trainer(model.params, { learningRate: 3e-3, clipNorm: 5 });
  const batches = Array.from({ length: 4 }, () => randomBatch(rng, c));
  let k = 0;
  // Training context as the loop passes it: the run's generator draws the sampled-softmax candidates.
  const lossRng = new Rng(c.seed + 1);
  const step = () => {
    const b = batches[k++ % batches.length]!;
    return trainer.update(() =>
      model.loss(b, { training: true, rng: lossRng, loss: { softmax: c.softmax, numSampled: c.numSampled } }),
    ).loss;
  };
  const warmStart = performance.now();
  for (let s = 0; s < c.warmupSteps || performance.now() - warmStart < 1000 * c.warmupSeconds; s++) step();
  const trainRuns: number[] = [];
  let lastLoss = NaN;
  const tensorsBefore = tf.memory().numTensors;
  for (let r = 0; r < c.repeats; r++) {
    const t0 = performance.now();
    for (let s = 0; s < c.trainSteps; s++) lastLoss = step();
    trainRuns.push((c.trainSteps * c.batch * c.tgtLen) / ((performance.now() - t0) / 1000));
  }
  const tensorsAfter = tf.memory().numTensors;
  const decoding = c.trainOnly ? {} : decodeTimings(model, batches, c, rng);
  process.stdout.write(
    JSON.stringify({
      engine: 'seq2seq-ts',
      backend: info.description,
      config: c,
      train_tokens_per_s: Math.round(median(trainRuns) * 10) / 10,
      train_tokens_per_s_runs: trainRuns.map((x) => Math.round(x)),
      train_final_loss: Math.round(lastLoss * 1e4) / 1e4,
      ...decoding,
      peak_rss_mib: Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10,
      live_tensors_delta_over_training: tensorsAfter - tensorsBefore,
      wall_s: Math.round((performance.now() - started) / 10) / 100,
    }) + '\n',
  );
  trainer.dispose();
  model.dispose();
}

/** Greedy and beam sentences/s and one-sentence latency, decoding at fixed length as the peer does. */
function decodeTimings(model: Seq2Seq, batches: Batch[], c: WorkloadConfig, rng: Rng): Record<string, unknown> {
  // An EOS bias of −1e4 keeps every hypothesis going to the length limit (an untrained model would otherwise stop
  // at arbitrary points, or at once).
  const bias = model.params.get('decoder/output/b');
  tf.tidy(() => bias.assign(tf.tensor1d(Array.from({ length: c.tgtVocab }, (_, v) => (v === EOS ? -1e4 : 0)))));
  const sources = batches.map((b) =>
    makeSourceBatch(
      Array.from({ length: c.batch }, (_, j) => Array.from({ length: c.srcLen }, (_, t) => b.source[t * c.batch + j]!)),
    ),
  );
  // Fixed-length decode, as the peer: tgtLen steps (maxLength tgtLen − 1 tokens, then EOS position).
  const greedyRuns: number[] = [];
  // Untimed rounds first for warmupSeconds (at least one), as the peer does (its time_decode): V8 compiles the
  // decoding path's hot functions over the first few hundred steps, and a translation of a file or a server runs
  // long past them.
  const greedyRound = () => {
    for (let d = 0; d < c.decodeBatches; d++)
      greedyDecode(model, sources[d % sources.length]!, { maxLength: c.tgtLen - 1 });
  };
  warmUp(greedyRound, c.warmupSeconds);
  for (let r = 0; r < c.repeats; r++) {
    const t0 = performance.now();
    greedyRound();
    greedyRuns.push((c.decodeBatches * c.batch) / ((performance.now() - t0) / 1000));
  }
  const one = makeSourceBatch([Array.from({ length: c.srcLen }, () => rng.int(4, c.srcVocab - 1))]);
  const lat: number[] = [];
  for (let r = 0; r < Math.max(10, 5 * c.repeats); r++) {
    const t0 = performance.now();
    greedyDecode(model, one, { maxLength: c.tgtLen - 1 });
    lat.push(performance.now() - t0);
  }
  const beamRuns = c.beam > 0 ? beamTimings(model, sources, c, 0) : [];
  // What `translate` runs by default: beam 5 with the GNMT length penalty α = 0.6, at batch 64 and for one sentence.
  const beamLpRuns = c.beam > 0 ? beamTimings(model, sources, c, LENGTH_PENALTY) : [];
  const beamLpLatency: number[] = [];
  for (let r = 0; r < (c.beam > 0 ? Math.max(5, 2 * c.repeats) : 0); r++) {
    const t0 = performance.now();
    beamSearch(model, one, { beamSize: c.beam, maxLength: c.tgtLen - 1, lengthPenalty: LENGTH_PENALTY });
    beamLpLatency.push(performance.now() - t0);
  }
  return {
    greedy_sentences_per_s: Math.round(median(greedyRuns) * 10) / 10,
    greedy_sentences_per_s_runs: greedyRuns.map((x) => Math.round(x)),
    beam_size: c.beam,
    beam_sentences_per_s: beamRuns.length ? Math.round(median(beamRuns) * 10) / 10 : null,
    greedy_latency_ms: Math.round(median(lat) * 1000) / 1000,
    beam_lp_sentences_per_s: beamLpRuns.length ? Math.round(median(beamLpRuns) * 10) / 10 : null,
    beam_lp_latency_ms: beamLpLatency.length ? Math.round(median(beamLpLatency) * 1000) / 1000 : null,
  };
}

/** Untimed rounds until `seconds` have passed, at least one. */
function warmUp(round: () => void, seconds: number): void {
  const t0 = performance.now();
  do round();
  while (performance.now() - t0 < 1000 * seconds);
}

/** Beam-search sentences/s over the decode batches, `repeats` times after warm-up rounds (as greedy). */
function beamTimings(
  model: Seq2Seq,
  sources: ReturnType<typeof makeSourceBatch>[],
  c: WorkloadConfig,
  lengthPenalty: number,
): number[] {
  const runs: number[] = [];
  const round = () => {
    for (let d = 0; d < c.decodeBatches; d++)
      beamSearch(model, sources[d % sources.length]!, { beamSize: c.beam, maxLength: c.tgtLen - 1, lengthPenalty });
  };
  warmUp(round, c.warmupSeconds);
  for (let r = 0; r < c.repeats; r++) {
    const t0 = performance.now();
    round();
    runs.push((c.decodeBatches * c.batch) / ((performance.now() - t0) / 1000));
  }
  return runs;
}

await main();
