// Reads the members of a tar archive (POSIX ustar, with GNU long names and pax path records), enough to unpack the
// corpus archives of corpora/recipes.json without a dependency. The archive is a sequence of 512-byte blocks: a
// header block (name, size in octal, type flag), then the member's data padded to whole blocks, ended by two zero
// blocks.
import { ToolkitError } from '../../errors.js';

export interface TarMember {
  /** Path inside the archive, '/'-separated. */
  name: string;
  /** 'file', 'directory', or 'other' (links, devices: listed, never written). */
  type: 'file' | 'directory' | 'other';
  data: Uint8Array;
}

export class TarError extends ToolkitError {
  override name = 'TarError';
}

const BLOCK = 512;

function text(bytes: Uint8Array, start: number, length: number): string {
  let end = start;
  while (end < start + length && bytes[end] !== 0) end++;
  return new TextDecoder().decode(bytes.subarray(start, end));
}

function octal(bytes: Uint8Array, start: number, length: number, where: string): number {
  const s = text(bytes, start, length).trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new TarError(`${where}: bad number field "${s}" in a tar header`);
  return parseInt(s, 8);
}

/** Pax extended header records "LEN key=value\n"; only `path` matters here. */
function paxPath(data: Uint8Array): string | undefined {
  const records = new TextDecoder().decode(data).split('\n');
  for (const r of records) {
    const m = /^\d+ path=(.*)$/.exec(r);
    if (m) return m[1];
  }
  return undefined;
}

/** All members of `archive` in order. `source` names the archive in errors. */
export function readTar(archive: Uint8Array, source: string): TarMember[] {
  const members: TarMember[] = [];
  let offset = 0;
  let longName: string | undefined;
  while (offset + BLOCK <= archive.length) {
    const header = archive.subarray(offset, offset + BLOCK);
    if (header.every((b) => b === 0)) return members;
    const where = `${source} (byte ${offset})`;
    // The checksum treats its own 8 bytes as spaces; a mismatch means this is not a tar header at all.
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    const stored = octal(header, 148, 8, where);
    if (stored !== sum)
      throw new TarError(`${where}: not a tar archive, or damaged (header checksum ${stored}, computed ${sum})`);
    const size = octal(header, 124, 12, where);
    const flag = String.fromCharCode(header[156]!);
    const prefix = text(header, 345, 155);
    const baseName = text(header, 0, 100);
    const dataStart = offset + BLOCK;
    if (dataStart + size > archive.length)
      throw new TarError(`${where}: archive is truncated (member "${baseName}" needs ${size} bytes)`);
    const data = archive.subarray(dataStart, dataStart + size);
    offset = dataStart + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === 'L') {
      longName = text(data, 0, data.length);
      continue;
    }
    if (flag === 'x') {
      longName = paxPath(data) ?? longName;
      continue;
    }
    if (flag === 'g') continue;
    const name = longName ?? (prefix ? `${prefix}/${baseName}` : baseName);
    longName = undefined;
    const type = flag === '0' || flag === '\0' || flag === '7' ? 'file' : flag === '5' ? 'directory' : 'other';
    members.push({ name, type, data });
  }
  throw new TarError(`${source}: archive is truncated (no end-of-archive blocks)`);
}
