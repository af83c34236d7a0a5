// Lines of a stream (stdin) as they arrive, each bounded in bytes (the corpus readers' splitLines): a line longer
// than the limit is reported as over-long and its bytes are dropped as they come, so one huge line costs that line,
// never the process's memory. Unlike a corpus line, an input line with invalid UTF-8 is translated, not refused.
import type { Readable } from 'node:stream';
import { splitLines } from '../data/readers.js';

export interface InputLine {
  /** 1-based line number. */
  line: number;
  /** The decoded line (invalid UTF-8 becomes U+FFFD), without its "\n" or "\r\n"; '' when over-long. */
  text: string;
  overLong: boolean;
}

/** The longest input line read, in bytes (1 MiB: far beyond any sentence). */
export const DEFAULT_MAX_INPUT_LINE_BYTES = 1 << 20;

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
