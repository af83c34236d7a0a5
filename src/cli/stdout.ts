// Writing a command's results as they come: a slow reader (a pipe into `head`, a terminal) holds the run back
// instead of letting unwritten text pile up in memory.
import type { Writable } from 'node:stream';

/** Writes `text` to `out` (default stdout); resolves at once, or once `out` drains when its buffer is full. */
export function writeWaiting(text: string, out: Writable = process.stdout): Promise<void> {
  return new Promise((resolve) => {
    if (out.write(text)) resolve();
    else out.once('drain', resolve);
  });
}
