import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import {
  unsortedSegmentSumValues,
  keepsLayout,
  gatherRowsValues,
  argMaxRowsValues,
  blockTranspose,
} from '../../../src/backend/wasm/kernels.js';
import { onBoth, randomValues } from '../../helpers/cpuAndWasm.js';

// Every kernel is checked against the cpu backend's own (test/helpers/cpuAndWasm.ts).
beforeAll(async () => {
  await selectBackend('wasm');
});

function expectClose(actual: unknown, expected: unknown, digits = 5): void {
  if (Array.isArray(expected)) {
    expect(Array.isArray(actual)).toBe(true);
    expect((actual as unknown[]).length).toBe(expected.length);
    expected.forEach((e, i) => expectClose((actual as unknown[])[i], e, digits));
  } else {
    expect(actual as number).toBeCloseTo(expected as number, digits);
  }
}

describe('toolkit kernels on wasm', () => {
  it("are registered in place of (or beside) the backend's own", () => {
    for (const name of [
      tf.UnsortedSegmentSum,
      tf.Slice,
      tf.SplitV,
      tf.Concat,
      tf.GatherV2,
      tf.ArgMax,
      tf.Identity,
      tf.Transpose,
      tf.Tanh,
    ]) {
      expect((tf.getKernel(name, 'wasm') as { toolkit?: boolean } | undefined)?.toolkit).toBe(true);
    }
  });

  it('registering again (selectBackend twice) keeps one toolkit kernel and still works', async () => {
    await selectBackend('wasm');
    expect((tf.getKernel(tf.Slice, 'wasm') as { toolkit?: boolean }).toolkit).toBe(true);
    expect(tf.tidy(() => tf.slice(tf.tensor1d([1, 2, 3, 4]), [1], [2]).arraySync())).toEqual([2, 3]);
  });
});

describe('UnsortedSegmentSum on wasm', () => {
  it('sums rows by 1-D ids, repeated ids accumulating, as the cpu backend does', async () => {
    const x = randomValues(6 * 3, 1);
    const ids = [2, 0, 2, 2, 1, 0];
    const { cpu, wasm } = await onBoth(() =>
      tf.unsortedSegmentSum(tf.tensor2d(x, [6, 3]), tf.tensor1d(ids, 'int32'), 4),
    );
    expect(wasm.shape).toEqual([4, 3]);
    expect(wasm.shape).toEqual(cpu.shape);
    expectClose(wasm.values, cpu.values);
    // Segment 3 gets no row: exactly zero.
    expect((wasm.values as number[][])[3]).toEqual([0, 0, 0]);
  });

  it('sums rows of 8 and of 10 values (vector lanes and a scalar tail) as the cpu backend does', async () => {
    for (const inner of [8, 10]) {
      const x = randomValues(7 * inner, 2 + inner);
      const ids = [4, 0, 4, 1, 4, 0, 2];
      const { cpu, wasm } = await onBoth(() =>
        tf.unsortedSegmentSum(tf.tensor2d(x, [7, inner]), tf.tensor1d(ids, 'int32'), 5),
      );
      expectClose(wasm.values, cpu.values);
      expect((wasm.values as number[][])[3]).toEqual(new Array(inner).fill(0));
    }
  });

  it('drops ids outside [0, numSegments), negative ones included', async () => {
    const x = [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
    ];
    const ids = [1, 5, -1, 1];
    const { cpu, wasm } = await onBoth(() => tf.unsortedSegmentSum(tf.tensor2d(x), tf.tensor1d(ids, 'int32'), 3));
    expect(wasm.values).toEqual(cpu.values);
    expect(wasm.values).toEqual([
      [0, 0],
      [8, 10],
      [0, 0],
    ]);
  });

  it('keeps int32 x exact and int32-typed', async () => {
    const x = [
      [100000, -3],
      [7, 2147480000],
      [1, 1],
    ];
    const ids = [0, 1, 0];
    const { cpu, wasm } = await onBoth(() =>
      tf.unsortedSegmentSum(tf.tensor2d(x, [3, 2], 'int32'), tf.tensor1d(ids, 'int32'), 2),
    );
    expect(wasm.dtype).toBe('int32');
    expect(wasm.values).toEqual([
      [100001, -2],
      [7, 2147480000],
    ]);
    // cpu computes through float32 (values round), so compare to it only where float32 is exact.
    expect((cpu.values as number[][])[0]).toEqual([100001, -2]);
  });

  it('sums a 1-D x into scalar segments', async () => {
    const { cpu, wasm } = await onBoth(() =>
      tf.unsortedSegmentSum(tf.tensor1d([0.5, 0.25, 1, 2]), tf.tensor1d([3, 3, 0, 1], 'int32'), 4),
    );
    expect(wasm.values).toEqual(cpu.values);
    expect(wasm.values).toEqual([1, 2, 0, 0.75]);
  });

  it("takes 2-D ids as a prefix of x's shape, like the same sum over flattened ids", async () => {
    // x: [2, 3, 2], ids: [2, 3]. tfjs-cpu's own kernel fails to broadcast ids of rank > 1, so the reference is cpu
    // on the flattened problem, which is TensorFlow's definition.
    const x = randomValues(2 * 3 * 2, 2);
    const ids = [0, 2, 1, 2, 2, 0];
    await tf.setBackend('cpu');
    const cpu = tf.tidy(() => tf.unsortedSegmentSum(tf.tensor2d(x, [6, 2]), tf.tensor1d(ids, 'int32'), 3).arraySync());
    await tf.setBackend('wasm');
    const wasm = tf.tidy(() => {
      const out = tf.unsortedSegmentSum(
        tf.tensor3d(x, [2, 3, 2]),
        tf.tensor2d(ids, [2, 3], 'int32') as unknown as tf.Tensor1D,
        3,
      );
      expect(out.shape).toEqual([3, 2]);
      return out.arraySync();
    });
    expectClose(wasm, cpu);
  });
});

describe('Transpose on wasm', () => {
  it('equals the cpu backend for 2-D, both 3-D swaps and a 4-D group swap, float32 and int32, in 4 × 4 blocks and in tiles (sizes not multiples of 4)', async () => {
    const cases: [number[], number[]][] = [
      [
        [37, 19],
        [1, 0],
      ],
      [
        [1280, 3],
        [1, 0],
      ],
      [
        [1280, 128],
        [1, 0],
      ],
      [
        [20, 36],
        [1, 0],
      ],
      [
        [3, 8, 20],
        [0, 2, 1],
      ],
      [
        [5, 7, 3],
        [1, 0, 2],
      ],
      [
        [5, 7, 3],
        [0, 2, 1],
      ],
      [
        [4, 6, 9],
        [2, 0, 1],
      ],
      [
        [2, 3, 4, 5],
        [0, 2, 3, 1],
      ],
      [
        [3, 4, 5],
        [2, 1, 0],
      ],
    ];
    for (const [shape, perm] of cases) {
      const x = randomValues(
        shape.reduce((a, c) => a * c, 1),
        shape.length,
      );
      const f = await onBoth(() => tf.transpose(tf.tensor(x, shape), perm));
      expect(f.wasm.shape).toEqual(f.cpu.shape);
      expect(f.wasm.values).toEqual(f.cpu.values);
      const ints = await onBoth(() =>
        tf.transpose(
          tf.tensor(
            x.map((v) => Math.round(v * 100)),
            shape,
            'int32',
          ),
          perm,
        ),
      );
      expect(ints.wasm.values).toEqual(ints.cpu.values);
    }
  });

  it("recognises group swaps only (others go to the backend's kernel)", () => {
    expect(blockTranspose([4, 5], [1, 0])).toEqual({ batch: 1, A: 4, B: 5, inner: 1 });
    expect(blockTranspose([2, 3, 4], [1, 0, 2])).toEqual({ batch: 1, A: 2, B: 3, inner: 4 });
    expect(blockTranspose([2, 3, 4], [0, 2, 1])).toEqual({ batch: 2, A: 3, B: 4, inner: 1 });
    expect(blockTranspose([2, 3, 4], [2, 0, 1])).toEqual({ batch: 1, A: 6, B: 4, inner: 1 });
    expect(blockTranspose([2, 3, 4], [2, 1, 0])).toBeNull();
    expect(blockTranspose([2, 3, 4], [0, 1, 2])).toBeNull();
  });
});

describe('Transpose that keeps the layout on wasm (the identity, or moving only axes of size 1)', () => {
  it('shares the buffer (no copy) and equals the cpu backend', async () => {
    expect(keepsLayout([4, 1, 5], [1, 0, 2])).toBe(true);
    expect(keepsLayout([4, 1, 5], [0, 2, 1])).toBe(true);
    expect(keepsLayout([4, 1, 5], [2, 1, 0])).toBe(false);
    expect(keepsLayout([3, 4], [0, 1])).toBe(true);
    const x = randomValues(20, 9);
    const f = await onBoth(() => tf.transpose(tf.tensor(x, [4, 1, 5]), [1, 0, 2]));
    expect(f.wasm.shape).toEqual([1, 4, 5]);
    expect(f.wasm.values).toEqual(f.cpu.values);
    const before = tf.backend().numDataIds();
    const t = tf.tensor(x, [4, 1, 5]);
    const u = tf.transpose(t, [0, 2, 1]);
    expect(tf.backend().numDataIds()).toBe(before + 1);
    t.dispose();
    expect(Array.from(u.dataSync())).toEqual(Array.from(new Float32Array(x)));
    u.dispose();
    expect(tf.backend().numDataIds()).toBe(before);
    const m = tf.tensor2d(x, [4, 5]);
    const same = tf.transpose(m, [0, 1]);
    expect(tf.backend().numDataIds()).toBe(before + 1);
    expect(Array.from(same.dataSync())).toEqual(Array.from(m.dataSync()));
    tf.dispose([m, same]);
    expect(tf.backend().numDataIds()).toBe(before);
  });
});

describe('Identity on wasm', () => {
  it('shares the buffer: a clone outlives its source, and disposing both frees it', async () => {
    await tf.setBackend('wasm');
    const buffers = () => tf.backend().numDataIds();
    const before = buffers();
    const x = tf.tensor2d([
      [1, 2],
      [3, 4],
    ]);
    const y = tf.clone(x);
    expect(buffers() - before).toBe(1); // one buffer for both tensors
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4]);
    y.dispose();
    expect(buffers()).toBe(before);
  });

  it("keeps a variable's saved value when the variable is assigned afterwards (gradients read the saved one)", async () => {
    await tf.setBackend('wasm');
    const v = tf.variable(tf.tensor1d([1, 2, 3]));
    const { grads } = tf.variableGrads(() => tf.sum<tf.Scalar>(tf.mul(v, v)), [v]);
    const saved = tf.clone(v);
    v.assign(tf.tensor1d([9, 9, 9]));
    expect(Array.from(saved.dataSync())).toEqual([1, 2, 3]);
    expect(Array.from(grads[v.name]!.dataSync())).toEqual([2, 4, 6]);
    tf.dispose([v, saved, ...Object.values(grads)]);
  });

  it("hands string tensors to the backend's own kernel", async () => {
    await tf.setBackend('wasm');
    const s = tf.tensor1d(['a', 'b'], 'string');
    const c = tf.clone(s);
    expect(c.arraySync()).toEqual(['a', 'b']);
    tf.dispose([s, c]);
  });
});

describe('ArgMax on wasm', () => {
  it("picks each row's largest value over the last axis as the cpu backend does, 2-D and 3-D, ties to the first", async () => {
    const x = randomValues(6 * 50, 11);
    x[3 * 50 + 7] = 9;
    x[3 * 50 + 20] = 9; // a tie: the first index wins, as on cpu
    const two = await onBoth(() => tf.argMax(tf.tensor2d(x, [6, 50]), 1));
    expect(two.wasm.dtype).toBe('int32');
    expect(two.wasm.values).toEqual(two.cpu.values);
    expect((two.wasm.values as number[])[3]).toBe(7);
    const three = await onBoth(() => tf.argMax(tf.tensor3d(x, [2, 3, 50]), -1));
    expect(three.wasm.shape).toEqual([2, 3]);
    expect(three.wasm.values).toEqual(three.cpu.values);
  });

  it('runs on the SIMD kernel for wide rows (1,000 values, a multiple of 4), equal to cpu, and leaves NaN rows to the JavaScript loop', async () => {
    const x = randomValues(5 * 1000, 13);
    x[2 * 1000 + 999] = 50; // the last value of a row
    const wide = await onBoth(() => tf.argMax(tf.tensor2d(x, [5, 1000]), 1));
    expect(wide.wasm.values).toEqual(wide.cpu.values);
    expect((wide.wasm.values as number[])[2]).toBe(999);
    const withNaN = Float32Array.from(x);
    withNaN[1 * 1000 + 500] = Number.NaN; // NaN never wins (v > best): the row's largest value does
    withNaN[3 * 1000] = Number.NaN; // NaN first: nothing is larger, index 0
    const rows = tf.tidy(() => tf.argMax(tf.tensor2d(withNaN, [5, 1000]), 1).arraySync() as number[]);
    const expected = Array.from({ length: 5 }, (_, r) => {
      let best = 0;
      for (let j = 1; j < 1000; j++) if (withNaN[r * 1000 + j]! > withNaN[r * 1000 + best]!) best = j;
      return best;
    });
    expect(rows).toEqual(expected);
    expect(rows[3]).toBe(0);
  });

  it("hands another axis and int32 input to the backend's own kernel, equal to cpu", async () => {
    const x = randomValues(4 * 5, 12);
    const first = await onBoth(() => tf.argMax(tf.tensor2d(x, [4, 5]), 0));
    expect(first.wasm.values).toEqual(first.cpu.values);
    const ints = await onBoth(() => tf.argMax(tf.tensor2d([3, 9, 2, 7, 1, 8], [2, 3], 'int32'), 1));
    expect(ints.wasm.values).toEqual([1, 2]);
    expect(ints.wasm.values).toEqual(ints.cpu.values);
  });
});

describe('Tanh on wasm', () => {
  it('equals Math.tanh within 1e-6 on the SIMD lanes and the scalar tail, saturates at ±1, keeps NaN, and its gradient flows', async () => {
    for (const n of [4 * 300, 4 * 300 + 3, 2]) {
      const x = randomValues(n, 20 + n).map((v) => v * 6);
      x[0] = 40; // exp(2x) past float32's range: exactly 1
      x[1] = -40;
      const y = tf.tidy(() => tf.tanh(tf.tensor1d(x)).dataSync());
      x.forEach((v, i) => {
        const want = Math.tanh(Math.fround(v));
        if (!(Math.abs(y[i]! - want) <= 1e-6)) expect.fail(`tanh(${v}) = ${y[i]}, want ${want}`);
      });
      expect([y[0], y[1]]).toEqual([1, -1]);
    }
    const nan = tf.tidy(() => Array.from(tf.tanh(tf.tensor1d([0.5, Number.NaN, -0.5, 1])).dataSync()));
    expect(nan[1]).toBeNaN();
    expect(nan[0]).toBeCloseTo(Math.tanh(0.5), 6);
    // The gradient (1 − y², from tfjs's Tanh gradient) on the toolkit's kernel against the cpu backend.
    const grad = await onBoth(() =>
      tf.grad((v: tf.Tensor) => tf.sum(tf.tanh(v)))(tf.tensor2d(randomValues(12, 21), [3, 4])),
    );
    expectClose(grad.wasm.values, grad.cpu.values, 5);
  });
});

describe('GatherV2 on wasm', () => {
  it('gathers whole rows on axis 0 as the cpu backend does, with repeated and 2-D indices', async () => {
    const x = randomValues(5 * 3, 4);
    for (const [indices, shape] of [
      [[4, 0, 0, 2], [4]],
      [
        [1, 3, 3, 0, 4, 2],
        [2, 3],
      ],
    ] as [number[], number[]][]) {
      const { cpu, wasm } = await onBoth(() =>
        tf.gather(tf.tensor2d(x, [5, 3]), tf.tensor(indices, shape, 'int32'), 0),
      );
      expect(wasm.shape).toEqual([...shape, 3]);
      expect(wasm.values).toEqual(cpu.values);
    }
  });

  it('gathers int32 and bool rows (4- and 1-byte values) and none, as the cpu backend does', async () => {
    const ints = await onBoth(() =>
      tf.gather(tf.tensor2d([1, -2, 3, 2147483647, -5, 6], [3, 2], 'int32'), tf.tensor1d([2, 1, 2], 'int32')),
    );
    expect(ints.wasm.values).toEqual(ints.cpu.values);
    expect(ints.wasm.values).toEqual([
      [-5, 6],
      [3, 2147483647],
      [-5, 6],
    ]);
    const bools = await onBoth(() =>
      tf.gather(tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2], 'bool'), tf.tensor1d([1, 0, 2, 1], 'int32')),
    );
    expect(bools.wasm.values).toEqual(bools.cpu.values);
    const none = await onBoth(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([], 'int32')));
    expect(none.wasm.shape).toEqual([0, 2]);
  });

  it('gathers from a 1-D and a 3-D tensor (row size 1 and rows of matrices)', async () => {
    const one = await onBoth(() => tf.gather(tf.tensor1d([10, 11, 12, 13]), tf.tensor1d([3, 1, 3], 'int32')));
    expect(one.wasm.values).toEqual(one.cpu.values);
    expect(one.wasm.values).toEqual([13, 11, 13]);
    const x = randomValues(3 * 2 * 2, 5);
    const three = await onBoth(() => tf.gather(tf.tensor3d(x, [3, 2, 2]), tf.tensor1d([2, 0], 'int32')));
    expect(three.wasm.values).toEqual(three.cpu.values);
  });

  it("hands axis 1 with batchDims 1 to the backend's own kernel, equal to cpu", async () => {
    const x = randomValues(2 * 4 * 3, 6);
    const indices = [
      [3, 0],
      [1, 1],
    ];
    const { cpu, wasm } = await onBoth(() =>
      tf.gather(tf.tensor3d(x, [2, 4, 3]), tf.tensor2d(indices, [2, 2], 'int32'), 1, 1),
    );
    expect(wasm.shape).toEqual([2, 2, 3]);
    expect(wasm.values).toEqual(cpu.values);
  });

  it("hands plain axis 1 to the backend's own kernel, equal to cpu", async () => {
    const x = randomValues(3 * 4, 7);
    const { cpu, wasm } = await onBoth(() => tf.gather(tf.tensor2d(x, [3, 4]), tf.tensor1d([3, 0, 3], 'int32'), 1));
    expect(wasm.values).toEqual(cpu.values);
  });

  it('throws on an out-of-range index, like the cpu backend', async () => {
    for (const bad of [4, -1]) {
      await tf.setBackend('cpu');
      expect(() =>
        tf.tidy(() => tf.gather(tf.tensor2d(randomValues(8, 8), [4, 2]), tf.tensor1d([0, bad], 'int32'))),
      ).toThrow();
      await tf.setBackend('wasm');
      expect(() =>
        tf.tidy(() => tf.gather(tf.tensor2d(randomValues(8, 8), [4, 2]), tf.tensor1d([0, bad], 'int32'))),
      ).toThrow(`GatherV2: the index value ${bad} is not in [0, 3]`);
    }
  });

  it("gradient of sum(gather(E, idx) ⊙ R) w.r.t. E equals the cpu backend's (repeated ids accumulate)", async () => {
    const E = randomValues(6 * 3, 9);
    const R = randomValues(5 * 3, 10);
    const idx = [4, 1, 4, 0, 4];
    const f = () =>
      tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, tf.tensor1d(idx, 'int32')), tf.tensor2d(R, [5, 3]))))(
        tf.tensor2d(E, [6, 3]),
      );
    const { cpu, wasm } = await onBoth(f);
    expect(wasm.shape).toEqual([6, 3]);
    expectClose(wasm.values, cpu.values);
    // Rows never gathered get exactly zero; row 4 gets three rows of R.
    expect((wasm.values as number[][])[2]).toEqual([0, 0, 0]);
    expect((wasm.values as number[][])[4]![0]).toBeCloseTo(R[0]! + R[6]! + R[12]!, 5);
  });
});

describe('kernel helpers on typed arrays', () => {
  it('unsortedSegmentSumValues adds rows into segments, dropping out-of-range ids and clearing out first', () => {
    const x = new Float32Array([1, 2, 3, 4, 5, 6, 7, 8]); // [4, 2]
    const out = new Float32Array(6).fill(99);
    unsortedSegmentSumValues(x, [4, 2], new Int32Array([2, 0, 2, 3]), [4], 3, out);
    expect(Array.from(out)).toEqual([3, 4, 0, 0, 1 + 5, 2 + 6]);
  });

  it('unsortedSegmentSumValues takes ids of rank 2 over x of rank 3', () => {
    const x = new Int32Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]); // [2, 3, 2]
    const out = new Int32Array(4);
    unsortedSegmentSumValues(x, [2, 3, 2], new Int32Array([1, 0, 1, -1, 1, 0]), [2, 3], 2, out);
    expect(Array.from(out)).toEqual([3 + 11, 4 + 12, 1 + 5 + 9, 2 + 6 + 10]);
  });

  it("unsortedSegmentSumValues rejects ids whose shape is not a prefix of x's", () => {
    expect(() =>
      unsortedSegmentSumValues(new Float32Array(6), [3, 2], new Int32Array(2), [2], 2, new Float32Array(4)),
    ).toThrow(/not a prefix/);
  });

  it('argMaxRowsValues takes the first largest index of each row, negative rows included', () => {
    const out = new Int32Array(3);
    argMaxRowsValues(new Float32Array([1, 5, 5, -3, -1, -2, 0, 0, 0]), 3, 3, out);
    expect(Array.from(out)).toEqual([1, 1, 0]);
  });

  it('gatherRowsValues copies whole rows in index order and rejects an index out of range', () => {
    const x = Float32Array.from([0, 1, 10, 11, 20, 21]); // [3, 2]
    const out = new Float32Array(8);
    gatherRowsValues(x, 3, 2, [2, 0, 2, 1], out);
    expect(Array.from(out)).toEqual([20, 21, 0, 1, 20, 21, 10, 11]);
    expect(() => gatherRowsValues(x, 3, 2, [3], new Float32Array(2))).toThrow(
      'GatherV2: the index value 3 is not in [0, 2]',
    );
    expect(() => gatherRowsValues(x, 3, 2, [-1], new Float32Array(2))).toThrow(/index value -1/);
  });
});
