// cell.ts holds the cell options and the shapes that follow from them: each kind, built through RecurrentLayer (the
// one place that turns CellOptions into weights and steps), has the documented gate and state widths.
import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Params } from '../../src/model/params.js';
import { Rng } from '../../src/random.js';
import {
  CELL_KINDS,
  DEFAULT_CELL,
  cellGates,
  cellProblem,
  stateBlocks,
  type CellKind,
} from '../../src/recurrent/cell.js';
import { RecurrentLayer } from '../../src/recurrent/recurrentLayer.js';

beforeAll(useTestBackend);

// The documented widths: the GRU's r, z, n; the LSTM's i, f, g, o and its [h | c] state; the basic RNN's one block.
const GATES: Record<CellKind, number> = { gru: 3, lstm: 4, rnn: 1 };
const BLOCKS: Record<CellKind, number> = { gru: 1, lstm: 2, rnn: 1 };

describe('cell options', () => {
  it("lists the three kinds; the default is a GRU with TF's forget bias, no peepholes and tanh", () => {
    expect([...CELL_KINDS]).toEqual(['gru', 'lstm', 'rnn']);
    expect(DEFAULT_CELL).toEqual({ kind: 'gru', forgetBias: 1, peepholes: false, activation: 'tanh' });
  });

  it('cellProblem names the first field out of range (an unknown kind used to fail as a shape error in a product)', () => {
    for (const kind of CELL_KINDS)
      expect(cellProblem({ ...DEFAULT_CELL, kind, activation: 'relu', peepholes: true })).toBeNull();
    const bad = (o: object) => cellProblem({ ...DEFAULT_CELL, ...o });
    expect(bad({ kind: 'xyz' })).toBe('cell.kind must be one of gru, lstm, rnn, got "xyz"');
    expect(bad({ forgetBias: NaN })).toBe('cell.forgetBias must be a finite number, got NaN');
    expect(bad({ peepholes: 'yes' })).toBe('cell.peepholes must be one of true, false, got "yes"');
    expect(bad({ activation: 'sigmoid' })).toBe('cell.activation must be one of tanh, relu, got "sigmoid"');
    expect(cellProblem({ ...DEFAULT_CELL, kind: 'x' as CellKind }, 'model.cell')).toMatch(/^model\.cell\.kind/);
  });

  it('cellGates and stateBlocks give the documented widths', () => {
    for (const kind of CELL_KINDS) {
      expect(cellGates(kind)).toBe(GATES[kind]);
      expect(stateBlocks(kind)).toBe(BLOCKS[kind]);
    }
  });
});

describe.each(CELL_KINDS.map((k) => [k]))('a %s layer built from its CellOptions', (kind) => {
  const [I, H, T, B] = [3, 5, 4, 2];
  const cell = { ...DEFAULT_CELL, kind, peepholes: kind === 'lstm' };

  it("creates weights of gates·H columns (and the LSTM's peepholes) and carries a blocks·H state", () => {
    const params = new Params(new Rng(1));
    const layer = new RecurrentLayer(params, 'x', I, H, cell);
    const shapes = Object.fromEntries(params.entries().map(([n, v]) => [n, v.shape]));
    const G = GATES[kind] * H;
    expect(shapes).toEqual({
      'x/W': [I, G],
      'x/b': [G],
      'x/U': [H, G],
      'x/c': [G],
      ...(kind === 'lstm' ? { 'x/peepholes': [3 * H] } : {}),
    });
    expect(layer.stateSize).toBe(BLOCKS[kind] * H);
    params.dispose();
  });

  it("steps and runs over a sequence with those widths; the sequence's states are the steps' states", () => {
    const params = new Params(new Rng(2));
    const layer = new RecurrentLayer(params, 'x', I, H, cell);
    const S = layer.stateSize;
    tf.tidy(() => {
      const R = new Rng(3);
      const x = tf.tensor2d(
        Array.from({ length: T * B * I }, () => R.uniform(-1, 1)),
        [T * B, I],
      );
      const xp = layer.project(x);
      expect(xp.shape).toEqual([T * B, GATES[kind] * H]);
      const states = layer.sequence(xp, tf.zeros([B, S]), null, { steps: T, batch: B });
      expect(states.shape).toEqual([T, B, S]);
      expect(layer.hidden(states).shape).toEqual([T, B, H]);
      let state = tf.zeros<tf.Rank.R2>([B, S]);
      for (let t = 0; t < T; t++) {
        state = layer.step(tf.slice(xp, [t * B, 0], [B, GATES[kind] * H]), state);
        expect(state.shape).toEqual([B, S]);
        const want = tf.slice(states, [t, 0, 0], [1, B, S]).dataSync();
        state.dataSync().forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
      }
    });
    params.dispose();
  });
});
