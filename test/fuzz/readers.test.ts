// Fuzzing the corpus readers with arbitrary bytes: whatever a file holds (binary, broken UTF-8, CR, BOM, tabs,
// gzip headers, truncated gzip, lines longer than the limit), a reader yields clean pairs or throws a CorpusError
// naming the file, never anything else.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import {
  readTsv,
  readJsonl,
  readAligned,
  readLines,
  DropTally,
  CorpusError,
  type Pair,
} from '../../src/data/readers.js';
import { fuzzRuns } from './settings.js';

const dir = mkdtempSync(join(tmpdir(), 'fuzz-readers-'));
let n = 0;
const file = (bytes: Uint8Array): string => {
  const p = join(dir, `f${n++}`);
  writeFileSync(p, bytes);
  return p;
};

/** Bytes that look like corpus lines often enough to reach past the first check: text pieces, separators, junk. */
const piece = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 12 }).map((s) => Buffer.from(s, 'utf8')),
  fc
    .constantFrom('\t', '\n', '\r\n', '\r', '\uFEFF', '{"src":"a","tgt":"b"}', '{"src":', '"', ' ', '\u0000')
    .map((s) => Buffer.from(s, 'utf8')),
  fc.uint8Array({ maxLength: 8 }).map((b) => Buffer.from(b)),
  fc.constant(Buffer.from([0x1f, 0x8b])),
);
const contents = fc.oneof(
  { weight: 4, arbitrary: fc.array(piece, { maxLength: 40 }).map((ps) => new Uint8Array(Buffer.concat(ps))) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
  // gzip: whole or cut short.
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.array(piece, { maxLength: 20 }), fc.double({ min: 0, max: 1, noNaN: true }))
      .map(([ps, cut]) => {
        const gz = gzipSync(Buffer.concat(ps));
        return new Uint8Array(gz.subarray(0, Math.max(2, Math.round(gz.length * cut))));
      }),
  },
);
const limits = fc.record({
  maxLineBytes: fc.constantFrom(undefined, 4, 16, 1 << 20),
  maxChars: fc.constantFrom(undefined, 1, 3, 1000),
});

async function outcome(pairs: AsyncIterable<Pair>): Promise<Pair[] | CorpusError> {
  const out: Pair[] = [];
  try {
    for await (const p of pairs) out.push(p);
    return out;
  } catch (e) {
    if (e instanceof CorpusError) return e;
    throw e; // anything else is a bug: the property fails with it
  }
}

/** What a kept pair must be: both sides non-empty, trimmed, within maxChars. */
function checkPairs(r: Pair[] | CorpusError, maxChars: number | undefined, file: string): void {
  if (r instanceof CorpusError) {
    expect(r.message.startsWith(file)).toBe(true);
    expect(r.message).not.toContain('\n');
    return;
  }
  for (const p of r) {
    for (const side of [p.source, p.target]) {
      expect(side.length).toBeGreaterThan(0);
      expect(side).toBe(side.trim());
      expect(side.length).toBeLessThanOrEqual(maxChars ?? Infinity);
      expect(side).not.toContain('\n');
    }
  }
}

describe('corpus readers on arbitrary bytes', () => {
  it('readTsv: clean pairs (no tab or newline inside a side) or a CorpusError naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(contents, limits, fc.boolean(), async (bytes, lim, header) => {
        const f = file(bytes);
        const options = {
          dropped: new DropTally(),
          header,
          ...(lim.maxLineBytes ? { maxLineBytes: lim.maxLineBytes } : {}),
          ...(lim.maxChars ? { maxChars: lim.maxChars } : {}),
        };
        const r = await outcome(readTsv(f, options));
        checkPairs(r, lim.maxChars, f);
        if (!(r instanceof CorpusError)) for (const p of r) expect(p.source + p.target).not.toContain('\t');
      }),
      fuzzRuns(150),
    );
  });

  it('readJsonl: clean pairs or a CorpusError naming the file', async () => {
    await fc.assert(
      fc.asyncProperty(contents, limits, async (bytes, lim) => {
        const f = file(bytes);
        checkPairs(
          await outcome(
            readJsonl(f, { dropped: new DropTally(), ...(lim.maxLineBytes ? { maxLineBytes: lim.maxLineBytes } : {}) }),
          ),
          undefined,
          f,
        );
      }),
      fuzzRuns(150),
    );
  });

  it('readAligned: clean pairs, at most one per line of the shorter file, or a CorpusError', async () => {
    await fc.assert(
      fc.asyncProperty(contents, contents, limits, async (a, b, lim) => {
        const [fa, fb] = [file(a), file(b)];
        const r = await outcome(
          readAligned(fa, fb, {
            dropped: new DropTally(),
            ...(lim.maxLineBytes ? { maxLineBytes: lim.maxLineBytes } : {}),
          }),
        );
        if (r instanceof CorpusError) expect(r.message.startsWith(fa) || r.message.startsWith(fb)).toBe(true);
        else checkPairs(r, undefined, fa);
      }),
      fuzzRuns(100),
    );
  });

  it('readLines on valid UTF-8: exactly the lines of the text, over-long ones flagged by their byte length', async () => {
    const line = fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, ''));
    await fc.assert(
      fc.asyncProperty(
        fc.array(line, { maxLength: 30 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 40 }),
        async (lines, finalNewline, max) => {
          // A BOM is stripped from each line by the decoder: leave it out of this oracle.
          const clean = lines.map((l) => l.replace(/^\uFEFF+/, ''));
          const text = clean.join('\n') + (finalNewline && clean.length > 0 ? '\n' : '');
          const f = file(Buffer.from(text, 'utf8'));
          const got: { text: string; overLong?: boolean }[] = [];
          for await (const l of readLines(f, { maxLineBytes: max, overLong: 'skip' })) got.push(l);
          const expected = text.length === 0 ? [] : text.replace(/\n$/, '').split('\n');
          expect(got.map((g) => g.overLong === true)).toEqual(expected.map((l) => Buffer.byteLength(l) > max));
          expect(got.filter((g) => !g.overLong).map((g) => g.text)).toEqual(
            expected.filter((l) => Buffer.byteLength(l) <= max),
          );
        },
      ),
      fuzzRuns(150),
    );
  });
});
