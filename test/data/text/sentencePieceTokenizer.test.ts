import { describe, it, expect } from 'vitest';
import path from 'node:path';
import os from 'node:os';
import { mkdtempSync, existsSync, readFileSync, writeFileSync, truncateSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  SentencePieceTokenizer,
  trainSentencePiece,
  MAX_SENTENCEPIECE_MODEL_BYTES,
  spmTrainReason,
} from '../../../src/data/text/sentencePieceTokenizer.js';
import { TokenizerError } from '../../../src/data/text/tokenizer.js';
import { readAligned } from '../../../src/data/readers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const corpora = path.resolve(here, '../../../../shared/corpora');
const spModel = path.join(corpora, 'joeynmt-toy-de-en/sp200.model');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'sentencepiece-test-'));

function hasSpmTrain(): boolean {
  // CI installs spm_train (.ci/run) and sets REQUIRE_SYSTEM_TOOLS: there a missing tool fails instead of skipping.
  if (process.env['REQUIRE_SYSTEM_TOOLS'] === '1') return true;
  try {
    execFileSync('sh', ['-c', 'command -v spm_train'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('SentencePieceTokenizer', () => {
  it('loads sp200.model and splits German into its pieces', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    const pieces = sp.tokenize('Ich freue mich , dass ich da bin .');
    expect(pieces[0]).toBe('▁I');
    expect(pieces.length).toBe(sp.encodeIds('Ich freue mich , dass ich da bin .').length);
    expect(pieces.length).toBeGreaterThan(8);
  });

  it('detokenizes every joeynmt training sentence exactly', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    let n = 0;
    for await (const p of readAligned(
      path.join(corpora, 'joeynmt-toy-de-en/train.de'),
      path.join(corpora, 'joeynmt-toy-de-en/train.en'),
    )) {
      for (const text of [p.source, p.target])
        if (sp.detokenize(sp.tokenize(text)) !== text) throw new Error(`no round trip: ${text}`);
      n++;
    }
    expect(n).toBe(1000);
  });

  it('decodes byte-fallback pieces back to UTF-8', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    expect(sp.detokenize(['▁a', '<0xE2>', '<0x82>', '<0xAC>', '▁b'])).toBe('a€ b');
  });

  it('does not leave process-wide error listeners behind', async () => {
    const before = process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException');
    await SentencePieceTokenizer.load(spModel);
    expect(process.listenerCount('unhandledRejection') + process.listenerCount('uncaughtException')).toBe(before);
  });

  it('rejects a file that is not a model, and a missing file', async () => {
    await expect(SentencePieceTokenizer.load(path.join(corpora, 'joeynmt-toy-de-en/dev.de'))).rejects.toThrow(
      /is not a SentencePiece model/,
    );
    await expect(SentencePieceTokenizer.load(path.join(tmp, 'missing.model'))).rejects.toThrow(TokenizerError);
  });

  it('refuses a file over MAX_SENTENCEPIECE_MODEL_BYTES before reading it', async () => {
    const big = path.join(tmp, 'big.model');
    writeFileSync(big, '');
    truncateSync(big, MAX_SENTENCEPIECE_MODEL_BYTES + 1); // sparse: no disk used
    await expect(SentencePieceTokenizer.load(big)).rejects.toThrow(/over the 67108864-byte limit/);
  });

  it('checks the checksum it is given, and names each model file by its content', async () => {
    const sp = await SentencePieceTokenizer.load(spModel);
    await expect(SentencePieceTokenizer.load(spModel, sp.sha256)).resolves.toBeInstanceOf(SentencePieceTokenizer);
    await expect(SentencePieceTokenizer.load(spModel, '0'.repeat(64))).rejects.toThrow(/checksum mismatch/);
    expect(sp.fileName).toBe(`sentencepiece-${sp.sha256.slice(0, 16)}.model`);
    expect(sp.toJSON()).toEqual({ kind: 'sentencepiece', model: sp.fileName, sha256: sp.sha256 });
    // Every piece it produces is among the pieces it lists (the 200-piece model less what it never outputs).
    const known = new Set(sp.pieces);
    expect(sp.tokenize('Ich freue mich , dass ich da bin .').every((p) => known.has(p))).toBe(true);
    expect(sp.pieces.length).toBeLessThanOrEqual(200);
  });
});

describe('SentencePieceTokenizer.fromBytes', () => {
  it('gives the tokenizer load() gives from the file: same pieces, checksum, ids and round trips', async () => {
    const fromFile = await SentencePieceTokenizer.load(spModel);
    const bytes = new Uint8Array(readFileSync(spModel));
    const fromBytes = await SentencePieceTokenizer.fromBytes(bytes, 'sp200.model', { sha256: fromFile.sha256 });
    expect(fromBytes.sha256).toBe(fromFile.sha256);
    expect(fromBytes.pieces).toEqual(fromFile.pieces);
    expect(fromBytes.model).toBe('sp200.model');
    for (const text of ['Ich freue mich , dass ich da bin .', 'Größe „graffiti“ 😀', ' a  b ']) {
      expect(fromBytes.tokenize(text)).toEqual(fromFile.tokenize(text));
      expect(fromBytes.encodeIds(text)).toEqual(fromFile.encodeIds(text));
      expect(fromBytes.detokenize(fromBytes.tokenize(text))).toBe(fromFile.detokenize(fromFile.tokenize(text)));
    }
  });

  it('refuses other bytes, a wrong checksum and more than MAX_SENTENCEPIECE_MODEL_BYTES', async () => {
    const bytes = new Uint8Array(readFileSync(spModel));
    await expect(SentencePieceTokenizer.fromBytes(bytes, 'x.model', { sha256: '0'.repeat(64) })).rejects.toThrow(
      /x\.model: checksum mismatch/,
    );
    await expect(SentencePieceTokenizer.fromBytes(new TextEncoder().encode('not a model'), 'y.model')).rejects.toThrow(
      /y\.model is not a SentencePiece model/,
    );
    await expect(
      SentencePieceTokenizer.fromBytes(new Uint8Array(MAX_SENTENCEPIECE_MODEL_BYTES + 1), 'z.model'),
    ).rejects.toThrow(/over the 67108864-byte limit/);
  });
});

describe('trainSentencePiece', () => {
  it('says how to install spm_train when it is missing', async () => {
    await expect(
      trainSentencePiece({
        input: path.join(corpora, 'joeynmt-toy-de-en/train.de'),
        modelPrefix: path.join(tmp, 'x'),
        spmTrain: path.join(tmp, 'no/spm_train'),
      }),
    ).rejects.toThrow(/apt-get install sentencepiece/);
  });

  it.skipIf(!hasSpmTrain())(
    'trains a model with spm_train that sentencepiece-js loads and that round-trips text',
    async () => {
      const prefix = path.join(tmp, 'de100');
      const out = await trainSentencePiece({
        input: path.join(corpora, 'joeynmt-toy-de-en/train.de'),
        modelPrefix: prefix,
        vocabSize: 100,
      });
      expect(existsSync(out.model)).toBe(true);
      expect(readFileSync(out.vocab, 'utf8').trim().split('\n')).toHaveLength(100);
      const sp = await SentencePieceTokenizer.load(out.model);
      const text = 'Wir werden Ihnen einige Geschichten über das Meer erzählen.';
      expect(sp.detokenize(sp.tokenize(text))).toBe(text);
    },
  );

  it.skipIf(!hasSpmTrain())('reports spm_train failures with its message', async () => {
    await expect(
      trainSentencePiece({
        input: path.join(here, '../fixtures/short.de'),
        modelPrefix: path.join(tmp, 'tiny'),
        vocabSize: 5000,
      }),
    ).rejects.toThrow(
      /^spm_train failed: [^\n]*Vocabulary size too high \(5000\)\. Please set it to a value <= \d+\.$/,
    );
  });

  it("spmTrainReason: spm_train's last line, without the abort notice; else how it ended", () => {
    const stderr = [
      'trainer_interface.cc(685) LOG(INFO) Saving model: x.model',
      'spm_train_main.cc(275) [_status.ok()] Internal: ./src/trainer_interface.cc(428) [!sentences_.empty()] ',
      'Program terminated with an unrecoverable error.',
      '',
    ].join('\n');
    expect(spmTrainReason(stderr, { code: 1 })).toBe(
      'spm_train_main.cc(275) [_status.ok()] Internal: ./src/trainer_interface.cc(428) [!sentences_.empty()]',
    );
    expect(spmTrainReason('\n', { code: 134 })).toBe('exit status 134');
    expect(spmTrainReason('', { code: null, signal: 'SIGKILL' })).toBe('killed by SIGKILL');
  });
});
