// Kernel tests compare the wasm backend's results (the toolkit's kernels) with the cpu backend's own on the same
// inputs, made fresh on each backend from plain arrays so that no tensor data moves between backends behind the
// test's back.
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '../../src/random.js';

export interface Result {
  values: unknown;
  shape: number[];
  dtype: string;
}

async function runOn(backend: 'cpu' | 'wasm', f: () => tf.Tensor): Promise<Result> {
  await tf.setBackend(backend);
  const t = tf.tidy(f);
  const result = { values: t.arraySync(), shape: t.shape, dtype: t.dtype };
  t.dispose();
  return result;
}

/** Runs f on cpu, then on wasm (left active), and returns both results. */
export async function onBoth(f: () => tf.Tensor): Promise<{ cpu: Result; wasm: Result }> {
  const cpu = await runOn('cpu', f);
  const wasm = await runOn('wasm', f);
  return { cpu, wasm };
}

/** n values in [−2, 2), from a seeded generator. */
export function randomValues(n: number, seed: number): number[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => rng.next() * 4 - 2);
}
