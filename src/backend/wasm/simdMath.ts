// exp and the logistic function σ on four float32 lanes, as byte code for the SIMD kernels: Cephes' expf (range
// reduction by ln 2 in two parts, after Cody and Waite, and a degree-7 polynomial, about 1 ulp).
import {
  Consts,
  op,
  vadd,
  vsub,
  vmul,
  vdiv,
  F32X4_PMAX,
  F32X4_PMIN,
  F32X4_NEAREST,
  I32X4_TRUNC_SAT_F32X4_S,
  I32X4_ADD,
  I32X4_SHL,
  type Code,
} from './assembler.js';

// Cephes expf: exp(x) = 2^k · e^f, k = round(x·log2 e), |f| ≤ ln2/2, e^f by a degree-7 polynomial, ~1 ulp.
const EXP_COEFFS = [1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/**
 * x − k·ln 2 for the f32x4 `x` and `k` leave (both read twice: give local reads), ln 2 in two parts (Cody and
 * Waite) so that k·C1 is exact for the |k| ≤ 128 of float32 exp.
 */
function lessKLn2(k: Consts, x: Code, kk: Code): Code {
  return [x, kk, op.get(k.f(0.693359375)), vmul, vsub, kk, op.get(k.f(-2.1219444e-4)), vmul, vsub];
}

/** exp of the f32x4 on the stack; x is clamped to [−87.3, 88.3], where float32 exp ends. NaN stays NaN. */
export function exp4(k: Consts, tmp: { x: number; k: number; f: number }): Code {
  const { x, k: kk, f } = tmp;
  const poly: Code = [op.get(k.f(EXP_COEFFS[0]!))];
  for (const c of EXP_COEFFS.slice(1)) poly.push(op.get(f), vmul, op.get(k.f(c)), vadd);
  return [
    // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x: one instruction each, and NaN passes.
    op.get(k.f(-87.3)),
    op.simd(F32X4_PMAX),
    op.get(k.f(88.3)),
    op.simd(F32X4_PMIN),
    op.set(x),
    op.get(x),
    op.get(k.f(Math.LOG2E)),
    vmul,
    op.simd(F32X4_NEAREST),
    op.set(kk),
    // f = x − k·ln2
    lessKLn2(k, [op.get(x)], [op.get(kk)]),
    op.set(f),
    // p = poly(f)·f² + f + 1
    poly,
    op.get(f),
    vmul,
    op.get(f),
    vmul,
    op.get(f),
    vadd,
    op.get(k.f(1)),
    vadd,
    // · 2^k, built in the exponent bits
    op.get(kk),
    op.simd(I32X4_TRUNC_SAT_F32X4_S),
    op.get(k.i127()),
    op.simd(I32X4_ADD),
    op.i32(23),
    op.simd(I32X4_SHL),
    vmul,
  ];
}

// exp on [−87.3, 0] (what a logsumexp sums, x − max): a degree-5 polynomial for e^t on |t| ≤ ln2/2, fitted here to
// the least maximum relative error (9.5e-8 with float32 coefficients, about 1.6 ulp), and 2^n made by the
// magic-number rounding: x·log2e + (1.5·2^23 + 127) leaves 127 + round(x·log2e) in the low bits of the float, which
// shifted left by 23 are the bits of 2^n. Fewer instructions than exp4 (no upper clamp, no nearest, no conversion).
const EXP_NEG_COEFFS = [8.29031e-3, 4.189793e-2, 1.6667636e-1, 4.999915e-1, 9.999997e-1];
const MAGIC = 12582912 + 127;

/** exp of the f32x4 on the stack for lanes ≤ 0 (lanes below −87.3 give 2^−126; NaN stays NaN). */
export function expNeg4(k: Consts, tmp: { x: number; k: number; f: number }): Code {
  const { x, k: n, f: t } = tmp;
  const poly: Code = [op.get(k.f(EXP_NEG_COEFFS[0]!))];
  for (const c of EXP_NEG_COEFFS.slice(1)) poly.push(op.get(t), vmul, op.get(k.f(c)), vadd);
  return [
    op.get(k.f(-87.3)),
    op.simd(F32X4_PMAX),
    op.tee(x),
    op.get(k.f(Math.LOG2E)),
    vmul,
    op.get(k.f(MAGIC)),
    vadd,
    op.set(n),
    // t = x − n·ln2, n = the rounded value less the magic number (held in t until then)
    op.get(n),
    op.get(k.f(MAGIC)),
    vsub,
    op.set(t),
    lessKLn2(k, [op.get(x)], [op.get(t)]),
    op.set(t),
    // s = 2^n from the bits; e^x = s + (t·s)·p(t)
    op.get(n),
    op.i32(23),
    op.simd(I32X4_SHL),
    op.tee(n),
    op.get(t),
    op.get(n),
    vmul,
    poly,
    vmul,
    vadd,
  ];
}

/** σ of the f32x4 `arg` leaves: 1 / (1 + exp(−arg)). */
export function sigmoid4(k: Consts, tmp: { x: number; k: number; f: number }, arg: Code): Code {
  return [op.get(k.f(1)), op.get(k.f(0)), arg, vsub, exp4(k, tmp), op.get(k.f(1)), vadd, vdiv];
}
