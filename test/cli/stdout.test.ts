import { describe, it, expect } from 'vitest';
import { Writable } from 'node:stream';
import { writeWaiting } from '../../src/cli/stdout.js';

describe('writeWaiting', () => {
  it('resolves at once while the stream takes more, and only after it drains once its buffer is full', async () => {
    const chunks: string[] = [];
    let release: (() => void) | null = null;
    // A reader that holds each chunk until released: its buffer of 8 bytes fills at the first write of 10.
    const out = new Writable({
      highWaterMark: 8,
      write(chunk: Buffer, _encoding, done) {
        chunks.push(chunk.toString());
        release = done;
      },
    });
    let first = false;
    void writeWaiting('abc', out).then(() => (first = true));
    await new Promise((r) => setImmediate(r));
    expect(first).toBe(true);
    release!();
    let second = false;
    const pending = writeWaiting('0123456789', out).then(() => (second = true));
    await new Promise((r) => setImmediate(r));
    expect(second).toBe(false);
    release!();
    await pending;
    expect(second).toBe(true);
    expect(chunks).toEqual(['abc', '0123456789']);
  });
});
