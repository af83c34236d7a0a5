// Element-wise kernels in WebAssembly SIMD, running on the wasm backend's own heap.
//
// The toolkit's fused kernels (GRU step and its gradient, Adam) were JavaScript loops: V8 runs them a scalar at a
// time, at 2–10 ns an element on this class of machine, and on the small translation workload they were a quarter
// of a training step and a third of a greedy decode. Here the same loops are WebAssembly with 128-bit SIMD, four
// lanes at a time, exp from a polynomial (about 2 ulps, simdMath.ts). The module is written here with
// the toolkit's own assembler (assembler.ts) and instantiated once per backend with the backend's memory imported
// (binding.ts), so kernels read and write tensors in place, by byte offset.
//
// Kernels take byte offsets and counts; 0 as an optional tensor's offset means absent (the heap never allocates
// at 0). The GRU kernels need H a multiple of 4 (callers fall back on the JavaScript loops otherwise) and Adam
// takes a multiple of 4 values (its caller does the rest); the others finish rows one value at a time. The row
// reductions that search and ArgMax use (each row's largest value, block maxima, Σ exp(x − max)) are in
// rowKernels.ts, assembled into the same module.
import {
  Fn, Consts, op, I32, F32, V128, vadd, vsub, vmul, vdiv, assembleModule, type Code,
  F32X4_SPLAT, F32X4_SQRT,
} from './assembler.js';
import { sigmoid4 } from './simdMath.js';
import { argMaxRowsFn, blockMaxRowsFn, expRowsFn, expSumRowsFn, rowCandidatesFn } from './rowKernels.js';

/**
 * gruStep(xp, hU, c, h, mask, t, B, H, hNew, cache): gruStepValues (recurrent/gruKernels.ts) over byte offsets; mask and
 * cache 0 = absent. A padding row computes as the others (its cache too) and then carries h.
 */
function gruStepFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [xp, hU, c, h, mask, t, B, H, hNew, cache] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  const k = new Consts(fn);
  const L = (type = I32) => fn.local(type);
  const [H4, b, j, row, xr, xz, xn, ur, uz, un, hr, nr, cr, cz, cN, cc] = [L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L()];
  const [r, z, vun, n] = [L(V128), L(V128), L(V128), L(V128)];
  const tmp = { x: L(V128), k: L(V128), f: L(V128) };
  const add3 = (x: number, u: number, bias: number): Code => [fn.at(x, j), fn.at(u, j), vadd, fn.at(bias, j), vadd];
  // Two passes over the row, so that each iteration's dependency chain is short and the processor overlaps
  // iterations: r first (kept in h′'s row until the second pass reads it), then z and n, independent of each other.
  const tmpZ = { x: L(V128), k: L(V128), f: L(V128) };
  const passR: Code = [
    sigmoid4(k, tmp, add3(xr, ur, cr)), op.set(r),
    fn.put(nr, j, [op.get(r)]),
    op.get(cache), op.if, fn.put(cc, j, [op.get(r)]), op.end,
  ];
  const passN: Code = [
    fn.at(nr, j), op.set(r),
    fn.at(un, j), fn.at(cN, j), vadd, op.set(vun),
    // n = tanh(a) = 2σ(2a) − 1, a = x_n + r ⊙ un
    op.get(k.f(2)), sigmoid4(k, tmp, [op.get(k.f(2)), fn.at(xn, j), op.get(r), op.get(vun), vmul, vadd, vmul]), vmul, op.get(k.f(1)), vsub, op.set(n),
    sigmoid4(k, tmpZ, add3(xz, uz, cz)), op.set(z),
    // h' = n + z ⊙ (h − n)
    fn.put(nr, j, [op.get(n), op.get(z), fn.at(hr, j), op.get(n), vsub, vmul, vadd]),
    op.get(cache), op.if,
    op.get(cc), op.get(H4), op.add, op.get(j), op.add, op.get(z), op.store(),
    op.get(cc), op.get(H4), op.i32(2), op.mul, op.add, op.get(j), op.add, op.get(n), op.store(),
    op.get(cc), op.get(H4), op.i32(3), op.mul, op.add, op.get(j), op.add, op.get(vun), op.store(),
    op.end,
  ];
  const perRow: Code = [
    // row = t·B + b; the x row starts at xp + row·3·H4
    op.get(t), op.get(B), op.mul, op.get(b), op.add, op.set(row),
    op.get(xp), op.get(row), op.i32(3), op.mul, op.get(H4), op.mul, op.add, op.tee(xr), op.get(H4), op.add, op.tee(xz), op.get(H4), op.add, op.set(xn),
    op.get(hU), op.get(b), op.i32(3), op.mul, op.get(H4), op.mul, op.add, op.tee(ur), op.get(H4), op.add, op.tee(uz), op.get(H4), op.add, op.set(un),
    op.get(h), op.get(b), op.get(H4), op.mul, op.add, op.set(hr),
    op.get(hNew), op.get(b), op.get(H4), op.mul, op.add, op.set(nr),
    op.get(cache), op.get(b), op.i32(4), op.mul, op.get(H4), op.mul, op.add, op.set(cc),
    fn.forUp(j, [op.get(H4)], 16, passR),
    fn.forUp(j, [op.get(H4)], 16, passN),
    // Padding: h' = h.
    op.get(mask), op.if,
    op.get(mask), op.get(row), op.i32(4), op.mul, op.add, op.f32load(), op.f32(0), op.f32eq, op.if,
    op.get(nr), op.get(hr), op.get(H4), op.copy,
    op.end, op.end,
  ];
  const setup: Code = [
    op.get(H), op.i32(4), op.mul, op.set(H4),
    op.get(c), op.tee(cr), op.get(H4), op.add, op.tee(cz), op.get(H4), op.add, op.set(cN),
  ];
  fn.code = [...k.init, setup, fn.forUp(b, [op.get(B)], 1, perRow)];
  return fn;
}

/**
 * gruStepGrad(dOut, dhA, dhB, cache, h, mask, t, B, H, dGate, dXp, dhDirect): gruStepGradValues over byte offsets;
 * dOut, dhA, dhB, mask 0 = absent.
 */
function gruStepGradFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32, I32]);
  const [dOut, dhA, dhB, cache, h, mask, t, B, H, dGate, dXp, dhDirect] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  const k = new Consts(fn);
  const L = (type = I32) => fn.local(type);
  const [H4, b, j, row, ro, rh, rc, rg, rx, keep] = [L(), L(), L(), L(), L(), L(), L(), L(), L(), L()];
  const [g, r, z, n, un, dn, dr, dz, omz] = [L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128)];
  const at = (base: number, blocks: number): Code => [op.get(base), op.get(H4), op.i32(blocks), op.mul, op.add, op.get(j), op.add, op.load()];
  const put = (base: number, blocks: number, value: Code): Code =>
    [op.get(base), op.get(H4), op.i32(blocks), op.mul, op.add, op.get(j), op.add, value, op.store()];
  const gather: Code = [
    op.get(k.f(0)), op.set(g),
    op.get(dOut), op.if, op.get(g), fn.at(ro, j), vadd, op.set(g), op.end,
    op.get(dhA), op.if, op.get(g), op.get(dhA), op.get(rh), op.add, op.get(j), op.add, op.load(), vadd, op.set(g), op.end,
    op.get(dhB), op.if, op.get(g), op.get(dhB), op.get(rh), op.add, op.get(j), op.add, op.load(), vadd, op.set(g), op.end,
  ];
  const body: Code = [
    gather,
    op.get(keep), op.eqz, op.if,
    op.get(dhDirect), op.get(rh), op.add, op.get(j), op.add, op.get(g), op.store(),
    op.else,
    at(rc, 0), op.set(r), at(rc, 1), op.set(z), at(rc, 2), op.set(n), at(rc, 3), op.set(un),
    op.get(k.f(1)), op.get(z), vsub, op.set(omz),
    // dnPre = g(1 − z)(1 − n²); drPre = dnPre·un·r(1 − r); dzPre = g(h − n)·z(1 − z)
    op.get(g), op.get(omz), vmul, op.get(k.f(1)), op.get(n), op.get(n), vmul, vsub, vmul, op.set(dn),
    op.get(dn), op.get(un), vmul, op.get(r), vmul, op.get(k.f(1)), op.get(r), vsub, vmul, op.set(dr),
    op.get(g), op.get(h), op.get(rh), op.add, op.get(j), op.add, op.load(), op.get(n), vsub, vmul, op.get(z), vmul, op.get(omz), vmul, op.set(dz),
    put(rg, 0, [op.get(dr)]), put(rg, 1, [op.get(dz)]), put(rg, 2, [op.get(dn), op.get(r), vmul]),
    put(rx, 0, [op.get(dr)]), put(rx, 1, [op.get(dz)]), put(rx, 2, [op.get(dn)]),
    op.get(dhDirect), op.get(rh), op.add, op.get(j), op.add, op.get(g), op.get(z), vmul, op.store(),
    op.end,
  ];
  const perRow: Code = [
    op.get(t), op.get(B), op.mul, op.get(b), op.add, op.set(row),
    op.get(dOut), op.get(row), op.get(H4), op.mul, op.add, op.set(ro),
    op.get(b), op.get(H4), op.mul, op.set(rh), // offset within [B, H] tensors
    op.get(cache), op.get(b), op.i32(4), op.mul, op.get(H4), op.mul, op.add, op.set(rc),
    op.get(dGate), op.get(b), op.i32(3), op.mul, op.get(H4), op.mul, op.add, op.set(rg),
    op.get(dXp), op.get(b), op.i32(3), op.mul, op.get(H4), op.mul, op.add, op.set(rx),
    op.i32(1), op.set(keep),
    op.get(mask), op.if,
    op.get(mask), op.get(row), op.i32(4), op.mul, op.add, op.f32load(), op.f32(0), op.f32eq, op.if, op.i32(0), op.set(keep), op.end,
    op.end,
    fn.forUp(j, [op.get(H4)], 16, body),
    op.get(keep), op.eqz, op.if,
    op.get(rg), op.i32(0), op.get(H4), op.i32(3), op.mul, op.fill,
    op.get(rx), op.i32(0), op.get(H4), op.i32(3), op.mul, op.fill,
    op.end,
  ];
  fn.code = [...k.init, op.get(H), op.i32(4), op.mul, op.set(H4), fn.forUp(b, [op.get(B)], 1, perRow)];
  return fn;
}

/**
 * adamStep(w, m, v, g, n, wOut, mOut, vOut, beta1, beta2, k1, k2, step, root, eps): adamStepValues (train/
 * fusedAdam.ts) over the first n floats (n a multiple of 4), in float32.
 */
function adamStepFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, I32, I32, F32, F32, F32, F32, F32, F32, F32]);
  const [w, m, v, g, n, wOut, mOut, vOut] = [0, 1, 2, 3, 4, 5, 6, 7];
  const scalars = [8, 9, 10, 11, 12, 13, 14]; // beta1, beta2, k1, k2, step, root, eps
  const L = (type = I32) => fn.local(type);
  const [i, bytes] = [L(), L()];
  const [b1, b2, k1, k2, step, root, eps, gi, mi, vi] = [L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128), L(V128)];
  const splats: Code = [b1, b2, k1, k2, step, root, eps].map((l, s) => [op.get(scalars[s]!), op.simd(F32X4_SPLAT), op.set(l)]);
  const body: Code = [
    fn.at(g, i), op.set(gi),
    op.get(b1), fn.at(m, i), vmul, op.get(k1), op.get(gi), vmul, vadd, op.set(mi),
    op.get(b2), fn.at(v, i), vmul, op.get(k2), op.get(gi), vmul, op.get(gi), vmul, vadd, op.set(vi),
    fn.put(mOut, i, [op.get(mi)]),
    fn.put(vOut, i, [op.get(vi)]),
    fn.put(wOut, i, [fn.at(w, i), op.get(step), op.get(mi), vmul, op.get(vi), op.simd(F32X4_SQRT), op.get(root), vmul, op.get(eps), vadd, vdiv, vsub]),
  ];
  fn.code = [splats, op.get(n), op.i32(4), op.mul, op.set(bytes), fn.forUp(i, [op.get(bytes)], 16, body)];
  return fn;
}

/**
 * unsortedSegmentSum(x, ids, n, inner, numSegments, out): out[ids[i], :] += x[i, :] over float32 rows of `inner`
 * values, out zeroed first; ids (int32) outside [0, numSegments) are dropped, as in TensorFlow.
 */
function segmentSumFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32]);
  const [x, ids, n, inner, numSegments, out] = [0, 1, 2, 3, 4, 5];
  const [i, j, rowBytes, vecBytes, src, dst, seg] = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const perId: Code = [
    op.get(ids), op.get(i), op.i32(4), op.mul, op.add, op.i32load(), op.tee(seg), op.get(numSegments), op.ltU, op.if,
    op.get(x), op.get(i), op.get(rowBytes), op.mul, op.add, op.set(src),
    op.get(out), op.get(seg), op.get(rowBytes), op.mul, op.add, op.set(dst),
    fn.forUp(j, [op.get(vecBytes)], 16, fn.put(dst, j, [fn.at(dst, j), fn.at(src, j), vadd])),
    // The last inner % 4 values one at a time (j continues from where the vector loop stopped).
    fn.from(j, [], [op.get(rowBytes)], 4, [
      op.get(dst), op.get(j), op.add, op.get(dst), op.get(j), op.add, op.f32load(), op.get(src), op.get(j), op.add, op.f32load(), op.f32add, op.f32store(),
    ]),
    op.end,
  ];
  fn.code = [
    op.get(inner), op.i32(4), op.mul, op.set(rowBytes),
    op.get(inner), op.i32(-4), op.i32and, op.i32(4), op.mul, op.set(vecBytes),
    op.get(out), op.i32(0), op.get(numSegments), op.get(rowBytes), op.mul, op.fill,
    fn.forUp(i, [op.get(n)], 1, perId),
  ];
  return fn;
}

/**
 * transpose(x, batch, A, B, inner, out): out[n, b, a, :] = x[n, a, b, :] for 4-byte elements, rows of `inner`
 * values moving whole; single values (inner = 1) in 4 × 4 register blocks when A and B are multiples of 4,
 * otherwise in 8 × 8 tiles, so that reads and writes both stay in cache lines.
 */
function transposeFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32]);
  const [x, batch, A, B, inner, out] = [0, 1, 2, 3, 4, 5];
  const L = () => fn.local(I32);
  const [n, a0, b0, a, b, aEnd, bEnd, xb, ob, rowBytes] = [L(), L(), L(), L(), L(), L(), L(), L(), L(), L()];
  const min = (p: Code, q: Code): Code => [p, q, p, q, op.ltU, op.select];
  // (row·cols + col)·bytes + base
  const addr = (base: number, row: number, cols: number, col: number, bytes: Code): Code =>
    [op.get(base), op.get(row), op.get(cols), op.mul, op.get(col), op.add, bytes, op.mul, op.add];
  const tiled: Code = [
    fn.forUp(a0, [op.get(A)], 8, fn.forUp(b0, [op.get(B)], 8, [
      min([op.get(a0), op.i32(8), op.add], [op.get(A)]), op.set(aEnd),
      min([op.get(b0), op.i32(8), op.add], [op.get(B)]), op.set(bEnd),
      fn.from(a, [op.get(a0)], [op.get(aEnd)], 1, fn.from(b, [op.get(b0)], [op.get(bEnd)], 1, [
        addr(ob, b, A, a, [op.i32(4)]), addr(xb, a, B, b, [op.i32(4)]), op.i32load(), op.i32store(),
      ])),
    ])),
  ];
  const rows: Code = [
    fn.forUp(a, [op.get(A)], 1, fn.forUp(b, [op.get(B)], 1, [
      addr(ob, b, A, a, [op.get(rowBytes)]), addr(xb, a, B, b, [op.get(rowBytes)]), op.get(rowBytes), op.copy,
    ])),
  ];
  // A and B multiples of 4: 4 × 4 blocks in registers (four loads, eight shuffles, four stores), 16 rows of x at a
  // time so that each row of the output gets 64 contiguous bytes per pass.
  const [src, dst, aBytes, bBytes] = [L(), L(), L(), L()];
  const [r0, r1, r2, r3, t0, t1, t2, t3] = Array.from({ length: 8 }, () => fn.local(V128)) as [number, number, number, number, number, number, number, number];
  const shuffle = (p: number, q: number, lanes: number[]): Code => [op.get(p), op.get(q), 0xfd, 0x0d, ...lanes];
  const LO32 = [0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23];
  const HI32 = [8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31];
  const LO64 = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23];
  const HI64 = [8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31];
  const rowOf = (base: number, k: number, stride: number): Code => [op.get(base), op.get(stride), op.i32(k), op.mul, op.add];
  const blocks: Code = [
    op.get(A), op.i32(4), op.mul, op.set(aBytes),
    op.get(B), op.i32(4), op.mul, op.set(bBytes),
    fn.forUp(a0, [op.get(A)], 16, [
      min([op.get(a0), op.i32(16), op.add], [op.get(A)]), op.set(aEnd),
      fn.forUp(b, [op.get(B)], 4, fn.from(a, [op.get(a0)], [op.get(aEnd)], 4, [
        addr(xb, a, B, b, [op.i32(4)]), op.set(src),
        addr(ob, b, A, a, [op.i32(4)]), op.set(dst),
        rowOf(src, 0, bBytes), op.load(), op.set(r0), rowOf(src, 1, bBytes), op.load(), op.set(r1),
        rowOf(src, 2, bBytes), op.load(), op.set(r2), rowOf(src, 3, bBytes), op.load(), op.set(r3),
        shuffle(r0, r1, LO32), op.set(t0), shuffle(r0, r1, HI32), op.set(t1),
        shuffle(r2, r3, LO32), op.set(t2), shuffle(r2, r3, HI32), op.set(t3),
        rowOf(dst, 0, aBytes), shuffle(t0, t2, LO64), op.store(), rowOf(dst, 1, aBytes), shuffle(t0, t2, HI64), op.store(),
        rowOf(dst, 2, aBytes), shuffle(t1, t3, LO64), op.store(), rowOf(dst, 3, aBytes), shuffle(t1, t3, HI64), op.store(),
      ])),
    ]),
  ];
  fn.code = [
    op.get(inner), op.i32(4), op.mul, op.set(rowBytes),
    fn.forUp(n, [op.get(batch)], 1, [
      op.get(x), op.get(n), op.get(A), op.mul, op.get(B), op.mul, op.get(rowBytes), op.mul, op.add, op.set(xb),
      op.get(out), op.get(n), op.get(A), op.mul, op.get(B), op.mul, op.get(rowBytes), op.mul, op.add, op.set(ob),
      op.get(inner), op.i32(1), op.ne, op.if, rows, op.else,
      op.get(A), op.get(B), op.i32or, op.i32(3), op.i32and, op.eqz, op.if, blocks, op.else, tiled, op.end,
      op.end,
    ]),
  ];
  return fn;
}

/**
 * A row-wise op: out[r, :] = x[r, :] ∘ by[r], ∘ + (addRows: a log-softmax's shift) or × (scaleRows: the softmax
 * cross-entropy's weights over Σ exp). out may be x.
 */
function rowsFn(vector: Code, scalar: Code): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32]);
  const [x, shifts, rows, width, out] = [0, 1, 2, 3, 4];
  const [r, j, xr, or, rowBytes, vecBytes] = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const [v] = [fn.local(V128)];
  const [shift] = [fn.local(F32)];
  fn.code = [
    op.get(width), op.i32(4), op.mul, op.set(rowBytes),
    op.get(width), op.i32(-4), op.i32and, op.i32(4), op.mul, op.set(vecBytes),
    fn.forUp(r, [op.get(rows)], 1, [
      op.get(shifts), op.get(r), op.i32(4), op.mul, op.add, op.f32load(), op.tee(shift), op.simd(F32X4_SPLAT), op.set(v),
      op.get(x), op.get(r), op.get(rowBytes), op.mul, op.add, op.set(xr),
      op.get(out), op.get(r), op.get(rowBytes), op.mul, op.add, op.set(or),
      fn.forUp(j, [op.get(vecBytes)], 16, fn.put(or, j, [fn.at(xr, j), op.get(v), vector])),
      fn.from(j, [], [op.get(rowBytes)], 4, [
        op.get(or), op.get(j), op.add, op.get(xr), op.get(j), op.add, op.f32load(), op.get(shift), scalar, op.f32store(),
      ]),
    ]),
  ];
  return fn;
}

/** addRows(x, shifts, rows, width, out): out[r, :] = x[r, :] + shifts[r]. */
const addRowsFn = (): Fn => rowsFn(vadd, op.f32add);
/** scaleRows(x, scales, rows, width, out): out[r, :] = x[r, :] · scales[r]. */
const scaleRowsFn = (): Fn => rowsFn(vmul, op.f32mul);

/**
 * tanh(x, n, out): out = tanh(x) = 2σ(2x) − 1 over the first n floats (n a multiple of 4), as the GRU step's n.
 * The backend's Tanh runs std::tanh a float at a time (~15 ns each here; attention's tanh(W_c[c; s]) every step).
 */
function tanhFn(): Fn {
  const fn = new Fn([I32, I32, I32]);
  const [x, n, out] = [0, 1, 2];
  const k = new Consts(fn);
  const [i, bytes] = [fn.local(I32), fn.local(I32)];
  const tmp = { x: fn.local(V128), k: fn.local(V128), f: fn.local(V128) };
  const body = fn.put(out, i, [op.get(k.f(2)), sigmoid4(k, tmp, [op.get(k.f(2)), fn.at(x, i), vmul]), vmul, op.get(k.f(1)), vsub]);
  fn.code = [...k.init, op.get(n), op.i32(4), op.mul, op.set(bytes), fn.forUp(i, [op.get(bytes)], 16, body)];
  return fn;
}

/**
 * gatherRows(x, rowBytes, ids, n, out): row i of out = row ids[i] of x (ids int32, in range: the caller checks), rows
 * of rowBytes bytes, one memory.copy each. The JavaScript form's copyWithin costs ~0.1 µs a call beyond its copy:
 * beam 5's 320 rows a gather, twice a step.
 */
function gatherRowsFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32]);
  const [x, rowBytes, ids, n, out] = [0, 1, 2, 3, 4];
  const i = fn.local(I32);
  fn.code = [
    fn.forUp(i, [op.get(n)], 1, [
      op.get(out), op.get(i), op.get(rowBytes), op.mul, op.add,
      op.get(x), op.get(ids), op.get(i), op.i32(4), op.mul, op.add, op.i32load(), op.get(rowBytes), op.mul, op.add,
      op.get(rowBytes), op.copy,
    ]),
  ];
  return fn;
}

const KERNELS = {
  tanh: tanhFn, addRows: addRowsFn, transpose: transposeFn, gruStep: gruStepFn, gruStepGrad: gruStepGradFn,
  adamStep: adamStepFn, segmentSum: segmentSumFn, argMaxRows: argMaxRowsFn, blockMaxRows: blockMaxRowsFn,
  expSumRows: expSumRowsFn, expRows: expRowsFn, scaleRows: scaleRowsFn, rowCandidates: rowCandidatesFn,
  gatherRows: gatherRowsFn,
} as const;

/** The module's bytes: kernels importing `env.memory` (shared or not, as the backend's). */
export function simdModuleBytes(shared: boolean): Uint8Array<ArrayBuffer> {
  return assembleModule(Object.entries(KERNELS).map(([name, make]) => ({ name, fn: make() })), shared);
}

export interface SimdKernels {
  gatherRows(x: number, rowBytes: number, ids: number, n: number, out: number): void;
  gruStep(xp: number, hU: number, c: number, h: number, mask: number, t: number, B: number, H: number, hNew: number, cache: number): void;
  gruStepGrad(
    dOut: number, dhA: number, dhB: number, cache: number, h: number, mask: number, t: number, B: number, H: number,
    dGate: number, dXp: number, dhDirect: number,
  ): void;
  adamStep(
    w: number, m: number, v: number, g: number, n: number, wOut: number, mOut: number, vOut: number,
    beta1: number, beta2: number, k1: number, k2: number, step: number, root: number, eps: number,
  ): void;
  segmentSum(x: number, ids: number, n: number, inner: number, numSegments: number, out: number): void;
  argMaxRows(x: number, rows: number, width: number, out: number): void;
  blockMaxRows(x: number, rows: number, width: number, out: number): void;
  expSumRows(x: number, rows: number, width: number, maxes: number, out: number): void;
  rowCandidates(x: number, rows: number, width: number, k: number, blocks: number, cap: number, counts: number, cand: number): void;
  expRows(x: number, rows: number, width: number, maxes: number, out: number, sums: number): void;
  scaleRows(x: number, scales: number, rows: number, width: number, out: number): void;
  transpose(x: number, batch: number, A: number, B: number, inner: number, out: number): void;
  addRows(x: number, shifts: number, rows: number, width: number, out: number): void;
  tanh(x: number, n: number, out: number): void;
}
