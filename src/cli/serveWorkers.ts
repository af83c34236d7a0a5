// `translate serve --workers N`: N worker processes (node:cluster), each holding its own copy of the models and its
// own batcher, serve one listening socket; the primary process hands each new connection to the next worker in turn
// (round-robin) and holds no model itself.
//
// Why processes: a worker decodes on one JavaScript thread, and OpenBLAS's second thread helps only products of
// millions of multiply-adds. Under load, one worker leaves cores idle while it runs its step kernels, beam
// bookkeeping and HTTP; N single-threaded workers keep N cores busy (CTranslate2's inter_threads, Marian's
// --cpu-threads). A lone client's request runs in one worker as before: below SERVING_SMALL_PRODUCT its products
// were single-threaded anyway. Each worker's products run on --threads threads (default 1).
//
// Workers tell the primary what they would print at start-up (backend, listening, ready, or the error that stopped
// them) over the cluster channel, and the primary prints it once. The access log goes from each worker straight to the
// shared stderr, a line per write. SIGTERM or SIGINT: the primary passes SIGTERM on, each worker finishes its
// requests in flight and exits, and the primary exits 0 once all have. A worker that dies after start-up is replaced.
import cluster, { type Worker } from 'node:cluster';
import type { EventEmitter } from 'node:events';
import { availableParallelism } from 'node:os';
import { ServeError } from '../serve/models.js';

/** The environment variable that gives a worker its number (1-based). */
export const WORKER_ENV = 'TRANSLATE_SERVE_WORKER';

/** What a worker tells the primary. */
export type WorkerMessage =
  | { kind: 'backend'; lines: string[] }
  | { kind: 'listening'; url: string; models: string[] }
  | { kind: 'ready'; summary: string }
  | { kind: 'error'; message: string; internal: boolean };

/** A worker's side of the channel: how it tells the primary. */
export interface WorkerLink {
  send(message: WorkerMessage): Promise<void>;
}

/** This process's link to its primary, when it is a serve worker (numbered by WORKER_ENV); null otherwise. */
export function workerLink(): WorkerLink | null {
  if (!cluster.isWorker || !(Number(process.env[WORKER_ENV]) >= 1)) return null;
  return {
    send: (message) => new Promise((resolve) => process.send!(message, undefined, {}, () => resolve())),
  };
}

/**
 * Resolves once the connections the primary accepted before a stop have reached this worker: when `server` has had
 * no new connection for `quietMs`, or after `maxMs`. The primary accepts each connection and hands it to a worker
 * over the cluster channel, one at a time, each after the worker's acknowledgement; a worker busy decoding reads
 * them only when its batch is done. A worker that closed its server at once would refuse those, and the primary would
 * reset them: requests their clients had sent in full before the signal. The quiet is checked after the event loop
 * has polled for I/O (setImmediate after the timer), so that a loop that was blocked reads the waiting hand-offs
 * before it judges that none came.
 */
export function handoffsSettled(server: EventEmitter, quietMs = 100, maxMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const start = Date.now();
    let arrivals = 0;
    const arrived = (): void => {
      arrivals++;
    };
    server.on('connection', arrived);
    const wait = (): void => {
      const seen = arrivals;
      setTimeout(
        () =>
          setImmediate(() => {
            if (arrivals !== seen && Date.now() - start < maxMs) return wait();
            server.off('connection', arrived);
            resolve();
          }),
        quietMs,
      );
    };
    wait();
  });
}

/**
 * The --workers flag: a positive integer, or 'auto': one per core on the wasm and cpu backends, one on tfjs-node
 * (whose libtensorflow runs its own thread pool; on a GPU, workers would share one device). `backend` is the backend
 * choice (--backend, else TRANSLATE_BACKEND, else auto); `nativeInstalled` says whether auto would pick tfjs-node.
 */
export function workerCount(value: string, backend: string | undefined, nativeInstalled: () => boolean): number {
  if (value === 'auto') {
    const choice = backend ?? 'auto';
    if (choice === 'tensorflow' || choice === 'tensorflow-gpu') return 1;
    if (choice === 'auto' && nativeInstalled()) return 1;
    return availableParallelism();
  }
  const n = Number(value);
  if (!(/^\d+$/.test(value) && Number.isSafeInteger(n) && n >= 1))
    throw new ServeError(`--workers: expected a positive integer or auto, got ${JSON.stringify(value)}`);
  return n;
}

/** Whether @tensorflow/tfjs-node or -gpu can be found (what the auto backend tries first). */
export function nativeTfjsInstalled(): boolean {
  for (const name of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      import.meta.resolve(name);
      return true;
    } catch {
      // not installed
    }
  }
  return false;
}

export interface WorkersOptions {
  workers: number;
  /** Threads for each worker's matrix products (OpenBLAS's, or the wasm backend's). */
  threads: number;
  /** Where the primary's lines go (the CLI: stderr). */
  say: (line: string) => void;
}

interface Slot {
  index: number;
  worker: Worker;
  ready: boolean;
}

/**
 * Starts the workers; resolves once every one is ready, after printing the backend, listening and ready lines once.
 * A worker that fails at start-up stops the others and rejects with its error (a ServeError for a user's mistake).
 */
export function runWorkers(options: WorkersOptions): Promise<void> {
  const { workers, threads, say } = options;
  const slots: Slot[] = [];
  // starting → running → stopping; starting → failed (one worker failed at start-up: the others are stopped quietly).
  let phase: 'starting' | 'running' | 'stopping' | 'failed' = 'starting';
  let printedBackend = false;
  let listening = false;
  let lastError: (WorkerMessage & { kind: 'error' }) | null = null;
  let finish: { resolve(): void; reject(e: Error): void };
  const done = new Promise<void>((resolve, reject) => (finish = { resolve, reject }));

  const stopAll = (): void => {
    for (const s of slots) if (!s.worker.isDead()) s.worker.process.kill('SIGTERM');
  };
  const allDead = (): boolean => slots.every((s) => s.worker.isDead());

  const fork = (index: number): void => {
    const worker = cluster.fork({
      [WORKER_ENV]: String(index),
      // OpenBLAS sizes its thread pool when it loads: no idle threads beyond the worker's share.
      OPENBLAS_NUM_THREADS: String(threads),
    });
    const slot: Slot = { index, worker, ready: false };
    const at = slots.findIndex((s) => s.index === index);
    if (at >= 0) slots[at] = slot;
    else slots.push(slot);
    worker.on('message', (m: WorkerMessage) => {
      if (m.kind === 'error') lastError = m;
      else if (m.kind === 'backend' && !printedBackend) {
        printedBackend = true;
        const [first = '', ...rest] = m.lines;
        say(`${first}, in each of ${workers} workers`);
        for (const line of rest) say(line);
      } else if (m.kind === 'listening' && !listening) {
        listening = true;
        say(`translate serve: listening on ${m.url}; loading ${m.models.join(', ')} (${workers} workers)`);
      } else if (m.kind === 'ready') {
        slot.ready = true;
        if (phase === 'running') say(`translate serve: worker ${index} ready again`);
        else if (phase === 'starting' && slots.length === workers && slots.every((s) => s.ready)) {
          phase = 'running';
          say(`translate serve: ready: ${m.summary} (${workers} workers)`);
          finish.resolve();
        }
      }
    });
    worker.on('exit', (code, signal) => {
      const how = signal ?? `code ${code}`;
      if (phase === 'failed') return;
      if (phase === 'stopping') {
        if (code !== 0) process.exitCode = 1;
        if (allDead()) say('translate serve: stopped');
        return;
      }
      if (phase === 'starting') {
        // At start-up a failing worker stops the server: the others would fail alike (the same model files).
        phase = 'failed';
        stopAll();
        const e: WorkerMessage & { kind: 'error' } = lastError ?? {
          kind: 'error',
          message: `serve worker ${index} exited (${how}) before it was ready`,
          internal: false,
        };
        finish.reject(e.internal ? new Error(e.message) : new ServeError(e.message));
        return;
      }
      const error = lastError?.message;
      lastError = null;
      if (!slot.ready) {
        // A replacement that fails before it is ready would fail again.
        say(`translate serve: worker ${index} failed to start again (${error ?? how}); not replaced`);
        if (allDead()) {
          say('translate serve: no workers left');
          process.exitCode = 1;
        }
        return;
      }
      say(`translate serve: worker ${index} exited (${how}); starting another`);
      fork(index);
    });
  };

  const stop = (signal: string): void => {
    if (phase === 'stopping' || phase === 'failed') return;
    phase = 'stopping';
    say(`translate serve: ${signal}: no new connections; finishing the requests in flight`);
    stopAll();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  for (let i = 1; i <= workers; i++) fork(i);
  return done;
}
