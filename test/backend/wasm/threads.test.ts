// The threaded wasm build (src/backend/wasm/threads.ts): it starts in Node with the threads asked for, gives the
// same numbers as the single-threaded build (XNNPACK splits products by output tiles, never along the summed
// axis), keeps the live tensor count flat, and its pool does not keep a finished process alive. Each build runs in
// its own child process: a process keeps the wasm build it starts first.
import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/cli.js';
import { runProcess } from '../../helpers/process.js';
import { wasmThreadCount, parseWasmThreads, WASM_THREADS_ENV, MAX_WASM_THREADS } from '../../../src/backend/select.js';
import { availableParallelism } from 'node:os';

interface Report {
  description: string;
  losses: number[];
  live: number[];
  values: number[];
}

async function run(threads: number, blas = 'none'): Promise<Report> {
  const script = join(repoRoot, 'test/backend/wasm/fixtures/threadedTraining.ts');
  // A pool that kept the process alive would run into the timeout: status null.
  const r = await runProcess(process.execPath, ['--import', 'tsx', script, String(threads), blas], {
    cwd: repoRoot,
    timeout: 90_000,
  });
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as Report;
}

describe('threaded wasm', () => {
  it('trains with 2 threads to the same losses as 1 thread, bit for bit, and exits by itself', async () => {
    const one = await run(1);
    const two = await run(2);
    expect(one.description).toBe('wasm (SIMD, 1 thread)');
    expect(two.description).toBe('wasm (SIMD, 2 threads)');
    expect(two.losses).toEqual(one.losses);
    expect(two.values).toEqual(one.values);
    // Training moved: the check is not of a model that never ran.
    expect(one.losses[5]!).toBeLessThan(one.losses[0]!);
    expect(new Set(two.live).size).toBe(1);
  });

  it('with OpenBLAS on 2 threads: the single-threaded build, the same losses within 1e-4, and the process still exits by itself', async () => {
    const wasm = await run(1);
    const blas = await run(2, 'openblas');
    expect(blas.description).toMatch(/^wasm \(SIMD, 1 thread\) \+ OpenBLAS \d+\.\d+\.\d+ \(2 threads\)$/);
    blas.losses.forEach((l, i) => expect(Math.abs(l - wasm.losses[i]!)).toBeLessThan(1e-4));
    blas.values.forEach((v, i) => expect(Math.abs(v - wasm.values[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(v))));
    expect(new Set(blas.live).size).toBe(1);
  });
});

describe('wasm thread count', () => {
  it('takes the option, else the environment, else one per core, capped at the pool limit', () => {
    expect(wasmThreadCount({ wasmThreads: 3 }, { [WASM_THREADS_ENV]: '1' })).toBe(3);
    expect(wasmThreadCount({}, { [WASM_THREADS_ENV]: '1' })).toBe(1);
    expect(wasmThreadCount({}, {})).toBe(Math.min(availableParallelism(), MAX_WASM_THREADS));
    expect(wasmThreadCount({ wasmThreads: 64 }, {})).toBe(MAX_WASM_THREADS);
  });

  it('rejects a count that is not a positive integer, naming it', () => {
    expect(() => parseWasmThreads('0')).toThrow('"0"');
    expect(() => parseWasmThreads('two')).toThrow('"two"');
    expect(() => wasmThreadCount({}, { [WASM_THREADS_ENV]: '1.5' })).toThrow('"1.5"');
    expect(parseWasmThreads('')).toBeUndefined();
  });
});
