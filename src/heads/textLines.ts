// Plain text files as lines (plain or gzip, strict UTF-8, through the corpus readers), for the heads that read
// text: the language model's training and scoring text, a text classifier's inputs.
import { readLines } from '../data/readers.js';

export interface TextLinesOptions {
  /** Read at most this many lines over all files (default: all). */
  limit?: number;
  /** Leave out lines that are empty or only whitespace (default false); `limit` counts the lines kept. */
  nonEmpty?: boolean;
}

/** The lines of `files`, in order, without their line ends. */
export async function readTextLines(files: readonly string[], options: TextLinesOptions = {}): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    for await (const { text } of readLines(file)) {
      if (options.limit !== undefined && out.length >= options.limit) return out;
      if (options.nonEmpty && text.trim().length === 0) continue;
      out.push(text);
    }
  }
  return out;
}
