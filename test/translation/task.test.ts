// TranslationTask: bucketed training batches of the pairs, the sampler's position saved and restored, and validation
// (loss per target token, perplexity, token accuracy, exact match and BLEU of greedy translations of a subset)
// against references computed here one pair at a time.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { TranslationTask, DEFAULT_TRANSLATION_TASK } from '../../src/translation/task.js';
import { Translator } from '../../src/translation/translator.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG } from '../../src/translation/seq2seq.js';
import { Vocabulary, EOS } from '../../src/data/text/vocabulary.js';
import { SpaceTokenizer } from '../../src/data/text/tokenizers.js';
import { makeBatch, type Batch } from '../../src/data/text/batch.js';
import { DEFAULT_BUCKETS } from '../../src/data/text/buckets.js';
import { corpusBleu } from '../../src/metrics/bleu.js';
import { TrainingConfigError } from '../../src/train/options.js';
import { CheckpointError } from '../../src/train/checkpoints.js';
import type { TokenizedPair } from '../../src/data/text/corpus.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

// Target = the source words reversed in upper case; 1–6 words of 12.
function toyPairs(n: number, seed: number): TokenizedPair[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const source = Array.from({ length: rng.int(1, 6) }, () => `w${rng.int(0, 11)}`);
    return { source, target: [...source].reverse().map((w) => w.toUpperCase()) };
  });
}

const TRAIN = toyPairs(40, 1);
const VALID = toyPairs(9, 2);
const tokenizer = new SpaceTokenizer();
const sv = Vocabulary.build(TRAIN.map((p) => p.source));
const tv = Vocabulary.build(TRAIN.map((p) => p.target));
const BUCKETS: [number, number][] = [
  [3, 4],
  [6, 7],
];

function translator(seed = 3): Translator {
  const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 12, embeddingSize: 6, seed }, sv.size, tv.size);
  return new Translator(model, sv, tv, tokenizer, tokenizer);
}

/** The pairs of a batch, read back from its time-major arrays (sources un-reversed). */
function pairsOf(batch: Batch): { source: string[]; target: string[] }[] {
  const B = batch.size;
  return Array.from({ length: B }, (_, b) => {
    const source: string[] = [];
    for (let t = 0; t < batch.sourceSteps; t++) {
      if (batch.sourceMask[t * B + b]) source.push(sv.token(batch.source[t * B + b]!));
    }
    const target: string[] = [];
    for (let t = 0; t < batch.targetSteps && batch.targetOut[t * B + b] !== EOS; t++) {
      target.push(tv.token(batch.targetOut[t * B + b]!));
    }
    return { source: source.reverse(), target };
  });
}

/** Teacher-forced loss, perplexity and accuracy, one pair per batch (so no padding at all), in plain arithmetic. */
function referenceMetrics(t: Translator, valid: readonly TokenizedPair[]) {
  let nll = 0;
  let tokens = 0;
  let correct = 0;
  for (const p of valid) {
    const batch = makeBatch([{ source: sv.encode(p.source), target: tv.encode(p.target) }]);
    const logits = tf.tidy(() => t.model.logits(batch).arraySync());
    logits.forEach((row, i) => {
      const m = Math.max(...row);
      const z = Math.log(row.reduce((s, x) => s + Math.exp(x - m), 0)) + m;
      const target = batch.targetOut[i]!;
      nll += z - row[target]!;
      if (row.indexOf(m) === target) correct++;
      tokens++;
    });
  }
  return { loss: nll / tokens, perplexity: Math.exp(nll / tokens), tokenAccuracy: (100 * correct) / tokens };
}

describe('TranslationTask', () => {
  it("fills its options from the defaults and trains the translator's model", () => {
    expect(DEFAULT_TRANSLATION_TASK).toEqual({
      batchSize: 64,
      buckets: DEFAULT_BUCKETS,
      seed: 1,
      validBatchSize: 64,
      decodeSentences: 200,
    });
    const t = translator();
    const task = new TranslationTask(t, { train: TRAIN, valid: VALID }, { batchSize: 5, buckets: BUCKETS });
    expect(task.options).toEqual({ ...DEFAULT_TRANSLATION_TASK, batchSize: 5, buckets: BUCKETS });
    expect(task.model).toBe(t.model);
    expect(task.model.params).toBe(t.model.params);
    expect(task.savedForm()).toEqual(t.savedForm());
    t.dispose();
  });

  it('declares five metrics with their directions, or the three loss metrics when nothing is decoded', () => {
    const t = translator();
    expect(new TranslationTask(t, { train: TRAIN, valid: VALID }, { buckets: BUCKETS }).metrics).toEqual({
      loss: 'lower',
      perplexity: 'lower',
      tokenAccuracy: 'higher',
      exactMatch: 'higher',
      bleu: 'higher',
    });
    const quiet = new TranslationTask(t, { train: TRAIN, valid: VALID }, { buckets: BUCKETS, decodeSentences: 0 });
    expect(quiet.metrics).toEqual({ loss: 'lower', perplexity: 'lower', tokenAccuracy: 'higher' });
    expect(Object.keys(quiet.validate()).sort()).toEqual(['loss', 'perplexity', 'tokenAccuracy']);
    t.dispose();
  });

  it('gives batches of training pairs, counting real target tokens (EOS included); the epoch moves on', () => {
    const t = translator();
    const task = new TranslationTask(t, { train: TRAIN, valid: VALID }, { batchSize: 4, buckets: BUCKETS, seed: 9 });
    const known = new Set(TRAIN.map((p) => JSON.stringify({ source: p.source, target: p.target })));
    expect(task.epoch()).toBe(0);
    const seen: string[] = [];
    for (let i = 0; i < 30; i++) {
      const { batch, tokens } = task.nextBatch();
      expect(batch.size).toBeLessThanOrEqual(4);
      expect(tokens).toBe(batch.targetLengths.reduce((a, b) => a + b, 0));
      const pairs = pairsOf(batch);
      expect(tokens).toBe(pairs.reduce((s, p) => s + p.target.length + 1, 0));
      for (const p of pairs) {
        expect(known.has(JSON.stringify(p))).toBe(true);
        seen.push(JSON.stringify(p));
      }
    }
    // 30 batches of at most 4 pairs cover the 40 pairs' epoch and more.
    expect(task.epoch()).toBeGreaterThanOrEqual(1);
    expect(new Set(seen).size).toBe(known.size);
    t.dispose();
  });

  it("restores the sampler's position (through JSON): the same batches follow", () => {
    const t = translator();
    const a = new TranslationTask(t, { train: TRAIN, valid: VALID }, { batchSize: 4, buckets: BUCKETS, seed: 9 });
    for (let i = 0; i < 13; i++) a.nextBatch();
    const state = JSON.parse(JSON.stringify(a.samplerState()));
    expect(state).toEqual({ epoch: expect.any(Number), step: expect.any(Number) });
    const next = Array.from({ length: 6 }, () => Array.from(a.nextBatch().batch.targetOut));
    const b = new TranslationTask(t, { train: TRAIN, valid: VALID }, { batchSize: 4, buckets: BUCKETS, seed: 9 });
    b.setSamplerState(state);
    expect(b.epoch()).toBe(state.epoch);
    expect(Array.from({ length: 6 }, () => Array.from(b.nextBatch().batch.targetOut))).toEqual(next);
    t.dispose();
  });

  it('refuses a sampler state that is not {epoch, step}, quoting it', () => {
    const t = translator();
    const task = new TranslationTask(t, { train: TRAIN, valid: VALID }, { buckets: BUCKETS });
    for (const bad of [null, 'x', 3, {}, { epoch: 1 }, { epoch: 1, step: 1.5 }, { epoch: '1', step: 0 }]) {
      expect(() => task.setSamplerState(bad)).toThrow(CheckpointError);
      expect(() => task.setSamplerState(bad)).toThrow(`sampler state ${JSON.stringify(bad)} is not {epoch, step}`);
    }
    t.dispose();
  });

  it('refuses to start without validation pairs', () => {
    const t = translator();
    const make = () => new TranslationTask(t, { train: TRAIN, valid: [] }, { buckets: BUCKETS });
    expect(make).toThrow(TrainingConfigError);
    expect(make).toThrow('translation training needs validation pairs (none were given or held out)');
    t.dispose();
  });

  it('validates loss, perplexity and token accuracy as computed pair by pair, whatever the batch size', () => {
    const t = translator();
    const want = referenceMetrics(t, VALID);
    for (const validBatchSize of [1, 4, 64]) {
      const options = { buckets: BUCKETS, validBatchSize, decodeSentences: 0 };
      const task = new TranslationTask(t, { train: TRAIN, valid: VALID }, options);
      const before = tf.memory().numTensors;
      const got = task.validate();
      expect(tf.memory().numTensors).toBe(before);
      expect(got['loss']).toBeCloseTo(want.loss, 4);
      expect(got['perplexity']).toBeCloseTo(want.perplexity, 3);
      expect(got['perplexity']).toBeCloseTo(Math.exp(got['loss']!), 6);
      expect(got['tokenAccuracy']).toBeCloseTo(want.tokenAccuracy, 6);
    }
    // An untrained model over 12 target words: near-uniform, so the loss is close to log(size).
    expect(Math.abs(want.loss - Math.log(tv.size))).toBeLessThan(0.5);
    t.dispose();
  });

  it('decodes every k-th validation pair greedily for exact match and BLEU against the detokenized targets', () => {
    const t = translator();
    // Make some references the model's own greedy output: exact match is then known.
    const own = t.translateIds(VALID.map((p) => sv.encode(p.source))).map((n) => n[0]!.text);
    const valid = VALID.map((p, i) => (i % 2 === 0 ? { source: p.source, target: own[i]!.split(' ') } : p));
    // 3 of 9 pairs: positions 0, 3, 6 (stride 3), of which 0 and 6 are the model's own output.
    const options = { buckets: BUCKETS, decodeSentences: 3, validBatchSize: 2 };
    const task = new TranslationTask(t, { train: TRAIN, valid }, options);
    const got = task.validate();
    expect(got['exactMatch']).toBeCloseTo((100 * 2) / 3, 6);
    const picked = [0, 3, 6];
    const hyps = picked.map((i) => own[i]!);
    const refs = picked.map((i) => valid[i]!.target.join(' '));
    expect(got['bleu']).toBeCloseTo(corpusBleu(hyps, [refs]).score, 6);
    expect(got['bleu']).toBeGreaterThan(0);
    // More sentences asked for than there are: all are decoded; validation is deterministic.
    const all = new TranslationTask(t, { train: TRAIN, valid }, { buckets: BUCKETS, decodeSentences: 500 });
    const first = all.validate();
    expect(first['exactMatch']).toBeCloseTo((100 * 5) / 9, 6);
    expect(all.validate()).toEqual(first);
    t.dispose();
  });

  it('validation draws nothing from the training stream: the batches after it are the same', () => {
    const t = translator();
    const options = { batchSize: 4, buckets: BUCKETS, seed: 2, decodeSentences: 4 };
    const make = () => new TranslationTask(t, { train: TRAIN, valid: VALID }, options);
    const a = make();
    const b = make();
    a.nextBatch();
    b.nextBatch();
    a.validate();
    expect(Array.from(a.nextBatch().batch.targetOut)).toEqual(Array.from(b.nextBatch().batch.targetOut));
    t.dispose();
  });
});
