// The wasm backend's matrix-product kernels (BatchMatMul, _FusedMatMul) on a native BLAS (backend/blas.ts).
//
// Every product the toolkit makes goes through tf.matMul or tf.fused.matMul, so replacing these two kernels moves
// all of them: dense layers and their gradients, the recurrent h·U and ∂U, attention's scores and contexts.
// Transposed operands become CblasTrans flags (no copy), broadcast batch dimensions become one sgemm a batch
// on the right offsets, and the fused kernel's bias is written into C first and accumulated onto (beta = 1), so
// it costs a row copy instead of a pass over the output. The backend's own kernel stays the fallback: for other
// dtypes, for activations done here in no loop (prelu), for biases that are not a row, and whenever no BLAS is in
// use (`--blas none`), which the backend object remembers, so one process can switch between both paths.
import * as tf from '@tensorflow/tfjs-core';
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import type { Blas } from './blas.js';
import { replaceKernel } from './wasm/kernels.js';
import type { WasmBackendLike } from './wasm/binding.js';

/** The wasm backend's internals these kernels read: each tensor's place in the heap, and the heap. */
interface WasmBackendInternals extends WasmBackendLike {
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  wasm: { HEAPU8: Uint8Array };
}

/** The BLAS a wasm backend's products run on; remembered on the backend object (null: the backend's own). */
const BLAS = Symbol('seq2seq-ts blas');
type WithBlas = { [BLAS]?: Blas | null };

/** Makes `backend` (the wasm backend) run its products on `blas`, or on its own kernels when null. */
export function useBlas(backend: tf.KernelBackend, blas: Blas | null): void {
  (backend as unknown as WithBlas)[BLAS] = blas;
}

/** The BLAS the backend's products run on, or null. */
export function blasInUse(backend: object): Blas | null {
  return (backend as WithBlas)[BLAS] ?? null;
}

/** Where the pieces of a (batched, broadcast) product lie: sizes and, per output batch, the operands' batches. */
export interface ProductPlan {
  M: number;
  N: number;
  K: number;
  outShape: number[];
  /** For each output batch b, the batch of a and of b it multiplies. */
  aBatch: Int32Array;
  bBatch: Int32Array;
}

/**
 * The shape of a·b under tfjs's matMul rules (last two axes multiplied, leading axes broadcast), and which batch
 * of each operand every output batch takes. Throws as tfjs does when the inner sizes differ.
 */
export function productPlan(aShape: number[], bShape: number[], transposeA: boolean, transposeB: boolean): ProductPlan {
  const ar = aShape.length;
  const br = bShape.length;
  const M = transposeA ? aShape[ar - 1]! : aShape[ar - 2]!;
  const Ka = transposeA ? aShape[ar - 2]! : aShape[ar - 1]!;
  const Kb = transposeB ? bShape[br - 1]! : bShape[br - 2]!;
  const N = transposeB ? bShape[br - 2]! : bShape[br - 1]!;
  if (Ka !== Kb) {
    throw new Error(
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${aShape} and ${bShape} ` +
        `and transposeA=${transposeA} and transposeB=${transposeB} must match.`,
    );
  }
  const aOuter = aShape.slice(0, -2);
  const bOuter = bShape.slice(0, -2);
  const outOuter = tf.broadcast_util.assertAndGetBroadcastShape(aOuter, bOuter);
  const batches = tf.util.sizeFromShape(outOuter);
  return {
    M,
    N,
    K: Ka,
    outShape: [...outOuter, M, N],
    aBatch: broadcastIndex(outOuter, aOuter, batches),
    bBatch: broadcastIndex(outOuter, bOuter, batches),
  };
}

/** For each flat index of `outShape`, the flat index of `inShape` (right-aligned, size-1 axes repeated). */
function broadcastIndex(outShape: number[], inShape: number[], size: number): Int32Array {
  const index = new Int32Array(size);
  const shift = outShape.length - inShape.length;
  for (let i = 0; i < size; i++) {
    let rest = i;
    let flat = 0;
    let stride = 1;
    for (let d = outShape.length - 1; d >= 0; d--) {
      const coord = rest % outShape[d]!;
      rest = Math.floor(rest / outShape[d]!);
      const di = d - shift;
      if (di < 0) continue;
      const n = inShape[di]!;
      flat += (n === 1 ? 0 : coord) * stride;
      stride *= n;
    }
    index[i] = flat;
  }
  return index;
}

/** C[b] (+)= A[aBatch[b]]·B[bBatch[b]] for every output batch, at the tensors' places in the heap. */
function runProduct(
  blas: Blas,
  backend: WasmBackendInternals,
  a: TensorInfo,
  b: TensorInfo,
  out: TensorInfo,
  plan: ProductPlan,
  transposeA: boolean,
  transposeB: boolean,
  accumulate: boolean,
): void {
  const { M, N, K } = plan;
  if (M === 0 || N === 0) return;
  // Addresses are taken here, after makeOutput: allocating the output may have grown (and moved) the heap.
  const base = blas.address(backend.wasm.HEAPU8.buffer);
  const at = (t: TensorInfo) => base + backend.dataIdMap.get(t.dataId)!.memoryOffset;
  const pa = at(a);
  const pb = at(b);
  const pc = at(out);
  if (K === 0) {
    if (!accumulate) (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
    return;
  }
  const sa = 4 * M * K;
  const sb = 4 * K * N;
  const sc = 4 * M * N;
  for (let i = 0; i < plan.aBatch.length; i++) {
    const ai = pa + sa * plan.aBatch[i]!;
    const bi = pb + sb * plan.bBatch[i]!;
    const ci = pc + sc * i;
    blas.sgemm(transposeA, transposeB, M, N, K, ai, bi, ci, accumulate);
  }
}

function batchMatMul(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const blas = blasInUse(args.backend);
    const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
    if (blas === null || a.dtype !== 'float32' || b.dtype !== 'float32') return fallback(args);
    const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
    const backend = args.backend as unknown as WasmBackendInternals;
    const plan = productPlan(a.shape, b.shape, transposeA, transposeB);
    const out = backend.makeOutput(plan.outShape, 'float32');
    runProduct(blas, backend, a, b, out, plan, transposeA, transposeB, false);
    return out;
  };
}

/** Activations the fused kernel applies here, in place over the output. */
const ACTIVATIONS: Record<string, ((y: Float32Array, alpha: number) => void) | null> = {
  linear: null,
  relu: (y) => {
    for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = 0;
  },
  relu6: (y) => {
    for (let i = 0; i < y.length; i++) y[i] = Math.min(Math.max(y[i]!, 0), 6);
  },
  sigmoid: (y) => {
    for (let i = 0; i < y.length; i++) y[i] = 1 / (1 + Math.exp(-y[i]!));
  },
  leakyrelu: (y, alpha) => {
    for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = alpha * y[i]!;
  },
  elu: (y) => {
    for (let i = 0; i < y.length; i++) if (y[i]! < 0) y[i] = Math.exp(y[i]!) - 1;
  },
};

/** Fills every N-wide row of `y` with `row` by doubling copies (log2(rows) calls). */
function fillRows(y: Float32Array, row: Float32Array): void {
  if (y.length === 0) return;
  y.set(row, 0);
  for (let filled = row.length; filled < y.length; filled *= 2)
    y.copyWithin(filled, 0, Math.min(filled, y.length - filled));
}

function fusedMatMul(fallback: KernelFunc): KernelFunc {
  return (args) => {
    const blas = blasInUse(args.backend);
    const { a, b, bias, preluActivationWeights } = args.inputs as {
      a: TensorInfo;
      b: TensorInfo;
      bias?: TensorInfo;
      preluActivationWeights?: TensorInfo;
    };
    const { transposeA, transposeB, activation, leakyreluAlpha } = args.attrs as {
      transposeA: boolean;
      transposeB: boolean;
      activation: string;
      leakyreluAlpha?: number;
    };
    const act = ACTIVATIONS[activation];
    if (
      blas === null ||
      a.dtype !== 'float32' ||
      b.dtype !== 'float32' ||
      act === undefined ||
      preluActivationWeights != null
    )
      return fallback(args);
    const plan = productPlan(a.shape, b.shape, transposeA, transposeB);
    // A bias the size of one output row (or one value), added to every row; any other broadcast goes to the backend.
    const biasSize = bias == null ? 0 : tf.util.sizeFromShape(bias.shape);
    if (
      bias != null &&
      (bias.dtype !== 'float32' ||
        !(biasSize === plan.N || biasSize === 1) ||
        bias.shape.slice(0, -1).some((d) => d !== 1))
    )
      return fallback(args);
    const backend = args.backend as unknown as WasmBackendInternals;
    const out = backend.makeOutput(plan.outShape, 'float32');
    if (bias != null) {
      const row = backend.typedArrayFromHeap(bias) as Float32Array;
      fillRows(
        backend.typedArrayFromHeap(out) as Float32Array,
        biasSize === plan.N ? row : new Float32Array(plan.N).fill(row[0]!),
      );
    }
    runProduct(blas, backend, a, b, out, plan, transposeA, transposeB, bias != null);
    if (act !== null) act(backend.typedArrayFromHeap(out) as Float32Array, leakyreluAlpha ?? 0.2);
    return out;
  };
}

/** Wraps the wasm backend's BatchMatMul and _FusedMatMul once per process (idempotent); useBlas switches them. */
export function registerBlasKernels(): void {
  for (const [name, wrap] of [
    [tf.BatchMatMul, batchMatMul],
    [tf._FusedMatMul, fusedMatMul],
  ] as const) {
    replaceKernel(name, 'wasm', (previous) => {
      if (previous === undefined) throw new Error(`wasm backend has no ${name} kernel to fall back on`);
      return wrap(previous.kernelFunc);
    });
  }
}
