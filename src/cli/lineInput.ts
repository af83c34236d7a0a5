// Lines of a stream (stdin) as they arrive, each bounded in bytes (the corpus readers' splitLines): a line longer
// than the limit is reported as over-long and its bytes are dropped as they come, so one huge line costs that line,
// never the process's memory. Unlike a corpus line, an input line with invalid UTF-8 is translated, not refused.
import type { Readable } from 'node:stream';
import { splitLines, readLines, DEFAULT_MAX_LINE_BYTES } from '../data/readers.js';

export interface InputLine {
  /** 1-based line number. */
  line: number;
  /** The decoded line (invalid UTF-8 becomes U+FFFD), without its "\n" or "\r\n"; '' when over-long. */
  text: string;
  overLong: boolean;
}

/** The longest input line read, in bytes: the corpus readers' bound (1 MiB, far beyond any sentence). */
export const DEFAULT_MAX_INPUT_LINE_BYTES = DEFAULT_MAX_LINE_BYTES;

export async function* readInputLines(
  stream: Readable | AsyncIterable<Buffer | string>,
  maxLineBytes = DEFAULT_MAX_INPUT_LINE_BYTES,
): AsyncGenerator<InputLine> {
  const decoder = new TextDecoder('utf-8');
  let line = 0;
  for await (const next of splitLines(stream as AsyncIterable<Buffer | string>, maxLineBytes)) {
    line++;
    yield next.overLong
      ? { line, text: '', overLong: true }
      : { line, text: decoder.decode(next.bytes), overLong: false };
  }
}

/** An input line and where it comes from, for messages: `stdin line N` or `FILE:N`. */
export interface PlacedLine {
  where: string;
  text: string;
  overLong: boolean;
}

/**
 * The lines to process, as they come: the files in turn (through the corpus readers, an over-long line marked
 * rather than refused), or stdin when no file is named. Memory is one line, whatever the input's size.
 */
export async function* placedLines(files: readonly string[]): AsyncGenerator<PlacedLine> {
  if (files.length === 0) {
    for await (const l of readInputLines(process.stdin))
      yield { where: `stdin line ${l.line}`, text: l.text, overLong: l.overLong };
    return;
  }
  for (const f of files)
    for await (const l of readLines(f, { overLong: 'skip' }))
      yield { where: `${f}:${l.line}`, text: l.text, overLong: l.overLong === true };
}
