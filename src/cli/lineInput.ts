// Lines of a stream (stdin) as they arrive, each bounded in bytes: a line longer than the limit is reported as
// over-long and its bytes are dropped as they come, so one huge line costs that line, never the process's memory.
import type { Readable } from 'node:stream';

export interface InputLine {
  /** 1-based line number. */
  line: number;
  /** The decoded line (invalid UTF-8 becomes U+FFFD), without its "\n" or "\r\n"; '' when over-long. */
  text: string;
  overLong: boolean;
}

/** The longest input line read, in bytes (1 MiB: far beyond any sentence). */
export const DEFAULT_MAX_INPUT_LINE_BYTES = 1 << 20;

export async function* readInputLines(stream: Readable | AsyncIterable<Buffer | string>, maxLineBytes = DEFAULT_MAX_INPUT_LINE_BYTES): AsyncGenerator<InputLine> {
  const decoder = new TextDecoder('utf-8');
  let carry: Buffer[] = [];
  let carried = 0;
  let overLong = false;
  let line = 0;
  const finish = (): InputLine => {
    line++;
    if (overLong) {
      overLong = false;
      carry = [];
      carried = 0;
      return { line, text: '', overLong: true };
    }
    let bytes = Buffer.concat(carry);
    carry = [];
    carried = 0;
    if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
    return { line, text: decoder.decode(bytes), overLong: false };
  };
  const keep = (piece: Buffer): void => {
    if (overLong) return;
    if (carried + piece.length > maxLineBytes) {
      overLong = true;
      carry = [];
      carried = 0;
      return;
    }
    carry.push(Buffer.from(piece));
    carried += piece.length;
  };
  for await (const chunk of stream) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
    let start = 0;
    for (let nl = buf.indexOf(0x0a, start); nl !== -1; nl = buf.indexOf(0x0a, start)) {
      keep(buf.subarray(start, nl));
      yield finish();
      start = nl + 1;
    }
    if (start < buf.length) keep(buf.subarray(start));
  }
  // A last line without a final newline still counts.
  if (carried > 0 || overLong) yield finish();
}
