// Parallel-corpus readers: TSV, two aligned plain-text files, JSON Lines. All stream line by line (gzip detected by
// its magic bytes), so a corpus larger than memory can be preprocessed, and all report problems by file and line.
//
// Lines are split and UTF-8-decoded here rather than by node:readline: readline decodes before we see the bytes and
// silently turns invalid UTF-8 into U+FFFD, whereas decoding each line with a fatal TextDecoder names the bad line.
//
// A pair whose source or target is empty, or longer than `maxChars`, is dropped as a whole (never one side alone, which
// would misalign the rest of the corpus) and counted in a DropTally by reason.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import type { Readable } from 'node:stream';
import { ToolkitError, fileSystemProblem } from '../errors.js';

export interface Pair {
  source: string;
  target: string;
}

/** A problem in an input file; `line` is 1-based and absent when the whole file is at fault (e.g. not found). */
export class CorpusError extends ToolkitError {
  override name = 'CorpusError';
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    super(line === undefined ? `${file}: ${problem}` : `${file}:${line}: ${problem}`);
  }
}

/**
 * Why a pair was left out. 'empty' and 'too-long' (over maxChars or maxTokens) are decided by the readers and the
 * corpus loader, 'line-too-long' (a line over maxLineBytes, never read into memory) by the line reader, 'over-bucket'
 * by the bucketing.
 */
export type DropReason = 'empty' | 'too-long' | 'line-too-long' | 'over-bucket';

/** Counts dropped pairs by reason, keeping the first few locations of each so a report can point at them. */
export class DropTally {
  readonly counts = new Map<DropReason, number>();
  readonly examples = new Map<DropReason, string[]>();
  constructor(private readonly keepExamples = 3) {}

  add(reason: DropReason, where?: string): void {
    this.counts.set(reason, (this.counts.get(reason) ?? 0) + 1);
    if (where === undefined) return;
    const list = this.examples.get(reason) ?? [];
    if (list.length < this.keepExamples) list.push(where);
    this.examples.set(reason, list);
  }

  get total(): number {
    let n = 0;
    for (const c of this.counts.values()) n += c;
    return n;
  }

  /** Plain object, e.g. { empty: 2, 'too-long': 1 }. */
  toJSON(): Partial<Record<DropReason, number>> {
    return Object.fromEntries(this.counts);
  }
}

export interface ReaderOptions {
  /** Drop pairs where either side has more than this many characters (UTF-16 units) (default: no limit). */
  maxChars?: number;
  /** Drop pairs whose line (either line, for aligned files) is longer than this many bytes (default DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
  /** Where dropped pairs are counted (default: a private tally, i.e. drops are not reported). */
  dropped?: DropTally;
}

export interface TsvOptions extends ReaderOptions {
  /** Source and target columns, by 0-based index, or by name when `header` is true (default [0, 1]). */
  columns?: readonly [number | string, number | string];
  /** The first line names the columns and is not a pair (default: true when a column is given by name, else false). */
  header?: boolean;
}

export interface JsonlOptions extends ReaderOptions {
  /** Property names of source and target (default ['src', 'tgt']). */
  keys?: readonly [string, string];
}

/** One decoded line with its 1-based number. */
export interface Line {
  text: string;
  line: number;
  /** With overLong 'skip': the line was longer than maxLineBytes (text is then empty). */
  overLong?: boolean;
}

const GZIP_MAGIC = [0x1f, 0x8b];
const NEWLINE = 0x0a;

/**
 * The longest line read by default, in bytes (1 MiB): far beyond any sentence, short enough that a file without
 * newlines (a binary, one 5 MB line) costs a bounded amount of memory instead of growing a string and a bucket.
 */
export const DEFAULT_MAX_LINE_BYTES = 1 << 20;

export interface ReadLinesOptions {
  /** Lines longer than this many bytes are over-long (default DEFAULT_MAX_LINE_BYTES). */
  maxLineBytes?: number;
  /**
   * An over-long line: 'error' (default) throws a CorpusError naming it; 'skip' yields it as `{ text: '', overLong:
   * true }` without keeping its bytes, for readers that drop it and count the drop.
   */
  overLong?: 'error' | 'skip';
}

async function isGzip(file: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (e) {
    throw new CorpusError(file, undefined, `cannot open (${describeError(e)})`);
  }
  try {
    const head = Buffer.alloc(2);
    const { bytesRead } = await handle.read(head, 0, 2, 0);
    return bytesRead === 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1];
  } catch (e) {
    // open() succeeds on a directory; reading it fails (EISDIR).
    throw new CorpusError(file, undefined, `cannot read (${describeError(e)})`);
  } finally {
    await handle.close();
  }
}

/** A Node file-system error in words ("is a directory, not a file"), else its code or message. */
function describeError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return (err?.code !== undefined ? fileSystemProblem(err.code) : undefined) ?? err?.code ?? String(err?.message ?? e);
}

/** One line's bytes, without its "\n" or "\r\n"; or, for a line longer than the limit, only that it was. */
export type RawLine = { bytes: Buffer; overLong: false } | { bytes: null; overLong: true };

/**
 * Splits a byte stream (a file, stdin) into lines as the chunks arrive, keeping at most `maxBytes` of a line: a longer
 * one is reported as over-long and its bytes are dropped as they come, so memory stays bounded whatever the stream
 * holds. A last line without a final newline still counts; an empty remainder after the final newline does not.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer | string>, maxBytes: number): AsyncGenerator<RawLine> {
  let carry: Buffer[] = [];
  let carried = 0;
  let overLong = false;
  const keep = (piece: Buffer): void => {
    if (overLong) return;
    if (carried + piece.length > maxBytes) {
      overLong = true;
      carry = [];
      carried = 0;
      return;
    }
    carry.push(Buffer.from(piece));
    carried += piece.length;
  };
  const finish = (): RawLine => {
    if (overLong) {
      overLong = false;
      return { bytes: null, overLong: true };
    }
    let bytes = Buffer.concat(carry);
    carry = [];
    carried = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { bytes, overLong: false };
  };
  for await (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = buf.indexOf(NEWLINE, start); nl !== -1; nl = buf.indexOf(NEWLINE, start)) {
      keep(buf.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < buf.length) keep(buf.subarray(start));
  }
  if (carried > 0 || overLong) yield finish();
}

/**
 * Streams the lines of a plain or gzip file, each decoded strictly as UTF-8; a trailing "\r" and a leading BOM are
 * removed. Memory stays bounded by `maxLineBytes` whatever the file holds (see ReadLinesOptions for over-long lines).
 */
export async function* readLines(file: string, options: ReadLinesOptions = {}): AsyncGenerator<Line> {
  const maxBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  const skipOverLong = options.overLong === 'skip';
  const gz = await isGzip(file);
  const raw = createReadStream(file, { highWaterMark: Math.min(1 << 20, Math.max(1 << 16, maxBytes)) });
  const stream: Readable = gz ? raw.pipe(createGunzip()) : raw;
  if (gz) raw.on('error', (e) => stream.destroy(e));
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let line = 0;
  try {
    for await (const next of splitLines(stream as AsyncIterable<Buffer>, maxBytes)) {
      line++;
      if (next.overLong) {
        if (!skipOverLong) throw new CorpusError(file, line, `line longer than ${maxBytes} bytes`);
        yield { text: '', line, overLong: true };
        continue;
      }
      let text: string;
      try {
        // ignoreBOM false: the decoder strips a BOM at the start of each call, harmless on later lines.
        text = decoder.decode(next.bytes);
      } catch {
        throw new CorpusError(file, line, `invalid UTF-8 (byte offset ${firstInvalidUtf8(next.bytes)} in the line)`);
      }
      yield { text, line };
    }
  } catch (e) {
    if (e instanceof CorpusError) throw e;
    throw new CorpusError(
      file,
      undefined,
      gz ? `cannot decompress (${(e as Error).message})` : `cannot read (${describeError(e)})`,
    );
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

/** Offset of the first byte that breaks UTF-8, for the error message. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const strict = new TextDecoder('utf-8', { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // The shortest failing prefix ends at the bad byte (or at a truncated sequence's end).
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    let ok = true;
    try {
      strict.decode(bytes.subarray(0, mid + 1), { stream: true });
    } catch {
      ok = false;
    }
    if (ok) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Corpus readers skip over-long lines (and count them) rather than stop at them. */
function lineOptions(options: ReaderOptions): ReadLinesOptions {
  return { overLong: 'skip', ...(options.maxLineBytes !== undefined ? { maxLineBytes: options.maxLineBytes } : {}) };
}

/** Applies the shared drop rules; returns the pair to keep, or null after counting the drop. */
function keep(source: string, target: string, where: string, options: ReaderOptions, dropped: DropTally): Pair | null {
  const s = source.trim();
  const t = target.trim();
  if (s.length === 0 || t.length === 0) {
    dropped.add('empty', where);
    return null;
  }
  const max = options.maxChars ?? Infinity;
  if (s.length > max || t.length > max) {
    dropped.add('too-long', where);
    return null;
  }
  return { source: s, target: t };
}

/** Reads `source \t target [\t more columns]` lines (e.g. the Tatoeba/Anki export). */
export async function* readTsv(file: string, options: TsvOptions = {}): AsyncGenerator<Pair> {
  const dropped = options.dropped ?? new DropTally();
  const columns = options.columns ?? [0, 1];
  const header = options.header ?? columns.some((c) => typeof c === 'string');
  let index: [number, number] | null = null;
  if (columns.every((c) => typeof c === 'number')) index = [columns[0] as number, columns[1] as number];
  for await (const { text, line, overLong } of readLines(file, lineOptions(options))) {
    if (overLong) {
      if (header && line === 1)
        throw new CorpusError(
          file,
          1,
          `header line longer than ${options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES} bytes`,
        );
      dropped.add('line-too-long', `${file}:${line}`);
      continue;
    }
    if (header && line === 1) {
      const names = text.split('\t');
      index = [columnIndex(names, columns[0], file), columnIndex(names, columns[1], file)];
      continue;
    }
    if (index === null) throw new CorpusError(file, undefined, 'columns given by name need a header line');
    // A wholly blank line is an empty pair (dropped), not a malformed one.
    if (text.trim().length === 0) {
      dropped.add('empty', `${file}:${line}`);
      continue;
    }
    const fields = text.split('\t');
    const need = Math.max(index[0], index[1]) + 1;
    if (fields.length < need) {
      throw new CorpusError(
        file,
        line,
        `has ${fields.length} tab-separated column${fields.length === 1 ? '' : 's'}, expected at least ${need}`,
      );
    }
    const pair = keep(fields[index[0]]!, fields[index[1]]!, `${file}:${line}`, options, dropped);
    if (pair) yield pair;
  }
}

function columnIndex(names: string[], column: number | string, file: string): number {
  if (typeof column === 'number') return column;
  const i = names.indexOf(column);
  if (i < 0) throw new CorpusError(file, 1, `no column named "${column}" in the header (${names.join(', ')})`);
  return i;
}

/** Reads two files aligned line by line (line n of `sourceFile` translates line n of `targetFile`). */
export async function* readAligned(
  sourceFile: string,
  targetFile: string,
  options: ReaderOptions = {},
): AsyncGenerator<Pair> {
  const dropped = options.dropped ?? new DropTally();
  const src = readLines(sourceFile, lineOptions(options));
  const tgt = readLines(targetFile, lineOptions(options));
  try {
    for (;;) {
      const [a, b] = await Promise.all([src.next(), tgt.next()]);
      if (a.done && b.done) return;
      if (a.done || b.done) {
        const [shortFile, longFile, extra] = a.done
          ? [sourceFile, targetFile, b.value as Line]
          : [targetFile, sourceFile, a.value];
        throw new CorpusError(
          longFile,
          extra.line,
          `line count mismatch: ${shortFile} ends after ${extra.line - 1} lines but ${longFile} continues`,
        );
      }
      if (a.value.overLong || b.value.overLong) {
        dropped.add('line-too-long', `${a.value.overLong ? sourceFile : targetFile}:${a.value.line}`);
        continue;
      }
      const pair = keep(a.value.text, b.value.text, `${sourceFile}:${a.value.line}`, options, dropped);
      if (pair) yield pair;
    }
  } finally {
    await Promise.all([src.return(undefined), tgt.return(undefined)]);
  }
}

/** Reads JSON Lines, one object per line with string source and target properties ({"src": …, "tgt": …} by default). */
export async function* readJsonl(file: string, options: JsonlOptions = {}): AsyncGenerator<Pair> {
  const dropped = options.dropped ?? new DropTally();
  const [sk, tk] = options.keys ?? ['src', 'tgt'];
  for await (const { text, line, overLong } of readLines(file, lineOptions(options))) {
    if (overLong) {
      dropped.add('line-too-long', `${file}:${line}`);
      continue;
    }
    if (text.trim().length === 0) {
      dropped.add('empty', `${file}:${line}`);
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new CorpusError(file, line, `bad JSON (${(e as Error).message})`);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      throw new CorpusError(file, line, 'expected a JSON object');
    const obj = value as Record<string, unknown>;
    for (const k of [sk, tk]) {
      if (typeof obj[k] !== 'string')
        throw new CorpusError(file, line, `property "${k}" is ${k in obj ? `not a string` : 'missing'}`);
    }
    const pair = keep(obj[sk] as string, obj[tk] as string, `${file}:${line}`, options, dropped);
    if (pair) yield pair;
  }
}
