// RecurrentStack against a hand-written loop over its layers (the same numbers, dropout masks drawn in the documented
// order), padded against unpadded batches, finite-difference gradients, the search step against the sequence run,
// the bottom-runner hook, weight names, and the live tensor count.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { checkVariableGradients } from '../helpers/gradientCheck.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import { DEFAULT_CELL, type CellOptions } from '../../src/recurrent/cell.js';
import { RecurrentStack, DEFAULT_STACK, type StackOptions, type StackInput } from '../../src/recurrent/stack.js';
import { maskOutputs, finalState, hiddenPart } from '../../src/recurrent/rnn.js';
import { reversalIndex, permuteRows, permuteIds, joinFinals } from '../../src/recurrent/bidirectional.js';
import type { RecurrentLayer } from '../../src/recurrent/recurrentLayer.js';
import { dropout, stateMask } from '../../src/layers/dropout.js';
import { embed } from '../../src/layers/embedding.js';

beforeAll(useTestBackend);

const V = 10,
  E = 3,
  H = 4;
const LSTM: CellOptions = { ...DEFAULT_CELL, kind: 'lstm' };
const DROP = { inputKeep: 0.7, outputKeep: 0.8, stateKeep: 0.6 };
// Time-major ids and mask of three sequences of lengths 4, 2 and 3, padded at the back.
const SEQS = [
  [1, 2, 3, 4],
  [5, 6],
  [7, 8, 9],
];

function batchOf(seqs: number[][]): { ids: Int32Array; mask: Float32Array; T: number; B: number } {
  const B = seqs.length;
  const T = Math.max(...seqs.map((s) => s.length));
  const ids = new Int32Array(T * B);
  const mask = new Float32Array(T * B);
  seqs.forEach((s, b) =>
    s.forEach((id, t) => {
      ids[t * B + b] = id;
      mask[t * B + b] = 1;
    }),
  );
  return { ids, mask, T, B };
}

function build(options: Partial<StackOptions>, cell: CellOptions = DEFAULT_CELL, seed = 1) {
  const params = new Params(new Rng(seed));
  params.create('s/embedding', [V, E], { kind: 'normal', std: 1 });
  const stack = new RecurrentStack(params, 's', E, H, cell, options);
  return { params, stack, table: params.get('s/embedding') as unknown as tf.Tensor2D };
}

/** The stack's loop written out by hand from the layers' own pieces, drawing the dropout masks in the same order. */
function handLoop(
  stack: RecurrentStack,
  table: tf.Tensor2D,
  ids: Int32Array,
  mask: Float32Array,
  T: number,
  B: number,
  rng: Rng | null,
) {
  const shape = { steps: T, batch: B };
  const d = stack.options.dropout;
  const W = stack.outputSize;
  const m = tf.tensor1d(mask);
  const reversal = reversalIndex(mask, T, B);
  // Without input dropout the bottom layer gathers rows of the projected table (RecurrentLayer.projectTokens).
  const tokens = rng === null || d.inputKeep >= 1;
  let x = tokens ? null : dropout(embed(table, ids), d.inputKeep, rng);
  const project = (rnn: RecurrentLayer, reversed: Int32Array | null) => {
    if (x === null) return rnn.projectTokens(table, reversed === null ? ids : permuteIds(ids, reversed));
    return rnn.project(reversed === null ? x : permuteRows(x, reversed));
  };
  let below: tf.Tensor3D | null = null;
  const finals: tf.Tensor2D[] = [];
  for (const { forward, backward } of stack.layers) {
    if (below !== null) x = dropout(tf.reshape<tf.Rank.R2>(below, [T * B, W]), d.inputKeep, rng);
    const xf = project(forward, null);
    const fwd = forward.sequence(xf, tf.zeros([B, forward.stateSize]), m, shape, stateMask(rng, B, H, d.stateKeep));
    let out = forward.hidden(fwd);
    let final = finalState(fwd);
    if (backward !== null) {
      const xp = project(backward, reversal);
      const bwd = backward.sequence(xp, tf.zeros([B, backward.stateSize]), m, shape, stateMask(rng, B, H, d.stateKeep));
      const back = permuteRows(tf.reshape<tf.Rank.R2>(backward.hidden(bwd), [T * B, H]), reversal);
      out = tf.concat<tf.Tensor3D>([out, tf.reshape(back, [T, B, H])], 2);
      final = joinFinals(final, finalState(bwd), H);
    }
    out = maskOutputs(out, m);
    out = tf.reshape(dropout(tf.reshape<tf.Rank.R2>(out, [T * B, W]), d.outputKeep, rng), [T, B, W]);
    if (stack.options.residual && below !== null) out = tf.add(out, below);
    finals.push(final);
    below = out;
  }
  return { outputs: below!, finals };
}

const arrays = (r: { outputs: tf.Tensor3D; finals: tf.Tensor2D[] }) => ({
  outputs: r.outputs.arraySync(),
  finals: r.finals.map((f) => f.arraySync()),
});

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) expect(got[i]).toBeCloseTo(want[i]!, 5);
}

const variants: [string, Partial<StackOptions>, CellOptions][] = [
  ['1-layer GRU', {}, DEFAULT_CELL],
  ['3-layer residual GRU with dropout', { layers: 3, residual: true, dropout: DROP }, DEFAULT_CELL],
  [
    '2-layer bidirectional residual LSTM with dropout',
    { layers: 2, bidirectional: true, residual: true, dropout: DROP },
    LSTM,
  ],
  ['2-layer bidirectional basic RNN', { layers: 2, bidirectional: true }, { ...DEFAULT_CELL, kind: 'rnn' }],
];

describe.each(variants)('RecurrentStack, %s', (_, options, cell) => {
  it('equals a hand-written loop over its layers, with and without dropout (the same numbers)', () => {
    const { params, stack, table } = build(options, cell);
    const { ids, mask, T, B } = batchOf(SEQS);
    for (const seed of [null, 7]) {
      const rng = seed === null ? null : new Rng(seed);
      const got = tf.tidy(() => arrays(stack.run({ ids, table }, { steps: T, batch: B, mask, rng })));
      const want = tf.tidy(() => arrays(handLoop(stack, table, ids, mask, T, B, seed === null ? null : new Rng(seed))));
      expect(got).toEqual(want);
    }
    params.dispose();
  });

  it('a padded batch gives each sequence its own outputs (zero past its length) and final states', () => {
    const { params, stack, table } = build(options, cell);
    const all = batchOf(SEQS);
    const run = { steps: all.T, batch: all.B, mask: all.mask };
    const together = tf.tidy(() => arrays(stack.run({ ids: all.ids, table }, run)));
    SEQS.forEach((s, b) => {
      const one = batchOf([s]);
      const alone = tf.tidy(() => arrays(stack.run({ ids: one.ids, table }, { steps: one.T, batch: 1, mask: null })));
      for (let t = 0; t < all.T; t++) {
        const zero = new Array<number>(stack.outputSize).fill(0);
        expectClose(together.outputs[t]![b]!, t < s.length ? alone.outputs[t]![0]! : zero);
      }
      together.finals.forEach((f, l) => expectClose(f[b]!, alone.finals[l]![0]!));
    });
    params.dispose();
  });

  it('gradients of every weight match finite differences (dropout masks fixed)', () => {
    const { params, stack, table } = build(options, cell, 2);
    const { ids, mask, T, B } = batchOf(SEQS);
    const R = new Rng(4);
    const W = stack.outputSize;
    const proj = tf.tensor3d(
      Array.from({ length: T * B * W }, () => R.uniform(-1, 1)),
      [T, B, W],
    );
    const state = new Rng(21).getState();
    const loss = () => {
      const r = stack.run({ ids, table }, { steps: T, batch: B, mask, rng: new Rng(state) });
      return tf.addN([tf.sum(tf.mul(r.outputs, proj)), ...r.finals.map((f) => tf.sum(f))]) as tf.Scalar;
    };
    checkVariableGradients(loss, params.entries(), { samples: 3 });
    proj.dispose();
    params.dispose();
  });

  it('leaves the live tensor count flat: a run and its gradient inside tidy', () => {
    const { params, stack, table } = build(options, cell);
    const { ids, mask, T, B } = batchOf(SEQS);
    const run = () => stack.run({ ids, table }, { steps: T, batch: B, mask, rng: new Rng(3) });
    const vars = params.entries().map(([, v]) => v);
    const both = () => {
      tf.tidy(() => arrays(run()));
      const { value, grads } = tf.variableGrads(() => tf.sum(run().outputs), vars);
      tf.dispose([value, ...Object.values(grads)]);
    };
    both(); // warm-up: anything kept with the weights (the projected table) is made here
    const before = tf.memory().numTensors;
    both();
    both();
    expect(tf.memory().numTensors).toBe(before);
    params.dispose();
  });
});

describe('RecurrentStack options and weights', () => {
  it('defaults to one forward layer without dropout; rejects a layer count below 1', () => {
    const none = { inputKeep: 1, outputKeep: 1, stateKeep: 1 };
    expect(DEFAULT_STACK).toEqual({ layers: 1, bidirectional: false, residual: false, dropout: none });
    const { stack, params } = build({});
    expect(stack.layers.length).toBe(1);
    expect(stack.layers[0]!.backward).toBeNull();
    expect(stack.outputSize).toBe(H);
    expect(stack.stateSize).toBe(H);
    expect(() => new RecurrentStack(params, 'z', E, H, DEFAULT_CELL, { layers: 0 })).toThrow(RangeError);
    params.dispose();
  });

  it('creates the weights in order, with the names saved models use (layer 0 is the prefix itself)', () => {
    const params = new Params(new Rng(1));
    const cell = { ...LSTM, peepholes: true };
    const stack = new RecurrentStack(params, 'enc', E, H, cell, { layers: 2, bidirectional: true });
    const names = params.entries().map(([n]) => n);
    const layer = (p: string) => [`${p}/W`, `${p}/b`, `${p}/U`, `${p}/c`, `${p}/peepholes`];
    expect(names).toEqual(['enc', 'enc/backward', 'enc/layer1', 'enc/layer1/backward'].flatMap(layer));
    expect(params.get('enc/layer1/W').shape).toEqual([2 * H, 4 * H]); // reads [fwd | bwd]
    expect(stack.outputSize).toBe(2 * H);
    expect(stack.stateSize).toBe(2 * 2 * H);
    params.dispose();
  });

  it('seeds the forward directions with the given initial states', () => {
    const { params, stack, table } = build({ layers: 2 });
    const { ids, T, B } = batchOf([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    tf.tidy(() => {
      const zeros = stack.run({ ids, table }, { steps: T, batch: B, mask: null });
      const init = [tf.ones<tf.Rank.R2>([B, H]), tf.fill<tf.Rank.R2>([B, H], -0.5)];
      const seeded = stack.run({ ids, table }, { steps: T, batch: B, mask: null, initial: init });
      const initial = [tf.zeros<tf.Rank.R2>([B, H]), undefined];
      const explicitZeros = stack.run({ ids, table }, { steps: T, batch: B, mask: null, initial });
      expect(seeded.outputs.arraySync()).not.toEqual(zeros.outputs.arraySync());
      expect(explicitZeros.outputs.arraySync()).toEqual(zeros.outputs.arraySync());
      // Layer 1 alone seeded: its first output is its step from the given state on layer 0's first output.
      const onlyTop = stack.run({ ids, table }, { steps: T, batch: B, mask: null, initial: [undefined, init[1]] });
      const top = stack.layers[1]!.forward;
      const bottom = stack.bottom.step(stack.bottom.projectTokens(table, ids.slice(0, B)), tf.zeros([B, H]));
      const first = top.step(top.project(bottom), init[1]!);
      const got = tf.slice(onlyTop.outputs, [0, 0, 0], [1, B, H]).reshape([B, H]).arraySync() as number[][];
      expectClose(got.flat(), first.arraySync().flat());
    });
    params.dispose();
  });

  it('feature inputs (x) run as token inputs whose vectors are the embeddings', () => {
    const { params, stack, table } = build({ layers: 2, bidirectional: true });
    const { ids, mask, T, B } = batchOf(SEQS);
    tf.tidy(() => {
      const byIds = stack.run({ ids, table }, { steps: T, batch: B, mask });
      const input: StackInput = { x: embed(table, ids) };
      const byX = stack.run(input, { steps: T, batch: B, mask });
      expectClose(byX.outputs.dataSync(), byIds.outputs.dataSync());
    });
    params.dispose();
  });
});

describe('RecurrentStack.step and the bottom runner', () => {
  for (const cell of [DEFAULT_CELL, LSTM]) {
    it(`${cell.kind}: stepping every layer token by token gives the sequence run's outputs (3 residual layers)`, () => {
      const { params, stack, table } = build({ layers: 3, residual: true }, cell);
      const { ids, T, B } = batchOf([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      tf.tidy(() => {
        const run = stack.run({ ids, table }, { steps: T, batch: B, mask: null });
        let states = stack.layers.map(({ forward }) => tf.zeros<tf.Rank.R2>([B, forward.stateSize]));
        for (let t = 0; t < T; t++) {
          const r = stack.step(stack.bottom.projectTokens(table, ids.slice(t * B, (t + 1) * B)), states);
          states = r.states;
          const want = tf.slice(run.outputs, [t, 0, 0], [1, B, H]).dataSync();
          expectClose(r.top.dataSync(), want);
        }
        states.forEach((s, l) => expectClose(s.dataSync(), run.finals[l]!.dataSync()));
      });
      params.dispose();
    });
  }

  it("a bottom runner replaces the bottom layer's sequence run: given xp, initial state and state mask", () => {
    const { params, stack, table } = build({ layers: 2, dropout: DROP }, LSTM);
    const { ids, T, B } = batchOf([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    tf.tidy(() => {
      const seen: { masked?: boolean } = {};
      const bottom = (xp: tf.Tensor2D, state0: tf.Tensor2D, mask: tf.Tensor2D | null) => {
        seen.masked = mask !== null;
        const inputs = tf.split<tf.Tensor2D>(xp, T, 0);
        const outputs: tf.Tensor2D[] = [];
        let state = state0;
        for (let t = 0; t < T; t++) {
          state = stack.bottom.trainStep(inputs[t]!, state, mask);
          outputs.push(hiddenPart(state, H));
        }
        return { outputs: tf.concat<tf.Tensor2D>(outputs, 0), final: state };
      };
      const plain = stack.run({ ids, table }, { steps: T, batch: B, mask: null, rng: new Rng(5) });
      const stepped = stack.run({ ids, table }, { steps: T, batch: B, mask: null, rng: new Rng(5), bottom });
      expect(seen.masked).toBe(true);
      expectClose(stepped.outputs.dataSync(), plain.outputs.dataSync());
      plain.finals.forEach((f, l) => expectClose(stepped.finals[l]!.dataSync(), f.dataSync()));
      const noFinals = stack.run({ ids, table }, { steps: T, batch: B, mask: null, finals: false });
      expect(noFinals.finals).toEqual([]);
    });
    const bi = build({ bidirectional: true });
    expect(() => bi.stack.step(tf.zeros([1, 3 * H]), [tf.zeros([1, H])])).toThrow(/one-directional/);
    const bottom = () => ({ outputs: tf.zeros<tf.Rank.R2>([1, H]), final: tf.zeros<tf.Rank.R2>([1, H]) });
    const run = { steps: 1, batch: 1, mask: null, bottom };
    expect(() => bi.stack.run({ ids: Int32Array.from([1]), table: bi.table }, run)).toThrow(/one-directional/);
    bi.params.dispose();
    params.dispose();
  });
});
