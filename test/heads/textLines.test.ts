import { describe, it, expect } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readTextLines } from '../../src/heads/textLines.js';

const dir = mkdtempSync(join(tmpdir(), 'text-lines-'));
writeFileSync(join(dir, 'a.txt'), 'one\n\n  \ntwo\r\n');
writeFileSync(join(dir, 'b.txt.gz'), gzipSync('three\nfour\n'));
writeFileSync(join(dir, 'bad.txt'), Buffer.from([0x61, 0x0a, 0xff, 0x0a]));

describe('readTextLines', () => {
  it('reads files in order (gzip detected), keeping empty lines unless nonEmpty; limit counts lines kept', async () => {
    const files = [join(dir, 'a.txt'), join(dir, 'b.txt.gz')];
    expect(await readTextLines(files)).toEqual(['one', '', '  ', 'two', 'three', 'four']);
    expect(await readTextLines(files, { nonEmpty: true })).toEqual(['one', 'two', 'three', 'four']);
    expect(await readTextLines(files, { nonEmpty: true, limit: 3 })).toEqual(['one', 'two', 'three']);
  });

  it('names file and line of invalid UTF-8, and a missing file', async () => {
    await expect(readTextLines([join(dir, 'bad.txt')])).rejects.toThrow(/bad\.txt:2/);
    await expect(readTextLines([join(dir, 'missing.txt')])).rejects.toThrow(/missing\.txt/);
  });
});
