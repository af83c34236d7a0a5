// A minimal ustar writer for tests: builds archives to feed the reader and the corpus fetcher, independently of it.
export interface TarEntry {
  name: string;
  data?: string | Uint8Array;
  type?: '0' | '5' | 'L';
}

function field(header: Uint8Array, offset: number, length: number, value: string): void {
  header.set(new TextEncoder().encode(value).subarray(0, length), offset);
}

function block(name: string, size: number, type: string): Uint8Array {
  const h = new Uint8Array(512);
  field(h, 0, 100, name);
  field(h, 100, 8, '0000644\0');
  field(h, 108, 8, '0000000\0');
  field(h, 116, 8, '0000000\0');
  field(h, 124, 12, `${size.toString(8).padStart(11, '0')}\0`);
  field(h, 136, 12, '00000000000\0');
  field(h, 156, 1, type);
  field(h, 257, 6, 'ustar\0');
  field(h, 263, 2, '00');
  h.fill(32, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  field(h, 148, 8, `${sum.toString(8).padStart(6, '0')}\0 `);
  return h;
}

export function makeTar(entries: TarEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const e of entries) {
    const data = typeof e.data === 'string' ? new TextEncoder().encode(e.data) : (e.data ?? new Uint8Array(0));
    if (e.name.length > 99) {
      // GNU long name: a 'L' member whose data is the name, then the real header with a truncated name.
      const long = new TextEncoder().encode(`${e.name}\0`);
      parts.push(block('././@LongLink', long.length, 'L'), long, new Uint8Array((512 - (long.length % 512)) % 512));
    }
    parts.push(
      block(e.name.slice(0, 99), data.length, e.type ?? '0'),
      data,
      new Uint8Array((512 - (data.length % 512)) % 512),
    );
  }
  parts.push(new Uint8Array(1024));
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
