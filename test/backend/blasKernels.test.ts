// The wasm backend's products on OpenBLAS (src/backend/blasKernels.ts) against the backend's own kernels, switched
// in one process on the same tensors: every transpose flag, broadcast batches, fused bias and activations, a heap
// that grows between calls; gradients against finite differences and the padded-batch property on both paths;
// 20 training steps of a small seq2seq give the same losses; no tensor leaks.
import { describe, it, expect } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '../../src/backend/select.js';
import { useBlas, blasInUse, productPlan } from '../../src/backend/blasKernels.js';
import type { Blas } from '../../src/backend/blas.js';
import { Seq2Seq, DEFAULT_SEQ2SEQ_CONFIG, type Seq2SeqConfig } from '../../src/translation/seq2seq.js';
import { Trainer } from '../../src/train/trainer.js';
import { makeBatch } from '../../src/data/text/batch.js';
import { Rng } from '../../src/random.js';
import { checkInputGradients } from '../helpers/gradientCheck.js';

// Whatever TRANSLATE_BLAS says, this file compares both paths.
const blas: Blas | null = (await selectBackend('wasm', { TRANSLATE_WASM_THREADS: '1' }, { blas: 'auto' })).blas;
// CI installs OpenBLAS (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing library fails instead of skipping.
if (blas === null && process.env['REQUIRE_SYSTEM_TOOLS'] === '1') throw new Error('OpenBLAS did not load');
const missing = blas === null;

/** f's values with the products on OpenBLAS, then on the wasm backend's kernels (left on OpenBLAS). */
function onBoth<T>(f: () => T): { blas: T; wasm: T } {
  const backend = tf.backend();
  useBlas(backend, null);
  const wasm = f();
  useBlas(backend, blas);
  return { blas: f(), wasm };
}

/** |a − b| ≤ 1e-4 · max|b| elementwise (relative to the product's scale: single entries may cancel to ~0). */
function expectRelClose(a: ArrayLike<number>, b: ArrayLike<number>, tol = 1e-4): void {
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  for (let i = 0; i < b.length; i++)
    if (!(Math.abs(a[i]! - b[i]!) <= tol * scale)) expect.fail(`[${i}]: ${a[i]} vs ${b[i]} (scale ${scale})`);
}

const random = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, 'float32', seed);

describe('productPlan', () => {
  it('reads M, N, K through the transpose flags and broadcasts leading axes as tfjs does', () => {
    const p = productPlan([3, 4, 5], [5, 6], false, false);
    expect([p.M, p.N, p.K]).toEqual([4, 6, 5]);
    expect(p.outShape).toEqual([3, 4, 6]);
    expect([...p.aBatch]).toEqual([0, 1, 2]);
    expect([...p.bBatch]).toEqual([0, 0, 0]);
    const q = productPlan([2, 1, 5, 4], [1, 3, 6, 5], true, true);
    expect([q.M, q.N, q.K]).toEqual([4, 6, 5]);
    expect(q.outShape).toEqual([2, 3, 4, 6]);
    expect([...q.aBatch]).toEqual([0, 0, 0, 1, 1, 1]);
    expect([...q.bBatch]).toEqual([0, 1, 2, 0, 1, 2]);
    expect(() => productPlan([2, 3], [4, 5], false, false)).toThrow('inner shapes (3) and (4)');
    expect(() => productPlan([2, 2, 3], [3, 3, 4], false, false)).toThrow();
  });
});

describe.skipIf(missing)('BatchMatMul on OpenBLAS', () => {
  it("runs the products while a BLAS is in use, and the backend's kernel after useBlas(null)", () => {
    expect(blasInUse(tf.backend())).toBe(blas);
    expect((tf.getKernel(tf.BatchMatMul, 'wasm') as { toolkit?: boolean }).toolkit).toBe(true);
    expect((tf.getKernel(tf._FusedMatMul, 'wasm') as { toolkit?: boolean }).toolkit).toBe(true);
  });

  it('every product of a training step reaches the BLAS (a counting wrapper sees each call)', () => {
    let calls = 0;
    const counting: Blas = {
      ...blas!,
      sgemm: (...args) => (calls++, blas!.sgemm(...args)),
      sgemv: (...args) => (calls++, blas!.sgemv(...args)),
    };
    useBlas(tf.backend(), counting);
    const model = new Seq2Seq({ ...DEFAULT_SEQ2SEQ_CONFIG, hiddenSize: 8, embeddingSize: 4, attention: 'dot' }, 10, 10);
    const trainer = new Trainer(model.params);
    trainer.update(() => model.loss(makeBatch([{ source: [4, 5, 6], target: [7, 8] }])));
    useBlas(tf.backend(), blas);
    // Forward and backward: input projections, 3 + 3 recurrent steps, attention, the output layer, their gradients.
    expect(calls).toBeGreaterThan(20);
    trainer.dispose();
    model.dispose();
  });

  const shapes: [string, number[], number[]][] = [
    ['a recurrent step', [64, 128], [128, 384]],
    ['an output layer', [130, 96], [96, 1000]],
    ['one row (sgemv)', [1, 300], [300, 77]],
    ['one column (sgemv)', [45, 300], [300, 1]],
    ['K = 1024', [33, 1024], [1024, 17]],
    ['odd sizes', [7, 5], [5, 3]],
  ];
  for (const [what, aShape, bShape] of shapes) {
    it(`${what}: ${aShape} × ${bShape} equals the wasm kernel at every transpose flag`, () => {
      for (const tA of [false, true])
        for (const tB of [false, true]) {
          const r = onBoth(() =>
            tf.tidy(() => {
              const a = random(tA ? [...aShape].reverse() : aShape, 1);
              const b = random(tB ? [...bShape].reverse() : bShape, 2);
              return tf.matMul(a, b, tA, tB).dataSync() as Float32Array;
            }),
          );
          expectRelClose(r.blas, r.wasm);
        }
    });
  }

  it('batched and broadcast batches equal the wasm kernel, at every transpose flag', () => {
    const cases: [number[], number[]][] = [
      [
        [4, 6, 5],
        [4, 5, 3],
      ], // one product per batch
      [
        [4, 6, 5],
        [5, 3],
      ], // b broadcast
      [
        [1, 6, 5],
        [3, 5, 7],
      ], // a broadcast
      [
        [2, 3, 1, 8],
        [2, 3, 8, 20],
      ], // attention's scores: [batch…, 1, H] × [batch…, H, T]
    ];
    for (const [aShape, bShape] of cases)
      for (const tA of [false, true])
        for (const tB of [false, true]) {
          const swap = (s: number[], t: boolean) => (t ? [...s.slice(0, -2), s.at(-1)!, s.at(-2)!] : s);
          const r = onBoth(() =>
            tf.tidy(
              () =>
                tf.matMul(random(swap(aShape, tA), 3), random(swap(bShape, tB), 4), tA, tB).dataSync() as Float32Array,
            ),
          );
          expectRelClose(r.blas, r.wasm);
        }
  });

  it('broadcasts batch axes the wasm kernel cannot ([2,1] against [1,3]) as a float64 reference does', () => {
    const [a, b] = [random([2, 1, 4, 5], 5), random([1, 3, 5, 6], 6)];
    const got = tf.tidy(() => tf.matMul(a, b));
    expect(got.shape).toEqual([2, 3, 4, 6]);
    const [A, B, C] = [a.dataSync(), b.dataSync(), got.dataSync()];
    for (let i = 0; i < 2; i++)
      for (let j = 0; j < 3; j++)
        for (let m = 0; m < 4; m++)
          for (let n = 0; n < 6; n++) {
            let s = 0;
            for (let k = 0; k < 5; k++) s += A[i * 20 + m * 5 + k]! * B[j * 30 + k * 6 + n]!;
            expect(C[((i * 3 + j) * 4 + m) * 6 + n]).toBeCloseTo(s, 5);
          }
    tf.dispose([a, b, got]);
  });

  it('an empty inner axis gives zeros; an empty output gives an empty tensor', () => {
    expect(tf.tidy(() => Array.from(tf.matMul(tf.zeros([2, 0]), tf.zeros([0, 3])).dataSync()))).toEqual([
      0, 0, 0, 0, 0, 0,
    ]);
    expect(tf.tidy(() => tf.matMul(tf.zeros([0, 4]), tf.ones([4, 3])).shape)).toEqual([0, 3]);
  });

  it("takes the heap's address again after the heap grows (and moves) between calls", () => {
    const heap = () => (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer;
    const a = random([40, 50], 7);
    const b = random([50, 60], 8);
    const before = tf.tidy(() => tf.matMul(a, b).dataSync().slice());
    const buffer = heap();
    // More than the heap holds now: the wasm memory grows, and a non-shared one gets a new buffer.
    const big = tf.zeros([buffer.byteLength / 4 + (1 << 20)]);
    expect(heap()).not.toBe(buffer);
    const after = tf.tidy(() => tf.matMul(a, b).dataSync().slice());
    expect(Array.from(after)).toEqual(Array.from(before));
    tf.dispose([a, b, big]);
  });
});

describe.skipIf(missing)('_FusedMatMul on OpenBLAS', () => {
  // The reference is the wasm kernels' product, bias add and activation as separate ops: the wasm backend's own
  // fused kernel (tfjs-backend-wasm 4.22) adds a wrong bias when a transpose flag is set (checked below).
  const activations = ['linear', 'relu', 'relu6', 'sigmoid', 'leakyrelu', 'elu'] as const;
  const unfused: Record<(typeof activations)[number], (y: tf.Tensor) => tf.Tensor> = {
    linear: (y) => y,
    relu: tf.relu,
    relu6: tf.relu6,
    sigmoid: tf.sigmoid,
    leakyrelu: (y) => tf.leakyRelu(y, 0.1),
    elu: tf.elu,
  };
  for (const activation of activations) {
    it(`${activation}, with and without a bias, equals the wasm kernels' product, bias add and activation at every transpose flag`, () => {
      for (const tA of [false, true])
        for (const tB of [false, true])
          for (const biasShape of [null, [19], [1]]) {
            const inputs = () => ({
              a: tf.mul(random(tA ? [23, 31] : [31, 23], 9), 3),
              b: random(tB ? [19, 23] : [23, 19], 10),
              bias: biasShape === null ? undefined : random(biasShape, 11),
            });
            useBlas(tf.backend(), null);
            const want = tf.tidy(() => {
              const { a, b, bias } = inputs();
              const y = tf.matMul(a, b, tA, tB);
              return unfused[activation](bias === undefined ? y : tf.add(y, bias)).dataSync() as Float32Array;
            });
            useBlas(tf.backend(), blas);
            const got = tf.tidy(() => {
              const { a, b, bias } = inputs();
              return tf.fused
                .matMul({
                  a,
                  b,
                  transposeA: tA,
                  transposeB: tB,
                  ...(bias === undefined ? {} : { bias }),
                  activation,
                  leakyreluAlpha: 0.1,
                })
                .dataSync() as Float32Array;
            });
            expectRelClose(got, want);
          }
    });
  }

  it("equals the wasm backend's own fused kernel where that one is right (no transpose flag)", () => {
    const r = onBoth(() =>
      tf.tidy(
        () =>
          tf.fused
            .matMul({ a: random([31, 23], 9), b: random([23, 19], 10), bias: random([19], 11), activation: 'relu' })
            .dataSync() as Float32Array,
      ),
    );
    expectRelClose(r.blas, r.wasm);
    // The wasm kernel's bias under a transpose flag, for the record: off by far more than rounding.
    const off = onBoth(() =>
      tf.tidy(
        () =>
          tf.fused
            .matMul({ a: random([31, 23], 9), b: random([19, 23], 10), bias: random([19], 11), transposeB: true })
            .sub(tf.add(tf.matMul(random([31, 23], 9), random([19, 23], 10), false, true), random([19], 11)))
            .abs()
            .max()
            .dataSync()[0]!,
      ),
    );
    expect(off.blas).toBeLessThan(1e-5);
    expect(off.wasm).toBeGreaterThan(0.1);
  });

  it('prelu goes to the wasm kernel and gives its answer', () => {
    const r = onBoth(() =>
      tf.tidy(
        () =>
          tf.fused
            .matMul({
              a: random([5, 6], 12),
              b: random([6, 4], 13),
              bias: random([4], 14),
              activation: 'prelu',
              preluActivationWeights: random([4], 15),
            })
            .dataSync() as Float32Array,
      ),
    );
    expect(Array.from(r.blas)).toEqual(Array.from(r.wasm));
  });
});

describe.skipIf(missing)('gradients and models on both paths', () => {
  it('gradients of products at every transpose flag, and of a fused dense layer, match finite differences', () => {
    for (const path of [blas, null]) {
      useBlas(tf.backend(), path);
      for (const tA of [false, true])
        for (const tB of [false, true]) {
          const a = random(tA ? [4, 3] : [3, 4], 16);
          const b = random(tB ? [5, 4] : [4, 5], 17);
          const w = random([3, 5], 18);
          checkInputGradients((x, y) => tf.sum(tf.mul(tf.sin(tf.matMul(x, y, tA, tB)), w)), [a, b]);
          tf.dispose([a, b, w]);
        }
      const [x, W, bias] = [random([3, 4], 19), random([4, 5], 20), random([5], 21)];
      checkInputGradients(
        (p, q, r) => tf.sum(tf.square(tf.fused.matMul({ a: p, b: q, bias: r, activation: 'sigmoid' }))),
        [x, W, bias],
      );
      tf.dispose([x, W, bias]);
    }
    useBlas(tf.backend(), blas);
  });

  const config: Seq2SeqConfig = {
    ...DEFAULT_SEQ2SEQ_CONFIG,
    embeddingSize: 16,
    hiddenSize: 24,
    bidirectional: true,
    attention: 'dot',
    seed: 5,
  };
  const pairs = [
    { source: [4, 5, 6, 7, 8], target: [9, 10, 11] },
    { source: [5], target: [11, 4, 6, 7] },
    { source: [9, 8, 6], target: [7] },
  ];

  it("a padded batch's loss is the mean of each sentence's loss alone, on both paths, and the paths agree", () => {
    const model = new Seq2Seq(config, 14, 14);
    const losses = onBoth(() => {
      const batched = tf.tidy(
        () => model.loss(makeBatch(pairs), { training: false, loss: { average: 'sequence' } }).dataSync()[0]!,
      );
      const alone = pairs.map((p) =>
        tf.tidy(() => model.loss(makeBatch([p]), { training: false, loss: { average: 'token' } }).dataSync()[0]!),
      );
      expect(batched).toBeCloseTo(alone.reduce((s, x) => s + x, 0) / alone.length, 5);
      return batched;
    });
    expect(Math.abs(losses.blas - losses.wasm)).toBeLessThan(1e-5);
    model.dispose();
  });

  it('20 training steps of a small seq2seq give the same losses (1e-4), with a flat live tensor count', () => {
    const rng = new Rng(9);
    const ids = (n: number) => Array.from({ length: n }, () => rng.int(4, 39));
    const batches = Array.from({ length: 4 }, () =>
      makeBatch(Array.from({ length: 16 }, () => ({ source: ids(2 + rng.int(0, 8)), target: ids(1 + rng.int(0, 8)) }))),
    );
    const train = (): { losses: number[]; live: number[] } => {
      const model = new Seq2Seq({ ...config, hiddenSize: 64, embeddingSize: 32 }, 40, 40);
      const trainer = new Trainer(model.params, { learningRate: 3e-3, clipNorm: 5 });
      const dropout = new Rng(3);
      const losses: number[] = [];
      const live: number[] = [];
      for (let s = 0; s < 20; s++) {
        losses.push(trainer.update(() => model.loss(batches[s % 4]!, { training: true, rng: dropout })).loss);
        live.push(tf.memory().numTensors);
      }
      trainer.dispose();
      model.dispose();
      return { losses, live };
    };
    const r = onBoth(train);
    r.blas.losses.forEach((l, i) => expect(Math.abs(l - r.wasm.losses[i]!)).toBeLessThan(1e-4));
    // The losses moved: the comparison is of a model that trained.
    expect(r.blas.losses[19]!).toBeLessThan(r.blas.losses[0]!);
    expect(new Set(r.blas.live.slice(1)).size).toBe(1);
    expect(new Set(r.wasm.live.slice(1)).size).toBe(1);
  });
});
