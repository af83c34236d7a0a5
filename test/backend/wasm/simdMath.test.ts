import { describe, it, expect } from 'vitest';
import { Fn, Consts, op, I32, V128, assembleModule, type Code } from '../../../src/backend/wasm/assembler.js';
import { exp4, sigmoid4 } from '../../../src/backend/wasm/simdMath.js';
import { Rng } from '../../../src/random.js';

/** f(x, n, out): out = g(x) over n floats (n a multiple of 4), g built by `make` on the value left on the stack. */
function elementwise(make: (k: Consts, tmp: { x: number; k: number; f: number }, arg: Code) => Code): Fn {
  const fn = new Fn([I32, I32, I32]);
  const [x, n, out] = [0, 1, 2];
  const k = new Consts(fn);
  const [i, bytes] = [fn.local(I32), fn.local(I32)];
  const tmp = { x: fn.local(V128), k: fn.local(V128), f: fn.local(V128) };
  const body = fn.put(out, i, make(k, tmp, fn.at(x, i)));
  fn.code = [...k.init, op.get(n), op.i32(4), op.mul, op.set(bytes), fn.forUp(i, [op.get(bytes)], 16, body)];
  return fn;
}

const memory = new WebAssembly.Memory({ initial: 1 });
const bytes = assembleModule(
  [
    { name: 'exp', fn: elementwise((k, tmp, arg) => [arg, exp4(k, tmp)]) },
    { name: 'sigmoid', fn: elementwise((k, tmp, arg) => sigmoid4(k, tmp, arg)) },
  ],
  false,
);
const kernels = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } })
  .exports as unknown as Record<'exp' | 'sigmoid', (x: number, n: number, out: number) => void>;

/** Runs a kernel over `xs` (padded to a multiple of 4) and returns its outputs. */
function run(name: 'exp' | 'sigmoid', xs: readonly number[]): Float32Array {
  const n = Math.ceil(xs.length / 4) * 4;
  new Float32Array(memory.buffer, 0, n).set(xs);
  kernels[name](0, n, n * 4);
  return new Float32Array(memory.buffer, n * 4, xs.length).slice();
}

describe('exp and σ on four lanes (a degree-5 polynomial and magic-number rounding)', () => {
  const rng = new Rng(5);
  const xs = Array.from({ length: 4000 }, () => Math.fround((rng.next() * 2 - 1) * 87));

  it('exp is within 2.5 float32 ulps of Math.exp over [−87, 87] (the polynomial 1.6, the reduction and rounding the rest)', () => {
    const got = run('exp', xs);
    let worst = 0;
    xs.forEach((x, i) => {
      const want = Math.exp(x);
      const ulp = 2 ** (Math.floor(Math.log2(want)) - 23);
      worst = Math.max(worst, Math.abs(got[i]! - want) / ulp);
    });
    expect(worst).toBeLessThanOrEqual(2.5);
    const [one, e, inverse, two] = run('exp', [0, 1, -1, Math.LN2]);
    expect(one).toBe(1);
    for (const [got, want] of [
      [e, Math.E],
      [inverse, 1 / Math.E],
      [two, 2],
    ] as const)
      expect(Math.abs(got! - want)).toBeLessThanOrEqual(2.5 * 2 ** (Math.floor(Math.log2(want)) - 23));
  });

  it('clamps x to [−87.3, 88.3], where float32 exp ends, and keeps NaN', () => {
    const [lo, hi, tiny, huge, nan] = run('exp', [-1000, 1000, -87.3, 88.3, Number.NaN]);
    expect(lo).toBe(tiny);
    expect(hi).toBe(huge);
    expect(lo).toBeGreaterThan(0);
    expect(Number.isFinite(hi)).toBe(true);
    expect(hi).toBeGreaterThan(1e38);
    expect(nan).toBeNaN();
  });

  it('σ(x) = 1 / (1 + exp(−x)) to 1e-7, saturating to 0 and 1', () => {
    const got = run(
      'sigmoid',
      xs.map((x) => x / 4),
    );
    xs.forEach((x, i) => expect(Math.abs(got[i]! - 1 / (1 + Math.exp(-x / 4)))).toBeLessThan(1e-7));
    const [zero, half, one] = run('sigmoid', [-200, 0, 200]);
    expect(zero).toBeLessThan(1e-37);
    expect(half).toBe(0.5);
    expect(one).toBe(1);
  });
});
