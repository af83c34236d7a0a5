// The fused GRU step kernels: the element-wise part of one step (the equations in gru.ts) as JavaScript loops over
// typed arrays, forward and backward, registered as the tf kernels ToolkitGruStep and ToolkitGruStepGrad on the wasm
// and cpu backends. On wasm the SIMD module's (backend/wasm/) runs where H is a multiple of 4; otherwise the staged
// form (its exponentials in the backend's vectorised sigmoid) or the scalar loop.
import { registerJsKernel, type StagedMemory } from '../backend/jsKernels.js';
import { sigmoid, tanh } from './stepMath.js';

export const GRU_STEP = 'ToolkitGruStep';
export const GRU_STEP_GRAD = 'ToolkitGruStepGrad';

/** Number of gate blocks the input projection produces for a GRU: r, z, n. */
export const GRU_GATES = 3;

/** What the backward pass needs from each forward step, [batch, 4·units]: r, z, n, h·U_n + c_n. */
export const GRU_CACHE_BLOCKS = 4;

// The step's equations, once, for both JavaScript forms below (the scalar loop and the staged passes); V8 inlines
// them.

/** A gate's pre-activation (r or z) from its parts x W + b, h U and c. */
function gatePre(xw: number, hu: number, c: number): number {
  return xw + hu + c;
}

/** The candidate's pre-activation x W_n + b_n + r ⊙ un, from its input part xn and un = h U_n + c_n. */
function candidatePre(xn: number, r: number, un: number): number {
  return xn + r * un;
}

/** h' = (1 − z) ⊙ n + z ⊙ h, computed as n + z ⊙ (h − n). */
function blend(n: number, z: number, h: number): number {
  return n + z * (h - n);
}

/**
 * Forward element-wise part of step t. xp: [time·batch, 3H] input projections (time-major); hU: [B, 3H] = h·U;
 * c: [3H]; h: [B, H]; mask: [time·batch] or undefined (all real). A masked (padding) position carries h unchanged.
 */
export function gruStepValues(
  xp: Float32Array,
  hU: Float32Array,
  c: Float32Array,
  h: Float32Array,
  mask: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
  hNew: Float32Array,
  cache: Float32Array,
): void {
  const H3 = 3 * H;
  const H4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const m = mask === undefined ? 1 : mask[t * B + b]!;
    const xo = (t * B + b) * H3;
    const uo = b * H3;
    const ho = b * H;
    const co = b * H4;
    for (let j = 0; j < H; j++) {
      const r = sigmoid(gatePre(xp[xo + j]!, hU[uo + j]!, c[j]!));
      const z = sigmoid(gatePre(xp[xo + H + j]!, hU[uo + H + j]!, c[H + j]!));
      const un = hU[uo + 2 * H + j]! + c[2 * H + j]!;
      const n = tanh(candidatePre(xp[xo + 2 * H + j]!, r, un));
      const hp = h[ho + j]!;
      hNew[ho + j] = m === 0 ? hp : blend(n, z, hp);
      cache[co + j] = r;
      cache[co + H + j] = z;
      cache[co + 2 * H + j] = n;
      cache[co + 3 * H + j] = un;
    }
  }
}

/**
 * gruStepValues with the exponentials done by `m.sigmoid` (the wasm backend's SIMD kernel) in two batches: r and
 * z, then n through tanh(a) = 2σ(2a) − 1. Three JavaScript passes around them do the rest, each its own small
 * function (V8 optimises those far better than one large body). Same inputs and outputs (outs: hNew, cache), same
 * results to float32 rounding. Without outs[1] (decoding: no backward pass will read it) the cache is not written.
 */
export function gruStepStaged(m: StagedMemory, t: number, B: number, H: number): void {
  const pre = m.scratch(B * 2 * H);
  let v = m.views();
  gruPreRz(v.ins[0]!, v.ins[1]!, v.ins[2]!, v.scratch[pre]!, t, B, H);
  const rz = m.sigmoid(pre);
  const npre = m.scratch(B * H);
  v = m.views();
  gruPreN(v.ins[0]!, v.ins[1]!, v.ins[2]!, v.scratch[rz]!, v.scratch[npre]!, v.outs[1], t, B, H);
  const sn = m.sigmoid(npre);
  v = m.views();
  gruBlend(v.ins[3]!, v.ins[4], v.scratch[rz]!, v.scratch[sn]!, v.outs[0]!, v.outs[1], t, B, H);
}

/** Pass 1: the r and z pre-activations x W + b + h U + c, [B, 2H]. */
function gruPreRz(
  xp: Float32Array,
  hU: Float32Array,
  c: Float32Array,
  a: Float32Array,
  t: number,
  B: number,
  H: number,
): void {
  const H2 = 2 * H;
  const H3 = 3 * H;
  for (let b = 0; b < B; b++) {
    const xo = (t * B + b) * H3;
    const uo = b * H3;
    const ao = b * H2;
    for (let j = 0; j < H2; j++) a[ao + j] = gatePre(xp[xo + j]!, hU[uo + j]!, c[j]!);
  }
}

/** Pass 2: writes 2·(x W_n + b_n + r ⊙ un), whose sigmoid gives the tanh; caches r, z and un = h·U_n + c_n. */
function gruPreN(
  xp: Float32Array,
  hU: Float32Array,
  c: Float32Array,
  s: Float32Array,
  a: Float32Array,
  cache: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
): void {
  const H2 = 2 * H;
  const H3 = 3 * H;
  const H4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const xo = (t * B + b) * H3 + H2;
    const uo = b * H3 + H2;
    const so = b * H2;
    const ao = b * H;
    if (cache === undefined) {
      for (let j = 0; j < H; j++) a[ao + j] = 2 * candidatePre(xp[xo + j]!, s[so + j]!, hU[uo + j]! + c[H2 + j]!);
      continue;
    }
    const co = b * H4;
    for (let j = 0; j < H; j++) {
      const r = s[so + j]!;
      const un = hU[uo + j]! + c[H2 + j]!;
      cache[co + j] = r;
      cache[co + H + j] = s[so + H + j]!;
      cache[co + H3 + j] = un;
      a[ao + j] = 2 * candidatePre(xp[xo + j]!, r, un);
    }
  }
}

/** Pass 3: n = 2σ − 1 (cached) and h' = n + z ⊙ (h − n); a padding position carries h unchanged. */
function gruBlend(
  h: Float32Array,
  mask: Float32Array | undefined,
  rz: Float32Array,
  s: Float32Array,
  hNew: Float32Array,
  cache: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
): void {
  const H2 = 2 * H;
  const H4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const keep = mask === undefined ? 1 : mask[t * B + b]!;
    const ho = b * H;
    const zo = b * H2 + H;
    if (cache !== undefined) for (let j = 0; j < H; j++) cache[b * H4 + H2 + j] = 2 * s[ho + j]! - 1;
    if (keep === 0) {
      hNew.set(h.subarray(ho, ho + H), ho);
      continue;
    }
    for (let j = 0; j < H; j++) {
      const n = 2 * s[ho + j]! - 1;
      hNew[ho + j] = blend(n, rz[zo + j]!, h[ho + j]!);
    }
  }
}

/**
 * Backward element-wise part of step t. The gradient reaching h'_t is dOut[t] (from the outputs) + dhA + dhB (from
 * step t+1: its matMul path and its direct path). Writes dGate = ∂/∂(h·U + c) [B, 3H], dXp = ∂/∂xp_t [B, 3H], and
 * dhDirect, the part of ∂/∂h_{t-1} that does not go through U.
 */
export function gruStepGradValues(
  dOut: Float32Array | undefined,
  dhA: Float32Array | undefined,
  dhB: Float32Array | undefined,
  cache: Float32Array,
  h: Float32Array,
  mask: Float32Array | undefined,
  t: number,
  B: number,
  H: number,
  dGate: Float32Array,
  dXp: Float32Array,
  dhDirect: Float32Array,
): void {
  const H3 = 3 * H;
  const H4 = 4 * H;
  for (let b = 0; b < B; b++) {
    const m = mask === undefined ? 1 : mask[t * B + b]!;
    const go = b * H3;
    const ho = b * H;
    const co = b * H4;
    const oo = (t * B + b) * H;
    for (let j = 0; j < H; j++) {
      let g = 0;
      if (dOut !== undefined) g += dOut[oo + j]!;
      if (dhA !== undefined) g += dhA[ho + j]!;
      if (dhB !== undefined) g += dhB[ho + j]!;
      if (m === 0) {
        dGate[go + j] = 0;
        dGate[go + H + j] = 0;
        dGate[go + 2 * H + j] = 0;
        dXp[go + j] = 0;
        dXp[go + H + j] = 0;
        dXp[go + 2 * H + j] = 0;
        dhDirect[ho + j] = g;
        continue;
      }
      const r = cache[co + j]!;
      const z = cache[co + H + j]!;
      const n = cache[co + 2 * H + j]!;
      const un = cache[co + 3 * H + j]!;
      const hp = h[ho + j]!;
      const dnPre = g * (1 - z) * (1 - n * n);
      const drPre = dnPre * un * r * (1 - r);
      const dzPre = g * (hp - n) * z * (1 - z);
      dGate[go + j] = drPre;
      dGate[go + H + j] = dzPre;
      dGate[go + 2 * H + j] = dnPre * r;
      dXp[go + j] = drPre;
      dXp[go + H + j] = dzPre;
      dXp[go + 2 * H + j] = dnPre;
      dhDirect[ho + j] = g * z;
    }
  }
}

/** Registers the fused GRU step kernels on the wasm and cpu backends (idempotent). */
export function registerGruKernels(): void {
  registerJsKernel(GRU_STEP, ({ xp, hU, c, h, mask }, attrs, memory) => {
    const [B, H] = h!.shape as [number, number];
    // attrs.cache 0: decoding, only h' comes back.
    const outShapes =
      attrs['cache'] === 0
        ? [[B, H]]
        : [
            [B, H],
            [B, GRU_CACHE_BLOCKS * H],
          ];
    const t = attrs['t'] as number;
    const simd = memory.simd;
    if (simd !== undefined && H % 4 === 0) {
      return simd.run([xp, hU, c, h, mask], outShapes, ([xpO, hUO, cO, hO, mO], [hNewO, cacheO]) =>
        simd.kernels.gruStep(xpO!, hUO!, cO!, hO!, mO!, t, B, H, hNewO!, cacheO ?? 0),
      );
    }
    if (memory.staged !== undefined)
      return memory.staged([xp, hU, c, h, mask], outShapes, (m) => gruStepStaged(m, attrs['t'] as number, B, H));
    return memory.run([xp, hU, c, h, mask], outShapes, ([xpV, hUV, cV, hV, mV], [hNew, cache]) =>
      gruStepValues(
        xpV!,
        hUV!,
        cV!,
        hV!,
        mV,
        attrs['t'] as number,
        B,
        H,
        hNew!,
        cache ?? new Float32Array(B * GRU_CACHE_BLOCKS * H),
      ),
    );
  });
  registerJsKernel(GRU_STEP_GRAD, ({ dOut, dhA, dhB, cache, h, mask }, attrs, memory) => {
    const [B, H] = h!.shape as [number, number];
    const simd = memory.simd;
    if (simd !== undefined && H % 4 === 0) {
      return simd.run(
        [dOut, dhA, dhB, cache, h, mask],
        [
          [B, 3 * H],
          [B, 3 * H],
          [B, H],
        ],
        ([dOutO, dhAO, dhBO, cacheO, hO, mO], [dGateO, dXpO, dhO]) =>
          simd.kernels.gruStepGrad(
            dOutO!,
            dhAO!,
            dhBO!,
            cacheO!,
            hO!,
            mO!,
            attrs['t'] as number,
            B,
            H,
            dGateO!,
            dXpO!,
            dhO!,
          ),
      );
    }
    return memory.run(
      [dOut, dhA, dhB, cache, h, mask],
      [
        [B, 3 * H],
        [B, 3 * H],
        [B, H],
      ],
      ([dOutV, dhAV, dhBV, cacheV, hV, mV], [dGate, dXp, dhDirect]) =>
        gruStepGradValues(dOutV, dhAV, dhBV, cacheV!, hV!, mV, attrs['t'] as number, B, H, dGate!, dXp!, dhDirect!),
    );
  });
}

// Kernels are registered when this module loads, as tfjs backends register theirs.
registerGruKernels();
