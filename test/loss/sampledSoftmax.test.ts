import { describe, it, expect, beforeAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useTestBackend } from '../helpers/backend.js';
import { randomMat, type Mat } from '../helpers/reference.js';
import { sampledSoftmaxLoss, type SampledSoftmaxOptions } from '../../src/loss/sampledSoftmax.js';
import { logUniformCandidates, logUniformProbability, type Candidates } from '../../src/loss/candidateSampler.js';
import { maskedCrossEntropy } from '../../src/loss/crossEntropy.js';
import { Rng } from '../../src/random.js';

beforeAll(useTestBackend);

interface Problem {
  h: Mat;
  W: Mat;
  b: number[];
  targets: number[];
  mask: number[];
}

function makeProblem(seed: number, N: number, H: number, V: number, mask?: number[]): Problem {
  const rng = new Rng(seed);
  const rand = (): number => rng.next();
  return {
    h: randomMat(N, H, rand, 1),
    W: randomMat(H, V, rand, 0.5),
    b: randomMat(1, V, rand, 0.5)[0]!,
    targets: Array.from({ length: N }, () => rng.int(0, V - 1)),
    mask: mask ?? new Array<number>(N).fill(1),
  };
}

type Opts = Omit<SampledSoftmaxOptions, 'rng' | 'average' | 'steps'>;

/** Loss and gradients of the tfjs implementation, candidates drawn from new Rng(seed). */
function sampled(p: Problem, opts: Opts, seed: number): { loss: number; dh: Mat; dW: Mat; db: number[] } {
  return tf.tidy(() => {
    const t = new Int32Array(p.targets);
    const m = new Float32Array(p.mask);
    const { value, grads } = tf.valueAndGrads((h: tf.Tensor, W: tf.Tensor, b: tf.Tensor) =>
      sampledSoftmaxLoss(h as tf.Tensor2D, W as tf.Tensor2D, b as tf.Tensor1D, t, m, { ...opts, rng: new Rng(seed) }),
    )([tf.tensor2d(p.h), tf.tensor2d(p.W), tf.tensor1d(p.b)]);
    return {
      loss: value.arraySync(),
      dh: grads[0]!.arraySync() as Mat,
      dW: grads[1]!.arraySync() as Mat,
      db: grads[2]!.arraySync() as number[],
    };
  });
}

/** The same sampled loss for fixed candidates, in float64, written from the equations. */
function lossRef(p: Problem, c: Candidates, removeAccidentalHits: boolean): number {
  const V = p.b.length;
  const logit = (i: number, k: number): number => p.h[i]!.reduce((a, x, d) => a + x * p.W[d]![k]!, p.b[k]!);
  let sum = 0;
  p.targets.forEach((y, i) => {
    if (p.mask[i] === 0) return;
    const row = [logit(i, y) - Math.log(c.trueExpectedCount[i]!)];
    c.sampled.forEach((k, j) => {
      if (k >= V) throw new Error('candidate out of range');
      if (!(removeAccidentalHits && k === y)) row.push(logit(i, k) - Math.log(c.sampledExpectedCount[j]!));
    });
    const max = Math.max(...row);
    sum += p.mask[i]! * (max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0)) - row[0]!);
  });
  return (
    sum /
    Math.max(
      p.mask.reduce((a, x) => a + x, 0),
      1,
    )
  );
}

/** Full softmax cross-entropy of h·W + b, through the toolkit's maskedCrossEntropy. */
function fullLoss(h: tf.Tensor2D, W: tf.Tensor2D, b: tf.Tensor1D, targets: Int32Array, mask: Float32Array): number {
  return tf.tidy(() => maskedCrossEntropy(tf.add<tf.Tensor2D>(tf.matMul(h, W), b), targets, mask).arraySync());
}

function candidatesFor(p: Problem, opts: Opts, seed: number): Candidates {
  return logUniformCandidates(
    new Int32Array(p.targets),
    { vocabSize: p.b.length, numSampled: opts.numSampled, unique: opts.unique },
    new Rng(seed),
  );
}

describe('sampledSoftmaxLoss', () => {
  const SMALL: Opts = { numSampled: 6, unique: true, removeAccidentalHits: true };

  it('equals the float64 sampled loss for the same candidates, and its gradients match central finite differences', () => {
    const p = makeProblem(1, 5, 4, 12, [1, 1, 0, 1, 1]);
    const seed = 7;
    const c = candidatesFor(p, SMALL, seed);
    // The seed is chosen so that the test covers an accidental hit on a real row.
    expect(p.targets.some((y, i) => p.mask[i] === 1 && c.sampled.includes(y))).toBe(true);
    const got = sampled(p, SMALL, seed);
    expect(got.loss).toBeCloseTo(lossRef(p, c, true), 5);
    const eps = 1e-5;
    const check = (m: number[], grad: number[]): void =>
      m.forEach((x, j) => {
        m[j] = x + eps;
        const up = lossRef(p, c, true);
        m[j] = x - eps;
        const down = lossRef(p, c, true);
        m[j] = x;
        expect(Math.abs(grad[j]! - (up - down) / (2 * eps))).toBeLessThan(1e-5);
      });
    p.h.forEach((row, i) => check(row, got.dh[i]!));
    p.W.forEach((row, d) => check(row, got.dW[d]!));
    check(p.b, got.db);
    // W and b get gradient only in the columns of real rows' labels and of the candidates.
    const touched = new Set([...c.sampled, ...p.targets.filter((_, i) => p.mask[i] === 1)]);
    for (let k = 0; k < p.b.length; k++) {
      if (touched.has(k)) continue;
      expect(got.db[k]).toBe(0);
      got.dW.forEach((row) => expect(row[k]).toBe(0));
    }
  });

  it('an accidental hit contributes nothing: the loss is the hand-computed softmax over the other classes', () => {
    // V = 3 and 3 distinct candidates: every id is sampled, so each row's label is always an accidental hit.
    // With h = 0 each logit is u_k = b_k − log Q(k), and the row's loss is log Σ_k e^{u_k} − u_y with each class once;
    // keeping the hit would count the label twice: log(Σ_k e^{u_k} + e^{u_y}) − u_y.
    const p: Problem = {
      h: [
        [0, 0],
        [0, 0],
      ],
      W: [
        [1, -2, 0.5],
        [0.3, 0.7, -1],
      ],
      b: [0.5, -1, 2],
      targets: [1, 2],
      mask: [1, 1],
    };
    const opts: Opts = { numSampled: 3, unique: true, removeAccidentalHits: true };
    const c = candidatesFor(p, opts, 3);
    const Q = [0, 1, 2].map((k) => -Math.expm1(c.numTries * Math.log1p(-logUniformProbability(k, 3))));
    const u = p.b.map((bk, k) => bk - Math.log(Q[k]!));
    const total = u.reduce((a, x) => a + Math.exp(x), 0);
    const removed = (Math.log(total) - u[1]! + Math.log(total) - u[2]!) / 2;
    const kept = (Math.log(total + Math.exp(u[1]!)) - u[1]! + Math.log(total + Math.exp(u[2]!)) - u[2]!) / 2;
    expect(sampled(p, opts, 3).loss).toBeCloseTo(removed, 5);
    expect(sampled(p, { ...opts, removeAccidentalHits: false }, 3).loss).toBeCloseTo(kept, 5);
    expect(kept - removed).toBeGreaterThan(0.1);
  });

  it('padded rows change neither the loss nor any gradient, and receive none', () => {
    const mask = [1, 0, 1, 1, 0, 1];
    const p = makeProblem(2, 6, 4, 20, mask);
    const opts: Opts = { numSampled: 8, unique: true, removeAccidentalHits: true };
    const a = sampled(p, opts, 9);
    const changed: Problem = {
      ...p,
      h: p.h.map((row, i) => (mask[i] === 0 ? row.map((x) => x * -5 + 1) : row)),
      targets: p.targets.map((t, i) => (mask[i] === 0 ? (t + 3) % 20 : t)),
    };
    const b = sampled(changed, opts, 9);
    expect(b.loss).toBe(a.loss);
    expect(b.dW).toEqual(a.dW);
    expect(b.db).toEqual(a.db);
    for (const g of [a.dh, b.dh])
      mask.forEach((m, i) => {
        if (m === 0) expect(g[i]!.every((x) => x === 0)).toBe(true);
      });
  });

  it('log-Q correction, with replacement: E[(e^loss − 1) / (numSampled·P(y))] is exactly e^{full loss} (within 3% over 2,000 draws)', () => {
    // One row, no accidental-hit removal, numSampled 40 of V 50 with replacement, Q(k) = 40·P(k). With u_k = s_k − log Q(k):
    //   loss = log(e^{u_y} + Σ_draws e^{u_k}) − u_y = log(1 + Q(y)·e^{−s_y}·Ẑ),  Ẑ = Σ_draws e^{s_k} / (40·P(k)),
    // and Ẑ is an unbiased estimate of Z = Σ_k e^{s_k}, so (e^loss − 1)/Q(y) estimates Z·e^{−s_y} = e^{full loss} without bias.
    // The loss itself is not unbiased: Jensen's inequality, and the true logit's own −log Q(y) (next test).
    // The relative standard error of the mean measured 0.5% (float64 simulation): 3% is six of them.
    const p = makeProblem(3, 1, 8, 50);
    const opts: Opts = { numSampled: 40, unique: false, removeAccidentalHits: false };
    const rng = new Rng(1);
    const t = new Int32Array(p.targets),
      m = new Float32Array(p.mask);
    const [h, W, b] = [tf.tensor2d(p.h), tf.tensor2d(p.W), tf.tensor1d(p.b)];
    const Qy = 40 * logUniformProbability(p.targets[0]!, 50);
    let sum = 0;
    const R = 2000;
    for (let r = 0; r < R; r++) {
      const loss = tf.tidy(() => sampledSoftmaxLoss(h, W, b, t, m, { ...opts, rng }).dataSync()[0]!);
      sum += (Math.exp(loss) - 1) / Qy;
    }
    const exact = Math.exp(fullLoss(h, W, b, t, m));
    tf.dispose([h, W, b]);
    expect(Math.abs(sum / R - exact) / exact).toBeLessThan(0.03);
  });

  it('with distinct candidates the loss approaches the full softmax loss as the candidates cover the vocabulary', () => {
    // V = 50, H = 8, N = 16, unique sampling. The sampled loss is biased low: the candidate set misses classes, and
    // Q(y) < 1 shrinks the other classes' share against the label's. As numSampled → V every class is a candidate and
    // Q → 1 (the sampler needs many draws), so the bias vanishes. Measured over 2,000 draws (float64 simulation):
    //   numSampled 25: −0.87 (full ≈ 4.6); numSampled 48: −0.05 (standard error 0.0004).
    const p = makeProblem(4, 16, 8, 50);
    const t = new Int32Array(p.targets),
      m = new Float32Array(p.mask);
    const [h, W, b] = [tf.tensor2d(p.h), tf.tensor2d(p.W), tf.tensor1d(p.b)];
    const full = fullLoss(h, W, b, t, m);
    const meanLoss = (numSampled: number): number => {
      const rng = new Rng(2);
      let sum = 0;
      for (let r = 0; r < 2000; r++) {
        sum += tf.tidy(
          () =>
            sampledSoftmaxLoss(h, W, b, t, m, {
              numSampled,
              unique: true,
              removeAccidentalHits: true,
              rng,
            }).dataSync()[0]!,
        );
      }
      return sum / 2000;
    };
    const bias25 = meanLoss(25) - full;
    const bias48 = meanLoss(48) - full;
    tf.dispose([h, W, b]);
    expect(bias25).toBeLessThan(-0.4);
    expect(Math.abs(bias48)).toBeLessThan(0.1);
  });

  it('trains: a V = 200 softmax regression fit with 20 sampled candidates lowers the full softmax loss', () => {
    // Classes drawn from a Zipfian law (the log-uniform sampler's assumption), inputs = a class mean + noise.
    const V = 200,
      H = 16,
      N = 256;
    const rng = new Rng(5);
    const means = randomMat(V, H, () => rng.next(), 1);
    const targets = Int32Array.from({ length: N }, () =>
      Math.min(Math.floor(Math.exp(rng.next() * Math.log(V + 1))) - 1, V - 1),
    );
    const x = tf.tensor2d(Array.from(targets, (y) => means[y]!.map((v) => v + 0.2 * rng.normal())));
    const mask = new Float32Array(N).fill(1);
    const W = tf.variable<tf.Rank.R2>(tf.zeros([H, V]));
    const b = tf.variable<tf.Rank.R1>(tf.zeros([V]));
    const before = fullLoss(x, W, b, targets, mask);
    const adam: tf.Optimizer = tf.train.adam(0.05);
    const sampler = new Rng(6);
    for (let step = 0; step < 300; step++) {
      tf.tidy(() => {
        const { grads } = tf.variableGrads(
          () => sampledSoftmaxLoss(x, W, b, targets, mask, { numSampled: 20, rng: sampler }),
          [W, b],
        );
        adam.applyGradients(grads);
      });
    }
    const after = fullLoss(x, W, b, targets, mask);
    adam.dispose();
    tf.dispose([x, W, b]);
    // Measured: 5.30 → 0.04. With W's gradient zeroed (b alone learns the label frequencies) it stops at 3.9.
    expect(before).toBeCloseTo(Math.log(V), 4);
    expect(after).toBeLessThan(0.25 * before);
  });

  it('its mean gradient points the way of the full-softmax gradient (cosine > 0.999 with 20 of 50 classes sampled, 300 draws)', () => {
    // What training needs from the estimate is the direction of the update. Averaged over 300 draws, the sampled
    // gradient with respect to W and h lines up with the full softmax gradient. Measured cosines: 0.9996 with 20
    // candidates, 0.99997 with 40 (distinct candidates, log-Q correction, accidental hits removed). Without the
    // log-Q correction of the candidates it measured 0.994 (20), and with the true-class gradient's sign flipped −0.96.
    const p = makeProblem(11, 12, 6, 50);
    const full = tf.tidy(() => {
      const t = new Int32Array(p.targets),
        m = new Float32Array(p.mask);
      const g = tf.grads((h: tf.Tensor, W: tf.Tensor, b: tf.Tensor) =>
        maskedCrossEntropy(tf.add<tf.Tensor2D>(tf.matMul(h, W), b), t, m),
      )([tf.tensor2d(p.h), tf.tensor2d(p.W), tf.tensor1d(p.b)]);
      return [...(g[0]!.dataSync() as Float32Array), ...(g[1]!.dataSync() as Float32Array)];
    });
    const cosine = (numSampled: number): number => {
      const mean = new Float64Array(full.length);
      for (let r = 0; r < 300; r++) {
        const g = sampled(p, { numSampled, unique: true, removeAccidentalHits: true }, 1000 + r);
        [...g.dh.flat(), ...g.dW.flat()].forEach((x, i) => (mean[i]! += x / 300));
      }
      let dot = 0,
        a = 0,
        b = 0;
      full.forEach((f, i) => {
        dot += f * mean[i]!;
        a += f * f;
        b += mean[i]! * mean[i]!;
      });
      return dot / Math.sqrt(a * b);
    };
    const c20 = cosine(20);
    const c40 = cosine(40);
    expect(c20).toBeGreaterThan(0.999);
    expect(c40).toBeGreaterThan(c20);
  });

  it("per-sequence averaging weights rows as maskedCrossEntropy's 'sequence' average", () => {
    // With every class sampled in a V = 3 problem the sampled loss of each row is fixed; the batch loss is then a
    // weighted mean of the same row losses, with weights 1/(length·sequences) instead of 1/tokens.
    const p: Problem = {
      h: [
        [0.1, 0.2],
        [0.3, -0.1],
        [0.2, 0.2],
        [0, 0],
      ],
      W: [
        [1, -2, 0.5],
        [0.3, 0.7, -1],
      ],
      b: [0.5, -1, 2],
      targets: [1, 2, 0, 0],
      mask: [1, 0, 1, 1],
    };
    const opts = { numSampled: 3, unique: true, removeAccidentalHits: true, rng: new Rng(3) };
    const rows = [0, 2, 3].map((i) =>
      tf.tidy(
        () =>
          sampledSoftmaxLoss(
            tf.tensor2d([p.h[i]!]),
            tf.tensor2d(p.W),
            tf.tensor1d(p.b),
            Int32Array.of(p.targets[i]!),
            Float32Array.of(1),
            { ...opts, rng: new Rng(3) },
          ).dataSync()[0]!,
      ),
    );
    const seq = tf.tidy(
      () =>
        sampledSoftmaxLoss(
          tf.tensor2d(p.h),
          tf.tensor2d(p.W),
          tf.tensor1d(p.b),
          new Int32Array(p.targets),
          new Float32Array(p.mask),
          { ...opts, average: 'sequence', steps: 2 },
        ).dataSync()[0]!,
    );
    // Sequence 0 = rows 0–1 (1 real token), sequence 1 = rows 2–3 (2 real tokens).
    expect(seq).toBeCloseTo((rows[0]! + (rows[1]! + rows[2]!) / 2) / 2, 5);
  });

  it('leaves no tensors behind after a loss and gradient inside tf.tidy', () => {
    const p = makeProblem(6, 8, 4, 30);
    const [h, W, b] = [tf.tensor2d(p.h), tf.tensor2d(p.W), tf.tensor1d(p.b)];
    const t = new Int32Array(p.targets),
      m = new Float32Array(p.mask);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const { grads } = tf.valueAndGrads((hi: tf.Tensor, Wi: tf.Tensor, bi: tf.Tensor) =>
        sampledSoftmaxLoss(hi as tf.Tensor2D, Wi as tf.Tensor2D, bi as tf.Tensor1D, t, m, {
          numSampled: 10,
          rng: new Rng(1),
        }),
      )([h, W, b]);
      expect(grads.length).toBe(3);
    });
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([h, W, b]);
  });

  it('rejects a target outside the vocabulary and shapes that do not fit', () => {
    const [h, W, b] = [tf.zeros<tf.Rank.R2>([2, 3]), tf.zeros<tf.Rank.R2>([3, 5]), tf.zeros<tf.Rank.R1>([5])];
    const opts = { numSampled: 2, rng: new Rng(1) };
    expect(() => sampledSoftmaxLoss(h, W, b, Int32Array.of(0, 5), new Float32Array(2), opts)).toThrow(
      /target 5 is not in \[0, 4\]/,
    );
    expect(() => sampledSoftmaxLoss(h, W, b, Int32Array.of(0), new Float32Array(2), opts)).toThrow(
      /2 rows but 1 targets/,
    );
    expect(() =>
      sampledSoftmaxLoss(h, tf.zeros<tf.Rank.R2>([4, 5]), b, Int32Array.of(0, 1), new Float32Array(2), opts),
    ).toThrow(/do not fit/);
    tf.dispose([h, W, b]);
  });
});
