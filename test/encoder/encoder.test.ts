// The stacked, bidirectional, residual encoder against the cell equations in float64 run on each sequence alone
// (which also pins padding invariance), and its gradients against finite differences, with and without dropout.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { gruStepRef, lstmStepRef, type Mat } from '../helpers/reference.js';
import { Encoder, type EncoderOptions } from '../../src/encoder/encoder.js';
import { Params } from '../../src/model/params.js';
import { DEFAULT_CELL, type CellOptions } from '../../src/recurrent/cell.js';
import { makeSourceBatch, type SourceBatch } from '../../src/data/text/batch.js';
import { Rng } from '../../src/random.js';
import { checkVariableGradients } from '../helpers/gradientCheck.js';

beforeAll(useTestBackend);

const V = 9,
  E = 3,
  H = 4;
const SOURCES = [[4, 5, 6, 7, 8], [5], [8, 4, 6]];

function matOf(params: Params, name: string): Mat {
  return params.get(name).arraySync() as Mat;
}
function vecOf(params: Params, name: string): number[] {
  return params.get(name).arraySync() as number[];
}

/** One direction of one layer in float64 over xs; returns the state ([h | c] for an LSTM) after every step. */
function runDirection(params: Params, name: string, cell: CellOptions, xs: number[][]): number[][] {
  const W = matOf(params, `${name}/W`),
    U = matOf(params, `${name}/U`),
    b = vecOf(params, `${name}/b`),
    c = vecOf(params, `${name}/c`);
  let h = new Array<number>(H).fill(0);
  let cs = new Array<number>(H).fill(0);
  return xs.map((x) => {
    if (cell.kind === 'lstm') {
      const r = lstmStepRef(x, h, cs, W, U, b, c, cell.forgetBias, null);
      h = r.h;
      cs = r.c;
      return [...h, ...cs];
    }
    h = gruStepRef(x, h, W, U, b, c);
    return h;
  });
}

/** The encoder in float64 on one sequence as the encoder reads it (ids in reading order): outputs per step and per-layer finals. */
function reference(params: Params, o: EncoderOptions, ids: number[]): { outputs: number[][]; finals: number[][] } {
  const cell = o.cell ?? DEFAULT_CELL;
  const table = matOf(params, 'encoder/embedding');
  let xs = ids.map((id) => table[id]!);
  const finals: number[][] = [];
  for (let l = 0; l < (o.layers ?? 1); l++) {
    const name = l === 0 ? 'encoder' : `encoder/layer${l}`;
    const fwd = runDirection(params, name, cell, xs);
    let outs = fwd.map((s) => s.slice(0, H));
    let final = fwd.at(-1)!;
    if (o.bidirectional) {
      const bwd = runDirection(params, `${name}/backward`, cell, [...xs].reverse()).reverse();
      outs = outs.map((h, t) => [...h, ...bwd[t]!.slice(0, H)]);
      // The backward direction's final state is its state after reading the first token.
      final =
        cell.kind === 'lstm'
          ? [...final.slice(0, H), ...bwd[0]!.slice(0, H), ...final.slice(H), ...bwd[0]!.slice(H)]
          : [...final, ...bwd[0]!];
    }
    if (o.residual && l > 0) outs = outs.map((h, t) => h.map((v, k) => v + xs[t]![k]!));
    finals.push(final);
    xs = outs;
  }
  return { outputs: xs, finals };
}

function build(o: Partial<EncoderOptions>, seed = 1): { encoder: Encoder; params: Params; options: EncoderOptions } {
  const params = new Params(new Rng(seed));
  const options: EncoderOptions = { vocabSize: V, embeddingSize: E, hiddenSize: H, ...o };
  return { encoder: new Encoder(options, params), params, options };
}

function encodeArrays(encoder: Encoder, batch: SourceBatch, rng: Rng | null = null) {
  return tf.tidy(() => {
    const r = encoder.encode(batch, rng);
    return {
      outputs: r.outputs.arraySync(),
      finals: r.finals.map((f) => f.arraySync()),
      maskBias: r.maskBias.arraySync(),
    };
  });
}

const variants: [string, Partial<EncoderOptions>][] = [
  ['2-layer GRU', { layers: 2 }],
  ['bidirectional GRU', { bidirectional: true }],
  ['2-layer bidirectional residual GRU', { layers: 2, bidirectional: true, residual: true }],
  ['2-layer bidirectional LSTM', { layers: 2, bidirectional: true, cell: { ...DEFAULT_CELL, kind: 'lstm' } }],
];

describe.each(variants)('Encoder, %s', (_, variant) => {
  it('front-padded reversed batch: real outputs and final states equal the equations run on each sequence alone; padding is zero', () => {
    const { encoder, params, options } = build(variant);
    for (const reverseSource of [true, false]) {
      const batch = makeSourceBatch(SOURCES, { reverseSource });
      const got = encodeArrays(encoder, batch);
      const T = batch.sourceSteps,
        B = batch.size;
      SOURCES.forEach((src, b) => {
        const reading = reverseSource ? [...src].reverse() : src;
        const ref = reference(params, options, reading);
        const positions = Array.from({ length: T }, (_, t) => t).filter((t) => batch.sourceMask[t * B + b]! > 0);
        positions.forEach((t, i) =>
          ref.outputs[i]!.forEach((v, k) => expect(got.outputs[b]![t]![k]).toBeCloseTo(v, 5)),
        );
        for (let t = 0; t < T; t++)
          if (!positions.includes(t)) got.outputs[b]![t]!.forEach((v) => expect(Math.abs(v)).toBe(0));
        ref.finals.forEach((f, l) => f.forEach((v, k) => expect(got.finals[l]![b]![k]).toBeCloseTo(v, 5)));
      });
    }
    params.dispose();
  });

  it('gradients of every encoder weight match finite differences', () => {
    const { encoder, params } = build(variant, 2);
    const batch = makeSourceBatch(SOURCES, { reverseSource: true });
    const R = new Rng(4);
    const widths = encodeArrays(encoder, batch);
    const proj = tf.tensor(
      widths.outputs.flat(2).map(() => R.uniform(-1, 1)),
      [3, batch.sourceSteps, widths.outputs[0]![0]!.length],
    );
    const finalProj = widths.finals.map((f) =>
      tf.tensor2d(
        f.flat().map(() => R.uniform(-1, 1)),
        [3, f[0]!.length],
      ),
    );
    const loss = () => {
      const r = encoder.encode(batch);
      return tf.addN([
        tf.sum(tf.mul(r.outputs, proj)),
        ...r.finals.map((f, l) => tf.sum(tf.mul(f, finalProj[l]!))),
      ]) as tf.Scalar;
    };
    checkVariableGradients(loss, params.entries(), { samples: 4 });
    tf.dispose([proj, ...finalProj]);
    params.dispose();
  });
});

describe('Encoder dropout', () => {
  const opts: Partial<EncoderOptions> = {
    layers: 2,
    bidirectional: true,
    dropout: { inputKeep: 0.7, outputKeep: 0.8, stateKeep: 0.6 },
  };

  it('without an rng there is no dropout: outputs equal the equations', () => {
    const { encoder, params, options } = build(opts);
    const batch = makeSourceBatch(SOURCES);
    const got = encodeArrays(encoder, batch);
    const ref = reference(params, options, [...SOURCES[0]!].reverse());
    ref.outputs.forEach((o, i) => o.forEach((v, k) => expect(got.outputs[0]![i]![k]).toBeCloseTo(v, 5)));
    params.dispose();
  });

  it('with an rng: the same rng state gives the same outputs, another state different ones', () => {
    const { encoder, params } = build(opts);
    const batch = makeSourceBatch(SOURCES);
    const a = encodeArrays(encoder, batch, new Rng(7));
    const b = encodeArrays(encoder, batch, new Rng(7));
    const c = encodeArrays(encoder, batch, new Rng(8));
    const plain = encodeArrays(encoder, batch);
    expect(b).toEqual(a);
    expect(c.outputs).not.toEqual(a.outputs);
    expect(a.outputs).not.toEqual(plain.outputs);
    // Padding stays exactly zero under dropout.
    a.outputs[1]!.slice(0, 4).forEach((row) => row.forEach((v) => expect(Math.abs(v)).toBe(0)));
    params.dispose();
  });

  it('gradients through fixed masks (input, output and state dropout) match finite differences', () => {
    const { encoder, params } = build(opts, 3);
    const batch = makeSourceBatch(SOURCES);
    const state = new Rng(21).getState();
    const R = new Rng(5);
    const proj = tf.tensor3d(
      Array.from({ length: 3 * 5 * 2 * H }, () => R.uniform(-1, 1)),
      [3, 5, 2 * H],
    );
    const loss = () => {
      const r = encoder.encode(batch, new Rng(state)); // the same masks at every evaluation
      return tf.add<tf.Scalar>(tf.sum(tf.mul(r.outputs, proj)), tf.sum(r.finals[1]!));
    };
    checkVariableGradients(loss, params.entries(), { samples: 4 });
    proj.dispose();
    params.dispose();
  });
});
