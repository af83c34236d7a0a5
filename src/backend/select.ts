// Picks the fastest TensorFlow.js backend installed, at run time.
//
// Order: @tensorflow/tfjs-node-gpu ('tensorflow' on CUDA), @tensorflow/tfjs-node ('tensorflow' on CPU),
// @tensorflow/tfjs-backend-wasm ('wasm'), then the pure-JS 'cpu' backend. The native packages are optional peer
// dependencies: `npm install` never downloads libtensorflow; a user opts in with one `npm install` of their own.
// On wasm, matrix products run on OpenBLAS when it is installed (backend/blas.ts, backend/blasKernels.ts).
import { ToolkitError } from '../errors.js';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { registerWasmKernels } from './wasm/kernels.js';
import { registerThreadedWasm } from './wasm/threads.js';
import {
  loadOpenBlas,
  parseBlasChoice,
  describeBlas,
  BLAS_ENV,
  OPENBLAS_INSTALL_HINT,
  type Blas,
  type BlasChoice,
} from './blas.js';
import { registerBlasKernels, useBlas } from './blasKernels.js';
import { availableParallelism } from 'node:os';

/** What a user can ask for: a concrete backend, or 'auto' for the best one installed. */
export type BackendChoice = 'auto' | 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

/** Environment variable that forces a backend when no explicit choice is passed. */
export const BACKEND_ENV = 'TRANSLATE_BACKEND';

/** Environment variable that sets the wasm backend's thread count when no explicit count is passed. */
export const WASM_THREADS_ENV = 'TRANSLATE_WASM_THREADS';

/** The most threads the wasm backend's pool takes (its own cap). */
export const MAX_WASM_THREADS = 8;

export interface BackendOptions {
  /**
   * Threads for the wasm backend's matrix products (XNNPACK's pool). Default: the TRANSLATE_WASM_THREADS
   * environment variable, else one per core the process may use, at most 8. 1 starts the single-threaded build.
   */
  wasmThreads?: number;
  /**
   * The native BLAS for the wasm backend's matrix products: 'auto' (OpenBLAS when installed), 'openblas' (an
   * error when it cannot load) or 'none'. Default: the TRANSLATE_BLAS environment variable, else 'auto'. With a
   * BLAS, the thread count goes to it and the wasm build starts single-threaded (see WASM_THREADS_WITH_BLAS).
   * Other backends keep their own kernels.
   */
  blas?: BlasChoice;
  /** The BLAS library file to load instead of Debian's libopenblas.so.0 (another OpenBLAS build, or tests). */
  blasLibrary?: string;
  /** BLAS products of fewer multiply-adds run on one thread (default SMALL_PRODUCT; a server's is larger). */
  blasSingleThreadBelow?: number;
  /**
   * Register tfjs's gradients, which training needs (default true). Decoding alone can skip them: they come with
   * the union package @tensorflow/tfjs, whose Node build also loads tfjs-layers, -converter, -data and -webgl,
   * ~0.2 s and ~20 MiB of a command's start-up (`translate translate`, `eval`, `serve` pass false).
   */
  gradients?: boolean;
}

/**
 * The wasm build's threads when a BLAS runs the products. Measured on 2 cores (README, "Native BLAS"): what is left
 * on the wasm side is element-wise work too small to split well, and a second pool of spinning threads beside
 * OpenBLAS's slows both, so the single-threaded build wins.
 */
export const WASM_THREADS_WITH_BLAS = 1;

export interface BackendInfo {
  /** The choice that won: 'tensorflow-gpu', 'tensorflow', 'wasm' or 'cpu'. */
  choice: Exclude<BackendChoice, 'auto'>;
  /** tfjs's own name for the active backend. */
  tfName: string;
  /** Human-readable line for the CLI, e.g. "wasm (SIMD, 1 thread)". */
  description: string;
  /** Backends tried before this one and why each was skipped. */
  skipped: string[];
  /** The native BLAS the wasm backend's products run on, or null. */
  blas: Blas | null;
  /** A one-line suggestion for the user (e.g. how to get the faster native BLAS), or null. */
  hint: string | null;
}

export class BackendError extends ToolkitError {
  override name = 'BackendError';
}

const NATIVE_PACKAGES = {
  'tensorflow-gpu': '@tensorflow/tfjs-node-gpu',
  tensorflow: '@tensorflow/tfjs-node',
} as const;

export const INSTALL_HINT: Record<'tensorflow-gpu' | 'tensorflow', string> = {
  'tensorflow-gpu': 'npm install @tensorflow/tfjs-node-gpu@4.22.0',
  tensorflow: 'npm install @tensorflow/tfjs-node@4.22.0',
};

function isBackendChoice(s: string): s is BackendChoice {
  return (BACKEND_CHOICES as readonly string[]).includes(s);
}

/** Parses a user's backend string (flag or environment), throwing a clear error for an unknown one. */
export function parseBackendChoice(s: string | undefined): BackendChoice {
  if (s === undefined || s === '') return 'auto';
  if (!isBackendChoice(s))
    throw new BackendError(`unknown backend "${s}": expected one of ${BACKEND_CHOICES.join(', ')}`);
  return s;
}

async function tryNative(which: 'tensorflow-gpu' | 'tensorflow'): Promise<string | null> {
  try {
    // A variable specifier keeps TypeScript and bundlers from requiring the optional package at build time.
    const pkg: string = NATIVE_PACKAGES[which];
    await import(pkg);
  } catch (e) {
    return `${NATIVE_PACKAGES[which]} not installed (${INSTALL_HINT[which]})`;
  }
  if (!(await tf.setBackend('tensorflow'))) return `${NATIVE_PACKAGES[which]} failed to initialise`;
  return null;
}

/** Parses a thread count from a flag or the environment; undefined or '' means the default. */
export function parseWasmThreads(s: string | undefined, what = 'wasm threads'): number | undefined {
  if (s === undefined || s === '') return undefined;
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) throw new BackendError(`${what} must be a positive integer, got "${s}"`);
  return n;
}

/** The thread count to start wasm with: the option, else the environment, else one per core (at most 8). */
export function wasmThreadCount(options: BackendOptions, env: NodeJS.ProcessEnv): number {
  const n = options.wasmThreads ?? parseWasmThreads(env[WASM_THREADS_ENV], WASM_THREADS_ENV) ?? availableParallelism();
  if (!Number.isInteger(n) || n < 1) throw new BackendError(`wasm threads must be a positive integer, got ${n}`);
  return Math.min(n, MAX_WASM_THREADS);
}

/** tfjs's registry is per process: the threaded build, once started, is remembered on its backend object. */
const THREADS = Symbol('seq2seq-ts wasm threads');

/** The BLAS for wasm's products: loaded, or null with a hint for 'auto'; a forced one that cannot load throws. */
async function startBlas(
  choice: BlasChoice,
  threads: number,
  options: BackendOptions,
): Promise<{ blas: Blas | null; hint: string | null }> {
  if (choice === 'none') return { blas: null, hint: null };
  const { blasLibrary: library, blasSingleThreadBelow: below } = options;
  try {
    const blas = await loadOpenBlas({
      threads,
      ...(library === undefined ? {} : { library }),
      ...(below === undefined ? {} : { singleThreadBelow: below }),
    });
    return { blas, hint: null };
  } catch (e) {
    if (choice === 'openblas') throw e;
    return {
      blas: null,
      hint: `hint: matrix products run several times faster on OpenBLAS (${OPENBLAS_INSTALL_HINT})`,
    };
  }
}

async function tryWasm(threads: number): Promise<string | null> {
  try {
    await import('@tensorflow/tfjs-backend-wasm');
  } catch (e) {
    return `@tensorflow/tfjs-backend-wasm not loadable: ${(e as Error).message}`;
  }
  const current = tf.findBackend('wasm') as (tf.KernelBackend & { [THREADS]?: number }) | null;
  // The pool cannot be resized: a process keeps the wasm build it started first with threads.
  if (threads > 1 && current?.[THREADS] === undefined) {
    try {
      await registerThreadedWasm(threads);
      const backend = tf.findBackend('wasm') as tf.KernelBackend & { [THREADS]?: number };
      backend[THREADS] = threads;
    } catch (e) {
      return `threaded wasm failed to start (${(e as Error).message}); set ${WASM_THREADS_ENV}=1 for the single-threaded build`;
    }
  }
  if (!(await tf.setBackend('wasm'))) return 'wasm backend failed to initialise';
  return null;
}

/**
 * Activates a backend and registers the kernels this toolkit adds to it. `choice` falls back to the
 * TRANSLATE_BACKEND environment variable, then 'auto'. A forced backend that cannot start is an error,
 * never a silent fallback.
 */
export async function selectBackend(
  choice?: BackendChoice,
  env: NodeJS.ProcessEnv = process.env,
  options: BackendOptions = {},
): Promise<BackendInfo> {
  const wanted = choice ?? parseBackendChoice(env[BACKEND_ENV]);
  const order: Exclude<BackendChoice, 'auto'>[] =
    wanted === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [wanted];
  const blasChoice = options.blas ?? parseBlasChoice(env[BLAS_ENV]);
  // tfjs-core's Node build registers no gradients; the union package's Node build (which tfjs-node also uses) does.
  if (options.gradients !== false) await import('@tensorflow/tfjs');
  const skipped: string[] = [];
  for (const candidate of order) {
    let why: string | null;
    let blas: { blas: Blas | null; hint: string | null } = { blas: null, hint: null };
    if (candidate === 'tensorflow-gpu' || candidate === 'tensorflow') why = await tryNative(candidate);
    else if (candidate === 'wasm') {
      const threads = wasmThreadCount(options, env);
      blas = await startBlas(blasChoice, threads, options);
      why = await tryWasm(blas.blas === null ? threads : WASM_THREADS_WITH_BLAS);
    } else why = (await tf.setBackend('cpu')) ? null : 'cpu backend failed to initialise';
    if (why !== null) {
      if (wanted !== 'auto') throw new BackendError(`backend "${candidate}" unavailable: ${why}`);
      skipped.push(why);
      continue;
    }
    await tf.ready();
    if (candidate === 'wasm') {
      registerWasmKernels();
      registerBlasKernels();
      useBlas(tf.backend(), blas.blas);
    }
    const description = await describe(candidate);
    return {
      choice: candidate,
      tfName: tf.getBackend(),
      description: blas.blas === null ? description : `${description} + ${describeBlas(blas.blas)}`,
      skipped,
      blas: blas.blas,
      hint: blas.hint,
    };
  }
  throw new BackendError(`no TensorFlow.js backend could start: ${skipped.join('; ')}`);
}

async function describe(choice: Exclude<BackendChoice, 'auto'>): Promise<string> {
  if (choice === 'wasm') {
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = wasmThreadsRunning();
    return `wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads === 1 ? '1 thread' : `${threads} threads`})`;
  }
  if (choice === 'cpu') return 'cpu (pure JavaScript: far too slow to train on; install a faster backend)';
  return choice === 'tensorflow-gpu' ? 'tensorflow-gpu (libtensorflow with CUDA)' : 'tensorflow (libtensorflow on CPU)';
}

/** Threads in the active wasm backend's pool (1 for the single-threaded build). */
export function wasmThreadsRunning(): number {
  const backend = tf.findBackend('wasm') as
    (tf.KernelBackend & { [THREADS]?: number; wasm?: { tfjs?: { getThreadsCount?: () => number } } }) | null;
  if (backend?.[THREADS] === undefined) return 1;
  return backend.wasm?.tfjs?.getThreadsCount?.() ?? 1;
}
