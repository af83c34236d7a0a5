import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { Params } from '../../src/model/params.js';
import { RecurrentLayer } from '../../src/recurrent/recurrentLayer.js';
import { DEFAULT_CELL } from '../../src/recurrent/cell.js';
import { dense } from '../../src/layers/dense.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

function setup() {
  const params = new Params(new Rng(4));
  const table = params.create('embedding', [7, 5], { kind: 'uniform', scale: 1 }) as unknown as tf.Tensor2D;
  const layer = new RecurrentLayer(params, 'layer', 5, 4, DEFAULT_CELL);
  const W = params.get('layer/W') as unknown as tf.Tensor2D;
  const b = params.get('layer/b') as unknown as tf.Tensor1D;
  return { params, table, layer, W, b };
}

/** embedding rows · W + b, row by row, without any cache. */
function reference(table: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, ids: Int32Array): number[][] {
  return tf.tidy(() => dense(tf.gather(table, tf.tensor1d(ids, 'int32')), W, b).arraySync());
}

const close = (a: number[][], b: number[][]) =>
  a.forEach((row, i) => row.forEach((x, j) => expect(x).toBeCloseTo(b[i]![j]!, 5)));

describe('RecurrentLayer.projectTokens', () => {
  it('outside training gathers rows of the projected table kept with the weights, recomputed when they change', () => {
    const { params, table, layer, W, b } = setup();
    const ids = new Int32Array([3, 0, 6, 3]);
    const before = tf.memory().numTensors;
    close(
      tf.tidy(() => layer.projectTokens(table, ids).arraySync()),
      reference(table, W, b, ids),
    );
    const kept = tf.memory().numTensors;
    expect(kept).toBe(before + 1); // the projected table
    close(
      tf.tidy(() => layer.projectTokens(table, new Int32Array([1])).arraySync()),
      reference(table, W, b, new Int32Array([1])),
    );
    expect(tf.memory().numTensors).toBe(kept);
    // An optimiser step (assign) on any of table, W, b invalidates the projection.
    for (const v of [table, W, b] as unknown as tf.Variable[]) {
      tf.tidy(() => v.assign(tf.add(v, 0.5)));
      close(
        tf.tidy(() => layer.projectTokens(table, ids).arraySync()),
        reference(table, W, b, ids),
      );
      expect(tf.memory().numTensors).toBe(kept);
    }
    params.dispose();
  });

  it('under a gradient tape computes afresh, so gradients reach the table, W and b', () => {
    const { params, table, layer, W, b } = setup();
    const ids = new Int32Array([2, 2, 5]);
    tf.tidy(() => layer.projectTokens(table, ids)); // fills the cache
    const [vTable, vW, vb] = [table, W, b] as unknown as tf.Variable[];
    const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(layer.projectTokens(table, ids)), [vTable!, vW!, vb!]);
    // d Σ (e_i·W + b) / d b = number of ids per column; / d W[k, :] = Σ_i e_i[k]; / d table[r, :] = count(r)·Σ_j W[:, j].
    expect(grads[vb!.name]!.arraySync()).toEqual([3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    const rowSums = tf.tidy(() => tf.sum(W, 1).arraySync() as number[]);
    const gTable = grads[vTable!.name]!.arraySync() as number[][];
    gTable[2]!.forEach((x, k) => expect(x).toBeCloseTo(2 * rowSums[k]!, 5));
    gTable[0]!.forEach((x) => expect(x).toBe(0));
    tf.dispose(grads);
    params.dispose();
  });
});
