import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import {
  registerJsKernel,
  hasJsKernel,
  runJsKernel,
  JS_KERNEL_BACKENDS,
  type KernelMemory,
} from '../../src/backend/jsKernels.js';
import { Rng } from '../../src/random.js';

beforeAll(async () => {
  await selectBackend('wasm');
});
afterEach(async () => {
  await tf.setBackend('wasm');
});

const rng = new Rng(3);
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => (rng.next() - 0.5) * 6);

/** What the last kernel call saw of its memory. */
let seen: { simd: boolean; staged: boolean; views: number[] } = { simd: false, staged: false, views: [] };
const note = (memory: KernelMemory, x: tf.TensorInfo): void => {
  seen = { simd: memory.simd !== undefined, staged: memory.staged !== undefined, views: [...memory.views([x])[0]!] };
};

// out = alpha·x + y (y optional), as a plain JavaScript loop over the inputs' values.
registerJsKernel('ToolkitTestAxpy', ({ x, y }, attrs, memory) => {
  note(memory, x!);
  const alpha = attrs['alpha'] as number;
  return memory.run([x, y], [x!.shape], ([xs, ys], [out]) => {
    for (let i = 0; i < out!.length; i++) out![i] = alpha * xs![i]! + (ys === undefined ? 0 : ys[i]!);
  });
});

// tanh through the SIMD module where it runs (n a multiple of 4), Math.tanh elsewhere.
registerJsKernel('ToolkitTestTanh', ({ x }, _attrs, memory) => {
  note(memory, x!);
  const n = x!.shape.reduce((a, b) => a * b, 1);
  if (memory.simd !== undefined && n % 4 === 0) {
    const { kernels } = memory.simd;
    return memory.simd.run([x], [x!.shape], ([xo], [outo]) => kernels.tanh(xo!, n, outo!));
  }
  return memory.run([x], [x!.shape], ([xs], [out]) => {
    for (let i = 0; i < n; i++) out![i] = Math.tanh(xs![i]!);
  });
});

// σ through the backend's own Sigmoid between two JavaScript passes, where staged memory exists.
registerJsKernel('ToolkitTestSigmoid', ({ x }, _attrs, memory) => {
  note(memory, x!);
  const n = x!.shape.reduce((a, b) => a * b, 1);
  if (memory.staged === undefined) {
    return memory.run([x], [x!.shape], ([xs], [out]) => {
      for (let i = 0; i < n; i++) out![i] = 1 / (1 + Math.exp(-xs![i]!));
    });
  }
  return memory.staged([x], [x!.shape], (m) => {
    const a = m.scratch(n);
    m.views().scratch[a]!.set(m.views().ins[0]!);
    const s = m.sigmoid(a);
    const v = m.views();
    v.outs[0]!.set(v.scratch[s]!);
  });
});

describe('JavaScript kernels on the wasm and cpu backends', () => {
  for (const backend of JS_KERNEL_BACKENDS) {
    it(`${backend}: a registered kernel computes its formula on random inputs, optional ones left out`, async () => {
      await tf.setBackend(backend);
      expect(hasJsKernel('ToolkitTestAxpy')).toBe(true);
      const xs = rand(24),
        ys = rand(24);
      const x = tf.tensor2d(xs, [4, 6]),
        y = tf.tensor2d(ys, [4, 6]);
      const [withY] = runJsKernel('ToolkitTestAxpy', { x, y }, { alpha: 0.75 });
      expect(withY!.shape).toEqual([4, 6]);
      const got = withY!.dataSync();
      for (let i = 0; i < 24; i++) expect(got[i]).toBe(Math.fround(0.75 * xs[i]! + ys[i]!));
      expect(seen.views).toEqual([...xs]);
      const [withoutY] = runJsKernel('ToolkitTestAxpy', { x, y: null }, { alpha: -2 });
      const got2 = withoutY!.dataSync();
      for (let i = 0; i < 24; i++) expect(got2[i]).toBe(Math.fround(-2 * xs[i]!));
      tf.dispose([x, y, withY!, withoutY!]);
    });

    it(`${backend}: SIMD kernels and staged passes only where the wasm heap is there, with the same values`, async () => {
      await tf.setBackend(backend);
      const xs = rand(64);
      const x = tf.tensor2d(xs, [8, 8]);
      const [tanh] = runJsKernel('ToolkitTestTanh', { x }, {});
      expect(seen.simd).toBe(backend === 'wasm');
      tanh!.dataSync().forEach((v, i) => expect(Math.abs(v - Math.tanh(xs[i]!))).toBeLessThan(1e-6));
      const [sigmoid] = runJsKernel('ToolkitTestSigmoid', { x }, {});
      expect(seen.staged).toBe(backend === 'wasm');
      const want = xs.map((v) => 1 / (1 + Math.exp(-v)));
      sigmoid!.dataSync().forEach((v, i) => expect(Math.abs(v - want[i]!)).toBeLessThan(1e-6));
      tf.dispose([x, tanh!, sigmoid!]);
    });
  }

  it('registration is idempotent: the first body stays', () => {
    registerJsKernel('ToolkitTestAxpy', () => {
      throw new Error('replaced');
    });
    const x = tf.tensor2d([1, 2, 3, 4], [2, 2]);
    const [out] = runJsKernel('ToolkitTestAxpy', { x, y: null }, { alpha: 3 });
    expect([...out!.dataSync()]).toEqual([3, 6, 9, 12]);
    tf.dispose([x, out!]);
  });

  it('a name never registered is no JS kernel', () => {
    expect(hasJsKernel('ToolkitTestNeverRegistered')).toBe(false);
  });
});
