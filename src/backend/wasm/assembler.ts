// A minimal WebAssembly assembler: the binary format's integer encodings, the instructions the toolkit's SIMD
// kernels use (as byte lists), a function builder with loop helpers, and the writer of a module that imports one
// memory (`env.memory`) and exports its functions by name. No toolchain: the format is small enough to write by hand
// (WebAssembly Core Specification, "Binary Format"; SIMD opcodes from the fixed-width SIMD proposal).

export const I32 = 0x7f;
export const F32 = 0x7d;
export const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const f32Bytes = (x: number): number[] => [...new Uint8Array(Float32Array.of(x).buffer)];
const vec = (bytes: number[]): number[] => [...uleb(bytes.length), ...bytes];
const section = (id: number, bytes: number[]): number[] => [id, ...vec(bytes)];
const name = (s: string): number[] => vec([...new TextEncoder().encode(s)]);

/** Byte code: bytes and nested lists of them (flattened when the module is written). */
export type Code = (number | Code)[];

/** Instructions, each a byte list; nested lists are flattened. */
export const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  tee: (i: number) => [0x22, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  f32: (x: number) => [0x43, ...f32Bytes(x)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  geU: [0x4f],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  geS: [0x4e],
  i32and: [0x71],
  i32or: [0x72],
  shrU: [0x76],
  f32load: (offset = 0) => [0x2a, 2, ...uleb(offset)],
  f32store: (offset = 0) => [0x38, 2, ...uleb(offset)],
  i32load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  i32store: (offset = 0) => [0x36, 2, ...uleb(offset)],
  f32eq: [0x5b],
  f32ne: [0x5c],
  f32lt: [0x5d],
  f32gt: [0x5e],
  f32ge: [0x60],
  /** f32.convert_i32_s */
  f32FromI32: [0xb2],
  f32add: [0x92],
  f32mul: [0x94],
  f32max: [0x97],
  ltU: [0x49],
  select: [0x1b],
  load: (offset = 0) => [0xfd, 0x00, 0, ...uleb(offset)],
  store: (offset = 0) => [0xfd, 0x0b, 0, ...uleb(offset)],
  simd: (sub: number) => [0xfd, ...uleb(sub)],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  br: (depth: number) => [0x0c, depth],
  brIf: (depth: number) => [0x0d, depth],
  copy: [0xfc, 10, 0, 0],
  fill: [0xfc, 11, 0],
};
// SIMD sub-opcodes.
export const F32X4_SPLAT = 0x13,
  I32X4_SPLAT = 0x11,
  I32X4_SHL = 0xab;
export const F32X4_SQRT = 0xe3,
  F32X4_ADD = 0xe4,
  F32X4_SUB = 0xe5,
  F32X4_MUL = 0xe6,
  F32X4_DIV = 0xe7;
export const F32X4_EQ = 0x41,
  F32X4_NE = 0x42,
  F32X4_GE = 0x46,
  V128_OR = 0x50,
  V128_ANY_TRUE = 0x53;
export const F32X4_PMIN = 0xea,
  F32X4_PMAX = 0xeb;
export const f32x4Lane = (lane: number) => [0xfd, 0x1f, lane];
/** i8x16.shuffle of the two v128 on the stack: result byte i is byte lanes[i] of (first ‖ second). */
export const i8x16Shuffle = (lanes: number[]) => [0xfd, 0x0d, ...lanes];
/** The f32 lanes (a, b, c, d) of the first operand as byte lanes of a shuffle. */
export const f32Lanes = (...lanes: number[]) => lanes.flatMap((l) => [4 * l, 4 * l + 1, 4 * l + 2, 4 * l + 3]);
export const vadd = op.simd(F32X4_ADD),
  vsub = op.simd(F32X4_SUB),
  vmul = op.simd(F32X4_MUL),
  vdiv = op.simd(F32X4_DIV);

const flat = (c: Code): number[] => c.flatMap((x) => (typeof x === 'number' ? [x] : flat(x)));

/** A function under construction: parameters (all i32 unless given), locals, and helpers over them. */
export class Fn {
  readonly locals: number[] = [];
  code: Code = [];
  constructor(readonly params: number[]) {}
  local(type: number): number {
    this.locals.push(type);
    return this.params.length + this.locals.length - 1;
  }
  /** Loads f32x4 at base + j (both locals). */
  at(base: number, j: number): Code {
    return [op.get(base), op.get(j), op.add, op.load()];
  }
  /** Stores the value `value` leaves on the stack at base + j. */
  put(base: number, j: number, value: Code): Code {
    return [op.get(base), op.get(j), op.add, value, op.store()];
  }
  /**
   * for (i = start; i < end; i += step) body, in the units the body uses (bytes here); with `start` empty, i goes
   * on from the value it has. Inside `body`, br_if 1 leaves the loop.
   */
  from(i: number, start: Code, end: Code, step: number, body: Code): Code {
    return [
      start.length === 0 ? [] : [start, op.set(i)],
      op.block,
      op.loop,
      op.get(i),
      end,
      op.geU,
      op.brIf(1),
      body,
      op.get(i),
      op.i32(step),
      op.add,
      op.set(i),
      op.br(0),
      op.end,
      op.end,
    ];
  }
  /** for (i = 0; i < end; i += step) body. */
  forUp(i: number, end: Code, step: number, body: Code): Code {
    return this.from(i, [op.i32(0)], end, step, body);
  }
  encode(): number[] {
    // Locals grouped one entry per local (simple and valid).
    return [...uleb(this.locals.length), ...this.locals.flatMap((t) => [1, t])];
  }
}

/** Constants every kernel uses, as v128 locals set at the start. */
export class Consts {
  readonly init: Code[] = [];
  private readonly cache = new Map<number, number>();
  constructor(private readonly fn: Fn) {}
  f(x: number): number {
    let l = this.cache.get(x);
    if (l === undefined) {
      l = this.fn.local(V128);
      this.cache.set(x, l);
      this.init.push([op.f32(x), op.simd(F32X4_SPLAT), op.set(l)]);
    }
    return l;
  }
}

/**
 * The bytes of a module holding `fns`, each exported under its name, all importing `env.memory` (shared or not, as
 * the memory they will run on).
 */
export function assembleModule(
  fns: readonly { name: string; fn: Fn }[],
  sharedMemory: boolean,
): Uint8Array<ArrayBuffer> {
  const types = fns.map(({ fn: f }) => [0x60, ...vec(f.params), 0]);
  // Memory import: min 1 page; a shared memory must declare a maximum (65536 pages = 4 GiB, any actual one fits).
  const limits = sharedMemory ? [0x03, 1, ...uleb(65536)] : [0x00, 1];
  const imports = [1, ...name('env'), ...name('memory'), 0x02, ...limits];
  const bodies = fns.map(({ fn: f }) => vec([...f.encode(), ...flat(f.code), 0x0b]));
  return new Uint8Array([
    0x00,
    0x61,
    0x73,
    0x6d,
    0x01,
    0x00,
    0x00,
    0x00,
    ...section(1, [...uleb(types.length), ...types.flat()]),
    ...section(2, imports),
    ...section(3, [...uleb(fns.length), ...fns.map((_, i) => i)]),
    ...section(7, [...uleb(fns.length), ...fns.flatMap(({ name: n }, i) => [...name(n), 0x00, i])]),
    ...section(10, [...uleb(bodies.length), ...bodies.flat()]),
  ]);
}
