// The SentencePiece tokenizer: subword pieces from a trained .model file through sentencepiece-js (WebAssembly,
// loaded on first use), and the training of such a model with Debian's spm_train. A model loads from a file (Node)
// or from its bytes (a web page, which fetched them and passes the sentencepiece-js module it bundled).
import { access, constants, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { readSentencePiecePieces, produciblePieces } from './sentencePieceModel.js';
import { TokenizerError, SPACE_SYMBOL, type Tokenizer, type SentencePieceTokenizerConfig } from './tokenizer.js';

/** A SentencePiece model larger than this is refused before it is read (8,000 pieces take ~0.4 MB). */
export const MAX_SENTENCEPIECE_MODEL_BYTES = 64 << 20;

/** The part of sentencepiece-js we use (the package ships no type declarations). */
interface SentencePieceProcessorJs {
  load(file: string): Promise<void>;
  encodePieces(text: string): string[];
  encodeIds(text: string): number[];
  decodeIds(ids: number[]): string;
}

/** The sentencepiece-js module (what `require('sentencepiece-js')` gives). */
export interface SentencePieceJs {
  SentencePieceProcessor: new () => SentencePieceProcessorJs;
}

let sentencePieceModule: SentencePieceJs | undefined;

function sentencePieceJs(): SentencePieceJs {
  // A CommonJS package without types: required lazily, so word/char users never load its 750 kB of WebAssembly.
  sentencePieceModule ??= createRequire(import.meta.url)('sentencepiece-js') as SentencePieceJs;
  return sentencePieceModule;
}

/** How to load a model from its bytes: the checksum it must have, and the sentencepiece-js module to use. */
export interface SentencePieceBytesOptions {
  sha256?: string;
  /** Default: required from node_modules (Node); a browser bundle passes the module it imported. */
  module?: SentencePieceJs;
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  // Web Crypto: the same call in Node (20+) and in browsers.
  const digest = await globalThis.crypto.subtle.digest('SHA-256', bytes.slice());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export class SentencePieceTokenizer implements Tokenizer {
  private constructor(
    private readonly processor: SentencePieceProcessorJs,
    /** The path it was loaded from (or the name its bytes were given). */
    readonly model: string,
    /** The .model file's bytes, copied into every model directory that saves this tokenizer. */
    readonly bytes: Uint8Array,
    readonly sha256: string,
    /** Every piece the model can produce, in the model's id order. */
    readonly pieces: readonly string[],
  ) {}

  /**
   * Loads a .model file (asynchronous: the WebAssembly module is instantiated per processor). With `sha256`, the
   * file must have that checksum. Only regular files up to MAX_SENTENCEPIECE_MODEL_BYTES are read.
   */
  static async load(model: string, sha256?: string): Promise<SentencePieceTokenizer> {
    const info = await stat(model).catch(() => null);
    if (info === null) throw new TokenizerError(`SentencePiece model ${model} cannot be read`);
    if (!info.isFile()) throw new TokenizerError(`SentencePiece model ${model} is not a regular file`);
    if (info.size > MAX_SENTENCEPIECE_MODEL_BYTES)
      throw new TokenizerError(
        `SentencePiece model ${model} is ${info.size} bytes, over the ${MAX_SENTENCEPIECE_MODEL_BYTES}-byte limit`,
      );
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(await readFile(model));
    } catch {
      throw new TokenizerError(`SentencePiece model ${model} cannot be read`);
    }
    return SentencePieceTokenizer.create(bytes, model, model, { ...(sha256 === undefined ? {} : { sha256 }) });
  }

  /**
   * Loads a model from its bytes, e.g. fetched by a web page; `name` names it in errors and is what `model` reports.
   * With `options.sha256`, the bytes must have that checksum.
   */
  static async fromBytes(
    bytes: Uint8Array,
    name: string,
    options: SentencePieceBytesOptions = {},
  ): Promise<SentencePieceTokenizer> {
    if (bytes.length > MAX_SENTENCEPIECE_MODEL_BYTES)
      throw new TokenizerError(
        `SentencePiece model ${name} is ${bytes.length} bytes, over the ${MAX_SENTENCEPIECE_MODEL_BYTES}-byte limit`,
      );
    return SentencePieceTokenizer.create(bytes, name, null, options);
  }

  /** Checks the bytes, reads the pieces and starts a processor on the file `path` (Node) or on the bytes. */
  private static async create(
    bytes: Uint8Array,
    name: string,
    file: string | null,
    options: SentencePieceBytesOptions,
  ): Promise<SentencePieceTokenizer> {
    const digest = await sha256Hex(bytes);
    if (options.sha256 !== undefined && digest !== options.sha256)
      throw new TokenizerError(`${name}: checksum mismatch, the SentencePiece model file is corrupt`);
    let pieces: string[];
    try {
      pieces = produciblePieces(readSentencePiecePieces(bytes, name));
    } catch {
      throw new TokenizerError(`${name} is not a SentencePiece model`);
    }
    const { SentencePieceProcessor } = options.module ?? sentencePieceJs();
    const processor = new SentencePieceProcessor();
    // The Emscripten glue adds process-wide 'uncaughtException'/'unhandledRejection' listeners that rethrow;
    // a library should not change how the host process handles errors, so we take back what it added.
    const host = typeof process === 'object' && typeof process.listeners === 'function' ? process : null;
    const before = host && { u: host.listeners('uncaughtException'), r: host.listeners('unhandledRejection') };
    try {
      await loadProcessor(processor, file, bytes);
    } finally {
      if (host !== null && before !== null) {
        for (const l of host.listeners('uncaughtException'))
          if (!before.u.includes(l)) host.removeListener('uncaughtException', l);
        for (const l of host.listeners('unhandledRejection'))
          if (!before.r.includes(l)) host.removeListener('unhandledRejection', l);
      }
    }
    // sentencepiece-js ignores the load status: a file that is not a model "loads" and then encodes everything to [].
    if (processor.encodePieces('a').length === 0) throw new TokenizerError(`${name} is not a SentencePiece model`);
    return new SentencePieceTokenizer(processor, name, bytes, digest, pieces);
  }

  /** The file name this model gets inside a model directory: named by its content, so it never changes. */
  get fileName(): string {
    return `sentencepiece-${this.sha256.slice(0, 16)}.model`;
  }

  tokenize(text: string): string[] {
    return this.processor.encodePieces(text);
  }

  /** Piece ids of the model's own vocabulary (not a Vocabulary's ids). */
  encodeIds(text: string): number[] {
    return this.processor.encodeIds(text);
  }

  detokenize(tokens: readonly string[]): string {
    // SentencePiece marks word starts with "▁"; byte-fallback pieces "<0xE2>" spell raw UTF-8 bytes.
    const bytes: number[] = [];
    let out = '';
    const flush = () => {
      if (bytes.length > 0) out += new TextDecoder().decode(Uint8Array.from(bytes));
      bytes.length = 0;
    };
    for (const p of tokens) {
      const m = /^<0x([0-9A-Fa-f]{2})>$/.exec(p);
      if (m) {
        bytes.push(parseInt(m[1]!, 16));
        continue;
      }
      flush();
      out += p.replaceAll(SPACE_SYMBOL, ' ');
    }
    flush();
    return out.replace(/^ /, '');
  }

  /** The saved form: the model as a file inside the model directory (see `fileName`), with its checksum. */
  toJSON(): SentencePieceTokenizerConfig {
    return { kind: 'sentencepiece', model: this.fileName, sha256: this.sha256 };
  }
}

/**
 * Starts a processor on the model. sentencepiece-js reads it with fs.readFileSync(argument): a path in Node (bytes
 * without a file go through a temporary one); in a browser bundle its `fs` is web/build.mjs's stand-in, which hands
 * back the bytes it is given.
 */
async function loadProcessor(
  processor: SentencePieceProcessorJs,
  file: string | null,
  bytes: Uint8Array,
): Promise<void> {
  const inNode = typeof process === 'object' && typeof process.versions?.node === 'string';
  if (file !== null || !inNode) return processor.load((file ?? bytes) as string);
  const dir = await mkdtemp(path.join(tmpdir(), 'seq2seq-ts-sentencepiece-'));
  try {
    const temporary = path.join(dir, 'model');
    await writeFile(temporary, bytes);
    await processor.load(temporary);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Training a SentencePiece model with Debian's spm_train.

export interface TrainSentencePieceOptions {
  /** Plain-text training files, one sentence a line (spm_train does not read gzip). */
  input: string | readonly string[];
  /** Output path prefix: writes <prefix>.model and <prefix>.vocab. */
  modelPrefix: string;
  /** Number of pieces (default 8000). */
  vocabSize?: number;
  /** 'unigram' (default), 'bpe', 'char' or 'word'. */
  modelType?: 'unigram' | 'bpe' | 'char' | 'word';
  /** Share of characters the model must cover (default 1.0; 0.9995 suits languages with large alphabets). */
  characterCoverage?: number;
  /** The spm_train executable: a name looked up on PATH or a path (default 'spm_train'). */
  spmTrain?: string;
  /** Further spm_train flags, e.g. ['--input_sentence_size=1000000', '--shuffle_input_sentence=true']. */
  extraArgs?: readonly string[];
}

export const SPM_TRAIN_MISSING =
  'spm_train was not found. It comes with the SentencePiece command-line tools: on Debian or Ubuntu run ' +
  '`apt-get install sentencepiece` (as root, or with sudo); elsewhere build https://github.com/google/sentencepiece ' +
  'and put spm_train on PATH, or pass spmTrain: "/path/to/spm_train".';

/** Trains a SentencePiece model by running spm_train; resolves to the written .model and .vocab paths. */
export async function trainSentencePiece(
  options: TrainSentencePieceOptions,
): Promise<{ model: string; vocab: string }> {
  const exe = await findExecutable(options.spmTrain ?? 'spm_train');
  if (exe === null) throw new TokenizerError(SPM_TRAIN_MISSING);
  const inputs = typeof options.input === 'string' ? [options.input] : [...options.input];
  if (inputs.length === 0) throw new TokenizerError('trainSentencePiece needs at least one input file');
  const args = [
    `--input=${inputs.join(',')}`,
    `--model_prefix=${options.modelPrefix}`,
    `--vocab_size=${options.vocabSize ?? 8000}`,
    `--model_type=${options.modelType ?? 'unigram'}`,
    `--character_coverage=${options.characterCoverage ?? 1.0}`,
    ...(options.extraArgs ?? []),
  ];
  await new Promise<void>((resolve, reject) => {
    execFile(exe, args, { maxBuffer: 64 << 20 }, (error, _stdout, stderr) => {
      if (!error) return resolve();
      reject(new TokenizerError(`spm_train failed: ${spmTrainReason(String(stderr), error)}`));
    });
  });
  return { model: `${options.modelPrefix}.model`, vocab: `${options.modelPrefix}.vocab` };
}

/**
 * What went wrong in a failed spm_train, in one line: the last line it logged (e.g. `… Internal: …
 * [!sentences_.empty()]`, vocab_size too large for the data), without the abort notice that follows it; else the
 * exit status.
 */
export function spmTrainReason(
  stderr: string,
  error: { code?: number | string | null; signal?: string | null },
): string {
  const said = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Program terminated/.test(l));
  if (said.length > 0) return said[said.length - 1]!;
  return error.signal ? `killed by ${error.signal}` : `exit status ${error.code ?? 'unknown'}`;
}

/** Resolves a command name on PATH (or checks a path); null when it is not there or not executable. */
async function findExecutable(name: string): Promise<string | null> {
  const candidates = name.includes(path.sep)
    ? [name]
    : (process.env.PATH ?? '')
        .split(path.delimiter)
        .filter((d) => d.length > 0)
        .map((d) => path.join(d, name));
  for (const c of candidates) {
    try {
      await access(c, constants.X_OK);
      return c;
    } catch {
      // not here; try the next directory
    }
  }
  return null;
}
