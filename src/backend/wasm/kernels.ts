// Kernels this toolkit registers on @tensorflow/tfjs-backend-wasm 4.22: one it lacks, eight it has but runs slowly.
//
// - UnsortedSegmentSum is missing, and tf.gather's gradient (the embedding lookup's backward pass) calls it:
//   without it no model with embeddings trains on wasm.
// - Slice, SplitV and Concat copy more than they need to (copyKernels.ts).
// - GatherV2 checks each index through a closure and then gathers element by element; ours copies whole rows for
//   the embedding case (axis 0, no batch dimensions; a memory.copy a row in the SIMD module, copyWithin without it)
//   and hands every other case to the backend's own kernel.
// - ArgMax over the last axis (greedy decoding's pick, once per step over [batch, vocab]) runs at ~4 ns an element
//   in the backend; ours is one vector pass over each row.
// - Transpose runs at ~6 ns an element; ours (a swap of two axis groups, the only kind this toolkit makes) runs in
//   the SIMD module, in 4 × 4 register blocks where the sides allow (1,280 × 1,000: 7.5 → 0.9 ms). A transpose
//   that keeps the layout (the identity, as gradients make several a step, or one moving only axes of size 1)
//   shares its input's buffer where the backend's copies it.
// - Tanh runs std::tanh a float at a time (~15 ns each; attention's tanh(W_c[c; s]) runs every step); ours is
//   2σ(2x) − 1 in the SIMD module, four at a time.
// - Identity copies its input; tfjs runs it for every tensor a gradient keeps (~100 a training step). Tensors are
//   immutable, so ours shares the buffer and counts a reference, as the backend's own Reshape (and the cpu
//   backend's Identity) do.
// Where the toolkit's SIMD module runs (backend/wasm/simdKernels.ts), UnsortedSegmentSum, GatherV2, ArgMax, Transpose
// and Tanh run there; the rest are plain JavaScript over the heap: memory-bound copies of long runs.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { simdKernels, heapOffset, type WasmBackendLike } from './binding.js';
import { concat, slice, splitV } from './copyKernels.js';

type Values = Float32Array | Int32Array | Uint8Array;

/**
 * out[segmentIds[i], ...] += x[i, ...]; ids outside [0, numSegments) are dropped, as in TensorFlow.
 * segmentIds may have any rank; its shape must be a prefix of x's.
 */
export function unsortedSegmentSumValues(
  x: ArrayLike<number>,
  xShape: number[],
  ids: ArrayLike<number>,
  idsShape: number[],
  numSegments: number,
  out: Float32Array | Int32Array,
): void {
  for (let d = 0; d < idsShape.length; d++) {
    if (xShape[d] !== idsShape[d]) {
      throw new Error(`UnsortedSegmentSum: segmentIds shape [${idsShape}] is not a prefix of x shape [${xShape}]`);
    }
  }
  const inner = xShape.slice(idsShape.length).reduce((a, b) => a * b, 1);
  out.fill(0);
  for (let i = 0; i < ids.length; i++) {
    const s = ids[i]!;
    if (s < 0 || s >= numSegments) continue;
    const src = i * inner;
    const dst = s * inner;
    for (let j = 0; j < inner; j++) out[dst + j]! += x[src + j]!;
  }
}

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const b = backend as unknown as WasmBackendLike;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const numSegments = (attrs as { numSegments: number }).numSegments;
  const out = b.makeOutput([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype);
  const simd = simdKernels(backend);
  const idsPrefix = segmentIds.shape.every((d, i) => d === x.shape[i]);
  if (simd !== null && x.dtype === 'float32' && segmentIds.dtype === 'int32' && idsPrefix) {
    const n = tf.util.sizeFromShape(segmentIds.shape);
    const inner = n === 0 ? 0 : tf.util.sizeFromShape(x.shape) / n;
    simd.segmentSum(
      heapOffset(backend, x),
      heapOffset(backend, segmentIds),
      n,
      inner,
      numSegments,
      heapOffset(backend, out),
    );
    return out;
  }
  // Heap views are taken after makeOutput, which may grow (and so move) the heap.
  const outVals = b.typedArrayFromHeap(out) as Float32Array | Int32Array;
  unsortedSegmentSumValues(
    b.typedArrayFromHeap(x),
    x.shape,
    b.typedArrayFromHeap(segmentIds),
    segmentIds.shape,
    numSegments,
    outVals,
  );
  return out;
};

/** Throws GatherV2's error for the first index outside [0, rows). */
function checkRowIndices(indices: ArrayLike<number>, rows: number): void {
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (!(r >= 0 && r < rows)) throw new Error(`GatherV2: the index value ${r} is not in [0, ${rows - 1}]`);
  }
}

/** Gathers whole rows: out[i, :] = x[indices[i], :]. Throws on an index out of range. */
export function gatherRowsValues(
  x: Values,
  rows: number,
  rowSize: number,
  indices: ArrayLike<number>,
  out: Values,
): void {
  checkRowIndices(indices, rows);
  // Where both lie in one buffer (the wasm heap), each row is one copyWithin, which makes no view (sliceValues).
  const bytes = x.BYTES_PER_ELEMENT;
  const heap = x.buffer === out.buffer && bytes === out.BYTES_PER_ELEMENT ? new Uint8Array(x.buffer) : null;
  const rowBytes = rowSize * bytes;
  for (let i = 0; i < indices.length; i++) {
    const r = indices[i]!;
    if (heap === null) out.set(x.subarray(r * rowSize, (r + 1) * rowSize), i * rowSize);
    else heap.copyWithin(out.byteOffset + i * rowBytes, x.byteOffset + r * rowBytes, x.byteOffset + (r + 1) * rowBytes);
  }
}

function gatherV2(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x, indices } = inputs as { x: TensorInfo; indices: TensorInfo };
    const { axis, batchDims } = attrs as { axis: number; batchDims: number };
    if (axis !== 0 || batchDims !== 0 || x.dtype === 'string' || x.shape.length === 0) return fallback(args);
    const b = backend as unknown as WasmBackendLike;
    const rows = x.shape[0]!;
    const rowSize = x.shape.slice(1).reduce((a, c) => a * c, 1);
    const simd = simdKernels(backend);
    if (simd !== null && indices.dtype === 'int32') {
      // Checked before the output is made (a failed gather leaves none behind), then copied by the SIMD module's
      // gatherRows, a memory.copy a row.
      checkRowIndices(b.typedArrayFromHeap(indices), rows);
      const out = b.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
      const at = (t: TensorInfo) => heapOffset(backend, t);
      const n = tf.util.sizeFromShape(indices.shape);
      simd.gatherRows(at(x), rowSize * tf.util.bytesPerElement(x.dtype), at(indices), n, at(out));
      return out;
    }
    const out = b.makeOutput([...indices.shape, ...x.shape.slice(1)], x.dtype);
    gatherRowsValues(b.typedArrayFromHeap(x), rows, rowSize, b.typedArrayFromHeap(indices), b.typedArrayFromHeap(out));
    return out;
  };
}

/** out[r] = the first index of row r's largest value, for `rows` rows of `width` values. */
export function argMaxRowsValues(x: Values, rows: number, width: number, out: Int32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * width;
    let best = 0;
    let bestValue = x[o]!;
    for (let j = 1; j < width; j++) {
      const v = x[o + j]!;
      if (v > bestValue) {
        bestValue = v;
        best = j;
      }
    }
    out[r] = best;
  }
}

function argMax(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: TensorInfo };
    const rank = x.shape.length;
    const axis = tf.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape)[0];
    const width = x.shape[rank - 1] ?? 0;
    if (rank === 0 || axis !== rank - 1 || x.dtype !== 'float32' || width === 0) return fallback(args);
    const b = backend as unknown as WasmBackendLike;
    const out = b.makeOutput(x.shape.slice(0, -1), 'int32');
    const rows = x.shape.slice(0, -1).reduce((a, c) => a * c, 1);
    const simd = simdKernels(backend);
    if (simd === null) {
      argMaxRowsValues(b.typedArrayFromHeap(x), rows, width, b.typedArrayFromHeap(out) as Int32Array);
      return out;
    }
    simd.argMaxRows(heapOffset(backend, x), rows, width, heapOffset(backend, out));
    // Rows holding a NaN come back as −1: those take the JavaScript loop's answer.
    const found = b.typedArrayFromHeap(out) as Int32Array;
    const values = b.typedArrayFromHeap(x);
    for (let r = 0; r < rows; r++)
      if (found[r] === -1)
        argMaxRowsValues(values.subarray(r * width, (r + 1) * width), 1, width, found.subarray(r, r + 1));
    return out;
  };
}

/**
 * A permutation that swaps two adjacent groups of axes behind leading ones and before trailing ones, as
 * [batch, A, B, inner] → [batch, B, A, inner]; null for any other (or for the identity).
 */
export function blockTranspose(
  shape: number[],
  perm: number[],
): { batch: number; A: number; B: number; inner: number } | null {
  const r = shape.length;
  let p = 0;
  while (p < r && perm[p] === p) p++;
  if (p === r) return null;
  let q = r;
  while (q > p && perm[q - 1] === q - 1) q--;
  const k = perm[p]!;
  if (!(k > p && k < q)) return null;
  for (let i = 0; i < q - k; i++) if (perm[p + i] !== k + i) return null;
  for (let i = 0; i < k - p; i++) if (perm[p + (q - k) + i] !== p + i) return null;
  const size = (from: number, to: number) => shape.slice(from, to).reduce((a, c) => a * c, 1);
  return { batch: size(0, p), A: size(p, k), B: size(k, q), inner: size(q, r) };
}

function transpose(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: TensorInfo };
    const perm = (attrs as { perm: number[] }).perm;
    // A permutation that keeps the layout (the identity, or one that moves only axes of size 1): share the buffer,
    // as Identity does. The backend's copies it, and a training step makes several identity transposes ([0, 1] of
    // the embedding and projection gradients).
    if (x.dtype !== 'string' && keepsLayout(x.shape, perm))
      return shareBuffer(
        backend,
        x,
        perm.map((d) => x.shape[d]!),
      );
    const simd = simdKernels(backend);
    const blocks = blockTranspose(x.shape, perm);
    if (simd === null || blocks === null || (x.dtype !== 'float32' && x.dtype !== 'int32')) return fallback(args);
    const out = (backend as unknown as WasmBackendLike).makeOutput(
      perm.map((d) => x.shape[d]!),
      x.dtype,
    );
    if (tf.util.sizeFromShape(x.shape) > 0)
      simd.transpose(heapOffset(backend, x), blocks.batch, blocks.A, blocks.B, blocks.inner, heapOffset(backend, out));
    return out;
  };
}

function tanh(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { backend } = args;
    const { x } = args.inputs as { x: TensorInfo };
    const simd = simdKernels(backend);
    if (simd === null || x.dtype !== 'float32') return fallback(args);
    const b = backend as unknown as WasmBackendLike;
    const out = b.makeOutput(x.shape, 'float32');
    const n = tf.util.sizeFromShape(x.shape);
    const vectors = n - (n % 4);
    if (vectors > 0) simd.tanh(heapOffset(backend, x), vectors, heapOffset(backend, out));
    // The tail (fewer than 4 values) in JavaScript; views after makeOutput, which may have moved the heap.
    if (vectors < n) {
      const xs = b.typedArrayFromHeap(x);
      const ys = b.typedArrayFromHeap(out);
      for (let i = vectors; i < n; i++) ys[i] = Math.tanh(xs[i]!);
    }
    return out;
  };
}

/** Whether transposing by `perm` leaves the values in the same order: the axes of size > 1 keep their order. */
export function keepsLayout(shape: readonly number[], perm: readonly number[]): boolean {
  let last = -1;
  for (const d of perm) {
    if (shape[d] === 1) continue;
    if (d < last) return false;
    last = d;
  }
  return true;
}

/** A tensor of `shape` on x's buffer, which counts one more reference (tensors are immutable). */
function shareBuffer(backend: object, x: TensorInfo, shape: number[]): TensorInfo {
  (backend as { incRef(dataId: object): void }).incRef(x.dataId);
  return { dataId: x.dataId, shape, dtype: x.dtype };
}

function identity(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    return x.dtype === 'string' ? fallback(args) : shareBuffer(args.backend, x, x.shape);
  };
}

/** Registers a kernel, replacing the backend's own if it has one; returns what it replaced. */
export function replaceKernel(
  kernelName: string,
  backendName: string,
  make: (previous: KernelConfig | undefined) => KernelFunc,
): void {
  const previous = tf.getKernel(kernelName, backendName);
  if (previous !== undefined && (previous as { toolkit?: boolean }).toolkit) return; // already ours
  if (previous !== undefined) tf.unregisterKernel(kernelName, backendName);
  const config: KernelConfig & { toolkit: boolean } = {
    kernelName,
    backendName,
    kernelFunc: make(previous),
    toolkit: true,
  };
  if (previous?.setupFunc) config.setupFunc = previous.setupFunc;
  tf.registerKernel(config);
}

/** replaceKernel for a kernel the backend has: `wrap` gets the backend's own, for the cases it hands back. */
function wrapKernel(kernelName: string, wrap: (fallback: KernelFunc) => KernelFunc): void {
  replaceKernel(kernelName, 'wasm', (previous) => {
    if (previous === undefined) throw new Error(`wasm backend has no ${kernelName} kernel to fall back on`);
    return wrap(previous.kernelFunc);
  });
}

/** Registers the wasm kernels above once per process (idempotent). */
export function registerWasmKernels(): void {
  replaceKernel(tf.UnsortedSegmentSum, 'wasm', () => unsortedSegmentSum);
  wrapKernel(tf.Slice, slice);
  wrapKernel(tf.SplitV, splitV);
  wrapKernel(tf.Concat, concat);
  wrapKernel(tf.GatherV2, gatherV2);
  wrapKernel(tf.Identity, identity);
  wrapKernel(tf.Transpose, transpose);
  wrapKernel(tf.ArgMax, argMax);
  wrapKernel(tf.Tanh, tanh);
}
