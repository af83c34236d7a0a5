// exp and the logistic function σ on four float32 lanes, as byte code for the SIMD kernels: range reduction by ln 2
// in two parts (Cody and Waite), a degree-5 polynomial for e^t on |t| ≤ ln2/2 (9.5e-8 relative, about 1.6 ulp), and
// 2^n built in the exponent bits by magic-number rounding.
import { Consts, op, vadd, vsub, vmul, vdiv, F32X4_PMAX, F32X4_PMIN, I32X4_SHL, type Code } from './assembler.js';

/**
 * x − k·ln 2 for the f32x4 `x` and `k` leave (both read twice: give local reads), ln 2 in two parts (Cody and
 * Waite) so that k·C1 is exact for the |k| ≤ 128 of float32 exp.
 */
function lessKLn2(k: Consts, x: Code, kk: Code): Code {
  return [x, kk, op.get(k.f(0.693359375)), vmul, vsub, kk, op.get(k.f(-2.1219444e-4)), vmul, vsub];
}

// e^t on |t| ≤ ln2/2 is 1 + t·p(t), p of degree 4 fitted here to the least maximum relative error (9.5e-8 with
// float32 coefficients, about 1.6 ulp). 2^n comes from magic-number rounding: x·log2e + (1.5·2^23 + 127) leaves
// 127 + round(x·log2e) in the low bits of the float (for |x·log2e| < 2^22), which shifted left by 23 are the bits of
// 2^n, for n in [−126, 127]: hence the clamps. This replaced Cephes' expf (a degree-7 polynomial, round-to-nearest
// and an integer conversion, which V8 expands to several x64 instructions): the GRU step kernel at 320 × 128 units,
// three σ a unit, 234 → 145 µs.
const EXP_COEFFS = [8.29031e-3, 4.189793e-2, 1.6667636e-1, 4.999915e-1, 9.999997e-1];
const MAGIC = 12582912 + 127;

/** exp of the f32x4 on the stack, lanes clamped to [−87.3, ∞) (88.3 too when `upper`); NaN stays NaN. */
function expClamped(k: Consts, tmp: { x: number; k: number; f: number }, upper: boolean): Code {
  const { x, k: n, f: t } = tmp;
  const poly: Code = [op.get(k.f(EXP_COEFFS[0]!))];
  for (const c of EXP_COEFFS.slice(1)) poly.push(op.get(t), vmul, op.get(k.f(c)), vadd);
  return [
    // pmax(x, lo) = x < lo ? lo : x and pmin(x, hi) = hi < x ? hi : x: one instruction each, and NaN passes.
    op.get(k.f(-87.3)),
    op.simd(F32X4_PMAX),
    upper ? [op.get(k.f(88.3)), op.simd(F32X4_PMIN)] : [],
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

/** exp of the f32x4 on the stack; x is clamped to [−87.3, 88.3], where float32 exp ends. NaN stays NaN. */
export function exp4(k: Consts, tmp: { x: number; k: number; f: number }): Code {
  return expClamped(k, tmp, true);
}

/**
 * exp of the f32x4 on the stack for lanes ≤ 0 (what a logsumexp sums, x − max; lanes below −87.3 give 2^−126; NaN
 * stays NaN): exp4 without the upper clamp.
 */
export function expNeg4(k: Consts, tmp: { x: number; k: number; f: number }): Code {
  return expClamped(k, tmp, false);
}

/** σ of the f32x4 `arg` leaves: 1 / (1 + exp(−arg)). */
export function sigmoid4(k: Consts, tmp: { x: number; k: number; f: number }, arg: Code): Code {
  return [op.get(k.f(1)), op.get(k.f(0)), arg, vsub, exp4(k, tmp), op.get(k.f(1)), vadd, vdiv];
}
