import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, parseBackendChoice, BackendError, BACKEND_CHOICES, INSTALL_HINT, wasmThreadsRunning } from '../../src/backend/select.js';
import { availableParallelism } from 'node:os';
import { ToolkitError } from '../../src/errors.js';

// Neither @tensorflow/tfjs-node nor @tensorflow/tfjs-node-gpu is installed in this repository: 'auto' lands on wasm.

describe('parseBackendChoice', () => {
  it('accepts each documented name as itself', () => {
    for (const name of ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']) expect(parseBackendChoice(name)).toBe(name);
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

  it('describes wasm with its SIMD support and the threads its pool really has', async () => {
    // No thread count given: one per core (this file's environment is empty, so the tests' 1 does not apply).
    const info = await selectBackend('wasm', {});
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const threads = wasmThreadsRunning();
    expect(threads).toBe(Math.min(availableParallelism(), 8));
    expect(info.description).toBe(`wasm (${simd ? 'SIMD' : 'no SIMD'}, ${threads === 1 ? '1 thread' : `${threads} threads`})`);
    // Node 20 has wasm SIMD on by default.
    expect(simd).toBe(true);
  });
});
