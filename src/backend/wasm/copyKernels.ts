// The wasm backend's copying kernels, done with fewer copies (registered by kernels.ts):
// - Slice copies the *whole* input out of the wasm heap (readSync) before taking its part: slicing one time step
//   out of a [time*batch, units] tensor costs as much as copying all of it. Ours reads the heap where the input lies
//   and copies each contiguous run with copyWithin, which makes no view.
// - SplitV is the backend's own Slice, once per part; ours is the slice above.
// - Concat makes a view for every contiguous run of every input (2,560 to join two [64, 20, 128] tensors on their
//   last axis, as attention's [c; s] does every training step); ours copies each run with copyWithin. Joining those
//   two: 0.63 → 0.16 ms; splitting the gradient back: 1.23 → 0.25 ms.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { heapOffset, type WasmBackendLike } from './binding.js';

type Values = Float32Array | Int32Array | Uint8Array;

/**
 * Copies the box [begin, begin+size) of a row-major array of shape `shape` into `out`. Where both lie in one buffer
 * (the wasm heap), each innermost run is one copyWithin, which makes no view: a subarray per run costs more than its
 * copy when runs are short (a [64, 20, 256] tensor split in halves along its last axis is 2,560 runs).
 */
export function sliceValues(x: Values, shape: number[], begin: number[], size: number[], out: Values): void {
  const rank = shape.length;
  const strides = new Array<number>(rank).fill(1);
  for (let d = rank - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  const run = size[rank - 1] ?? 1;
  const outer = size.slice(0, rank - 1);
  const count = outer.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(rank - 1).fill(0);
  const bytes = x.BYTES_PER_ELEMENT;
  const heap = x.buffer === out.buffer && bytes === out.BYTES_PER_ELEMENT ? new Uint8Array(x.buffer) : null;
  for (let k = 0; k < count; k++) {
    let src = begin[rank - 1] ?? 0;
    for (let d = 0; d < rank - 1; d++) src += (begin[d]! + idx[d]!) * strides[d]!;
    if (heap === null) out.set(x.subarray(src, src + run), k * run);
    else {
      const from = x.byteOffset + src * bytes;
      heap.copyWithin(out.byteOffset + k * run * bytes, from, from + run * bytes);
    }
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < outer[d]!) break;
      idx[d] = 0;
    }
  }
}

/** Slice of a tensor on the heap (any dtype but string). */
const sliceOnHeap: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x } = inputs as { x: TensorInfo };
  const b = backend as unknown as WasmBackendLike;
  const [begin, size] = tf.slice_util.parseSliceParams(
    x,
    (attrs as { begin: number[] }).begin,
    (attrs as { size: number[] }).size,
  ) as [number[], number[]];
  const out = b.makeOutput(size, x.dtype);
  if (size.some((s) => s === 0)) return out;
  const outVals = b.typedArrayFromHeap(out);
  if (x.shape.length === 0) outVals.set(b.typedArrayFromHeap(x));
  else sliceValues(b.typedArrayFromHeap(x), x.shape, begin, size, outVals);
  return out;
};

export function slice(fallback: KernelFunc): KernelFunc {
  // Strings do not live on the heap.
  return (args) => ((args.inputs as { x: TensorInfo }).x.dtype === 'string' ? fallback(args) : sliceOnHeap(args));
}

/** SplitV as slices (the backend's calls its own Slice, which copies the whole input out of the heap for each part). */
export function splitV(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    if (x.dtype === 'string') return fallback(args);
    const { numOrSizeSplits, axis } = args.attrs as { numOrSizeSplits: number | number[]; axis: number };
    const a = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, a);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((s) => {
      const size = [...x.shape];
      size[a] = s;
      const part = sliceOnHeap({ ...args, attrs: { begin: [...begin], size } }) as TensorInfo;
      begin[a]! += s;
      return part;
    });
  };
}

/**
 * Concat with one copyWithin per input and outer index (the backend's makes a subarray for each: concatenating two
 * [64, 20, 128] tensors on their last axis made 2,560 of them).
 */
export function concat(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const inputs = args.inputs as unknown as TensorInfo[];
    // Bytes are copied as they are: inputs of another dtype than the first (the output's) go to the backend's, which
    // converts values.
    const dtype = inputs[0]?.dtype;
    if (dtype === undefined || dtype === 'string' || inputs.some((t) => t.dtype !== dtype)) return fallback(args);
    const shapes = inputs.map((t) => t.shape);
    const a = tf.util.parseAxisParam((args.attrs as { axis: number }).axis, shapes[0]!)[0]!;
    tf.backend_util.assertParamsConsistent(shapes, a);
    const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if (parts.length <= 1) return fallback(args);
    const b = args.backend as unknown as WasmBackendLike;
    const out = b.makeOutput(tf.backend_util.computeOutShape(shapes, a), dtype);
    // Offsets and views after makeOutput, which may grow (and so move) the heap.
    const view = b.typedArrayFromHeap(out);
    const heap = new Uint8Array(view.buffer);
    const bytes = view.BYTES_PER_ELEMENT;
    const outer = tf.util.sizeFromShape(parts[0]!.shape.slice(0, a));
    const inner = parts.map((t) => bytes * tf.util.sizeFromShape(t.shape.slice(a)));
    const from = parts.map((t) => heapOffset(args.backend, t));
    let to = heapOffset(args.backend, out);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < parts.length; i++) {
        const start = from[i]! + o * inner[i]!;
        heap.copyWithin(to, start, start + inner[i]!);
        to += inner[i]!;
      }
    return out;
  };
}
