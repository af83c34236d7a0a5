// The OpenBLAS binding (src/backend/blas.ts): choices parse as documented, a library that is not there is a user
// error naming the apt package, and sgemm / sgemv at byte addresses inside an ArrayBuffer and a SharedArrayBuffer
// (the threaded wasm build's heap) give the products of a float64 reference, at every transpose flag.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  loadOpenBlas,
  parseBlasChoice,
  describeBlas,
  BlasError,
  BLAS_CHOICES,
  OPENBLAS_PACKAGE,
  SMALL_PRODUCT,
  SERVING_SMALL_PRODUCT,
  GEMV_ROWS,
  GEMV_MIN_SIZE,
  gemvPanelWidth,
  type Blas,
} from '../../src/backend/blas.js';
import { selectBackend } from '../../src/backend/select.js';
import { ToolkitError } from '../../src/errors.js';
// @ts-expect-error: a plain .mjs build script without type declarations
import { buildWeb } from '../../web/build.mjs';
import { Rng } from '../../src/random.js';

// CI installs OpenBLAS (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing library fails instead of skipping.
const blas: Blas | null = await loadOpenBlas({ threads: 1 }).catch((e: unknown) => {
  if (process.env['REQUIRE_SYSTEM_TOOLS'] === '1') throw e;
  return null;
});

describe('parseBlasChoice', () => {
  it('accepts each documented name, reads absent or empty as auto, and rejects others listing the choices', () => {
    for (const name of ['auto', 'openblas', 'none']) expect(parseBlasChoice(name)).toBe(name);
    expect([...BLAS_CHOICES]).toEqual(['auto', 'openblas', 'none']);
    expect(parseBlasChoice(undefined)).toBe('auto');
    expect(parseBlasChoice('')).toBe('auto');
    expect(() => parseBlasChoice('mkl')).toThrow(BlasError);
    expect(() => parseBlasChoice('mkl')).toThrow('"mkl": expected one of auto, openblas, none');
  });
});

describe('loadOpenBlas', () => {
  it('a library that cannot be loaded is a user error naming the apt package', async () => {
    const attempt = loadOpenBlas({ library: 'libopenblas-not-here.so.0' });
    await expect(attempt).rejects.toBeInstanceOf(ToolkitError);
    await expect(loadOpenBlas({ library: 'libopenblas-not-here.so.0' })).rejects.toThrow(
      `apt-get install ${OPENBLAS_PACKAGE}`,
    );
  });

  it('rejects a thread count that is not a positive integer', async () => {
    await expect(loadOpenBlas({ threads: 0 })).rejects.toThrow('BLAS threads must be a positive integer');
  });

  const ONE_THREAD = { TRANSLATE_WASM_THREADS: '1' };
  it.skipIf(blas === null)(
    'runs products under 2^22 multiply-adds on one thread unless told another limit (a server: 16 M)',
    async () => {
      expect(SMALL_PRODUCT).toBe(4_194_304);
      expect(SERVING_SMALL_PRODUCT).toBeGreaterThan(SMALL_PRODUCT);
      expect((await loadOpenBlas({ threads: 1 })).singleThreadBelow).toBe(SMALL_PRODUCT);
      expect((await loadOpenBlas({ threads: 1, singleThreadBelow: SERVING_SMALL_PRODUCT })).singleThreadBelow).toBe(
        SERVING_SMALL_PRODUCT,
      );
      await expect(loadOpenBlas({ threads: 1, singleThreadBelow: -1 })).rejects.toThrow('single-thread limit');
      const served = await selectBackend('wasm', ONE_THREAD, {
        blas: 'openblas',
        blasSingleThreadBelow: SERVING_SMALL_PRODUCT,
      });
      expect(served.blas!.singleThreadBelow).toBe(SERVING_SMALL_PRODUCT);
      expect((await selectBackend('wasm', ONE_THREAD, { blas: 'openblas' })).blas!.singleThreadBelow).toBe(
        SMALL_PRODUCT,
      );
    },
  );

  it.skipIf(blas === null)('reports its version from openblas_get_config and the threads it was given', async () => {
    expect(blas!.name).toBe('OpenBLAS');
    expect(blas!.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(blas!.threads).toBe(1);
    expect(describeBlas(blas!)).toBe(`OpenBLAS ${blas!.version} (1 thread)`);
    const two = await loadOpenBlas({ threads: 2 });
    expect(two.threads).toBe(2);
    expect(describeBlas(two)).toBe(`OpenBLAS ${two.version} (2 threads)`);
    await loadOpenBlas({ threads: 1 });
  });
});

/** C = op(A)·op(B) in float64 from row-major stores. */
function reference(
  A: Float32Array,
  B: Float32Array,
  M: number,
  N: number,
  K: number,
  tA: boolean,
  tB: boolean,
): Float64Array {
  const C = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += A[tA ? k * M + i : i * K + k]! * B[tB ? j * K + k : k * N + j]!;
      C[i * N + j] = s;
    }
  return C;
}

function expectClose(actual: Float32Array, expected: ArrayLike<number>): void {
  expect(actual.length).toBe(expected.length);
  let scale = 1;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++)
    if (!(Math.abs(actual[i]! - expected[i]!) <= 1e-5 * scale)) expect.fail(`[${i}]: ${actual[i]} vs ${expected[i]}`);
}

/**
 * sgemm of random A [M, K] and B [K, N] at the given float offsets of `heap` into C, at every transpose flag, then
 * again accumulating onto C, against the float64 reference.
 */
function expectEveryFlag(
  b: Blas,
  heap: Float32Array,
  [M, N, K]: readonly [number, number, number],
  [oa, ob, oc]: readonly [number, number, number],
  rng: Rng,
): void {
  const A = heap.subarray(oa, oa + M * K);
  const B = heap.subarray(ob, ob + K * N);
  const C = heap.subarray(oc, oc + M * N);
  for (const x of [A, B]) for (let i = 0; i < x.length; i++) x[i] = rng.next() * 2 - 1;
  const base = b.address(heap.buffer);
  for (const tA of [false, true])
    for (const tB of [false, true]) {
      C.fill(123);
      b.sgemm(tA, tB, M, N, K, base + 4 * oa, base + 4 * ob, base + 4 * oc, false);
      const want = reference(A, B, M, N, K, tA, tB);
      expectClose(C, want);
      b.sgemm(tA, tB, M, N, K, base + 4 * oa, base + 4 * ob, base + 4 * oc, true);
      expectClose(
        C,
        want.map((v) => 2 * v),
      );
    }
}

describe.skipIf(blas === null)('sgemm and sgemv at addresses inside a buffer', () => {
  for (const shared of [false, true]) {
    it(`${shared ? 'SharedArrayBuffer' : 'ArrayBuffer'}: every transpose flag, operands at offsets, accumulate adds onto C`, () => {
      const b = blas!;
      const rng = new Rng(shared ? 2 : 1);
      const [M, N, K] = [5, 7, 3];
      const buffer = shared ? new SharedArrayBuffer(4096) : new ArrayBuffer(4096);
      const heap = new Float32Array(buffer);
      // Operands at offsets that are not multiples of a cache line: the addresses are the base plus bytes.
      const oa = 3;
      const A = heap.subarray(oa, oa + M * K);
      const base = b.address(buffer);
      expectEveryFlag(b, heap, [M, N, K], [oa, 101, 211], rng);
      // sgemv: y = A·x and y = Aᵀ·x with A [M, K].
      const x = heap.subarray(400, 400 + Math.max(M, K));
      for (let i = 0; i < x.length; i++) x[i] = rng.next() - 0.5;
      const y = heap.subarray(500, 500 + Math.max(M, K));
      b.sgemv(false, M, K, base + 4 * oa, base + 4 * 400, base + 4 * 500, false);
      expectClose(y.subarray(0, M), reference(A, x, M, 1, K, false, false));
      b.sgemv(true, M, K, base + 4 * oa, base + 4 * 400, base + 4 * 500, false);
      expectClose(y.subarray(0, K), reference(A, x, K, 1, M, true, false));
    });
  }

  it('sgemm of one row or one column (a gemv inside) at every flag, accumulating; with K = 0 it writes C', () => {
    const b = blas!;
    const rng = new Rng(6);
    const buffer = new ArrayBuffer(8192);
    const heap = new Float32Array(buffer);
    const base = b.address(buffer);
    for (const sizes of [
      [1, 9, 6],
      [7, 1, 5],
      [1, 1, 4],
    ] as const)
      expectEveryFlag(b, heap, sizes, [5, 307, 613], rng);
    const C = heap.subarray(1000, 1007).fill(5);
    b.sgemm(false, false, 1, 7, 0, base, base, base + 4 * 1000, false);
    expect(Array.from(C)).toEqual(Array(7).fill(0));
  });

  it('sgemm of a few rows against a large B (gemv calls by panels of B inside) at every flag, accumulating', () => {
    const b = blas!;
    const rng = new Rng(8);
    const heap = new Float32Array(new ArrayBuffer(4 * 450_000));
    // K·N at GEMV_MIN_SIZE and above, rows 2 to GEMV_ROWS − 1 (gemv calls), GEMV_ROWS (sgemm), and transA (sgemm);
    // B of one panel, of several with a partial last one (K 256: 512 columns a panel; K 2,048: 64), and of exactly two.
    expect([gemvPanelWidth(256), gemvPanelWidth(512), gemvPanelWidth(2048), gemvPanelWidth(1 << 20)]).toEqual([
      512, 256, 64, 16,
    ]);
    for (const [M, N, K] of [
      [2, 130, 128],
      [5, 1000, 20],
      [GEMV_ROWS - 1, 64, GEMV_MIN_SIZE / 64],
      [GEMV_ROWS, 300, 60],
      [5, 1300, 256],
      [3, 200, 2048],
      [2, 1024, 256],
    ] as const) {
      expect(K * N).toBeGreaterThanOrEqual(GEMV_MIN_SIZE);
      const ob = 3 + M * K + 5;
      expectEveryFlag(b, heap, [M, N, K], [3, ob, ob + K * N + 7], rng);
    }
  });

  it('address is the buffer start, cached per buffer object and taken again for a new one', () => {
    const b = blas!;
    const one = new ArrayBuffer(64);
    const two = new ArrayBuffer(64);
    expect(b.address(one)).toBe(b.address(one));
    expect(b.address(two)).not.toBe(b.address(one));
    // A product written at the second buffer's address lands in the second buffer.
    const h = new Float32Array(two);
    h.set([1, 2, 3, 4]);
    b.sgemm(false, false, 1, 1, 2, b.address(two), b.address(two) + 8, b.address(two) + 16, false);
    expect(h[4]).toBe(1 * 3 + 2 * 4);
  });
});

describe('the browser bundle', () => {
  it('does not pull in koffi or the BLAS binding', async () => {
    const out: string = await buildWeb(join(mkdtempSync(join(tmpdir(), 'web-')), 'translate.js'));
    const text = readFileSync(out, 'utf8');
    expect(text.length).toBeGreaterThan(10_000);
    expect(text).not.toMatch(/koffi|cblas_sgemm|openblas/i);
  });
});
