import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readInputLines, placedLines, DEFAULT_MAX_INPUT_LINE_BYTES, type InputLine } from '../../src/cli/lineInput.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../src/data/readers.js';

async function collect(chunks: readonly Buffer[], max?: number): Promise<InputLine[]> {
  const out: InputLine[] = [];
  for await (const l of readInputLines(Readable.from(chunks), max)) out.push(l);
  return out;
}

/** Splits `bytes` at the given cut points (how a pipe may deliver it). */
function cut(bytes: Buffer, points: number[]): Buffer[] {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Buffer[] = [];
  let start = 0;
  for (const p of sorted) {
    parts.push(bytes.subarray(start, p));
    start = p;
  }
  parts.push(bytes.subarray(start));
  return parts;
}

describe('readInputLines', () => {
  it('gives the lines of the text however the stream cuts it (CRLF, no final newline, multi-byte characters)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/[\r\n]/g, '')),
          { maxLength: 8 },
        ),
        fc.boolean(),
        fc.boolean(),
        fc.array(fc.nat(200)),
        async (lines, crlf, finalNewline, points) => {
          const text = lines.join(crlf ? '\r\n' : '\n') + (finalNewline && lines.length > 0 ? '\n' : '');
          const got = await collect(cut(Buffer.from(text, 'utf8'), points));
          // As readline does: a final newline ends the last line rather than starting an empty one.
          const expected = text.split('\n').map((l) => l.replace(/\r$/, ''));
          if (expected[expected.length - 1] === '') expected.pop();
          expect(got.map((l) => l.text)).toEqual(expected);
          expect(got.map((l) => l.line)).toEqual(expected.map((_, i) => i + 1));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('marks a line over the byte limit as over-long without keeping it, and goes on with the next', async () => {
    const long = Buffer.alloc(5000, 0x61);
    const got = await collect([Buffer.from('short\n'), long, long, Buffer.from('\nnext\n'), long], 1024);
    expect(got).toEqual([
      { line: 1, text: 'short', overLong: false },
      { line: 2, text: '', overLong: true },
      { line: 3, text: 'next', overLong: false },
      { line: 4, text: '', overLong: true },
    ]);
  });

  it('turns invalid UTF-8 into U+FFFD instead of failing the line', async () => {
    const got = await collect([Buffer.from([0x61, 0xff, 0x62, 0x0a])]);
    expect(got).toEqual([{ line: 1, text: 'a\uFFFDb', overLong: false }]);
  });
});

describe('placedLines', () => {
  it('reads the files in turn, each line named FILE:N, an over-long line marked (not refused) and the next one read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'placed-lines-'));
    writeFileSync(join(dir, 'a.txt'), `one\n${'x'.repeat(DEFAULT_MAX_INPUT_LINE_BYTES + 1)}\nthree\n`);
    writeFileSync(join(dir, 'b.txt'), 'four');
    const got = [];
    for await (const l of placedLines([join(dir, 'a.txt'), join(dir, 'b.txt')])) got.push(l);
    expect(got).toEqual([
      { where: `${join(dir, 'a.txt')}:1`, text: 'one', overLong: false },
      { where: `${join(dir, 'a.txt')}:2`, text: '', overLong: true },
      { where: `${join(dir, 'a.txt')}:3`, text: 'three', overLong: false },
      { where: `${join(dir, 'b.txt')}:1`, text: 'four', overLong: false },
    ]);
    // stdin and files are bounded alike.
    expect(DEFAULT_MAX_INPUT_LINE_BYTES).toBe(DEFAULT_MAX_LINE_BYTES);
  });
});
