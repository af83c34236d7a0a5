// The whole model over the config space: step-by-step decoding agrees with teacher forcing, search runs on stacked
// bidirectional LSTMs with Bahdanau attention, gradients match finite differences (every attention kind, dropout
// with fixed masks), dropout follows the training flag and the rng, tensors do not leak, configs round-trip
// through a saved model directory, embeddings share and freeze.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useTestBackend } from '../helpers/backend.js';
import {
  Seq2Seq,
  DEFAULT_SEQ2SEQ_CONFIG,
  Seq2SeqConfigError,
  resolveSeq2SeqConfig,
  runLength,
  type Seq2SeqConfig,
} from '../../src/translation/seq2seq.js';
import type { Memory } from '../../src/decoder/decoder.js';
import { tiledRows } from '../../src/search/decodable.js';
import { DEFAULT_CELL } from '../../src/recurrent/cell.js';
import { makeBatch, makeSourceBatch, type Batch } from '../../src/data/text/batch.js';
import { greedyDecode } from '../../src/search/greedy.js';
import { beamSearch } from '../../src/search/beam.js';
import { Trainer } from '../../src/train/trainer.js';
import { Translator } from '../../src/translation/translator.js';
import { CharTokenizer } from '../../src/data/text/tokenizers.js';
import { numberWordsVocabularies } from '../../src/data/text/numberWords.js';
import { Rng } from '../../src/random.js';
import { checkVariableGradients } from '../helpers/gradientCheck.js';
import { MAX_LAYERS } from '../../src/recurrent/stack.js';

beforeAll(useTestBackend);

const V = 12;
const PAIRS = [
  { source: [4, 5, 6, 7], target: [8, 9, 10] },
  { source: [5], target: [11, 4] },
  { source: [9, 8, 6], target: [7] },
];
const lstm = { ...DEFAULT_CELL, kind: 'lstm' as const, peepholes: true };
const small = (c: Partial<Seq2SeqConfig>): Partial<Seq2SeqConfig> => ({
  embeddingSize: 4,
  hiddenSize: 6,
  seed: 3,
  ...c,
});

const configs: [string, Partial<Seq2SeqConfig>][] = [
  ['default (1-layer GRU, dot)', small({})],
  ['general attention, 2 decoder layers, residual', small({ attention: 'general', decoderLayers: 2, residual: true })],
  [
    '2-layer bidirectional LSTM, bahdanau',
    small({ encoderLayers: 2, decoderLayers: 2, bidirectional: true, cell: lstm, attention: 'bahdanau' }),
  ],
  ['bidirectional GRU, no attention, dense bridge', small({ bidirectional: true, attention: 'none', bridge: 'dense' })],
  [
    'basic RNN, bahdanau, encoder wider than decoder',
    small({ cell: { ...DEFAULT_CELL, kind: 'rnn' }, attention: 'bahdanau', encoderHiddenSize: 8, attentionSize: 5 }),
  ],
];

/** Teacher-forced logits [B, T, V] of the batch. */
function teacherForced(model: Seq2Seq, batch: Batch): number[][][] {
  return tf.tidy(() => tf.reshape(model.logits(batch), [batch.size, batch.targetSteps, V]).arraySync() as number[][][]);
}

/** The same logits from the step interface fed the reference tokens (GO y1 … yn). */
function stepped(model: Seq2Seq, batch: Batch): number[][][] {
  const B = batch.size;
  const out: number[][][] = Array.from({ length: B }, () => []);
  const memory = model.encode(batch);
  let state = model.initialState(memory);
  for (let t = 0; t < batch.targetSteps; t++) {
    const previous = batch.targetIn.slice(t * B, (t + 1) * B);
    const r = tf.tidy(() => {
      const s = model.decoder.step(memory, state, previous);
      return { logits: s.logits.arraySync(), h: tf.keep(s.state.h) };
    });
    model.disposeState(state);
    state = { h: r.h };
    r.logits.forEach((row, b) => out[b]!.push(row));
  }
  model.disposeState(state);
  model.disposeMemory(memory);
  return out;
}

describe.each(configs)('Seq2Seq, %s', (_, config) => {
  it('the step interface gives the teacher-forced logits, and each sentence alone gives its logits in the padded batch', () => {
    const model = new Seq2Seq(config, V, V);
    const batch = makeBatch(PAIRS);
    const forced = teacherForced(model, batch);
    const steps = stepped(model, batch);
    forced.forEach((rows, b) =>
      rows.forEach((row, t) => row.forEach((v, k) => expect(steps[b]![t]![k]).toBeCloseTo(v, 4))),
    );
    PAIRS.forEach((pair, b) => {
      const alone = teacherForced(model, makeBatch([pair]));
      alone[0]!.forEach((row, t) => row.forEach((v, k) => expect(forced[b]![t]![k]).toBeCloseTo(v, 4)));
    });
    model.dispose();
  });

  it('gradients of all weights match finite differences', () => {
    const model = new Seq2Seq(config, V, V);
    checkVariableGradients(() => model.loss(makeBatch(PAIRS)), model.params.entries(), { samples: 3 });
    model.dispose();
  });

  it("a memory selected for a beam's rows steps as the same rows copied out, and keeps serving through a later selection", () => {
    const model = new Seq2Seq(config, V, V);
    const batch = makeSourceBatch(PAIRS.map((p) => p.source));
    const memory = model.encode(batch);
    // Copies of every field, row by row: what selectMemory computes without sharing rows.
    const copied = (rows: Int32Array) =>
      tf.tidy(() => {
        const index = tf.tensor1d(rows, 'int32');
        const keys = memory.keys && tf.gather(memory.keys, index);
        return {
          outputs: tf.gather(memory.outputs, index),
          maskBias: tf.gather(memory.maskBias, index),
          initial: tf.gather(memory.initial, index),
          ...(keys === null ? {} : { keys }),
        };
      });
    const compare = (selected: Memory, rows: Int32Array) => {
      const plain = copied(rows);
      const reference = { ...plain, keys: plain.keys ?? null };
      const previous = Int32Array.from(rows, (r, i) => 4 + ((r + i) % 7));
      const got = model.step(selected, model.initialState(selected), previous, { scores: 'logits', attention: true });
      const want = model.step(reference, model.initialState(reference), previous, {
        scores: 'logits',
        attention: true,
      });
      for (const [a, b] of [
        [got.logProbs, want.logProbs],
        [got.state.h, want.state.h],
        ...(got.attention === undefined ? [] : [[got.attention, want.attention!]]),
      ] as const) {
        const [x, y] = [a.dataSync(), b.dataSync()];
        expect(x.length).toBe(y.length);
        x.forEach((v, i) => expect(Math.abs(v - y[i]!)).toBeLessThan(1e-5));
      }
      tf.dispose([got.logProbs, want.logProbs, got.attention, want.attention, got.state.h, want.state.h]);
      model.disposeMemory(reference);
    };
    const tiled = tiledRows(3, 4);
    const beams = model.selectMemory(memory, tiled);
    // Luong attention shares a sentence's source row among its 4 hypotheses; Bahdanau's copies it.
    expect(beams.group ?? 1).toBe(config.attention === 'bahdanau' || config.attention === 'none' ? 1 : 4);
    compare(beams, tiled);
    // Retiring sentence 1 (rows 4–7), then rows of sentences picked out of order (no runs: copied).
    const retired = model.selectMemory(beams, Int32Array.from([0, 1, 2, 3, 8, 9, 10, 11]));
    compare(retired, Int32Array.from([0, 0, 0, 0, 2, 2, 2, 2]));
    const mixed = model.selectMemory(retired, Int32Array.from([5, 0, 7]));
    expect(mixed.group ?? 1).toBe(1);
    compare(mixed, Int32Array.from([2, 0, 2]));
    [beams, retired, mixed, memory].forEach((m) => model.disposeMemory(m));
    model.dispose();
  });

  it("a step asked for some rows scores those rows as a full step does, and moves every row's state", () => {
    const model = new Seq2Seq(config, V, V);
    const batch = makeSourceBatch(PAIRS.map((p) => p.source));
    const memory = model.selectMemory(model.encode(batch), tiledRows(3, 2));
    const state = model.initialState(memory);
    const previous = Int32Array.from([4, 5, 6, 7, 8, 9]);
    const rows = Int32Array.from([5, 0, 3]);
    const full = model.step(memory, state, previous, { scores: 'logits' });
    const some = model.step(memory, state, previous, { scores: 'logits', rows });
    expect(some.logProbs.shape).toEqual([3, V]);
    const [all, picked] = [full.logProbs.arraySync(), some.logProbs.arraySync()];
    rows.forEach((r, i) => all[r]!.forEach((v, k) => expect(picked[i]![k]).toBeCloseTo(v, 5)));
    expect(Array.from(some.state.h.dataSync())).toEqual(Array.from(full.state.h.dataSync()));
    tf.dispose([full.logProbs, some.logProbs, full.state.h, some.state.h, state.h]);
    model.disposeMemory(memory);
    model.dispose();
  });

  it('greedy and beam search run, beam 1 equals greedy, and no tensor leaks', () => {
    const model = new Seq2Seq(config, V, V);
    const batch = makeSourceBatch(PAIRS.map((p) => p.source));
    greedyDecode(model, batch, { maxLength: 6 });
    const before = tf.memory().numTensors;
    const greedy = greedyDecode(model, batch, { maxLength: 6 });
    const beam1 = beamSearch(model, batch, { beamSize: 1, maxLength: 6 });
    const beam4 = beamSearch(model, batch, { beamSize: 4, nBest: 2, maxLength: 6 });
    expect(tf.memory().numTensors).toBe(before);
    expect(beam1.map((h) => h[0]!.ids)).toEqual(greedy);
    beam4.forEach((hyps) => {
      expect(hyps).toHaveLength(2);
      expect(hyps[0]!.score).toBeGreaterThanOrEqual(hyps[1]!.score);
      hyps.forEach((h) => h.ids.forEach((id) => expect(id).toBeGreaterThanOrEqual(0)));
    });
    model.dispose();
  });
});

describe('runLength', () => {
  it('finds G where every row comes G times in a row, else 1', () => {
    expect(runLength([0, 0, 0, 1, 1, 1])).toBe(3);
    expect(runLength([2, 2, 0, 0])).toBe(2);
    expect(runLength([0, 1, 2])).toBe(1);
    expect(runLength([0, 0, 1])).toBe(1);
    expect(runLength([0, 0, 1, 1, 1, 1])).toBe(1);
    expect(runLength([0, 0, 0, 0])).toBe(4);
    expect(runLength([0, 0, 0, 0, 0, 0])).toBe(6);
    expect(runLength([])).toBe(1);
  });
});

describe('Seq2Seq dropout', () => {
  const config = small({
    encoderLayers: 2,
    decoderLayers: 2,
    bidirectional: true,
    attention: 'bahdanau',
    dropout: { inputKeep: 0.8, outputKeep: 0.7, stateKeep: 0.75 },
  });
  const loss = (model: Seq2Seq, context: Parameters<Seq2Seq['loss']>[1]) =>
    tf.tidy(() => model.loss(makeBatch(PAIRS), context).dataSync()[0]!);

  it('evaluation (training false) has no dropout; training needs an rng; the same rng state gives the same loss', () => {
    const model = new Seq2Seq(config, V, V);
    const plain = new Seq2Seq({ ...config, dropout: { inputKeep: 1, outputKeep: 1, stateKeep: 1 } }, V, V);
    const evalLoss = loss(model, { training: false, rng: new Rng(1) });
    expect(evalLoss).toBeCloseTo(loss(plain, { training: false }), 6);
    expect(loss(plain, { training: true, rng: new Rng(1) })).toBeCloseTo(evalLoss, 6);
    expect(() => model.loss(makeBatch(PAIRS), { training: true })).toThrow(Seq2SeqConfigError);
    const a = loss(model, { training: true, rng: new Rng(5) });
    expect(loss(model, { training: true, rng: new Rng(5) })).toBe(a);
    expect(loss(model, { training: true, rng: new Rng(6) })).not.toBe(a);
    expect(a).not.toBeCloseTo(evalLoss, 4);
    model.dispose();
    plain.dispose();
  });

  it('gradients through fixed masks match finite differences', () => {
    const model = new Seq2Seq(config, V, V);
    const state = new Rng(17).getState();
    checkVariableGradients(
      () => model.loss(makeBatch(PAIRS), { training: true, rng: new Rng(state) }),
      model.params.entries(),
      { samples: 3 },
    );
    model.dispose();
  });

  it('the live tensor count stays flat across training steps with dropout and evaluations', () => {
    const model = new Seq2Seq(config, V, V);
    const trainer = new Trainer(model.params);
    const rng = new Rng(2);
    const batch = makeBatch(PAIRS);
    const step = () => trainer.update(() => model.loss(batch, { training: true, rng }));
    step();
    greedyDecode(model, batch, { maxLength: 5 });
    const before = tf.memory().numTensors;
    const losses = Array.from({ length: 4 }, () => step().loss);
    greedyDecode(model, batch, { maxLength: 5 });
    model.attentionWeights(batch);
    expect(tf.memory().numTensors).toBe(before);
    losses.forEach((l) => expect(Number.isFinite(l)).toBe(true));
    trainer.dispose();
    model.dispose();
  });
});

describe('Seq2Seq attention weights', () => {
  it.each(['dot', 'general', 'bahdanau'] as const)(
    '%s: per sentence [target length][source length] in source order, rows sum to 1, independent of batch-mates',
    (attention) => {
      const model = new Seq2Seq(small({ attention, bidirectional: true }), V, V);
      const batch = makeBatch(PAIRS);
      const weights = model.attentionWeights(batch);
      weights.forEach((rows, b) => {
        expect(rows).toHaveLength(PAIRS[b]!.target.length + 1);
        rows.forEach((row) => {
          expect(row).toHaveLength(PAIRS[b]!.source.length);
          expect(row.reduce((a, w) => a + w, 0)).toBeCloseTo(1, 5);
        });
        const alone = model.attentionWeights(makeBatch([PAIRS[b]!]))[0]!;
        alone.forEach((row, t) => row.forEach((w, j) => expect(rows[t]![j]).toBeCloseTo(w, 5)));
      });
      // Undoing the reversal: the same source read unreversed by an otherwise equal model lists the same columns
      // in the same order only if the mapping is right; here we check it directly against the raw weights.
      const raw = tf.tidy(() =>
        model.decoder.features(model.encode(batch), batch.targetIn, batch.targetSteps).weights!.arraySync(),
      );
      // Sentence 0 has 4 tokens and no padding, read reversed: source token j sits at time step 3 − j.
      weights[0]!.forEach((row, t) => row.forEach((w, j) => expect(w).toBeCloseTo(raw[0]![t]![3 - j]!, 6)));
      // Sentence 2 has 3 tokens after one padding step: token j at step 3 − j.
      weights[2]!.forEach((row, t) => row.forEach((w, j) => expect(w).toBeCloseTo(raw[2]![t]![3 - j]!, 6)));
      model.dispose();
    },
  );

  it('throws for a model without attention', () => {
    const model = new Seq2Seq(small({ attention: 'none' }), V, V);
    expect(() => model.attentionWeights(makeBatch(PAIRS))).toThrow(/no attention/);
    model.dispose();
  });
});

describe('Seq2Seq config', () => {
  it('rejects impossible combinations with a clear error', () => {
    expect(() => new Seq2Seq(small({ encoderHiddenSize: 4 }), V, V)).toThrow(
      /'dot' attention.*'general' or 'bahdanau'/,
    );
    expect(() => new Seq2Seq(small({ bidirectional: true, hiddenSize: 7 }), V, V)).toThrow(/even size/);
    expect(() => new Seq2Seq(small({ shareEmbeddings: true }), V, V + 1)).toThrow(
      /equal source and target vocabulary sizes, got 12 and 13/,
    );
    expect(() => new Seq2Seq(small({ encoderLayers: 0 }), V, V)).toThrow(/encoderLayers/);
    // A stack past MAX_LAYERS is refused before a weight is made (10,000 layers allocated for seconds, then aborted).
    const before = tf.memory().numTensors;
    expect(() => new Seq2Seq(small({ decoderLayers: MAX_LAYERS + 1 }), V, V)).toThrow(
      `decoderLayers must be an integer from 1 to ${MAX_LAYERS}, got ${MAX_LAYERS + 1}`,
    );
    expect(tf.memory().numTensors).toBe(before);
    expect(() => new Seq2Seq(small({ dropout: { inputKeep: 1.2, outputKeep: 1, stateKeep: 1 } }), V, V)).toThrow(
      /inputKeep/,
    );
    expect(() => new Seq2Seq(small({ attention: 'luong' as never }), V, V)).toThrow(/attention must be one of/);
  });

  it('refuses seeds Rng would quietly change, cells out of range and empty vocabularies, before a weight is made', () => {
    const before = tf.memory().numTensors;
    for (const seed of [NaN, -1, 1.5, 2 ** 32])
      expect(() => new Seq2Seq(small({ seed }), V, V)).toThrow(
        `seed must be an integer from 0 to 4294967295, got ${seed}`,
      );
    expect(() => new Seq2Seq(small({ cell: { ...DEFAULT_CELL, forgetBias: NaN } }), V, V)).toThrow(
      'cell.forgetBias must be a finite number, got NaN',
    );
    expect(() => new Seq2Seq(small({ cell: { ...DEFAULT_CELL, kind: 'xyz' as never } }), V, V)).toThrow(
      Seq2SeqConfigError,
    );
    expect(() => new Seq2Seq(small({}), 0, V)).toThrow('sourceVocabSize must be an integer ≥ 1, got 0');
    expect(() => new Seq2Seq(small({}), V, NaN)).toThrow('targetVocabSize must be an integer ≥ 1, got NaN');
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fills missing fields (nested ones too) with defaults: a model.json from before they existed still loads', () => {
    const c = resolveSeq2SeqConfig({
      hiddenSize: 8,
      dropout: { inputKeep: 0.5 } as never,
      cell: { kind: 'lstm' } as never,
    });
    expect(c.dropout).toEqual({ inputKeep: 0.5, outputKeep: 1, stateKeep: 1 });
    expect(c.cell).toEqual({ ...DEFAULT_CELL, kind: 'lstm' });
    expect(c.encoderLayers).toBe(1);
    expect(c.attention).toBe('dot');
  });

  it('shares one embedding table between source and target, and freezes tables as asked', () => {
    const shared = new Seq2Seq(small({ shareEmbeddings: true }), V, V);
    expect(shared.embedding('source')).toBe(shared.embedding('target'));
    expect(shared.params.entries().filter(([n]) => n.endsWith('embedding'))).toHaveLength(1);
    shared.dispose();
    const frozen = new Seq2Seq(small({ freezeSourceEmbeddings: true }), V, V);
    expect(frozen.embedding('source').trainable).toBe(false);
    expect(frozen.embedding('target').trainable).toBe(true);
    const before = frozen.embedding('source').dataSync().slice();
    const trainer = new Trainer(frozen.params);
    trainer.update(() => frozen.loss(makeBatch(PAIRS)));
    expect(frozen.embedding('source').dataSync()).toEqual(before);
    trainer.dispose();
    frozen.dispose();
    const sharedFrozen = new Seq2Seq(small({ shareEmbeddings: true, freezeTargetEmbeddings: true }), V, V);
    expect(sharedFrozen.embedding('source').trainable).toBe(false);
    sharedFrozen.dispose();
  });

  it('a non-default model saves and loads through Translator with identical outputs; a config without the new fields loads as the default model', async () => {
    const v = numberWordsVocabularies();
    const chars = new CharTokenizer();
    const config = small({
      hiddenSize: 8,
      encoderLayers: 2,
      decoderLayers: 2,
      bidirectional: true,
      residual: true,
      cell: lstm,
      attention: 'bahdanau',
      attentionSize: 5,
      bridge: 'dense',
      dropout: { inputKeep: 0.9, outputKeep: 0.9, stateKeep: 0.9 },
    });
    const t = new Translator(new Seq2Seq(config, v.source.size, v.target.size), v.source, v.target, chars, chars);
    const dir = mkdtempSync(join(tmpdir(), 'seq2seq-zoo-'));
    await t.save(dir);
    const loaded = await Translator.load(dir);
    expect(loaded.model.config).toEqual(t.model.config);
    const lines = ['one two three', 'nine', 'four four zero seven'];
    for (const beamSize of [1, 3])
      expect(loaded.translate(lines, { beamSize }).map((x) => x.nBest)).toEqual(
        t.translate(lines, { beamSize }).map((x) => x.nBest),
      );
    loaded.dispose();
    t.dispose();

    // An old model.json: only the fields of the walking skeleton.
    const old = new Translator(new Seq2Seq(small({}), v.source.size, v.target.size), v.source, v.target, chars, chars);
    const oldDir = mkdtempSync(join(tmpdir(), 'seq2seq-old-'));
    await old.save(oldDir);
    const json = JSON.parse(readFileSync(join(oldDir, 'model.json'), 'utf8'));
    const { embeddingSize, hiddenSize, cell, attention, reverseSource, seed } = json.config;
    json.config = { embeddingSize, hiddenSize, cell, attention, reverseSource, seed };
    delete json.checksum; // model.json had no checksum then
    writeFileSync(join(oldDir, 'model.json'), JSON.stringify(json));
    const reloaded = await Translator.load(oldDir);
    expect(reloaded.model.config.dropout).toEqual({ inputKeep: 1, outputKeep: 1, stateKeep: 1 });
    expect(reloaded.translate(lines).map((x) => x.text)).toEqual(old.translate(lines).map((x) => x.text));
    reloaded.dispose();
    old.dispose();
  });

  it("the default config still builds exactly the walking skeleton's weights", () => {
    const model = new Seq2Seq(DEFAULT_SEQ2SEQ_CONFIG, V, V);
    expect(model.params.entries().map(([n, w]) => `${n}:${w.shape}`)).toEqual([
      'encoder/embedding:12,64',
      'encoder/W:64,384',
      'encoder/b:384',
      'encoder/U:128,384',
      'encoder/c:384',
      'decoder/embedding:12,64',
      'decoder/W:64,384',
      'decoder/b:384',
      'decoder/U:128,384',
      'decoder/c:384',
      'decoder/attention/Wc:256,128',
      'decoder/output/W:128,12',
      'decoder/output/b:12',
    ]);
    model.dispose();
  });
});

describe('Seq2Seq.loss averaged per sentence', () => {
  it('is the mean of each sentence’s own mean loss (the model tells the loss its batch-major layout)', () => {
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 12, embeddingSize: 6, seed: 4 }, 15, 15);
    const pairs = [
      { source: [4, 5, 6], target: [7, 8, 9, 10, 11] },
      { source: [12], target: [13] },
    ];
    const value = (batch: Batch, average: 'token' | 'sequence') =>
      tf.tidy(() => model.loss(batch, { training: false, loss: { average } }).dataSync()[0]!);
    const alone = pairs.map((p) => value(makeBatch([p]), 'token'));
    const both = makeBatch(pairs);
    expect(value(both, 'sequence')).toBeCloseTo((alone[0]! + alone[1]!) / 2, 5);
    // Token averaging weighs the 6-token sentence 6:2 against the 2-token one.
    expect(value(both, 'token')).toBeCloseTo((6 * alone[0]! + 2 * alone[1]!) / 8, 5);
    model.dispose();
  });
});
