// Row reductions in WebAssembly SIMD for search (src/search/rowTop.ts), ArgMax (kernels.ts) and the softmax
// cross-entropy (src/loss/crossEntropy.ts): each row's first largest value, the maxima of its blocks of 32 values,
// Σ exp(x − max), and the exponentials themselves with their sum. Part of the SIMD module
// (simdKernels.ts), which assembles them beside the element-wise kernels; byte offsets and counts, as there.
import {
  Fn, Consts, op, I32, F32, V128, vadd, vsub, f32x4Lane, type Code,
  F32X4_SPLAT, I32X4_SPLAT, F32X4_EQ, F32X4_NE, F32X4_GE, V128_OR, V128_ANY_TRUE, F32X4_PMAX, i8x16Shuffle, f32Lanes,
} from './assembler.js';
import { expNeg4 } from './simdMath.js';

/**
 * argMaxRows(x, rows, width, out): out[r] = the first index of row r's largest value (int32), or −1 where the row
 * holds a NaN (the caller decides those rows).
 */
export function argMaxRowsFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32]);
  const [x, rows, width, out] = [0, 1, 2, 3];
  const [r, j, base, rowBytes, vecBytes, found] = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const [vm, vnan, v] = [fn.local(V128), fn.local(V128), fn.local(V128)];
  const [m] = [fn.local(F32)];
  const lane = (l: number): Code => [op.get(vm), f32x4Lane(l)];
  const perRow: Code = [
    op.get(x), op.get(r), op.get(rowBytes), op.mul, op.add, op.set(base),
    op.f32(-Infinity), op.set(m),
    op.get(vecBytes), op.if,
    // pmax is one instruction where max's NaN rule costs several; NaNs are caught beside it (v ≠ v).
    fn.at(base, j /* j is 0 here */), op.set(vm),
    op.i32(0), op.simd(I32X4_SPLAT), op.set(vnan),
    fn.forUp(j, [op.get(vecBytes)], 16, [
      fn.at(base, j), op.set(v),
      op.get(vm), op.get(v), op.simd(F32X4_PMAX), op.set(vm),
      op.get(vnan), op.get(v), op.get(v), op.simd(F32X4_NE), op.simd(V128_OR), op.set(vnan),
    ]),
    lane(0), lane(1), op.f32max, lane(2), lane(3), op.f32max, op.f32max, op.set(m),
    op.get(vnan), op.simd(V128_ANY_TRUE), op.if, op.f32(Number.NaN), op.set(m), op.end,
    op.end,
    fn.from(j, [op.get(vecBytes)], [op.get(rowBytes)], 4, [op.get(m), op.get(base), op.get(j), op.add, op.f32load(), op.f32max, op.set(m)]),
    // The first index holding the maximum; none (−1) when the maximum is NaN. Four lanes at a time up to the
    // vector holding it, then one by one from there.
    op.i32(-1), op.set(found),
    op.get(m), op.get(m), op.f32eq, op.if,
    op.get(m), op.simd(F32X4_SPLAT), op.set(vm),
    fn.forUp(j, [op.get(vecBytes)], 16, [fn.at(base, j), op.get(vm), op.simd(F32X4_EQ), op.simd(V128_ANY_TRUE), op.brIf(1)]),
    fn.from(j, [], [op.get(rowBytes)], 4, [
      op.get(base), op.get(j), op.add, op.f32load(), op.get(m), op.f32eq, op.if, op.get(j), op.i32(2), op.shrU, op.set(found), op.br(2), op.end,
    ]),
    op.end,
    op.get(out), op.get(r), op.i32(4), op.mul, op.add, op.get(found), op.i32store(),
  ];
  fn.code = [
    op.get(width), op.i32(4), op.mul, op.set(rowBytes),
    op.get(width), op.i32(-4), op.i32and, op.i32(4), op.mul, op.set(vecBytes),
    op.i32(0), op.set(j),
    fn.forUp(r, [op.get(rows)], 1, [op.i32(0), op.set(j), perRow]),
  ];
  return fn;
}

/** Values a block of blockMaxRows spans. */
export const BLOCK_WIDTH = 32;

/**
 * Each row's largest value from its block maxima (blockMaxRows' output) and the values after the last whole block
 * (NaN never counts: blockMaxRows leaves NaNs out, and a comparison with NaN is false); −∞ for a row of −∞ and NaNs.
 */
export function rowMaxesFromBlocks(x: Float32Array, blockMax: Float32Array, rows: number, V: number, out: Float32Array): void {
  const nb = Math.floor(V / BLOCK_WIDTH);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let b = 0; b < nb; b++) if (blockMax[r * nb + b]! > max) max = blockMax[r * nb + b]!;
    for (let v = nb * BLOCK_WIDTH; v < V; v++) if (x[r * V + v]! > max) max = x[r * V + v]!;
    out[r] = max;
  }
}

/**
 * blockMaxRows(x, rows, width, out): out[r·nb + i] = the largest of x[r, 32i … 32i+31] for each row's nb = ⌊width/32⌋
 * whole blocks, NaNs left out (−∞ for a block without a number). Search's top-k (search/rowTop.ts) reads a row's
 * block maxima and scans only the blocks that can hold one of its best values.
 */
export function blockMaxRowsFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32]);
  const [x, rows, width, out] = [0, 1, 2, 3];
  const [r, j, xr, o, rowBytes, blockBytes] = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const [vm, low] = [fn.local(V128), fn.local(V128)];
  const at = (offset: number): Code => [op.get(xr), op.get(j), op.add, op.load(offset)];
  // pmax(m, v) = m < v ? v : m keeps m where v is NaN: two chains from −∞ (never NaN) then joined. Blocks of 32
  // (against 16 and 64): the fewest nanoseconds for this pass and the scan after it on [108, 6565] logits.
  const max = op.simd(F32X4_PMAX);
  fn.code = [
    op.get(width), op.i32(4), op.mul, op.set(rowBytes),
    op.get(width), op.i32(-32), op.i32and, op.i32(4), op.mul, op.set(blockBytes),
    op.f32(-Infinity), op.simd(F32X4_SPLAT), op.set(low),
    op.get(out), op.set(o),
    fn.forUp(r, [op.get(rows)], 1, [
      op.get(x), op.get(r), op.get(rowBytes), op.mul, op.add, op.set(xr),
      fn.forUp(j, [op.get(blockBytes)], 128, [
        op.get(low), at(0), max, at(16), max, at(32), max, at(48), max,
        op.get(low), at(64), max, at(80), max, at(96), max, at(112), max, max, op.set(vm),
        // Across the lanes with shuffles and pmax, branch-free (f32.max's NaN rule is a branch a call, and on
        // random logits those branches mispredict: 1.8 → 0.5 ms on 320 × 8,000).
        op.get(vm), op.get(vm), op.get(vm), i8x16Shuffle(f32Lanes(2, 3, 0, 1)), max, op.set(vm),
        op.get(o), op.get(vm), op.get(vm), op.get(vm), i8x16Shuffle(f32Lanes(1, 0, 3, 2)), max, f32x4Lane(0), op.f32store(),
        op.get(o), op.i32(4), op.add, op.set(o),
      ]),
    ]),
  ];
  return fn;
}

/** Candidates a row of rowCandidates holds: a few more than the k asked for, as values from t on are (~k + 3). */
export const candidateCapacity = (k: number): number => 4 * k + 28;

/**
 * rowCandidates(x, rows, width, k, blocks, cap, counts, cand): for each row r with at least k whole blocks, t = the
 * k-th largest of its block maxima (blockMaxRows' output; a bound below the row's k-th best value, see
 * search/rowTop.ts) and, when t > −∞, every value of at least t, in token order, from the blocks whose maximum
 * reaches t and from the values after the last whole block: cand[r·cap + c] holds (value, token as f32) pairs, the
 * first cap of them, and counts[r] (int32) how many there are (more than cap: some were not kept). counts[r] is −1
 * for a row with fewer than k blocks or t = −∞. The k best lie among them; the caller ranks them. Each block is
 * compared four values at a time against t, and its lanes are read only where one reaches it.
 */
export function rowCandidatesFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32, I32, I32]);
  const [x, rows, width, k, blocks, cap, counts, cand] = [0, 1, 2, 3, 4, 5, 6, 7];
  const L = (): number => fn.local(I32);
  const [r, b, j, i, m, count, xr, br, cr, nb, base, idx] = [L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L(), L()];
  const [value, t] = [fn.local(F32), fn.local(F32)];
  const [tv, v] = [fn.local(V128), fn.local(V128)];
  // The row's list of its k largest block maxima, best first, kept in the first k places of its cand area.
  const listAt = (index: Code): Code => [op.get(cr), index, op.i32(4), op.mul, op.add];
  const selectT: Code = [
    op.i32(0), op.set(m),
    fn.forUp(b, [op.get(nb)], 1, [
      op.get(br), op.get(b), op.i32(4), op.mul, op.add, op.f32load(), op.set(value),
      op.block,
      // A full list takes only a value above its last, in the last place; otherwise the next place.
      op.get(m), op.get(k), op.eq, op.if,
      op.get(value), listAt([op.get(k), op.i32(1), op.sub]), op.f32load(), op.f32gt, op.eqz, op.brIf(1),
      op.get(k), op.i32(1), op.sub, op.set(i),
      op.else,
      op.get(m), op.set(i), op.get(m), op.i32(1), op.add, op.set(m),
      op.end,
      op.block, op.loop,
      op.get(i), op.eqz, op.brIf(1),
      listAt([op.get(i), op.i32(1), op.sub]), op.f32load(), op.get(value), op.f32lt, op.eqz, op.brIf(1),
      listAt([op.get(i)]), listAt([op.get(i), op.i32(1), op.sub]), op.f32load(), op.f32store(),
      op.get(i), op.i32(1), op.sub, op.set(i),
      op.br(0),
      op.end, op.end,
      listAt([op.get(i)]), op.get(value), op.f32store(),
      op.end,
    ]),
    listAt([op.get(k), op.i32(1), op.sub]), op.f32load(), op.set(t),
  ];
  // Keeps (value, token) while there is room, and counts it either way.
  const append = (token: Code): Code => [
    op.get(count), op.get(cap), op.ltU, op.if,
    op.get(cr), op.get(count), op.i32(8), op.mul, op.add, op.get(value), op.f32store(),
    op.get(cr), op.get(count), op.i32(8), op.mul, op.add, token, op.f32FromI32, op.f32store(4),
    op.end,
    op.get(count), op.i32(1), op.add, op.set(count),
  ];
  const lanes: Code = [0, 1, 2, 3].map((l) => [
    op.get(v), f32x4Lane(l), op.tee(value), op.get(t), op.f32ge, op.if,
    append([op.get(b), op.i32(32), op.mul, op.get(j), op.i32(2), op.shrU, op.add, op.i32(l), op.add]),
    op.end,
  ]);
  const blockScan = fn.forUp(b, [op.get(nb)], 1, [
    op.get(br), op.get(b), op.i32(4), op.mul, op.add, op.f32load(), op.get(t), op.f32ge, op.if,
    op.get(xr), op.get(b), op.i32(128), op.mul, op.add, op.set(base),
    fn.forUp(j, [op.i32(128)], 16, [
      op.get(base), op.get(j), op.add, op.load(), op.tee(v), op.get(tv), op.simd(F32X4_GE), op.simd(V128_ANY_TRUE),
      op.if, lanes, op.end,
    ]),
    op.end,
  ]);
  const tail = fn.from(idx, [op.get(nb), op.i32(32), op.mul], [op.get(width)], 1, [
    op.get(xr), op.get(idx), op.i32(4), op.mul, op.add, op.f32load(), op.tee(value), op.get(t), op.f32ge, op.if,
    append([op.get(idx)]),
    op.end,
  ]);
  fn.code = [
    op.get(width), op.i32(5), op.shrU, op.set(nb),
    fn.forUp(r, [op.get(rows)], 1, [
      op.get(x), op.get(r), op.get(width), op.mul, op.i32(4), op.mul, op.add, op.set(xr),
      op.get(blocks), op.get(r), op.get(nb), op.mul, op.i32(4), op.mul, op.add, op.set(br),
      op.get(cand), op.get(r), op.get(cap), op.mul, op.i32(8), op.mul, op.add, op.set(cr),
      op.i32(-1), op.set(count),
      op.get(nb), op.get(k), op.geS, op.if,
      selectT,
      op.get(t), op.f32(-Infinity), op.f32gt, op.if,
      op.i32(0), op.set(count),
      op.get(t), op.simd(F32X4_SPLAT), op.set(tv),
      blockScan,
      tail,
      op.end,
      op.end,
      op.get(counts), op.get(r), op.i32(4), op.mul, op.add, op.get(count), op.i32store(),
    ]),
  ];
  return fn;
}

/**
 * expSumRows(x, rows, width, maxes, out): out[r] = Σ exp(x[r, v] − maxes[r]) over the row's first ⌊width/4⌋·4
 * values (the caller adds the rest), exp as expNeg4 (simdMath.ts, within 1e-7 relative of exp of the float32
 * x − maxes[r]; x − maxes[r] itself rounds to float32 first). With maxes[r] the row's largest value this is the
 * sum of logsumexp(x[r]) = maxes[r] + log(out[r] + the rest): one pass where the backend's Softmax makes three and
 * writes a row of probabilities. A NaN in the row, or a row of −∞, gives NaN, as Softmax does.
 */
export function expSumRowsFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32]);
  const [x, rows, width, maxes, out] = [0, 1, 2, 3, 4];
  const k = new Consts(fn);
  const [r, j, xr, vecBytes, pairBytes] = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const [vm, sum, sum2] = [fn.local(V128), fn.local(V128), fn.local(V128)];
  const tmp = { x: fn.local(V128), k: fn.local(V128), f: fn.local(V128) };
  const tmp2 = { x: fn.local(V128), k: fn.local(V128), f: fn.local(V128) };
  const lane = (l: number): Code => [op.get(sum), f32x4Lane(l)];
  // Two vectors an iteration into two sums (built before fn.code: k.init sets up the constants they ask for).
  const term = (acc: number, offset: number, t: typeof tmp): Code =>
    [op.get(acc), op.get(xr), op.get(j), op.add, op.load(offset), op.get(vm), vsub, expNeg4(k, t), vadd, op.set(acc)];
  const pair: Code = [term(sum, 0, tmp), term(sum2, 16, tmp2)];
  const single: Code = term(sum, 0, tmp);
  const zero = k.f(0);
  fn.code = [
    ...k.init,
    op.get(width), op.i32(-4), op.i32and, op.i32(4), op.mul, op.set(vecBytes),
    op.get(width), op.i32(-8), op.i32and, op.i32(4), op.mul, op.set(pairBytes),
    fn.forUp(r, [op.get(rows)], 1, [
      op.get(x), op.get(r), op.get(width), op.mul, op.i32(4), op.mul, op.add, op.set(xr),
      op.get(maxes), op.get(r), op.i32(4), op.mul, op.add, op.f32load(), op.simd(F32X4_SPLAT), op.set(vm),
      op.get(zero), op.set(sum),
      op.get(zero), op.set(sum2),
      fn.forUp(j, [op.get(pairBytes)], 32, pair),
      fn.from(j, [], [op.get(vecBytes)], 16, single),
      op.get(sum), op.get(sum2), vadd, op.set(sum),
      op.get(out), op.get(r), op.i32(4), op.mul, op.add,
      lane(0), lane(1), op.f32add, lane(2), lane(3), op.f32add, op.f32add, op.f32store(),
    ]),
  ];
  return fn;
}

/**
 * expRows(x, rows, width, maxes, out, sums): out[r, v] = exp(x[r, v] − maxes[r]) and sums[r] = their sum, over the
 * row's first ⌊width/4⌋·4 values (the caller does the rest), exp as in expSumRows. With maxes[r] the row's largest
 * value, the softmax's numerators and denominator in one pass: the softmax cross-entropy scales them afterwards
 * (scaleRows in simdKernels.ts) into its gradient (src/loss/crossEntropy.ts).
 */
export function expRowsFn(): Fn {
  const fn = new Fn([I32, I32, I32, I32, I32, I32]);
  const [x, rows, width, maxes, out, sums] = [0, 1, 2, 3, 4, 5];
  const k = new Consts(fn);
  const [r, j, xr, or, vecBytes] = [fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32), fn.local(I32)];
  const [vm, e, sum] = [fn.local(V128), fn.local(V128), fn.local(V128)];
  const tmp = { x: fn.local(V128), k: fn.local(V128), f: fn.local(V128) };
  const lane = (l: number): Code => [op.get(sum), f32x4Lane(l)];
  const body: Code = [
    fn.at(xr, j), op.get(vm), vsub, expNeg4(k, tmp), op.set(e),
    fn.put(or, j, [op.get(e)]),
    op.get(sum), op.get(e), vadd, op.set(sum),
  ];
  const zero = k.f(0);
  fn.code = [
    ...k.init,
    op.get(width), op.i32(-4), op.i32and, op.i32(4), op.mul, op.set(vecBytes),
    fn.forUp(r, [op.get(rows)], 1, [
      op.get(r), op.get(width), op.mul, op.i32(4), op.mul, op.tee(j), op.get(x), op.add, op.set(xr),
      op.get(j), op.get(out), op.add, op.set(or),
      op.get(maxes), op.get(r), op.i32(4), op.mul, op.add, op.f32load(), op.simd(F32X4_SPLAT), op.set(vm),
      op.get(zero), op.set(sum),
      fn.forUp(j, [op.get(vecBytes)], 16, body),
      op.get(sums), op.get(r), op.i32(4), op.mul, op.add,
      lane(0), lane(1), op.f32add, lane(2), lane(3), op.f32add, op.f32add, op.f32store(),
    ]),
  ];
  return fn;
}
