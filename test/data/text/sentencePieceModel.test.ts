import { describe, it, expect } from 'vitest';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import {
  readSentencePiecePieces,
  produciblePieces,
  SentencePieceModelError,
} from '../../../src/data/text/sentencePieceModel.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const toy = path.resolve(here, '../../../../shared/corpora/joeynmt-toy-de-en');

describe('readSentencePiecePieces', () => {
  it("lists the pieces in id order, as spm_train's .vocab file does", () => {
    const pieces = readSentencePiecePieces(new Uint8Array(readFileSync(path.join(toy, 'sp200.model'))));
    const vocab = readFileSync(path.join(toy, 'sp200.vocab'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => l.split('\t')[0]);
    expect(pieces.map((p) => p.piece)).toEqual(vocab);
    expect(pieces[0]).toEqual({ piece: '<unk>', type: 'unknown' });
    const control = pieces.filter((p) => p.type === 'control').map((p) => p.piece);
    expect(control).toEqual(expect.arrayContaining(['<s>', '</s>']));
    // Control pieces (<s>, </s>, here also <pad>) are never produced by encoding; every other piece may be.
    expect(produciblePieces(pieces)).toEqual(vocab.filter((p) => !control.includes(p!)));
  });

  it('throws its own error, never anything else, on arbitrary or truncated bytes', () => {
    const real = new Uint8Array(readFileSync(path.join(toy, 'sp200.model')));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          fc.nat(real.length - 1).map((n) => real.subarray(0, n)),
        ),
        (bytes) => {
          try {
            const pieces = readSentencePiecePieces(bytes);
            expect(pieces.length).toBeGreaterThan(0);
          } catch (e) {
            expect(e).toBeInstanceOf(SentencePieceModelError);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
