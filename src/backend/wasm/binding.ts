// The SIMD kernels bound to a wasm backend: the module instantiated on the backend's own memory (once per backend,
// kept on it), and the byte offsets of tensors in that memory, read from tfjs-backend-wasm's internals.
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, TensorInfo } from '@tensorflow/tfjs-core';
import { simdModuleBytes, type SimdKernels } from './simdKernels.js';

/** What the kernels need from the wasm backend: its memory and where each tensor lives in it. */
interface WasmBackendInternals {
  wasm: { asm?: { memory?: WebAssembly.Memory }; wasmMemory?: WebAssembly.Memory };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/** The slice of the wasm backend's interface the toolkit's kernels use to make and read tensors. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

const SIMD = Symbol('toolkit.simdKernels');

/**
 * The SIMD kernels on this wasm backend instance (instantiated on first use and kept on the backend), or null
 * where they cannot run (no WebAssembly SIMD, or a backend that does not expose its memory).
 */
export function simdKernels(backend: object): SimdKernels | null {
  const holder = backend as { [SIMD]?: SimdKernels | null };
  if (holder[SIMD] !== undefined) return holder[SIMD];
  let kernels: SimdKernels | null = null;
  const w = (backend as Partial<WasmBackendInternals>).wasm;
  const memory = w?.wasmMemory ?? w?.asm?.memory;
  if (memory instanceof WebAssembly.Memory) {
    const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
    const bytes = simdModuleBytes(shared);
    if (WebAssembly.validate(bytes)) {
      const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
      kernels = instance.exports as unknown as SimdKernels;
    }
  }
  holder[SIMD] = kernels;
  return kernels;
}

/** The SIMD kernels of the active backend, if it is wasm and they run there. */
export function activeSimdKernels(): SimdKernels | null {
  return tf.getBackend() === 'wasm' ? simdKernels(tf.backend()) : null;
}

/** Byte offset of a tensor's data in the wasm heap. */
export function heapOffset(backend: object, t: TensorInfo): number {
  const entry = (backend as WasmBackendInternals).dataIdMap.get(t.dataId);
  if (entry === undefined) throw new Error('simd kernels: a tensor is not on the wasm backend');
  return entry.memoryOffset;
}
