import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Bridge, BridgeError, type BridgeOptions } from '../../src/encoder/bridge.js';
import { Params } from '../../src/model/params.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from '../../src/translation/seq2seq.js';
import { DEFAULT_CELL } from '../../src/recurrent/cell.js';
import { makeSourceBatch } from '../../src/data/text/batch.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const finals = (layers: number, B: number, width: number) =>
  Array.from({ length: layers }, (_, l) => tf.fill<tf.Rank.R2>([B, width], l + 1));

function make(o: Partial<BridgeOptions>): { bridge: Bridge; params: Params } {
  const params = new Params(new Rng(1));
  const bridge = new Bridge(
    { kind: 'auto', encoderLayers: 1, encoderWidth: 4, decoderLayers: 1, decoderUnits: 4, blocks: 1, ...o },
    params,
  );
  return { bridge, params };
}

describe('Bridge', () => {
  it("'auto' copies when layer counts and widths match, and creates no weights", () => {
    const { bridge, params } = make({ encoderLayers: 2, decoderLayers: 2 });
    expect(bridge.kind).toBe('copy');
    expect(params.count()).toBe(0);
    const out = tf.tidy(() => bridge.apply(finals(2, 3, 4)).arraySync());
    expect(out).toEqual(Array.from({ length: 3 }, () => [1, 1, 1, 1, 2, 2, 2, 2]));
  });

  it("'copy' passes the top encoder layers up: 3 encoder layers → 2 decoder layers take layers 2 and 3", () => {
    const { bridge } = make({ kind: 'copy', encoderLayers: 3, decoderLayers: 2 });
    expect(tf.tidy(() => bridge.apply(finals(3, 1, 4)).arraySync())).toEqual([[2, 2, 2, 2, 3, 3, 3, 3]]);
  });

  it("'copy' refuses mismatched widths or too few encoder layers, naming the alternatives", () => {
    expect(() => make({ kind: 'copy', encoderWidth: 6 })).toThrow(BridgeError);
    expect(() => make({ kind: 'copy', encoderLayers: 1, decoderLayers: 2 })).toThrow(/'dense' or 'zero'/);
  });

  it("'auto' falls back on 'dense' for different counts or sizes: tanh(W·[finals] + b) of the decoder's shape", () => {
    const { bridge, params } = make({
      encoderLayers: 2,
      encoderWidth: 6,
      decoderLayers: 1,
      decoderUnits: 4,
      blocks: 2,
    });
    expect(bridge.kind).toBe('dense');
    expect(params.get('bridge/W').shape).toEqual([2 * 2 * 6, 4 * 2]);
    const input = finals(2, 3, 12);
    const [out, ref] = tf.tidy(() => {
      const joined = tf.concat(input, 1);
      return [
        bridge.apply(input).arraySync(),
        tf.tanh(tf.add(tf.matMul(joined, params.get('bridge/W')), params.get('bridge/b'))).arraySync() as number[][],
      ];
    });
    expect(out).toHaveLength(3);
    out.forEach((row, b) => row.forEach((v, k) => expect(v).toBeCloseTo(ref[b]![k]!, 5)));
    tf.dispose(input);
  });

  it("'zero' starts the decoder from zeros", () => {
    const { bridge } = make({ kind: 'zero', decoderLayers: 2, blocks: 2 });
    expect(tf.tidy(() => bridge.apply(finals(1, 2, 8)).arraySync())).toEqual([
      new Array(16).fill(0),
      new Array(16).fill(0),
    ]);
  });
});

describe('Bridge inside Seq2Seq: initial decoder state shapes', () => {
  const cases: [string, Partial<Seq2SeqConfig>, string, number][] = [
    ['default: 1-layer GRU → 1-layer GRU', {}, 'copy', 8],
    ['2-layer bidirectional GRU → 1-layer GRU', { encoderLayers: 2, bidirectional: true }, 'dense', 8],
    [
      '2-layer bidirectional LSTM → 2-layer LSTM (halved directions: copy)',
      { encoderLayers: 2, decoderLayers: 2, bidirectional: true, cell: { ...DEFAULT_CELL, kind: 'lstm' } },
      'copy',
      2 * 2 * 8,
    ],
    [
      '1-layer encoder of 6 units → 2-layer decoder of 8, general attention',
      { encoderHiddenSize: 6, decoderLayers: 2, attention: 'general' },
      'dense',
      2 * 8,
    ],
    [
      'bidirectional LSTM of 5 units per direction → 1-layer LSTM of 8, bahdanau',
      { bidirectional: true, encoderHiddenSize: 5, attention: 'bahdanau', cell: { ...DEFAULT_CELL, kind: 'lstm' } },
      'dense',
      2 * 8,
    ],
  ];
  it.each(cases)('%s', (_, config, kind, width) => {
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 8, embeddingSize: 4, ...config }, 10, 10);
    expect(model.bridge.kind).toBe(kind);
    const memory = model.encode(makeSourceBatch([[4, 5, 6], [7]]));
    expect(memory.initial.shape).toEqual([2, width]);
    model.disposeMemory(memory);
    model.dispose();
  });
});
