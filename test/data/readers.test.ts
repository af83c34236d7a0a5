import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { ToolkitError } from '../../src/errors.js';
import {
  readTsv,
  readAligned,
  readJsonl,
  readLines,
  DropTally,
  CorpusError,
  type Pair,
} from '../../src/data/readers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../shared/corpora');
const fixture = (name: string) => path.join(here, 'fixtures', name);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'readers-test-'));

async function collect(it: AsyncIterable<Pair>): Promise<Pair[]> {
  const out: Pair[] = [];
  for await (const p of it) out.push(p);
  return out;
}

async function corpusError(promise: Promise<unknown>): Promise<CorpusError> {
  try {
    await promise;
  } catch (e) {
    expect(e).toBeInstanceOf(CorpusError);
    // The CLI prints user errors (ToolkitError) without a stack trace.
    expect(e).toBeInstanceOf(ToolkitError);
    return e as CorpusError;
  }
  throw new Error('expected a CorpusError');
}

describe('readTsv on the real Tatoeba export', () => {
  it('reads all 4,500 pairs, english → french, ignoring the attribution column', async () => {
    const pairs = await collect(readTsv(path.join(corpora, 'tatoeba-eng-fra/eng-fra.tsv')));
    expect(pairs).toHaveLength(4500);
    expect(pairs[0]).toEqual({ source: 'Go.', target: 'Va !' });
    expect(pairs.at(-1)).toEqual({ source: "I'm so sorry.", target: 'Je suis tellement désolée !' });
    expect(pairs.some((p) => p.target.includes('CC-BY'))).toBe(false);
  });

  it('selects columns by header name (joeynmt dev.tsv: src, src_prompt, trg, trg_prompt)', async () => {
    const pairs = await collect(readTsv(path.join(corpora, 'joeynmt-toy-de-en/dev.tsv'), { columns: ['src', 'trg'] }));
    expect(pairs).toHaveLength(40);
    expect(pairs[0]).toEqual({ source: 'Ich freue mich , dass ich da bin .', target: 'I’m happy to be here .' });
  });
});

describe('readTsv on fixtures', () => {
  it('drops blank and one-sided pairs, counts them, and keeps the rest aligned', async () => {
    const dropped = new DropTally();
    const pairs = await collect(readTsv(fixture('pairs.tsv'), { dropped }));
    expect(pairs).toEqual([
      { source: 'Go.', target: 'Va !' },
      { source: 'Hello, world!', target: 'Bonjour, le monde !' },
      { source: 'Good morning.', target: 'Bonjour.' },
    ]);
    expect(dropped.toJSON()).toEqual({ empty: 3 });
    expect(dropped.examples.get('empty')).toEqual([
      `${fixture('pairs.tsv')}:3`,
      `${fixture('pairs.tsv')}:4`,
      `${fixture('pairs.tsv')}:5`,
    ]);
  });

  it('drops over-long pairs by reason', async () => {
    const dropped = new DropTally();
    const pairs = await collect(readTsv(fixture('pairs.tsv'), { dropped, maxChars: 10 }));
    expect(pairs.map((p) => p.source)).toEqual(['Go.']);
    expect(dropped.toJSON()).toEqual({ empty: 3, 'too-long': 2 });
  });

  it('names file and line of a missing column', async () => {
    const e = await corpusError(collect(readTsv(fixture('missing-column.tsv'))));
    expect(e.file).toBe(fixture('missing-column.tsv'));
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/missing-column\.tsv:2: has 1 tab-separated column, expected at least 2/);
  });

  it('rejects an unknown header name', async () => {
    const e = await corpusError(collect(readTsv(fixture('header.tsv'), { columns: ['src', 'target'] })));
    expect(e.message).toMatch(/no column named "target"/);
  });

  it('reads named columns past the header', async () => {
    expect(await collect(readTsv(fixture('header.tsv'), { columns: ['src', 'trg'] }))).toEqual([
      { source: 'Hello.', target: 'Bonjour.' },
      { source: 'Thanks.', target: 'Merci.' },
    ]);
  });

  it('strips a byte-order mark and CRLF line ends', async () => {
    expect(await collect(readTsv(fixture('crlf-bom.tsv')))).toEqual([
      { source: 'One.', target: 'Un.' },
      { source: 'Two.', target: 'Deux.' },
    ]);
  });
});

describe('readAligned', () => {
  it('reads the joeynmt toy corpus line by line', async () => {
    const pairs = await collect(
      readAligned(path.join(corpora, 'joeynmt-toy-de-en/train.de'), path.join(corpora, 'joeynmt-toy-de-en/train.en')),
    );
    expect(pairs).toHaveLength(1000);
    expect(pairs[0]!.source).toBe('David Gallo: Das ist Bill Lange. Ich bin Dave Gallo.');
    const en = readFileSync(path.join(corpora, 'joeynmt-toy-de-en/train.en'), 'utf8').split('\n');
    expect(pairs[999]!.target).toBe(en[999]!.trim());
  });

  it('reads the opennmt-morph space-separated characters', async () => {
    const pairs = await collect(
      readAligned(path.join(corpora, 'opennmt-morph/src.train'), path.join(corpora, 'opennmt-morph/tgt.train')),
    );
    expect(pairs).toHaveLength(9000);
    expect(pairs[1]).toEqual({ source: 'r a s p o l o ž i t i', target: 'r a s p o l o ʒ i t i' });
  });

  it('reads gzip files (multi30k) transparently', async () => {
    const pairs = await collect(
      readAligned(path.join(corpora, 'multi30k/val.de.gz'), path.join(corpora, 'multi30k/val.en.gz')),
    );
    expect(pairs).toHaveLength(1014);
    const train = readAligned(path.join(corpora, 'multi30k/train.de.gz'), path.join(corpora, 'multi30k/train.en.gz'));
    const first = await train.next();
    await train.return(undefined);
    expect(first.value).toEqual({
      source: 'Zwei junge weiße Männer sind im Freien in der Nähe vieler Büsche.',
      target: 'Two young, White males are outside near many bushes.',
    });
  });

  it('names both files and the line when real files have different line counts', async () => {
    const e = await corpusError(
      collect(
        readAligned(path.join(corpora, 'joeynmt-toy-de-en/train.de'), path.join(corpora, 'joeynmt-toy-de-en/dev.en')),
      ),
    );
    expect(e.file).toBe(path.join(corpora, 'joeynmt-toy-de-en/train.de'));
    expect(e.line).toBe(21);
    expect(e.message).toContain('dev.en ends after 20 lines');
  });

  it('reports a mismatch in the other direction too', async () => {
    const e = await corpusError(collect(readAligned(fixture('short.de'), fixture('small.en'))));
    expect(e.file).toBe(fixture('small.en'));
    expect(e.line).toBe(4);
  });

  it('drops a pair with one empty side as a whole, so later lines stay aligned', async () => {
    const dropped = new DropTally();
    const pairs = await collect(readAligned(fixture('small.de'), fixture('small.en'), { dropped }));
    expect(pairs).toEqual([
      { source: 'Guten Morgen .', target: 'Good morning .' },
      { source: 'Danke !', target: 'Thank you !' },
      { source: 'Tschüss .', target: 'Bye .' },
    ]);
    expect(dropped.counts.get('empty')).toBe(1);
  });

  it('names the line with invalid UTF-8', async () => {
    const e = await corpusError(collect(readAligned(fixture('short.de'), fixture('bad-utf8.en'))));
    expect(e.file).toBe(fixture('bad-utf8.en'));
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/invalid UTF-8 \(byte offset 4/);
  });

  it('names the line with invalid UTF-8 inside a gzip file', async () => {
    const gz = path.join(tmp, 'bad.en.gz');
    writeFileSync(gz, gzipSync(readFileSync(fixture('bad-utf8.en'))));
    const e = await corpusError(collect(readAligned(fixture('short.de'), gz)));
    expect(e.file).toBe(gz);
    expect(e.line).toBe(2);
  });
});

describe('readLines', () => {
  it('detects gzip by its magic bytes, not by the file name', async () => {
    const file = path.join(tmp, 'looks-plain.txt');
    writeFileSync(file, gzipSync(Buffer.from('eins\nzwei\n')));
    const lines: string[] = [];
    for await (const l of readLines(file)) lines.push(l.text);
    expect(lines).toEqual(['eins', 'zwei']);
  });

  it('decodes multi-byte characters split across read chunks and counts a last line without newline', async () => {
    // 3 MB lines of "é" (2 bytes each) cross the 1 MiB read chunks at arbitrary byte offsets.
    const long = 'é'.repeat(1_500_000);
    const file = path.join(tmp, 'long.txt');
    writeFileSync(file, `${long}\nß\n${long}`);
    const lines: { text: string; line: number }[] = [];
    // Above the default line limit (1 MiB): raised for this file.
    for await (const l of readLines(file, { maxLineBytes: 4 << 20 })) lines.push(l);
    expect(lines.map((l) => l.line)).toEqual([1, 2, 3]);
    expect(lines[0]!.text === long && lines[1]!.text === 'ß' && lines[2]!.text === long).toBe(true);
  });

  it('reports a missing file as a CorpusError naming it', async () => {
    const e = await corpusError(collect(readTsv(path.join(tmp, 'nope.tsv'))));
    expect(e.message).toContain('nope.tsv: cannot open (no such file or directory)');
  });

  it('reports a truncated gzip file', async () => {
    const file = path.join(tmp, 'truncated.gz');
    const full = gzipSync(Buffer.from('a\tb\n'.repeat(10000)));
    writeFileSync(file, full.subarray(0, full.length >> 1));
    const e = await corpusError(collect(readTsv(file)));
    expect(e.message).toMatch(/cannot decompress/);
  });
});

describe('readJsonl', () => {
  it('reads {"src","tgt"} objects and drops empty ones', async () => {
    const dropped = new DropTally();
    const pairs = await collect(readJsonl(fixture('pairs.jsonl'), { dropped }));
    expect(pairs).toEqual([
      { source: 'Go.', target: 'Va !' },
      { source: 'Thanks.', target: 'Merci.' },
      { source: 'Hello.', target: 'Bonjour.' },
    ]);
    expect(dropped.toJSON()).toEqual({ empty: 2 });
  });

  it('names the line with bad JSON', async () => {
    const e = await corpusError(collect(readJsonl(fixture('bad.jsonl'))));
    expect(e.line).toBe(2);
    expect(e.message).toMatch(/bad\.jsonl:2: bad JSON/);
  });

  it('names the line and the property that is missing', async () => {
    const e = await corpusError(collect(readJsonl(fixture('missing-key.jsonl'))));
    expect(e.message).toMatch(/missing-key\.jsonl:2: property "tgt" is missing/);
  });

  it('takes other property names', async () => {
    const pairs = await collect(readJsonl(fixture('pairs.jsonl'), { keys: ['tgt', 'src'] }));
    expect(pairs[0]).toEqual({ source: 'Va !', target: 'Go.' });
  });
});

describe('over-long lines and paths that are not files', () => {
  it('drops a 5 MB corpus line, counted as line-too-long with its place, and reads on with the right line numbers', async () => {
    const file = path.join(tmp, 'huge.tsv');
    writeFileSync(file, `a\tb\n${'x'.repeat(5_000_000)}\ty\nc\td\n`);
    const dropped = new DropTally();
    expect(await collect(readTsv(file, { dropped }))).toEqual([
      { source: 'a', target: 'b' },
      { source: 'c', target: 'd' },
    ]);
    expect(dropped.toJSON()).toEqual({ 'line-too-long': 1 });
    expect(dropped.examples.get('line-too-long')).toEqual([`${file}:2`]);
  });

  it('drops the pair when either aligned line is over-long, keeping the files aligned; jsonl too', async () => {
    const src = path.join(tmp, 'long.src');
    const tgt = path.join(tmp, 'long.tgt');
    writeFileSync(src, `one\n${'s'.repeat(3000)}\nthree`);
    writeFileSync(tgt, `eins\nzwei\n${'t'.repeat(3000)}`);
    const dropped = new DropTally();
    expect(await collect(readAligned(src, tgt, { dropped, maxLineBytes: 1000 }))).toEqual([
      { source: 'one', target: 'eins' },
    ]);
    expect(dropped.examples.get('line-too-long')).toEqual([`${src}:2`, `${tgt}:3`]);
    const jsonl = path.join(tmp, 'long.jsonl');
    writeFileSync(jsonl, `{"src":"${'a'.repeat(2000)}","tgt":"b"}\n{"src":"c","tgt":"d"}\n`);
    const d2 = new DropTally();
    expect(await collect(readJsonl(jsonl, { dropped: d2, maxLineBytes: 1000 }))).toEqual([
      { source: 'c', target: 'd' },
    ]);
    expect(d2.toJSON()).toEqual({ 'line-too-long': 1 });
  });

  it('readLines: an over-long line spanning many read chunks is an error naming it by default, or skipped on request', async () => {
    const file = path.join(tmp, 'chunks.txt');
    // 300 KB without a newline spans several 64 KB chunks; the lines around it must keep their numbers.
    writeFileSync(file, `first\n${'é'.repeat(150_000)}\nlast\nend-without-newline-${'z'.repeat(2000)}`);
    const lines: { text: string; line: number; overLong?: boolean }[] = [];
    for await (const l of readLines(file, { maxLineBytes: 1000, overLong: 'skip' })) lines.push(l);
    expect(lines).toEqual([
      { text: 'first', line: 1 },
      { text: '', line: 2, overLong: true },
      { text: 'last', line: 3 },
      { text: '', line: 4, overLong: true },
    ]);
    const e = await corpusError(
      (async () => {
        for await (const _ of readLines(file, { maxLineBytes: 1000 })) void _;
      })(),
    );
    expect(e.message).toBe(`${file}:2: line longer than 1000 bytes`);
  });

  it('a directory given as a corpus is a one-line CorpusError (it used to escape as EISDIR with a stack trace)', async () => {
    const e = await corpusError(collect(readTsv(tmp)));
    expect(e.message).toBe(`${tmp}: cannot read (is a directory, not a file)`);
  });
});
