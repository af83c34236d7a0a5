import { describe, it, expect } from 'vitest';
import {
  Fn,
  Consts,
  op,
  I32,
  F32,
  V128,
  vadd,
  vmul,
  assembleModule,
  F32X4_SPLAT,
} from '../../../src/backend/wasm/assembler.js';

type Exports = Record<string, (...args: number[]) => void>;

function instantiate(bytes: Uint8Array<ArrayBuffer>, memory: WebAssembly.Memory): Exports {
  expect(WebAssembly.validate(bytes)).toBe(true);
  return new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } }).exports as unknown as Exports;
}

/** triangle(n, out): i32 at out = 0 + 1 + … + (n − 1) + 300, through forUp and a multi-byte constant. */
function triangleFn(): Fn {
  const fn = new Fn([I32, I32]);
  const [n, out] = [0, 1];
  const [i, sum] = [fn.local(I32), fn.local(I32)];
  fn.code = [
    op.i32(300),
    op.set(sum),
    fn.forUp(i, [op.get(n)], 1, [op.get(sum), op.get(i), op.add, op.set(sum)]),
    op.get(out),
    op.get(sum),
    op.i32store(),
  ];
  return fn;
}

/** affine(x, n, out): out = x·2.5 + 1 over n floats (n a multiple of 4), four lanes at a time. */
function affineFn(): Fn {
  const fn = new Fn([I32, I32, I32]);
  const [x, n, out] = [0, 1, 2];
  const k = new Consts(fn);
  const [i, bytes] = [fn.local(I32), fn.local(I32)];
  const body = fn.put(out, i, [fn.at(x, i), op.get(k.f(2.5)), vmul, op.get(k.f(1)), vadd]);
  fn.code = [...k.init, op.get(n), op.i32(4), op.mul, op.set(bytes), fn.forUp(i, [op.get(bytes)], 16, body)];
  return fn;
}

/** scale(x, n, s, out): out = x·s over n floats, the scalar parameter an f32 splatted to four lanes. */
function scaleFn(): Fn {
  const fn = new Fn([I32, I32, F32, I32]);
  const [x, n, s, out] = [0, 1, 2, 3];
  const [i, bytes, vs] = [fn.local(I32), fn.local(I32), fn.local(V128)];
  fn.code = [
    op.get(s),
    op.simd(F32X4_SPLAT),
    op.set(vs),
    op.get(n),
    op.i32(4),
    op.mul,
    op.set(bytes),
    fn.forUp(i, [op.get(bytes)], 16, fn.put(out, i, [fn.at(x, i), op.get(vs), vmul])),
  ];
  return fn;
}

describe('the WebAssembly assembler', () => {
  it('encodes integers as LEB128: unsigned for indices, signed for i32 constants', () => {
    expect(op.get(3)).toEqual([0x20, 3]);
    expect(op.get(300)).toEqual([0x20, 0xac, 0x02]);
    expect(op.i32(0)).toEqual([0x41, 0]);
    expect(op.i32(-1)).toEqual([0x41, 0x7f]);
    expect(op.i32(64)).toEqual([0x41, 0xc0, 0x00]); // bit 6 set: a second byte keeps it positive
    expect(op.i32(624485)).toEqual([0x41, 0xe5, 0x8e, 0x26]);
    expect(op.i32(-123456)).toEqual([0x41, 0xc0, 0xbb, 0x78]);
    expect(op.f32(1)).toEqual([0x43, 0x00, 0x00, 0x80, 0x3f]);
  });

  it('numbers locals after the parameters and declares one entry per local', () => {
    const fn = new Fn([I32, F32]);
    expect(fn.local(I32)).toBe(2);
    expect(fn.local(V128)).toBe(3);
    expect(fn.encode()).toEqual([2, 1, I32, 1, V128]);
    const k = new Consts(fn);
    expect(k.f(2)).toBe(k.f(2)); // one local per constant
    expect(k.f(3)).not.toBe(k.f(2));
    expect(k.init).toHaveLength(2);
  });

  it('writes a module WebAssembly accepts, exporting each function by name, that computes what its code says', () => {
    const memory = new WebAssembly.Memory({ initial: 1 });
    const exports = instantiate(
      assembleModule(
        [
          { name: 'triangle', fn: triangleFn() },
          { name: 'affine', fn: affineFn() },
          { name: 'scale', fn: scaleFn() },
        ],
        false,
      ),
      memory,
    );
    expect(Object.keys(exports).sort()).toEqual(['affine', 'scale', 'triangle']);

    const ints = new Int32Array(memory.buffer);
    for (const n of [0, 1, 10, 1000]) {
      exports['triangle']!(n, 64);
      expect(ints[16]).toBe((n * (n - 1)) / 2 + 300);
    }

    const n = 12;
    const floats = new Float32Array(memory.buffer);
    const x = Float32Array.from({ length: n }, (_, i) => (i - 5) * 0.37);
    floats.set(x, 32); // x at byte 128, out at byte 256
    exports['affine']!(128, n, 256);
    for (let i = 0; i < n; i++) expect(floats[64 + i]).toBe(Math.fround(Math.fround(x[i]! * 2.5) + 1));
    exports['scale']!(128, 8, -3, 256);
    // The first 8 outputs rewritten, the last 4 left as affine wrote them.
    for (let i = 0; i < n; i++) {
      expect(floats[64 + i]).toBe(i < 8 ? Math.fround(x[i]! * -3) : Math.fround(Math.fround(x[i]! * 2.5) + 1));
    }
  });

  it('imports a shared memory when asked, and only then', () => {
    const bytesShared = assembleModule([{ name: 'triangle', fn: triangleFn() }], true);
    const bytesPlain = assembleModule([{ name: 'triangle', fn: triangleFn() }], false);
    expect(WebAssembly.validate(bytesShared)).toBe(true);
    const shared = new WebAssembly.Memory({ initial: 1, maximum: 16, shared: true });
    const exports = instantiate(bytesShared, shared);
    exports['triangle']!(5, 0);
    expect(new Int32Array(shared.buffer)[0]).toBe(310);
    // A module declaring an unshared memory refuses a shared one, and the other way round.
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(bytesPlain), { env: { memory: shared } })).toThrow();
    const plain = new WebAssembly.Memory({ initial: 1 });
    expect(() => new WebAssembly.Instance(new WebAssembly.Module(bytesShared), { env: { memory: plain } })).toThrow();
  });
});
