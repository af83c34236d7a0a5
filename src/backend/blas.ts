// A native BLAS for the wasm backend's matrix products: Debian's OpenBLAS, called through the koffi FFI package.
//
// XNNPACK's wasm GEMM runs at 24–33 GFLOP/s on a machine where OpenBLAS's AVX-512 kernels reach 150 a core, and
// matrix products are most of a training step. The tensors stay where tfjs put them, in the wasm heap: cblas_sgemm
// gets byte addresses inside it (the heap's base address plus each tensor's offset), so nothing is copied. The base
// address is taken again whenever the heap's buffer changes, because growing a non-shared wasm memory may move it.
//
// koffi is loaded with a dynamic import, so that nothing bundled for the browser (src/browser) pulls it in.
import { ToolkitError } from '../errors.js';

/** What a user can ask for: OpenBLAS when present ('auto'), OpenBLAS or an error ('openblas'), or none. */
export type BlasChoice = 'auto' | 'openblas' | 'none';
export const BLAS_CHOICES: readonly BlasChoice[] = ['auto', 'openblas', 'none'];

/** Environment variable that sets the BLAS when no explicit choice is passed. */
export const BLAS_ENV = 'TRANSLATE_BLAS';

/** The Debian package that brings OpenBLAS (the pthread build, which splits a product over threads). */
export const OPENBLAS_PACKAGE = 'libopenblas0-pthread';
export const OPENBLAS_INSTALL_HINT = `apt-get install ${OPENBLAS_PACKAGE}`;

/** Shared-library names tried in order: Debian's soname, then the unversioned link other systems ship. */
const OPENBLAS_LIBRARIES = ['libopenblas.so.0', 'libopenblas.so', 'libopenblas.dylib'];

export class BlasError extends ToolkitError {
  override name = 'BlasError';
}

/** Parses a user's BLAS string (flag or environment), throwing a clear error for an unknown one. */
export function parseBlasChoice(s: string | undefined): BlasChoice {
  if (s === undefined || s === '') return 'auto';
  if (!(BLAS_CHOICES as readonly string[]).includes(s))
    throw new BlasError(`unknown BLAS "${s}": expected one of ${BLAS_CHOICES.join(', ')}`);
  return s as BlasChoice;
}

/** A loaded BLAS: single-precision GEMM on byte addresses, and what it is. */
export interface Blas {
  /** 'OpenBLAS'. */
  name: string;
  /** e.g. '0.3.21', from openblas_get_config. */
  version: string;
  /** The kernel set OpenBLAS picked for this CPU (e.g. 'SkylakeX'). */
  core: string;
  /** Threads OpenBLAS splits a product over (products under singleThreadBelow multiply-adds run on one). */
  threads: number;
  /** Products of fewer multiply-adds run on one thread (BlasOptions.singleThreadBelow). */
  singleThreadBelow: number;
  /**
   * C = A·B (+ C when accumulate), row-major, at byte addresses: C is [M, N]; A is [M, K] ([K, M] when transA);
   * B is [K, N] ([N, K] when transB). One row of A or one column of B (M or N 1, K > 0) runs as cblas_sgemv:
   * cblas_sgemm then packs the whole other operand and runs at a few GFLOP/s (one sentence's decoding step). So do
   * a few rows of A (fewer than GEMV_ROWS, not transA) against a B of GEMV_MIN_SIZE values or more: gemv calls, a
   * row at a time through each panel of B (GEMV_PANEL_VALUES).
   */
  sgemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    a: number,
    b: number,
    c: number,
    accumulate: boolean,
  ): void;
  /**
   * y = op(A)·x (+ y when accumulate), row-major, at byte addresses: A is [rows, cols]; op(A) is A, or Aᵀ when
   * trans; x and y are contiguous vectors (sgemv reads A at memory speed).
   */
  sgemv(trans: boolean, rows: number, cols: number, a: number, x: number, y: number, accumulate: boolean): void;
  /** The address of a buffer's first byte (cached while the buffer is the same object). */
  address(buffer: ArrayBufferLike): number;
}

export interface BlasOptions {
  /** Threads for OpenBLAS; default: its own (one per core, or OPENBLAS_NUM_THREADS). */
  threads?: number;
  /** Library path or name to load instead of the usual ones (tests). */
  library?: string;
  /** Products of fewer multiply-adds run on one thread (default SMALL_PRODUCT; SERVING_SMALL_PRODUCT for a server). */
  singleThreadBelow?: number;
}

type Koffi = (typeof import('koffi'))['default'];

/**
 * Products of fewer multiply-adds run on one thread (BlasOptions.singleThreadBelow's default). A second thread saves
 * a third of a product's time when its worker is running, but the product waits whenever the scheduler has not
 * run the worker yet. On a quiet machine that happens while V8 still compiles on its background thread (the first
 * seconds of a process: with node --no-concurrent-recompilation the waits are gone); once the hot code is compiled,
 * two threads win from a few million multiply-adds. On the 2-core AMD host, interleaved in one process after 4 s of
 * warm-up, limit 16 M → 4.2 M: greedy decoding of the small model (64 × 128 × 1,000 output products, 8.2 M) 12.3 →
 * 10.7 ms a batch of 64, beam 5 (320 × 128 × 384 recurrent products, 15.7 M) 44.8 → 42.6 ms; those products
 * alone (mean) 175 → 133 µs. The 64 × 128 × 384 recurrent step (3.1 M) stays on one thread: 2 M gave nothing clear.
 */
export const SMALL_PRODUCT = 1 << 22;

/**
 * The limit for a server (`translate serve`), whose clients may share its cores: there the waits for a second
 * thread are longer and more frequent whatever the warm-up. The number-words model served to 64 clients on
 * loopback (products of 10.5 M and 15.7 M) answers 1,728–1,760 sentences/s with the limit at 10 M and 2,122–2,157
 * at 16.8 M; it sits below 64 × 256 × 1,000 (16.4 M), which two threads still do faster on a quiet machine.
 */
export const SERVING_SMALL_PRODUCT = 16_000_000;

/**
 * Products of fewer rows of A than this (and a B of at least GEMV_MIN_SIZE values) run as sgemv calls. OpenBLAS's
 * sgemm (Haswell kernels, 0.3.21) packs all of B whatever the rows, and computes fewer than 8 rows in edge kernels:
 * on one thread here, 5 × 256 × 6,565 (one sentence's beam-5 output layer on the Multi30K model) takes 622 µs as
 * one sgemm and 415 µs as five gemv calls (each reads B from cache), 3 rows 695 → 266 µs, 7 rows 832 → 575 µs,
 * 5 × 128 × 1,000 42 → 32 µs, 5 × 512 × 8,000 1,525 → 1,075 µs; from 8 rows sgemm is faster (546 against 674 µs).
 */
export const GEMV_ROWS = 8;

/** The least size of B (K·N values) for GEMV_ROWS: below it a call's own cost is most of the time either way. */
export const GEMV_MIN_SIZE = 1 << 14;

/**
 * Values of B a panel of the few-rows products holds (512 KiB, within a core's L2 here). One gemv a row reads all of
 * B once a row, from L3 or memory when B is larger than L2; a panel at a time, every row of A goes through it while
 * it is in cache. One thread, with B cold in cache (a decoding step's other weights in between): 5 × 512 × 8,000
 * (one sentence's beam-5 output layer on the standard workload) 2,108–2,421 µs as a gemv a row, 1,453–1,671 in
 * panels, 1,856–2,099 as one sgemm; 5 × 256 × 6,565 (the Multi30K-size model) 646–991 → 531–694; 3 × 512 × 8,000
 * 1,135 → 954.
 */
export const GEMV_PANEL_VALUES = 1 << 17;

/** Columns of B (rows when transposed) in a panel of K-long vectors: GEMV_PANEL_VALUES / K, a multiple of 16. */
export function gemvPanelWidth(K: number): number {
  return Math.max(16, Math.floor(GEMV_PANEL_VALUES / K / 16) * 16);
}

const CBLAS_ROW_MAJOR = 101;
const CBLAS_NO_TRANS = 111;
const CBLAS_TRANS = 112;

/** Loads OpenBLAS; throws BlasError naming the apt package when it (or koffi) cannot be loaded. */
export async function loadOpenBlas(options: BlasOptions = {}): Promise<Blas> {
  let koffi: Koffi;
  try {
    koffi = (await import('koffi')).default;
  } catch (e) {
    throw new BlasError(`OpenBLAS cannot be called: the koffi package did not load (${(e as Error).message})`);
  }
  const names = options.library === undefined ? OPENBLAS_LIBRARIES : [options.library];
  let lib: ReturnType<Koffi['load']> | null = null;
  const failures: string[] = [];
  for (const name of names) {
    try {
      lib = koffi.load(name);
      break;
    } catch (e) {
      failures.push((e as Error).message.split('\n')[0]!);
    }
  }
  if (lib === null)
    throw new BlasError(`OpenBLAS not found (${failures.join('; ')}): install it with ${OPENBLAS_INSTALL_HINT}`);
  let config: () => string;
  let corename: () => string;
  let setThreads: (n: number) => void;
  let getThreads: () => number;
  let gemm: (...args: number[]) => void;
  let gemv: (...args: number[]) => void;
  try {
    config = lib.func('const char *openblas_get_config(void)') as () => string;
    corename = lib.func('const char *openblas_get_corename(void)') as () => string;
    setThreads = lib.func('void openblas_set_num_threads(int)') as (n: number) => void;
    getThreads = lib.func('int openblas_get_num_threads(void)') as () => number;
    // Pointers as integers: the heap's base address plus offsets, with no typed-array view made per call.
    gemm = lib.func(
      'void cblas_sgemm(int, int, int, int, int, int, float, uintptr_t, int, uintptr_t, int, float, uintptr_t, int)',
    ) as (...args: number[]) => void;
    gemv = lib.func(
      'void cblas_sgemv(int, int, int, int, float, uintptr_t, int, uintptr_t, int, float, uintptr_t, int)',
    ) as (...args: number[]) => void;
  } catch (e) {
    throw new BlasError(`${names.join(', ')} is not OpenBLAS (${(e as Error).message}): install ${OPENBLAS_PACKAGE}`);
  }
  if (options.threads !== undefined) {
    if (!Number.isInteger(options.threads) || options.threads < 1)
      throw new BlasError(`BLAS threads must be a positive integer, got ${options.threads}`);
    setThreads(options.threads);
  }
  if (options.singleThreadBelow !== undefined && !(options.singleThreadBelow >= 0))
    throw new BlasError(
      `the single-thread limit must be a number of multiply-adds ≥ 0, got ${options.singleThreadBelow}`,
    );
  const version = /OpenBLAS\s+(\S+)/.exec(config())?.[1] ?? 'unknown version';
  const threads = getThreads();
  // Threads for the next call: OpenBLAS's setting is per process, so it is set only when it changes (~0.1 µs).
  let current = threads;
  const below = options.singleThreadBelow ?? SMALL_PRODUCT;
  const useThreads = (multiplyAdds: number) => {
    const want = multiplyAdds < below ? 1 : threads;
    if (want !== current) {
      setThreads(want);
      current = want;
    }
  };
  // y = op(A)·x over a matrix whose rows lie `lda` values apart (a panel of a wider one).
  const gemvStrided = (
    trans: boolean,
    rows: number,
    cols: number,
    lda: number,
    a: number,
    x: number,
    y: number,
    accumulate: boolean,
  ) => {
    useThreads(rows * cols);
    gemv(CBLAS_ROW_MAJOR, trans ? CBLAS_TRANS : CBLAS_NO_TRANS, rows, cols, 1, a, lda, x, 1, accumulate ? 1 : 0, y, 1);
  };
  const sgemv: Blas['sgemv'] = (trans, rows, cols, a, x, y, accumulate) =>
    gemvStrided(trans, rows, cols, cols, a, x, y, accumulate);
  let cachedBuffer: ArrayBufferLike | null = null;
  let cachedAddress = 0;
  return {
    name: 'OpenBLAS',
    version,
    core: corename(),
    threads,
    singleThreadBelow: below,
    sgemm(transA, transB, M, N, K, a, b, c, accumulate) {
      // Each row of A: c_m = op(B)ᵀ·a_m; one row is contiguous whatever transA says, a few are when A is not
      // transposed. One column of B: c = op(A)·b. (With K = 0 sgemm still writes C, zeros or itself, where sgemv
      // returns at once.)
      if (K > 0 && (M === 1 || (!transA && M < GEMV_ROWS && K * N >= GEMV_MIN_SIZE))) {
        // A few rows against a B that each gemv would read from memory again go through B in panels of
        // GEMV_PANEL_VALUES (columns of B, or rows when transB), every row through a panel while it is in cache; one
        // row, or a B whose gemv splits over threads (K·N from the single-thread limit on), takes B whole.
        const width = M > 1 && K * N < below ? gemvPanelWidth(K) : N;
        for (let p = 0; p < N; p += width) {
          const w = Math.min(width, N - p);
          const panel = transB ? b + 4 * p * K : b + 4 * p;
          for (let m = 0; m < M; m++)
            gemvStrided(
              !transB,
              transB ? w : K,
              transB ? K : w,
              transB ? K : N,
              panel,
              a + 4 * m * K,
              c + 4 * (m * N + p),
              accumulate,
            );
        }
        return;
      }
      if (K > 0 && N === 1) return sgemv(transA, transA ? K : M, transA ? M : K, a, b, c, accumulate);
      useThreads(M * N * K);
      gemm(
        CBLAS_ROW_MAJOR,
        transA ? CBLAS_TRANS : CBLAS_NO_TRANS,
        transB ? CBLAS_TRANS : CBLAS_NO_TRANS,
        M,
        N,
        K,
        1,
        a,
        transA ? M : K,
        b,
        transB ? K : N,
        accumulate ? 1 : 0,
        c,
        N,
      );
    },
    sgemv,
    address(buffer) {
      if (buffer !== cachedBuffer) {
        cachedAddress = Number(koffi.address(new Uint8Array(buffer, 0, 0)));
        cachedBuffer = buffer;
      }
      return cachedAddress;
    },
  };
}

/** One line for the backend description: "OpenBLAS 0.3.21 (2 threads)". */
export function describeBlas(blas: Blas): string {
  return `${blas.name} ${blas.version} (${blas.threads === 1 ? '1 thread' : `${blas.threads} threads`})`;
}
