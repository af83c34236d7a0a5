// Fuzzing the tokenizers with arbitrary text (lone surrogates, control characters, combining marks, emoji) and the
// SentencePiece loader with arbitrary and damaged .model bytes: tokens are non-empty strings and detokenizing
// gives a string, or the model is refused with a TokenizerError; never a crash.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import {
  WordTokenizer,
  CharTokenizer,
  SpaceTokenizer,
  parseTokenizerSpec,
  tokenizerConfigFromJSON,
} from '../../src/data/text/tokenizers.js';
import { TokenizerError, type Tokenizer } from '../../src/data/text/tokenizer.js';
import { SentencePieceTokenizer } from '../../src/data/text/sentencePieceTokenizer.js';
import { ToolkitError } from '../../src/errors.js';
import { fuzzRuns } from './settings.js';

const spModel = resolve(import.meta.dirname, '../../../shared/corpora/joeynmt-toy-de-en/sp200.model');
const dir = mkdtempSync(join(tmpdir(), 'fuzz-tok-'));

const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 60 }),
  fc.string({ unit: 'grapheme', maxLength: 60 }),
  fc
    .array(
      fc.constantFrom(
        "l'homme",
        ' ',
        '\t',
        '\u00a0',
        '\u0301',
        '😀',
        '«',
        '»',
        '!',
        "'",
        '-',
        '\ud800',
        '\u200b',
        '.',
        'A',
        '\n',
      ),
      { maxLength: 30 },
    )
    .map((a) => a.join('')),
);

function checkTokenizer(tok: Tokenizer, s: string): void {
  const tokens = tok.tokenize(s);
  expect(Array.isArray(tokens)).toBe(true);
  for (const t of tokens) {
    expect(typeof t).toBe('string');
    expect(t.length).toBeGreaterThan(0);
  }
  expect(typeof tok.detokenize(tokens)).toBe('string');
}

describe('tokenizers on arbitrary text', () => {
  it('word (en, fr), char and space: non-empty string tokens, and detokenize gives a string', () => {
    const tokenizers = [
      new WordTokenizer(),
      new WordTokenizer({ language: 'fr' }),
      new CharTokenizer(),
      new SpaceTokenizer(),
    ];
    fc.assert(
      fc.property(text, (s) => {
        for (const tok of tokenizers) checkTokenizer(tok, s);
      }),
      fuzzRuns(300),
    );
  });

  it('SentencePiece (the toy corpus model): non-empty string tokens, and detokenize gives a string', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    fc.assert(
      fc.property(text, (s) => checkTokenizer(sp, s)),
      fuzzRuns(200),
    );
  });

  it('tokenizer specs and saved configs: a config or a TokenizerError', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('word:', 'sp:', 'sentencepiece:', 'char:x', 'word:fr')),
        (spec) => {
          try {
            expect(typeof parseTokenizerSpec(spec).kind).toBe('string');
          } catch (e) {
            expect(e).toBeInstanceOf(TokenizerError);
          }
        },
      ),
      fuzzRuns(200),
    );
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 2 }),
        fc.constantFrom('word', 'char', 'space', 'sentencepiece', 'bpe'),
        (json, kind) => {
          for (const candidate of [
            json,
            { ...(typeof json === 'object' && json !== null && !Array.isArray(json) ? json : {}), kind },
          ]) {
            try {
              expect(typeof tokenizerConfigFromJSON(candidate).kind).toBe('string');
            } catch (e) {
              expect(e).toBeInstanceOf(TokenizerError);
            }
          }
        },
      ),
      fuzzRuns(200),
    );
  });

  it('SentencePiece models from arbitrary or damaged bytes: a working tokenizer or a TokenizerError', async () => {
    const good = new Uint8Array(readFileSync(spModel));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      // The real model with a few bytes changed, or cut short.
      fc
        .tuple(
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
          fc.option(fc.nat(), { freq: 3 }),
        )
        .map(([flips, cut]) => {
          const b = good.slice();
          for (const [at, v] of flips) b[at % b.length] = v;
          return cut === null ? b : b.subarray(0, cut % b.length);
        }),
    );
    let k = 0;
    await fc.assert(
      fc.asyncProperty(bytes, text, async (model, s) => {
        const file = join(dir, `m${k++}.model`);
        writeFileSync(file, model);
        let sp: SentencePieceTokenizer;
        try {
          sp = await SentencePieceTokenizer.load(file);
        } catch (e) {
          expect(e).toBeInstanceOf(ToolkitError);
          return;
        }
        try {
          checkTokenizer(sp, s);
        } catch (e) {
          // A model that loads must tokenize; a typed refusal at tokenizing time is acceptable, a crash is not.
          expect(e).toBeInstanceOf(ToolkitError);
        }
      }),
      fuzzRuns(40),
    );
  });
});
