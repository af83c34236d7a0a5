// Toolkit kernels written in JavaScript over typed arrays, registered on the wasm and cpu backends.
//
// On wasm every tfjs op pays a fixed cost (tens of microseconds) before it does any work, and a recurrent step built
// from a dozen small ops spends most of its time there. A fused kernel does the whole element-wise part of a step in
// one call. Native backends ('tensorflow') do not get these kernels: callers test `hasJsKernel` and fall back on
// composite tf ops, which are fast there.
import * as tf from '@tensorflow/tfjs-core';
import type { DataType, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels, heapOffset } from './wasm/binding.js';
import type { SimdKernels } from './wasm/simdKernels.js';

export const JS_KERNEL_BACKENDS = ['wasm', 'cpu'] as const;

/** Reads inputs and allocates outputs on whichever JS-accessible backend runs the kernel. */
export interface KernelMemory {
  /** Allocates the outputs first, then returns views of inputs and outputs (allocation may move the wasm heap). */
  run(
    inputs: (TensorInfo | undefined)[],
    outShapes: number[][],
    body: (ins: (Float32Array | undefined)[], outs: Float32Array[]) => void,
  ): TensorInfo[];
  /** Views of tensors' values (on wasm, of the heap: re-take them after any allocation). */
  views(tensors: TensorInfo[]): Float32Array[];
  /**
   * Like `run`, for kernels that alternate JavaScript passes with the backend's sigmoid over scratch buffers. Only
   * where that sigmoid is vectorised (wasm: its SIMD kernel, ~2 ns an element against ~16 for JavaScript's
   * Math.exp); elsewhere absent, and a scalar JavaScript loop is as fast and simpler.
   */
  staged?(inputs: (TensorInfo | undefined)[], outShapes: number[][], body: (m: StagedMemory) => void): TensorInfo[];
  /**
   * On wasm, the toolkit's SIMD kernels (backend/wasm/simdKernels.ts) and a `run` that hands them byte offsets into
   * the heap (0 for an absent input). Absent where WebAssembly SIMD is not available.
   */
  simd?: SimdMemory;
}

/** Heap offsets for the SIMD kernels; scratch buffers (float32, `scratch` sizes) live for the body only. */
export interface SimdMemory {
  kernels: SimdKernels;
  run(
    inputs: (TensorInfo | undefined)[],
    outShapes: number[][],
    body: (ins: number[], outs: number[], scratch: number[]) => void,
    scratch?: number[],
  ): TensorInfo[];
  /** A view of `length` floats (or int32s) at a heap offset; take it again after any allocation. */
  f32(offset: number, length: number): Float32Array;
  i32(offset: number, length: number): Int32Array;
}

/** Scratch buffers and a sigmoid between JavaScript passes. Views go stale when memory is allocated: re-take them. */
export interface StagedMemory {
  /** A scratch buffer of `size` floats; returns its index in `views().scratch`. */
  scratch(size: number): number;
  /** A new scratch buffer holding σ of scratch buffer `src`, element-wise; returns its index. */
  sigmoid(src: number): number;
  /** Fresh views of inputs, outputs and scratch buffers (after every scratch or sigmoid call). */
  views(): { ins: (Float32Array | undefined)[]; outs: Float32Array[]; scratch: Float32Array[] };
}

interface WasmLike {
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Float32Array;
  disposeData(dataId: object, force?: boolean): boolean;
}
interface CpuLike {
  data: { get(dataId: object): { values: unknown } };
  makeTensorInfo(shape: number[], dtype: DataType, values: Float32Array): TensorInfo;
}

function simdMemory(backend: unknown, b: WasmLike): Pick<KernelMemory, 'simd'> {
  const kernels = simdKernels(backend as object);
  if (kernels === null) return {};
  const offset = (t: TensorInfo | undefined) => (t === undefined ? 0 : heapOffset(backend as object, t));
  const heap = () => (backend as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
  return {
    simd: {
      kernels,
      run(inputs, outShapes, body, scratchSizes = []) {
        const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
        const scratch = scratchSizes.map((n) => b.makeOutput([n], 'float32'));
        try {
          body(inputs.map(offset), outs.map(offset), scratch.map(offset));
        } finally {
          for (const t of scratch) b.disposeData(t.dataId, true);
        }
        return outs;
      },
      f32: (at, length) => new Float32Array(heap(), at, length),
      i32: (at, length) => new Int32Array(heap(), at, length),
    },
  };
}

function memoryOf(backendName: string, backend: unknown): KernelMemory {
  if (backendName === 'wasm') {
    const b = backend as WasmLike;
    const view = (t: TensorInfo | undefined) => (t === undefined ? undefined : b.typedArrayFromHeap(t));
    return {
      views: (tensors) => tensors.map((t) => b.typedArrayFromHeap(t)),
      run(inputs, outShapes, body) {
        const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
        body(
          inputs.map(view),
          outs.map((o) => b.typedArrayFromHeap(o)),
        );
        return outs;
      },
      ...simdMemory(backend, b),
      staged(inputs, outShapes, body) {
        const outs = outShapes.map((s) => b.makeOutput(s, 'float32'));
        const scratch: TensorInfo[] = [];
        const sigmoid = tf.getKernel(tf.Sigmoid, 'wasm').kernelFunc;
        try {
          body({
            scratch: (size) => scratch.push(b.makeOutput([size], 'float32')) - 1,
            // The backend's own Sigmoid kernel, called directly as backends call each other's kernels.
            sigmoid: (src) =>
              scratch.push(
                sigmoid({
                  inputs: { x: scratch[src]! },
                  backend: backend as tf.KernelBackend,
                  attrs: {},
                }) as TensorInfo,
              ) - 1,
            views: () => ({
              ins: inputs.map(view),
              outs: outs.map((o) => b.typedArrayFromHeap(o)),
              scratch: scratch.map((t) => b.typedArrayFromHeap(t)),
            }),
          });
        } finally {
          for (const t of scratch) b.disposeData(t.dataId, true);
        }
        return outs;
      },
    };
  }
  const b = backend as CpuLike;
  return {
    views: (tensors) => tensors.map((t) => b.data.get(t.dataId).values as Float32Array),
    run(inputs, outShapes, body) {
      const outVals = outShapes.map((s) => new Float32Array(s.reduce((a, c) => a * c, 1)));
      body(
        inputs.map((t) => (t === undefined ? undefined : (b.data.get(t.dataId).values as Float32Array))),
        outVals,
      );
      return outShapes.map((s, i) => b.makeTensorInfo(s, 'float32', outVals[i]!));
    },
  };
}

/** A kernel body: named inputs (absent optional ones are undefined), attributes, and memory access. */
export type JsKernelBody = (
  inputs: Record<string, TensorInfo | undefined>,
  attrs: Record<string, unknown>,
  memory: KernelMemory,
) => TensorInfo | TensorInfo[];

/** Registers `body` under `name` on every JS-accessible backend (idempotent). */
export function registerJsKernel(name: string, body: JsKernelBody): void {
  for (const backendName of JS_KERNEL_BACKENDS) {
    if (tf.getKernel(name, backendName) !== undefined) continue;
    const kernelFunc: KernelFunc = ({ inputs, attrs, backend }) =>
      body(inputs, attrs as Record<string, unknown>, memoryOf(backendName, backend));
    tf.registerKernel({ kernelName: name, backendName, kernelFunc });
  }
}

/** Whether the active backend runs the toolkit's JS kernel `name`. */
export function hasJsKernel(name: string): boolean {
  return tf.getKernel(name, tf.getBackend()) !== undefined;
}

/**
 * Runs the toolkit kernel `name` on the active backend. Inputs given as null are optional ones left out (the kernel
 * body sees them as undefined); the kernel's outputs come back as 2-D tensors, in order.
 */
export function runJsKernel(
  name: string,
  inputs: Record<string, tf.Tensor | null>,
  attrs: Record<string, number | string>,
): tf.Tensor2D[] {
  const present: tf.NamedTensorMap = {};
  for (const [key, t] of Object.entries(inputs)) if (t !== null) present[key] = t;
  return tf.engine().runKernel<tf.Tensor2D[]>(name, present, attrs);
}
