// The wasm backend with threads, in Node.
//
// @tensorflow/tfjs-backend-wasm ships a threaded SIMD build (XNNPACK on a pthreadpool of emscripten workers) but
// never uses it in Node: its feature probe answers "no threads" there (tfjs issue 3830), because its loader hands
// the pthread workers a Blob URL, which Node's worker_threads cannot start. Matrix products are most of a training
// step, and XNNPACK splits them over the pool's threads, so on a machine with more than one core this is the
// biggest single speed-up the wasm path has.
//
// This module starts that build itself and registers it under the backend name 'wasm', so every kernel the
// package registers (and the ones this toolkit adds) runs on it unchanged:
// - the pthread workers get a small ES-module worker (a data: URL, so nothing is written to disk) that gives the
//   emscripten worker script the CommonJS globals it expects, then evaluates it;
// - the wasm is instantiated here, so the `emscripten_num_logical_cores` import can answer for the thread count
//   asked for: the backend sizes its pool as min(asked, logical cores / 2, 8) — it assumes hyper-threads — and
//   would give a 2-core machine one thread;
// - the workers are unref'd once started, so they never keep a finished process alive.
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';

/** The emscripten module object of the threaded build, as far as this file touches it. */
interface ThreadedModule {
  cwrap(name: string, ret: string | null, args: string[]): (...args: number[]) => number;
  PThread: { runningWorkers: WorkerLike[]; unusedWorkers: WorkerLike[] };
  tfjs?: Record<string, unknown>;
}
interface WorkerLike {
  unref(): void;
}
type Factory = (config: Record<string, unknown>) => Promise<ThreadedModule>;

interface WasmPackage {
  BackendWasm: new (module: unknown) => tf.KernelBackend;
  setThreadsCount(n: number): void;
}

const WASM_PRIORITY = 2;

/** Where the package keeps its emscripten outputs. */
function wasmOutDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '..', 'wasm-out');
}

/** The pthread worker: CommonJS globals for emscripten's worker script, then the script itself. */
function pthreadWorkerUrl(dir: string): URL {
  const workerScript = join(dir, 'tfjs-backend-wasm-threaded-simd.worker.js');
  const source = [
    `import { createRequire } from 'node:module';`,
    `const require = createRequire(${JSON.stringify(workerScript)});`,
    `globalThis.require = require;`,
    `globalThis.__filename = ${JSON.stringify(workerScript)};`,
    // The package keeps the script as a template string whose "\n" escapes became newlines; its own loader
    // escapes them back the same way before use.
    `const { wasmWorkerContents } = require(${JSON.stringify(workerScript)});`,
    `(0, eval)(wasmWorkerContents.replace(/\\n/g, '\\\\n'));`,
  ].join('\n');
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/**
 * Starts the threaded SIMD build with `threads` threads and registers it as the 'wasm' backend (replacing the
 * package's registration, which would start the single-threaded build), and makes it the active backend. The pool's
 * real size is the module's get_threads_count (see wasmThreadsRunning in select.ts).
 */
export async function registerThreadedWasm(threads: number): Promise<void> {
  if (!Number.isInteger(threads) || threads < 1)
    throw new Error(`wasm threads must be a positive integer, got ${threads}`);
  const require = createRequire(import.meta.url);
  const pkg = require('@tensorflow/tfjs-backend-wasm') as WasmPackage;
  const dir = wasmOutDir();
  const factory = require(join(dir, 'tfjs-backend-wasm-threaded-simd.js')) as Factory;
  const wasmFile = join(dir, 'tfjs-backend-wasm-threaded-simd.wasm');
  const workerUrl = pthreadWorkerUrl(dir);

  const module = await factory({
    locateFile: (path: string) =>
      path.endsWith('.worker.js') ? workerUrl : path.endsWith('.wasm') ? wasmFile : join(dir, path),
    // What each pthread worker evaluates to get the module factory.
    mainScriptUrlOrBlob: join(dir, 'tfjs-backend-wasm-threaded-simd.js'),
    instantiateWasm: (
      imports: { env: Record<string, unknown> },
      receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
    ) => {
      // The backend halves this figure (it assumes two hyper-threads per core) before capping its pool.
      imports.env['emscripten_num_logical_cores'] = () => 2 * threads;
      void WebAssembly.instantiate(readFileSync(wasmFile), imports as WebAssembly.Imports).then(
        ({ instance, module: compiled }) => receive(instance, compiled),
      );
      return {};
    },
  });
  // The same bindings the package's own loader attaches.
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  pkg.setThreadsCount(threads);
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    () => {
      const backend = new pkg.BackendWasm(module);
      // The pool's threads are started now; unref'd, they do not keep a finished process alive.
      for (const w of [...module.PThread.runningWorkers, ...module.PThread.unusedWorkers]) w.unref();
      return backend;
    },
    WASM_PRIORITY,
  );
  // Creating the backend (which starts the pool) happens on setBackend.
  if (!(await tf.setBackend('wasm'))) throw new Error('threaded wasm backend failed to initialise');
}
