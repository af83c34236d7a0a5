import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { sliceValues } from '../../../src/backend/wasm/copyKernels.js';
import { onBoth, randomValues } from '../../helpers/cpuAndWasm.js';

// Every kernel is checked against the cpu backend's own (test/helpers/cpuAndWasm.ts).
beforeAll(async () => {
  await selectBackend('wasm');
});

describe('Slice on wasm', () => {
  it("hands string tensors to the backend's own kernel (they do not live on the heap)", () => {
    expect(tf.slice(tf.tensor1d(['a', 'b', 'c']), [1], [2]).arraySync()).toEqual(['b', 'c']);
    expect(tf.slice(tf.tensor2d(['a', 'b', 'c', 'd'], [2, 2]), [0, 1], [2, 1]).arraySync()).toEqual([['b'], ['d']]);
  });

  const cases: { name: string; shape: number[]; begin: number[]; size: number[] }[] = [
    { name: '1-D middle run', shape: [7], begin: [2], size: [4] },
    { name: '1-D size -1 to the end', shape: [7], begin: [3], size: [-1] },
    { name: '2-D contiguous rows (one time step of [time·batch, units])', shape: [6, 4], begin: [2, 0], size: [2, 4] },
    { name: '2-D strided box (inner columns)', shape: [5, 6], begin: [1, 2], size: [3, 3] },
    { name: '2-D size -1 in both dims', shape: [5, 6], begin: [2, 4], size: [-1, -1] },
    { name: '3-D strided box', shape: [3, 4, 5], begin: [1, 1, 2], size: [2, 2, 3] },
    { name: '3-D one element', shape: [3, 4, 5], begin: [2, 3, 4], size: [1, 1, 1] },
    { name: '4-D strided box with size -1', shape: [2, 3, 4, 5], begin: [1, 0, 1, 1], size: [1, -1, 2, 3] },
    { name: '4-D whole tensor', shape: [2, 3, 2, 2], begin: [0, 0, 0, 0], size: [-1, -1, -1, -1] },
  ];
  for (const c of cases) {
    it(`equals the cpu backend: ${c.name}`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const x = randomValues(n, n);
      const { cpu, wasm } = await onBoth(() => tf.slice(tf.tensor(x, c.shape), c.begin, c.size));
      expect(wasm.shape).toEqual(cpu.shape);
      expect(wasm.values).toEqual(cpu.values);
    });
  }

  it('equals the cpu backend on int32 input', async () => {
    const x = Array.from({ length: 24 }, (_, i) => i * 1000 - 7);
    const { cpu, wasm } = await onBoth(() => tf.slice(tf.tensor(x, [2, 3, 4], 'int32'), [0, 1, 1], [2, 2, 2]));
    expect(wasm.dtype).toBe('int32');
    expect(wasm.values).toEqual(cpu.values);
  });

  it('returns an empty tensor of the right shape for an empty size', async () => {
    const { cpu, wasm } = await onBoth(() => tf.slice(tf.tensor2d(randomValues(12, 3), [3, 4]), [1, 2], [0, 2]));
    expect(wasm.shape).toEqual([0, 2]);
    expect(wasm.shape).toEqual(cpu.shape);
    expect(wasm.values).toEqual([]);
  });

  it('reads the right values when allocating its output grows (and so moves) the wasm heap', async () => {
    await tf.setBackend('wasm');
    // Each slice output is larger than anything allocated before, so makeOutput has to grow the heap; views
    // taken before it would read a detached buffer.
    for (const rows of [256, 1024, 4096, 8192]) {
      const got = tf.tidy(() => {
        const x = tf.reshape(tf.range(0, rows * 1024, 1, 'int32'), [rows, 1024]);
        const s = tf.slice(x, [1, 0], [rows - 1, 1024]);
        return [s.shape, s.dataSync()[0], s.dataSync()[(rows - 1) * 1024 - 1]] as [number[], number, number];
      });
      expect(got).toEqual([[rows - 1, 1024], 1024, rows * 1024 - 1]);
    }
  });
});

describe('SplitV and Concat on wasm', () => {
  const cases: { shape: number[]; sizes: number[] | number; axis: number }[] = [
    { shape: [64, 20, 256], sizes: [128, 128], axis: 2 },
    { shape: [6, 5], sizes: 5, axis: 1 },
    { shape: [7, 3], sizes: [2, 0, 5], axis: 0 },
    { shape: [2, 3, 4, 5], sizes: [1, -1, 1], axis: 2 },
    { shape: [4, 9], sizes: [3, 3, 3], axis: -1 },
  ];
  for (const c of cases) {
    it(`split [${c.shape}] by ${JSON.stringify(c.sizes)} on axis ${c.axis}, and concatenating the parts back, equal the cpu backend (float32, int32 and bool)`, async () => {
      const n = c.shape.reduce((a, b) => a * b, 1);
      const x = randomValues(n, n + 1);
      for (const dtype of ['float32', 'int32', 'bool'] as const) {
        const values =
          dtype === 'float32' ? x : x.map((v) => (dtype === 'bool' ? (v > 0 ? 1 : 0) : Math.round(v * 1000)));
        const parts = await onBoth(() =>
          tf.stack(
            tf
              .split(tf.tensor(values, c.shape, dtype), c.sizes, c.axis)
              .map((p) => tf.reshape(p, [-1]))
              .filter((p) => p.size > 0)
              .map((p) => tf.pad(p, [[0, n - p.size]])),
          ),
        );
        expect(parts.wasm.values).toEqual(parts.cpu.values);
        const back = await onBoth(() => {
          const t = tf.tensor(values, c.shape, dtype);
          return tf.concat(tf.split(t, c.sizes, c.axis), c.axis);
        });
        expect(back.wasm.dtype).toBe(dtype);
        expect(back.wasm.shape).toEqual(c.shape);
        expect(back.wasm.values).toEqual(back.cpu.values);
      }
    });
  }

  it('concatenates tensors of different widths on every axis, empty ones included, as the cpu backend does', async () => {
    const a = randomValues(2 * 3 * 4, 1);
    const b = randomValues(2 * 3 * 5, 2);
    const f = await onBoth(() => tf.concat([tf.tensor(a, [2, 3, 4]), tf.zeros([2, 3, 0]), tf.tensor(b, [2, 3, 5])], 2));
    expect(f.wasm.shape).toEqual([2, 3, 9]);
    expect(f.wasm.values).toEqual(f.cpu.values);
    const g = await onBoth(() => tf.concat([tf.tensor(a, [4, 6]), tf.tensor(b, [5, 6])], 0));
    expect(g.wasm.values).toEqual(g.cpu.values);
    const one = await onBoth(() => tf.concat([tf.zeros([0, 6]), tf.tensor(a, [4, 6])], 0));
    expect(one.wasm.values).toEqual(one.cpu.values);
  });

  it("hands inputs of mixed dtypes to the backend's kernel, which converts values, as the cpu backend does", async () => {
    // Inputs of mixed dtypes, as a caller of the kernel may hand them: the output takes the first's.
    const mixed = () =>
      [tf.tensor1d([1.5, -2], 'float32'), tf.tensor1d([3, 4], 'int32')] as unknown as tf.NamedTensorMap;
    const f = await onBoth(() => tf.engine().runKernel<tf.Tensor>(tf.Concat, mixed(), { axis: 0 }));
    expect(f.wasm.values).toEqual([1.5, -2, 3, 4]);
    expect(f.wasm.dtype).toBe('float32');
    expect(f.wasm.values).toEqual(f.cpu.values);
  });

  it('reads the right values when allocating the output grows (and so moves) the wasm heap', async () => {
    await tf.setBackend('wasm');
    for (const rows of [512, 2048, 8192]) {
      const got = tf.tidy(() => {
        const x = tf.reshape(tf.range(0, rows * 1024, 1, 'int32'), [rows, 1024]);
        const y = tf.concat([x, x], 1);
        const [l, r] = tf.split(y, [1000, 1048], 1);
        return [y.dataSync()[2047], l!.dataSync()[1000], r!.dataSync()[1048]] as number[];
      });
      expect(got).toEqual([1023, 1024, 2024]);
    }
  });
});

describe('sliceValues on typed arrays', () => {
  it('sliceValues copies a strided 3-D box in row-major order', () => {
    const x = Float32Array.from({ length: 24 }, (_, i) => i); // [2, 3, 4]
    const out = new Float32Array(2 * 2 * 2);
    sliceValues(x, [2, 3, 4], [0, 1, 2], [2, 2, 2], out);
    expect(Array.from(out)).toEqual([6, 7, 10, 11, 18, 19, 22, 23]);
  });

  it('sliceValues copies a 1-D run and a single 2-D column', () => {
    const x = Int32Array.from({ length: 12 }, (_, i) => i);
    const run = new Int32Array(5);
    sliceValues(x, [12], [4], [5], run);
    expect(Array.from(run)).toEqual([4, 5, 6, 7, 8]);
    const col = new Int32Array(3);
    sliceValues(x, [3, 4], [0, 3], [3, 1], col); // last column of [3, 4]
    expect(Array.from(col)).toEqual([3, 7, 11]);
  });

  it('copies within one buffer (the heap) as between two', () => {
    const heap = new Float32Array(64);
    heap.set(Float32Array.from({ length: 24 }, (_, i) => i));
    const out = heap.subarray(32, 40);
    sliceValues(heap.subarray(0, 24), [2, 3, 4], [0, 1, 2], [2, 2, 2], out);
    expect(Array.from(out)).toEqual([6, 7, 10, 11, 18, 19, 22, 23]);
    const ints = new Int32Array(heap.buffer, 0, 24);
    const outInts = new Int32Array(heap.buffer, 160, 3);
    sliceValues(ints, [3, 8], [0, 7], [3, 1], outInts);
    expect(Array.from(outInts)).toEqual([ints[7], ints[15], ints[23]]);
  });
});
