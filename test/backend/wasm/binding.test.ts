import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../../src/backend/select.js';
import { simdKernels, activeSimdKernels, heapOffset } from '../../../src/backend/wasm/binding.js';

beforeAll(async () => {
  await selectBackend('wasm');
});

const KERNEL_NAMES = [
  'adamStep',
  'addRows',
  'argMaxRows',
  'blockMaxRows',
  'expRows',
  'expSumRows',
  'gatherRows',
  'gruStep',
  'gruStepGrad',
  'rowCandidates',
  'scaleRows',
  'segmentSum',
  'tanh',
  'transpose',
];

describe('the SIMD kernels bound to a wasm backend', () => {
  it('are instantiated once per backend, with every kernel', () => {
    const kernels = simdKernels(tf.backend());
    expect(kernels).not.toBeNull();
    expect(simdKernels(tf.backend())).toBe(kernels);
    expect(activeSimdKernels()).toBe(kernels);
    expect(Object.keys(kernels!).sort()).toEqual(KERNEL_NAMES);
  });

  it('run on the memory the backend object exposes', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const kernels = simdKernels({ wasm: { wasmMemory: memory } });
    expect(kernels).not.toBeNull();
    const f = new Float32Array(memory.buffer);
    f.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 4); // x: 2 rows of 5 at byte 16
    f.set([0.5, -1], 20); // shifts at byte 80
    kernels!.addRows(16, 80, 2, 5, 128);
    expect([...f.subarray(32, 42)]).toEqual([1.5, 2.5, 3.5, 4.5, 5.5, 5, 6, 7, 8, 9]);
    // The older Emscripten layout (asm.memory) is found too.
    expect(simdKernels({ wasm: { asm: { memory } } })).not.toBeNull();
  });

  it('are null, and stay null, on a backend without a WebAssembly memory', () => {
    const backend = { wasm: {} };
    expect(simdKernels(backend)).toBeNull();
    expect(simdKernels(backend)).toBeNull();
    expect(simdKernels({})).toBeNull();
  });

  it('find a tensor at its byte offset in the backend heap', () => {
    const t = tf.tensor1d([3, 1, 4, 1, 5, 9]);
    const offset = heapOffset(tf.backend(), t);
    expect(offset).toBeGreaterThan(0);
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    expect([...new Float32Array(heap.buffer, offset, 6)]).toEqual([3, 1, 4, 1, 5, 9]);
    t.dispose();
    // A tensor the backend does not hold.
    const elsewhere = { dataId: {}, shape: [1], dtype: 'float32' as const };
    expect(() => heapOffset({ dataIdMap: new Map() }, elsewhere)).toThrow(/not on the wasm backend/);
  });

  it('are not active on another backend', async () => {
    await tf.setBackend('cpu');
    try {
      expect(activeSimdKernels()).toBeNull();
    } finally {
      await tf.setBackend('wasm');
    }
    expect(activeSimdKernels()).not.toBeNull();
  });
});
