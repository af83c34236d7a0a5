import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import {
  selectBackend,
  parseBackendChoice,
  BackendError,
  BACKEND_CHOICES,
  INSTALL_HINT,
  wasmThreadsRunning,
} from '../../src/backend/select.js';
import { availableParallelism } from 'node:os';
import { ToolkitError } from '../../src/errors.js';
import { runProcess } from '../helpers/process.js';
import { repoRoot } from '../helpers/cli.js';

// Neither @tensorflow/tfjs-node nor @tensorflow/tfjs-node-gpu is installed in this repository: 'auto' lands on wasm.

describe('parseBackendChoice', () => {
  it('accepts each documented name as itself', () => {
    for (const name of ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
      expect(parseBackendChoice(name)).toBe(name);
    expect([...BACKEND_CHOICES].sort()).toEqual(['auto', 'cpu', 'tensorflow', 'tensorflow-gpu', 'wasm']);
  });

  it('reads an absent or empty value as auto', () => {
    expect(parseBackendChoice(undefined)).toBe('auto');
    expect(parseBackendChoice('')).toBe('auto');
  });

  it('rejects an unknown name with a user error listing the choices', () => {
    let caught: unknown;
    try {
      parseBackendChoice('gpu');
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(BackendError);
    expect(caught).toBeInstanceOf(ToolkitError);
    const message = (caught as Error).message;
    expect(message).toContain('"gpu"');
    for (const name of BACKEND_CHOICES) expect(message).toContain(name);
  });
});

describe('selectBackend', () => {
  it('a forced tensorflow backend that is not installed throws, naming the install command', async () => {
    const attempt = selectBackend('tensorflow', {});
    await expect(attempt).rejects.toBeInstanceOf(BackendError);
    await expect(selectBackend('tensorflow', {})).rejects.toThrow('npm install @tensorflow/tfjs-node@4.22.0');
    expect(INSTALL_HINT.tensorflow).toBe('npm install @tensorflow/tfjs-node@4.22.0');
  });

  it('a forced tensorflow-gpu backend that is not installed throws, naming its own install command', async () => {
    await expect(selectBackend('tensorflow-gpu', {})).rejects.toThrow('npm install @tensorflow/tfjs-node-gpu@4.22.0');
  });

  it('takes TRANSLATE_BACKEND when no explicit choice is given', async () => {
    const info = await selectBackend(undefined, { TRANSLATE_BACKEND: 'cpu' });
    expect(info.choice).toBe('cpu');
    expect(info.tfName).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.skipped).toEqual([]);
    expect(info.description).toMatch(/^cpu /);
  });

  it('an explicit choice wins over TRANSLATE_BACKEND', async () => {
    const info = await selectBackend('cpu', { TRANSLATE_BACKEND: 'wasm' });
    expect(info.choice).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });

  it('an unknown TRANSLATE_BACKEND is an error, not a silent fallback', async () => {
    await expect(selectBackend(undefined, { TRANSLATE_BACKEND: 'gpu' })).rejects.toBeInstanceOf(BackendError);
  });

  it('auto skips both native packages, with their install commands, and picks wasm', async () => {
    const info = await selectBackend('auto', {});
    expect(info.choice).toBe('wasm');
    expect(info.tfName).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.skipped).toHaveLength(2);
    expect(info.skipped[0]).toContain('@tensorflow/tfjs-node-gpu');
    expect(info.skipped[0]).toContain(INSTALL_HINT['tensorflow-gpu']);
    expect(info.skipped[1]).toContain('@tensorflow/tfjs-node not installed');
    expect(info.skipped[1]).toContain(INSTALL_HINT.tensorflow);
    // Selecting wasm registers the toolkit's kernels there.
    expect(tf.getKernel(tf.UnsortedSegmentSum, 'wasm')).toBeDefined();
  });

  it('no choice and no TRANSLATE_BACKEND means auto', async () => {
    await selectBackend('cpu', {});
    const info = await selectBackend(undefined, {});
    expect(info.choice).toBe('wasm');
    expect(info.skipped).toHaveLength(2);
  });

  it('describes wasm with its SIMD support and the threads its pool really has, and OpenBLAS with its threads', async () => {
    // No thread count given: one per core (this file's environment is empty, so the tests' 1 does not apply). With
    // OpenBLAS (CI installs it), the threads go to it and the wasm build runs single-threaded; without, to wasm's
    // pool, and a hint says how to get OpenBLAS.
    const info = await selectBackend('wasm', {});
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const cores = Math.min(availableParallelism(), 8);
    const count = (n: number) => (n === 1 ? '1 thread' : `${n} threads`);
    if (info.blas !== null) {
      expect(info.blas.threads).toBe(cores);
      expect(wasmThreadsRunning()).toBe(1);
      expect(info.description).toBe(
        `wasm (${simd ? 'SIMD' : 'no SIMD'}, 1 thread) + OpenBLAS ${info.blas.version} (${count(cores)})`,
      );
      expect(info.hint).toBeNull();
    } else {
      expect(process.env['REQUIRE_SYSTEM_TOOLS']).not.toBe('1');
      expect(wasmThreadsRunning()).toBe(cores);
      expect(info.description).toBe(`wasm (${simd ? 'SIMD' : 'no SIMD'}, ${count(cores)})`);
      expect(info.hint).toContain('libopenblas0-pthread');
    }
    // Node 20 has wasm SIMD on by default.
    expect(simd).toBe(true);
  });
});

describe('selectBackend: the BLAS under wasm', () => {
  it('TRANSLATE_BLAS=none (or the option) keeps the wasm kernels, without a hint', async () => {
    const info = await selectBackend('wasm', { TRANSLATE_BLAS: 'none', TRANSLATE_WASM_THREADS: '1' });
    expect(info.blas).toBeNull();
    expect(info.hint).toBeNull();
    expect(info.description).toBe('wasm (SIMD, 1 thread)');
    expect((await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, { blas: 'none' })).blas).toBeNull();
  });

  it('the option wins over TRANSLATE_BLAS, and an unknown TRANSLATE_BLAS is a user error', async () => {
    const info = await selectBackend(
      'wasm',
      { TRANSLATE_BLAS: 'none', TRANSLATE_WASM_THREADS: '1' },
      { blas: 'openblas' },
    );
    expect(info.blas?.name).toBe('OpenBLAS');
    await expect(selectBackend('wasm', { TRANSLATE_BLAS: 'mkl' })).rejects.toBeInstanceOf(ToolkitError);
  });

  it('a forced OpenBLAS that cannot load is a user error naming the apt package; auto falls back with a one-line hint', async () => {
    const missing = { blasLibrary: 'libopenblas-not-here.so.0' };
    await expect(selectBackend('wasm', { TRANSLATE_BLAS: 'openblas' }, missing)).rejects.toBeInstanceOf(ToolkitError);
    await expect(selectBackend('wasm', {}, { ...missing, blas: 'openblas' })).rejects.toThrow(
      'apt-get install libopenblas0-pthread',
    );
    const info = await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, missing);
    expect(info.blas).toBeNull();
    expect(info.description).not.toContain('OpenBLAS');
    expect(info.hint).toContain('apt-get install libopenblas0-pthread');
    expect(info.hint!.split('\n')).toHaveLength(1);
  });

  it('the cpu backend gets no BLAS', async () => {
    const info = await selectBackend('cpu', { TRANSLATE_BLAS: 'openblas' });
    expect(info.blas).toBeNull();
    expect(info.description).not.toContain('OpenBLAS');
  });
});

describe('selectBackend: gradients', () => {
  // In a process of its own: this file's other tests (and tfjs's module cache) have registered them already.
  it('registers tfjs gradients by default and skips them with gradients: false', async () => {
    const script = [
      `import * as tf from '@tensorflow/tfjs-core';`,
      `import { selectBackend } from './src/backend/select.ts';`,
      `const has = () => [tf.BatchMatMul, tf.Add, tf.Tanh].map((k) => tf.getGradient(k) !== undefined);`,
      `await selectBackend('cpu', {}, { gradients: false });`,
      `const without = has();`,
      `await selectBackend('cpu', {}, {});`,
      `console.log(JSON.stringify({ without, with: has() }));`,
    ].join('\n');
    const run = await runProcess(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: repoRoot,
      timeout: 60_000,
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ without: [false, false, false], with: [true, true, true] });
  }, 60_000);
});
