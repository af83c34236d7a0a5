import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { randomMat, type Mat } from '../helpers/reference.js';
import {
  maskedCrossEntropy,
  softmaxMinusTargetValues,
  softmaxCrossEntropyValues,
  SOFTMAX_MINUS_TARGET,
  SOFTMAX_CROSS_ENTROPY,
} from '../../src/loss/crossEntropy.js';
import { hasJsKernel } from '../../src/backend/jsKernels.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

const N = 5,
  V = 6;
const TARGETS = [2, 0, 5, 3, 1];
const MASK = [1, 1, 0, 1, 0]; // rows 2 and 4 are padding

function softmaxRef(row: number[]): number[] {
  const max = Math.max(...row);
  const exps = row.map((x) => Math.exp(x - max));
  const total = exps.reduce((a, c) => a + c, 0);
  return exps.map((e) => e / total);
}

/** −Σ mask·log softmax(logits)[target] / Σ mask, in float64. */
function lossRef(logits: Mat, targets: number[], mask: number[]): number {
  let sum = 0;
  logits.forEach((row, i) => {
    if (mask[i] === 0) return;
    const max = Math.max(...row);
    const logZ = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
    sum += mask[i]! * (logZ - row[targets[i]!]!);
  });
  return sum / mask.reduce((a, c) => a + c, 0);
}

function makeLogits(seed: number): Mat {
  const rng = new Rng(seed);
  return randomMat(N, V, () => rng.next(), 3);
}

function lossAndGrad(logits: Mat, targets: number[], mask: number[]): { loss: number; grad: number[][] } {
  return tf.tidy(() => {
    const t = new Int32Array(targets);
    const m = new Float32Array(mask);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor2D, t, m))(
      tf.tensor2d(logits),
    );
    return { loss: value.arraySync(), grad: grad.arraySync() as number[][] };
  });
}

describe('maskedCrossEntropy', () => {
  it('equals −Σ mask·log softmax[target] / Σ mask computed in float64', () => {
    const logits = makeLogits(1);
    const { loss } = lossAndGrad(logits, TARGETS, MASK);
    expect(loss).toBeCloseTo(lossRef(logits, TARGETS, MASK), 5);
    expect(loss).toBeGreaterThan(0);
  });

  it('padded rows change neither the loss nor receive any gradient', () => {
    const logits = makeLogits(2);
    const a = lossAndGrad(logits, TARGETS, MASK);
    const changed = logits.map((row, i) => (MASK[i] === 0 ? row.map((x) => x * -5 + 1) : row));
    const targets = TARGETS.map((t, i) => (MASK[i] === 0 ? (t + 1) % V : t));
    const b = lossAndGrad(changed, targets, MASK);
    expect(b.loss).toBe(a.loss);
    for (const g of [a.grad, b.grad])
      MASK.forEach((m, i) => {
        if (m === 0) expect(g[i]!.every((x) => x === 0)).toBe(true);
      });
  });

  it('gradient equals (softmax − onehot)·mask / Σ mask', () => {
    const logits = makeLogits(3);
    const { grad } = lossAndGrad(logits, TARGETS, MASK);
    const total = MASK.reduce((a, c) => a + c, 0);
    logits.forEach((row, i) =>
      softmaxRef(row).forEach((p, j) => {
        const expected = ((p - (j === TARGETS[i] ? 1 : 0)) * MASK[i]!) / total;
        expect(grad[i]![j]).toBeCloseTo(expected, 6);
      }),
    );
  });

  it('gradient matches central finite differences of the float64 loss', () => {
    const logits = makeLogits(4);
    const { grad } = lossAndGrad(logits, TARGETS, MASK);
    const eps = 1e-5;
    logits.forEach((row, i) =>
      row.forEach((x, j) => {
        row[j] = x + eps;
        const up = lossRef(logits, TARGETS, MASK);
        row[j] = x - eps;
        const down = lossRef(logits, TARGETS, MASK);
        row[j] = x;
        const numeric = (up - down) / (2 * eps);
        expect(Math.abs(grad[i]![j]! - numeric)).toBeLessThan(1e-5);
      }),
    );
  });

  it('an extremely negative target logit gives a large finite loss and a finite gradient', () => {
    const logits = makeLogits(5);
    logits[0]![TARGETS[0]!] = -1e4; // p(target) underflows to 0 in float32
    const { loss, grad } = lossAndGrad(logits, TARGETS, MASK);
    expect(Number.isFinite(loss)).toBe(true);
    // Row 0 alone contributes at least −log(1e-30)/3 ≈ 23.
    expect(loss).toBeGreaterThan(20);
    expect(grad.flat().every(Number.isFinite)).toBe(true);
    // ∂/∂(target logit) is (0 − 1)/Σmask.
    expect(grad[0]![TARGETS[0]!]).toBeCloseTo(-1 / 3, 6);
  });

  it('an all-padding batch gives zero loss and zero gradient, not NaN', () => {
    const { loss, grad } = lossAndGrad(makeLogits(6), TARGETS, [0, 0, 0, 0, 0]);
    expect(Math.abs(loss)).toBe(0);
    expect(grad.flat().every((x) => x === 0)).toBe(true);
  });

  it('rejects targets or a mask whose length is not the number of rows', () => {
    const x = tf.zeros<tf.Rank.R2>([N, V]);
    expect(() => maskedCrossEntropy(x, new Int32Array(N - 1), new Float32Array(N))).toThrow(/5 rows but 4 targets/);
    expect(() => maskedCrossEntropy(x, new Int32Array(N), new Float32Array(N + 1))).toThrow(/6 mask entries/);
    x.dispose();
  });
});

/** −Σ_k q_k log p_k per row with q = (1−ε)·onehot + ε/V, in float64. */
function rowLossRef(row: number[], target: number, eps: number): number {
  const p = softmaxRef(row);
  return -p.reduce((a, pk, k) => a + ((k === target ? 1 - eps : 0) + eps / row.length) * Math.log(pk), 0);
}

function lossAndGradWith(
  logits: Mat,
  targets: number[],
  mask: number[],
  options: Parameters<typeof maskedCrossEntropy>[3],
): { loss: number; grad: number[][] } {
  return tf.tidy(() => {
    const t = new Int32Array(targets);
    const m = new Float32Array(mask);
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => maskedCrossEntropy(x as tf.Tensor2D, t, m, options))(
      tf.tensor2d(logits),
    );
    return { loss: value.arraySync(), grad: grad.arraySync() as number[][] };
  });
}

describe('maskedCrossEntropy with label smoothing', () => {
  it('equals −Σ q·log p with q = (1−ε)·onehot + ε/V, averaged over real tokens (float64 reference)', () => {
    const logits = makeLogits(7);
    const eps = 0.1;
    const { loss } = lossAndGradWith(logits, TARGETS, MASK, { labelSmoothing: eps });
    const ref = logits.reduce((a, row, i) => a + MASK[i]! * rowLossRef(row, TARGETS[i]!, eps), 0) / 3;
    expect(loss).toBeCloseTo(ref, 5);
    // Smoothing makes the loss larger than plain cross-entropy here (the targets are already likely-ish).
    expect(loss).not.toBeCloseTo(lossRef(logits, TARGETS, MASK), 2);
  });

  it('a hand-worked row: logits all 0, V = 4, ε = 0.2 → loss log 4 whatever the target; gradient (p − q)', () => {
    // p = 1/4 everywhere, so −Σ q log p = log 4 for any q; ∂/∂x = p − q = 0.25 − (0.8 + 0.05) = −0.6 at the target, 0.25 − 0.05 = 0.2 elsewhere.
    const { loss, grad } = lossAndGradWith([[0, 0, 0, 0]], [2], [1], { labelSmoothing: 0.2 });
    expect(loss).toBeCloseTo(Math.log(4), 6);
    grad[0]!.forEach((g, k) => expect(g).toBeCloseTo(k === 2 ? -0.6 : 0.2, 6));
  });

  it('its gradient matches central finite differences, and padded rows get none', () => {
    const logits = makeLogits(8);
    const eps = 0.15;
    const { grad } = lossAndGradWith(logits, TARGETS, MASK, { labelSmoothing: eps });
    const ref = (): number => logits.reduce((a, row, i) => a + MASK[i]! * rowLossRef(row, TARGETS[i]!, eps), 0) / 3;
    const h = 1e-5;
    logits.forEach((row, i) =>
      row.forEach((x, j) => {
        row[j] = x + h;
        const up = ref();
        row[j] = x - h;
        const down = ref();
        row[j] = x;
        expect(Math.abs(grad[i]![j]! - (up - down) / (2 * h))).toBeLessThan(1e-5);
      }),
    );
    MASK.forEach((m, i) => {
      if (m === 0) expect(grad[i]!.every((g) => g === 0)).toBe(true);
    });
  });

  it('stays finite when the target is extremely unlikely (log Z from the largest probability)', () => {
    const logits = makeLogits(9);
    logits[0]![TARGETS[0]!] = -1e4;
    const { loss, grad } = lossAndGradWith(logits, TARGETS, MASK, { labelSmoothing: 0.1 });
    expect(Number.isFinite(loss)).toBe(true);
    // Row 0's loss ≈ 0.9·(log Z + 1e4)/3 is about 3,000: large, exact, not clamped.
    expect(loss).toBeGreaterThan(2900);
    expect(grad.flat().every(Number.isFinite)).toBe(true);
  });
});

describe('maskedCrossEntropy averaged per sequence', () => {
  it('weights each sequence equally: a hand-worked two-sequence batch', () => {
    // Two sequences of 3 steps (rows 0–2 and 3–5). Sequence 0 has 1 real token, sequence 1 has 3. Logits 0 over V = 2,
    // so every token costs log 2 except where we push the target: row 3's target logit +∞-ish gives ~0.
    const logits = [
      [0, 0],
      [0, 0],
      [0, 0],
      [0, 30],
      [0, 0],
      [0, 0],
    ];
    const targets = [0, 0, 0, 1, 0, 0];
    const mask = [1, 0, 0, 1, 1, 1];
    const perToken = lossAndGradWith(logits, targets, mask, { average: 'token' }).loss;
    const perSeq = lossAndGradWith(logits, targets, mask, { average: 'sequence', steps: 3 }).loss;
    // token: (log2 + 0 + log2 + log2)/4; sequence: (log2/1 + (0 + 2·log2)/3)/2.
    expect(perToken).toBeCloseTo((3 * Math.LN2) / 4, 5);
    expect(perSeq).toBeCloseTo((Math.LN2 + (2 * Math.LN2) / 3) / 2, 5);
  });

  it('an all-padding sequence is left out of the average; steps must divide the rows', () => {
    const logits = [
      [0, 1],
      [1, 0],
      [0, 0],
      [0, 0],
    ];
    const one = lossAndGradWith(logits.slice(0, 2), [0, 1], [1, 1], { average: 'sequence', steps: 2 }).loss;
    const withEmpty = lossAndGradWith(logits, [0, 1, 0, 0], [1, 1, 0, 0], { average: 'sequence', steps: 2 }).loss;
    expect(withEmpty).toBeCloseTo(one, 6);
    expect(() => lossAndGradWith(logits, [0, 1, 0, 0], [1, 1, 0, 0], { average: 'sequence', steps: 3 })).toThrow(
      /rows per sequence/,
    );
    expect(() => lossAndGradWith(logits, [0, 1, 0, 0], [1, 1, 0, 0], { average: 'sequence' })).toThrow(
      /rows per sequence/,
    );
  });
});

describe('the p − q kernel behind the gradient', () => {
  it('runs on the test backend and writes p − ((1 − ε)·onehot + ε/V) for both ε = 0 (copy) and ε > 0', () => {
    expect(hasJsKernel(SOFTMAX_MINUS_TARGET)).toBe(true);
    const p = Float32Array.from([0.1, 0.2, 0.7, 0.25, 0.25, 0.5]);
    const targets = Float32Array.from([2, 0]);
    const out = new Float32Array(6);
    softmaxMinusTargetValues(p, targets, 0, 2, 3, out);
    [0.1, 0.2, -0.3, -0.75, 0.25, 0.5].forEach((x, i) => expect(out[i]).toBeCloseTo(x, 6));
    softmaxMinusTargetValues(p, targets, 0.3, 2, 3, out);
    [0.1 - 0.1, 0.2 - 0.1, 0.7 - 0.1 - 0.7, 0.25 - 0.1 - 0.7, 0.25 - 0.1, 0.5 - 0.1].forEach((x, i) =>
      expect(out[i]).toBeCloseTo(x, 6),
    );
  });
});

describe('the fused loss-and-gradient kernel (ε = 0)', () => {
  /** Float64 reference: Σ w·(logZ − x_y) and w·(softmax − onehot), w = mask / Σ mask. */
  function reference(x: Float32Array, rows: number, width: number, targets: number[], mask: number[]) {
    const total = mask.reduce((a, c) => a + c, 0);
    let loss = 0;
    const grad = new Float64Array(rows * width);
    for (let i = 0; i < rows; i++) {
      const row = Array.from(x.subarray(i * width, (i + 1) * width));
      const p = softmaxRef(row);
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      const w = mask[i]! / total;
      loss += w * (logZ - row[targets[i]!]!);
      p.forEach((pv, j) => (grad[i * width + j] = w * (pv - (j === targets[i] ? 1 : 0))));
    }
    return { loss, grad };
  }

  it('runs on the test backend: on a 1,003-token vocabulary (SIMD vectors and a tail) loss and gradient equal the float64 reference', () => {
    expect(hasJsKernel(SOFTMAX_CROSS_ENTROPY)).toBe(true);
    const rng = new Rng(21);
    const rows = 37;
    const width = 1003;
    const x = Float32Array.from({ length: rows * width }, () => 16 * rng.next() - 8);
    const targets = Array.from({ length: rows }, (_, i) => (i === 3 ? width - 1 : rng.int(0, width - 1)));
    const mask = Array.from({ length: rows }, (_, i) => (i % 5 === 4 ? 0 : 1));
    const want = reference(x, rows, width, targets, mask);
    const { value, grad } = tf.tidy(() => {
      const r = tf.valueAndGrad((l: tf.Tensor) =>
        maskedCrossEntropy(l as tf.Tensor2D, new Int32Array(targets), new Float32Array(mask)),
      )(tf.tensor2d(x, [rows, width]));
      return { value: r.value.dataSync()[0]!, grad: r.grad.dataSync() as Float32Array };
    });
    expect(Math.abs(value - want.loss)).toBeLessThan(1e-5 * want.loss);
    let worst = 0;
    for (let k = 0; k < grad.length; k++) worst = Math.max(worst, Math.abs(grad[k]! - want.grad[k]!));
    expect(worst).toBeLessThan(1e-8);
    // Padding rows get exactly no gradient.
    for (let j = 0; j < width; j++) expect(grad[4 * width + j]).toBe(0);
  });

  it('scales its kept gradient by the upstream gradient when that is not 1', () => {
    const logits = makeLogits(8);
    const t = new Int32Array(TARGETS);
    const m = new Float32Array(MASK);
    const once = lossAndGrad(logits, TARGETS, MASK).grad;
    const scaled = tf.tidy(
      () =>
        tf
          .grad((x: tf.Tensor) => tf.mul(maskedCrossEntropy(x as tf.Tensor2D, t, m), -2.5))(tf.tensor2d(logits))
          .arraySync() as number[][],
    );
    once.forEach((row, i) => row.forEach((g, j) => expect(scaled[i]![j]).toBeCloseTo(-2.5 * g, 6)));
  });

  it('the JavaScript body (cpu, or wasm without SIMD) equals the reference, and a row holding a NaN gives NaN', () => {
    const rng = new Rng(22);
    const rows = 4;
    const width = 9;
    const x = Float32Array.from({ length: rows * width }, () => 10 * rng.next() - 5);
    x[2 * width + 4] = Number.NaN;
    const targets = [8, 0, 3, 5];
    const weights = [0.5, 0.25, 0.25, 0];
    const loss = new Float32Array(rows);
    const grad = new Float32Array(rows * width);
    softmaxCrossEntropyValues(x, Float32Array.from(targets), Float32Array.from(weights), rows, width, loss, grad);
    const want = reference(x, rows, width, targets, [2, 1, 1, 0]);
    for (const i of [0, 1, 3]) {
      const row = Array.from(x.subarray(i * width, (i + 1) * width));
      const max = Math.max(...row);
      const logZ = max + Math.log(row.reduce((a, v) => a + Math.exp(v - max), 0));
      expect(loss[i]).toBeCloseTo(logZ - row[targets[i]!]!, 5);
      for (let j = 0; j < width; j++) expect(grad[i * width + j]).toBeCloseTo(want.grad[i * width + j]!, 7);
    }
    expect(loss[2]).toBeNaN();
    expect(grad[2 * width]).toBeNaN();
  });

  it('rejects a target outside the vocabulary', () => {
    const x = tf.zeros<tf.Rank.R2>([N, V]);
    expect(() => maskedCrossEntropy(x, Int32Array.from([0, 1, 6, 2, 3]), new Float32Array(N).fill(1))).toThrow(
      /target 6 of row 2 is not in \[0, 6\)/,
    );
    x.dispose();
  });
});
