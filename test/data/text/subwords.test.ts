import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { readFileSync, mkdtempSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { trainSubwords } from '../../../src/data/text/subwords.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const toy = path.resolve(here, '../../../../shared/corpora/joeynmt-toy-de-en');

function hasSpmTrain(): boolean {
  if (process.env['REQUIRE_SYSTEM_TOOLS'] === '1') return true;
  try {
    execFileSync('spm_train', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.runIf(hasSpmTrain())('trainSubwords', () => {
  const lines = [
    ...readFileSync(path.join(toy, 'train.de'), 'utf8').split('\n'),
    ...readFileSync(path.join(toy, 'train.en'), 'utf8').split('\n'),
  ];

  it('trains a joint model under which no input is unknown (byte fallback), deterministically', async () => {
    const a = await trainSubwords(lines, { size: 600, seed: 3 });
    const b = await trainSubwords(lines, { size: 600, seed: 3 });
    // spm_train stores one varying byte in its trainer spec; the pieces (and so the tokenization) are the same.
    expect(b.pieces).toEqual(a.pieces);
    expect(a.pieces.length).toBeGreaterThan(256); // 256 byte pieces and the learnt ones
    const known = new Set(a.pieces);
    // Characters the training text never had (quotes, CJK, emoji) still come out as pieces of the model.
    for (const text of ['„Graffiti“ an der Wand', '東京 🚲 naïve', 'ein Mann']) {
      const pieces = a.tokenize(text);
      expect(pieces.every((p) => known.has(p) && p !== '<unk>')).toBe(true);
    }
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        expect(a.tokenize(text).every((p) => known.has(p) && p !== '<unk>')).toBe(true);
      }),
      { numRuns: 200 },
    );
    expect(a.detokenize(a.tokenize('„Graffiti“ 🚲'))).toBe('„Graffiti“ 🚲');
  });

  it('writes the model where asked, or leaves no files behind', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'subwords-test-'));
    const bpe = await trainSubwords(lines.slice(0, 400), { size: 400, type: 'bpe' }, path.join(dir, 'bpe'));
    expect(existsSync(path.join(dir, 'bpe.model'))).toBe(true);
    expect(bpe.tokenize('Hallo Welt').length).toBeGreaterThan(0);
  });

  it('refuses text with no line to learn from in one line (spm_train aborted with a multi-line trace)', async () => {
    for (const empty of [[], ['', '  ', '\r\n']])
      await expect(trainSubwords(empty, { size: 100 })).rejects.toThrow(
        'no text to learn subwords from: every line is empty',
      );
  });
});
