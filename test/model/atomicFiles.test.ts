import { describe, it, expect } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  WRITTEN_LIST,
  CONTENT_FILE,
  readWrittenList,
  noteWritten,
  writeFileAtomic,
  writeContentFile,
  sha256Hex,
  syncDirectory,
} from '../../src/model/atomicFiles.js';

const tmp = (): string => mkdtempSync(join(tmpdir(), 'seq2seq-atomic-'));

describe('writeFileAtomic', () => {
  it('writes the bytes, leaves no temporary file and lists the temporary name (and with owned the file) first', async () => {
    const dir = tmp();
    await writeFileAtomic(join(dir, 'a.txt'), 'hello');
    await writeFileAtomic(join(dir, 'b.bin'), Uint8Array.of(1, 2), { owned: true });
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('hello');
    expect(Array.from(readFileSync(join(dir, 'b.bin')))).toEqual([1, 2]);
    expect(readdirSync(dir).sort()).toEqual([WRITTEN_LIST, 'a.txt', 'b.bin']);
    const listed = await readWrittenList(dir);
    expect(listed).toHaveLength(3);
    expect(listed[0]).toMatch(/^a\.txt\.tmp-\d+-\d+$/);
    expect(listed[1]).toMatch(/^b\.bin\.tmp-\d+-\d+$/);
    expect(listed[2]).toBe('b.bin');
  });

  it('replaces an existing file whole', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a.txt'), 'a much longer old content');
    await writeFileAtomic(join(dir, 'a.txt'), 'new');
    expect(readFileSync(join(dir, 'a.txt'), 'utf8')).toBe('new');
  });

  it('removes its temporary file when the write fails', async () => {
    const dir = tmp();
    await expect(writeFileAtomic(join(dir, 'missing', 'a.txt'), 'x')).rejects.toThrow();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the written-files list', () => {
  it('reads the names noted, skipping a last line cut short and names with a directory part', async () => {
    const dir = tmp();
    expect(await readWrittenList(dir)).toEqual([]);
    await noteWritten(dir, 'one');
    await noteWritten(dir, 'two');
    expect(await readWrittenList(dir)).toEqual(['one', 'two']);
    writeFileSync(join(dir, WRITTEN_LIST), 'one\nsub/two\n\nthr');
    expect(await readWrittenList(dir)).toEqual(['one']);
  });
});

describe('content files', () => {
  it('are named by the first 16 hex digits of their sha256 and written once', async () => {
    const dir = tmp();
    const bytes = Uint8Array.of(1, 2, 3, 4);
    const a = await writeContentFile(dir, 'optimizer', bytes);
    const b = await writeContentFile(dir, 'optimizer', bytes);
    expect(a).toEqual(b);
    expect(a.sha256).toBe(sha256Hex(bytes));
    expect(a.file).toBe(`optimizer-${a.sha256.slice(0, 16)}.bin`);
    expect(CONTENT_FILE.test(a.file)).toBe(true);
    expect(CONTENT_FILE.test('notes.bin')).toBe(false);
    // Listed once as its own file, once per temporary file: the second call wrote nothing.
    expect((await readWrittenList(dir)).filter((f) => f === a.file)).toHaveLength(1);
  });

  it('sha256Hex gives the hex digest of bytes and of text alike', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(new TextEncoder().encode('abc'))).toBe(sha256Hex('abc'));
  });
});

describe('syncDirectory', () => {
  it('syncs a directory, and passes over one that does not exist', async () => {
    const dir = tmp();
    await expect(syncDirectory(dir)).resolves.toBeUndefined();
    await expect(syncDirectory(join(dir, 'missing'))).resolves.toBeUndefined();
  });
});
